// The gateway's configuration: the settings decoded from the environment (config/codec.ts, the
// one codec every deployer shares), plus what only a running process has: the introspection
// client's secret or key (from a variable or a file), rules from a file, and WORKERS. Validated
// once at start; a missing or invalid variable stops the process with a message naming it.
// Secrets are read, never echoed.
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { z } from "zod";
import { parsePrivateKey, type IntrospectionClient } from "../verification/clientAuth";
import { DEFAULT_API, needsIntrospectionClient, SETTINGS, type ApiSettings, type GatewaySettings, type SettingName } from "./settings";
import { planOf, type RateLimitPlan } from "../limits/rateLimitPlan";
import { compileRule } from "../decision/routeRules";
import type { CorsPolicy } from "../decision/cors";
import type { ApiPolicy } from "../decision/authorize";
import { prefixSegments } from "../decision/apiRouting";
import { fromEnvironment, type SettingsEnvironment } from "./codec";
import { TOKEN_VALIDATIONS, type INTROSPECTION_PRECHECKS, type LOG_LEVELS, type METHOD_OVERRIDE_MODES } from "./contract";
import { parseTrustProxy, type TrustProxy } from "../request/trustProxy";

export type TokenValidation = (typeof TOKEN_VALIDATIONS)[number];

/** One API behind the gateway, as it runs: its route, its upstream, its policy. */
export interface GatewayApi extends ApiPolicy {
    pathPrefix: string;
    stripPrefix: boolean;
    upstreamUrl: URL;
}

export interface GatewayConfig {
    /** The APIs behind the gateway (APIS), or the one API of UPSTREAM_URL, named `default`, for every path. */
    apis: GatewayApi[];
    issuer: string;
    audience: string;
    tokenValidation: TokenValidation;
    introspectionClient?: IntrospectionClient;
    port: number;
    adminPort: number;
    host: string;
    cache: { maxTtlSeconds: number; maxEntries: number; negativeTtlSeconds: number; negativeMaxEntries: number };
    introspection: { timeoutMs: number; maxConcurrency: number; maxQueue: number };
    breaker: { failureThreshold: number; resetSeconds: number };
    clockSkewSeconds: number;
    upstreamTimeoutMs: number;
    /** The upstream's connections per process, the queue for them, and each consumer's share of both. */
    upstreamConcurrency: { maxConnections: number; maxQueue: number; queueTimeoutMs: number; consumerMaxInFlight: number };
    hideCredentials: boolean;
    identityHeaderPrefix: string;
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
    /** Client id → the consumer's declared name, for the per-consumer metrics' `consumer` label. */
    consumerNames: ReadonlyMap<string, string>;
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

/**
 * What only a process has, never a setting a deployer shares: the introspection client's
 * credential (each target delivers it its own secret way), rules from a file, and WORKERS.
 */
export const PROCESS_VARIABLES = {
    INTROSPECTION_CLIENT_SECRET: {
        shownDefault: "*required* unless `jwt` or a private key",
        doc: "for `client_secret_basic`/`client_secret_post`; the stack wires it into the gateway directly (no output carries it)",
    },
    INTROSPECTION_CLIENT_SECRET_FILE: { shownDefault: "", doc: "read the secret from this file instead" },
    INTROSPECTION_CLIENT_PRIVATE_KEY: {
        shownDefault: "",
        doc: "instead of a secret: the client's private key (PEM, or a private JWK's JSON; RSA or P-256) for `private_key_jwt` (RFC 7523)",
    },
    INTROSPECTION_CLIENT_PRIVATE_KEY_FILE: { shownDefault: "", doc: "read the key from this file instead" },
    ROUTE_RULES_FILE: { shownDefault: "", doc: "`ROUTE_RULES`, from a file" },
    WORKERS: { shownDefault: "CPUs available", doc: "processes serving the traffic port (`1`: a single process)" },
} as const;

const processSchema = z.object({
    INTROSPECTION_CLIENT_SECRET: z.string().min(1).optional(),
    INTROSPECTION_CLIENT_SECRET_FILE: z.string().min(1).optional(),
    INTROSPECTION_CLIENT_PRIVATE_KEY: z.string().min(1).optional(),
    INTROSPECTION_CLIENT_PRIVATE_KEY_FILE: z.string().min(1).optional(),
    ROUTE_RULES_FILE: z.string().min(1).optional(),
    // Default: the CPUs this process may use (cgroup limits included).
    WORKERS: z.coerce.number().int().min(1).max(64).optional(),
});

/**
 * The environment a deployment hands the gateway, keyed by the variables this module reads: a
 * misspelt name in a deployment is a type error, not a silently ignored variable.
 */
export type GatewayEnvironment = SettingsEnvironment & Partial<Record<keyof typeof PROCESS_VARIABLES, string>>;

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
    const present: Record<string, string> = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== ""));
    const problems: string[] = [];
    const proc = processSchema.safeParse(present);
    if (!proc.success) for (const issue of proc.error.issues) problems.push(`${String(issue.path[0])}: ${issue.message}`);
    const p = proc.success ? proc.data : {};

    if (present.ROUTE_RULES !== undefined && p.ROUTE_RULES_FILE !== undefined) problems.push("ROUTE_RULES and ROUTE_RULES_FILE: set only one");
    else if (p.ROUTE_RULES_FILE !== undefined) {
        const text = readFileValue(p.ROUTE_RULES_FILE, "ROUTE_RULES_FILE", problems);
        if (text !== undefined) present.ROUTE_RULES = text;
    }
    const decoded = fromEnvironment(present);
    if (!decoded.ok) problems.push(...decoded.problems.map((x) => (p.ROUTE_RULES_FILE ? x.replace(/^ROUTE_RULES(?=[:[])/, "ROUTE_RULES_FILE") : x)));
    const s = decoded.ok ? decoded.settings : undefined;
    // The credential is checked even when a setting is wrong, so that every problem is named at once.
    const mode: CredentialSettings = s ?? {
        tokenValidation: orDefault("tokenValidation", present.TOKEN_VALIDATION, "introspection"),
        introspectionAuthMethod: orDefault("introspectionAuthMethod", present.INTROSPECTION_AUTH_METHOD, undefined),
        introspectionClientId: present.INTROSPECTION_CLIENT_ID,
        introspectionClientKeyId: present.INTROSPECTION_CLIENT_KEY_ID,
        introspectionClientKmsKeyArn: orDefault("introspectionClientKmsKeyArn", present.INTROSPECTION_CLIENT_KMS_KEY_ARN, undefined),
    };
    // A KMS key ARN its own schema refused is named once (above), not again as a missing credential.
    const refusedKmsArn = present.INTROSPECTION_CLIENT_KMS_KEY_ARN !== undefined && mode.introspectionClientKmsKeyArn === undefined;
    const introspectionClient = needsIntrospectionClient(mode) && !refusedKmsArn ? introspectionClientOf(mode, p, problems) : undefined;
    if (problems.length || !s) throw new ConfigError(problems);
    return configOf(s, { introspectionClient, workers: p.WORKERS ?? availableParallelism() });
}

/** One setting's value by its own schema (its default when unset), or `fallback` when its schema refuses it. */
function orDefault<K extends SettingName>(name: K, text: string | undefined, fallback: GatewaySettings[K]): GatewaySettings[K] {
    const parsed = SETTINGS[name].schema.safeParse(text);
    return parsed.success ? (parsed.data as GatewaySettings[K]) : fallback;
}

/** The introspection client's credential: a secret or a private key, from a variable or a file. */
type CredentialSettings = Pick<
    GatewaySettings,
    "tokenValidation" | "introspectionAuthMethod" | "introspectionClientId" | "introspectionClientKeyId" | "introspectionClientKmsKeyArn"
>;

function introspectionClientOf(s: CredentialSettings, p: z.output<typeof processSchema>, problems: string[]): IntrospectionClient | undefined {
    if (p.INTROSPECTION_CLIENT_SECRET && p.INTROSPECTION_CLIENT_SECRET_FILE)
        problems.push("INTROSPECTION_CLIENT_SECRET and INTROSPECTION_CLIENT_SECRET_FILE: set only one");
    if (p.INTROSPECTION_CLIENT_PRIVATE_KEY && p.INTROSPECTION_CLIENT_PRIVATE_KEY_FILE)
        problems.push("INTROSPECTION_CLIENT_PRIVATE_KEY and INTROSPECTION_CLIENT_PRIVATE_KEY_FILE: set only one");
    const secret =
        p.INTROSPECTION_CLIENT_SECRET ??
        (p.INTROSPECTION_CLIENT_SECRET_FILE ? readFileValue(p.INTROSPECTION_CLIENT_SECRET_FILE, "INTROSPECTION_CLIENT_SECRET_FILE", problems) : undefined);
    const keyVariable = p.INTROSPECTION_CLIENT_PRIVATE_KEY_FILE ? "INTROSPECTION_CLIENT_PRIVATE_KEY_FILE" : "INTROSPECTION_CLIENT_PRIVATE_KEY";
    const keyText =
        p.INTROSPECTION_CLIENT_PRIVATE_KEY ??
        (p.INTROSPECTION_CLIENT_PRIVATE_KEY_FILE ? readFileValue(p.INTROSPECTION_CLIENT_PRIVATE_KEY_FILE, keyVariable, problems) : undefined);
    const method = s.introspectionAuthMethod;
    const kmsKeyArn = s.introspectionClientKmsKeyArn;
    if (kmsKeyArn !== undefined) {
        // The key is in AWS KMS: no secret and no private key in the process at all.
        if (secret || keyText || p.INTROSPECTION_CLIENT_SECRET_FILE || p.INTROSPECTION_CLIENT_PRIVATE_KEY_FILE)
            problems.push(
                "INTROSPECTION_CLIENT_KMS_KEY_ARN: set it alone, without INTROSPECTION_CLIENT_SECRET or INTROSPECTION_CLIENT_PRIVATE_KEY (KMS holds the key)",
            );
        if (method !== undefined && method !== "private_key_jwt")
            problems.push(`INTROSPECTION_CLIENT_KMS_KEY_ARN: signs private_key_jwt assertions, not ${method} (INTROSPECTION_AUTH_METHOD)`);
        const id = s.introspectionClientId;
        return id === undefined ? undefined : { id, credentials: { kind: "kms", keyArn: kmsKeyArn, alg: "RS256", kid: s.introspectionClientKeyId }, method };
    }
    const wantsKey = method === "private_key_jwt" || (method === undefined && keyText !== undefined);
    if (secret && keyText)
        problems.push(
            "INTROSPECTION_CLIENT_SECRET and INTROSPECTION_CLIENT_PRIVATE_KEY: set only one (the secret for client_secret_basic/post, the key for private_key_jwt)",
        );
    else if (wantsKey && !keyText && !p.INTROSPECTION_CLIENT_PRIVATE_KEY_FILE)
        problems.push(
            "INTROSPECTION_CLIENT_PRIVATE_KEY: is required with INTROSPECTION_AUTH_METHOD=private_key_jwt (or INTROSPECTION_CLIENT_PRIVATE_KEY_FILE, or INTROSPECTION_CLIENT_KMS_KEY_ARN)",
        );
    else if (!wantsKey && !secret && !p.INTROSPECTION_CLIENT_SECRET_FILE)
        problems.push(
            `INTROSPECTION_CLIENT_SECRET: is required with TOKEN_VALIDATION=${s.tokenValidation} (or INTROSPECTION_CLIENT_SECRET_FILE, or INTROSPECTION_CLIENT_PRIVATE_KEY for private_key_jwt)`,
        );
    const id = s.introspectionClientId;
    if (id === undefined) return undefined; // reported by the settings' own rules
    if (wantsKey && keyText) {
        try {
            return { id, credentials: parsePrivateKey(keyText, keyVariable, s.introspectionClientKeyId), method };
        } catch (err) {
            problems.push((err as Error).message);
            return undefined;
        }
    }
    return !wantsKey && secret ? { id, credentials: { kind: "secret", secret }, method } : undefined;
}

/** The running configuration of validated settings: rules compiled, lists parsed, groups formed. */
function configOf(s: GatewaySettings, proc: { introspectionClient?: IntrospectionClient; workers: number }): GatewayConfig {
    const trust = parseTrustProxy(s.trustProxy);
    const cors: CorsPolicy = {
        origins: s.corsAllowedOrigins,
        methods: s.corsAllowedMethods,
        headers: s.corsAllowedHeaders.map((h) => h.toLowerCase()), // field names compare case-insensitively
        exposedHeaders: s.corsExposedHeaders,
        credentials: s.corsAllowCredentials,
        maxAgeSeconds: s.corsMaxAgeSeconds,
    };
    // The one-API shorthand is the API `default` at `/`; settingsProblems made sure one of the two is set.
    const apis: ApiSettings[] = s.apis ?? [
        {
            name: DEFAULT_API,
            pathPrefix: "/",
            stripPrefix: false,
            upstreamUrl: s.upstreamUrl as string,
            requiredScopes: s.requiredScopes,
            scopeMatch: s.scopeMatch,
            routeRules: s.routeRules,
        },
    ];
    return {
        apis: apis.map((a) => ({
            name: a.name,
            pathPrefix: a.pathPrefix,
            prefix: prefixSegments(a.pathPrefix),
            ...(a.hosts ? { hosts: new Set(a.hosts) } : {}),
            stripPrefix: a.stripPrefix,
            upstreamUrl: new URL(a.upstreamUrl),
            requiredScopes: a.requiredScopes,
            scopeMatch: a.scopeMatch,
            routeRules: a.routeRules.map(compileRule),
            // An API's own origins replace the gateway's; the rest of the CORS policy is the gateway's.
            cors: a.corsAllowedOrigins ? { ...cors, origins: a.corsAllowedOrigins } : cors,
            ...(a.consumers ? { consumers: new Set(a.consumers) } : {}),
        })),
        issuer: s.issuer,
        audience: s.audience,
        tokenValidation: s.tokenValidation,
        introspectionClient: proc.introspectionClient,
        port: s.port,
        adminPort: s.adminPort,
        host: s.host,
        cache: {
            maxTtlSeconds: s.cacheMaxTtlSeconds,
            maxEntries: s.cacheMaxEntries,
            negativeTtlSeconds: s.negativeCacheTtlSeconds,
            negativeMaxEntries: s.negativeCacheMaxEntries,
        },
        introspection: { timeoutMs: s.introspectionTimeoutMs, maxConcurrency: s.introspectionMaxConcurrency, maxQueue: s.introspectionMaxQueue },
        breaker: { failureThreshold: s.breakerFailureThreshold, resetSeconds: s.breakerResetSeconds },
        clockSkewSeconds: s.clockSkewSeconds,
        upstreamTimeoutMs: s.upstreamTimeoutMs,
        upstreamConcurrency: {
            maxConnections: s.upstreamMaxConnections,
            maxQueue: s.upstreamMaxQueue,
            queueTimeoutMs: s.upstreamQueueTimeoutMs,
            consumerMaxInFlight: s.consumerMaxInFlight,
        },
        hideCredentials: s.hideCredentials,
        identityHeaderPrefix: s.identityHeaderPrefix,
        logLevel: s.logLevel,
        shutdownGraceSeconds: s.shutdownGraceSeconds,
        trustProxy: trust.ok ? trust.value : false,
        methodOverride: s.methodOverride,
        introspectionPrecheck: s.introspectionPrecheck,
        introspectionsPerClientPerMinute: s.introspectionsPerClientPerMinute,
        workers: proc.workers,
        consumerNames: new Map(Object.entries(s.consumerNames ?? {})),
        rateLimits: s.rateLimits && {
            plan: planOf(s.rateLimits),
            store:
                s.rateLimitStore === "shared" && s.rateLimitStoreUrl !== undefined
                    ? { kind: "shared", url: s.rateLimitStoreUrl, timeoutMs: s.rateLimitStoreTimeoutMs }
                    : { kind: "local" },
            tasks: s.rateLimitTasks,
        },
    };
}
