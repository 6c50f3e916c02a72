import * as pulumi from "@pulumi/pulumi";
import { newServiceApp, type TokenEndpointAuthMethod } from "./serviceApp";
import type { PublicJwk } from "./stackConfig";

export interface ConsumerAppArgs {
    label: string;
    /** Public keys: when given, the app authenticates with `private_key_jwt` and has no secret. */
    jwks?: PublicJwk[];
    /**
     * Protect the app from deletion and replacement: its client id is what the consuming team has
     * configured. Pulumi then refuses any plan that would replace it, already at preview
     * (pulumi/pulumi step_generator.go: "unable to replace resource … marked for protection").
     */
    protect: boolean;
}

/** The OAuth 2.0 service app of one consuming system (client credentials grant). */
export class ConsumerApp extends pulumi.ComponentResource {
    public readonly appId: pulumi.Output<string>;
    public readonly clientId: pulumi.Output<string>;
    /** Secret output; undefined with private_key_jwt. */
    public readonly clientSecret: pulumi.Output<string> | undefined;
    public readonly tokenEndpointAuthMethod: TokenEndpointAuthMethod;

    constructor(name: string, args: ConsumerAppArgs, opts?: pulumi.ComponentResourceOptions) {
        super("okta-api-gateway:okta:ConsumerApp", name, {}, opts);

        const { app, clientSecret, authMethod } = newServiceApp(`${name}-app`, { label: args.label, jwks: args.jwks }, { parent: this, protect: args.protect });
        this.appId = app.id;
        this.clientId = app.clientId;
        this.clientSecret = clientSecret;
        this.tokenEndpointAuthMethod = authMethod;
        this.registerOutputs({ appId: this.appId, clientId: this.clientId, clientSecret: this.clientSecret });
    }
}
