// Shapes of the stack outputs that other teams paste elsewhere. Pure functions of known values.
import type { ScopeSpec } from "./stackConfig";

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

/** Okta's org-level Dynamic Client Registration endpoint (what Anypoint's form calls the registration URL). */
export function clientRegistrationUrl(orgUrl: string): string {
    return `${orgUrl}/oauth2/v1/clients`;
}
