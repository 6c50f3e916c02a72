// The gateway's configuration, from environment variables, validated once at start. A missing or
// invalid variable stops the process with a message naming it. Secrets are read, never echoed.
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { z } from "zod";
import { compileRules, type CompiledRule, type ScopeMatch } from "./routeRules";
import { CLIENT_AUTH_METHODS, parsePrivateKey, type IntrospectionClient } from "./clientAuth";
import { parseScopeList } from "./scopes";
import { compileRateLimits, type RateLimitPlan } from "./rateLimitPlan";
import {
    CACHE_MAX_TTL_SECONDS,
    INTROSPECTION_PRECHECKS,
    LOG_LEVELS,
    METHOD_OVERRIDE_MODES,
    PORTS,
    RATE_LIMIT_STORES,
    SCOPE_MATCHES,
    TOKEN_VALIDATIONS,
} from "./settings";
import { parseTrustProxy, type TrustProxy } from "./trustProxy";

export type TokenValidation = (typeof TOKEN_VALIDATIONS)[number];

export interface GatewayConfig {
    upstreamUrl: URL;
    issuer: string;
    audience: string;
    validation: TokenValidation;
    introspectionClient?: IntrospectionClient;
    port: number;
    adminPort: number;
    host: string;
    requiredScopes: string[];
    scopeMatch: ScopeMatch;
    routeRules: CompiledRule[];
    cache: { maxTtlSeconds: number; maxEntries: number; negativeTtlSeconds: number; negativeMaxEntries: number };
    introspection: { timeoutMs: number; maxConcurrency: number; maxQueue: number };
    breaker: { failureThreshold: number; resetSeconds: number };
    clockSkewSeconds: number;
    upstreamTimeoutMs: number;
    hideCredentials: boolean;
    identityHeaderPrefix: string;
    corsPreflightPassthrough: boolean;
    logLevel: (typeof LOG_LEVELS)[number];
    shutdownGraceSeconds: number;
    trustProxy: TrustProxy;
    methodOverride: (typeof METHOD_OVERRIDE_MODES)[number];
    /** introspection mode: check locally that a token is this issuer's JWT before introspecting it. */
    introspectionPrecheck: (typeof INTROSPECTION_PRECHECKS)[number];
    /** Introspections of not-yet-cached tokens one client address may cause per minute (0: no limit). */
    introspectionsPerClientPerMinute: number;
    /** Processes serving the traffic port (node:cluster); 1: this process alone. */
    workers: number;
    /** Per-consumer limits (RATE_LIMITS); absent: no consumer is limited. */
    rateLimits?: {
        plan: RateLimitPlan;
        store: { kind: "local" } | { kind: "shared"; url: string; timeoutMs: number };
        /** Gateway tasks that share the limits: each process's fallback share is limit ÷ (tasks × workers). */
        tasks: number;
    };
}

export class ConfigError extends Error {
    constructor(readonly problems: string[]) {
        super(`invalid gateway configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
        this.name = "ConfigError";
    }
}

/** Defaults, documented in the README's table. */
export const DEFAULTS = {
    TOKEN_VALIDATION: "introspection",
    PORT: PORTS.traffic,
    ADMIN_PORT: PORTS.admin,
    HOST: "0.0.0.0",
    SCOPE_MATCH: "all",
    CACHE_MAX_TTL_SECONDS: CACHE_MAX_TTL_SECONDS.default,
    CACHE_MAX_ENTRIES: 10_000,
    NEGATIVE_CACHE_TTL_SECONDS: 10,
    NEGATIVE_CACHE_MAX_ENTRIES: 10_000,
    INTROSPECTION_TIMEOUT_MS: 2_000,
    INTROSPECTION_MAX_CONCURRENCY: 32,
    INTROSPECTION_MAX_QUEUE: 1_000,
    BREAKER_FAILURE_THRESHOLD: 5,
    BREAKER_RESET_SECONDS: 5,
    CLOCK_SKEW_SECONDS: 30,
    UPSTREAM_TIMEOUT_MS: 30_000,
    HIDE_CREDENTIALS: false,
    IDENTITY_HEADER_PREFIX: "X-Auth-",
    CORS_PREFLIGHT_PASSTHROUGH: false,
    LOG_LEVEL: "info",
    SHUTDOWN_GRACE_SECONDS: 20,
    TRUST_PROXY: false,
    METHOD_OVERRIDE: "strip",
    INTROSPECTION_PRECHECK: "jwt",
    INTROSPECTIONS_PER_CLIENT_PER_MINUTE: 120,
    RATE_LIMIT_STORE: "local",
    RATE_LIMIT_STORE_TIMEOUT_MS: 250,
    RATE_LIMIT_TASKS: 1,
} as const;

/** Loopback hosts may use http (local runs and tests); everything else must be https. */
export function isLoopbackHost(hostname: string): boolean {
    const h = hostname.replace(/^\[|\]$/g, "");
    return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

export function requireSecureUrl(value: string, what: string): string | undefined {
    if (!URL.canParse(value)) return `${what}: must be an absolute URL`;
    const u = new URL(value);
    if (u.protocol === "https:") return undefined;
    if (u.protocol === "http:" && isLoopbackHost(u.hostname)) return undefined;
    return `${what}: must use https (http is allowed only for loopback addresses)`;
}

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const bool = z.enum(["true", "false", "1", "0"]).transform((v) => v === "true" || v === "1");

const schema = z.object({
    UPSTREAM_URL: z.string().refine((v) => URL.canParse(v) && /^https?:$/.test(new URL(v).protocol), "must be an http(s) URL"),
    OIDC_ISSUER: z.string(),
    AUDIENCE: z.string().min(1),
    TOKEN_VALIDATION: z.enum(TOKEN_VALIDATIONS).default(DEFAULTS.TOKEN_VALIDATION),
    INTROSPECTION_CLIENT_ID: z.string().min(1).optional(),
    INTROSPECTION_CLIENT_SECRET: z.string().min(1).optional(),
    INTROSPECTION_CLIENT_SECRET_FILE: z.string().min(1).optional(),
    INTROSPECTION_CLIENT_PRIVATE_KEY: z.string().min(1).optional(),
    INTROSPECTION_CLIENT_PRIVATE_KEY_FILE: z.string().min(1).optional(),
    INTROSPECTION_CLIENT_KEY_ID: z.string().min(1).optional(),
    INTROSPECTION_AUTH_METHOD: z.enum(CLIENT_AUTH_METHODS).optional(),
    PORT: int(0, 65535).default(DEFAULTS.PORT),
    ADMIN_PORT: int(0, 65535).default(DEFAULTS.ADMIN_PORT),
    HOST: z.string().min(1).default(DEFAULTS.HOST),
    REQUIRED_SCOPES: z.string().default(""),
    SCOPE_MATCH: z.enum(SCOPE_MATCHES).default(DEFAULTS.SCOPE_MATCH),
    ROUTE_RULES: z.string().optional(),
    ROUTE_RULES_FILE: z.string().optional(),
    CACHE_MAX_TTL_SECONDS: int(CACHE_MAX_TTL_SECONDS.min, CACHE_MAX_TTL_SECONDS.max).default(DEFAULTS.CACHE_MAX_TTL_SECONDS),
    CACHE_MAX_ENTRIES: int(1, 10_000_000).default(DEFAULTS.CACHE_MAX_ENTRIES),
    NEGATIVE_CACHE_TTL_SECONDS: int(0, 3_600).default(DEFAULTS.NEGATIVE_CACHE_TTL_SECONDS),
    NEGATIVE_CACHE_MAX_ENTRIES: int(1, 10_000_000).default(DEFAULTS.NEGATIVE_CACHE_MAX_ENTRIES),
    INTROSPECTION_TIMEOUT_MS: int(50, 60_000).default(DEFAULTS.INTROSPECTION_TIMEOUT_MS),
    INTROSPECTION_MAX_CONCURRENCY: int(1, 1_024).default(DEFAULTS.INTROSPECTION_MAX_CONCURRENCY),
    INTROSPECTION_MAX_QUEUE: int(0, 100_000).default(DEFAULTS.INTROSPECTION_MAX_QUEUE),
    BREAKER_FAILURE_THRESHOLD: int(1, 1_000).default(DEFAULTS.BREAKER_FAILURE_THRESHOLD),
    BREAKER_RESET_SECONDS: int(1, 3_600).default(DEFAULTS.BREAKER_RESET_SECONDS),
    CLOCK_SKEW_SECONDS: int(0, 300).default(DEFAULTS.CLOCK_SKEW_SECONDS),
    UPSTREAM_TIMEOUT_MS: int(100, 600_000).default(DEFAULTS.UPSTREAM_TIMEOUT_MS),
    HIDE_CREDENTIALS: bool.default(DEFAULTS.HIDE_CREDENTIALS),
    IDENTITY_HEADER_PREFIX: z
        .string()
        .regex(/^[A-Za-z][A-Za-z0-9-]*-$/, "must be a header name prefix ending in '-', such as X-Auth-")
        .default(DEFAULTS.IDENTITY_HEADER_PREFIX),
    CORS_PREFLIGHT_PASSTHROUGH: bool.default(DEFAULTS.CORS_PREFLIGHT_PASSTHROUGH),
    LOG_LEVEL: z.enum(LOG_LEVELS).default(DEFAULTS.LOG_LEVEL),
    SHUTDOWN_GRACE_SECONDS: int(0, 600).default(DEFAULTS.SHUTDOWN_GRACE_SECONDS),
    TRUST_PROXY: z.string().optional(),
    METHOD_OVERRIDE: z.enum(METHOD_OVERRIDE_MODES).default(DEFAULTS.METHOD_OVERRIDE),
    INTROSPECTION_PRECHECK: z.enum(INTROSPECTION_PRECHECKS).default(DEFAULTS.INTROSPECTION_PRECHECK),
    INTROSPECTIONS_PER_CLIENT_PER_MINUTE: int(0, 1_000_000).default(DEFAULTS.INTROSPECTIONS_PER_CLIENT_PER_MINUTE),
    // Default: the CPUs this process may use (cgroup limits included).
    WORKERS: int(1, 64).optional(),
    RATE_LIMITS: z.string().optional(),
    RATE_LIMIT_STORE: z.enum(RATE_LIMIT_STORES).default(DEFAULTS.RATE_LIMIT_STORE),
    RATE_LIMIT_STORE_URL: z.string().optional(),
    RATE_LIMIT_STORE_TIMEOUT_MS: int(5, 5_000).default(DEFAULTS.RATE_LIMIT_STORE_TIMEOUT_MS),
    RATE_LIMIT_TASKS: int(1, 1_000).default(DEFAULTS.RATE_LIMIT_TASKS),
});

/**
 * The environment a deployment hands the gateway, keyed by the variables this module reads: a
 * misspelt name in a deployment is a type error, not a silently ignored variable.
 */
export type GatewayEnvironment = Partial<Record<keyof z.input<typeof schema>, string>>;

function readFileValue(path: string, name: string, problems: string[]): string | undefined {
    try {
        return readFileSync(path, "utf8").trim();
    } catch (e) {
        problems.push(`${name}: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? "error"})`);
        return undefined;
    }
}

export function loadConfig(env: NodeJS.ProcessEnv): GatewayConfig {
    // Empty variables count as unset, as most deployment tools cannot unset one.
    const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
    const parsed = schema.safeParse(present);
    const problems: string[] = [];
    if (!parsed.success) {
        for (const issue of parsed.error.issues) {
            const name = String(issue.path[0]);
            problems.push(present[name] === undefined ? `${name}: is required` : `${name}: ${issue.message}`);
        }
        throw new ConfigError(problems);
    }
    const e = parsed.data;

    // Compared exactly as configured (RFC 9207/8414: the issuer is an exact string), so an issuer
    // that ends in "/" keeps it.
    const issuer = e.OIDC_ISSUER;
    const issuerProblem = requireSecureUrl(issuer, "OIDC_ISSUER");
    if (issuerProblem) problems.push(issuerProblem);

    let introspectionClient: GatewayConfig["introspectionClient"];
    if (e.TOKEN_VALIDATION !== "jwt") {
        if (e.INTROSPECTION_CLIENT_SECRET && e.INTROSPECTION_CLIENT_SECRET_FILE)
            problems.push("INTROSPECTION_CLIENT_SECRET and INTROSPECTION_CLIENT_SECRET_FILE: set only one");
        if (e.INTROSPECTION_CLIENT_PRIVATE_KEY && e.INTROSPECTION_CLIENT_PRIVATE_KEY_FILE)
            problems.push("INTROSPECTION_CLIENT_PRIVATE_KEY and INTROSPECTION_CLIENT_PRIVATE_KEY_FILE: set only one");
        const secret =
            e.INTROSPECTION_CLIENT_SECRET ??
            (e.INTROSPECTION_CLIENT_SECRET_FILE ? readFileValue(e.INTROSPECTION_CLIENT_SECRET_FILE, "INTROSPECTION_CLIENT_SECRET_FILE", problems) : undefined);
        const keyVariable = e.INTROSPECTION_CLIENT_PRIVATE_KEY_FILE ? "INTROSPECTION_CLIENT_PRIVATE_KEY_FILE" : "INTROSPECTION_CLIENT_PRIVATE_KEY";
        const keyText =
            e.INTROSPECTION_CLIENT_PRIVATE_KEY ??
            (e.INTROSPECTION_CLIENT_PRIVATE_KEY_FILE ? readFileValue(e.INTROSPECTION_CLIENT_PRIVATE_KEY_FILE, keyVariable, problems) : undefined);
        if (!e.INTROSPECTION_CLIENT_ID) problems.push(`INTROSPECTION_CLIENT_ID: is required with TOKEN_VALIDATION=${e.TOKEN_VALIDATION}`);
        const method = e.INTROSPECTION_AUTH_METHOD;
        const wantsKey = method === "private_key_jwt" || (method === undefined && keyText !== undefined);
        if (secret && keyText)
            problems.push(
                "INTROSPECTION_CLIENT_SECRET and INTROSPECTION_CLIENT_PRIVATE_KEY: set only one (the secret for client_secret_basic/post, the key for private_key_jwt)",
            );
        else if (wantsKey && !keyText && !e.INTROSPECTION_CLIENT_PRIVATE_KEY_FILE)
            problems.push(
                "INTROSPECTION_CLIENT_PRIVATE_KEY: is required with INTROSPECTION_AUTH_METHOD=private_key_jwt (or INTROSPECTION_CLIENT_PRIVATE_KEY_FILE)",
            );
        else if (!wantsKey && !secret && !e.INTROSPECTION_CLIENT_SECRET_FILE) {
            problems.push(
                `INTROSPECTION_CLIENT_SECRET: is required with TOKEN_VALIDATION=${e.TOKEN_VALIDATION} (or INTROSPECTION_CLIENT_SECRET_FILE, or INTROSPECTION_CLIENT_PRIVATE_KEY for private_key_jwt)`,
            );
        }
        if (e.INTROSPECTION_CLIENT_ID && wantsKey && keyText) {
            try {
                introspectionClient = {
                    id: e.INTROSPECTION_CLIENT_ID,
                    credentials: parsePrivateKey(keyText, keyVariable, e.INTROSPECTION_CLIENT_KEY_ID),
                    method,
                };
            } catch (err) {
                problems.push((err as Error).message);
            }
        } else if (e.INTROSPECTION_CLIENT_ID && !wantsKey && secret)
            introspectionClient = { id: e.INTROSPECTION_CLIENT_ID, credentials: { kind: "secret", secret }, method };
    }

    let routeRules: CompiledRule[] = [];
    if (e.ROUTE_RULES && e.ROUTE_RULES_FILE) problems.push("ROUTE_RULES and ROUTE_RULES_FILE: set only one");
    const rulesSource = e.ROUTE_RULES_FILE ? "ROUTE_RULES_FILE" : "ROUTE_RULES";
    const rulesText = e.ROUTE_RULES ?? (e.ROUTE_RULES_FILE ? readFileValue(e.ROUTE_RULES_FILE, "ROUTE_RULES_FILE", problems) : undefined);
    if (rulesText !== undefined) {
        try {
            routeRules = compileRules(JSON.parse(rulesText), rulesSource);
        } catch (err) {
            problems.push(err instanceof SyntaxError ? `${rulesSource}: is not valid JSON` : (err as Error).message);
        }
    }
    if (e.PORT !== 0 && e.PORT === e.ADMIN_PORT) problems.push("ADMIN_PORT: must differ from PORT");
    const trust = parseTrustProxy(e.TRUST_PROXY);
    if (!trust.ok) problems.push(trust.problem);

    const rateLimits = rateLimitsOf(e, problems);

    if (problems.length) throw new ConfigError(problems);
    return {
        upstreamUrl: new URL(e.UPSTREAM_URL),
        issuer,
        audience: e.AUDIENCE,
        validation: e.TOKEN_VALIDATION,
        introspectionClient,
        port: e.PORT,
        adminPort: e.ADMIN_PORT,
        host: e.HOST,
        requiredScopes: parseScopeList(e.REQUIRED_SCOPES),
        scopeMatch: e.SCOPE_MATCH,
        routeRules,
        cache: {
            maxTtlSeconds: e.CACHE_MAX_TTL_SECONDS,
            maxEntries: e.CACHE_MAX_ENTRIES,
            negativeTtlSeconds: e.NEGATIVE_CACHE_TTL_SECONDS,
            negativeMaxEntries: e.NEGATIVE_CACHE_MAX_ENTRIES,
        },
        introspection: { timeoutMs: e.INTROSPECTION_TIMEOUT_MS, maxConcurrency: e.INTROSPECTION_MAX_CONCURRENCY, maxQueue: e.INTROSPECTION_MAX_QUEUE },
        breaker: { failureThreshold: e.BREAKER_FAILURE_THRESHOLD, resetSeconds: e.BREAKER_RESET_SECONDS },
        clockSkewSeconds: e.CLOCK_SKEW_SECONDS,
        upstreamTimeoutMs: e.UPSTREAM_TIMEOUT_MS,
        hideCredentials: e.HIDE_CREDENTIALS,
        identityHeaderPrefix: e.IDENTITY_HEADER_PREFIX,
        corsPreflightPassthrough: e.CORS_PREFLIGHT_PASSTHROUGH,
        logLevel: e.LOG_LEVEL,
        shutdownGraceSeconds: e.SHUTDOWN_GRACE_SECONDS,
        trustProxy: trust.ok ? trust.value : false,
        methodOverride: e.METHOD_OVERRIDE,
        introspectionPrecheck: e.INTROSPECTION_PRECHECK,
        introspectionsPerClientPerMinute: e.INTROSPECTIONS_PER_CLIENT_PER_MINUTE,
        workers: e.WORKERS ?? availableParallelism(),
        rateLimits,
    };
}

/** A store URL the gateway may use: redis:// only on loopback, rediss:// (TLS) anywhere. */
export function storeUrlProblem(value: string): string | undefined {
    if (!URL.canParse(value)) return "RATE_LIMIT_STORE_URL: must be a redis:// or rediss:// URL";
    const u = new URL(value);
    if (u.protocol === "rediss:") return undefined;
    if (u.protocol === "redis:" && isLoopbackHost(u.hostname)) return undefined;
    return u.protocol === "redis:"
        ? "RATE_LIMIT_STORE_URL: must use rediss:// (TLS); redis:// is allowed only for loopback addresses"
        : "RATE_LIMIT_STORE_URL: must be a redis:// or rediss:// URL";
}

function rateLimitsOf(e: z.output<typeof schema>, problems: string[]): GatewayConfig["rateLimits"] {
    if (e.RATE_LIMITS === undefined) {
        if (e.RATE_LIMIT_STORE === "shared" || e.RATE_LIMIT_STORE_URL)
            problems.push("RATE_LIMITS: is required with RATE_LIMIT_STORE=shared or RATE_LIMIT_STORE_URL (the tiers and who is in them)");
        return undefined;
    }
    let plan: RateLimitPlan | undefined;
    try {
        plan = compileRateLimits(JSON.parse(e.RATE_LIMITS), "RATE_LIMITS");
    } catch (err) {
        problems.push(err instanceof SyntaxError ? "RATE_LIMITS: is not valid JSON" : (err as Error).message);
    }
    if (e.RATE_LIMIT_STORE === "local") {
        if (e.RATE_LIMIT_STORE_URL) problems.push("RATE_LIMIT_STORE_URL: is only used with RATE_LIMIT_STORE=shared");
        if (e.RATE_LIMIT_TASKS > 1)
            problems.push("RATE_LIMIT_TASKS: is more than 1 with RATE_LIMIT_STORE=local, which limits each task on its own: use RATE_LIMIT_STORE=shared");
        return plan && { plan, store: { kind: "local" }, tasks: 1 };
    }
    if (!e.RATE_LIMIT_STORE_URL) {
        problems.push("RATE_LIMIT_STORE_URL: is required with RATE_LIMIT_STORE=shared (such as rediss://store.example:6379)");
        return undefined;
    }
    const urlProblem = storeUrlProblem(e.RATE_LIMIT_STORE_URL);
    if (urlProblem) problems.push(urlProblem);
    return plan && { plan, store: { kind: "shared", url: e.RATE_LIMIT_STORE_URL, timeoutMs: e.RATE_LIMIT_STORE_TIMEOUT_MS }, tasks: e.RATE_LIMIT_TASKS };
}
