import * as okta from "@pulumi/okta";
import * as pulumi from "@pulumi/pulumi";
import type { PublicJwk } from "./stackConfig/index";

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
    args: { label: string; jwks?: pulumi.Input<PublicJwk[]>; jwksUri?: string },
    opts: pulumi.CustomResourceOptions,
): { app: okta.app.OAuth; clientSecret: pulumi.Output<string> | undefined; authMethod: TokenEndpointAuthMethod } {
    if (opts.import !== undefined) throw new Error(`newServiceApp ${name}: adopt an existing app with adoptServiceApp`);
    const authMethod: TokenEndpointAuthMethod = args.jwks || args.jwksUri ? "private_key_jwt" : "client_secret_basic";
    const app = new okta.app.OAuth(
        name,
        {
            label: args.label,
            type: "service",
            grantTypes: ["client_credentials"],
            responseTypes: ["token"],
            tokenEndpointAuthMethod: authMethod,
            jwks: args.jwks,
            // The client's own published JWKS, which Okta fetches itself: every member of each key
            // reaches it, the curve of an EC key included (inline, the provider sends an EC key's
            // kty, x, y and kid only: resource_okta_app_oauth.go, buildAppOAuthV6).
            jwksUri: args.jwksUri,
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

/**
 * An existing Okta app, adopted: imported by its id (`pulumi import okta:app/oAuth:OAuth <name>
 * <app id>` in code; terraform-provider-okta docs/resources/app_oauth.md, "Import"), so it keeps
 * its client id and the secret its consumer already holds (Okta does not return it).
 *
 * - `ignoreChanges: ["*"]`: the app's own settings stay as they are in Okta. An app registered
 *   through Anypoint Exchange is a `web` app with the authorization code grant as well; declaring
 *   it a `service` app would fail the import ("inputs to import do not match the existing
 *   resource") or, after it, replace the app (`type` forces a new one): a new client id for a
 *   consumer that is in production. Pulumi applies ignoreChanges to the import step too
 *   (pulumi/pulumi pkg/resource/deploy/step_generator.go: NewImportStep(..., goal.IgnoreChanges)),
 *   and with every property ignored no update ever reaches the app, so the sign-on policy PUT
 *   that Okta refuses on update (terraform-provider-okta issue 2295) is never sent either.
 * - `retainOnDelete`: the app existed before this stack and serves a consumer; `pulumi destroy`
 *   (a rollback of the migration, say) leaves it in Okta.
 * - The `import` option stays in the program for good: once the app is in the state with that id,
 *   the engine no longer treats it as an import (step_generator.go: `isImport := goal.Custom &&
 *   goal.ID != "" && (!hasOld || old.External || oldImportID != goal.ID)`).
 */
export function adoptServiceApp(name: string, args: { label: string; appId: string }, opts: pulumi.CustomResourceOptions): okta.app.OAuth {
    return new okta.app.OAuth(
        name,
        // What the program would declare for a new app; every property is ignored (above).
        { label: args.label, type: "service", grantTypes: ["client_credentials"], responseTypes: ["token"], skipAuthenticationPolicy: true },
        { ...opts, import: args.appId, ignoreChanges: ["*"], retainOnDelete: true },
    );
}
