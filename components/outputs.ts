// Shapes of the stack outputs that other teams paste elsewhere. Pure functions of known values.
import { stringify as toYaml } from "yaml";
import type { ScopeSpec } from "./stackConfig/index";
import { compileRules, requirementFor, type RouteRule, type ScopeMatch } from "../policy-gateway/src/decision/routeRules";

/** The OpenAPI 3 `components.securitySchemes` entry for this API's client credentials flow. */
export function openApiSecuritySchemes(tokenUrl: string, scopes: ScopeSpec[]) {
    return {
        okta: {
            type: "oauth2",
            description: "OAuth 2.0 client credentials from Okta; send the token as `Authorization: Bearer <token>`.",
            flows: {
                clientCredentials: {
                    tokenUrl,
                    scopes: Object.fromEntries(scopes.map((s) => [s.name, s.description])),
                },
            },
        },
    };
}

/**
 * The RAML 1.0 security scheme for this API (a `#%RAML 1.0 SecurityScheme` fragment): what the
 * walkthrough we replace pastes into the API spec at its end. Save it as `okta.raml` and declare
 * `securitySchemes: { okta: !include okta.raml }`, then `securedBy: [okta: {scopes: [...]}]`.
 * RAML 1.0 §Security Schemes: type `OAuth 2.0`, `settings.accessTokenUri` required,
 * `authorizationUri` only for the authorization code and implicit grants; `describedBy` lists
 * where the token goes and the answers the gateway gives without one (RFC 6750 §3.1).
 */
export function ramlSecurityScheme(tokenUrl: string, scopes: ScopeSpec[]): string {
    const scheme = {
        type: "OAuth 2.0",
        description:
            "OAuth 2.0 client credentials from Okta, enforced by the policy gateway. Ask the token URL for a token with your client id and secret (or private_key_jwt) and the scopes below.",
        describedBy: {
            headers: { Authorization: { description: "`Bearer <access token>` (RFC 6750 §2.1)", type: "string", required: false } },
            queryParameters: {
                access_token: { description: "The access token, where a header cannot be sent (RFC 6750 §2.3)", type: "string", required: false },
            },
            responses: {
                400: { description: "No access token was sent." },
                401: { description: 'The access token is invalid, expired or revoked (WWW-Authenticate: Bearer error="invalid_token").' },
                403: { description: 'The access token lacks a scope this route requires (WWW-Authenticate: Bearer error="insufficient_scope").' },
                429: {
                    description:
                        "The consumer is past its rate limit: wait Retry-After seconds; RateLimit-Policy and RateLimit say the limit and what is left.",
                    headers: {
                        "Retry-After": { type: "integer", description: "Seconds to wait before retrying" },
                        "RateLimit-Policy": {
                            type: "string",
                            required: false,
                            description: "The consumer's limits (IETF draft-ietf-httpapi-ratelimit-headers)",
                        },
                        RateLimit: { type: "string", required: false, description: "What is left of the nearest limit, and when it resets" },
                    },
                },
                503: {
                    description:
                        "The token cannot be verified right now (the authorization server is away), or the API's connections are all busy: retry after Retry-After seconds.",
                    headers: { "Retry-After": { type: "integer", description: "Seconds to wait before retrying" } },
                },
            },
        },
        settings: { accessTokenUri: tokenUrl, authorizationGrants: ["client_credentials"], scopes: scopes.map((s) => s.name) },
    };
    return `#%RAML 1.0 SecurityScheme\n${toYaml(scheme)}`;
}

/** Who may call an API: the declared scopes and rules, as the gateway decides. */
export interface RouteSecurity {
    requiredScopes: string[];
    scopeMatch: ScopeMatch;
    routeRules: RouteRule[];
}

const OPENAPI_METHODS = ["get", "put", "post", "delete", "options", "head", "patch"] as const;

/**
 * An OpenAPI security requirement: every scope (all), or any one of them (one alternative per
 * scope). OpenAPI 3.1, "Security Requirement Object": a `security` list holds alternatives, one of
 * which must be met; an entry's scopes for one scheme are all required.
 */
function securityOf(scopes: string[], match: ScopeMatch): Record<string, string[]>[] {
    if (match === "any" && scopes.length > 1) return scopes.map((s) => ({ okta: [s] }));
    return [{ okta: scopes }];
}

const errorBody = {
    content: {
        "application/json": {
            schema: { type: "object", required: ["error"], properties: { error: { type: "string" }, error_description: { type: "string" } } },
        },
    },
};
const retryAfter = { "Retry-After": { description: "Seconds to wait before retrying", schema: { type: "integer", minimum: 1 } } };

/** The gateway's own answers, as OpenAPI `components.responses`. */
const GATEWAY_RESPONSES = {
    BadRequest: { description: "No access token, or a request the gateway refuses to forward (ambiguous path, method override).", ...errorBody },
    Unauthorized: {
        description: "The access token is invalid, expired or revoked.",
        headers: { "WWW-Authenticate": { description: 'Bearer error="invalid_token" (RFC 6750 §3)', schema: { type: "string" } } },
        ...errorBody,
    },
    Forbidden: {
        description: "The access token lacks a scope this operation requires.",
        headers: { "WWW-Authenticate": { description: 'Bearer error="insufficient_scope", scope="…" (RFC 6750 §3.1)', schema: { type: "string" } } },
        ...errorBody,
    },
    TooManyRequests: {
        description: "The consumer is past its rate limit.",
        headers: {
            ...retryAfter,
            "RateLimit-Policy": { description: "The consumer's limits (draft-ietf-httpapi-ratelimit-headers)", schema: { type: "string" } },
            RateLimit: { description: "What is left of the nearest limit, and when it resets", schema: { type: "string" } },
        },
        ...errorBody,
    },
    ServiceUnavailable: { description: "The token cannot be verified right now, or the API's connections are all busy.", headers: retryAfter, ...errorBody },
};

const gatewayAnswers = Object.fromEntries(
    [
        ["400", "BadRequest"],
        ["401", "Unauthorized"],
        ["403", "Forbidden"],
        ["429", "TooManyRequests"],
        ["503", "ServiceUnavailable"],
    ].map(([status, name]) => [status, { $ref: `#/components/responses/${name}` }]),
);

/**
 * A partial OpenAPI 3.1 document to merge into the API's own: the security scheme, the gateway's
 * answers (400, 401, 403, 429, 503), the scopes every operation needs by default, and, per route
 * rule that an OpenAPI path can express (literal and `*` segments, and the bare prefix of a `**`
 * rule), each method's security as the gateway decides it (first matching rule, HEAD following
 * GET). What lies under a `**`, and prefix rules, have no OpenAPI path: `x-okta-gateway-route-rules`
 * lists every rule as the gateway reads it. Pure.
 */
export function openApiFragment(tokenUrl: string, scopes: ScopeSpec[], routes: RouteSecurity) {
    const rules = compileRules(routes.routeRules, "gateway.routeRules");
    const defaults = { scopes: routes.requiredScopes, match: routes.scopeMatch };
    const paths: Record<string, Record<string, unknown>> = {};
    for (const rule of routes.routeRules) {
        // A final `**` also matches the bare prefix (`/api/products/**` covers `/api/products`): that path is expressible.
        const segments = rule.path.split("/").slice(1);
        if (segments.at(-1) === "**") segments.pop();
        if (segments.some((seg) => seg === "**" || (seg.includes("*") && seg !== "*"))) continue;
        let n = 0;
        const template = "/" + segments.map((seg) => (seg === "*" ? `{param${++n}}` : seg)).join("/");
        paths[template] ??= {};
        for (const method of OPENAPI_METHODS) {
            if (paths[template][method]) continue;
            const need = requirementFor(rules, method.toUpperCase(), template, defaults);
            paths[template][method] = { security: securityOf(need.scopes, need.match), responses: gatewayAnswers };
        }
    }
    return {
        openapi: "3.1.0",
        security: securityOf(routes.requiredScopes, routes.scopeMatch),
        ...(Object.keys(paths).length ? { paths } : {}),
        components: { securitySchemes: openApiSecuritySchemes(tokenUrl, scopes), responses: GATEWAY_RESPONSES },
        "x-okta-gateway-route-rules": routes.routeRules.map((r) => ({
            path: r.path,
            methods: r.methods ?? "any",
            security: securityOf(r.scopes, r.match ?? "all"),
        })),
    };
}

/** One API of `gateway.apis`, as the stack declares it. */
export interface DeclaredApi extends RouteSecurity {
    name: string;
    pathPrefix: string;
    hosts?: string[];
    /** The consumers it lists by name; absent: any client whose token has its scopes. */
    consumers?: string[];
}

/** One API behind the gateway, as its teams read it (stack output `apis.<name>`). Nothing secret. */
export interface ApiOutput {
    pathPrefix: string;
    hosts?: string[];
    /** Where consumers call it: the AWS target's gateway URL and the prefix (absent on a local gateway). */
    url?: string;
    /** The scopes its requirements name (its own: no other API requires them). */
    scopes: string[];
    /** The consumers that may call it: those it lists, or, listing none, every consumer granted one of its scopes. */
    consumers: string[];
    openApiFragment: ReturnType<typeof openApiFragment>;
    /** Save as `okta.raml` beside this API's RAML 1.0 spec: the scheme with this API's scopes. */
    ramlSecurityScheme: string;
}

/** Each API's outputs, by name. Pure. */
export function apiOutputs(
    apis: readonly DeclaredApi[],
    f: { tokenUrl: string; scopes: ScopeSpec[]; gatewayUrl?: string; consumers: readonly { name: string; scopes: readonly string[] }[] },
): Record<string, ApiOutput> {
    return Object.fromEntries(
        apis.map((api) => {
            const own = new Set([...api.requiredScopes, ...api.routeRules.flatMap((r) => r.scopes)]);
            const scopes = f.scopes.filter((s) => own.has(s.name));
            const base = f.gatewayUrl?.replace(/\/+$/, "");
            return [
                api.name,
                {
                    pathPrefix: api.pathPrefix,
                    ...(api.hosts ? { hosts: api.hosts } : {}),
                    ...(base ? { url: api.pathPrefix === "/" ? base : base + api.pathPrefix } : {}),
                    scopes: scopes.map((s) => s.name),
                    consumers: api.consumers ?? f.consumers.filter((c) => c.scopes.some((s) => own.has(s))).map((c) => c.name),
                    openApiFragment: openApiFragment(f.tokenUrl, scopes, api),
                    ramlSecurityScheme: ramlSecurityScheme(f.tokenUrl, scopes),
                },
            ];
        }),
    );
}

/** What the API team needs, published without access to the stack (ApiPublication). Nothing secret. */
export interface ApiFacts {
    issuer: string;
    metadataUrl: string;
    tokenUrl: string;
    jwksUrl: string;
    audience: string;
    scopes: string[];
    /** Where consumers call the API: the AWS target's gateway only (a local one is on whoever ran pulumi up). */
    gatewayUrl?: string;
    /** Paste under `components.securitySchemes` in the API's OpenAPI 3 document. */
    openApiSecuritySchemes: ReturnType<typeof openApiSecuritySchemes>;
    /** Merge into the API's OpenAPI 3.1 document: security per operation and the gateway's answers (a gateway of one API). */
    openApiFragment?: ReturnType<typeof openApiFragment>;
    /** A gateway of several APIs (gateway.apis): each API's route, scopes, consumers and fragments. */
    apis?: Record<string, ApiOutput>;
    /** Save as `okta.raml` beside the API's RAML 1.0 spec. */
    ramlSecurityScheme: string;
}

/** The API's published facts, from the server's endpoints and the stack's scopes. Pure. */
export function apiFacts(f: {
    issuer: string;
    endpoints: { metadataUrl: string; tokenUrl: string; jwksUrl: string };
    audience: string;
    scopes: ScopeSpec[];
    gatewayUrl?: string;
    routes?: RouteSecurity;
    apis?: Record<string, ApiOutput>;
}): ApiFacts {
    return {
        issuer: f.issuer,
        metadataUrl: f.endpoints.metadataUrl,
        tokenUrl: f.endpoints.tokenUrl,
        jwksUrl: f.endpoints.jwksUrl,
        audience: f.audience,
        scopes: f.scopes.map((s) => s.name),
        ...(f.gatewayUrl ? { gatewayUrl: f.gatewayUrl } : {}),
        openApiSecuritySchemes: openApiSecuritySchemes(f.endpoints.tokenUrl, f.scopes),
        ...(f.routes ? { openApiFragment: openApiFragment(f.endpoints.tokenUrl, f.scopes, f.routes) } : {}),
        ...(f.apis ? { apis: f.apis } : {}),
        ramlSecurityScheme: ramlSecurityScheme(f.endpoints.tokenUrl, f.scopes),
    };
}
