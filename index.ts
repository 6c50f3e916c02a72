// Okta API Access Management as code.
//
//   consumers ──client credentials──▶ Okta authorization server ◀──introspect── gateway ──▶ API
//                                      ├─ scopes (+ claims)                       (policy-gateway/)
//                                      ├─ access policy + rule per consumer
//                                      └─ apps: one per consumer (new or adopted) + the introspection client
//   gateway: built from policy-gateway/, run locally (Docker) or on AWS (ECS Fargate + ALB)
//   credentials: each consumer's secret to that consumer only (an ESC environment or a Secrets Manager
//                secret), with what it needs beside it: audience, the gateway's URL, its rate limit
//   published:   what the API team needs (issuer, JWKS, gateway URL, security schemes), nothing secret,
//                beside them (an ESC environment or an SSM parameter): only the platform team reads the stack
import type { CredentialMethod } from "./components/stackOutputs";
import * as pulumi from "@pulumi/pulumi";
import { AccessPolicies } from "./components/accessPolicies";
import { AuthorizationServer } from "./components/authorizationServer";
import { ConsumerApp } from "./components/consumerApp";
import { CredentialDelivery, type DeliveryLocation } from "./components/credentialDelivery";
import { deployGateway } from "./components/deployGateway";
import { IntrospectionClient } from "./components/introspectionClient";
import { ApiPublication } from "./components/apiPublication";
import {
    apiFacts,
    apiOutputs,
    openApiFragment as openApiFragmentOf,
    openApiSecuritySchemes,
    ramlSecurityScheme,
    type ApiOutput,
    type RouteSecurity,
} from "./components/outputs";
import { loadStackConfig } from "./components/stackConfig/index";
import { limitOf } from "./policy-gateway/src/limits/rateLimitPlan";

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
              customDomain: server.customDomain,
          }),
    // A production stack's server is protected, created or adopted: a destroy would delete every consumer's tokens.
    protect: config.production,
    scopes: config.scopes,
    claims: config.claims,
});
if (server.kind === "existing" && !server.defaultPolicyDeactivated) {
    pulumi.log.warn(
        `authorizationServer.defaultPolicyDeactivated is false: the "Default Policy" of ${server.id} still lets every app of the org ` +
            "(Exchange/DCR-registered ones included) ask for any scope. Least privilege holds only once it is deactivated; then set it to true.",
    );
}

// 2. One service app per consuming system, new or adopted (an existing app keeps its client id and
//    secret). Its client id is what the consuming team configured: in a production stack the app
//    is protected, so nothing replaces it unless the stack says so.
const consumers = config.consumers.map((spec) => ({
    spec,
    app: new ConsumerApp(spec.name, {
        label: spec.label,
        jwks: spec.jwks,
        jwksUri: spec.jwksUri,
        existingAppId: spec.existingAppId,
        protect: config.production && !spec.allowReplacement,
    }),
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

// 4. The client the gateway (or, without one, MuleSoft's policy) authenticates with when it
//    introspects tokens; none for a gateway that checks JWTs locally. On AWS its keys are in KMS,
//    which signs for the gateway: no private key in the stack's state.
const introspectionSpec = config.introspectionClient;
const introspection =
    introspectionSpec &&
    new IntrospectionClient("introspection", {
        label: introspectionSpec.label,
        auth:
            introspectionSpec.auth.method === "private_key_jwt"
                ? { ...introspectionSpec.auth, keyStore: config.gateway?.target === "aws" ? "awsKms" : "tls" }
                : introspectionSpec.auth,
        kmsDeletionWindowInDays: config.production ? 30 : 7,
        protect: config.production,
    });

// 5. The gateway in front of the API: a local Docker container for dev, ECS Fargate behind a
//    load balancer for real environments.
//    Each consumer is held to its rate-limit tier, by its client id.
const gatewayConsumers = consumers.map(({ spec, app }) => ({ name: spec.name, clientId: app.clientId, tier: spec.tier }));
const gateway = config.gateway && deployGateway(config.gateway, { authServer, introspection, consumers: gatewayConsumers }, { production: config.production });
/**
 * The gateway other teams reach: on AWS only. A `local` gateway runs on the machine that ran
 * `pulumi up`: neither published nor exported as `gatewayUrl`, so no team is handed `http://localhost…`.
 */
const reachableGatewayUrl = config.gateway?.target === "aws" ? gateway?.url : undefined;

// 6. Each generated client secret to its own consumer only, with what that team needs beside it
//    (audience, where to call the API, its limit): nothing secret in the shared outputs.
const delivery = config.credentialDelivery;
/** The consumers whose client secret this stack generated (not private_key_jwt, not adopted). */
const generatedSecrets = consumers.flatMap(({ spec, app }) => (app.clientSecret ? [{ consumer: spec.name, clientSecret: app.clientSecret }] : []));
/** Delivered: each consumer with a generated secret, and each without one that names readers (its facts only). */
const delivered = consumers.flatMap(({ spec, app }) =>
    app.clientSecret || spec.readers.length > 0
        ? [
              {
                  consumer: spec.name,
                  readers: spec.readers,
                  clientId: app.clientId,
                  authMethod: app.tokenEndpointAuthMethod,
                  clientSecret: app.clientSecret,
                  scopes: spec.scopes,
                  rateLimit: limitOf(config.gateway?.rateLimits, spec.tier),
              },
          ]
        : [],
);
const deliveries: Record<string, DeliveryLocation> =
    delivery.method === "esc" || delivery.method === "awsSecretsManager"
        ? new CredentialDelivery("credentials", {
              method: delivery,
              project: config.project,
              stack: config.stack,
              issuer: authServer.issuer,
              tokenUrl: authServer.endpoints.tokenUrl,
              audience: authServer.audience,
              gatewayUrl: reachableGatewayUrl,
              consumers: delivered,
              protect: config.production,
          }).locations
        : {};

// 7. What the API team needs, published once beside the consumers' credentials, so that no team
//    needs to read the stack (a StackReference opens every secret in its state).
/** Who may call the API, as the gateway decides it: for the OpenAPI fragment's security per operation (a gateway of one API). */
const declaredApis = config.gateway?.settings.apis;
const routeSecurity: RouteSecurity | undefined =
    config.gateway && !declaredApis
        ? {
              requiredScopes: config.gateway.settings.requiredScopes,
              scopeMatch: config.gateway.settings.scopeMatch,
              routeRules: config.gateway.settings.routeRules ?? [],
          }
        : undefined;
/** A gateway of several APIs: each API's route, where to call it, its scopes, consumers and fragments. */
const apisOut: pulumi.Output<Record<string, ApiOutput>> | undefined =
    declaredApis &&
    pulumi
        .all([authServer.endpoints.tokenUrl, reachableGatewayUrl])
        .apply(([url, gatewayUrl]) =>
            apiOutputs(declaredApis, { tokenUrl: url, scopes: config.scopes, gatewayUrl, consumers: consumers.map(({ spec }) => spec) }),
        );
const published =
    delivery.method === "esc" || delivery.method === "awsSecretsManager"
        ? new ApiPublication("api-facts", {
              method: delivery,
              project: config.project,
              stack: config.stack,
              facts: pulumi
                  .all([authServer.issuer, authServer.endpoints, authServer.audience, reachableGatewayUrl, apisOut])
                  .apply(([issuer, endpoints, audience, gatewayUrl, apis]) =>
                      apiFacts({ issuer, endpoints, audience, scopes: config.scopes, gatewayUrl, routes: routeSecurity, apis }),
                  ),
          }).location
        : undefined;

// ---- Stack outputs, for the platform team (other teams read the published places above).
const endpoints = authServer.endpoints;
export const authorizationServerId = authServer.id;
export const issuer = authServer.issuer;
export const metadataUrl = endpoints.metadataUrl;
export const tokenUrl = endpoints.tokenUrl;
export const introspectionUrl = endpoints.introspectionUrl;
export const jwksUrl = endpoints.jwksUrl;
export const audience = authServer.audience;
export const scopes = config.scopes.map((s) => s.name);

/**
 * Per consumer: its client id, what it may ask for, its rate limit, and where its credentials are. Nothing secret:
 * every team that may read the stack reads this, so each secret is delivered to its own consumer.
 */
export const consumerClients = Object.fromEntries(
    consumers.map(({ spec, app }) => [
        spec.name,
        {
            clientId: app.clientId,
            tokenEndpointAuthMethod: app.tokenEndpointAuthMethod,
            scopes: spec.scopes,
            accessTokenLifetimeMinutes: spec.accessTokenLifetimeMinutes,
            adopted: app.adopted,
            // As the gateway enforces it: its tier (or the default), or null when it is not limited.
            rateLimit: limitOf(config.gateway?.rateLimits, spec.tier),
            // One of CREDENTIAL_METHODS (components/stackOutputs.ts), an enum other teams' code may switch on.
            credentials: deliveries[spec.name] ?? {
                method: (app.adopted ? "adopted" : spec.jwks || spec.jwksUri ? "private_key_jwt" : "stackOutputs") satisfies CredentialMethod,
            },
        },
    ]),
);
/**
 * The old single map of every generated secret, readable by anyone who may read the stack: only
 * with credentialDelivery.method stackOutputs, an explicit opt-in.
 */
export const consumerClientSecrets =
    delivery.method === "stackOutputs" ? pulumi.secret(pulumi.all(Object.fromEntries(generatedSecrets.map((c) => [c.consumer, c.clientSecret])))) : undefined;

// The introspection client's credential goes to the gateway and nowhere else: no output carries it.
export const introspectionClientId = introspection?.clientId;
/** How the gateway authenticates to the introspection endpoint: private_key_jwt (no secret exists) or client_secret_basic. */
export const introspectionAuthMethod = introspection?.authMethod;

/** Where the API's facts are published for its teams (ESC environment or SSM parameter), and how to read them. */
export const apiPublication = published;

/** Paste under `components.securitySchemes` in the API's OpenAPI 3 document. */
export const openApiSecuritySchemesEntry = tokenUrl.apply((url) => openApiSecuritySchemes(url, config.scopes));
/**
 * Merge into the API's OpenAPI 3.1 document (with a gateway): the scheme, the gateway's 400, 401,
 * 403, 429 and 503 answers, and each route rule's security per operation, as the gateway decides it.
 */
export const openApiFragment = routeSecurity && tokenUrl.apply((url) => openApiFragmentOf(url, config.scopes, routeSecurity));
/** A gateway of several APIs (gateway.apis): per API, its prefix, URL, scopes, consumers, OpenAPI and RAML fragments. */
export const apis = apisOut;
/** Save as `okta.raml` beside the API's RAML 1.0 spec: `securitySchemes: {okta: !include okta.raml}`. */
export const ramlSecuritySchemeFragment = tokenUrl.apply((url) => ramlSecurityScheme(url, config.scopes));

/** Where consumers call the API through the gateway: on AWS only (a local one is `localGatewayUrl`). */
export const gatewayUrl = reachableGatewayUrl;
/** The local gateway's address, on the machine that ran `pulumi up` (target local only). */
export const localGatewayUrl = config.gateway?.target === "local" ? gateway?.url : undefined;
/** The gateway image that runs: `repo@sha256:…` on AWS, the local image id (`sha256:…`) in dev. */
export const gatewayImage = gateway?.imageRef;
/** The CloudWatch dashboard of the gateway (AWS target). */
export const gatewayDashboard = gateway?.dashboardName;
/** API name → the CloudWatch dashboard of its requests, refusals and latency, by consumer (AWS target). */
export const apiDashboards = gateway?.apiDashboards;
