// The gateway container's environment, built from the Okta components' outputs and the stack's
// gateway config. One function for both targets, so local and AWS run the same gateway. Keyed by
// the gateway's own config schema (GatewayEnvironment), so a misspelt variable does not compile.
// The introspection client secret is not here: each target injects it its own secret way.
import type { GatewayEnvironment } from "../policy-gateway/src/config";
import { PORTS } from "../policy-gateway/src/settings";
import type { GatewaySpec, RateLimitsSpec } from "./stackConfig";

export interface OktaWiring {
    issuer: string;
    audience: string;
    introspectionClientId: string;
    /** Client id → rate-limit tier, for the consumers that name one. */
    consumerTiers?: Record<string, string>;
}

export function gatewayEnvironment(spec: GatewaySpec, okta: OktaWiring): GatewayEnvironment {
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
        METHOD_OVERRIDE: spec.methodOverride,
        PORT: String(PORTS.traffic),
        ADMIN_PORT: String(PORTS.admin),
        ...(spec.rateLimits ? rateLimitEnvironment(spec.rateLimits, okta.consumerTiers ?? {}) : {}),
    };
}

/**
 * The tiers, and who is in them by client id: what the gateway enforces. The shared store's
 * address and the task count are the AWS target's to add (it declares the store).
 */
function rateLimitEnvironment(limits: RateLimitsSpec, consumerTiers: Record<string, string>): GatewayEnvironment {
    return {
        RATE_LIMITS: JSON.stringify({ tiers: limits.tiers, consumers: consumerTiers, ...(limits.defaultTier ? { defaultTier: limits.defaultTier } : {}) }),
        RATE_LIMIT_STORE: limits.store,
    };
}
