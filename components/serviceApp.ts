import * as okta from "@pulumi/okta";
import * as pulumi from "@pulumi/pulumi";
import type { PublicJwk } from "./stackConfig";

export type TokenEndpointAuthMethod = "client_secret_basic" | "private_key_jwt";

/**
 * One Okta OAuth 2.0 service app for the client credentials grant. Shared by consumer apps and
 * the introspection client, which differ in what they are allowed to do, not in what they are.
 *
 * No group assignments: the client credentials grant has no end user (RFC 6749 §4.4: the client
 * acts on its own behalf; Okta's "Implement OAuth for Okta with a service app": "intended for
 * ... apps with no end user"), and a group assignment gives users access to an app, so it
 * restricts nothing here. Which app gets which token is decided by the access policy's client
 * list and its rule's scopes (AccessPolicies).
 */
export function newServiceApp(
    name: string,
    args: { label: string; jwks?: pulumi.Input<PublicJwk[]> },
    opts: pulumi.CustomResourceOptions,
): { app: okta.app.OAuth; clientSecret: pulumi.Output<string> | undefined; authMethod: TokenEndpointAuthMethod } {
    const authMethod: TokenEndpointAuthMethod = args.jwks ? "private_key_jwt" : "client_secret_basic";
    const app = new okta.app.OAuth(
        name,
        {
            label: args.label,
            type: "service",
            grantTypes: ["client_credentials"],
            responseTypes: ["token"],
            tokenEndpointAuthMethod: authMethod,
            jwks: args.jwks,
            // With private_key_jwt there is no shared secret, so none is left in the state either.
            // Going back (omitSecret true → false) makes the provider recreate the app, with a new
            // client id (resource_okta_app_oauth.go CustomizeDiff: ForceNew("omit_secret")): the
            // apps are protected in production stacks, so that needs consumers[].allowReplacement.
            omitSecret: authMethod === "private_key_jwt",
            // The provider skips the app sign-on policy on create for service apps (PR 2403) but
            // not on update, where it lists policies (okta.policies.read) and PUTs
            // /apps/{id}/policies/{pid}, which Okta refuses for API-services apps (issue 2295):
            // without this flag any later change of the app fails in an Identity Engine org.
            skipAuthenticationPolicy: true,
            // A service app has no users: keep it off every dashboard.
            hideIos: true,
            hideWeb: true,
        },
        opts,
    );
    // The SDK marks clientSecret secret only against a real engine; make it so everywhere.
    const clientSecret = authMethod === "client_secret_basic" ? pulumi.secret(app.clientSecret) : undefined;
    return { app, clientSecret, authMethod };
}
