// Okta API Access Management as code.
//
//   consumers ──client credentials──▶ Okta authorization server ◀──introspect── gateway ──▶ API
//                                      ├─ scopes (+ claims)                       (policy-gateway/)
//                                      ├─ access policy + rule per consumer
//                                      └─ apps: one per consumer + the introspection client
//   gateway: built from policy-gateway/, run locally (Docker) or on AWS (ECS Fargate + ALB)
import * as pulumi from "@pulumi/pulumi";
import { AccessPolicies } from "./components/accessPolicies";
import { AuthorizationServer } from "./components/authorizationServer";
import { ConsumerApp } from "./components/consumerApp";
import { deployGateway } from "./components/deployGateway";
import { IntrospectionClient } from "./components/introspectionClient";
import { clientRegistrationUrl, openApiSecuritySchemes } from "./components/outputs";
import { loadStackConfig } from "./components/stackConfig";

// Validated as a whole before anything is declared: a bad stack file creates nothing.
const config = loadStackConfig();

// 1. The authorization server, its scopes and claims.
const server = config.authorizationServer;
const authServer = new AuthorizationServer("api", {
    ...(server.kind === "existing"
        ? { existingServerId: server.id }
        : { name: server.name, description: server.description, audience: server.audience, issuerMode: server.issuerMode, customDomain: server.customDomain, protect: server.protect }),
    scopes: config.scopes,
    claims: config.claims,
});

// 2. One service app per consuming system. Its client id is what the consuming team configured:
//    in a production stack the app is protected, so nothing replaces it unless the stack says so.
const consumers = config.consumers.map((spec) => ({
    spec,
    app: new ConsumerApp(spec.name, { label: spec.label, jwks: spec.jwks, protect: config.protect && !spec.allowReplacement }),
}));

// 3. Least-privilege access: each consumer gets exactly its scopes, nothing else.
new AccessPolicies("access", {
    authServerId: authServer.id,
    scopes: authServer.scopes,
    grants: consumers.map(({ spec, app }) => ({
        consumer: spec.name,
        clientId: app.clientId,
        scopes: spec.scopes,
        accessTokenLifetimeMinutes: spec.accessTokenLifetimeMinutes,
    })),
});

// 4. The client the gateway authenticates with when it introspects tokens.
const introspection = new IntrospectionClient("introspection", { label: config.introspectionClient.label, auth: config.introspectionClient.auth, protect: config.protect });

// 5. The gateway in front of the API: a local Docker container for dev, ECS Fargate behind a
//    load balancer for real environments.
const gateway = config.gateway && deployGateway(config.gateway, { authServer, introspection }, { production: config.protect });

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
    consumers.map(({ spec, app }) => [
        spec.name,
        {
            clientId: app.clientId,
            tokenEndpointAuthMethod: app.tokenEndpointAuthMethod,
            scopes: spec.scopes,
            accessTokenLifetimeMinutes: spec.accessTokenLifetimeMinutes,
        },
    ]),
);
/** Per consumer using client_secret_basic: its client secret (secret output). */
export const consumerClientSecrets = pulumi.secret(
    pulumi.all(Object.fromEntries(consumers.flatMap(({ spec, app }) => (app.clientSecret ? [[spec.name, app.clientSecret]] : []))) as Record<string, pulumi.Output<string>>),
);

export const introspectionClientId = introspection.clientId;
/** How the gateway authenticates to the introspection endpoint: private_key_jwt (no secret exists) or client_secret_basic. */
export const introspectionAuthMethod = introspection.authMethod;
/** With client_secret_basic only (secret output); absent with private_key_jwt. */
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
    // Anypoint's form asks for a secret-based client: with private_key_jwt (the default) there is
    // none, and this says so; set introspectionClient.authMethod: client_secret_basic for one.
    clientId: introspection.clientId,
    clientAuthentication: introspection.authMethod,
    ...(introspection.clientSecret ? { clientSecret: introspection.clientSecret } : {}),
};

/** Where consumers call the API through the gateway; undefined when the stack deploys no gateway. */
export const gatewayUrl = gateway?.url;
/** The gateway image that runs: `repo@sha256:…` on AWS, the local image id (`sha256:…`) in dev. */
export const gatewayImage = gateway?.imageRef;
/** The CloudWatch dashboard of the gateway (AWS target). */
export const gatewayDashboard = gateway?.dashboardName;
