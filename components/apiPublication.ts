import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as pulumiservice from "@pulumi/pulumiservice";
import { stringify as toYaml } from "yaml";
import type { DeliveryLocation } from "./credentialDelivery";
import type { ApiFacts } from "./outputs";
import type { CredentialDeliverySpec } from "./stackConfig/index";

export interface ApiPublicationArgs {
    /** Where the consumers' credentials go decides where the API's facts go: beside them. */
    method: Exclude<CredentialDeliverySpec, { method: "stackOutputs" | "none" }>;
    project: string;
    stack: string;
    facts: pulumi.Input<ApiFacts>;
}

/**
 * What the API team (and anyone documenting or testing the API) needs, published once where it
 * can be read without any access to the stack: the issuer and its metadata, JWKS and token URLs,
 * the audience and scopes, the gateway's URL, and the OpenAPI and RAML security schemes. Nothing
 * secret, so it is plain text: with ESC, an environment `api-<stack>` beside the consumers'
 * (readable by the `apiReaders` teams; `read` shows a definition, and nothing in it is secret);
 * with Secrets Manager, an SSM parameter `/<project>/<stack>/api` (a String, not a SecureString:
 * readable by whoever IAM allows `ssm:GetParameter` on it). Only the platform team reads the stack.
 */
export class ApiPublication extends pulumi.ComponentResource {
    public readonly location: DeliveryLocation;

    constructor(name: string, args: ApiPublicationArgs, opts?: pulumi.ComponentResourceOptions) {
        super("okta-api-gateway:delivery:ApiPublication", name, {}, opts);
        const method = args.method;
        const origin = `${args.project}/${args.stack}`;
        if (method.method === "esc") {
            const environment = `api-${args.stack}`;
            const env = new pulumiservice.Environment(
                `${name}-esc`,
                {
                    organization: method.organization,
                    project: method.project,
                    name: environment,
                    yaml: pulumi.output(args.facts).apply((facts) => new pulumi.asset.StringAsset(apiEscDefinition(facts, origin))),
                },
                { parent: this },
            );
            for (const team of method.apiReaders)
                new pulumiservice.TeamEnvironmentPermission(
                    `${name}-esc-${team}`,
                    { organization: method.organization, project: method.project, environment, team, permission: "read" },
                    { parent: this, dependsOn: [env] },
                );
            const location = pulumi.interpolate`${method.organization}/${method.project}/${env.name}`;
            this.location = { method: "esc", location, read: pulumi.interpolate`esc env get ${location}` };
        } else {
            const parameter = new aws.ssm.Parameter(
                `${name}-parameter`,
                {
                    name: `/${args.project}/${args.stack}/api`,
                    type: "String",
                    // Above 4 KB a Standard parameter is refused; Intelligent-Tiering picks Advanced only then (SSM PutParameter, Tier).
                    tier: "Intelligent-Tiering",
                    description: `What the API behind ${origin} publishes for its teams (nothing secret); managed by Pulumi`,
                    // `insecureValue`, not `value`, which pulumi-aws always marks secret
                    // (ssm.Parameter: additionalSecretOutputs ["value"]): these facts are for reading.
                    insecureValue: pulumi.output(args.facts).apply((facts) => JSON.stringify(facts)),
                    tags: { "pulumi:project": args.project, "pulumi:stack": args.stack },
                },
                { parent: this },
            );
            this.location = {
                method: "awsSecretsManager",
                location: parameter.arn,
                read: pulumi.interpolate`aws ssm get-parameter --name ${parameter.name} --query Parameter.Value --output text`,
            };
        }
        this.registerOutputs({ location: this.location });
    }
}

/** The ESC environment definition of the API's facts: plain values, and the variables a test or a doc build uses. Pure. */
export function apiEscDefinition(facts: ApiFacts, origin: string): string {
    const doc = {
        values: {
            api: facts,
            environmentVariables: {
                OKTA_ISSUER: "${api.issuer}",
                OKTA_JWKS_URL: "${api.jwksUrl}",
                OKTA_TOKEN_URL: "${api.tokenUrl}",
                OKTA_AUDIENCE: "${api.audience}",
                ...(facts.gatewayUrl ? { API_BASE_URL: "${api.gatewayUrl}" } : {}),
            },
        },
    };
    return `# What the API behind the Pulumi stack ${origin} publishes for its teams (nothing secret): change the stack, not this environment.\n${toYaml(doc)}`;
}
