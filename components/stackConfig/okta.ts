// The `okta:` namespace: the Okta provider's org and credentials, from config or the environment
// variables the provider reads. Pure.
import type { OktaCredential, RawStackConfig } from "./spec";

const CREDENTIAL_KEYS: Record<OktaCredential, string> = { privateKey: "okta:privateKey", apiToken: "okta:apiToken", accessToken: "okta:accessToken" };

/**
 * The Okta provider takes exactly one of an OAuth 2.0 private key (with client id and scopes),
 * an SSWS API token, or a bearer access token; it refuses any two together
 * (terraform-provider-okta provider_test.go, TestProviderValidate). Each from config or from its
 * environment variable (OKTA_API_PRIVATE_KEY, OKTA_API_TOKEN, OKTA_ACCESS_TOKEN).
 */
function oktaCredentialProblems(okta: RawStackConfig["okta"]): string[] {
    const found = okta.credentials;
    if (found.length === 0) {
        return [
            "okta:privateKey: the Okta provider has no credentials; set `pulumi config set --secret okta:privateKey` with okta:clientId and okta:scopes " +
                "(recommended), or `pulumi config set --secret okta:apiToken`, or `okta:accessToken` (or the OKTA_API_PRIVATE_KEY, OKTA_API_TOKEN or " +
                "OKTA_ACCESS_TOKEN environment variables, e.g. from a Pulumi ESC environment)",
        ];
    }
    if (found.length > 1) {
        const fromEnv = found.filter((c) => c.from !== CREDENTIAL_KEYS[c.value]);
        return [
            `${found.map((c) => c.from).join(" and ")}: set only one way of authenticating the Okta provider (it refuses two)` +
                (fromEnv.length
                    ? `; unset ${fromEnv.map((c) => c.from.replace(/^environment variable /, "")).join(" and ")} in this shell, or remove the stack's key`
                    : ""),
        ];
    }
    if (found[0].value !== "privateKey") return [];
    const problems: string[] = [];
    if (!okta.clientId) problems.push(`okta:clientId: is required with ${found[0].from} (the client id of the Okta API service app; or OKTA_API_CLIENT_ID)`);
    const scopes = okta.scopes?.value;
    if (!Array.isArray(scopes) || scopes.length === 0 || !scopes.every((s) => typeof s === "string" && s.startsWith("okta."))) {
        problems.push(
            `${okta.scopes?.from ?? "okta:scopes"}: is required with ${found[0].from}: a list of Okta management scopes, ` +
                'e.g. ["okta.apps.manage","okta.authorizationServers.manage","okta.domains.read"]',
        );
    }
    return problems;
}

/** What the stack does with Okta, by management-API area: each needs `okta.<area>.read` to preview, `okta.<area>.manage` to update. */
const MANAGED_AREAS = ["apps", "authorizationServers"] as const;

/** Where the Okta provider's OAuth scopes come from: a stack run either previews or updates. */
export type StackOperation = "preview" | "update";

/**
 * The provider's OAuth 2.0 scopes against what this stack does with them. A service app's access
 * token carries exactly the scopes it asked for (okta:scopes), so a missing one is a 403 from Okta
 * in the middle of `pulumi up`, after some resources are written. Checked here instead:
 * - `pulumi up` writes apps, servers, scopes, claims and policies: `okta.apps.manage` and
 *   `okta.authorizationServers.manage` (a manage scope includes its read; Okta, "Permissions").
 * - `pulumi preview` only reads (the adopted server, the custom domain; `--refresh` reads every
 *   resource): the `.read` scopes are enough. A credential with reads only is the pull-request
 *   preview's (docs/deploying.md, "A read-only credential for previews"), refused for `up` here
 *   rather than by Okta halfway through.
 * - With issuerMode CUSTOM_URL the program reads the domain (okta.getDomain): `okta.domains.read`.
 * The provider itself calls nothing at configure time with a private key (terraform-provider-okta
 * okta/config/config.go, VerifyCredentials: only an SSWS token is checked), so these are all it needs.
 * Only for the private-key credential: an SSWS token carries its admin's rights, and an access
 * token's scopes are inside the token.
 */
export function oktaScopeProblems(scopes: readonly string[], from: string, needs: { operation: StackOperation; customDomain: boolean }): string[] {
    const has = (scope: string) => scopes.includes(scope);
    const canRead = (area: string) => has(`okta.${area}.read`) || has(`okta.${area}.manage`);
    const problems: string[] = [];
    if (needs.operation === "update") {
        const missing = MANAGED_AREAS.filter((area) => !has(`okta.${area}.manage`)).map((area) => `okta.${area}.manage`);
        if (missing.length > 0) {
            const readOnly = MANAGED_AREAS.every(canRead) && missing.length === MANAGED_AREAS.length;
            problems.push(
                `${from}: \`pulumi up\` needs ${missing.join(" and ")} (the stack creates and changes apps, authorization servers, scopes, claims and policies)` +
                    (readOnly
                        ? `; [${scopes.join(", ")}] only reads: a preview credential, which can run \`pulumi preview\` but not \`up\` (docs/deploying.md, "A read-only credential for previews")`
                        : ""),
            );
        }
    } else {
        const missing = MANAGED_AREAS.filter((area) => !canRead(area)).map((area) => `okta.${area}.read`);
        if (missing.length > 0)
            problems.push(`${from}: \`pulumi preview\` reads apps and authorization servers: add ${missing.join(" and ")} (or the .manage scopes)`);
    }
    if (needs.customDomain && !has("okta.domains.read") && !has("okta.domains.manage"))
        problems.push(
            `${from}: add okta.domains.read: with issuerMode CUSTOM_URL the program reads the custom domain (okta.getDomain) at every preview and update`,
        );
    return problems;
}

/**
 * The Okta provider's settings, from config or the environment variables the provider reads. A
 * problem with a value from the environment names the variable, not a key the user never set.
 * The scopes are checked against what the stack does once the rest parsed (oktaScopeProblems).
 */
export function oktaProviderProblems(okta: RawStackConfig["okta"]): string[] {
    const problems: string[] = [];
    const orgName = okta.orgName;
    if (!orgName) problems.push("okta:orgName: is required (your Okta org's subdomain, e.g. dev-123456; or set OKTA_ORG_NAME)");
    else if (!/^[A-Za-z0-9][A-Za-z0-9-]*$/.test(orgName.value))
        problems.push(`${orgName.from}: must be the org's subdomain only, such as dev-123456 (not a URL)`);
    const baseUrl = okta.baseUrl;
    if (!baseUrl) problems.push("okta:baseUrl: is required (okta.com, oktapreview.com or okta-emea.com; or set OKTA_BASE_URL)");
    else if (!/^[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(baseUrl.value)) problems.push(`${baseUrl.from}: must be a domain such as okta.com, without scheme or path`);
    problems.push(...oktaCredentialProblems(okta));
    return problems;
}
