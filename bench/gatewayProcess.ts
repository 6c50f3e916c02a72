// What every harness that starts the gateway as its own process needs: the image's NODE_OPTIONS
// (read from its Dockerfile, so it runs as deployed, without a second copy of the flags) and a
// free loopback port.
import { readFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import * as path from "node:path";
import { PROJECT_ROOT } from "../rehearsal/stackHarness";

export const IMAGE_NODE_OPTIONS = /NODE_OPTIONS="([^"]*)"/.exec(readFileSync(path.join(PROJECT_ROOT, "policy-gateway", "Dockerfile"), "utf8"))?.[1] ?? "";

export async function freePort(): Promise<number> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise((r) => server.close(r));
    return port;
}
