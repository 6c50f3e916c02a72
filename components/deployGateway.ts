// Picks the gateway's deployment target for the stack and wires it with what the Okta components
// created: the issuer and audience of the authorization server, the introspection client (when
// the validation mode introspects), and each limited consumer's client id.
import * as pulumi from "@pulumi/pulumi";
import type { AuthorizationServer } from "./authorizationServer";
import { AwsGateway } from "./awsGateway";
import type { OktaWiring } from "./gatewayEnvironment";
import type { IntrospectionClient } from "./introspectionClient";
import { LocalGateway } from "./localGateway";
import type { GatewaySpec } from "./stackConfig/index";

export interface DeployedGateway {
    url: pulumi.Output<string>;
    imageRef: pulumi.Output<string>;
    /** The CloudWatch dashboard (AWS target only). */
    dashboardName?: pulumi.Output<string>;
    /** API name → its CloudWatch dashboard (AWS target only). */
    apiDashboards?: pulumi.Output<Record<string, string>>;
}

/** A consumer as the gateway knows it: its name (the metrics' `consumer` label), its client id (known once Okta created the app) and its own tier, if any. */
export interface GatewayConsumer {
    name: string;
    clientId: pulumi.Output<string>;
    tier?: string;
}

/** The introspection client's secret or private key, as the target delivers it to the container (a secret). */
export interface IntrospectionCredential {
    variable: string;
    value: pulumi.Input<string>;
}

export function deployGateway(
    spec: GatewaySpec,
    okta: { authServer: AuthorizationServer; introspection?: IntrospectionClient; consumers: GatewayConsumer[] },
    opts: { production: boolean },
): DeployedGateway {
    const credential = okta.introspection?.credential;
    const consumerIds = pulumi.all(okta.consumers.map((c) => c.clientId));
    const consumerTiers = consumerIds.apply((ids) =>
        Object.fromEntries(ids.flatMap((id, i) => (okta.consumers[i].tier ? [[id, okta.consumers[i].tier as string]] : []))),
    );
    const consumerNames = consumerIds.apply((ids) => Object.fromEntries(ids.map((id, i) => [id, okta.consumers[i].name])));
    const kms = credential?.variable === "INTROSPECTION_CLIENT_KMS_KEY_ARN" ? credential : undefined;
    if (kms && spec.target !== "aws") throw new Error("the introspection client's keys are in AWS KMS: only the aws target can sign with them");
    const wiring: pulumi.Output<OktaWiring> = pulumi
        .all([okta.authServer.issuer, okta.authServer.audience, okta.introspection?.clientId, consumerTiers, consumerNames, kms?.keyArn])
        .apply(([issuer, audience, introspectionClientId, tiers, names, kmsKeyArn]) => ({
            issuer,
            audience,
            introspectionClientId,
            introspectionClientKeyId: credential && credential.variable !== "INTROSPECTION_CLIENT_SECRET" ? credential.keyId : undefined,
            introspectionClientKmsKeyArn: kmsKeyArn,
            consumerTiers: tiers,
            consumerNames: names,
        }));
    // The secret or private key, for the target to deliver its own secret way; a KMS key is not one (its ARN is a setting).
    const introspectionCredential =
        credential && credential.variable !== "INTROSPECTION_CLIENT_KMS_KEY_ARN" ? { variable: credential.variable, value: credential.value } : undefined;
    return spec.target === "local"
        ? new LocalGateway("gateway", { gateway: spec, okta: wiring, introspectionCredential })
        : new AwsGateway("gateway", {
              gateway: spec,
              okta: wiring,
              introspectionCredential,
              signingKeyArns: kms?.signingKeyArns,
              production: opts.production,
              consumerNames: okta.consumers.map((c) => c.name),
          });
}
