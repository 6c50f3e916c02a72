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

export function deployGateway(
    spec: GatewaySpec,
    okta: { authServer: AuthorizationServer; introspection: IntrospectionClient },
    opts: { production: boolean },
): DeployedGateway {
    const environment = pulumi
        .all([okta.authServer.issuer, okta.authServer.audience, okta.introspection.clientId])
        .apply(([issuer, audience, introspectionClientId]) => gatewayEnvironment(spec, { issuer, audience, introspectionClientId }));
    const introspectionClientSecret = okta.introspection.clientSecret;
    return spec.target === "local"
        ? new LocalGateway("gateway", { environment, introspectionClientSecret, port: spec.local.port, adminPort: spec.local.adminPort })
        : new AwsGateway("gateway", { environment, introspectionClientSecret, settings: spec.aws, production: opts.production });
}
