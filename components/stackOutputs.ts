// The stack's outputs as a contract: the zod schema every output is checked against, the
// TypeScript type a consuming program can import, and (generated from it by `npm run schema`)
// stack-outputs.schema.json for any other language. docs/reference/outputs.md says who reads what.
import { z } from "zod";

/**
 * Where a consumer's credentials are, as `consumerClients.<name>.credentials.method`:
 * - `esc`: its own Pulumi ESC environment (`location`, `read` the command);
 * - `awsSecretsManager`: its own Secrets Manager secret (`location` its ARN, `read` the command);
 * - `stackOutputs`: its secret is in `consumerClientSecrets` (opt-in);
 * - `adopted`: an adopted app, which keeps the secret or key it already has; nothing is delivered;
 * - `private_key_jwt`: no secret exists, the consumer holds its private key; nothing is delivered.
 * A consumer with `readers` is delivered its facts by `esc` or `awsSecretsManager` even without a secret.
 */
export const CREDENTIAL_METHODS = ["esc", "awsSecretsManager", "stackOutputs", "adopted", "private_key_jwt"] as const;
export type CredentialMethod = (typeof CREDENTIAL_METHODS)[number];

const url = z.url();

const rateLimitOutput = z
    .strictObject({
        tier: z.string(),
        perSecond: z.number().optional(),
        burst: z.number().optional(),
        perMinute: z.number().optional(),
        maxInFlight: z.number().optional(),
    })
    .nullable();

export const consumerClientOutputSchema = z.strictObject({
    clientId: z.string().min(1),
    tokenEndpointAuthMethod: z.enum(["client_secret_basic", "private_key_jwt"]),
    scopes: z.array(z.string()),
    accessTokenLifetimeMinutes: z.number().int(),
    adopted: z.boolean(),
    /** The limit the gateway holds the consumer to, or null when it is not limited. */
    rateLimit: rateLimitOutput,
    credentials: z.strictObject({
        method: z.enum(CREDENTIAL_METHODS),
        /** The ESC environment or the secret's ARN (esc, awsSecretsManager). */
        location: z.string().optional(),
        /** The command the consumer's readers run to read it (esc, awsSecretsManager). */
        read: z.string().optional(),
    }),
});

const openApiFragmentOutput = z.looseObject({
    openapi: z.literal("3.1.0"),
    security: z.array(z.record(z.string(), z.array(z.string()))),
    components: z.looseObject({}),
});
const ramlFragment = z.string().startsWith("#%RAML 1.0 SecurityScheme");

/** The stack's outputs, as `pulumi stack output --json` shows them (secrets shown with `--show-secrets`). Absent ones are not set on this target. */
export const stackOutputsSchema = z.strictObject({
    issuer: url,
    authorizationServerId: z.string().min(1),
    metadataUrl: url,
    tokenUrl: url,
    introspectionUrl: url,
    jwksUrl: url,
    audience: z.string().min(1),
    scopes: z.array(z.string()),
    consumerClients: z.record(z.string(), consumerClientOutputSchema),
    /** Secret; with credentialDelivery.method stackOutputs only. */
    consumerClientSecrets: z.record(z.string(), z.string()).optional(),
    introspectionClientId: z.string().optional(),
    introspectionAuthMethod: z.enum(["client_secret_basic", "private_key_jwt"]).optional(),
    apiPublication: z.strictObject({ method: z.enum(["esc", "awsSecretsManager"]), location: z.string(), read: z.string() }).optional(),
    openApiSecuritySchemesEntry: z.record(z.string(), z.unknown()),
    /** With a gateway: a partial OpenAPI 3.1 document (security per operation, the gateway's answers). */
    openApiFragment: openApiFragmentOutput.optional(),
    ramlSecuritySchemeFragment: ramlFragment,
    /** With gateway.apis: each API behind the gateway, by name. */
    apis: z
        .record(
            z.string(),
            z.strictObject({
                pathPrefix: z.string().startsWith("/"),
                hosts: z.array(z.string()).optional(),
                /** The AWS target's gateway URL and the prefix. */
                url: url.optional(),
                scopes: z.array(z.string()),
                consumers: z.array(z.string()),
                openApiFragment: openApiFragmentOutput,
                ramlSecurityScheme: ramlFragment,
            }),
        )
        .optional(),
    /** The AWS target's gateway, where consumers call the API. */
    gatewayUrl: url.optional(),
    /** The local target's gateway, for whoever ran `pulumi up`. */
    localGatewayUrl: url.optional(),
    gatewayImage: z.string().optional(),
    gatewayDashboard: z.string().optional(),
    /** AWS target: API name → its CloudWatch dashboard. */
    apiDashboards: z.record(z.string(), z.string()).optional(),
});

/** What a program reading this stack's outputs gets: `import type { StackOutputs } from "<this repo>/components/stackOutputs"`. */
export type StackOutputs = z.infer<typeof stackOutputsSchema>;
export type ConsumerClientOutput = z.infer<typeof consumerClientOutputSchema>;
