// The shipped bundle, policy-gateway/dist/gateway.mjs (built by `npm run build`), started as its
// own process with only environment variables, as the container runs it; its JSON log lines kept.
import { spawn, type ChildProcess } from "node:child_process";
import * as path from "node:path";
import { untilReady } from "../../harness/gatewayProcess";
import { PROJECT_ROOT } from "../../harness/stackHarness";

export const BUNDLE = path.join(PROJECT_ROOT, "policy-gateway/dist/gateway.mjs");

export interface Running {
    child: ChildProcess;
    lines: string[];
    port: number;
    adminPort: number;
    exited: Promise<number | null>;
}

export async function startBundle(env: Record<string, string>): Promise<Running> {
    const child = spawn(process.execPath, [BUNDLE], { env: { PATH: process.env.PATH ?? "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
    const lines: string[] = [];
    let buffered = "";
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    const listening = new Promise<{ port: number; adminPort: number }>((resolve, reject) => {
        child.stdout!.on("data", (chunk: Buffer) => {
            buffered += chunk.toString();
            const parts = buffered.split("\n");
            buffered = parts.pop() ?? "";
            for (const line of parts) {
                lines.push(line);
                const entry = JSON.parse(line) as { msg?: string; port?: number; adminPort?: number };
                if (entry.msg === "listening") resolve({ port: entry.port!, adminPort: entry.adminPort! });
            }
        });
        child.stderr!.on("data", (chunk: Buffer) => lines.push(chunk.toString()));
        void exited.then((code) => reject(new Error(`gateway exited with ${code}: ${lines.join("\n")}`)));
    });
    const ports = await listening;
    await untilReady(`http://127.0.0.1:${ports.adminPort}`, { process: child, timeoutMs: 10_000, what: "the bundle" });
    return { child, lines, exited, ...ports };
}
