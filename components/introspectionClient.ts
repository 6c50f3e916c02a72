import * as pulumi from "@pulumi/pulumi";
import { newServiceApp } from "./serviceApp";

export interface IntrospectionClientArgs {
    label: string;
    /** Protect the app (production): a replacement would change the gateway's client id. */
    protect: boolean;
}

/**
 * The "Token Introspection Client" of the seed walkthrough: a dedicated service app that only the
 * gateway uses, to call the authorization server's /v1/introspect. No access policy names it, so
 * it can introspect tokens but can never obtain one for the API.
 */
export class IntrospectionClient extends pulumi.ComponentResource {
    public readonly clientId: pulumi.Output<string>;
    /** Secret output: what the gateway deployment is wired with. */
    public readonly clientSecret: pulumi.Output<string>;

    constructor(name: string, args: IntrospectionClientArgs, opts?: pulumi.ComponentResourceOptions) {
        super("okta-api-gateway:okta:IntrospectionClient", name, {}, opts);

        const { app, clientSecret } = newServiceApp(`${name}-app`, { label: args.label }, { parent: this, protect: args.protect });
        this.clientId = app.clientId;
        this.clientSecret = clientSecret as pulumi.Output<string>; // client_secret_basic always has one
        this.registerOutputs({ clientId: this.clientId, clientSecret: this.clientSecret });
    }
}
