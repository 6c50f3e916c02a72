import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { RateTier } from "../policy-gateway/src/limits/rateLimitPlan";
import * as pulumiservice from "@pulumi/pulumiservice";
import { stringify as toYaml } from "yaml";
import type { CredentialDeliverySpec } from "./stackConfig/index";

/** What one consumer receives: its client id, its secret when the stack generated one, and where to use them. */
export interface ConsumerCredentials {
    /** The consumer's slug. */
    consumer: string;
    /** Who may read this consumer's delivery: Pulumi Cloud teams (esc) or IAM principal ARNs (awsSecretsManager). */
    readers: string[];
    clientId: pulumi.Input<string>;
    /** How the app authenticates at the token endpoint, as Okta has it. */
    authMethod: pulumi.Input<string>;
    /** Secret; absent for a private_key_jwt consumer (it holds its key) and an adopted one (it keeps its secret). */
    clientSecret?: pulumi.Output<string>;
    scopes: string[];
    /** Its limit as the gateway enforces it, or null when it is not limited. */
    rateLimit: ({ tier: string } & RateTier) | null;
}

export interface CredentialDeliveryArgs {
    method: Exclude<CredentialDeliverySpec, { method: "stackOutputs" | "none" }>;
    /** For the delivery's own description and environment names. */
    project: string;
    stack: string;
    issuer: pulumi.Input<string>;
    tokenUrl: pulumi.Input<string>;
    /** The audience the consumer's tokens carry. */
    audience: pulumi.Input<string>;
    /** Where the consumer calls the API (the AWS target's gateway); absent when there is none to publish. */
    gatewayUrl?: pulumi.Input<string | undefined>;
    /** Consumers whose secret this stack generated, and consumers without one that name readers. */
    consumers: ConsumerCredentials[];
    /** A production stack: the Secrets Manager secrets and their key are protected (a destroy would strand every consumer). */
    protect?: boolean;
}

/** Where a consumer finds its credentials, for the stack outputs (no secret in it). */
export interface DeliveryLocation {
    method: "esc" | "awsSecretsManager";
    /** `<org>/<project>/<environment>` for ESC, the secret's ARN for Secrets Manager. */
    location: pulumi.Output<string>;
    /** The command that shows the consumer its credentials (run as one of its readers). */
    read: pulumi.Output<string>;
}

/**
 * Each consumer's client secret reaches that consumer and no other: one Pulumi ESC environment,
 * or one AWS Secrets Manager secret, per consumer, readable only by the readers the stack file
 * names for it. The stack's own outputs then carry no consumer secret, so a team that may read
 * the stack (a StackReference, `pulumi stack output`) learns no other team's secret.
 */
export class CredentialDelivery extends pulumi.ComponentResource {
    public readonly locations: Record<string, DeliveryLocation> = {};

    constructor(name: string, args: CredentialDeliveryArgs, opts?: pulumi.ComponentResourceOptions) {
        super("okta-api-gateway:delivery:CredentialDelivery", name, {}, opts);
        const method = args.method;
        if (method.method === "esc") {
            if (args.consumers.some((c) => c.clientSecret)) pulumi.log.warn(escPrecondition(method.organization), this);
            for (const c of args.consumers) this.locations[c.consumer] = this.escEnvironment(name, method, args, c);
        } else if (args.consumers.length > 0) {
            // No generated secret (every consumer private_key_jwt or adopted): nothing to deliver,
            // so no key either; its policy would name no reader, which KMS refuses.
            const key = deliveryKey(
                name,
                args.consumers.flatMap((c) => c.readers),
                this,
                args.protect ?? false,
            );
            for (const c of args.consumers) this.locations[c.consumer] = this.awsSecret(name, method, args, c, key);
        }
        this.registerOutputs({ locations: this.locations });
    }

    /**
     * One ESC environment per consumer, opened by its teams only (TeamEnvironmentPermission
     * `open`, "Permission to open and read the environment"; `read` is "Permission to read
     * environment definition only", which leaves fn::secret values encrypted: @pulumi/pulumiservice
     * types/enums EnvironmentPermission, and Pulumi ESC docs, "fn::secret").
     * The secret is written as `fn::secret: <plaintext>`, which ESC encrypts on save and never
     * stores in plaintext (Pulumi ESC docs, "fn::secret": "Plaintext form"). The consumer runs
     * `esc run <org>/<project>/<env> -- <command>` and gets OKTA_* environment variables, or
     * imports the environment into its own stack.
     */
    private escEnvironment(
        name: string,
        method: Extract<CredentialDeliverySpec, { method: "esc" }>,
        args: CredentialDeliveryArgs,
        c: ConsumerCredentials,
    ): DeliveryLocation {
        const environment = `${c.consumer}-${args.stack}`;
        const definition = pulumi
            .all([consumerFactsOf(args, c), c.clientSecret])
            .apply(([facts, clientSecret]) => escDefinition({ consumer: c.consumer, facts, clientSecret, origin: `${args.project}/${args.stack}` }));
        // Secret end to end when it holds the client secret; plain (and so reviewable in the preview) when it holds none.
        const yaml = (c.clientSecret ? pulumi.secret(definition) : definition).apply((text) => new pulumi.asset.StringAsset(text));
        const env = new pulumiservice.Environment(
            `${name}-${c.consumer}`,
            {
                organization: method.organization,
                project: method.project,
                name: environment,
                yaml,
            },
            { parent: this },
        );
        for (const team of c.readers) {
            new pulumiservice.TeamEnvironmentPermission(
                `${name}-${c.consumer}-${team}`,
                { organization: method.organization, project: method.project, environment, team, permission: "open" },
                { parent: this, dependsOn: [env] },
            );
        }
        const location = pulumi.interpolate`${method.organization}/${method.project}/${env.name}`;
        return { method: "esc", location, read: pulumi.interpolate`esc env open ${location}` };
    }

    /**
     * One Secrets Manager secret per consumer, encrypted with the stack's delivery key and with a
     * resource policy naming that consumer's readers only. A principal in another account needs
     * both: the secret's resource policy, and a customer managed key whose key policy lets it
     * decrypt (the AWS managed `aws/secretsmanager` key cannot be shared across accounts; AWS
     * Secrets Manager User Guide, "Access AWS Secrets Manager secrets from a different account").
     */
    private awsSecret(
        name: string,
        method: Extract<CredentialDeliverySpec, { method: "awsSecretsManager" }>,
        args: CredentialDeliveryArgs,
        c: ConsumerCredentials,
        key: aws.kms.Key,
    ): DeliveryLocation {
        const secret = new aws.secretsmanager.Secret(
            `${name}-${c.consumer}`,
            {
                // The consumer's name and its app's client id: stable while the app lives, and new
                // for a consumer removed and added again (a new app). A fixed name would stay taken
                // for the recovery window after the removal, and the re-added consumer's secret
                // could not be created (Secrets Manager DeleteSecret: "you can't create a new
                // secret with the same name" until the recovery window ends).
                name: pulumi.interpolate`${method.namePrefix}${c.consumer}-${c.clientId}`,
                description: c.clientSecret
                    ? `Okta client credentials of ${c.consumer} (${args.project}/${args.stack}); managed by Pulumi, readable by its readers only`
                    : `What ${c.consumer} needs to get tokens (${args.project}/${args.stack}); no secret: it holds its own key or credential; managed by Pulumi`,
                kmsKeyId: key.arn,
                recoveryWindowInDays: method.recoveryWindowInDays,
                tags: { consumer: c.consumer, "pulumi:project": args.project, "pulumi:stack": args.stack },
            },
            { parent: this, protect: args.protect ?? false },
        );
        new aws.secretsmanager.SecretVersion(
            `${name}-${c.consumer}-version`,
            {
                secretId: secret.id,
                secretString: c.clientSecret
                    ? pulumi.secret(
                          pulumi.all([consumerFactsOf(args, c), c.clientSecret]).apply(([facts, clientSecret]) => JSON.stringify({ ...facts, clientSecret })),
                      )
                    : consumerFactsOf(args, c).apply((facts) => JSON.stringify(facts)),
            },
            { parent: this },
        );
        new aws.secretsmanager.SecretPolicy(
            `${name}-${c.consumer}-policy`,
            {
                secretArn: secret.arn,
                policy: JSON.stringify(secretReadPolicy(c.readers)),
                // Refuses any policy that would open the secret to everyone (AWS PutResourcePolicy BlockPublicPolicy).
                blockPublicPolicy: true,
            },
            { parent: this },
        );
        return {
            method: "awsSecretsManager",
            location: secret.arn,
            read: pulumi.interpolate`aws secretsmanager get-secret-value --secret-id ${secret.arn} --query SecretString --output text`,
        };
    }
}

/**
 * What each consumer's ESC environment relies on and no provider can read: the organization's
 * default environment permission, which every member has on every environment, must be `none` or
 * `read`; Pulumi's default is `write`, which opens every consumer's secret to every member (Pulumi
 * ESC docs, "Access control": Organization-wide permissions). @pulumi/pulumiservice has no call
 * that reads it, so the preview says it on every run. Pure.
 */
export function escPrecondition(organization: string): string {
    return (
        `credentialDelivery esc: each consumer's environment is isolated only if the default environment permission of the Pulumi Cloud organization ` +
        `${organization} is none or read (Settings → Access Management); Pulumi's default is write, which lets every member open every consumer's secret`
    );
}

/**
 * What a consuming team needs beside its secret, published with it in the place it already opens
 * (its ESC environment, its Secrets Manager secret): how to get a token (issuer, token URL, client
 * id, scope, audience), where to call the API, and the limit it is held to. Nothing secret; one
 * function for both delivery methods, so they cannot drift. Pure.
 */
export function consumerFacts(f: {
    issuer: string;
    tokenUrl: string;
    audience: string;
    clientId: string;
    authMethod: string;
    scopes: string[];
    gatewayUrl?: string;
    rateLimit: ({ tier: string } & RateTier) | null;
}): ConsumerFacts {
    return {
        issuer: f.issuer,
        tokenUrl: f.tokenUrl,
        clientId: f.clientId,
        tokenEndpointAuthMethod: f.authMethod,
        scope: f.scopes.join(" "),
        audience: f.audience,
        ...(f.gatewayUrl ? { gatewayUrl: f.gatewayUrl } : {}),
        rateLimit: f.rateLimit,
    };
}

export interface ConsumerFacts {
    issuer: string;
    tokenUrl: string;
    clientId: string;
    /** client_secret_basic (the secret is beside it), private_key_jwt (the consumer signs with its own key), or what an adopted app uses. */
    tokenEndpointAuthMethod: string;
    scope: string;
    audience: string;
    gatewayUrl?: string;
    rateLimit: ({ tier: string } & RateTier) | null;
}

function consumerFactsOf(args: CredentialDeliveryArgs, c: ConsumerCredentials): pulumi.Output<ConsumerFacts> {
    return pulumi
        .all([args.issuer, args.tokenUrl, args.audience, c.clientId, c.authMethod, args.gatewayUrl])
        .apply(([issuer, tokenUrl, audience, clientId, authMethod, gatewayUrl]) =>
            consumerFacts({ issuer, tokenUrl, audience, clientId, authMethod, scopes: c.scopes, gatewayUrl, rateLimit: c.rateLimit }),
        );
}

/** The ESC environment definition of one consumer; without a client secret, its facts alone. Pure. */
export function escDefinition(c: { consumer: string; facts: ConsumerFacts; clientSecret?: string; origin: string }): string {
    const doc = {
        values: {
            okta: { ...c.facts, ...(c.clientSecret !== undefined ? { clientSecret: { "fn::secret": c.clientSecret } } : {}) },
            environmentVariables: {
                OKTA_ISSUER: "${okta.issuer}",
                OKTA_TOKEN_URL: "${okta.tokenUrl}",
                OKTA_CLIENT_ID: "${okta.clientId}",
                ...(c.clientSecret !== undefined ? { OKTA_CLIENT_SECRET: "${okta.clientSecret}" } : {}),
                OKTA_SCOPE: "${okta.scope}",
                OKTA_AUDIENCE: "${okta.audience}",
                ...(c.facts.gatewayUrl ? { API_BASE_URL: "${okta.gatewayUrl}" } : {}),
            },
        },
    };
    const what =
        c.clientSecret !== undefined ? "Okta client credentials" : `What ${c.consumer} needs to get tokens (no secret: it holds its own key or credential)`;
    return `# ${c.clientSecret !== undefined ? `${what} of ${c.consumer}` : what}, written by the Pulumi stack ${c.origin}: change the stack, not this environment.\n${toYaml(doc)}`;
}

/** The resource policy of one consumer's secret: its readers may read it. Pure. */
export function secretReadPolicy(readers: string[]) {
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "ConsumerReadsItsCredentials",
                Effect: "Allow",
                Principal: { AWS: readers },
                Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                Resource: "*",
            },
        ],
    };
}

/**
 * The key policy of the delivery key: the account administers it through IAM (AWS KMS Developer
 * Guide, "Default key policy": without this statement the key becomes unmanageable), and the
 * consumers' readers may decrypt with it only through Secrets Manager (`kms:ViaService`), so it
 * opens nothing but the secrets whose own policies name them. Pure.
 */
export function deliveryKeyPolicy(account: string, partition: string, region: string, readers: string[]) {
    const principals = [...new Set(readers)];
    return {
        Version: "2012-10-17",
        Statement: [
            { Sid: "AccountAdministersTheKey", Effect: "Allow", Principal: { AWS: `arn:${partition}:iam::${account}:root` }, Action: "kms:*", Resource: "*" },
            // A statement must name a principal (KMS CreateKey refuses "a statement with no principal").
            ...(principals.length
                ? [
                      {
                          Sid: "ReadersDecryptThroughSecretsManager",
                          Effect: "Allow",
                          Principal: { AWS: principals },
                          Action: ["kms:Decrypt", "kms:DescribeKey"],
                          Resource: "*",
                          Condition: { StringEquals: { "kms:ViaService": `secretsmanager.${region}.amazonaws.com` } },
                      },
                  ]
                : []),
        ],
    };
}

function deliveryKey(name: string, readers: string[], parent: pulumi.Resource, protect: boolean): aws.kms.Key {
    const identity = aws.getCallerIdentityOutput({}, { parent });
    const region = aws.getRegionOutput({}, { parent });
    const partition = aws.getPartitionOutput({}, { parent });
    return new aws.kms.Key(
        `${name}-key`,
        {
            description: "Encrypts the Okta client credentials delivered to each consumer (okta-api-gateway)",
            enableKeyRotation: true,
            policy: pulumi
                .all([identity.accountId, partition.partition, region.region])
                .apply(([account, partition, r]) => JSON.stringify(deliveryKeyPolicy(account, partition, r, readers))),
        },
        // Deleting it makes every delivered secret unreadable: protected in production.
        { parent, protect },
    );
}
