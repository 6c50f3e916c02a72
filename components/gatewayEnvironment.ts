// The gateway container's environment, built from the Okta components' outputs and the stack's
// gateway config. One function for both targets, so local and AWS run the same gateway. The
// introspection client secret is not here: each target injects it its own secret way.
import type { GatewaySpec } from "./stackConfig";

export interface OktaWiring {
    issuer: string;
    audience: string;
    introspectionClientId: string;
}

export const GATEWAY_PORT = 8080;
export const GATEWAY_ADMIN_PORT = 9090;

export function gatewayEnvironment(spec: GatewaySpec, okta: OktaWiring): Record<string, string> {
    return {
        UPSTREAM_URL: spec.upstreamUrl,
        OIDC_ISSUER: okta.issuer,
        AUDIENCE: okta.audience,
        TOKEN_VALIDATION: spec.tokenValidation,
        INTROSPECTION_CLIENT_ID: okta.introspectionClientId,
        REQUIRED_SCOPES: spec.requiredScopes.join(" "),
        SCOPE_MATCH: spec.scopeMatch,
        ...(spec.routeRules.length ? { ROUTE_RULES: JSON.stringify(spec.routeRules) } : {}),
        CACHE_MAX_TTL_SECONDS: String(spec.cacheMaxTtlSeconds),
        HIDE_CREDENTIALS: String(spec.hideCredentials),
        LOG_LEVEL: spec.logLevel,
        PORT: String(GATEWAY_PORT),
        ADMIN_PORT: String(GATEWAY_ADMIN_PORT),
    };
}
