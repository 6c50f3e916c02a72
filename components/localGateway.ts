import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { GATEWAY_ADMIN_PORT, GATEWAY_PORT } from "./gatewayEnvironment";
import { GatewayImage } from "./gatewayImage";

export interface LocalGatewayArgs {
    /** Non-secret environment (see gatewayEnvironment). */
    environment: pulumi.Input<Record<string, string>>;
    /** The introspection client's secret: reaches the container only inside a secret output. */
    introspectionClientSecret: pulumi.Input<string>;
    /** Host ports the gateway and its admin endpoints are published on. */
    port: number;
    adminPort: number;
}

/** The dev target: the gateway image in the local Docker engine, on its own network. */
export class LocalGateway extends pulumi.ComponentResource {
    public readonly url: pulumi.Output<string>;
    public readonly imageRef: pulumi.Output<string>;

    constructor(name: string, args: LocalGatewayArgs, opts?: pulumi.ComponentResourceOptions) {
        super("okta-api-gateway:gateway:LocalGateway", name, {}, opts);

        const image = new GatewayImage(`${name}-image`, { repository: "okta-api-gateway/policy-gateway" }, { parent: this });
        const network = new docker.Network(`${name}-network`, { name: `${name}-${pulumi.getStack()}`, driver: "bridge" }, { parent: this });

        // The whole list is one secret: one of its entries is the introspection client secret.
        const envs = pulumi.secret(
            pulumi
                .all([args.environment, args.introspectionClientSecret])
                .apply(([env, secret]) => [...Object.entries(env).map(([k, v]) => `${k}=${v}`), `INTROSPECTION_CLIENT_SECRET=${secret}`]),
        );

        new docker.Container(
            `${name}-container`,
            {
                name: `${name}-${pulumi.getStack()}`,
                image: image.ref,
                envs,
                ports: [
                    { internal: GATEWAY_PORT, external: args.port },
                    { internal: GATEWAY_ADMIN_PORT, external: args.adminPort, ip: "127.0.0.1" },
                ],
                networksAdvanced: [{ name: network.name }],
                // Lets a dev upstream on the host be reached as host.docker.internal.
                hosts: [{ host: "host.docker.internal", ip: "host-gateway" }],
                restart: "unless-stopped",
                healthcheck: {
                    tests: ["CMD", "node", "-e", `fetch('http://127.0.0.1:${GATEWAY_ADMIN_PORT}/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))`],
                    interval: "10s",
                    timeout: "3s",
                    startPeriod: "15s",
                    retries: 3,
                },
                wait: true, // `pulumi up` waits until the container is healthy
                destroyGraceSeconds: 25, // SIGTERM drains in-flight requests first
            },
            { parent: this },
        );

        this.url = pulumi.output(`http://localhost:${args.port}`);
        this.imageRef = image.ref;
        this.registerOutputs({ url: this.url, imageRef: this.imageRef });
    }
}
