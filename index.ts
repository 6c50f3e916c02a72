// Okta API Access Management as code.
//
//   consumers ──client credentials──▶ Okta authorization server ◀──introspect── gateway ──▶ API
//                                      ├─ scopes (+ claims)                       (policy-gateway/)
//                                      ├─ access policy + rule per consumer
//                                      └─ apps: one per consumer + the introspection client
//   gateway: built from policy-gateway/, run locally (Docker) or on AWS (ECS Fargate + ALB)
import * as okta from "@pulumi/okta";
import * as pulumi from "@pulumi/pulumi";
import { AccessPolicies } from "./components/accessPolicies";
import { AuthorizationServer } from "./components/authorizationServer";
import { AwsGateway } from "./components/awsGateway";
import { ConsumerApp } from "./components/consumerApp";
import { gatewayEnvironment } from "./components/gatewayEnvironment";
import { IntrospectionClient } from "./components/introspectionClient";
import { LocalGateway } from "./components/localGateway";
import { clientRegistrationUrl, openApiSecuritySchemes } from "./components/outputs";
import { loadStackConfig } from "./components/stackConfig";

// Validated as a whole before anything is declared: a bad stack file creates nothing.
const config = loadStackConfig();

// 1. The authorization server, its scopes and claims.
const server = config.authorizationServer;
const authServer = new AuthorizationServer("api", {
    ...(server.kind === "existing"
        ? { existingServerId: server.id }
        : {
              name: server.name,
              description: server.description,
              audience: server.audience,
              issuerMode: server.issuerMode,
              protect: server.protect,
          }),
    scopes: config.scopes,
    claims: config.claims,
});

// 2. One service app per consuming system, assigned to its groups (Everyone unless configured).
const everyone = config.consumers.some((c) => !c.groups) ? okta.group.getEveryoneGroupOutput() : undefined;
const consumers = config.consumers.map(
    (c) =>
        new ConsumerApp(c.name, {
            label: c.label,
            jwks: c.jwks,
            groupIds: c.groups ?? [everyone!.id],
        }),
);

// 3. Least-privilege access: each consumer gets exactly its scopes, nothing else.
new AccessPolicies("access", {
    authServerId: authServer.id,
    scopes: authServer.scopes,
    grants: config.consumers.map((c, i) => ({
        consumer: c.name,
        clientId: consumers[i].clientId,
        scopes: c.scopes,
        accessTokenLifetimeMinutes: c.accessTokenLifetimeMinutes,
    })),
});

// 4. The client the gateway authenticates with when it introspects tokens.
const introspection = new IntrospectionClient("introspection", { label: config.introspectionClient.label });

// 5. The gateway in front of the API, wired with what the stack just created:
//    a local Docker container for dev, ECS Fargate behind a load balancer for real environments.
const gatewaySpec = config.gateway;
const gateway = gatewaySpec
    ? (() => {
          const environment = pulumi
              .all([authServer.issuer, authServer.audience, introspection.clientId])
              .apply(([issuer, aud, introspectionClientId]) => gatewayEnvironment(gatewaySpec, { issuer, audience: aud, introspectionClientId }));
          const wiring = { environment, introspectionClientSecret: introspection.clientSecret };
          return gatewaySpec.target === "local"
              ? new LocalGateway("gateway", { ...wiring, port: gatewaySpec.local.port, adminPort: gatewaySpec.local.adminPort })
              : new AwsGateway("gateway", { ...wiring, settings: gatewaySpec.aws });
      })()
    : undefined;

// ---- Stack outputs, for the teams that consume this API and for the gateway deployment.
const endpoints = authServer.endpoints;
export const authorizationServerId = authServer.id;
export const issuer = authServer.issuer;
export const metadataUrl = endpoints.metadataUrl;
export const tokenUrl = endpoints.tokenUrl;
export const introspectionUrl = endpoints.introspectionUrl;
export const jwksUrl = endpoints.jwksUrl;
export const audience = authServer.audience;
export const scopes = config.scopes.map((s) => s.name);

/** Per consumer: its client id and what it may ask for. Secrets are in consumerClientSecrets. */
export const consumerClients = Object.fromEntries(
    config.consumers.map((c, i) => [
        c.name,
        {
            clientId: consumers[i].clientId,
            tokenEndpointAuthMethod: consumers[i].tokenEndpointAuthMethod,
            scopes: c.scopes,
            accessTokenLifetimeMinutes: c.accessTokenLifetimeMinutes,
        },
    ]),
);
/** Per consumer using client_secret_basic: its client secret (secret output). */
export const consumerClientSecrets = pulumi.secret(
    pulumi.all(
        Object.fromEntries(
            consumers.flatMap((app, i) => (app.clientSecret ? [[config.consumers[i].name, app.clientSecret]] : [])),
        ) as Record<string, pulumi.Output<string>>,
    ),
);

export const introspectionClientId = introspection.clientId;
export const introspectionClientSecret = introspection.clientSecret;

/** Paste under `components.securitySchemes` in the API's OpenAPI 3 document. */
export const openApiSecuritySchemesEntry = tokenUrl.apply((url) => openApiSecuritySchemes(url, config.scopes));

/** Anypoint Access Management → External Identity → "OpenID Connect Dynamic Client Registration". */
export const anypointDynamicClientRegistration = {
    issuer: authServer.issuer,
    clientRegistrationUrl: clientRegistrationUrl(config.okta.orgUrl),
    authorizeUrl: endpoints.authorizeUrl,
    tokenUrl: endpoints.tokenUrl,
    introspectionUrl: endpoints.introspectionUrl,
    clientId: introspection.clientId,
    clientSecret: introspection.clientSecret,
};

/** Where consumers call the API through the gateway; undefined when the stack deploys no gateway. */
export const gatewayUrl = gateway?.url;
/** The gateway image that runs: `repo@sha256:…` on AWS, the bundle-addressed local tag in dev. */
export const gatewayImage = gateway?.imageRef;
