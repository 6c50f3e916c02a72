// The gateway's deployment contract: what anything that deploys the gateway (the Pulumi stack,
// the Dockerfile, the offline rehearsal) must agree with the gateway on. One module, imported by
// both sides, so the two cannot drift: ports, admin paths, the health check, option lists and the
// bounds of the options a stack may set.

/** Where the gateway listens inside its container. */
export const PORTS = { traffic: 8080, admin: 9090 } as const;

/**
 * The admin endpoints. Liveness answers 200 while the process runs; readiness answers 200 only
 * once the issuer's metadata is loaded (and until draining starts), so a task with a wrong issuer
 * or unreachable authorization server never takes traffic.
 */
export const ADMIN_PATHS = { liveness: "/healthz", readiness: "/readyz", metrics: "/metrics" } as const;

export const TOKEN_VALIDATIONS = ["introspection", "jwt", "hybrid"] as const;
export { SCOPE_MATCHES } from "../verification/scopes";
export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export { METHOD_OVERRIDE_MODES } from "../request/requestShape";
/** INTROSPECTION_PRECHECK: `jwt` refuses, locally, what cannot be this issuer's JWT before asking it; `off` for opaque tokens. */
export const INTROSPECTION_PRECHECKS = ["jwt", "off"] as const;
/**
 * RATE_LIMIT_STORE: `shared`, a Redis-compatible server every process and task asks, so a limit
 * holds for the whole deployment; `local`, each process alone (one task only).
 */
export const RATE_LIMIT_STORES = ["local", "shared"] as const;

/**
 * The longest a valid verdict is cached: the revocation window. An hour at most: a token revoked
 * in Okta must stop working within a bound an operator can reason about (Okta's access tokens
 * live up to a day).
 */
export const CACHE_MAX_TTL_SECONDS = { min: 0, max: 3_600, default: 60 } as const;

/**
 * The container health check (Docker HEALTHCHECK, docker.Container, ECS): readiness, probed with
 * the image's own Node.js, since the image carries no curl. The Dockerfile states the same command
 * literally (a test keeps the two equal).
 */
export function healthCheckCommand(): string[] {
    const url = `'http://127.0.0.1:'+(process.env.ADMIN_PORT||${PORTS.admin})+'${ADMIN_PATHS.readiness}'`;
    return ["CMD", "node", "-e", `fetch(${url}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))`];
}

/** Health check timing shared by the container checks (seconds). */
export const HEALTH_CHECK = { intervalSeconds: 10, timeoutSeconds: 3, startPeriodSeconds: 15, retries: 3 } as const;
