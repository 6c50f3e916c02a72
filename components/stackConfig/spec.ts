// The stack's configuration as the program uses it: the validated spec types, and the raw values
// and error the reading and validating stages pass along. No logic beyond the error's text.
import * as pulumi from "@pulumi/pulumi";
import type { AlarmThresholds } from "../gatewayTelemetry";
import type { GatewaySettings } from "../../policy-gateway/src/config/settings";
import type { RateTier } from "../../policy-gateway/src/limits/rateLimitPlan";
import type { RATE_LIMIT_STORES } from "../../policy-gateway/src/config/contract";

export const TOKEN_LIFETIME_MINUTES = { min: 5, max: 1440, default: 60 } as const;

/**
 * Access-token claim names Okta reserves: a custom claim with one of these names is refused by
 * Okta's API at `pulumi up`. Okta's "Reserved claims" list (developer.okta.com, Customize tokens
 * returned from Okta → Reserved claims; Okta support article "List of Reserved Claims"), plus the
 * registered JWT claims of RFC 7519 §4.1 and RFC 9068 §2.2.
 */
export const RESERVED_CLAIMS = new Set([
    "acr",
    "amr",
    "as_uri",
    "aud",
    "auth_time",
    "cid",
    "client_id",
    "exp",
    "groups",
    "iat",
    "idp",
    "iss",
    "jti",
    "nbf",
    "nonce",
    "rpt",
    "rsi",
    "scope",
    "scp",
    "sub",
    "token_type",
    "typ",
    "uid",
    "username",
    "ver",
]);

/** The keys of this project's config namespace (`<project>:<key>`); anything else is a typo. */
export const PROJECT_KEYS = ["production", "authorizationServer", "consumers", "credentialDelivery", "introspectionClient", "gateway"] as const;

/**
 * The gateway settings a stack file may set under `gateway`, by the gateway's own names, with the
 * gateway's own schema, defaults and docs (policy-gateway/src/config/settings.ts). What the stack
 * wires itself (issuer, audience, the introspection client, ports, the proxy the load balancer is,
 * the rate-limit store) is not among them.
 */
export const STACK_GATEWAY_SETTINGS = [
    "upstreamUrl",
    "apis",
    "tokenValidation",
    "introspectionPrecheck",
    "requiredScopes",
    "scopeMatch",
    "routeRules",
    "cacheMaxTtlSeconds",
    "negativeCacheTtlSeconds",
    "introspectionsPerClientPerMinute",
    "upstreamTimeoutMs",
    "hideCredentials",
    "identityHeaderPrefix",
    "corsPreflightPassthrough",
    "corsAllowedOrigins",
    "corsAllowedMethods",
    "corsAllowedHeaders",
    "corsExposedHeaders",
    "corsAllowCredentials",
    "corsMaxAgeSeconds",
    "methodOverride",
    "logLevel",
] as const;
export type StackGatewaySetting = (typeof STACK_GATEWAY_SETTINGS)[number];

export interface ScopeSpec {
    name: string;
    description: string;
    displayName?: string;
    /** Granted when a client asks for no scope. Off by default: clients should ask explicitly. */
    default: boolean;
    /** An existing scope of the adopted server (its `scp…` id): imported, its Okta settings left as they are. */
    existingId?: string;
}

export interface ClaimSpec {
    name: string;
    /** An Okta expression (valueType EXPRESSION), e.g. `app.profile.team`, or a group filter. */
    value: string;
    valueType: "EXPRESSION" | "GROUPS";
    /** With GROUPS: how the value matches group names. */
    groupFilterType?: "STARTS_WITH" | "EQUALS" | "CONTAINS" | "REGEX";
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
    /** Public keys: present means `private_key_jwt`, absent means `client_secret_basic` (unless jwksUri). */
    jwks?: PublicJwk[];
    /** The consumer's published JWKS (https), which Okta fetches: `private_key_jwt` as well. */
    jwksUri?: string;
    /**
     * The app may be replaced (a new client id) by this update: lifts the stack's `protect` for
     * this one app. Needed for changes Okta can only make by recreating the app, such as going
     * from `private_key_jwt` back to a client secret.
     */
    allowReplacement: boolean;
    /**
     * An existing Okta app (its `0oa…` id) this consumer already uses: imported, so the consumer
     * keeps its client id and secret; the stack manages its access policy and rule from then on.
     */
    existingAppId?: string;
    /**
     * Who may read this consumer's credentials, and only this consumer's: Pulumi Cloud team
     * names (credentialDelivery.method esc) or IAM principal ARNs (awsSecretsManager). Empty for
     * consumers with nothing secret to deliver (private_key_jwt, adopted apps).
     */
    readers: string[];
    /** The rate-limit tier this consumer is held to (gateway.rateLimits); undefined: the default tier, or no limit. */
    tier?: string;
}

/**
 * How each consumer's client secret reaches that consumer, and no other: one Pulumi ESC
 * environment, or one AWS Secrets Manager secret, per consumer, each readable by that consumer's
 * readers only. `stackOutputs` is the old single secret map, readable by anyone who may read the
 * stack: an explicit opt-in. `none`: no consumer has a secret to deliver.
 */
export type CredentialDeliverySpec =
    | { method: "esc"; organization: string; project: string; apiReaders: string[] }
    | { method: "awsSecretsManager"; namePrefix: string; recoveryWindowInDays: number }
    | { method: "stackOutputs" }
    | { method: "none" };

export type AuthorizationServerSpec =
    | {
          kind: "create";
          name: string;
          description: string;
          audience: string;
          issuerMode: "ORG_URL" | "CUSTOM_URL" | "DYNAMIC";
          /** With CUSTOM_URL: the org's verified custom domain the issuer lives on, by its Okta id and its name. */
          customDomain?: { id: string; name: string };
      }
    | {
          kind: "existing";
          id: string;
          /**
           * Whether the adopted server's "Default Policy" (ALL_CLIENTS, any scope) is off. False is
           * the migration phase: the stack's policies are in place above it, but until it is
           * deactivated every app of the org can still get any scope (the program warns).
           */
          defaultPolicyDeactivated: boolean;
      };

export interface GatewaySpec {
    target: "local" | "aws";
    /** The gateway's settings this stack file decides, with the gateway's defaults applied. */
    settings: Pick<GatewaySettings, StackGatewaySetting>;
    /** Per-consumer limits; absent: no consumer is limited. */
    rateLimits?: RateLimitsSpec;
    /** Host ports of the local container (default: the container's own). */
    local: { port: number; adminPort: number };
    aws: AwsGatewaySpec;
}

export interface RateLimitsSpec {
    tiers: Record<string, RateTier>;
    /** The tier of consumers that name none; undefined: they are not limited. */
    defaultTier?: string;
    /** `shared`: one store for every task (ElastiCache Valkey on AWS); `local`: each task alone (one task only). */
    store: (typeof RATE_LIMIT_STORES)[number];
}

export interface AwsGatewaySpec {
    /** An existing VPC; undefined: the account's default VPC (public subnets only). */
    vpcId?: string;
    /** Where the load balancer's nodes live: public subnets for an internet-facing one, private for an internal one. */
    loadBalancerSubnetIds?: string[];
    /** Where the tasks live: private subnets with a NAT (or VPC endpoints), or public ones with assignPublicIp. */
    taskSubnetIds?: string[];
    /** Internal load balancer (private addresses only). Default: true when every allowed CIDR is private. */
    internal: boolean;
    /** The gateway's DNS name (an alias record in hostedZoneId) and the name its certificate covers. */
    domainName?: string;
    hostedZoneId?: string;
    /** An existing ACM certificate for domainName; without it, one is requested and validated through DNS. */
    certificateArn?: string;
    allowedCidrs: string[];
    assignPublicIp: boolean;
    /** How long `pulumi up` waits for the service to reach a steady state before failing. */
    deploymentTimeoutMinutes: number;
    /** SNS topic the alarms notify; undefined: alarms only show in CloudWatch. */
    alarmTopicArn?: string;
    /** Alarm thresholds. */
    alarms: {
        targetResponseTimeP99Seconds: number;
        http5xxPerMinute: number;
        cpuPercent: number;
    } & AlarmThresholds;
    minCapacity: number;
    maxCapacity: number;
    targetCpuPercent: number;
    cpu: number;
    memory: number;
    /** The tasks' CPU architecture; the image is built for the same platform. */
    cpuArchitecture: "X86_64" | "ARM64";
    /** The ElastiCache node type of the shared rate-limit store (gateway.rateLimits.store shared). */
    rateLimitStoreNodeType: string;
    logRetentionDays: number;
}

export interface StackConfig {
    project: string;
    stack: string;
    okta: { orgName: string; baseUrl: string; orgUrl: string };
    /**
     * A production stack (`<project>:production`, required): the server and every app are
     * protected from deletion and replacement, created or adopted; the rate-limit store is
     * Multi-AZ; images and delivered secrets are kept on destroy; the gateway needs a DNS name and
     * cannot be `local`. One key, read once, passed by this name to every component.
     */
    production: boolean;
    authorizationServer: AuthorizationServerSpec;
    scopes: ScopeSpec[];
    claims: ClaimSpec[];
    consumers: ConsumerSpec[];
    credentialDelivery: CredentialDeliverySpec;
    /**
     * The client that introspects tokens: for the gateway when its validation mode asks the
     * authorization server (introspection, hybrid), or for MuleSoft's policy when the stack has no
     * gateway. Absent with a `jwt` gateway, which never introspects.
     */
    introspectionClient?: { label: string; auth: { method: "private_key_jwt"; keyIds: string[] } | { method: "client_secret_basic" } };
    /** The gateway deployment; absent: Okta only (e.g. teams still enforcing tokens in Anypoint). */
    gateway?: GatewaySpec;
}

/** A value and where it came from: a config key (`okta:orgName`) or an environment variable. */
export interface Sourced<T> {
    value: T;
    from: string;
}

/** The three ways the Okta provider authenticates; it accepts exactly one. */
export type OktaCredential = "privateKey" | "apiToken" | "accessToken";

/** Raw values as they come from the stack: untyped, possibly absent. */
export interface RawStackConfig {
    /** Secrets set in plain text, where everyone who reads the stack file reads them: the key and what it holds (never the value). */
    plaintextSecrets: { key: string; what: string }[];
    /** Every key set in the Okta provider's namespace, without `okta:`. */
    oktaKeys: string[];
    /** Every key set in the project's namespace, without the namespace (`gateway`, `gatway`…). */
    projectKeys: string[];
    production?: unknown;
    authorizationServer?: unknown;
    consumers?: unknown;
    credentialDelivery?: unknown;
    introspectionClient?: unknown;
    gateway?: unknown;
    okta: {
        orgName?: Sourced<string>;
        baseUrl?: Sourced<string>;
        /** Every credential set, in config or in the environment, with where it was found. */
        credentials: Sourced<OktaCredential>[];
        clientId?: Sourced<string>;
        scopes?: Sourced<unknown>;
    };
}

export class StackConfigError extends pulumi.RunError {
    constructor(
        readonly problems: string[],
        stackFile?: string,
    ) {
        super(
            `Invalid stack configuration${stackFile ? ` in ${stackFile}` : ""} (${problems.length} problem${problems.length === 1 ? "" : "s"}); ` +
                `nothing was declared:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
        );
        this.name = "StackConfigError";
    }
}
