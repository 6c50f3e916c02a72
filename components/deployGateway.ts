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
    const credential = okta.introspection.credential;
    const environment = pulumi
        .all([okta.authServer.issuer, okta.authServer.audience, okta.introspection.clientId])
        .apply(([issuer, audience, introspectionClientId]) => ({
            ...gatewayEnvironment(spec, { issuer, audience, introspectionClientId }),
            // Which of the client's keys signs (its id in the app's JWKS); the key itself is secret.
            ...(credential.variable === "INTROSPECTION_CLIENT_PRIVATE_KEY" ? { INTROSPECTION_CLIENT_KEY_ID: credential.keyId } : {}),
        }));
    const introspectionCredential = { variable: credential.variable, value: credential.value };
    return spec.target === "local"
        ? new LocalGateway("gateway", { environment, introspectionCredential, port: spec.local.port, adminPort: spec.local.adminPort })
        : new AwsGateway("gateway", { environment, introspectionCredential, settings: spec.aws, production: opts.production });
}
