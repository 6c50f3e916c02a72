// What a verified token tells the gateway, and the pure rules that turn an authorization server's
// answer (an RFC 7662 introspection response, or JWT claims) into a verdict and a cache lifetime.
import { parseScopes } from "./scopes";

export interface TokenInfo {
    clientId?: string;
    subject?: string;
    scopes: ReadonlySet<string>;
    /** Expiry, seconds since the epoch, when the server said. */
    exp?: number;
}

export type Verdict =
    | { kind: "valid"; info: TokenInfo }
    | { kind: "invalid"; reason: string }
    /** The token could not be verified now (server down, rate limited): fail closed with 503. */
    | { kind: "unavailable"; reason: string; retryAfterSeconds: number }
    /** This client address has caused too many introspections of new tokens: 429, nobody asked. */
    | { kind: "throttled"; retryAfterSeconds: number };

export interface Expectations {
    issuer: string;
    audience: string;
    nowSeconds: number;
    clockSkewSeconds: number;
}

const str = (v: unknown): string | undefined => (typeof v === "string" && v.length > 0 ? v : undefined);

function audienceContains(aud: unknown, audience: string): boolean {
    return aud === audience || (Array.isArray(aud) && aud.includes(audience));
}

/**
 * Classifies an introspection answer. Only a JSON boolean `active: true` counts; `iss` must be the
 * issuer, `aud` must contain the audience, `exp`/`nbf` must hold and `token_type`, where present,
 * must be Bearer.
 */
export function classifyIntrospection(body: unknown, expect: Expectations): { kind: "valid"; info: TokenInfo } | { kind: "invalid"; reason: string } {
    if (body === null || typeof body !== "object" || Array.isArray(body)) return { kind: "invalid", reason: "answer is not a JSON object" };
    const b = body as Record<string, unknown>;
    if (b.active !== true) return { kind: "invalid", reason: "inactive" };
    if (b.iss !== expect.issuer) return { kind: "invalid", reason: "issuer mismatch" };
    if (!audienceContains(b.aud, expect.audience)) return { kind: "invalid", reason: "audience mismatch" };
    if (b.exp !== undefined && (typeof b.exp !== "number" || b.exp + expect.clockSkewSeconds <= expect.nowSeconds))
        return { kind: "invalid", reason: "expired" };
    if (b.nbf !== undefined && (typeof b.nbf !== "number" || b.nbf - expect.clockSkewSeconds > expect.nowSeconds))
        return { kind: "invalid", reason: "not yet valid" };
    if (b.token_type !== undefined && (typeof b.token_type !== "string" || b.token_type.toLowerCase() !== "bearer"))
        return { kind: "invalid", reason: "not an access token" };
    return {
        kind: "valid",
        info: {
            clientId: str(b.client_id) ?? str(b.cid),
            subject: str(b.sub),
            scopes: parseScopes(typeof b.scope === "string" ? b.scope : b.scp),
            exp: typeof b.exp === "number" ? b.exp : undefined,
        },
    };
}

/** How long a valid token's verdict may be cached: until `exp`, never past the revocation window. */
export function positiveTtlSeconds(exp: number | undefined, nowSeconds: number, maxTtlSeconds: number): number {
    if (exp === undefined) return maxTtlSeconds;
    return Math.max(0, Math.min(exp - nowSeconds, maxTtlSeconds));
}

/**
 * Seconds to wait after a 429, from `Retry-After` (seconds or HTTP date) or Okta's
 * `X-Rate-Limit-Reset` (epoch seconds); 1 second when neither is usable; never more than 5 minutes.
 */
export function retryAfterSeconds(headers: Record<string, string | string[] | undefined>, nowMs: number): number {
    const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
    const retryAfter = one(headers["retry-after"]);
    let seconds: number | undefined;
    if (retryAfter !== undefined) {
        if (/^\d+$/.test(retryAfter.trim())) seconds = Number(retryAfter.trim());
        else if (!Number.isNaN(Date.parse(retryAfter))) seconds = Math.ceil((Date.parse(retryAfter) - nowMs) / 1000);
    }
    const reset = one(headers["x-rate-limit-reset"]);
    if (seconds === undefined && reset !== undefined && /^\d+$/.test(reset.trim())) seconds = Number(reset.trim()) - Math.floor(nowMs / 1000);
    if (seconds === undefined || !Number.isFinite(seconds)) return 1;
    return Math.min(300, Math.max(1, seconds));
}
