// Token verification strategies behind one interface, selected by TOKEN_VALIDATION:
// introspection (RFC 7662, as MuleSoft's policy does), jwt (local RS256 against the issuer's JWKS), and
// hybrid (jwt on every request, plus introspection at most once per cache window).
import { createRemoteJWKSet, decodeJwt, jwtVerify, type JWTVerifyGetKey } from "jose";
import type { AuthServerClient, IntrospectionOutcome } from "./authServerClient";
import type { CircuitBreaker } from "../shared/circuitBreaker";
import type { ClientBudget } from "./clientBudget";
import type { ClientAuthMethod, IntrospectionClient } from "./clientAuth";
import { tokenKey, type DecisionCache, SingleFlight } from "./decisionCache";
import type { Limiter } from "./limiter";
import type { GatewayMetrics } from "../shared/metrics";
import { parseScopes } from "./scopes";
import { classifyIntrospection, positiveTtlSeconds, retryAfterSeconds, type Verdict } from "./tokenInfo";

/** Who refused the introspection client: the authorization server (its HTTP status), or KMS, which would not sign the assertion. */
export type ClientAuthRefusal = { status: number } | { kmsError: string };
export type OnClientAuthFailure = (refusal: ClientAuthRefusal, consecutive: number) => void;

/** The refusal an introspection outcome is, if it is one: 401/403 from the server, or KMS's refusal to sign. Pure. */
export function refusalOf(outcome: IntrospectionOutcome): ClientAuthRefusal | undefined {
    if (outcome.kind !== "error") return undefined;
    if (outcome.reason === "http_401" || outcome.reason === "http_403") return { status: Number(outcome.reason.slice(5)) };
    if (outcome.reason === "signing_refused") return { kmsError: outcome.detail ?? "unknown" };
    return undefined;
}

/** The log line of a refusal, the same in every process. */
export const CLIENT_AUTH_REFUSED =
    "the introspection endpoint refused the gateway's client credentials: check INTROSPECTION_CLIENT_ID, its secret or key (with a KMS key: the task role's kms:Sign on INTROSPECTION_CLIENT_KMS_KEY_ARN), and INTROSPECTION_AUTH_METHOD against the app in the authorization server";

/** Who is asking: the client's address, for per-client limits. */
export interface VerifyContext {
    client?: string;
}

/**
 * A verdict at once when the cache holds one (most requests), else a promise of it: a cached
 * verdict costs the request no promise and no turn of the event loop.
 */
export type VerdictOrPromise = Verdict | Promise<Verdict>;

export interface TokenVerifier {
    /** `key` is the token's cache key (tokenKey), when the caller has computed it already. */
    verify(token: string, key?: string, ctx?: VerifyContext): VerdictOrPromise;
}

interface Common {
    issuer: string;
    audience: string;
    clockSkewSeconds: number;
    maxTtlSeconds: number;
    cache: DecisionCache;
    metrics: GatewayMetrics;
    now?: () => number;
}

/** Looks a token up in the cache, counted in the metrics; a miss returns undefined. */
export function fromCache(cache: DecisionCache, metrics: GatewayMetrics, key: string): Verdict | undefined {
    const hit = cache.get(key);
    metrics.cacheLookup(hit ? (hit.hit === "positive" ? "positive_hit" : "negative_hit") : "miss");
    if (hit?.hit === "positive") return { kind: "valid", info: hit.info };
    if (hit?.hit === "negative") return { kind: "invalid", reason: "cached" };
    return undefined;
}

export class IntrospectionVerifier implements TokenVerifier {
    private readonly flight = new SingleFlight<Verdict>();
    private blockedUntil = 0;
    private readonly now: () => number;

    constructor(
        private readonly opts: Common & {
            endpoint: string;
            client: IntrospectionClient;
            /** How the gateway authenticates to the endpoint (chooseMethod). */
            method: ClientAuthMethod;
            /** Called when the server refuses the client's credentials (401/403): a configuration problem. */
            onClientAuthFailure?: OnClientAuthFailure;
            http: AuthServerClient;
            breaker: CircuitBreaker;
            limiter: Limiter;
            /** Introspections of new tokens per client address; undefined: no limit. */
            clientBudget?: ClientBudget;
        },
    ) {
        this.now = opts.now ?? Date.now;
    }

    verify(token: string, key = tokenKey(token), ctx: VerifyContext = {}): VerdictOrPromise {
        const cached = fromCache(this.opts.cache, this.opts.metrics, key);
        if (cached) return cached;
        // A request that would start a new introspection spends its client's budget; one that
        // joins an introspection already under way costs the server nothing.
        if (this.opts.clientBudget && ctx.client !== undefined && !this.flight.has(key)) {
            const wait = this.opts.clientBudget.take(ctx.client);
            if (wait > 0) {
                this.opts.metrics.introspectionErrors.inc({ reason: "client_throttled" });
                return { kind: "throttled", retryAfterSeconds: wait };
            }
        }
        const before = this.flight.coalesced;
        const p = this.flight.run(key, () => this.introspect(token, key));
        if (this.flight.coalesced > before) this.opts.metrics.coalesced.inc();
        return p;
    }

    private authFailures = 0;

    /** The server has refused the client's credentials this many times in a row: not ready. */
    get misconfigured(): boolean {
        return this.authFailures >= CLIENT_AUTH_FAILURES_BEFORE_NOT_READY;
    }

    /** How long this verifier will keep a valid verdict for `key` (for workers that cache it too). */
    cachedSecondsLeft(key: string): number {
        return this.opts.cache.remainingSeconds(key);
    }

    /**
     * While the server rate-limits us: a token it already refused stays refused (the back-off path
     * of LocalThenIntrospection accepts a locally valid token only when the server has said
     * nothing against it); any other is unavailable until the back-off ends. Here, in the one
     * process that introspects, so that every worker gets the same answer.
     */
    private backingOff(key: string, waitSeconds: number): Verdict {
        if (this.opts.cache.wasRefused(key)) return { kind: "invalid", reason: "refused_before" };
        return this.unavailable("rate_limited", waitSeconds);
    }

    private unavailable(reason: string, retryAfterSeconds: number): Verdict {
        this.opts.metrics.introspectionErrors.inc({ reason });
        return { kind: "unavailable", reason, retryAfterSeconds };
    }

    private async introspect(token: string, key: string): Promise<Verdict> {
        const { breaker, limiter, http, metrics, cache } = this.opts;
        const release = await limiter.acquire();
        if (!release) return this.unavailable("overloaded", 1);
        try {
            const now = this.now();
            if (now < this.blockedUntil) return this.backingOff(key, Math.ceil((this.blockedUntil - now) / 1000));
            if (!breaker.tryAcquire()) return this.unavailable("circuit_open", breaker.retryAfterSeconds());

            const started = performance.now();
            const outcome = await http.introspect(this.opts.endpoint, this.opts.client, this.opts.method, token);
            const seconds = (performance.now() - started) / 1000;
            metrics.introspectionDuration.observe({ outcome: outcome.kind }, seconds);

            if (outcome.kind === "rateLimited") {
                breaker.success(); // it answered: reachable, only busy
                const wait = retryAfterSeconds(outcome.headers, this.now());
                this.blockedUntil = this.now() + wait * 1000;
                return this.backingOff(key, wait);
            }
            const refusal = refusalOf(outcome);
            if (refusal) {
                // The server refuses our credentials or method, or KMS refuses to sign with the key:
                // not an outage (the breaker stays as it is; the server answered), a configuration
                // problem, reported as one.
                if ("status" in refusal) breaker.success();
                this.authFailures++;
                this.opts.onClientAuthFailure?.(refusal, this.authFailures);
                return this.unavailable("status" in refusal ? "client_auth_failed" : "signing_refused", 5);
            }
            if (outcome.kind === "error") {
                breaker.failure();
                return this.unavailable(outcome.reason, breaker.retryAfterSeconds());
            }
            breaker.success();
            this.authFailures = 0;
            const nowSeconds = Math.floor(this.now() / 1000);
            const verdict = classifyIntrospection(outcome.body, { ...this.opts, nowSeconds });
            if (verdict.kind === "valid") cache.setValid(key, verdict.info, positiveTtlSeconds(verdict.info.exp, nowSeconds, this.opts.maxTtlSeconds));
            else {
                cache.setInvalid(key);
                cache.rememberRefusal(key);
            }
            return verdict;
        } finally {
            release();
        }
    }
}

/** The base64url alphabet's values, for the pad-bit check. */
const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/**
 * Whether a compact JWS is in its one canonical spelling (RFC 7515 §2, Base64url Encoding: "with
 * all trailing '=' characters omitted"; RFC 4648 §3.5: the pad bits are zero): three segments of
 * the base64url alphabet, no padding, no length that leaves 6 stray bits, and zero bits after the
 * last byte. Pure.
 */
export function isCanonicalCompactJws(token: string): boolean {
    return jwsSpellingProblem(token) === undefined;
}

/** Why a token is not a canonical compact JWS (NOT_A_JWT: not three segments at all), from one split. Pure. */
function jwsSpellingProblem(token: string): string | undefined {
    const segments = token.split(".");
    if (segments.length !== 3) return NOT_A_JWT;
    const canonical = segments.every((segment) => {
        if (!/^[A-Za-z0-9_-]+$/.test(segment) || segment.length % 4 === 1) return false;
        const lastValue = B64URL.indexOf(segment[segment.length - 1]);
        const strayBits = segment.length % 4 === 2 ? 4 : segment.length % 4 === 3 ? 2 : 0;
        return (lastValue & ((1 << strayBits) - 1)) === 0;
    });
    return canonical ? undefined : "non-canonical base64url in the JWT";
}

/** Claims only an OpenID Connect ID token carries (OIDC Core §2, §3.1.3.6, §3.3.2.11). */
const ID_TOKEN_CLAIMS = ["nonce", "at_hash", "c_hash", "auth_time", "acr", "amr"] as const;

/**
 * The scopes of a JWT access token, or undefined when the JWT is not one (an ID token): Okta's
 * `scp` (an array, or a space-separated string from other servers), or a `scope` string: an RFC
 * 9068 token says so in its header (`typ: at+jwt`); without that header (oauth2-mock-server,
 * Keycloak, older Auth0 tokens) the token's audience, already checked to be this API (an ID
 * token's is a client id), and the absence of every ID-token-only claim tell it apart. Pure.
 */
export function accessTokenScopes(payload: Record<string, unknown>, typ: string | undefined): ReadonlySet<string> | undefined {
    if (Array.isArray(payload.scp) || typeof payload.scp === "string") return parseScopes(payload.scp);
    if (typeof payload.scope !== "string") return undefined;
    const rfc9068 = typeof typ === "string" && /^(application\/)?at\+jwt$/i.test(typ);
    if (rfc9068 || !ID_TOKEN_CLAIMS.some((claim) => claim in payload)) return parseScopes(payload.scope);
    return undefined;
}

/** Consecutive 401/403 answers from the introspection endpoint after which /readyz turns 503. */
export const CLIENT_AUTH_FAILURES_BEFORE_NOT_READY = 3;

/** The local check's reason for a token that is not a compact JWS at all (an opaque token). */
export const NOT_A_JWT = "not_a_jwt";
/** How often the pre-check may say that opaque tokens are being refused. */
const OPAQUE_HINT_INTERVAL_MS = 5 * 60_000;

/** The shortest time between two JWKS fetches for unknown kids. */
const JWKS_COOLDOWN_MS = 30_000;
/** The local check could not tell: an unknown kid during the cooldown. Never a reason to ask the server. */
export const UNKNOWN_KEY_COOLING_DOWN = "unknown_key_cooling_down";

/** jose error codes that mean "this token is bad"; anything else means "cannot check now". */
const INVALID_TOKEN_CODES = new Set([
    "ERR_JWT_EXPIRED",
    "ERR_JWT_CLAIM_VALIDATION_FAILED",
    "ERR_JWT_INVALID",
    "ERR_JWS_INVALID",
    "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
    "ERR_JWKS_NO_MATCHING_KEY",
    "ERR_JWKS_MULTIPLE_MATCHING_KEYS",
    "ERR_JOSE_ALG_NOT_ALLOWED",
    "ERR_JOSE_NOT_SUPPORTED",
]);

export class JwtVerifier implements TokenVerifier {
    private readonly keys: JWTVerifyGetKey;
    private readonly now: () => number;

    constructor(private readonly opts: Common & { jwksUri: string; keys?: JWTVerifyGetKey }) {
        this.now = opts.now ?? Date.now;
        // Keys come only from the issuer's JWKS (never from jku/jwk/x5u in a token), cached, and
        // refetched on an unknown kid at most once per cooldown.
        this.keys =
            opts.keys ?? createRemoteJWKSet(new URL(opts.jwksUri), { cooldownDuration: JWKS_COOLDOWN_MS, cacheMaxAge: 10 * 60_000, timeoutDuration: 5_000 });
    }

    verify(token: string, key = tokenKey(token)): VerdictOrPromise {
        return fromCache(this.opts.cache, this.opts.metrics, key) ?? this.check(token, key);
    }

    /** The token's first check in this window: its spelling, then jose's verification against the JWKS. */
    private async check(token: string, key: string): Promise<Verdict> {
        const { cache, metrics } = this.opts;
        // One token, one spelling: jose decodes padded and non-zero-pad-bit base64url too, so one
        // JWT would have many accepted spellings, each its own cache entry and introspection.
        const spelling = jwsSpellingProblem(token);
        if (spelling) {
            cache.setInvalid(key);
            return { kind: "invalid", reason: spelling };
        }
        // Whether the key set may skip a refetch for an unknown kid right now (jose's cooldown):
        // read before the check, since a refetch this token causes starts a new cooldown.
        const coolingDown = (this.keys as { coolingDown?: boolean }).coolingDown === true;
        try {
            const { payload, protectedHeader } = await jwtVerify(token, this.keys, {
                issuer: this.opts.issuer,
                audience: this.opts.audience,
                algorithms: ["RS256"],
                clockTolerance: this.opts.clockSkewSeconds,
                requiredClaims: ["exp", "iat"],
                currentDate: new Date(this.now()),
            });
            const scopes = accessTokenScopes(payload, protectedHeader.typ);
            if (scopes === undefined) {
                cache.setInvalid(key);
                return { kind: "invalid", reason: "not an access token (no scp, and not an RFC 9068 at+jwt)" };
            }
            // A sender-constrained token is valid only with its proof: DPoP (RFC 9449 §7.1,
            // cnf.jkt) or a client certificate (RFC 8705 §3, cnf.x5t#S256). Presented as a plain
            // bearer token it is refused, as introspection mode refuses a non-Bearer token_type.
            if (payload.cnf !== undefined) {
                cache.setInvalid(key);
                return { kind: "invalid", reason: "sender-constrained token (cnf) presented as a bearer token" };
            }
            const cid = typeof payload.cid === "string" ? payload.cid : typeof payload.client_id === "string" ? payload.client_id : undefined;
            const info = { clientId: cid, subject: payload.sub, scopes, exp: payload.exp };
            cache.setValid(key, info, positiveTtlSeconds(payload.exp, Math.floor(this.now() / 1000), this.opts.maxTtlSeconds));
            return { kind: "valid", info };
        } catch (e) {
            const code = (e as { code?: string }).code;
            // An unknown kid while the key set was cooling down: the server may have published the
            // key since the last fetch (another token's unknown kid started the cooldown, perhaps an
            // attacker's). Not refused, not cached: retry once the key set may be fetched again.
            if (code === "ERR_JWKS_NO_MATCHING_KEY" && coolingDown && this.couldBeOurs(token)) {
                metrics.jwksErrors.inc({ reason: UNKNOWN_KEY_COOLING_DOWN });
                return { kind: "unavailable", reason: UNKNOWN_KEY_COOLING_DOWN, retryAfterSeconds: Math.ceil(JWKS_COOLDOWN_MS / 1000) };
            }
            if (code && INVALID_TOKEN_CODES.has(code)) {
                cache.setInvalid(key);
                return { kind: "invalid", reason: code };
            }
            metrics.jwksErrors.inc({ reason: "jwks_unavailable" });
            return { kind: "unavailable", reason: "jwks_unavailable", retryAfterSeconds: 5 };
        }
    }

    /** Unverified: does the token at least claim this issuer and audience, unexpired? Anything else is refused outright. */
    private couldBeOurs(token: string): boolean {
        try {
            const claims = decodeJwt(token);
            const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
            return claims.iss === this.opts.issuer && audiences.includes(this.opts.audience) && (claims.exp ?? 0) * 1000 > this.now();
        } catch {
            return false;
        }
    }
}

/**
 * Local JWT checks first, then introspection, each cached per window:
 * - `hybrid` (identity from the JWT): local speed, revocation seen within a window;
 * - `introspection` with INTROSPECTION_PRECHECK=jwt (identity from the introspection answer):
 *   what cannot be this issuer's JWT (not a JWT, another issuer, an unknown key, a bad signature,
 *   expired) is refused without asking the server, so junk tokens cannot spend its rate limit.
 * When the server rate-limits us (429 back-off), a token the local check verified is accepted on
 * that check alone until the back-off ends, instead of locking every new token out, unless the
 * server refused it before (IntrospectionVerifier answers `invalid` for those during a back-off);
 * any other failure to ask still fails closed. When the local check cannot run (JWKS unreachable), the
 * server is asked.
 */
export class LocalThenIntrospection implements TokenVerifier {
    private lastOpaqueHint = -Infinity;

    constructor(
        private readonly local: TokenVerifier,
        private readonly introspection: TokenVerifier,
        private readonly identityFrom: "local" | "introspection",
        private readonly metrics?: GatewayMetrics,
        /** Told (at most every 5 minutes) when the pre-check refuses a token that is no JWT at all. */
        private readonly onOpaqueToken?: (message: string) => void,
    ) {}

    verify(token: string, key = tokenKey(token), ctx: VerifyContext = {}): VerdictOrPromise {
        const local = this.local.verify(token, key, ctx);
        return local instanceof Promise ? local.then((l) => this.afterLocal(l, token, key, ctx)) : this.afterLocal(local, token, key, ctx);
    }

    private afterLocal(local: Verdict, token: string, key: string, ctx: VerifyContext): VerdictOrPromise {
        if (local.kind === "invalid" && local.reason === NOT_A_JWT && this.identityFrom === "introspection") this.opaqueHint();
        if (local.kind === "invalid" || local.kind === "throttled") return local;
        // Unknown kid during the JWKS cooldown: 503 and retry, never an introspection, or any
        // junk token with a made-up kid would reach the server for as long as the cooldown lasts.
        if (local.kind === "unavailable" && local.reason === UNKNOWN_KEY_COOLING_DOWN) return local;
        const remote = this.introspection.verify(token, key, ctx);
        return remote instanceof Promise ? remote.then((r) => this.combined(local, r)) : this.combined(local, remote);
    }

    private combined(local: Verdict, remote: Verdict): Verdict {
        if (remote.kind === "valid") return this.identityFrom === "local" && local.kind === "valid" ? local : remote;
        if (remote.kind === "unavailable" && remote.reason === "rate_limited" && local.kind === "valid") {
            this.metrics?.introspectionErrors.inc({ reason: "accepted_on_local_check" });
            return local;
        }
        return remote;
    }

    /** Okta's access tokens are JWTs; other servers' may be opaque, which the pre-check refuses: say what to change. */
    private opaqueHint(): void {
        const now = Date.now();
        if (!this.onOpaqueToken || now - this.lastOpaqueHint < OPAQUE_HINT_INTERVAL_MS) return;
        this.lastOpaqueHint = now;
        this.onOpaqueToken(
            "the JWT pre-check refused a token that is not a JWT (401): if the authorization server issues opaque access tokens, set INTROSPECTION_PRECHECK=off so that they are introspected (Okta's are always JWTs)",
        );
    }
}

/** `hybrid`: the JWT's identity, introspection once per window for revocation. */
export class HybridVerifier extends LocalThenIntrospection {
    constructor(jwt: TokenVerifier, introspection: TokenVerifier, metrics?: GatewayMetrics) {
        super(jwt, introspection, "local", metrics);
    }
}
