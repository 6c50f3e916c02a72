// The request path's decision, in two pure steps around the one piece of I/O (verifying the
// token): `prepare` reads the request and either answers it at once (bad Host, not ready, bad
// path, no or malformed token, a CORS preflight to forward) or says which token to verify;
// `conclude` turns the verifier's verdict into the answer or the forwarding. The composition of
// the modules that each make one decision.
import { tokenKey } from "../verification/decisionCache";
import { extractToken, headerValues, NO_TOKEN_ERROR, queryValues } from "../request/extractToken";
import { normalizePath } from "../request/normalizePath";
import { rateLimitHeaders, type LimitState } from "../limits/rateLimitHeaders";
import { corsEnabled, preflightAnswer, type CorsPolicy } from "./cors";
import { hostProblem, isCorsPreflight, overrideMethods, transferCodings, type MethodOverrideMode } from "../request/requestShape";
import { requirementsFor, type CompiledRule } from "./routeRules";
import { selectApi, type ApiRoute } from "./apiRouting";
import { missingScopes, type ScopeMatch } from "../verification/scopes";
import type { TokenInfo, Verdict } from "../verification/tokenInfo";
import type { Outcome } from "../shared/metrics";

/** What the gateway forwards: any method but TRACE/CONNECT (RFC 9110 §9.3.8, §9.3.6: no use behind a gateway, and TRACE reflects credentials). */
export const FORWARDED_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;

/** What the decision reads of one API behind the gateway (a GatewayConfig's API is one). */
export interface ApiPolicy extends ApiRoute {
    routeRules: readonly CompiledRule[];
    requiredScopes: string[];
    scopeMatch: ScopeMatch;
    cors: CorsPolicy;
    /** The client ids that may call this API; absent: any client whose token has the scopes. */
    consumers?: ReadonlySet<string>;
}

/** What the decision reads of the configuration (a GatewayConfig is one). */
export interface AuthorizeConfig<A extends ApiPolicy = ApiPolicy> {
    apis: readonly A[];
    methodOverride: MethodOverrideMode;
}

export interface RequestFacts {
    method: string;
    /** The request target as received: origin-form (`/p?q`), or absolute-form (`http://host/p?q`). */
    target: string;
    rawHeaders: readonly string[];
}

/** An answer the gateway gives itself. `outcome` labels the metric; `reason` goes to the log. */
export interface Answer {
    kind: "answer";
    status: number;
    body: Record<string, string>;
    headers: Record<string, string>;
    outcome: Outcome;
    reason?: string;
    /** The API the request was for, once known (the metrics' and the log's `api`). */
    api?: string;
}

export interface Forward<A extends ApiPolicy = ApiPolicy> {
    kind: "forward";
    /** The normalised path and the query, as the upstream receives them (before its base path). */
    path: string;
    query: string;
    /** The authority the client addressed: Host, or the absolute-form target's. */
    host?: string;
    identity?: TokenInfo;
    /** The token came in the query: the answer must not be stored by shared caches (RFC 6750 §2.3). */
    tokenInQuery: boolean;
    outcome: "allowed";
    api: A;
}

export interface NeedsVerdict<A extends ApiPolicy = ApiPolicy> {
    kind: "verify";
    token: string;
    /** The token's cache key, whose prefix the log carries. */
    key: string;
    path: string;
    query: string;
    host?: string;
    /** Every method the upstream may run for this request. */
    methods: string[];
    tokenInQuery: boolean;
    api: A;
}

const answer = (status: number, body: Record<string, string>, outcome: Outcome, headers: Record<string, string> = {}, reason?: string): Answer => ({
    kind: "answer",
    status,
    body,
    headers,
    outcome,
    reason,
});
const invalidRequest = (description: string, outcome: Outcome = "bad_request") =>
    answer(400, { error: "invalid_request", error_description: description }, outcome, {}, description);

/** Origin-form of the target, and the authority an absolute-form target names (RFC 9112 §3.2.2). */
export function originForm(target: string): { target: string; authority?: string } | undefined {
    if (target.startsWith("/")) return { target };
    if (!/^https?:\/\//i.test(target) || !URL.canParse(target)) return undefined;
    // The raw path and query, not URL's re-encoded ones: normalizePath decides on the bytes sent.
    const afterScheme = target.indexOf("//") + 2;
    const pathStart = target.slice(afterScheme).search(/[/?]/);
    const rest = pathStart === -1 ? "/" : target.slice(afterScheme + pathStart);
    return { target: rest.startsWith("/") ? rest : `/${rest}`, authority: new URL(target).host };
}

export function prepare<A extends ApiPolicy>(req: RequestFacts, cfg: AuthorizeConfig<A>, ready: boolean): Answer | NeedsVerdict<A> {
    // RFC 9112 §3.2: one Host, and a valid one: the upstream and its logs read it.
    const badHost = hostProblem(req.rawHeaders);
    if (badHost) return invalidRequest(badHost);
    // RFC 9112 §6.1: a server that receives a transfer coding it does not understand SHOULD answer
    // 501. Node's parser decodes only `chunked` and passes anything before it (gzip, chunked) as
    // if it were the body; the API would receive gzip bytes as a plain body. The connection ends
    // with the answer: the body's framing is not one the gateway reads.
    const codings = transferCodings(req.rawHeaders);
    if (codings.length > 0 && (codings.length !== 1 || codings[0] !== "chunked"))
        return answer(
            501,
            { error: "not_implemented", error_description: "only the chunked transfer coding is accepted" },
            "bad_request",
            { connection: "close" },
            `transfer coding ${codings.join(", ")}`,
        );
    if (!(FORWARDED_METHODS as readonly string[]).includes(req.method)) {
        return answer(405, { error: "method_not_allowed" }, "bad_request", { allow: FORWARDED_METHODS.join(", ") }, `method ${req.method}`);
    }
    if (!ready) return answer(503, { error: "temporarily_unavailable" }, "not_ready", { "retry-after": "1" });

    const origin = originForm(req.target);
    if (!origin) return invalidRequest("the request target must be an absolute path or an absolute http(s) URI");
    const target = normalizePath(origin.target);
    if (!target.ok) return invalidRequest(target.reason);
    const host = origin.authority ?? headerValues(req.rawHeaders, "host")[0];

    // Which API, before any token or rule: a request for none is never forwarded anywhere.
    const selected = selectApi(cfg.apis, host, target.path);
    if (selected.kind === "none")
        return answer(404, { error: "not_found", error_description: "no API is served at this path" }, "no_api", {}, "no API for this host and path");
    if (selected.kind === "ambiguous") return invalidRequest(`the path reads as more than one API (${selected.names.join(", ")}) when decoded again`);
    const api = selected.api;
    const forApi = (a: Answer): Answer => ({ ...a, api: api.name });

    // A real preflight (no body, no credentials, no override) is the gateway's to answer, with the
    // CORS policy: never forwarded, so no handler of the API runs without a token.
    if (corsEnabled(api.cors) && isCorsPreflight(req.method, req.rawHeaders)) {
        const first = (name: string) => headerValues(req.rawHeaders, name)[0];
        const p = preflightAnswer(api.cors, {
            origin: first("origin"),
            method: first("access-control-request-method"),
            headers: headerValues(req.rawHeaders, "access-control-request-headers").join(","),
        });
        return forApi(answer(204, {}, "preflight", p.headers, p.reason));
    }

    const extraction = extractToken(headerValues(req.rawHeaders, "authorization"), queryValues(target.query, "access_token"));
    if (!extraction.ok) {
        // RFC 6750 §3: a challenge on every refusal; without any credentials, no error code (§3.1).
        const noToken = extraction.body.error === NO_TOKEN_ERROR;
        // (No log reason: the descriptions name the Authorization header, and the logs name none.)
        return forApi(
            answer(extraction.status, extraction.body, noToken ? "no_token" : "bad_request", {
                "www-authenticate": noToken ? "Bearer" : 'Bearer error="invalid_request"',
            }),
        );
    }
    // The methods the upstream may run: the request line's, and with METHOD_OVERRIDE=evaluate
    // every override it carries (with `strip` the overrides are removed before forwarding).
    const methods = cfg.methodOverride === "evaluate" ? [req.method, ...overrideMethods(req.rawHeaders, target.query)] : [req.method];
    return {
        kind: "verify",
        token: extraction.token,
        key: tokenKey(extraction.token),
        path: target.path,
        query: target.query,
        host,
        methods,
        tokenInQuery: extraction.source === "query",
        api,
    };
}

export function conclude<A extends ApiPolicy>(pending: NeedsVerdict<A>, verdict: Verdict): Answer | Forward<A> {
    const decided = concludeFor(pending, verdict);
    return decided.kind === "answer" ? { ...decided, api: pending.api.name } : decided;
}

function concludeFor<A extends ApiPolicy>(pending: NeedsVerdict<A>, verdict: Verdict): Answer | Forward<A> {
    switch (verdict.kind) {
        case "throttled":
            return answer(429, { error: "too_many_requests", error_description: "too many new tokens from this client address" }, "throttled", {
                "retry-after": String(verdict.retryAfterSeconds),
            });
        case "unavailable":
            return answer(
                503,
                { error: "temporarily_unavailable", error_description: "the access token cannot be verified right now" },
                "unavailable",
                { "retry-after": String(verdict.retryAfterSeconds) },
                verdict.reason,
            );
        case "invalid":
            return answer(401, { error: "invalid_token" }, "invalid_token", { "www-authenticate": 'Bearer error="invalid_token"' }, verdict.reason);
        case "valid": {
            const api = pending.api;
            if (api.consumers !== undefined && !api.consumers.has(verdict.info.clientId ?? verdict.info.subject ?? "")) return notAConsumer(api.name);
            const unmet = insufficientScope(api, pending.methods, pending.path, verdict.info.scopes);
            if (unmet) return unmet;
            return {
                kind: "forward",
                path: pending.path,
                query: pending.query,
                host: pending.host,
                identity: verdict.info,
                tokenInQuery: pending.tokenInQuery,
                outcome: "allowed",
                api,
            };
        }
    }
}

/**
 * 403 for a valid token of a client the API does not declare as a consumer. Not `insufficient_scope`
 * (RFC 6750 §3.1): no scope the client could ask for would let it in, so the answer names no scope
 * and no Bearer challenge invites a retry with another token.
 */
function notAConsumer(api: string): Answer {
    return answer(
        403,
        { error: "access_denied", error_description: `this client is not a consumer of API ${api}` },
        "not_a_consumer",
        {},
        `not a consumer of ${api}`,
    );
}

/** 403 when the token's scopes do not meet the rules for every method the upstream may run on `path`; undefined when they do. */
export function insufficientScope(
    cfg: Pick<ApiPolicy, "requiredScopes" | "scopeMatch" | "routeRules">,
    methods: string[],
    path: string,
    scopes: ReadonlySet<string>,
): Answer | undefined {
    const defaults = { scopes: cfg.requiredScopes, match: cfg.scopeMatch };
    const unmet = requirementsFor(cfg.routeRules, methods, path, defaults).find((need) => missingScopes(scopes, need.scopes, need.match).length > 0);
    if (!unmet) return undefined;
    const scope = unmet.scopes.join(" ");
    return answer(403, { error: "insufficient_scope", scope }, "insufficient_scope", {
        "www-authenticate": `Bearer error="insufficient_scope", scope="${scope}"`,
    });
}

/**
 * A method override found in a form body: with METHOD_OVERRIDE=strip none is accepted (a body
 * cannot be forwarded without it and still be the client's); with `evaluate`, 403 unless the
 * token has the scopes of the method named. Undefined: the override may go on.
 */
export function bodyOverrideRefusal(
    mode: MethodOverrideMode,
    api: ApiPolicy,
    method: string | undefined,
    path: string,
    scopes: ReadonlySet<string>,
): Answer | undefined {
    if (method === undefined) return invalidRequest("the multipart form body cannot be read");
    if (mode === "strip")
        return invalidRequest(`a _method field in a form body is not accepted (METHOD_OVERRIDE=strip): send the request as ${method || "its method"}`);
    return insufficientScope(api, [method], path, scopes);
}

/** A form body with a Content-Encoding cannot be read for method overrides as it passes: 415. */
export const ENCODED_FORM: Answer = answer(
    415,
    { error: "unsupported_media_type", error_description: "a form body with a Content-Encoding is not accepted" },
    "bad_request",
    {},
    "content-encoding on a form body",
);

/** While draining (SIGTERM): every new request is refused at once, to be retried on another task. */
export const DRAINING: Answer = answer(503, { error: "temporarily_unavailable" }, "not_ready", { "retry-after": "1" });

/**
 * No connection to the upstream for this request: the consumer already has its bound in flight
 * (429: its own doing), or the queue for connections is full or took too long (503: the
 * deployment's). Both with Retry-After.
 */
export function upstreamBusy(refusal: { status: 429 | 503; reason: string; retryAfterSeconds: number }): Answer {
    return refusal.status === 429
        ? answer(
              429,
              { error: "too_many_requests", error_description: "too many requests of this client in flight at once" },
              "concurrency_limited",
              { "retry-after": String(refusal.retryAfterSeconds) },
              refusal.reason,
          )
        : answer(
              503,
              { error: "temporarily_unavailable", error_description: "the API is busy; retry later" },
              "upstream_busy",
              { "retry-after": String(refusal.retryAfterSeconds) },
              refusal.reason,
          );
}

/** A consumer over its tier's limit: 429 with the RateLimit fields and Retry-After; the binding policy to the log. */
export function rateLimited(limit: LimitState & { tier: string }): Answer {
    return answer(
        429,
        { error: "too_many_requests", error_description: `rate limit of tier ${limit.tier} exceeded` },
        "rate_limited",
        rateLimitHeaders(limit),
        limit.policies[limit.binding].name,
    );
}
