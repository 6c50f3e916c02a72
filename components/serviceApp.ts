import * as okta from "@pulumi/okta";
import * as pulumi from "@pulumi/pulumi";
import type { PublicJwk } from "./stackConfig";

export type TokenEndpointAuthMethod = "client_secret_basic" | "private_key_jwt";

/**
 * One Okta OAuth 2.0 service app for the client credentials grant. Shared by consumer apps and
 * the introspection client, which differ in what they are allowed to do, not in what they are.
 */
export function newServiceApp(
    name: string,
    args: { label: string; jwks?: PublicJwk[] },
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
            omitSecret: authMethod === "private_key_jwt",
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
