// What every harness that starts the gateway as its own process needs (npm start, the tests, the
// benchmarks): the image's NODE_OPTIONS (read from its Dockerfile, so it runs as deployed,
// without a second copy of the flags), a free loopback port, and the wait for readiness.
import type { ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import * as path from "node:path";
import { PROJECT_ROOT } from "./stackHarness";

export const IMAGE_NODE_OPTIONS = /NODE_OPTIONS="([^"]*)"/.exec(readFileSync(path.join(PROJECT_ROOT, "policy-gateway", "Dockerfile"), "utf8"))?.[1] ?? "";

export async function freePort(): Promise<number> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise((r) => server.close(r));
    return port;
}

/**
 * Waits until the gateway's admin `/readyz` answers 200: its issuer's metadata (and keys) are
 * loaded. Fails at once when the process exits first, and after `timeoutMs`.
 */
export async function untilReady(adminUrl: string, opts: { process?: ChildProcess; timeoutMs?: number; what?: string } = {}): Promise<void> {
    const what = opts.what ?? "the gateway";
    const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
    while (
        !(await fetch(`${adminUrl}/readyz`).then(
            (r) => r.ok,
            () => false,
        ))
    ) {
        if (opts.process && opts.process.exitCode !== null) throw new Error(`${what} exited with ${opts.process.exitCode} before it was ready`);
        if (Date.now() > deadline) throw new Error(`${what} did not become ready within ${Math.round((opts.timeoutMs ?? 15_000) / 1000)} s`);
        await new Promise((r) => setTimeout(r, 50));
    }
}
