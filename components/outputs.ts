// Shapes of the stack outputs that other teams paste elsewhere. Pure functions of known values.
import { stringify as toYaml } from "yaml";
import type { ScopeSpec } from "./stackConfig/index";

/** The OpenAPI 3 `components.securitySchemes` entry for this API's client credentials flow. */
export function openApiSecuritySchemes(tokenUrl: string, scopes: ScopeSpec[]) {
    return {
        okta: {
            type: "oauth2",
            description: "OAuth 2.0 client credentials from Okta; send the token as `Authorization: Bearer <token>`.",
            flows: {
                clientCredentials: {
                    tokenUrl,
                    scopes: Object.fromEntries(scopes.map((s) => [s.name, s.description])),
                },
            },
        },
    };
}

/**
 * The RAML 1.0 security scheme for this API (a `#%RAML 1.0 SecurityScheme` fragment): what the
 * walkthrough we replace pastes into the API spec at its end. Save it as `okta.raml` and declare
 * `securitySchemes: { okta: !include okta.raml }`, then `securedBy: [okta: {scopes: [...]}]`.
 * RAML 1.0 §Security Schemes: type `OAuth 2.0`, `settings.accessTokenUri` required,
 * `authorizationUri` only for the authorization code and implicit grants; `describedBy` lists
 * where the token goes and the answers the gateway gives without one (RFC 6750 §3.1).
 */
export function ramlSecurityScheme(tokenUrl: string, scopes: ScopeSpec[]): string {
    const scheme = {
        type: "OAuth 2.0",
        description:
            "OAuth 2.0 client credentials from Okta, enforced by the policy gateway. Ask the token URL for a token with your client id and secret (or private_key_jwt) and the scopes below.",
        describedBy: {
            headers: { Authorization: { description: "`Bearer <access token>` (RFC 6750 §2.1)", type: "string", required: false } },
            queryParameters: {
                access_token: { description: "The access token, where a header cannot be sent (RFC 6750 §2.3)", type: "string", required: false },
            },
            responses: {
                400: { description: "No access token was sent." },
                401: { description: 'The access token is invalid, expired or revoked (WWW-Authenticate: Bearer error="invalid_token").' },
                403: { description: 'The access token lacks a scope this route requires (WWW-Authenticate: Bearer error="insufficient_scope").' },
            },
        },
        settings: { accessTokenUri: tokenUrl, authorizationGrants: ["client_credentials"], scopes: scopes.map((s) => s.name) },
    };
    return `#%RAML 1.0 SecurityScheme\n${toYaml(scheme)}`;
}

/** What the API team needs, published without access to the stack (ApiPublication). Nothing secret. */
export interface ApiFacts {
    issuer: string;
    metadataUrl: string;
    tokenUrl: string;
    jwksUrl: string;
    audience: string;
    scopes: string[];
    /** Where consumers call the API: the AWS target's gateway only (a local one is on whoever ran pulumi up). */
    gatewayUrl?: string;
    /** Paste under `components.securitySchemes` in the API's OpenAPI 3 document. */
    openApiSecuritySchemes: ReturnType<typeof openApiSecuritySchemes>;
    /** Save as `okta.raml` beside the API's RAML 1.0 spec. */
    ramlSecurityScheme: string;
}

/** The API's published facts, from the server's endpoints and the stack's scopes. Pure. */
export function apiFacts(f: {
    issuer: string;
    endpoints: { metadataUrl: string; tokenUrl: string; jwksUrl: string };
    audience: string;
    scopes: ScopeSpec[];
    gatewayUrl?: string;
}): ApiFacts {
    return {
        issuer: f.issuer,
        metadataUrl: f.endpoints.metadataUrl,
        tokenUrl: f.endpoints.tokenUrl,
        jwksUrl: f.endpoints.jwksUrl,
        audience: f.audience,
        scopes: f.scopes.map((s) => s.name),
        ...(f.gatewayUrl ? { gatewayUrl: f.gatewayUrl } : {}),
        openApiSecuritySchemes: openApiSecuritySchemes(f.endpoints.tokenUrl, f.scopes),
        ramlSecurityScheme: ramlSecurityScheme(f.endpoints.tokenUrl, f.scopes),
    };
}
