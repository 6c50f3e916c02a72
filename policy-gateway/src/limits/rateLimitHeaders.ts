// The rate-limit answer a consumer sees. Pure.
//
// The IETF RateLimit fields (draft-ietf-httpapi-ratelimit-headers-10/-11, Structured Fields of
// RFC 9651): `RateLimit-Policy` lists the quota policies that apply, each `"name";q=<quota>;w=<window
// seconds>`; `RateLimit` reports the one closest to exhaustion, `"name";r=<remaining>;t=<seconds
// until it resets>`. A GCRA limit with a burst is a token bucket, reported the way the draft's
// token-bucket reading has it: q = the bucket (burst), w = the seconds it takes to refill from
// empty. Retry-After (RFC 9110 §10.2.3) goes with every 429 and, per the draft, takes precedence.
import type { RatePolicy } from "./gcra";

export interface LimitState {
    policies: readonly RatePolicy[];
    /** The policy the `RateLimit` field reports (GcraResult.binding). */
    binding: number;
    remaining: number;
    resetMs: number;
    retryAfterMs: number;
    /** rateLimitPolicyField(policies), when the caller keeps it ready. */
    policyField?: string;
}

/** `w`: seconds the bucket of `burst` takes to refill at the policy's rate, at least 1 (an sf-integer). */
export function policyWindowSeconds(p: RatePolicy): number {
    return Math.max(1, Math.ceil((p.burst * p.windowSeconds) / p.limit));
}

export function rateLimitPolicyField(policies: readonly RatePolicy[]): string {
    return policies.map((p) => `"${p.name}";q=${Math.floor(p.burst)};w=${policyWindowSeconds(p)}`).join(", ");
}

/** The headers of an answer under a limit: allowed (forwarded) or refused (429). */
export function rateLimitHeaders(s: LimitState): Record<string, string> {
    const p = s.policies[s.binding];
    const refused = s.retryAfterMs > 0;
    // Whole seconds, rounded up: a client that waits `Retry-After` seconds is let through.
    const wait = Math.max(1, Math.ceil(s.retryAfterMs / 1000));
    const headers: Record<string, string> = {
        "ratelimit-policy": s.policyField ?? rateLimitPolicyField(s.policies),
        ratelimit: `"${p.name}";r=${Math.max(0, s.remaining)};t=${refused ? wait : Math.max(0, Math.ceil(s.resetMs / 1000))}`,
    };
    if (refused) headers["retry-after"] = String(wait);
    return headers;
}
