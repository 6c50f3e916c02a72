import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { HEALTH_CHECK, healthCheckCommand, PORTS } from "../policy-gateway/src/config/contract";
import type { IntrospectionCredential } from "./deployGateway";
import { deployedSettings, gatewayEnvironment, type OktaWiring } from "./gatewayEnvironment";
import { GatewayImage } from "./gatewayImage";
import type { GatewaySpec } from "./stackConfig/index";

export interface LocalGatewayArgs {
    /** The stack's gateway (target local): its settings, and the host ports in `local`. */
    gateway: GatewaySpec;
    /** What Okta created: issuer, audience, the introspection client's id, each limited consumer's client id. */
    okta: pulumi.Input<OktaWiring>;
    /** The introspection client's private key or secret (none in jwt mode): reaches the container only inside a secret output. */
    introspectionCredential?: IntrospectionCredential;
}

/** The dev target: the gateway image in the local Docker engine, on its own network. */
export class LocalGateway extends pulumi.ComponentResource {
    public readonly url: pulumi.Output<string>;
    public readonly imageRef: pulumi.Output<string>;

    constructor(name: string, args: LocalGatewayArgs, opts?: pulumi.ComponentResourceOptions) {
        super("okta-api-gateway:gateway:LocalGateway", name, {}, opts);

        const image = new GatewayImage(`${name}-image`, { repository: "okta-api-gateway/policy-gateway" }, { parent: this });
        const network = new docker.Network(
            `${name}-network`,
            { name: `${pulumi.getProject()}-${pulumi.getStack()}-${name}`, driver: "bridge" },
            { parent: this },
        );

        // The whole list is one secret: one of its entries is the introspection client's key or secret.
        const credential = args.introspectionCredential;
        const envs = pulumi.secret(
            pulumi
                .all([args.okta, credential?.value])
                .apply(([okta, value]) => [
                    ...Object.entries(gatewayEnvironment(deployedSettings(args.gateway, okta, {}))).map(([k, v]) => `${k}=${v}`),
                    ...(credential ? [`${credential.variable}=${value}`] : []),
                ]),
        );
        const { port, adminPort } = args.gateway.local;

        new docker.Container(
            `${name}-container`,
            {
                name: `${pulumi.getProject()}-${pulumi.getStack()}-${name}`,
                // The image id, not the tag: a rebuilt image is a new id, so the container follows it.
                image: image.ref,
                envs,
                ports: [
                    { internal: PORTS.traffic, external: port },
                    { internal: PORTS.admin, external: adminPort, ip: "127.0.0.1" },
                ],
                networksAdvanced: [{ name: network.name }],
                // Lets a dev upstream on the host be reached as host.docker.internal.
                hosts: [{ host: "host.docker.internal", ip: "host-gateway" }],
                restart: "unless-stopped",
                healthcheck: {
                    tests: healthCheckCommand(),
                    interval: `${HEALTH_CHECK.intervalSeconds}s`,
                    timeout: `${HEALTH_CHECK.timeoutSeconds}s`,
                    startPeriod: `${HEALTH_CHECK.startPeriodSeconds}s`,
                    retries: HEALTH_CHECK.retries,
                },
                wait: true, // `pulumi up` waits until the container is healthy, i.e. ready
                destroyGraceSeconds: 25, // SIGTERM drains in-flight requests first
            },
            { parent: this },
        );

        this.url = pulumi.output(`http://localhost:${port}`);
        this.imageRef = image.ref;
        this.registerOutputs({ url: this.url, imageRef: this.imageRef });
    }
}
