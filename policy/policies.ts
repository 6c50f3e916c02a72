// The guardrails `pulumi preview --policy-pack policy` enforces on every stack of this project.
// Kept apart from the PolicyPack (index.ts), so that tests call each `validateResource` directly.
import type { PolicyConfigSchema, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";

/** The stack's name, from the resource's URN (`urn:pulumi:<stack>::<project>::…`). */
export function stackOf(urn: string): string {
    return urn.split("::")[0].replace(/^urn:pulumi:/, "");
}

const PRODUCTION_PATTERN = "(^|[-_./])prod(uction)?($|[-_./])";
/**
 * Whether the stack is production: the stack's own `okta-api-gateway:production` key, which the
 * workflows pass as `production` (scripts/policyPackConfig.ts). The stack-name pattern is only the
 * fallback for stacks that predate the key, or runs that do not pass it.
 */
export const productionSchema: PolicyConfigSchema = {
    properties: {
        production: {
            type: "boolean",
            description: "the stack's okta-api-gateway:production key; when given, it alone decides",
        },
        productionStackPattern: {
            type: "string",
            default: PRODUCTION_PATTERN,
            description: "without `production`: stacks whose name matches this regular expression are production",
        },
    },
};

function isProduction(args: ResourceValidationArgs): boolean {
    const { production, productionStackPattern } = args.getConfig<{ production?: boolean; productionStackPattern?: string }>();
    if (typeof production === "boolean") return production;
    return new RegExp(productionStackPattern ?? PRODUCTION_PATTERN, "i").test(stackOf(args.urn));
}

/** A policy on one resource type; the check receives that resource's inputs. */
function onType(
    type: string,
    policy: Omit<ResourceValidationPolicy, "validateResource">,
    check: (props: Record<string, unknown>, args: ResourceValidationArgs, report: ReportViolation) => void,
): ResourceValidationPolicy {
    return {
        ...policy,
        validateResource: (args, report) => {
            if (args.type === type) check(args.props as Record<string, unknown>, args, report);
        },
    };
}

const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

export interface ContainerDefinition {
    name?: string;
    environment?: { name: string; value?: string }[];
    secrets?: { name: string; valueFrom: string }[];
}

/**
 * ecs-introspection-secret-from-secrets-manager, on one container: no secret-looking variable in
 * plain environment, and a gateway that introspects gets its credential from Secrets Manager or
 * signs with KMS. Pure.
 */
export function introspectionCredentialProblems(c: ContainerDefinition): string[] {
    const problems = (c.environment ?? [])
        .filter((e) => /SECRET|PASSWORD|PRIVATE_KEY/i.test(e.name))
        .map((e) => `container ${c.name} has ${e.name} in plain environment. Put it in Secrets Manager and inject it with secrets[].valueFrom.`);
    const credential = (c.secrets ?? []).some(
        (s) =>
            (s.name === "INTROSPECTION_CLIENT_SECRET" || s.name === "INTROSPECTION_CLIENT_PRIVATE_KEY") && /^arn:aws[a-z-]*:secretsmanager:/.test(s.valueFrom),
    );
    // A key in KMS is named by its ARN, which is no secret: the task signs with kms:Sign.
    const kmsKey = (c.environment ?? []).some((e) => e.name === "INTROSPECTION_CLIENT_KMS_KEY_ARN" && /^arn:aws[a-z-]*:kms:/.test(e.value ?? ""));
    // A gateway that checks JWTs locally introspects nothing and has no credential to get.
    const introspects = (c.environment ?? []).find((e) => e.name === "TOKEN_VALIDATION")?.value !== "jwt";
    if (c.name === "policy-gateway" && introspects && !credential && !kmsKey)
        problems.push(
            "the gateway gets INTROSPECTION_CLIENT_PRIVATE_KEY (or INTROSPECTION_CLIENT_SECRET) only from Secrets Manager (secrets[].valueFrom with a secret's ARN), or signs with a KMS key (INTROSPECTION_CLIENT_KMS_KEY_ARN).",
        );
    return problems;
}

export const mandatoryPolicies: ResourceValidationPolicy[] = [
    onType(
        "okta:app/oAuth:OAuth",
        {
            name: "okta-client-credentials-only",
            description: "Service apps use only client_credentials; no app uses the implicit or password grant.",
            enforcementLevel: "mandatory",
        },
        (props, args, report) => {
            const grants = list(props.grantTypes).map(String);
            const forbidden = grants.filter((g) => g === "implicit" || g === "password");
            if (forbidden.length)
                report(
                    `${args.name}: the ${forbidden.join(" and ")} grant is not allowed; machine-to-machine clients use client_credentials only. Remove it from grantTypes.`,
                );
            if (props.type === "service" && (grants.length !== 1 || grants[0] !== "client_credentials")) {
                report(`${args.name}: a service app must have grantTypes ["client_credentials"] and nothing else (has ${JSON.stringify(grants)}).`);
            }
        },
    ),
    onType(
        "okta:auth/serverPolicy:ServerPolicy",
        { name: "okta-policy-names-its-clients", description: "No access policy applies to ALL_CLIENTS.", enforcementLevel: "mandatory" },
        (props, args, report) => {
            if (list(props.clientWhitelists).includes("ALL_CLIENTS")) {
                report(
                    `${args.name}: an access policy for ALL_CLIENTS lets any app of the org ask for these scopes. Assign it to the consumer's client id (add the consumer to okta-api-gateway:consumers).`,
                );
            }
        },
    ),
    onType(
        "okta:auth/serverPolicyRule:ServerPolicyRule",
        { name: "okta-rule-no-wildcard-scope", description: "No access rule whitelists the scope *.", enforcementLevel: "mandatory" },
        (props, args, report) => {
            if (list(props.scopeWhitelists).includes("*"))
                report(
                    `${args.name}: scopeWhitelists contains "*", which grants every scope of the server. List the consumer's scopes in okta-api-gateway:consumers[].scopes.`,
                );
        },
    ),
    onType(
        "okta:auth/serverPolicyRule:ServerPolicyRule",
        {
            name: "okta-access-token-lifetime",
            description: "Access tokens live at most maxAccessTokenLifetimeMinutes (60 by default).",
            enforcementLevel: "mandatory",
            configSchema: { properties: { maxAccessTokenLifetimeMinutes: { type: "integer", default: 60, minimum: 5, maximum: 1440 } } },
        },
        (props, args, report) => {
            const { maxAccessTokenLifetimeMinutes = 60 } = args.getConfig<{ maxAccessTokenLifetimeMinutes?: number }>();
            const lifetime = props.accessTokenLifetimeMinutes;
            if (typeof lifetime === "number" && lifetime > maxAccessTokenLifetimeMinutes) {
                report(
                    `${args.name}: access tokens would live ${lifetime} minutes; the limit is ${maxAccessTokenLifetimeMinutes}. Lower accessTokenLifetimeMinutes for this consumer (a stolen token is valid that long).`,
                );
            }
        },
    ),
    onType(
        "okta:auth/server:Server",
        {
            name: "okta-server-protected-in-production",
            description: "The authorization server is protected in production stacks.",
            enforcementLevel: "mandatory",
            configSchema: productionSchema,
        },
        (_props, args, report) => {
            if (isProduction(args) && !args.opts.protect) {
                report(
                    `${args.name}: in production stack "${stackOf(args.urn)}" the authorization server must be protected, or a destroy deletes every consumer's tokens. Set okta-api-gateway:production: true, which protects it.`,
                );
            }
        },
    ),
    onType(
        "okta:app/oAuth:OAuth",
        {
            name: "okta-apps-protected-in-production",
            description:
                "OAuth apps are protected in production stacks: a replacement (a new client id) breaks the consuming team, so it must be allowed by name.",
            enforcementLevel: "mandatory",
            configSchema: {
                properties: {
                    ...productionSchema.properties,
                    allowReplacement: {
                        type: "array",
                        items: { type: "string" },
                        default: [],
                        description: "resource names of apps that this one update may replace",
                    },
                },
            },
        },
        (_props, args, report) => {
            const { allowReplacement = [] } = args.getConfig<{ allowReplacement?: string[] }>();
            if (isProduction(args) && !args.opts.protect && !allowReplacement.includes(args.name)) {
                report(
                    `${args.name}: in production stack "${stackOf(args.urn)}" an OAuth app must be protected: replacing it changes its client id under the consuming team. ` +
                        `Set okta-api-gateway:production: true, which protects every app; to replace this app on purpose, set the consumer's allowReplacement: true and run with ` +
                        `--policy-pack-config '{"okta-apps-protected-in-production": {"allowReplacement": ["${args.name}"]}}'.`,
                );
            }
        },
    ),
    onType(
        "okta:app/oAuth:OAuth",
        {
            name: "okta-service-app-skips-sign-on-policy",
            description: "Service apps skip the app sign-on policy, which Okta refuses to assign to them on update.",
            enforcementLevel: "mandatory",
        },
        (props, args, report) => {
            if (props.type === "service" && props.skipAuthenticationPolicy !== true) {
                report(
                    `${args.name}: set skipAuthenticationPolicy: true on a service app: on update the provider would assign an app sign-on policy, ` +
                        "which Okta refuses for API-services apps (terraform-provider-okta issue 2295), so every later change of the app would fail.",
                );
            }
        },
    ),
    onType(
        "aws:ecs/service:Service",
        {
            name: "ecs-service-waits-for-steady-state",
            description: "pulumi up waits for ECS services to reach a steady state, so a deployment that never becomes healthy fails the update.",
            enforcementLevel: "mandatory",
        },
        (props, args, report) => {
            if (props.waitForSteadyState !== true) {
                report(
                    `${args.name}: set waitForSteadyState: true; without it pulumi up reports success while the new tasks fail their health checks and the circuit breaker silently rolls back.`,
                );
            }
        },
    ),
    onType(
        "aws:ecs/taskDefinition:TaskDefinition",
        {
            name: "ecs-introspection-secret-from-secrets-manager",
            description:
                "The introspection client's private key or secret reaches ECS only through secrets[].valueFrom, never environment; or the gateway signs with a KMS key (INTROSPECTION_CLIENT_KMS_KEY_ARN) and holds no key at all.",
            enforcementLevel: "mandatory",
        },
        (props, args, report) => {
            // Known at preview: the task names its image by tag (components/gatewayImage.ts,
            // taggedRef), not by the digest a rebuild only learns at `up`. Unknown only at a first
            // create, until the environment's values (server id, store endpoint) exist; `up` checks then.
            if (typeof props.containerDefinitions !== "string") return;
            for (const c of JSON.parse(props.containerDefinitions) as ContainerDefinition[])
                for (const problem of introspectionCredentialProblems(c)) report(`${args.name}: ${problem}`);
        },
    ),
    onType(
        "aws:ecr/repository:Repository",
        { name: "ecr-scan-on-push", description: "ECR repositories scan images on push.", enforcementLevel: "mandatory" },
        (props, args, report) => {
            const scanning = props.imageScanningConfiguration as { scanOnPush?: boolean } | undefined;
            if (scanning?.scanOnPush !== true)
                report(`${args.name}: set imageScanningConfiguration: { scanOnPush: true } so every gateway image is scanned for known vulnerabilities.`);
        },
    ),
    onType(
        "aws:elasticache/replicationGroup:ReplicationGroup",
        {
            name: "elasticache-encrypted",
            description: "ElastiCache stores (the shared rate-limit store) encrypt in transit and at rest.",
            enforcementLevel: "mandatory",
        },
        (props, args, report) => {
            // The gateway speaks TLS to any store off loopback (rediss://); a store without it would
            // refuse every connection and leave the limits to each task's fallback share.
            if (props.transitEncryptionEnabled !== true)
                report(`${args.name}: set transitEncryptionEnabled: true; the gateway connects to its rate-limit store over TLS only (rediss://).`);
            if (props.atRestEncryptionEnabled === false) report(`${args.name}: set atRestEncryptionEnabled: true.`);
        },
    ),
    onType(
        "aws:lb/listener:Listener",
        {
            name: "alb-https-in-production",
            description: "Load balancer listeners are HTTPS in production stacks (HTTP only to redirect to HTTPS).",
            enforcementLevel: "mandatory",
            configSchema: productionSchema,
        },
        (props, args, report) => {
            if (!isProduction(args) || props.protocol === "HTTPS") return;
            const actions = list(props.defaultActions) as { type?: string; redirect?: { protocol?: string } }[];
            const redirectsOnly = actions.length > 0 && actions.every((a) => a.type === "redirect" && a.redirect?.protocol === "HTTPS");
            if (!redirectsOnly)
                report(
                    `${args.name}: in production stack "${stackOf(args.urn)}" tokens must not cross the network in clear text. Set okta-api-gateway:gateway.aws.certificateArn for an HTTPS listener.`,
                );
        },
    ),
];

export const advisoryPolicies: ResourceValidationPolicy[] = [
    {
        // okta-policy-names-its-clients sees only the policies this stack declares. An adopted
        // server's "Default Policy" (ALL_CLIENTS, any scope) is Okta's, outside the stack, and
        // the pack never sees it; so the workflows tell the pack about it from the stack file
        // (scripts/policyPackConfig.ts), and it is reported on the server's first consumer policy
        // at every preview, where the pull request's reviewers read it. Advisory: a migration
        // keeps it active until every consumer has its own policy here (the first `up`).
        name: "okta-adopted-server-default-policy-deactivated",
        description: "An adopted authorization server's Default Policy (ALL_CLIENTS) is deactivated, so that the consumers' own policies are the only grants.",
        enforcementLevel: "advisory",
        configSchema: {
            properties: {
                activeDefaultPolicyOnServer: {
                    type: "string",
                    description:
                        "the adopted server whose Default Policy the stack file says is still active (authorizationServer.existingId, defaultPolicyDeactivated false)",
                },
            },
        },
        validateResource: (args, report) => {
            if (args.type !== "okta:auth/serverPolicy:ServerPolicy") return;
            const { activeDefaultPolicyOnServer: server } = args.getConfig<{ activeDefaultPolicyOnServer?: string }>();
            const props = args.props as Record<string, unknown>;
            if (server && props.authServerId === server && props.priority === 1)
                report(
                    `${args.name}: the "Default Policy" of the adopted server ${server} is still active: it lets every app of the org (Exchange/DCR-registered ones included) ask for any scope, ` +
                        "so the consumers' own policies restrict nothing yet. Deactivate it in Okta (Security → API → the server → Access Policies) once this update has given every consumer its policy, " +
                        "then set authorizationServer.defaultPolicyDeactivated: true.",
                );
        },
    },
    onType(
        "okta:app/oAuth:OAuth",
        {
            name: "okta-private-key-jwt-keeps-no-secret",
            description: "Apps authenticating with private_key_jwt keep no client secret in state.",
            enforcementLevel: "advisory",
        },
        (props, args, report) => {
            if (props.tokenEndpointAuthMethod === "private_key_jwt" && props.omitSecret !== true)
                report(`${args.name}: with private_key_jwt, set omitSecret: true so that no unused secret sits in the stack's state.`);
        },
    ),
    onType(
        "okta:auth/server:Server",
        { name: "okta-server-rotates-keys", description: "The authorization server rotates its signing keys automatically.", enforcementLevel: "advisory" },
        (props, args, report) => {
            if (props.credentialsRotationMode !== undefined && props.credentialsRotationMode !== "AUTO")
                report(`${args.name}: credentialsRotationMode ${String(props.credentialsRotationMode)}: manual key rotation tends not to happen; use AUTO.`);
        },
    ),
    onType(
        "aws:cloudwatch/logGroup:LogGroup",
        { name: "cloudwatch-logs-expire", description: "Log groups set a retention (logs are kept forever otherwise).", enforcementLevel: "advisory" },
        (props, args, report) => {
            if (typeof props.retentionInDays !== "number" || props.retentionInDays === 0)
                report(
                    `${args.name}: set retentionInDays (okta-api-gateway:gateway.aws.logRetentionDays); unbounded retention keeps every request log forever.`,
                );
        },
    ),
];

export const policies: ResourceValidationPolicy[] = [...mandatoryPolicies, ...advisoryPolicies];
