// The gateway's settings as a deployment gives them: the stack file's gateway settings, wired with
// what Okta and the target add, encoded by the gateway's own codec. The stack validates the same
// function's result with placeholders for what is not known before `pulumi up` (stackConfig/
// gateway.ts), so what passed validation is what the container runs. The introspection client's
// secret or key is not here: each target injects it its own secret way (a key in KMS is named here
// by its ARN, which is no secret).
import type { GatewayEnvironment } from "../policy-gateway/src/config/load";
import { checkSettings, type GatewaySettings, type GatewaySettingsInput } from "../policy-gateway/src/config/settings";
import { formatPath } from "../policy-gateway/src/shared/zodIssues";
import { PORTS } from "../policy-gateway/src/config/contract";
import { toEnvironment, variableOf } from "../policy-gateway/src/config/codec";
import type { GatewaySpec } from "./stackConfig/spec";

export interface OktaWiring {
    issuer: string;
    audience: string;
    /** Absent when the validation mode never introspects (jwt). */
    introspectionClientId?: string;
    /** Which of the introspection client's keys signs (its id in the app's JWKS); the key itself is secret. */
    introspectionClientKeyId?: string;
    /** AWS: the KMS key that signs the client's assertion (not a secret: the key never leaves KMS). */
    introspectionClientKmsKeyArn?: string;
    /** Client id → rate-limit tier, for the consumers that name one. */
    consumerTiers: Record<string, string>;
    /** Client id → the consumer's declared name, for the per-consumer metrics. */
    consumerNames: Record<string, string>;
}

/**
 * The stack file names an API's consumers; the gateway knows them by client id (`CONSUMER_NAMES`
 * read backwards). A name no consumer has was refused by the stack's validation; were one to get
 * here, it would stand as a client id no token carries: the API closed to it, never opened.
 */
function apisByClientId(apis: GatewaySpec["settings"]["apis"], consumerNames: Record<string, string>): GatewaySettingsInput["apis"] {
    if (apis === undefined) return undefined;
    const idOf = new Map(Object.entries(consumerNames).map(([id, name]) => [name, id]));
    return apis.map((api) => (api.consumers ? { ...api, consumers: api.consumers.map((name) => idOf.get(name) ?? name) } : api));
}

/** What the target knows once its resources exist. */
export interface TargetWiring {
    /** AWS: the load balancer subnets' address ranges, where its nodes take their addresses. */
    proxyCidrs?: string[];
    /** AWS with a shared store: the store's rediss:// address. */
    storeUrl?: string;
}

/** The settings that will deploy, before the gateway's defaults: the stack's, Okta's and the target's parts. */
export function deployedSettings(spec: GatewaySpec, okta: OktaWiring, target: TargetWiring): GatewaySettingsInput {
    return {
        ...spec.settings,
        apis: apisByClientId(spec.settings.apis, okta.consumerNames),
        issuer: okta.issuer,
        audience: okta.audience,
        introspectionClientId: okta.introspectionClientId,
        introspectionClientKeyId: okta.introspectionClientKeyId,
        introspectionClientKmsKeyArn: okta.introspectionClientKmsKeyArn,
        // Inside the container: the image's ports (each target publishes or maps them).
        port: PORTS.traffic,
        adminPort: PORTS.admin,
        ...(Object.keys(okta.consumerNames).length ? { consumerNames: okta.consumerNames } : {}),
        ...(spec.rateLimits
            ? {
                  rateLimits: { tiers: spec.rateLimits.tiers, consumers: okta.consumerTiers, defaultTier: spec.rateLimits.defaultTier },
                  rateLimitStore: spec.rateLimits.store,
              }
            : {}),
        ...(spec.target === "aws" ? awsSettings(spec, target) : {}),
    };
}

/**
 * Behind the load balancer, the gateway believes X-Forwarded-For/-Proto from it alone: its nodes
 * take addresses in its own subnets, and only its security group may reach the tasks. The load balancer
 * appends the client's address to X-Forwarded-For and sets X-Forwarded-Proto ("HTTP headers and
 * your Application Load Balancer", ELB User Guide). While the store is away each task enforces
 * limit ÷ rateLimitTasks: maxCapacity, not the tasks running now, so the shares never add up to
 * more than the declared limit, at the price of less than it while fewer tasks run.
 */
function awsSettings(spec: GatewaySpec, target: TargetWiring): Partial<GatewaySettingsInput> {
    return {
        ...(target.proxyCidrs?.length ? { trustProxy: target.proxyCidrs.join(",") } : {}),
        ...(spec.rateLimits ? { rateLimitTasks: spec.aws.maxCapacity, ...(target.storeUrl ? { rateLimitStoreUrl: target.storeUrl } : {}) } : {}),
    };
}

/** The settings validated by the gateway's schema and rules, or an Error naming each variable. */
export function validatedSettings(input: GatewaySettingsInput): GatewaySettings {
    const checked = checkSettings(input, (setting, path) => `${variableOf(setting)}${formatPath(path)}`);
    // Unreachable for a stack that passed validation, which checks this function's result.
    if (!checked.ok) throw new Error(`the gateway would refuse its settings:\n  - ${checked.problems.join("\n  - ")}`);
    return checked.settings;
}

/** The container's (or task's) environment for these settings: the gateway's codec, nothing else. */
export function gatewayEnvironment(input: GatewaySettingsInput): GatewayEnvironment {
    return toEnvironment(validatedSettings(input));
}
