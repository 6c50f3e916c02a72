// Picks the gateway's deployment target for the stack and wires it with what the Okta components
// created: the issuer and audience of the authorization server, the introspection client.
import * as pulumi from "@pulumi/pulumi";
import type { AuthorizationServer } from "./authorizationServer";
import { AwsGateway } from "./awsGateway";
import { gatewayEnvironment } from "./gatewayEnvironment";
import type { IntrospectionClient } from "./introspectionClient";
import { LocalGateway } from "./localGateway";
import type { GatewaySpec } from "./stackConfig";

export interface DeployedGateway {
    url: pulumi.Output<string>;
    imageRef: pulumi.Output<string>;
    /** The CloudWatch dashboard (AWS target only). */
    dashboardName?: pulumi.Output<string>;
}

/** A consumer the gateway limits by its own tier: its client id (known once Okta created the app) and the tier. */
export interface TieredConsumer {
    clientId: pulumi.Output<string>;
    tier: string;
}

export function deployGateway(
    spec: GatewaySpec,
    okta: { authServer: AuthorizationServer; introspection: IntrospectionClient; tieredConsumers: TieredConsumer[] },
    opts: { production: boolean },
): DeployedGateway {
    const credential = okta.introspection.credential;
    const consumerTiers = pulumi
        .all(okta.tieredConsumers.map((c) => c.clientId))
        .apply((ids) => Object.fromEntries(ids.map((id, i) => [id, okta.tieredConsumers[i].tier])));
    const environment = pulumi
        .all([okta.authServer.issuer, okta.authServer.audience, okta.introspection.clientId, consumerTiers])
        .apply(([issuer, audience, introspectionClientId, tiers]) => ({
            ...gatewayEnvironment(spec, { issuer, audience, introspectionClientId, consumerTiers: tiers }),
            // Which of the client's keys signs (its id in the app's JWKS); the key itself is secret.
            ...(credential.variable === "INTROSPECTION_CLIENT_PRIVATE_KEY" ? { INTROSPECTION_CLIENT_KEY_ID: credential.keyId } : {}),
        }));
    const introspectionCredential = { variable: credential.variable, value: credential.value };
    return spec.target === "local"
        ? new LocalGateway("gateway", { environment, introspectionCredential, port: spec.local.port, adminPort: spec.local.adminPort })
        : new AwsGateway("gateway", { environment, introspectionCredential, settings: spec.aws, rateLimits: spec.rateLimits, production: opts.production });
}
