// Validation of the raw configuration as a whole: each key parsed with its schema, then the
// rules across keys, then the defaults. Pure: the same input always gives the same result, and
// every problem is reported at once, naming its config key.
import { z } from "zod";
import { compileRules, type RouteRule } from "../../policy-gateway/src/routeRules";
import {
    consumerSchema,
    credentialDeliverySchema,
    ESC_TEAM,
    FARGATE_MEMORY,
    gatewaySchema,
    IAM_PRINCIPAL,
    introspectionClientSchema,
    isPrivateCidr,
    PRIVATE_JWK_MEMBERS,
    scopeSchema,
    serverSchema,
} from "./schema";
import {
    PROJECT_KEYS,
    StackConfigError,
    TOKEN_LIFETIME_MINUTES,
    type AwsGatewaySpec,
    type CredentialDeliverySpec,
    type OktaCredential,
    type RawStackConfig,
    type StackConfig,
} from "./spec";

function describeIssue(key: string, issue: z.core.$ZodIssue, raw: unknown): string {
    const where = key + formatPath(issue.path);
    if (issue.code === "unrecognized_keys") {
        const hint = issue.keys.includes("subnetIds") ? " (subnetIds is split into loadBalancerSubnetIds and taskSubnetIds)" : "";
        return `${where}: unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `'${k}'`).join(", ")}${hint}`;
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

/** Levenshtein distance, for "did you mean" on a misspelt key. */
function editDistance(a: string, b: string): number {
    let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        const row = [i];
        for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
        prev = row;
    }
    return prev[b.length];
}

const CREDENTIAL_KEYS: Record<OktaCredential, string> = { privateKey: "okta:privateKey", apiToken: "okta:apiToken", accessToken: "okta:accessToken" };

/**
 * The Okta provider takes exactly one of an OAuth 2.0 private key (with client id and scopes),
 * an SSWS API token, or a bearer access token; it refuses any two together
 * (terraform-provider-okta provider_test.go, TestProviderValidate). Each from config or from its
 * environment variable (OKTA_API_PRIVATE_KEY, OKTA_API_TOKEN, OKTA_ACCESS_TOKEN).
 */
function oktaCredentialProblems(okta: RawStackConfig["okta"]): string[] {
    const found = okta.credentials;
    if (found.length === 0) {
        return [
            "okta:privateKey: the Okta provider has no credentials; set `pulumi config set --secret okta:privateKey` with okta:clientId and okta:scopes " +
                "(recommended), or `pulumi config set --secret okta:apiToken`, or `okta:accessToken` (or the OKTA_API_PRIVATE_KEY, OKTA_API_TOKEN or " +
                "OKTA_ACCESS_TOKEN environment variables, e.g. from a Pulumi ESC environment)",
        ];
    }
    if (found.length > 1) {
        const fromEnv = found.filter((c) => c.from !== CREDENTIAL_KEYS[c.value]);
        return [
            `${found.map((c) => c.from).join(" and ")}: set only one way of authenticating the Okta provider (it refuses two)` +
                (fromEnv.length
                    ? `; unset ${fromEnv.map((c) => c.from.replace(/^environment variable /, "")).join(" and ")} in this shell, or remove the stack's key`
                    : ""),
        ];
    }
    if (found[0].value !== "privateKey") return [];
    const problems: string[] = [];
    if (!okta.clientId) problems.push(`okta:clientId: is required with ${found[0].from} (the client id of the Okta API service app; or OKTA_API_CLIENT_ID)`);
    const scopes = okta.scopes?.value;
    if (!Array.isArray(scopes) || scopes.length === 0 || !scopes.every((s) => typeof s === "string" && s.startsWith("okta."))) {
        problems.push(
            `${okta.scopes?.from ?? "okta:scopes"}: is required with ${found[0].from}: a list of Okta management scopes, ` +
                'e.g. ["okta.apps.manage","okta.authorizationServers.manage","okta.domains.read"]',
        );
    }
    return problems;
}

type RawConsumer = z.infer<typeof consumerSchema>;
type RawDelivery = z.infer<typeof credentialDeliverySchema>;

/** A consumer whose client secret this stack generates, so something must carry it to that consumer. */
function hasSecretToDeliver(c: RawConsumer): boolean {
    return c.jwks === undefined && c.existingAppId === undefined;
}

/**
 * Credential delivery: every secret the stack generates reaches its own consumer's readers only.
 * Without a delivery method no secret would reach anyone, so it is required as soon as one
 * consumer has a secret; consumers without one (private_key_jwt, adopted apps) need nothing.
 */
function credentialDeliveryProblems(delivery: RawDelivery | undefined, consumers: RawConsumer[], index: number[], k: (key: string) => string): string[] {
    const problems: string[] = [];
    const at = k("credentialDelivery");
    const withSecret = consumers.filter(hasSecretToDeliver).map((c) => c.name);
    if (!delivery) {
        if (withSecret.length) {
            problems.push(
                `${at}: is required because ${withSecret.join(", ")} authenticate${withSecret.length === 1 ? "s" : ""} with a client secret: method esc (one Pulumi ESC environment per consumer) ` +
                    "or awsSecretsManager (one secret per consumer), each readable by that consumer's consumers[].readers only; " +
                    "or give the consumer jwks (private_key_jwt: no secret at all, recommended)",
            );
        }
        consumers.forEach((c, i) => c.readers && problems.push(`${k("consumers")}[${index[i]}].readers: applies only with ${at}`));
        return problems;
    }
    if (delivery.method === "esc" && !delivery.esc)
        problems.push(`${at}.esc.organization: is required with method esc (the Pulumi Cloud organization that holds the environments)`);
    if (delivery.method !== "esc" && delivery.esc) problems.push(`${at}.esc: applies only to method esc`);
    if (delivery.method !== "awsSecretsManager" && delivery.awsSecretsManager)
        problems.push(`${at}.awsSecretsManager: applies only to method awsSecretsManager`);
    consumers.forEach((c, i) => {
        const where = `${k("consumers")}[${index[i]}].readers`;
        if (!hasSecretToDeliver(c)) {
            if (c.readers)
                problems.push(
                    `${where}: applies only to a consumer with a client secret this stack generates; ${c.name} has none to deliver (${c.existingAppId ? "an adopted app keeps its own secret" : "private_key_jwt"})`,
                );
            return;
        }
        if (delivery.method === "stackOutputs") {
            if (c.readers)
                problems.push(`${where}: applies only to methods esc and awsSecretsManager; with stackOutputs whoever may read the stack reads every secret`);
            return;
        }
        if (!c.readers) {
            problems.push(
                `${where}: is required with ${at}.method ${delivery.method}: who may read ${c.name}'s secret (` +
                    (delivery.method === "esc" ? "Pulumi Cloud team names" : "IAM principal ARNs such as arn:aws:iam::123456789012:role/inventory-sync") +
                    ")",
            );
            return;
        }
        const pattern = delivery.method === "esc" ? ESC_TEAM : IAM_PRINCIPAL;
        c.readers.forEach((r, j) => {
            if (!pattern.test(r)) {
                problems.push(
                    `${where}[${j}]: must be ${delivery.method === "esc" ? "a Pulumi Cloud team name" : "an IAM role, user or account-root ARN (arn:aws:iam::<account>:role/<name>)"}, got ${r}`,
                );
            }
        });
    });
    return problems;
}

function credentialDeliverySpec(delivery: RawDelivery | undefined, ctx: { project: string; stack: string }, production: boolean): CredentialDeliverySpec {
    switch (delivery?.method) {
        case undefined:
            return { method: "none" };
        case "esc":
            return { method: "esc", organization: delivery.esc?.organization ?? "", project: delivery.esc?.project ?? `${ctx.project}-consumers` };
        case "awsSecretsManager":
            return {
                method: "awsSecretsManager",
                namePrefix: delivery.awsSecretsManager?.namePrefix ?? `${ctx.project}/${ctx.stack}/`,
                // A deleted secret's name stays taken for its recovery window, so a dev stack that is
                // destroyed and brought up again could not recreate it (AWS: DeleteSecret,
                // RecoveryWindowInDays / ForceDeleteWithoutRecovery): no window outside production.
                recoveryWindowInDays: delivery.awsSecretsManager?.recoveryWindowInDays ?? (production ? 30 : 0),
            };
        case "stackOutputs":
            return { method: "stackOutputs" };
    }
}

type RawAwsGateway = NonNullable<z.infer<typeof gatewaySchema>["aws"]>;

/** Rules across the AWS target's keys, each problem naming its key. */
function awsGatewayProblems(aws: RawAwsGateway, at: string): string[] {
    const problems: string[] = [];
    const inVpc = aws.vpcId !== undefined;
    for (const list of ["loadBalancerSubnetIds", "taskSubnetIds"] as const) {
        if (inVpc && !aws[list])
            problems.push(
                `${at}.${list}: is required with vpcId (${list === "loadBalancerSubnetIds" ? "public subnets for an internet-facing load balancer, private ones for an internal one" : "private subnets with a NAT gateway or VPC endpoints, or public ones with assignPublicIp"})`,
            );
        if (!inVpc && aws[list]) problems.push(`${at}.vpcId: is required with ${list}`);
    }
    // An internet-facing load balancer sees its clients by their public addresses: allowing only
    // private ranges would let nobody in (AWS: "Internet-facing and internal Application Load
    // Balancers", Elastic Load Balancing User Guide).
    const onlyPrivate = (aws.allowedCidrs ?? ["0.0.0.0/0"]).every(isPrivateCidr);
    if (aws.internal === false && onlyPrivate) {
        problems.push(
            `${at}.internal: false makes the load balancer internet-facing, but allowedCidrs lists only private ranges, which an internet-facing load balancer never sees; set internal: true (the default for private ranges) or allow the clients' public addresses`,
        );
    }
    if (aws.hostedZoneId && !aws.domainName) problems.push(`${at}.domainName: is required with hostedZoneId (the name the alias record gets)`);
    if (aws.domainName && !aws.hostedZoneId)
        problems.push(
            `${at}.hostedZoneId: is required with domainName: the Route 53 zone that holds ${aws.domainName} (its alias record, and the certificate's DNS validation when no certificateArn is given)`,
        );
    if (aws.certificateArn && !aws.domainName)
        problems.push(
            `${at}.domainName: is required with certificateArn: the load balancer's own *.elb.amazonaws.com name is covered by no certificate of yours`,
        );
    if ((aws.minCapacity ?? 2) > (aws.maxCapacity ?? 6)) problems.push(`${at}.minCapacity: must not exceed maxCapacity`);
    const cpu = aws.cpu ?? 512;
    const [lo, hi] = FARGATE_MEMORY[cpu] ?? [0, 0];
    const memory = aws.memory ?? Math.max(1024, lo);
    if (FARGATE_MEMORY[cpu] && (memory < lo || memory > hi || (memory % 1024 !== 0 && memory !== 512))) {
        problems.push(`${at}.memory: ${memory} MiB is not valid with ${cpu} CPU units on Fargate (${lo}-${hi} MiB, in whole GiB)`);
    }
    return problems;
}

/** The AWS target's settings with their defaults. */
function awsGatewaySpec(aws: Partial<RawAwsGateway>): AwsGatewaySpec {
    const allowedCidrs = aws.allowedCidrs ?? ["0.0.0.0/0"];
    return {
        vpcId: aws.vpcId,
        loadBalancerSubnetIds: aws.loadBalancerSubnetIds,
        taskSubnetIds: aws.taskSubnetIds,
        internal: aws.internal ?? allowedCidrs.every(isPrivateCidr),
        domainName: aws.domainName,
        hostedZoneId: aws.hostedZoneId,
        certificateArn: aws.certificateArn,
        allowedCidrs,
        // The default VPC has public subnets only: tasks there need a public address to reach ECR,
        // Secrets Manager and Okta. In a VPC of yours, private task subnets reach them through NAT.
        assignPublicIp: aws.assignPublicIp ?? aws.vpcId === undefined,
        deploymentTimeoutMinutes: aws.deploymentTimeoutMinutes ?? 20,
        alarmTopicArn: aws.alarmTopicArn,
        alarms: {
            targetResponseTimeP99Seconds: aws.alarms?.targetResponseTimeP99Seconds ?? 1,
            http5xxPerMinute: aws.alarms?.http5xxPerMinute ?? 10,
            cpuPercent: aws.alarms?.cpuPercent ?? 85,
        },
        minCapacity: aws.minCapacity ?? 2,
        maxCapacity: aws.maxCapacity ?? 6,
        targetCpuPercent: aws.targetCpuPercent ?? 60,
        cpu: aws.cpu ?? 512,
        memory: aws.memory ?? 1024,
        rateLimitStoreNodeType: aws.rateLimitStoreNodeType ?? "cache.t4g.micro",
        logRetentionDays: aws.logRetentionDays ?? 30,
    };
}

/**
 * The tiers the consumers name exist, and the store fits the target: a `local` store limits each
 * task on its own, so it is for one task only; the local target runs one container.
 */
function rateLimitProblems(
    gateway: z.infer<typeof gatewaySchema> | undefined,
    consumers: RawConsumer[],
    index: number[],
    k: (key: string) => string,
): string[] {
    const limits = gateway?.rateLimits;
    const at = `${k("gateway")}.rateLimits`;
    const problems: string[] = [];
    if (!gateway || !limits) {
        // Also without a gateway at all: the gateway is what enforces the tiers.
        consumers.forEach((c, i) => c.tier && problems.push(`${k("consumers")}[${index[i]}].tier: needs gateway.rateLimits (the tiers it can name)`));
        if (gateway?.aws?.rateLimitStoreNodeType) problems.push(`${k("gateway")}.aws.rateLimitStoreNodeType: applies only with ${at}.store shared`);
        return problems;
    }
    const tiers = Object.keys(limits.tiers);
    const known = (t: string) => tiers.includes(t);
    consumers.forEach((c, i) => {
        if (c.tier && !known(c.tier)) problems.push(`${k("consumers")}[${index[i]}].tier: "${c.tier}" is not one of ${at}.tiers (${tiers.join(", ")})`);
    });
    if (limits.defaultTier !== undefined && !known(limits.defaultTier))
        problems.push(`${at}.defaultTier: "${limits.defaultTier}" is not one of ${at}.tiers (${tiers.join(", ")})`);
    const store = limits.store ?? (gateway.target === "aws" ? "shared" : "local");
    if (gateway.target === "local" && store === "shared")
        problems.push(`${at}.store: shared applies only to target aws (the local target runs one container: use local)`);
    if (gateway.target === "aws" && store === "local" && (gateway.aws?.maxCapacity ?? 6) > 1)
        problems.push(
            `${at}.store: local limits each task on its own, so ${gateway.aws?.maxCapacity ?? 6} tasks would allow up to ${gateway.aws?.maxCapacity ?? 6} times each limit; ` +
                "use shared (an ElastiCache Valkey store the stack declares), or set aws.minCapacity and aws.maxCapacity to 1",
        );
    if (store !== "shared" && gateway.aws?.rateLimitStoreNodeType)
        problems.push(`${k("gateway")}.aws.rateLimitStoreNodeType: applies only with ${at}.store shared`);
    return problems;
}

/**
 * The Okta provider's settings, from config or the environment variables the provider reads. A
 * problem with a value from the environment names the variable, not a key the user never set.
 */
function oktaProviderProblems(okta: RawStackConfig["okta"]): string[] {
    const problems: string[] = [];
    const orgName = okta.orgName;
    if (!orgName) problems.push("okta:orgName: is required (your Okta org's subdomain, e.g. dev-123456; or set OKTA_ORG_NAME)");
    else if (!/^[A-Za-z0-9][A-Za-z0-9-]*$/.test(orgName.value))
        problems.push(`${orgName.from}: must be the org's subdomain only, such as dev-123456 (not a URL)`);
    const baseUrl = okta.baseUrl;
    if (!baseUrl) problems.push("okta:baseUrl: is required (okta.com, oktapreview.com or okta-emea.com; or set OKTA_BASE_URL)");
    else if (!/^[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(baseUrl.value)) problems.push(`${baseUrl.from}: must be a domain such as okta.com, without scheme or path`);
    problems.push(...oktaCredentialProblems(okta));
    return problems;
}

/** Keys of the project's namespace this program does not read, with the one probably meant. */
function unknownKeyProblems(projectKeys: string[], k: (key: string) => string): string[] {
    return projectKeys
        .filter((key) => !(PROJECT_KEYS as readonly string[]).includes(key))
        .map((key) => {
            const near = PROJECT_KEYS.find((known) => editDistance(key.toLowerCase(), known.toLowerCase()) <= 2);
            return `${k(key)}: unknown key${near ? ` (did you mean ${k(near)}?)` : ""}; this project reads ${PROJECT_KEYS.map(k).join(", ")}`;
        });
}

/**
 * Each consumer parsed on its own; `consumerIndex[i]` is the position in the stack file of
 * `consumers[i]`, for problems found later. Group assignments and private key material are
 * reported with their reasons.
 */
function parseConsumers(consumersRaw: unknown, k: (key: string) => string, problems: string[]): { consumers: RawConsumer[]; consumerIndex: number[] } {
    const consumers: RawConsumer[] = [];
    const consumerIndex: number[] = [];
    if (!Array.isArray(consumersRaw) || consumersRaw.length === 0) {
        problems.push(`${k("consumers")}: is required: a list of at least one consuming system ({name, scopes})`);
    } else {
        consumersRaw.forEach((c, i) => {
            if (c !== null && typeof c === "object" && "groups" in c) {
                // Reported with its reason rather than as an unknown key, then left out of the parse.
                problems.push(
                    `${k("consumers")}[${i}].groups: is not supported: group assignments restrict nothing for the client credentials grant, ` +
                        "which has no user; only the access policy's client list decides which app gets a token. Remove the key " +
                        "(the next pulumi up deletes the assignments, which changes no access).",
                );
                const { groups: _ignored, ...rest } = c as Record<string, unknown>;
                c = rest;
            }
            const jwks = valueAt(c, ["jwks", "keys"]);
            if (Array.isArray(jwks)) {
                jwks.forEach((key, j) => {
                    const leaked = PRIVATE_JWK_MEMBERS.filter((m) => key !== null && typeof key === "object" && m in key);
                    if (leaked.length)
                        problems.push(
                            `${k("consumers")}[${i}].jwks.keys[${j}]: holds private key material (${leaked.join(", ")}); give the public key only, and rotate this key`,
                        );
                });
            }
            const parsed = parseKey(consumerSchema, `${k("consumers")}[${i}]`, c, problems);
            if (parsed) {
                consumers.push(parsed);
                consumerIndex.push(i);
            }
        });
    }
    return { consumers, consumerIndex };
}

/** The authorization server's rules: adopted (existingId) or created, never a mix. */
function serverProblems(server: z.infer<typeof serverSchema>, k: (key: string) => string): string[] {
    const problems: string[] = [];
    const at = (key: string) => `${k("authorizationServer")}.${key}`;
    if (server.existingId !== undefined) {
        for (const only of ["name", "description", "audience", "issuerMode", "customDomain", "protect"] as const) {
            if (server[only] !== undefined) problems.push(`${at(only)}: applies only to a server this stack creates; remove it, or remove existingId`);
        }
        // Okta evaluates policies by priority and falls through to the next one when no rule
        // matches; an active "Default Policy" (ALL_CLIENTS, any scope) below ours still grants
        // every app of the org any scope. The provider's okta.auth.getServerPolicy exposes no
        // status (terraform-provider-okta data_source_okta_auth_server_policy.go), so the
        // program cannot check it: the user confirms it, once it is done.
        // It is stated either way: false is the migration phase (this stack's policies sit above the
        // Default Policy, which still serves whatever they do not cover), true the end state.
        if (server.defaultPolicyDeactivated === undefined) {
            problems.push(
                `${at("defaultPolicyDeactivated")}: must be set to adopt server ${server.existingId}: true once its "Default Policy" is deactivated (or deleted), ` +
                    "because it lets ALL_CLIENTS ask for any scope and defeats each consumer's least-privilege policy " +
                    `(Okta Admin Console → Security → API → Authorization Servers → ${server.existingId} → Access Policies); ` +
                    "false only while migrating, when every app of the org can still get any scope (the program warns on every run)",
            );
        }
    } else {
        if (server.defaultPolicyDeactivated !== undefined)
            problems.push(`${at("defaultPolicyDeactivated")}: applies only with existingId; a server this stack creates has no default policy`);
        if (server.audience === undefined)
            problems.push(`${at("audience")}: is required (the API's audience, e.g. api://products), unless existingId names an existing server`);
        // CUSTOM_URL needs a custom domain configured and verified in the org, or Okta refuses
        // the server (terraform-provider-okta issue 756); the program checks it with okta.getDomain.
        if (server.issuerMode === "CUSTOM_URL" && server.customDomain === undefined) {
            problems.push(
                `${at("customDomain")}: is required with issuerMode CUSTOM_URL: the org's verified custom domain (Okta Admin Console → Customizations → Domain), such as login.acme.example`,
            );
        }
        if (server.issuerMode !== "CUSTOM_URL" && server.customDomain !== undefined)
            problems.push(`${at("customDomain")}: applies only with issuerMode CUSTOM_URL`);
    }
    return problems;
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
    problems.push(...oktaProviderProblems(raw.okta));
    const orgName = raw.okta.orgName;
    const baseUrl = raw.okta.baseUrl;

    // --- Keys of this project's namespace: a misspelt key would otherwise be ignored, and on a live
    // stack a missing `gateway` plans the deletion of the whole gateway.
    problems.push(...unknownKeyProblems(raw.projectKeys, k));

    // --- Each key parsed on its own, so a mistake in one does not hide those in another.
    const server = parseKey(serverSchema, k("authorizationServer"), raw.authorizationServer, problems);
    const introspection = parseKey(introspectionClientSchema.optional(), k("introspectionClient"), raw.introspectionClient, problems);
    const delivery = parseKey(credentialDeliverySchema.optional(), k("credentialDelivery"), raw.credentialDelivery, problems);
    const gateway = parseKey(gatewaySchema.optional(), k("gateway"), raw.gateway, problems);

    const consumersRaw = raw.consumers;
    const { consumers, consumerIndex } = parseConsumers(consumersRaw, k, problems);

    // --- Rules across keys.
    if (server) problems.push(...serverProblems(server, k));
    // Scope references and names are checked on the raw values, so that a mistake elsewhere in an
    // entry (a bad lifetime, say) does not hide a wrong scope or a duplicate name in the same run.
    const declaredScopes = z.array(scopeSchema).safeParse(valueAt(raw.authorizationServer, ["scopes"]));
    const declared = new Set(declaredScopes.success ? declaredScopes.data.map((s) => s.name) : []);
    const declaredList = [...declared].join(", ");
    const checkScopeRefs = (scopes: unknown, at: string) => {
        if (!declaredScopes.success || !isStringArray(scopes)) return; // already reported
        scopes.forEach((s, j) => {
            if (!declared.has(s))
                problems.push(`${at}[${j}]: "${s}" is not a scope declared in ${k("authorizationServer")}.scopes (declared: ${declaredList})`);
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
    // Adoption: an existing scope is imported by `<server id>/<scope id>`, so only on an adopted server.
    server?.scopes.forEach((s, i) => {
        if (s.existingId !== undefined && server.existingId === undefined) {
            problems.push(
                `${k("authorizationServer")}.scopes[${i}].existingId: applies only to a server this stack adopts (authorizationServer.existingId); a server this stack creates has no scopes yet`,
            );
        }
    });
    consumers.forEach((c, i) => {
        if (c.existingAppId === undefined) return;
        for (const only of ["jwks", "label", "allowReplacement"] as const) {
            if (c[only] !== undefined) {
                problems.push(
                    `${k("consumers")}[${consumerIndex[i]}].${only}: applies only to an app this stack creates; an adopted app (existingAppId) keeps its own settings in Okta`,
                );
            }
        }
    });
    for (const [id, at] of duplicates(consumers.map((c) => c.existingAppId ?? ""))) {
        if (id)
            problems.push(
                `${k("consumers")}[${consumerIndex[at[1]]}].existingAppId: ${id} is also adopted by consumers[${consumerIndex[at[0]]}]; one app belongs to one consumer`,
            );
    }
    problems.push(...credentialDeliveryProblems(delivery, consumers, consumerIndex, k));

    consumers.forEach((c, i) =>
        c.jwks?.keys.forEach((key, j) => {
            const need = key.kty === "RSA" ? (["n", "e"] as const) : (["x", "y"] as const);
            for (const m of need) if (!key[m]) problems.push(`${k("consumers")}[${consumerIndex[i]}].jwks.keys[${j}].${m}: is required for a ${key.kty} key`);
        }),
    );

    let routeRules: RouteRule[] = [];
    problems.push(...rateLimitProblems(gateway, consumers, consumerIndex, k));
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
        if (aws) problems.push(...awsGatewayProblems(aws, `${k("gateway")}.aws`));
        if (gateway.target === "aws" && gateway.local) problems.push(`${k("gateway")}.local: applies only to target local`);
        if (gateway.target === "local" && gateway.aws) problems.push(`${k("gateway")}.aws: applies only to target aws`);
    }

    if (introspection?.authMethod === "client_secret_basic" && introspection.keyIds !== undefined) {
        problems.push(`${k("introspectionClient")}.keyIds: applies only to authMethod private_key_jwt`);
    }
    if (introspection?.keyIds && new Set(introspection.keyIds).size !== introspection.keyIds.length)
        problems.push(`${k("introspectionClient")}.keyIds: the ids must differ`);

    // A production stack's outputs are what other teams consume; a local gateway runs on whichever
    // machine ran `pulumi up` last, and no consumer can reach it.
    if (gateway?.target === "local" && server?.protect === true) {
        problems.push(
            `${k("gateway")}.target: local cannot serve a production stack (authorizationServer.protect): the container runs on the machine that ran pulumi up, which no consumer reaches; use aws, or leave gateway out and rehearse locally with npm start`,
        );
    }
    if (gateway?.target === "aws" && server?.protect === true && !gateway.aws?.domainName) {
        problems.push(
            `${k("gateway")}.aws.domainName: is required in a production stack (authorizationServer.protect): consumers call the gateway over HTTPS on a name its certificate covers`,
        );
    }

    if (problems.length > 0 || !server || !orgName || !baseUrl) throw new StackConfigError(problems);

    const defaultLifetime = server.accessTokenLifetimeMinutes ?? TOKEN_LIFETIME_MINUTES.default;
    return {
        project: ctx.project,
        stack: ctx.stack,
        okta: { orgName: orgName.value, baseUrl: baseUrl.value, orgUrl: `https://${orgName.value}.${baseUrl.value}` },
        protect: server.existingId === undefined && server.protect === true,
        authorizationServer:
            server.existingId !== undefined
                ? { kind: "existing", id: server.existingId, defaultPolicyDeactivated: server.defaultPolicyDeactivated === true }
                : {
                      kind: "create",
                      name: server.name ?? `${ctx.project}-${ctx.stack}`,
                      description: server.description ?? `API access for ${ctx.project} (${ctx.stack}), managed by Pulumi`,
                      audience: server.audience as string,
                      issuerMode: server.issuerMode ?? "ORG_URL",
                      customDomain: server.customDomain,
                      protect: server.protect ?? false,
                  },
        scopes: server.scopes.map((s) => ({
            name: s.name,
            description: s.description ?? s.name,
            displayName: s.displayName,
            default: s.default ?? false,
            existingId: s.existingId,
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
            jwks: c.jwks?.keys.map(({ kid, kty, n, e, x, y }) => ({ kid, kty, n, e, x, y })),
            allowReplacement: c.allowReplacement ?? false,
            existingAppId: c.existingAppId,
            readers: c.readers ?? [],
            tier: c.tier,
        })),
        credentialDelivery: credentialDeliverySpec(delivery, ctx, server.existingId === undefined && server.protect === true),
        introspectionClient: {
            label: introspection?.label ?? `Token Introspection Client (${ctx.stack})`,
            auth:
                introspection?.authMethod === "client_secret_basic"
                    ? { method: "client_secret_basic" }
                    : { method: "private_key_jwt", keyIds: introspection?.keyIds ?? ["1"] },
        },
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
            methodOverride: gateway.methodOverride ?? "strip",
            rateLimits: gateway.rateLimits && {
                tiers: gateway.rateLimits.tiers,
                defaultTier: gateway.rateLimits.defaultTier,
                store: gateway.rateLimits.store ?? (gateway.target === "aws" ? "shared" : "local"),
            },
            local: { port: gateway.local?.port ?? 8080, adminPort: gateway.local?.adminPort ?? 9090 },
            aws: awsGatewaySpec(gateway.aws ?? {}),
        },
    };
}
