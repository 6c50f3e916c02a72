import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { buildContextDigest, ensureGatewayBundle, GATEWAY_DIR } from "./gatewayBundle";

/** An image named by digest, `name[:tag]@sha256:<64 hex digits>`: what Docker pulls is fixed. */
const PINNED_IMAGE = /^[\w./:-]+@sha256:[0-9a-f]{64}$/;

/** The file that pins the base image by digest (its one FROM line), which Dependabot updates. */
export const BASE_IMAGE_PIN_FILE = path.join(GATEWAY_DIR, "base-image", "Dockerfile");

/**
 * The base image the Dockerfile builds on (its `BASE_IMAGE` build argument): `name:tag@sha256:…`
 * from the pin file's FROM line. Throws, naming the file, when the line is not pinned by digest:
 * a tag alone would float with the registry. Pure but for reading the file.
 */
export function pinnedBaseImageOf(file = BASE_IMAGE_PIN_FILE): string {
    const text = readFileSync(file, "utf8");
    const from = /^FROM\s+(\S+)\s*$/m.exec(text)?.[1];
    if (!from || !PINNED_IMAGE.test(from))
        throw new Error(
            `${path.relative(process.cwd(), file)}: its FROM line must name the base image by digest (name:tag@sha256:<64 hex digits>), got ${from ?? "no FROM line"}`,
        );
    return from;
}
/**
 * The OCI annotations' build arguments (policy-gateway/Dockerfile LABELs): the project's version;
 * the git tree id of policy-gateway/ at HEAD, identical in every clone (shallow ones too), so the
 * image is not rebuilt by a merge that leaves the gateway alone (a commit id would); and the
 * repository, from GitHub Actions' own variables where the workflows run. Stable for one checkout.
 */
export function imageAnnotations(env: NodeJS.ProcessEnv = process.env, root = path.resolve(GATEWAY_DIR, "..")): Record<string, string> {
    const version = (JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { version: string }).version;
    let revision = "unknown";
    try {
        revision = execFileSync("git", ["rev-parse", `HEAD:${path.relative(root, GATEWAY_DIR)}`], {
            cwd: root,
            encoding: "utf8",
            stdio: ["ignore", "pipe", "ignore"],
        }).trim();
    } catch {
        // Not a git checkout (an unpacked archive): the label says so.
    }
    const source = env.GITHUB_SERVER_URL && env.GITHUB_REPOSITORY ? `${env.GITHUB_SERVER_URL}/${env.GITHUB_REPOSITORY}` : "";
    return { VERSION: version, REVISION: revision, SOURCE: source };
}

export const GATEWAY_PLATFORM = "linux/amd64";
export type GatewayPlatform = "linux/amd64" | "linux/arm64";

export interface GatewayImageArgs {
    /** Repository to tag and push to (an ECR repository URL); a local name when not pushing. */
    repository: pulumi.Input<string>;
    /** Registry credentials; without them the image stays in the local Docker engine. */
    registry?: { server: pulumi.Input<string>; username: pulumi.Input<string>; password: pulumi.Input<string> };
    /** Base image, pinned by digest (`name:tag@sha256:…`); default: the pin file's (policy-gateway/base-image/Dockerfile). */
    baseImage?: string;
    /** The platform to build for (default linux/amd64): linux/arm64 for Graviton (ARM64) tasks. */
    platform?: GatewayPlatform;
}

/**
 * The image's identity: a digest of everything that makes the docker provider rebuild it, so the
 * tag changes whenever a build can differ and never names two different images.
 *
 * The provider's Diff compares every input of the image (context and Dockerfile paths, build
 * args, platform) and a `contextDigest` over every file of the build context not excluded by
 * `.dockerignore`, by relative name, mode and content, plus the Dockerfile
 * (pulumi/pulumi-docker provider/provider.go: Check, Diff, hashContext). This digest covers a
 * superset: every file of the context directory (ignored ones too), the Dockerfile, the build
 * args (the base image pinned by digest) and the platform. Pure.
 */
export function imageIdentity(contextDigest: string, buildArgs: Record<string, string>, platform: string): string {
    const h = createHash("sha256").update(contextDigest).update("\0").update(platform);
    for (const [k, v] of Object.entries(buildArgs).sort(([a], [b]) => a.localeCompare(b))) h.update(`\0${k}=${v}`);
    return h.digest("hex");
}

/**
 * The gateway image, built from policy-gateway/Dockerfile after making sure the bundle it copies
 * is current.
 *
 * - Tagged by `imageIdentity`: an ECR repository with immutable tags refuses a second push under
 *   one tag (ImageTagAlreadyExistsException), and the provider rebuilds (and pushes) whenever an
 *   input differs, so the tag must change with every input.
 * - Build paths relative to the project root (Pulumi runs the program there): an absolute path
 *   differs per checkout and would rebuild on every CI runner.
 * - The base image is pinned by digest in the repository (policy-gateway/base-image/Dockerfile,
 *   updated by Dependabot), never looked up at preview: a new digest is a reviewed pull request,
 *   a new build argument, hence a rebuild under a new tag.
 * - Referred to by `repoDigest`: the registry digest when pushed, the local image id otherwise
 *   (@pulumi/docker Image.repoDigest: "the unique manifest SHA of a pushed docker image, or the
 *   local image ID"), so a container always runs exactly what was built.
 * - An ECS task definition refers to it by its tag (`taggedRef`) instead: the repository's tags
 *   are IMMUTABLE, so the tag names that one image for good (AWS ECR User Guide, "Image tag
 *   mutability"), and unlike the digest it is known at preview, when the image is yet to be
 *   built. The task definition is then readable at every preview, and the guardrail pack checks
 *   it there (policy/policies.ts, ecs-introspection-secret-from-secrets-manager); with the digest
 *   in it, the whole definition was unknown whenever the image changed, and the check skipped.
 */
export class GatewayImage extends pulumi.ComponentResource {
    /** What containers and task definitions run: `repo@sha256:…` when pushed, the image id (`sha256:…`) when local. */
    public readonly ref: pulumi.Output<string>;
    /** The identity-derived tag, for people (`docker images`, the ECR console). */
    public readonly imageName: pulumi.Output<string>;
    /** `repository:tag`, known at preview, available once the push is done: for an immutable-tag repository only. */
    public readonly taggedRef: pulumi.Output<string>;

    constructor(name: string, args: GatewayImageArgs, opts?: pulumi.ComponentResourceOptions) {
        super("okta-api-gateway:gateway:GatewayImage", name, {}, opts);

        ensureGatewayBundle();
        const context = path.relative(process.cwd(), GATEWAY_DIR) || ".";
        const dockerfile = path.join(context, "Dockerfile");
        const contextDigest = buildContextDigest(GATEWAY_DIR);

        const baseImage = args.baseImage ?? pinnedBaseImageOf();
        if (!PINNED_IMAGE.test(baseImage)) throw new Error(`GatewayImage ${name}: baseImage ${baseImage} must be pinned by digest (name:tag@sha256:…)`);
        const buildArgs = pulumi.output({ BASE_IMAGE: baseImage, ...imageAnnotations() });
        const platform = args.platform ?? GATEWAY_PLATFORM;
        const tag = buildArgs.apply((a) => imageIdentity(contextDigest, a, platform).slice(0, 24));

        const image = new docker.Image(
            `${name}-image`,
            {
                imageName: pulumi.interpolate`${args.repository}:${tag}`,
                build: { context, dockerfile, platform, args: buildArgs },
                skipPush: args.registry === undefined,
                registry: args.registry && {
                    server: args.registry.server,
                    username: args.registry.username,
                    password: pulumi.secret(args.registry.password),
                },
            },
            { parent: this },
        );
        this.ref = image.repoDigest;
        this.imageName = image.imageName;
        // Its URN is known at preview and resolves once the image is pushed, so whatever runs
        // `taggedRef` waits for the push without waiting for the digest's value.
        this.taggedRef = pulumi.all([pulumi.interpolate`${args.repository}:${tag}`, image.urn]).apply(([ref]) => ref);
        this.registerOutputs({ ref: this.ref, imageName: this.imageName });
    }
}
