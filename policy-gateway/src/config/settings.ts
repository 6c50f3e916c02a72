// The gateway's settings: one schema, owned by the gateway, that every deployer reuses. Each
// setting has one name (its field here), one environment variable, one default and one
// validation; the Pulumi stack picks its `gateway` keys from this schema, the container decodes
// its environment with it (config/codec.ts), and the docs' table of variables is generated from
// it. Adding a setting is one entry here plus its use. Pure.
import { z } from "zod";
import { CLIENT_AUTH_METHODS } from "../verification/clientAuth";
import { rateLimitsSchema } from "../limits/rateLimitPlan";
import { routeRulesSchema } from "../decision/routeRules";
import {
    CACHE_MAX_TTL_SECONDS,
    INTROSPECTION_PRECHECKS,
    LOG_LEVELS,
    METHOD_OVERRIDE_MODES,
    PORTS,
    RATE_LIMIT_STORES,
    SCOPE_MATCHES,
    TOKEN_VALIDATIONS,
} from "./contract";
import { parseTrustProxy } from "../request/trustProxy";
import { isSerializedOrigin } from "../decision/cors";
import { describeIssue } from "../shared/zodIssues";
import { secureUrlProblem, storeUrlProblem } from "../shared/urls";

/** How a setting travels as an environment variable's text. */
export type Codec = "text" | "integer" | "boolean" | "list" | "json";

export interface SettingDefinition<S extends z.ZodType = z.ZodType> {
    variable: string;
    codec: Codec;
    schema: S;
    /** One line for the docs' table: what it is, and its values. */
    doc: string;
    /** The default as the docs' table shows it, where the schema has none ("*required* unless `jwt`"). */
    shownDefault?: string;
}

// The doc also travels with the schema (`describe`), so the stack file's JSON Schema shows it in editors.
const setting = <S extends z.ZodType>(variable: string, codec: Codec, schema: S, doc: string, shownDefault?: string): SettingDefinition<S> => ({
    variable,
    codec,
    schema: schema.describe(doc.replace(/`/g, "")),
    doc,
    shownDefault,
});

/** An AWS KMS key's ARN (AWS KMS Developer Guide, "Key identifiers (KeyId)"): the partition, region and account are in it. */
export const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/;

/** A non-empty list of header field names (RFC 9110 §5.1: tokens). */
const headerNames = (emptyMessage: string) =>
    z.array(z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, { message: "must be header names" })).min(1, { message: emptyMessage });
const int = (min: number, max: number) => z.number().int({ message: "must be a whole number" }).min(min).max(max);

const httpUrl = z
    .string()
    .refine((v) => URL.canParse(v) && /^https?:$/.test(new URL(v).protocol), { message: "must be an http(s) URL, as the gateway will reach it" });

/** A scope as REQUIRED_SCOPES carries it: space or comma separated, so neither inside a name. */
const scopeToken = z.string().regex(/^[^\s,]+$/, { message: "must be a scope name (no spaces or commas)" });
const requiredScopesSchema = z
    .array(scopeToken)
    .refine((s) => new Set(s).size === s.length, { message: "lists a scope more than once" })
    .default([]);
const corsOriginsSchema = z.array(
    z.string().refine((o) => o === "*" || isSerializedOrigin(o), {
        message: "must be origins such as https://app.example (scheme, host, optional port; no path), or *",
    }),
);

/** The `api` label of the metrics for a request that reached no API (404, or refused before routing). */
export const NO_API = "none";
/** The one API of a gateway configured with UPSTREAM_URL alone (the one-API shorthand). */
export const DEFAULT_API = "default";

/**
 * One API behind the gateway (APIS): how requests reach it (a path prefix on segment boundaries,
 * and host names when several APIs share a prefix), where they go, and what they need. Its route
 * rules match the path as the client sent it (before `stripPrefix`).
 */
export const apiSchema = z.strictObject({
    name: z
        .string()
        .regex(/^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/, { message: "must be 1-32 lowercase letters, digits or '-' (it is a metrics label)" })
        .refine((n) => n !== NO_API, { message: `'${NO_API}' is the label of requests that reach no API; name the API otherwise` }),
    pathPrefix: z
        .string()
        .regex(/^\/$|^(?:\/[A-Za-z0-9._~!$&'()*+,=:@-]+)+$/, {
            message: "must be a path such as /orders: '/' then segments, no trailing '/', no percent-encoding, ';', '?' or '#'",
        })
        .refine((p) => !p.split("/").some((seg) => seg === "." || seg === ".."), { message: "must not contain '.' or '..' segments" })
        .default("/"),
    hosts: z
        .array(
            z.string().regex(/^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/, {
                message: "must be host names in lower case, without a port (orders.example.com)",
            }),
        )
        .min(1, { message: "must name at least one host, or be left out (any host)" })
        .optional(),
    stripPrefix: z.boolean().default(false),
    upstreamUrl: httpUrl,
    requiredScopes: requiredScopesSchema,
    scopeMatch: z.enum(SCOPE_MATCHES).default("all"),
    routeRules: routeRulesSchema.default([]),
    corsAllowedOrigins: corsOriginsSchema.optional(),
    consumers: z.array(z.string().min(1)).min(1, { message: "must name at least one consumer, or be left out (any client with the scopes)" }).optional(),
});
export type ApiSettings = z.output<typeof apiSchema>;

/** Two APIs that could claim the same request: the same prefix, and hosts that overlap (or neither names one). */
function sameRoute(a: ApiSettings, b: ApiSettings): boolean {
    if (a.pathPrefix.toLowerCase() !== b.pathPrefix.toLowerCase()) return false;
    if (a.hosts === undefined || b.hosts === undefined) return a.hosts === b.hosts;
    return a.hosts.some((h) => b.hosts?.includes(h));
}

export const SETTINGS = {
    upstreamUrl: setting(
        "UPSTREAM_URL",
        "text",
        httpUrl.optional(),
        "the API behind the gateway, `http(s)://host[:port][/base-path]`: the one-API shorthand, for every path (instead of `APIS`)",
        "*required* unless `APIS`",
    ),
    apis: setting(
        "APIS",
        "json",
        z
            .array(apiSchema)
            .min(1, { message: "must declare at least one API" })
            .max(50, { message: "at most 50 APIs (each is a metrics label value)" })
            .superRefine((apis, ctx) => {
                apis.forEach((api, i) => {
                    const earlier = apis.findIndex((o, j) => j < i && o.name === api.name);
                    if (earlier !== -1) ctx.addIssue({ code: "custom", path: [i, "name"], message: `'${api.name}' is also the name of API [${earlier}]` });
                    const clash = apis.findIndex((o, j) => j < i && sameRoute(o, api));
                    if (clash !== -1)
                        ctx.addIssue({
                            code: "custom",
                            path: [i, "pathPrefix"],
                            message: `${api.pathPrefix} on ${api.hosts ? api.hosts.join(", ") : "any host"} is also the route of API [${clash}] (${apis[clash].name}): give one a longer prefix or its own hosts`,
                        });
                });
            })
            .optional(),
        "JSON array of APIs behind one gateway, each `{name, pathPrefix?, hosts?, stripPrefix?, upstreamUrl, requiredScopes?, scopeMatch?, routeRules?, corsAllowedOrigins?, consumers?}`: a request goes to the API whose hosts (if any) include its Host and whose prefix is the longest that begins its path; one that reaches none is answered 404. `consumers` (client ids): only they may call it (403 for any other client). Instead of `UPSTREAM_URL`, `REQUIRED_SCOPES`, `SCOPE_MATCH` and `ROUTE_RULES`",
        "",
    ),
    issuer: setting(
        "OIDC_ISSUER",
        "text",
        // Compared exactly as configured (RFC 9207/8414: the issuer is an exact string), so an
        // issuer that ends in "/" keeps it.
        z.string().superRefine((v, ctx) => {
            const problem = secureUrlProblem(v);
            if (problem) ctx.addIssue({ code: "custom", message: problem });
        }),
        "the authorization server's issuer (stack output `issuer`); https, or http on loopback only",
        "*required*",
    ),
    audience: setting("AUDIENCE", "text", z.string().min(1), "the audience tokens must carry (stack output `audience`)", "*required*"),
    tokenValidation: setting(
        "TOKEN_VALIDATION",
        "text",
        z.enum(TOKEN_VALIDATIONS).default("introspection"),
        "`introspection` (RFC 7662, every new token asked of the server), `jwt` (local, against the JWKS) or `hybrid` (local, then introspection)",
    ),
    introspectionPrecheck: setting(
        "INTROSPECTION_PRECHECK",
        "text",
        z.enum(INTROSPECTION_PRECHECKS).default("jwt"),
        "`introspection` mode: refuse locally what is not this issuer's valid JWT before introspecting; `off` for servers with opaque tokens",
    ),
    introspectionClientId: setting(
        "INTROSPECTION_CLIENT_ID",
        "text",
        z.string().min(1).optional(),
        "stack output `introspectionClientId`",
        "*required* unless `jwt`",
    ),
    introspectionAuthMethod: setting(
        "INTROSPECTION_AUTH_METHOD",
        "text",
        z.enum(CLIENT_AUTH_METHODS).optional(),
        "`client_secret_basic`, `client_secret_post` or `private_key_jwt`; unset: `private_key_jwt` with a key, else `client_secret_basic`, or `client_secret_post` when the server's metadata advertises only that",
        "from the credentials",
    ),
    introspectionClientKeyId: setting(
        "INTROSPECTION_CLIENT_KEY_ID",
        "text",
        z.string().min(1).optional(),
        "the `kid` the assertion carries (the key's id in the Okta app's JWKS)",
        "the JWK's `kid`",
    ),
    introspectionClientKmsKeyArn: setting(
        "INTROSPECTION_CLIENT_KMS_KEY_ARN",
        "text",
        // A key ARN, not an alias: its region is where the gateway signs, and an IAM policy can name it.
        z.string().regex(KMS_KEY_ARN, { message: "must be an AWS KMS key ARN, arn:<partition>:kms:<region>:<account>:key/<key id>" }).optional(),
        "instead of a private key: the AWS KMS key (`SIGN_VERIFY`, RSA) that signs the `private_key_jwt` assertion (RS256) with `kms:Sign`, so no private key exists outside KMS; the AWS target sets it",
        "",
    ),
    requiredScopes: setting("REQUIRED_SCOPES", "list", requiredScopesSchema, "scopes every unmatched request needs, space or comma separated", "*(none)*"),
    scopeMatch: setting("SCOPE_MATCH", "text", z.enum(SCOPE_MATCHES).default("all"), "`all` or `any`, for `REQUIRED_SCOPES`"),
    routeRules: setting("ROUTE_RULES", "json", routeRulesSchema.default([]), "JSON array of `{path, methods?, scopes, match?}`", ""),
    port: setting("PORT", "integer", int(0, 65535).default(PORTS.traffic), "traffic port"),
    adminPort: setting("ADMIN_PORT", "integer", int(0, 65535).default(PORTS.admin), "`/healthz`, `/readyz`, `/metrics`"),
    host: setting("HOST", "text", z.string().min(1).default("0.0.0.0"), "listen address"),
    cacheMaxTtlSeconds: setting(
        "CACHE_MAX_TTL_SECONDS",
        "integer",
        int(CACHE_MAX_TTL_SECONDS.min, CACHE_MAX_TTL_SECONDS.max).default(CACHE_MAX_TTL_SECONDS.default),
        "longest a valid verdict is cached: the revocation window, 0–3600 (0 disables)",
    ),
    cacheMaxEntries: setting("CACHE_MAX_ENTRIES", "integer", int(1, 10_000_000).default(10_000), "positive cache size"),
    negativeCacheTtlSeconds: setting(
        "NEGATIVE_CACHE_TTL_SECONDS",
        "integer",
        int(0, 3_600).default(10),
        "how long an invalid verdict is remembered (0 disables)",
    ),
    negativeCacheMaxEntries: setting("NEGATIVE_CACHE_MAX_ENTRIES", "integer", int(1, 10_000_000).default(10_000), "negative cache size"),
    introspectionTimeoutMs: setting("INTROSPECTION_TIMEOUT_MS", "integer", int(50, 60_000).default(2_000), "timeout of one call to the authorization server"),
    introspectionMaxConcurrency: setting("INTROSPECTION_MAX_CONCURRENCY", "integer", int(1, 1_024).default(32), "introspections in flight at once"),
    introspectionMaxQueue: setting(
        "INTROSPECTION_MAX_QUEUE",
        "integer",
        int(0, 100_000).default(1_000),
        "introspections waiting for a slot; past it, 503 at once",
    ),
    introspectionsPerClientPerMinute: setting(
        "INTROSPECTIONS_PER_CLIENT_PER_MINUTE",
        "integer",
        int(0, 1_000_000).default(120),
        "introspections of not-yet-cached tokens one client address may cause (0: no limit)",
    ),
    breakerFailureThreshold: setting("BREAKER_FAILURE_THRESHOLD", "integer", int(1, 1_000).default(5), "consecutive failures that open the circuit breaker"),
    breakerResetSeconds: setting("BREAKER_RESET_SECONDS", "integer", int(1, 3_600).default(5), "how long it stays open before one trial call"),
    clockSkewSeconds: setting("CLOCK_SKEW_SECONDS", "integer", int(0, 300).default(30), "tolerance on `exp`/`nbf`"),
    upstreamTimeoutMs: setting("UPSTREAM_TIMEOUT_MS", "integer", int(100, 600_000).default(30_000), "upstream headers/body timeout (504 past it)"),
    upstreamMaxConnections: setting(
        "UPSTREAM_MAX_CONNECTIONS",
        "integer",
        int(1, 4_096).default(256),
        "connections to the upstream per process: requests to it at once; more wait in the queue",
    ),
    upstreamMaxQueue: setting("UPSTREAM_MAX_QUEUE", "integer", int(0, 100_000).default(1_024), "requests that may wait for a connection (503 past it)"),
    upstreamQueueTimeoutMs: setting(
        "UPSTREAM_QUEUE_TIMEOUT_MS",
        "integer",
        int(1, 60_000).default(2_000),
        "how long a request may wait for a connection (503 with Retry-After past it)",
    ),
    consumerMaxInFlight: setting(
        "CONSUMER_MAX_IN_FLIGHT",
        "integer",
        int(1, 4_096).default(64),
        "requests of one consumer (client id) in flight or waiting at once, per process, unless its tier sets `maxInFlight` (429 past it): no consumer can hold every connection",
    ),
    hideCredentials: setting("HIDE_CREDENTIALS", "boolean", z.boolean().default(false), "remove `Authorization` before forwarding"),
    identityHeaderPrefix: setting(
        "IDENTITY_HEADER_PREFIX",
        "text",
        z
            .string()
            .regex(/^[A-Za-z][A-Za-z0-9-]*-$/, { message: "must be a header name prefix ending in '-', such as X-Auth-" })
            .default("X-Auth-"),
        "prefix of the identity headers (and of the namespace stripped from requests)",
    ),
    corsPreflightPassthrough: setting(
        "CORS_PREFLIGHT_PASSTHROUGH",
        "boolean",
        z.boolean().default(false),
        "removed: `true` is refused (forwarded without a token, preflights ran the API's protected handlers for any OPTIONS); the gateway answers preflights itself with `CORS_ALLOWED_ORIGINS`",
    ),
    corsAllowedOrigins: setting(
        "CORS_ALLOWED_ORIGINS",
        "list",
        corsOriginsSchema.default([]),
        "origins whose pages may call the API (CORS): the gateway answers their preflights itself, never forwarding one, and sets the CORS fields of every answer to them; `*` for any; empty: no CORS (a preflight needs a token like any OPTIONS)",
        "*(none)*",
    ),
    corsAllowedMethods: setting(
        "CORS_ALLOWED_METHODS",
        "list",
        z
            .array(z.string().regex(/^[A-Z]+$/, { message: "must be HTTP methods, in upper case (GET, POST…)" }))
            .min(1, { message: "must name at least one method" })
            .default(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]),
        "methods a page of an allowed origin may use",
    ),
    corsAllowedHeaders: setting(
        "CORS_ALLOWED_HEADERS",
        "list",
        headerNames("must name at least one header (a bearer token needs authorization)").default(["authorization", "content-type"]),
        "request headers such a page may send",
    ),
    corsExposedHeaders: setting(
        "CORS_EXPOSED_HEADERS",
        "list",
        headerNames("must name at least one header").default(["RateLimit", "RateLimit-Policy", "Retry-After", "X-Request-Id", "WWW-Authenticate"]),
        "answer headers such a page may read",
    ),
    corsAllowCredentials: setting(
        "CORS_ALLOW_CREDENTIALS",
        "boolean",
        z.boolean().default(false),
        "let such pages send cookies and read answers to them (never with origin `*`)",
    ),
    corsMaxAgeSeconds: setting("CORS_MAX_AGE_SECONDS", "integer", int(0, 86_400).default(600), "how long a browser may reuse a preflight's answer"),
    methodOverride: setting(
        "METHOD_OVERRIDE",
        "text",
        z.enum(METHOD_OVERRIDE_MODES).default("strip"),
        "`strip`: method-override headers and `?_method` removed before forwarding; `evaluate`: forwarded, and the token needs the scopes of every method named",
    ),
    trustProxy: setting(
        "TRUST_PROXY",
        "text",
        z
            .string()
            .default("false")
            .superRefine((v, ctx) => {
                const parsed = parseTrustProxy(v);
                if (!parsed.ok) ctx.addIssue({ code: "custom", message: parsed.problem.replace(/^TRUST_PROXY: /, "") });
            }),
        "peers whose `X-Forwarded-For` (its IP entries only) and `-Proto` are believed: a hop count (`1`) or IPs and CIDR ranges (`10.0.0.0/24,10.0.1.0/24`); from any other peer they are replaced. `X-Forwarded-Host` is never believed",
    ),
    logLevel: setting("LOG_LEVEL", "text", z.enum(LOG_LEVELS).default("info"), "`fatal` … `trace`, or `silent`"),
    shutdownGraceSeconds: setting("SHUTDOWN_GRACE_SECONDS", "integer", int(0, 600).default(20), "longest SIGTERM waits for in-flight requests"),
    consumerNames: setting(
        "CONSUMER_NAMES",
        "json",
        z
            .record(
                z.string().min(1),
                z.string().regex(/^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/, { message: "a consumer name: lowercase letters, digits and '-'" }),
            )
            .refine((m) => Object.keys(m).length <= 1000, { message: "at most 1000 consumers" })
            .superRefine((m, ctx) => {
                for (const [clientId, name] of Object.entries(m))
                    if (name === "unknown")
                        ctx.addIssue({
                            code: "custom",
                            path: [clientId],
                            message: "'unknown' is the label of every undeclared client; name the consumer otherwise",
                        });
            })
            .optional(),
        "JSON `{<client id>: <consumer name>}`: the `consumer` label of the per-consumer metrics (the stack sets it from its consumers); every other client id counts as `unknown`, so the label's values are bounded",
        "",
    ),
    rateLimits: setting(
        "RATE_LIMITS",
        "json",
        rateLimitsSchema.optional(),
        "JSON `{tiers: {<name>: {perSecond?, burst?, perMinute?}}, consumers?: {<client id>: <tier>}, defaultTier?}`: per-consumer limits (above); unset: no consumer is limited",
        "",
    ),
    rateLimitStore: setting(
        "RATE_LIMIT_STORE",
        "text",
        z.enum(RATE_LIMIT_STORES).default("local"),
        "`local` (each container alone, its workers through the primary) or `shared` (the store below)",
    ),
    rateLimitStoreUrl: setting(
        "RATE_LIMIT_STORE_URL",
        "text",
        z
            .string()
            .superRefine((v, ctx) => {
                const problem = storeUrlProblem(v);
                if (problem) ctx.addIssue({ code: "custom", message: problem });
            })
            .optional(),
        "with `shared`: `rediss://host:port` (TLS), or `redis://` on loopback only",
        "",
    ),
    rateLimitStoreTimeoutMs: setting(
        "RATE_LIMIT_STORE_TIMEOUT_MS",
        "integer",
        int(5, 5_000).default(250),
        "longest a store call may take before its requests are decided by the fallback (and the store skipped for a second). Well above the store's own latency (sub-millisecond in the VPC): what it must absorb is the gateway's own event-loop delay under overload, which must not pass for a store outage",
    ),
    rateLimitTasks: setting(
        "RATE_LIMIT_TASKS",
        "integer",
        int(1, 1_000).default(1),
        "gateway tasks sharing the limits, for the fallback share (`limit ÷ tasks`; a task's workers share one set of buckets); more than 1 needs `shared`",
    ),
} as const;

export type SettingName = keyof typeof SETTINGS;
export const SETTING_NAMES = Object.keys(SETTINGS) as SettingName[];

type Shape = { [K in SettingName]: (typeof SETTINGS)[K]["schema"] };
const shape = Object.fromEntries(SETTING_NAMES.map((n) => [n, SETTINGS[n].schema])) as Shape;

/** Every setting's own shape, bounds and default. What spans settings is settingsProblems. */
export const settingsSchema = z.strictObject(shape);

/** The settings as the gateway runs with them: every default applied. */
export type GatewaySettings = z.output<typeof settingsSchema>;
/** The settings as a deployer writes them: defaults may be left out. */
export type GatewaySettingsInput = z.input<typeof settingsSchema>;

/** Whether this validation mode asks the authorization server about tokens, and so needs an introspection client. */
export function needsIntrospectionClient(settings: Pick<GatewaySettings, "tokenValidation">): boolean {
    return settings.tokenValidation !== "jwt";
}

/** A problem that spans settings: the setting it is reported on, a path inside its value, and what is wrong. */
export interface SettingProblem {
    setting: SettingName;
    path?: readonly PropertyKey[];
    message: string;
}

/** How the reader of a problem knows a setting: the gateway by its variable, the stack by its key. */
export type SettingNamer = (setting: SettingName) => string;

/**
 * The rules across settings, on the values that will run (defaults applied). Each message names
 * the other settings it involves through `name`, so the gateway says `RATE_LIMIT_STORE=shared` and
 * the stack says `…:gateway.rateLimits.store=shared`.
 */
export function settingsProblems(s: GatewaySettings, name: SettingNamer): SettingProblem[] {
    const problems: SettingProblem[] = [];
    if (s.apis === undefined && s.upstreamUrl === undefined) problems.push(noApiProblem(name));
    if (s.apis !== undefined) {
        // With APIS each API carries these itself: a gateway-wide value would be silently ignored.
        const apisOwn = (setting: SettingName) =>
            problems.push({ setting, message: `applies to the one-API shorthand only: with ${name("apis")}, set it on each API` });
        if (s.upstreamUrl !== undefined) apisOwn("upstreamUrl");
        if (s.requiredScopes.length > 0) apisOwn("requiredScopes");
        if (s.routeRules.length > 0) apisOwn("routeRules");
        if (s.scopeMatch !== "all") apisOwn("scopeMatch");
        s.apis.forEach((api, i) => {
            if (api.corsAllowedOrigins?.includes("*") && s.corsAllowCredentials)
                problems.push({
                    setting: "apis",
                    path: [i, "corsAllowedOrigins"],
                    message: `cannot be * with ${name("corsAllowCredentials")} true (browsers refuse credentials with a wildcard origin)`,
                });
        });
    }
    if (s.port !== 0 && s.port === s.adminPort) problems.push({ setting: "adminPort", message: `must differ from ${name("port")}` });
    if (s.corsPreflightPassthrough)
        problems.push({
            setting: "corsPreflightPassthrough",
            message: `is removed: preflights forwarded without a token ran the API's protected handlers for any OPTIONS; set ${name("corsAllowedOrigins")} and the gateway answers them itself`,
        });
    if (s.corsAllowCredentials && s.corsAllowedOrigins.includes("*"))
        problems.push({
            setting: "corsAllowCredentials",
            message: `cannot be true with ${name("corsAllowedOrigins")} * (browsers refuse credentials with a wildcard origin)`,
        });
    if (needsIntrospectionClient(s) && s.introspectionClientId === undefined)
        problems.push({ setting: "introspectionClientId", message: `is required with ${name("tokenValidation")}=${s.tokenValidation}` });
    if (s.rateLimits === undefined) {
        if (s.rateLimitStore === "shared" || s.rateLimitStoreUrl !== undefined)
            problems.push({
                setting: "rateLimits",
                message: `is required with ${name("rateLimitStore")}=shared or ${name("rateLimitStoreUrl")} (the tiers and who is in them)`,
            });
        return problems;
    }
    if (s.rateLimitStore === "local") {
        if (s.rateLimitStoreUrl !== undefined) problems.push({ setting: "rateLimitStoreUrl", message: `is only used with ${name("rateLimitStore")}=shared` });
        if (s.rateLimitTasks > 1)
            problems.push({
                setting: "rateLimitTasks",
                message:
                    `is ${s.rateLimitTasks} with ${name("rateLimitStore")}=local, which limits each task on its own: ` +
                    `${s.rateLimitTasks} tasks would allow up to ${s.rateLimitTasks} times each limit; use ${name("rateLimitStore")}=shared (one store every task asks), or one task`,
            });
    } else if (s.rateLimitStoreUrl === undefined) {
        problems.push({ setting: "rateLimitStoreUrl", message: `is required with ${name("rateLimitStore")}=shared (such as rediss://store.example:6379)` });
    }
    return problems;
}

/** Neither UPSTREAM_URL nor APIS: the gateway has nothing to forward to. */
function noApiProblem(name: SettingNamer): SettingProblem {
    return { setting: "upstreamUrl", message: `is required (the API behind the gateway), or declare ${name("apis")}` };
}

/** How a reader names where a problem is: a setting, and a path inside its value. */
export type ProblemKey = (setting: SettingName, path: readonly PropertyKey[]) => string;

export type SettingsCheck =
    | { ok: true; settings: GatewaySettings }
    /** `shape`: a setting's own schema refused it; `rules`: the rules across settings did. */
    | { ok: false; stage: "shape" | "rules"; problems: string[] };

/**
 * The one validation of settings, for every reader (the gateway's environment, the stack file, a
 * target's deployment): each setting's schema with its default, then the rules across settings on
 * the defaulted values; every problem named by `keyOf`.
 */
export function checkSettings(input: unknown, keyOf: ProblemKey): SettingsCheck {
    const parsed = settingsSchema.safeParse(input);
    if (!parsed.success) {
        const problems = parsed.error.issues.map((issue) => {
            const [setting, ...path] = issue.path;
            return `${keyOf(setting as SettingName, path)}: ${describeIssue(issue, input)}`;
        });
        // Named with the other problems at once, though only the rules across settings decide it.
        const given = (input ?? {}) as Partial<Record<SettingName, unknown>>;
        if (given.upstreamUrl === undefined && given.apis === undefined) {
            const p = noApiProblem((s) => keyOf(s, []));
            problems.push(`${keyOf(p.setting, [])}: ${p.message}`);
        }
        return { ok: false, stage: "shape", problems };
    }
    const problems = settingsProblems(parsed.data, (s) => keyOf(s, [])).map((p) => `${keyOf(p.setting, p.path ?? [])}: ${p.message}`);
    return problems.length ? { ok: false, stage: "rules", problems } : { ok: true, settings: parsed.data };
}
