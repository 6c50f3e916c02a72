// The issuer's metadata, loaded (with back-off until it answers), and the token verifier built
// from it for TOKEN_VALIDATION: what /readyz waits for.
import type { Logger } from "pino";
import type { AuthServerClient, ServerMetadata } from "../verification/authServerClient";
import { CircuitBreaker } from "../shared/circuitBreaker";
import { ClientBudget } from "../verification/clientBudget";
import { chooseMethod, type ClientAuthMethod, type IntrospectionClient } from "../verification/clientAuth";
import type { GatewayConfig } from "../config/load";
import { DecisionCache } from "../verification/decisionCache";
import { Limiter } from "../verification/limiter";
import type { GatewayMetrics } from "../shared/metrics";
import { RemoteIntrospection, type PrimaryChannel } from "../verification/remoteIntrospection";
import { IntrospectionVerifier, JwtVerifier, LocalThenIntrospection, type OnClientAuthFailure, type TokenVerifier } from "../verification/verifiers";

/** The verifier and the parts of it the metrics read. */
export interface Verification {
    verifier: TokenVerifier;
    /** The introspection verifiers in this process, whose credentials may be refused (readiness). */
    introspections: IntrospectionVerifier[];
    /** How this process authenticates to the introspection endpoint, when it does. */
    introspectionAuth?: ClientAuthMethod;
    caches: DecisionCache[];
    breakers: CircuitBreaker[];
    limiters: Limiter[];
}

type Endpoint = "introspection_endpoint" | "jwks_uri";

/** What the metadata must hold for the configured validation. Pure. */
export function neededEndpoints(config: Pick<GatewayConfig, "tokenValidation" | "introspectionPrecheck">): Endpoint[] {
    if (config.tokenValidation === "jwt") return ["jwks_uri"];
    // introspection checks tokens locally first unless INTROSPECTION_PRECHECK=off: it needs the JWKS too.
    if (config.tokenValidation === "introspection" && config.introspectionPrecheck === "off") return ["introspection_endpoint"];
    return ["introspection_endpoint", "jwks_uri"];
}

/** Loads the metadata, retrying with back-off (250 ms doubling to 30 s) until it loads or `stopped()`. */
export async function loadMetadata(config: GatewayConfig, http: AuthServerClient, log: Logger, stopped: () => boolean): Promise<ServerMetadata | undefined> {
    let delayMs = 250;
    while (!stopped()) {
        try {
            return await http.metadata(config.issuer, neededEndpoints(config));
        } catch (e) {
            log.warn({ err: (e as Error).message, retryInMs: delayMs }, "issuer metadata not loaded yet");
            await new Promise((r) => setTimeout(r, delayMs).unref());
            delayMs = Math.min(delayMs * 2, 30_000);
        }
    }
    return undefined;
}

function newCacheIn(config: GatewayConfig, parts: Omit<Verification, "verifier">): DecisionCache {
    const c = new DecisionCache({
        maxEntries: config.cache.maxEntries,
        negativeMaxEntries: config.cache.negativeMaxEntries,
        negativeTtlSeconds: config.cache.negativeTtlSeconds,
    });
    parts.caches.push(c);
    return c;
}

const commonOf = (config: GatewayConfig, metrics: GatewayMetrics) => ({
    issuer: config.issuer,
    audience: config.audience,
    clockSkewSeconds: config.clockSkewSeconds,
    maxTtlSeconds: config.cache.maxTtlSeconds,
    metrics,
});

/** The introspection verifier itself: in the only process, or in the primary for all workers. */
export function buildIntrospection(
    config: GatewayConfig,
    md: ServerMetadata,
    deps: { http: AuthServerClient; metrics: GatewayMetrics; onClientAuthFailure?: OnClientAuthFailure },
    parts: Omit<Verification, "verifier"> = { caches: [], breakers: [], limiters: [], introspections: [] },
): IntrospectionVerifier {
    const client = config.introspectionClient as IntrospectionClient;
    const method = chooseMethod(client, md.introspection_endpoint_auth_methods_supported);
    parts.introspectionAuth = method;
    const breaker = new CircuitBreaker(config.breaker.failureThreshold, config.breaker.resetSeconds * 1000);
    const limiter = new Limiter(config.introspection.maxConcurrency, config.introspection.maxQueue);
    parts.breakers.push(breaker);
    parts.limiters.push(limiter);
    const verifier = new IntrospectionVerifier({
        ...commonOf(config, deps.metrics),
        cache: newCacheIn(config, parts),
        endpoint: md.introspection_endpoint as string,
        client,
        method,
        onClientAuthFailure: deps.onClientAuthFailure,
        http: deps.http,
        breaker,
        limiter,
        clientBudget: config.introspectionsPerClientPerMinute > 0 ? new ClientBudget(config.introspectionsPerClientPerMinute) : undefined,
    });
    parts.introspections.push(verifier);
    return verifier;
}

/**
 * The verifier for TOKEN_VALIDATION. With `primary` (a worker of several), introspection is asked
 * of the primary process, so each token is introspected once per window for the whole container.
 */
export function buildVerification(
    config: GatewayConfig,
    md: ServerMetadata,
    deps: {
        http: AuthServerClient;
        metrics: GatewayMetrics;
        primary?: PrimaryChannel;
        onClientAuthFailure?: OnClientAuthFailure;
        /** Operator hints (a warning in the log), such as opaque tokens refused by the pre-check. */
        hint?: (message: string) => void;
    },
): Verification {
    const parts: Omit<Verification, "verifier"> = { caches: [], breakers: [], limiters: [], introspections: [] };
    const common = commonOf(config, deps.metrics);
    const newCache = () => newCacheIn(config, parts);
    const introspection = (): TokenVerifier =>
        deps.primary
            ? // The primary's own call is bounded by INTROSPECTION_TIMEOUT_MS, and its queue by as much again.
              new RemoteIntrospection(deps.primary, newCache(), deps.metrics, 2 * config.introspection.timeoutMs + 1_000)
            : buildIntrospection(config, md, deps, parts);
    const jwt = () => new JwtVerifier({ ...common, cache: newCache(), jwksUri: md.jwks_uri as string });
    const verifier =
        config.tokenValidation === "jwt"
            ? jwt()
            : config.tokenValidation === "hybrid"
              ? new LocalThenIntrospection(jwt(), introspection(), "local", deps.metrics)
              : config.introspectionPrecheck === "jwt"
                ? new LocalThenIntrospection(jwt(), introspection(), "introspection", deps.metrics, deps.hint)
                : introspection();
    return { verifier, ...parts };
}
