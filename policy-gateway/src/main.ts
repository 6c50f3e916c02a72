// Entry point: configuration from the environment, then the gateway; SIGTERM/SIGINT drain and exit.
import { ConfigError, loadConfig } from "./config";
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
    const gateway = createGateway(config);
    await gateway.start();

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
        gateway.close().then(
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
