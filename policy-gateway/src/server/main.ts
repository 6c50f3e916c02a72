// Entry point: configuration from the environment, then the gateway (one process, or with
// WORKERS > 1 a primary and its workers); SIGTERM/SIGINT drain and exit.
import { isClusterPrimary, runPrimary, workerChannel } from "./cluster";
import { ConfigError, loadConfig } from "../config/load";
import { createGateway } from "./gateway";

async function main(): Promise<void> {
    let config;
    try {
        config = loadConfig(process.env);
    } catch (e) {
        if (e instanceof ConfigError) {
            process.stderr.write(`policy-gateway: ${e.message}\n`);
            process.exit(2);
        }
        throw e;
    }
    if (config.workers > 1 && isClusterPrimary()) return runPrimary(config);
    const worker = config.workers > 1;
    let gateway: ReturnType<typeof createGateway> | undefined;
    // In a worker, metrics are read through the channel once the gateway exists.
    const channel = worker
        ? workerChannel({ getMetricsAsJSON: () => (gateway as ReturnType<typeof createGateway>).metrics.registry.getMetricsAsJSON() })
        : undefined;
    gateway = createGateway(config, { primary: channel, limits: channel, onReady: worker ? () => process.send?.({ t: "ready" }) : undefined });
    const { port } = await gateway.start();
    if (worker) process.send?.({ t: "listening", port });
    const running = gateway;

    let stopping = false;
    const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        process.stderr.write(`policy-gateway: ${signal}: draining in-flight requests\n`);
        const force = setTimeout(() => {
            process.stderr.write("policy-gateway: drain timed out\n");
            process.exit(1);
        }, config.shutdownGraceSeconds * 1000);
        force.unref();
        running.close().then(
            () => process.exit(0),
            () => process.exit(1),
        );
    };
    process.on("SIGTERM", () => stop("SIGTERM"));
    process.on("SIGINT", () => stop("SIGINT"));
}

main().catch((e: unknown) => {
    process.stderr.write(`policy-gateway: failed to start: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
});
