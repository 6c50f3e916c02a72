import * as pulumi from "@pulumi/pulumi";
import { adoptServiceApp, newServiceApp } from "./serviceApp";
import type { PublicJwk } from "./stackConfig/index";

export interface ConsumerAppArgs {
    label: string;
    /** Public keys: when given, the app authenticates with `private_key_jwt` and has no secret. */
    jwks?: PublicJwk[];
    /** Or the consumer's published JWKS (https), which Okta fetches: `private_key_jwt` too. */
    jwksUri?: string;
    /**
     * Protect the app from deletion and replacement: its client id is what the consuming team has
     * configured. Pulumi then refuses any plan that would replace it, already at preview
     * (pulumi/pulumi step_generator.go: "unable to replace resource … marked for protection").
     */
    protect: boolean;
    /** An existing app (its `0oa…` id) to adopt instead of creating one: see adoptServiceApp. */
    existingAppId?: string;
}

/** The OAuth 2.0 service app of one consuming system (client credentials grant). */
export class ConsumerApp extends pulumi.ComponentResource {
    public readonly appId: pulumi.Output<string>;
    public readonly clientId: pulumi.Output<string>;
    /** Secret output; undefined with private_key_jwt, and for an adopted app (its consumer keeps its secret). */
    public readonly clientSecret: pulumi.Output<string> | undefined;
    /** As Okta has it: declared for a new app, read from Okta for an adopted one. */
    public readonly tokenEndpointAuthMethod: pulumi.Output<string>;
    public readonly adopted: boolean;

    constructor(name: string, args: ConsumerAppArgs, opts?: pulumi.ComponentResourceOptions) {
        super("okta-api-gateway:okta:ConsumerApp", name, {}, opts);

        this.adopted = args.existingAppId !== undefined;
        if (args.existingAppId !== undefined) {
            const app = adoptServiceApp(`${name}-app`, { label: args.label, appId: args.existingAppId }, { parent: this, protect: args.protect });
            this.appId = app.id;
            this.clientId = app.clientId;
            this.clientSecret = undefined;
            this.tokenEndpointAuthMethod = app.tokenEndpointAuthMethod.apply((m) => m ?? "client_secret_basic");
        } else {
            const { app, clientSecret, authMethod } = newServiceApp(
                `${name}-app`,
                { label: args.label, jwks: args.jwks, jwksUri: args.jwksUri },
                { parent: this, protect: args.protect },
            );
            this.appId = app.id;
            this.clientId = app.clientId;
            this.clientSecret = clientSecret;
            this.tokenEndpointAuthMethod = pulumi.output(authMethod);
        }
        this.registerOutputs({ appId: this.appId, clientId: this.clientId, clientSecret: this.clientSecret });
    }
}
