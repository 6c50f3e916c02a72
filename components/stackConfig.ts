// The stack's configuration: read in one place, validated as a whole before any resource is
// declared. Every problem is reported at once, each naming the exact config key, so that a
// broken stack file costs one `pulumi preview`, not one per mistake.
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { compileRules, type RouteRule } from "../policy-gateway/src/routeRules";

export const TOKEN_LIFETIME_MINUTES = { min: 5, max: 1440, default: 60 } as const;

/** Scopes Okta reserves on every authorization server; a custom scope cannot take these names. */
const RESERVED_SCOPES = new Set([
    "openid", "profile", "email", "address", "phone", "offline_access", "device_sso", "groups",
]);

export interface ScopeSpec {
    name: string;
    description: string;
    displayName?: string;
    /** Granted when a client asks for no scope. Off by default: clients should ask explicitly. */
    default: boolean;
}

export interface ClaimSpec {
    name: string;
    /** An Okta expression (valueType EXPRESSION), e.g. `app.profile.team`, or a group filter. */
    value: string;
    valueType: "EXPRESSION" | "GROUPS";
    scopes?: string[];
    alwaysIncludeInToken: boolean;
}

export interface PublicJwk {
    kid: string;
    kty: "RSA" | "EC";
    n?: string;
    e?: string;
    x?: string;
    y?: string;
}

export interface ConsumerSpec {
    /** A slug: used in resource names and as the key of the stack outputs. */
    name: string;
    label: string;
    description: string;
    scopes: string[];
    accessTokenLifetimeMinutes: number;
    /** Okta group ids to assign the app to; undefined means Okta's Everyone group. */
    groups?: string[];
    /** Public keys: present means `private_key_jwt`, absent means `client_secret_basic`. */
    jwks?: PublicJwk[];
}

export type AuthorizationServerSpec =
    | {
          kind: "create";
          name: string;
          description: string;
          audience: string;
          issuerMode: "ORG_URL" | "CUSTOM_URL" | "DYNAMIC";
          protect: boolean;
      }
    | { kind: "existing"; id: string };

/** Fargate's valid CPU units → memory (MiB) ranges. */
const FARGATE_MEMORY: Record<number, [number, number]> = { 256: [512, 2048], 512: [1024, 4096], 1024: [2048, 8192], 2048: [4096, 16384], 4096: [8192, 30720] };

export interface GatewaySpec {
    target: "local" | "aws";
    upstreamUrl: string;
    tokenValidation: "introspection" | "jwt" | "hybrid";
    requiredScopes: string[];
    scopeMatch: "all" | "any";
    routeRules: RouteRule[];
    cacheMaxTtlSeconds: number;
    hideCredentials: boolean;
    logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace";
    local: { port: number; adminPort: number };
    aws: {
        vpcId?: string;
        subnetIds?: string[];
        certificateArn?: string;
        allowedCidrs: string[];
        assignPublicIp: boolean;
        minCapacity: number;
        maxCapacity: number;
        targetCpuPercent: number;
        cpu: number;
        memory: number;
        logRetentionDays: number;
    };
}

export interface StackConfig {
    project: string;
    stack: string;
    okta: { orgName: string; baseUrl: string; orgUrl: string };
    authorizationServer: AuthorizationServerSpec;
    scopes: ScopeSpec[];
    claims: ClaimSpec[];
    consumers: ConsumerSpec[];
    introspectionClient: { label: string };
    /** The gateway deployment; absent: Okta only (e.g. teams still enforcing tokens in Anypoint). */
    gateway?: GatewaySpec;
}

/** Raw values as they come from the stack: untyped, possibly absent. */
export interface RawStackConfig {
    authorizationServer?: unknown;
    consumers?: unknown;
    introspectionClient?: unknown;
    gateway?: unknown;
    okta: {
        orgName?: string;
        baseUrl?: string;
        hasApiToken: boolean;
        hasPrivateKey: boolean;
        clientId?: string;
        scopes?: unknown;
    };
}

export class StackConfigError extends pulumi.RunError {
    constructor(readonly problems: string[]) {
        super(
            `Invalid stack configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}); ` +
                `nothing was declared:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
        );
        this.name = "StackConfigError";
    }
}

const slug = z
    .string()
    .regex(/^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/, {
        message: "must be 1-40 lowercase letters, digits or '-', starting and ending with a letter or digit",
    });

const scopeName = z
    .string()
    .min(1, { message: "must not be empty" })
    .max(255)
    .regex(/^[A-Za-z0-9._:/-]+$/, { message: "must be letters, digits or . _ : / - (no spaces)" })
    .refine((s) => !RESERVED_SCOPES.has(s) && !s.startsWith("okta."), {
        message: "is reserved by Okta (openid, profile, email, address, phone, offline_access, device_sso, groups, okta.*)",
    });

const lifetime = z
    .number({ message: `must be a whole number of minutes from ${TOKEN_LIFETIME_MINUTES.min} to ${TOKEN_LIFETIME_MINUTES.max}` })
    .int({ message: `must be a whole number of minutes from ${TOKEN_LIFETIME_MINUTES.min} to ${TOKEN_LIFETIME_MINUTES.max}` })
    .min(TOKEN_LIFETIME_MINUTES.min, { message: `must be at least ${TOKEN_LIFETIME_MINUTES.min} minutes (Okta's minimum)` })
    .max(TOKEN_LIFETIME_MINUTES.max, { message: `must be at most ${TOKEN_LIFETIME_MINUTES.max} minutes (Okta's maximum, one day)` });

/** An audience is a URI with a scheme (`api://products`, `https://api.example.com`), no spaces. */
const audience = z
    .string()
    .max(1024)
    .refine((s) => /^[A-Za-z][A-Za-z0-9+.-]*:\S+$/.test(s) && URL.canParse(s), {
        message: "must be an absolute URI without spaces, such as api://products or https://api.example.com",
    });

const scopeSchema = z.strictObject({
    name: scopeName,
    description: z.string().max(1000).optional(),
    displayName: z.string().max(255).optional(),
    default: z.boolean().optional(),
});

const claimSchema = z.strictObject({
    name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: "must be a claim name: letters, digits and _" }),
    value: z.string().min(1, { message: "must not be empty" }),
    valueType: z.enum(["EXPRESSION", "GROUPS"]).optional(),
    scopes: z.array(z.string()).optional(),
    alwaysIncludeInToken: z.boolean().optional(),
});

const serverSchema = z.strictObject({
    existingId: z.string().regex(/^[A-Za-z0-9]+$/, { message: "must be an authorization server id such as aus1a2b3c4d5e6f7g8h9 or default" }).optional(),
    name: z.string().min(1).max(100).optional(),
    description: z.string().max(1000).optional(),
    audience: audience.optional(),
    issuerMode: z.enum(["ORG_URL", "CUSTOM_URL", "DYNAMIC"]).optional(),
    protect: z.boolean().optional(),
    accessTokenLifetimeMinutes: lifetime.optional(),
    scopes: z.array(scopeSchema).min(1, { message: "must declare at least one scope" }),
    claims: z.array(claimSchema).optional(),
});

const jwkSchema = z.strictObject({
    kid: z.string().min(1),
    kty: z.enum(["RSA", "EC"]),
    alg: z.string().optional(),
    use: z.literal("sig").optional(),
    n: z.string().optional(),
    e: z.string().optional(),
    x: z.string().optional(),
    y: z.string().optional(),
    crv: z.string().optional(),
});

const consumerSchema = z.strictObject({
    name: slug,
    label: z.string().min(1).max(100).optional(),
    description: z.string().max(1000).optional(),
    scopes: z.array(z.string()).min(1, { message: "must list at least one scope: a consumer with no scope has no reason to exist" }),
    accessTokenLifetimeMinutes: lifetime.optional(),
    groups: z.array(z.string().regex(/^00g[A-Za-z0-9]+$/, { message: "must be an Okta group id (00g…)" })).min(1).optional(),
    jwks: z.strictObject({ keys: z.array(jwkSchema).min(1, { message: "must hold at least one public key" }) }).optional(),
});

const port = z.number().int().min(1).max(65535);
const CLOUDWATCH_RETENTION = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

const gatewaySchema = z.strictObject({
    target: z.enum(["local", "aws"]),
    upstreamUrl: z.string().refine((v) => URL.canParse(v) && /^https?:$/.test(new URL(v).protocol), { message: "must be the API's http(s) URL, as the gateway will reach it" }),
    tokenValidation: z.enum(["introspection", "jwt", "hybrid"]).optional(),
    requiredScopes: z.array(z.string()).optional(),
    scopeMatch: z.enum(["all", "any"]).optional(),
    routeRules: z.array(z.unknown()).optional(),
    cacheMaxTtlSeconds: z.number().int().min(0).max(3600).optional(),
    hideCredentials: z.boolean().optional(),
    logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace"]).optional(),
    local: z.strictObject({ port: port.optional(), adminPort: port.optional() }).optional(),
    aws: z
        .strictObject({
            vpcId: z.string().regex(/^vpc-[0-9a-f]+$/, { message: "must be a VPC id (vpc-…)" }).optional(),
            subnetIds: z.array(z.string().regex(/^subnet-[0-9a-f]+$/, { message: "must be a subnet id (subnet-…)" })).min(2, { message: "must name at least two subnets (an ALB needs two availability zones)" }).optional(),
            certificateArn: z.string().regex(/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[A-Za-z0-9-]+$/, { message: "must be an ACM certificate ARN" }).optional(),
            allowedCidrs: z.array(z.string().regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, { message: "must be an IPv4 CIDR such as 10.0.0.0/8" })).min(1).optional(),
            assignPublicIp: z.boolean().optional(),
            minCapacity: z.number().int().min(1).max(100).optional(),
            maxCapacity: z.number().int().min(1).max(100).optional(),
            targetCpuPercent: z.number().int().min(10).max(90).optional(),
            cpu: z.number().int().refine((c) => c in FARGATE_MEMORY, { message: "must be a Fargate CPU size: 256, 512, 1024, 2048 or 4096" }).optional(),
            memory: z.number().int().optional(),
            logRetentionDays: z.number().int().refine((d) => CLOUDWATCH_RETENTION.includes(d), { message: "must be a CloudWatch retention: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, …" }).optional(),
        })
        .optional(),
});

const introspectionClientSchema = z.strictObject({ label: z.string().min(1).max(100).optional() });

const PRIVATE_JWK_MEMBERS = ["d", "p", "q", "dp", "dq", "qi"];

function describeIssue(key: string, issue: z.core.$ZodIssue, raw: unknown): string {
    const where = key + formatPath(issue.path);
    if (issue.code === "unrecognized_keys") {
        return `${where}: unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `'${k}'`).join(", ")}`;
    }
    if (issue.code === "invalid_type" && valueAt(raw, issue.path) === undefined) {
        return `${where}: is required (expected ${issue.expected})`;
    }
    return `${where}: ${issue.message}`;
}

function formatPath(path: readonly PropertyKey[]): string {
    return path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("");
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
    let v: unknown = root;
    for (const p of path) {
        if (v === null || typeof v !== "object") return undefined;
        v = (v as Record<PropertyKey, unknown>)[p];
    }
    return v;
}

function parseKey<T>(schema: z.ZodType<T>, key: string, raw: unknown, problems: string[]): T | undefined {
    const result = schema.safeParse(raw);
    if (result.success) return result.data;
    for (const issue of result.error.issues) problems.push(describeIssue(key, issue, raw));
    return undefined;
}

/** Names given more than once in a raw list of `{name}` entries, whatever else is wrong with them. */
function duplicateNames(entries: unknown): Map<string, number[]> {
    if (!Array.isArray(entries)) return new Map();
    const names = entries.map((e) => valueAt(e, ["name"]));
    return new Map([...duplicates(names.map((n) => (typeof n === "string" ? n : "")))].filter(([n]) => n !== ""));
}

function isStringArray(v: unknown): v is string[] {
    return Array.isArray(v) && v.every((x) => typeof x === "string");
}

function duplicates(values: string[]): Map<string, number[]> {
    const seen = new Map<string, number[]>();
    values.forEach((v, i) => seen.set(v, [...(seen.get(v) ?? []), i]));
    return new Map([...seen].filter(([, at]) => at.length > 1));
}

/**
 * Validates the raw stack configuration. Pure: the same input always gives the same result,
 * so each rule is unit-tested without a Pulumi engine.
 */
export function validateStackConfig(raw: RawStackConfig, ctx: { project: string; stack: string }): StackConfig {
    const problems: string[] = [];
    const ns = ctx.project;
    const k = (key: string) => `${ns}:${key}`;

    // --- Okta provider settings (namespace `okta:`), or the environment variables the provider reads.
    const orgName = raw.okta.orgName;
    if (!orgName) problems.push("okta:orgName: is required (your Okta org's subdomain, e.g. dev-123456; or set OKTA_ORG_NAME)");
    else if (!/^[A-Za-z0-9][A-Za-z0-9-]*$/.test(orgName)) problems.push(`okta:orgName: must be the org's subdomain only, such as dev-123456 (not a URL)`);
    const baseUrl = raw.okta.baseUrl;
    if (!baseUrl) problems.push("okta:baseUrl: is required (okta.com, oktapreview.com or okta-emea.com; or set OKTA_BASE_URL)");
    else if (!/^[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(baseUrl)) problems.push(`okta:baseUrl: must be a domain such as okta.com, without scheme or path`);
    if (raw.okta.hasApiToken && raw.okta.hasPrivateKey) {
        problems.push("okta:apiToken and okta:privateKey: set only one way of authenticating the provider (OAuth 2.0 private key is recommended)");
    } else if (!raw.okta.hasApiToken && !raw.okta.hasPrivateKey) {
        problems.push(
            "okta:privateKey: the Okta provider has no credentials; set `pulumi config set --secret okta:privateKey` with okta:clientId and okta:scopes " +
                "(recommended), or `pulumi config set --secret okta:apiToken` (or the OKTA_API_PRIVATE_KEY / OKTA_API_TOKEN environment variables)",
        );
    } else if (raw.okta.hasPrivateKey) {
        if (!raw.okta.clientId) problems.push("okta:clientId: is required with okta:privateKey (the client id of the Okta API service app)");
        const scopes = raw.okta.scopes;
        if (!Array.isArray(scopes) || scopes.length === 0 || !scopes.every((s) => typeof s === "string" && s.startsWith("okta."))) {
            problems.push('okta:scopes: is required with okta:privateKey: a list of Okta management scopes, e.g. ["okta.apps.manage","okta.authorizationServers.manage","okta.groups.read"]');
        }
    }

    // --- Each key parsed on its own, so a mistake in one does not hide those in another.
    const server = parseKey(serverSchema, k("authorizationServer"), raw.authorizationServer, problems);
    const introspection = parseKey(introspectionClientSchema.optional(), k("introspectionClient"), raw.introspectionClient, problems);
    const gateway = parseKey(gatewaySchema.optional(), k("gateway"), raw.gateway, problems);

    const consumersRaw = raw.consumers;
    const consumers: z.infer<typeof consumerSchema>[] = [];
    const consumerIndex: number[] = [];
    if (!Array.isArray(consumersRaw) || consumersRaw.length === 0) {
        problems.push(`${k("consumers")}: is required: a list of at least one consuming system ({name, scopes})`);
    } else {
        consumersRaw.forEach((c, i) => {
            const jwks = valueAt(c, ["jwks", "keys"]);
            if (Array.isArray(jwks)) {
                jwks.forEach((key, j) => {
                    const leaked = PRIVATE_JWK_MEMBERS.filter((m) => key !== null && typeof key === "object" && m in key);
                    if (leaked.length) problems.push(`${k("consumers")}[${i}].jwks.keys[${j}]: holds private key material (${leaked.join(", ")}); give the public key only, and rotate this key`);
                });
            }
            const parsed = parseKey(consumerSchema, `${k("consumers")}[${i}]`, c, problems);
            if (parsed) {
                consumers.push(parsed);
                consumerIndex.push(i);
            }
        });
    }

    // --- Rules across keys.
    if (server) {
        if (server.existingId !== undefined) {
            for (const only of ["name", "description", "audience", "issuerMode", "protect"] as const) {
                if (server[only] !== undefined) {
                    problems.push(`${k("authorizationServer")}.${only}: applies only to a server this stack creates; remove it, or remove existingId`);
                }
            }
        } else if (server.audience === undefined) {
            problems.push(`${k("authorizationServer")}.audience: is required (the API's audience, e.g. api://products), unless existingId names an existing server`);
        }
    }
    // Scope references and names are checked on the raw values, so that a mistake elsewhere in an
    // entry (a bad lifetime, say) does not hide a wrong scope or a duplicate name in the same run.
    const declaredScopes = z.array(scopeSchema).safeParse(valueAt(raw.authorizationServer, ["scopes"]));
    const declared = new Set(declaredScopes.success ? declaredScopes.data.map((s) => s.name) : []);
    const declaredList = [...declared].join(", ");
    const checkScopeRefs = (scopes: unknown, at: string) => {
        if (!declaredScopes.success || !isStringArray(scopes)) return; // already reported
        scopes.forEach((s, j) => {
            if (!declared.has(s)) problems.push(`${at}[${j}]: "${s}" is not a scope declared in ${k("authorizationServer")}.scopes (declared: ${declaredList})`);
        });
        for (const [name] of duplicates(scopes)) problems.push(`${at}: "${name}" is listed more than once`);
    };
    for (const [name, at] of duplicateNames(valueAt(raw.authorizationServer, ["scopes"]))) {
        problems.push(`${k("authorizationServer")}.scopes[${at[1]}].name: "${name}" is declared more than once (also at scopes[${at[0]}])`);
    }
    const rawClaims = valueAt(raw.authorizationServer, ["claims"]);
    if (Array.isArray(rawClaims)) rawClaims.forEach((c, i) => checkScopeRefs(valueAt(c, ["scopes"]), `${k("authorizationServer")}.claims[${i}].scopes`));
    if (Array.isArray(consumersRaw)) consumersRaw.forEach((c, i) => checkScopeRefs(valueAt(c, ["scopes"]), `${k("consumers")}[${i}].scopes`));
    for (const [name, at] of duplicateNames(consumersRaw)) {
        problems.push(`${k("consumers")}[${at[1]}].name: "${name}" is also the name of consumers[${at[0]}]; names must be unique`);
    }
    consumers.forEach((c, i) =>
        c.jwks?.keys.forEach((key, j) => {
            const need = key.kty === "RSA" ? (["n", "e"] as const) : (["x", "y"] as const);
            for (const m of need) if (!key[m]) problems.push(`${k("consumers")}[${consumerIndex[i]}].jwks.keys[${j}].${m}: is required for a ${key.kty} key`);
        }),
    );

    let routeRules: RouteRule[] = [];
    if (gateway) {
        checkScopeRefs(gateway.requiredScopes, `${k("gateway")}.requiredScopes`);
        if (gateway.routeRules) {
            try {
                // The gateway's own rule compiler: a rule that would stop the container stops the preview instead.
                routeRules = compileRules(gateway.routeRules, `${k("gateway")}.routeRules`).map((r) => r.source);
                routeRules.forEach((r, i) => checkScopeRefs(r.scopes, `${k("gateway")}.routeRules[${i}].scopes`));
            } catch (e) {
                problems.push((e as Error).message);
            }
        }
        const local = gateway.local;
        if (local?.port !== undefined && local.port === local.adminPort) problems.push(`${k("gateway")}.local.adminPort: must differ from local.port`);
        const aws = gateway.aws;
        if (aws) {
            if (aws.vpcId && !aws.subnetIds) problems.push(`${k("gateway")}.aws.subnetIds: is required with vpcId (the subnets the load balancer and tasks use)`);
            if (aws.subnetIds && !aws.vpcId) problems.push(`${k("gateway")}.aws.vpcId: is required with subnetIds`);
            if ((aws.minCapacity ?? 2) > (aws.maxCapacity ?? 6)) problems.push(`${k("gateway")}.aws.minCapacity: must not exceed maxCapacity`);
            const cpu = aws.cpu ?? 512;
            const [lo, hi] = FARGATE_MEMORY[cpu] ?? [0, 0];
            const memory = aws.memory ?? Math.max(1024, lo);
            if (FARGATE_MEMORY[cpu] && (memory < lo || memory > hi || memory % 1024 !== 0 && memory !== 512)) {
                problems.push(`${k("gateway")}.aws.memory: ${memory} MiB is not valid with ${cpu} CPU units on Fargate (${lo}-${hi} MiB, in whole GiB)`);
            }
        }
        if (gateway.target === "aws" && gateway.local) problems.push(`${k("gateway")}.local: applies only to target local`);
        if (gateway.target === "local" && gateway.aws) problems.push(`${k("gateway")}.aws: applies only to target aws`);
    }

    if (problems.length > 0 || !server || !orgName || !baseUrl) throw new StackConfigError(problems);

    const defaultLifetime = server.accessTokenLifetimeMinutes ?? TOKEN_LIFETIME_MINUTES.default;
    return {
        project: ctx.project,
        stack: ctx.stack,
        okta: { orgName, baseUrl, orgUrl: `https://${orgName}.${baseUrl}` },
        authorizationServer:
            server.existingId !== undefined
                ? { kind: "existing", id: server.existingId }
                : {
                      kind: "create",
                      name: server.name ?? `${ctx.project}-${ctx.stack}`,
                      description: server.description ?? `API access for ${ctx.project} (${ctx.stack}), managed by Pulumi`,
                      audience: server.audience as string,
                      issuerMode: server.issuerMode ?? "ORG_URL",
                      protect: server.protect ?? false,
                  },
        scopes: server.scopes.map((s) => ({
            name: s.name,
            description: s.description ?? s.name,
            displayName: s.displayName,
            default: s.default ?? false,
        })),
        claims: (server.claims ?? []).map((c) => ({
            name: c.name,
            value: c.value,
            valueType: c.valueType ?? "EXPRESSION",
            scopes: c.scopes,
            alwaysIncludeInToken: c.alwaysIncludeInToken ?? true,
        })),
        consumers: consumers.map((c) => ({
            name: c.name,
            label: c.label ?? `${c.name} (${ctx.stack})`,
            description: c.description ?? `Client credentials for ${c.name}`,
            scopes: c.scopes,
            accessTokenLifetimeMinutes: c.accessTokenLifetimeMinutes ?? defaultLifetime,
            groups: c.groups,
            jwks: c.jwks?.keys.map(({ kid, kty, n, e, x, y }) => ({ kid, kty, n, e, x, y })),
        })),
        introspectionClient: { label: introspection?.label ?? `Token Introspection Client (${ctx.stack})` },
        gateway: gateway && {
            target: gateway.target,
            upstreamUrl: gateway.upstreamUrl,
            tokenValidation: gateway.tokenValidation ?? "introspection",
            requiredScopes: gateway.requiredScopes ?? [],
            scopeMatch: gateway.scopeMatch ?? "all",
            routeRules,
            cacheMaxTtlSeconds: gateway.cacheMaxTtlSeconds ?? 60,
            hideCredentials: gateway.hideCredentials ?? false,
            logLevel: gateway.logLevel ?? "info",
            local: { port: gateway.local?.port ?? 8080, adminPort: gateway.local?.adminPort ?? 9090 },
            aws: {
                vpcId: gateway.aws?.vpcId,
                subnetIds: gateway.aws?.subnetIds,
                certificateArn: gateway.aws?.certificateArn,
                allowedCidrs: gateway.aws?.allowedCidrs ?? ["0.0.0.0/0"],
                assignPublicIp: gateway.aws?.assignPublicIp ?? gateway.aws?.vpcId === undefined,
                minCapacity: gateway.aws?.minCapacity ?? 2,
                maxCapacity: gateway.aws?.maxCapacity ?? 6,
                targetCpuPercent: gateway.aws?.targetCpuPercent ?? 60,
                cpu: gateway.aws?.cpu ?? 512,
                memory: gateway.aws?.memory ?? 1024,
                logRetentionDays: gateway.aws?.logRetentionDays ?? 30,
            },
        },
    };
}

/** Where raw config values come from: the Pulumi engine, or (in tests) a stack file. */
export interface ConfigSource {
    /** The value of `namespace:key` as the engine hands it over: text, JSON text for structured values. */
    get(namespace: string, key: string): string | undefined;
    /** Whether a secret value is set; the value itself is never read by this program. */
    hasSecret(namespace: string, key: string): boolean;
}

export function pulumiConfigSource(): ConfigSource {
    return {
        get: (ns, key) => new pulumi.Config(ns).get(key),
        hasSecret: (ns, key) => new pulumi.Config(ns).getSecret(key) !== undefined,
    };
}

/** Structured values come as JSON text; a plain string that is not JSON stays a string. */
function structured(text: string | undefined): unknown {
    if (text === undefined) return undefined;
    try {
        return JSON.parse(text);
    } catch {
        return text;
    }
}

/** Reads the stack's raw configuration (and the environment variables the Okta provider reads). */
export function readRawStackConfig(source: ConfigSource, project: string, env: NodeJS.ProcessEnv = process.env): RawStackConfig {
    return {
        authorizationServer: structured(source.get(project, "authorizationServer")),
        consumers: structured(source.get(project, "consumers")),
        introspectionClient: structured(source.get(project, "introspectionClient")),
        gateway: structured(source.get(project, "gateway")),
        okta: {
            orgName: source.get("okta", "orgName") ?? env.OKTA_ORG_NAME,
            baseUrl: source.get("okta", "baseUrl") ?? env.OKTA_BASE_URL,
            hasApiToken: source.hasSecret("okta", "apiToken") || !!env.OKTA_API_TOKEN,
            hasPrivateKey: source.hasSecret("okta", "privateKey") || !!env.OKTA_API_PRIVATE_KEY,
            clientId: source.get("okta", "clientId") ?? env.OKTA_API_CLIENT_ID,
            scopes: structured(source.get("okta", "scopes")) ?? env.OKTA_API_SCOPES?.split(","),
        },
    };
}

/** Reads and validates the running stack's configuration; throws a StackConfigError listing every problem. */
export function loadStackConfig(): StackConfig {
    const project = pulumi.getProject();
    return validateStackConfig(readRawStackConfig(pulumiConfigSource(), project), { project, stack: pulumi.getStack() });
}
