// The zod schemas of this project's config keys, one key at a time: shapes, formats and bounds.
// What spans keys (references, exclusions, Okta's and AWS's combinations) is in rules.ts.
import { z } from "zod";
import { SETTINGS } from "../../policy-gateway/src/config/settings";
import { rateLimitsSchema } from "../../policy-gateway/src/limits/rateLimitPlan";
import { RATE_LIMIT_STORES } from "../../policy-gateway/src/config/contract";
import { PROJECT_KEYS, RESERVED_CLAIMS, STACK_GATEWAY_SETTINGS, TOKEN_LIFETIME_MINUTES, type StackGatewaySetting } from "./spec";

/** Scopes Okta reserves on every authorization server; a custom scope cannot take these names. */
const RESERVED_SCOPES = new Set(["openid", "profile", "email", "address", "phone", "offline_access", "device_sso", "groups"]);

/**
 * Fargate's task sizes: CPU units → the memory (MiB) each allows. Any other pair is refused when
 * the task definition is registered ("No Fargate configuration exists for given values"). AWS:
 * Amazon ECS API Reference, TaskDefinition `memory`; "Troubleshoot Amazon ECS task definition
 * invalid CPU or memory errors" (8192 and 16384 need Linux platform 1.4.0, the LATEST one).
 */
export const FARGATE_TASK_SIZES: Record<number, { min: number; max: number; step: number }> = {
    256: { min: 512, max: 2048, step: 512 },
    512: { min: 1024, max: 4096, step: 1024 },
    1024: { min: 2048, max: 8192, step: 1024 },
    2048: { min: 4096, max: 16384, step: 1024 },
    4096: { min: 8192, max: 30720, step: 1024 },
    8192: { min: 16384, max: 61440, step: 4096 },
    16384: { min: 32768, max: 122880, step: 8192 },
};

/** The memory sizes (MiB) Fargate allows with `cpu` units. */
export function fargateMemoryChoices(cpu: number): number[] {
    const size = FARGATE_TASK_SIZES[cpu];
    if (!size) return [];
    const choices: number[] = [];
    // 256 CPU units take 512, 1024 or 2048, not 1536.
    for (let m = size.min; m <= size.max; m += size.step) if (cpu !== 256 || m !== 1536) choices.push(m);
    return choices;
}

const slug = z.string().regex(/^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/, {
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

/** A DNS host name (lower case): a custom domain or the gateway's name. */
const hostName = z.string().regex(/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, {
    message: "must be a DNS host name such as api.acme.example (lower case, no scheme)",
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

export const scopeSchema = z.strictObject({
    name: scopeName,
    description: z.string().max(1000).optional(),
    displayName: z.string().max(255).optional(),
    default: z.boolean().optional(),
    existingId: z
        .string()
        .regex(/^scp[A-Za-z0-9]+$/, {
            message: "must be an Okta scope id such as scp1a2b3c4d5e6f7g8h9 (Authorization Servers → Scopes, or GET /api/v1/authorizationServers/{id}/scopes)",
        })
        .optional(),
});

export const claimSchema = z.strictObject({
    name: z
        .string()
        .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: "must be a claim name: letters, digits and _" })
        .refine((n) => !RESERVED_CLAIMS.has(n), {
            message: `is reserved by Okta and would be refused at pulumi up (reserved: ${[...RESERVED_CLAIMS].join(", ")})`,
        }),
    value: z.string().min(1, { message: "must not be empty" }),
    valueType: z.enum(["EXPRESSION", "GROUPS"]).optional(),
    /** With valueType GROUPS: how `value` matches group names (okta.auth.ServerClaim groupFilterType). */
    groupFilterType: z.enum(["STARTS_WITH", "EQUALS", "CONTAINS", "REGEX"]).optional(),
    scopes: z.array(z.string()).optional(),
    /**
     * Only `true`: these are access-token claims, which Okta always includes; "Always" versus
     * "Userinfo/id_token request" is a choice for ID-token claims only (Okta Help Center,
     * "Create API access claims": Include in token type).
     */
    alwaysIncludeInToken: z
        .literal(true, {
            message:
                "can only be true: access-token claims are always included in the token; the choice exists for ID-token claims only (Okta: Create API access claims, Include in token type)",
        })
        .optional(),
});

export const serverSchema = z.strictObject({
    existingId: z
        .string()
        .regex(/^[A-Za-z0-9]+$/, { message: "must be an authorization server id such as aus1a2b3c4d5e6f7g8h9 or default" })
        .optional(),
    name: z.string().min(1).max(100).optional(),
    description: z.string().max(1000).optional(),
    audience: audience.optional(),
    issuerMode: z.enum(["ORG_URL", "CUSTOM_URL", "DYNAMIC"]).optional(),
    customDomain: hostName.optional(),
    /** The custom domain's Okta id, by which it is read (a read by name fails in the provider). */
    customDomainId: z
        .string()
        .regex(/^[A-Za-z0-9]{10,40}$/, {
            message:
                "must be the custom domain's Okta id such as OcD1a2b3c4d5e6f7g8h9 (GET /api/v1/domains lists each domain's id and name), not its host name",
        })
        .optional(),
    /** Set by the user, after deactivating the adopted server's "Default Policy" (ALL_CLIENTS). */
    defaultPolicyDeactivated: z.boolean().optional(),
    accessTokenLifetimeMinutes: lifetime.optional(),
    scopes: z.array(scopeSchema).min(1, { message: "must declare at least one scope" }),
    claims: z.array(claimSchema).optional(),
});

export const jwkSchema = z.strictObject({
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

export const consumerSchema = z.strictObject({
    name: slug,
    label: z.string().min(1).max(100).optional(),
    description: z.string().max(1000).optional(),
    scopes: z.array(z.string()).min(1, { message: "must list at least one scope: a consumer with no scope has no reason to exist" }),
    accessTokenLifetimeMinutes: lifetime.optional(),
    jwks: z.strictObject({ keys: z.array(jwkSchema).min(1, { message: "must hold at least one public key" }) }).optional(),
    /** Or the consumer's published JWKS, which Okta fetches (every member of each key reaches it). */
    jwksUri: z
        .string()
        .refine((v) => URL.canParse(v) && new URL(v).protocol === "https:", { message: "must be the https URL of the consumer's published JWKS" })
        .optional(),
    allowReplacement: z.boolean().optional(),
    existingAppId: z
        .string()
        .regex(/^0oa[A-Za-z0-9]+$/, { message: "must be an Okta app id such as 0oa1a2b3c4d5e6f7g8h9 (the app's General tab, or GET /api/v1/apps?q=<label>)" })
        .optional(),
    readers: z.array(z.string().min(1)).min(1, { message: "must name at least one reader" }).optional(),
    /** The rate-limit tier (gateway.rateLimits.tiers) this consumer is held to. */
    tier: z.string().optional(),
});

export const credentialDeliverySchema = z.strictObject({
    method: z.enum(["esc", "awsSecretsManager", "stackOutputs"]),
    esc: z
        .strictObject({
            organization: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, { message: "must be a Pulumi Cloud organization name" }),
            project: z
                .string()
                .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, { message: "must be an ESC project name: letters, digits, '-', '_' or '.'" })
                .optional(),
            /** Pulumi Cloud teams that read the API's published facts (issuer, JWKS URL, gateway URL, security schemes): nothing secret. */
            apiReaders: z.array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, { message: "must be a Pulumi Cloud team name" })).optional(),
        })
        .optional(),
    awsSecretsManager: z
        .strictObject({
            namePrefix: z
                .string()
                .regex(/^[A-Za-z0-9/_+=.@-]*$/, { message: "must be letters, digits or /_+=.@- (a Secrets Manager name prefix)" })
                .optional(),
            recoveryWindowInDays: z
                .number()
                .int()
                .refine((d) => d === 0 || (d >= 7 && d <= 30), { message: "must be 0 (delete at once) or 7 to 30 days" })
                .optional(),
        })
        .optional(),
});

/** Pulumi Cloud team names (ESC readers). */
export const ESC_TEAM = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
/** IAM principals a resource policy can name: an account root, a role or a user. */
export const IAM_PRINCIPAL = /^arn:aws[a-z-]*:iam::\d{12}:(root|role\/[\w+=,.@\/-]+|user\/[\w+=,.@\/-]+)$/;

const port = z.number().int().min(1).max(65535);
const subnetIds = z
    .array(z.string().regex(/^subnet-[0-9a-f]+$/, { message: "must be a subnet id (subnet-…)" }))
    .min(2, { message: "must name at least two subnets in different availability zones (a load balancer needs two)" });

function isIpv4Cidr(cidr: string): boolean {
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
    return m !== null && m.slice(1, 5).every((o) => Number(o) <= 255) && Number(m[5]) <= 32;
}

/** RFC 1918 (and RFC 6598 shared) ranges: a CIDR inside one reaches only private addresses. */
export function isPrivateCidr(cidr: string): boolean {
    const [a, b] = cidr.split(".").map(Number);
    const prefix = Number(cidr.split("/")[1]);
    return (
        (a === 10 && prefix >= 8) ||
        (a === 172 && b >= 16 && b <= 31 && prefix >= 12) ||
        (a === 192 && b === 168 && prefix >= 16) ||
        (a === 100 && b >= 64 && b <= 127 && prefix >= 10)
    );
}
const CLOUDWATCH_RETENTION = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

type PickedShape = { [K in StackGatewaySetting]: (typeof SETTINGS)[K]["schema"] };
/** The gateway's own schemas (defaults included) of the settings a stack file may set. */
const pickedSettings = Object.fromEntries(STACK_GATEWAY_SETTINGS.map((n) => [n, SETTINGS[n].schema])) as PickedShape;

export const gatewaySchema = z.strictObject({
    target: z.enum(["local", "aws"]),
    ...pickedSettings,
    rateLimits: z
        .strictObject({
            tiers: rateLimitsSchema.shape.tiers,
            defaultTier: z.string().optional(),
            /** Default: shared on target aws (the store the stack declares), local on target local. */
            store: z.enum(RATE_LIMIT_STORES).optional(),
        })
        .optional(),
    local: z.strictObject({ port: port.optional(), adminPort: port.optional() }).optional(),
    aws: z
        .strictObject({
            vpcId: z
                .string()
                .regex(/^vpc-[0-9a-f]+$/, { message: "must be a VPC id (vpc-…)" })
                .optional(),
            loadBalancerSubnetIds: subnetIds.optional(),
            taskSubnetIds: subnetIds.optional(),
            internal: z.boolean().optional(),
            domainName: hostName.optional(),
            hostedZoneId: z
                .string()
                .regex(/^Z[A-Z0-9]{1,31}$/, { message: "must be a Route 53 hosted zone id (Z…)" })
                .optional(),
            certificateArn: z
                .string()
                .regex(/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[A-Za-z0-9-]+$/, { message: "must be an ACM certificate ARN" })
                .optional(),
            allowedCidrs: z
                .array(z.string().refine(isIpv4Cidr, { message: "must be an IPv4 CIDR such as 10.0.0.0/8" }))
                .min(1)
                .optional(),
            assignPublicIp: z.boolean().optional(),
            deploymentTimeoutMinutes: z.number().int().min(5).max(120).optional(),
            alarmTopicArn: z
                .string()
                .regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]+$/, { message: "must be an SNS topic ARN" })
                .optional(),
            alarms: z
                .strictObject({
                    targetResponseTimeP99Seconds: z.number().positive().max(60).optional(),
                    http5xxPerMinute: z.number().int().min(1).optional(),
                    cpuPercent: z.number().int().min(10).max(100).optional(),
                    /** Per API: 401s, 403s, 429s as a percentage of its requests. */
                    unauthorizedPercent: z.number().positive().max(100).optional(),
                    forbiddenPercent: z.number().positive().max(100).optional(),
                    tooManyRequestsPercent: z.number().positive().max(100).optional(),
                    /** Below this many requests a minute, an API's percentages raise no alarm. */
                    minRequestsPerMinute: z.number().int().min(1).optional(),
                    introspectionErrorsPerMinute: z.number().int().min(1).optional(),
                    authorizationServer429sPerMinute: z.number().int().min(1).optional(),
                })
                .optional(),
            minCapacity: z.number().int().min(1).max(100).optional(),
            maxCapacity: z.number().int().min(1).max(100).optional(),
            targetCpuPercent: z.number().int().min(10).max(90).optional(),
            cpu: z
                .number()
                .int()
                .refine((c) => Object.hasOwn(FARGATE_TASK_SIZES, c), { message: `must be a Fargate CPU size: ${Object.keys(FARGATE_TASK_SIZES).join(", ")}` })
                .optional(),
            memory: z.number().int().optional(),
            /** The tasks' CPU architecture: X86_64, or ARM64 (Graviton); the image is built for it. */
            cpuArchitecture: z.enum(["X86_64", "ARM64"]).optional(),
            rateLimitStoreNodeType: z
                .string()
                .regex(/^cache\.[a-z0-9]+\.[a-z0-9]+$/, { message: "must be an ElastiCache node type such as cache.t4g.micro" })
                .optional(),
            logRetentionDays: z
                .number()
                .int()
                .refine((d) => CLOUDWATCH_RETENTION.includes(d), {
                    message: "must be a CloudWatch retention: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, …",
                })
                .optional(),
        })
        .optional(),
});

export const introspectionClientSchema = z.strictObject({
    label: z.string().min(1).max(100).optional(),
    /** private_key_jwt (default: no shared secret) or client_secret_basic. */
    authMethod: z.enum(["private_key_jwt", "client_secret_basic"]).optional(),
    /** Key pairs by id, newest last; two during a rotation. */
    keyIds: z.array(slug).min(1).max(2, { message: "lists at most two keys: the current one and, during a rotation, the next" }).optional(),
});

export const PRIVATE_JWK_MEMBERS = ["d", "p", "q", "dp", "dq", "qi"];

/**
 * The schemas of this project's config keys, by key: what `scripts/stackSchema.ts` turns into
 * the JSON Schema editors use to complete and check stack files. The cross-key rules and Okta's
 * own checks are only in validateStackConfig, so the preview remains the authority.
 */
export const productionSchema = z.boolean({ message: "must be true or false" });

export const PROJECT_KEY_SCHEMAS: Record<(typeof PROJECT_KEYS)[number], z.ZodType> = {
    production: productionSchema,
    authorizationServer: serverSchema,
    consumers: z.array(consumerSchema).min(1),
    credentialDelivery: credentialDeliverySchema,
    introspectionClient: introspectionClientSchema,
    gateway: gatewaySchema,
};
