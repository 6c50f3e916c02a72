// The CORS policy at the gateway (like MuleSoft's CORS policy and Kong's cors plugin): the gateway
// answers preflights itself, so no handler of the API ever runs for an OPTIONS without a token
// (frameworks run `app.all`/`app.use` handlers, Django function views and nginx/Apache locations
// for any method), and it sets the CORS fields of every answer to an allowed origin. Pure; the
// Fetch standard's CORS protocol (fetch.spec.whatwg.org, "CORS protocol") is what browsers check.

export interface CorsPolicy {
    /** Serialized origins (`https://app.example`), or `*`; empty: no CORS policy (a preflight needs a token like any OPTIONS). */
    origins: readonly string[];
    methods: readonly string[];
    /** Request headers a page may send, lower-cased. */
    headers: readonly string[];
    /** Answer headers a page may read, besides the safelisted ones. */
    exposedHeaders: readonly string[];
    credentials: boolean;
    maxAgeSeconds: number;
}

/** A serialized origin as the Fetch standard writes it: scheme, host, optional port; nothing else. */
export function isSerializedOrigin(value: string): boolean {
    if (!/^https?:\/\/[^/?#]+$/i.test(value) || !URL.canParse(value)) return false;
    return new URL(value).origin === value;
}

function originAllowed(policy: CorsPolicy, origin: string | undefined): origin is string {
    return origin !== undefined && (policy.origins.includes("*") || policy.origins.includes(origin));
}

/** `Access-Control-Allow-Origin` for an allowed origin: the origin itself (always with credentials), or `*`. */
function allowOriginFields(policy: CorsPolicy, origin: string): Record<string, string> {
    const wildcard = policy.origins.includes("*") && !policy.credentials;
    return {
        "access-control-allow-origin": wildcard ? "*" : origin,
        ...(wildcard ? {} : { vary: "Origin" }),
        ...(policy.credentials ? { "access-control-allow-credentials": "true" } : {}),
    };
}

/**
 * The gateway's answer to a CORS preflight: 204, with the Access-Control-* fields when the origin,
 * the method and every requested header are allowed; without them otherwise (the browser then
 * refuses the request it was asking about), and the reason for the log.
 */
export function preflightAnswer(
    policy: CorsPolicy,
    request: { origin?: string; method?: string; headers?: string },
): { headers: Record<string, string>; allowed: boolean; reason?: string } {
    const refused = (reason: string) => ({ headers: { vary: "Origin" }, allowed: false, reason });
    if (!originAllowed(policy, request.origin)) return refused(`origin ${request.origin ?? "(none)"} not allowed`);
    const method = (request.method ?? "").trim();
    if (!policy.methods.includes(method.toUpperCase())) return refused(`method ${method} not allowed`);
    const asked = (request.headers ?? "")
        .split(",")
        .map((h) => h.trim().toLowerCase())
        .filter(Boolean);
    const unknown = asked.filter((h) => !policy.headers.includes(h));
    if (unknown.length) return refused(`request header ${unknown.join(", ")} not allowed`);
    return {
        allowed: true,
        headers: {
            ...allowOriginFields(policy, request.origin),
            "access-control-allow-methods": policy.methods.join(", "),
            ...(policy.headers.length ? { "access-control-allow-headers": policy.headers.join(", ") } : {}),
            "access-control-max-age": String(policy.maxAgeSeconds),
        },
    };
}

/** The CORS fields of an answer to `origin` (none for a request without one, or from an origin not allowed). */
export function responseCorsFields(policy: CorsPolicy, origin: string | undefined): Record<string, string> {
    if (!originAllowed(policy, origin)) return {};
    return {
        ...allowOriginFields(policy, origin),
        ...(policy.exposedHeaders.length ? { "access-control-expose-headers": policy.exposedHeaders.join(", ") } : {}),
    };
}

/** Whether a gateway with this policy owns CORS (and so drops the API's own Access-Control-* fields). */
export function corsEnabled(policy: CorsPolicy): boolean {
    return policy.origins.length > 0;
}
