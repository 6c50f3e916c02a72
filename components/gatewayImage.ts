import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";
import { ensureGatewayBundle, GATEWAY_DIR } from "./gatewayBundle";

export interface GatewayImageArgs {
    /** Repository to tag and push to (an ECR repository URL); a local name when not pushing. */
    repository: pulumi.Input<string>;
    /** Registry credentials; without them the image stays in the local Docker engine. */
    registry?: { server: pulumi.Input<string>; username: pulumi.Input<string>; password: pulumi.Input<string> };
}

/**
 * The gateway image, built from policy-gateway/Dockerfile after making sure the bundle it copies
 * is current. Pushed, it is referred to by its registry digest; kept local (no registry, so no
 * registry digest exists), by a tag derived from the bundle's SHA-256, which changes exactly
 * when the bundle does.
 */
export class GatewayImage extends pulumi.ComponentResource {
    /** What containers and task definitions run: `repo@sha256:…` when pushed, `repo:<bundle-sha>` when local. */
    public readonly ref: pulumi.Output<string>;
    public readonly bundleSha256: string;

    constructor(name: string, args: GatewayImageArgs, opts?: pulumi.ComponentResourceOptions) {
        super("okta-api-gateway:gateway:GatewayImage", name, {}, opts);

        const bundle = ensureGatewayBundle();
        this.bundleSha256 = bundle.sha256;
        const tag = bundle.sha256.slice(0, 16);
        const image = new docker.Image(
            `${name}-image`,
            {
                imageName: pulumi.interpolate`${args.repository}:${tag}`,
                build: {
                    context: GATEWAY_DIR,
                    dockerfile: path.join(GATEWAY_DIR, "Dockerfile"),
                    platform: "linux/amd64",
                },
                skipPush: args.registry === undefined,
                registry: args.registry && {
                    server: args.registry.server,
                    username: args.registry.username,
                    password: pulumi.secret(args.registry.password),
                },
            },
            { parent: this },
        );
        this.ref = args.registry ? image.repoDigest : image.imageName;
        this.registerOutputs({ ref: this.ref });
    }
}
