// What the benchmarks share: their server processes (killed when the run ends), the gateway
// bundle started as deployed, a token from the bench's authorization server, and one load row.
import autocannon from "autocannon";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { freePort, IMAGE_NODE_OPTIONS, untilReady } from "../harness/gatewayProcess";
import { PROJECT_ROOT } from "../harness/stackHarness";
import { BENCH_AUDIENCE, BENCH_CLIENT, BENCH_INTROSPECTION } from "./authServer";

export const DURATION = Number(process.env.BENCH_DURATION ?? 10);
export const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const BUNDLE = path.join(PROJECT_ROOT, "policy-gateway", "dist", "gateway.mjs");

export interface Row {
    name: string;
    rps: number;
    p50: number;
    p99: number;
    max: number;
    requests: number;
    non2xx: number;
    errors: number;
    introspections?: number;
    peakRssMb?: number;
    note?: string;
}

export const children: ChildProcess[] = [];
process.on("exit", () => children.forEach((c) => c.kill("SIGKILL")));

/** Starts a server process and resolves the JSON it prints first (its port or issuer). */
export function startChild<T>(
    command: string,
    args: readonly string[],
    env: Record<string, string> = {},
    ipc = false,
): Promise<{ child: ChildProcess; info: T }> {
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ipc ? ["ignore", "pipe", "inherit", "ipc"] : ["ignore", "pipe", "inherit"] });
    children.push(child);
    return new Promise((resolve, reject) => {
        let buffered = "";
        child.stdout!.on("data", (chunk: Buffer) => {
            buffered += chunk.toString();
            const line = buffered.split("\n")[0];
            if (buffered.includes("\n")) {
                try {
                    resolve({ child, info: JSON.parse(line) as T });
                } catch {
                    buffered = buffered.slice(buffered.indexOf("\n") + 1);
                }
            }
        });
        child.once("exit", (code) => reject(new Error(`${command} ${args.join(" ")} exited with ${code}`)));
    });
}

export const tsx = (file: string, ...args: string[]) => [process.execPath, ["--import", "tsx", path.join(PROJECT_ROOT, "bench", file), ...args]] as const;

/** The highest peak RSS of the process and its children (the workers, with WORKERS > 1). */
export function peakRssMb(pid: number | undefined): number | undefined {
    if (!pid) return undefined;
    const children = spawnSync("pgrep", ["-P", String(pid)], { encoding: "utf8" })
        .stdout.split("\n")
        .filter(Boolean)
        .map(Number);
    const peaks = [pid, ...children].map((p) => {
        try {
            const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, "utf8"));
            return m ? Number(m[1]) : 0;
        } catch {
            return 0;
        }
    });
    return Math.round(Math.max(...peaks) / 102.4) / 10;
}

export async function callsOf(auth: ChildProcess): Promise<number> {
    return new Promise((resolve) => {
        auth.once("message", (m) => resolve((m as { calls: { introspect: number } }).calls.introspect));
        auth.send("calls");
    });
}

export async function load(name: string, url: string, opts: Partial<autocannon.Options> = {}): Promise<Row> {
    // A fixed `amount` of requests replaces the duration.
    const result = await autocannon({ url, connections: CONNECTIONS, ...(opts.amount ? {} : { duration: DURATION }), ...opts });
    const row: Row = {
        name,
        rps: Math.round(result.requests.average),
        p50: result.latency.p50,
        p99: result.latency.p99,
        max: result.latency.max,
        requests: result.requests.total,
        non2xx: result.non2xx,
        errors: result.errors + result.timeouts,
    };
    process.stderr.write(`bench: ${name}: ${row.rps} req/s, p99 ${row.p99} ms, non-2xx ${row.non2xx}\n`);
    return row;
}

/** The fixed-response upstream and a local authorization server issuing `kind` tokens, with one token from it: what a one-gateway measurement stands on. */
export async function startBackends(kind: "opaque" | "jwt") {
    const upstream = await startChild<{ port: number }>(...tsx("upstream.ts"));
    const auth = await startChild<{ issuer: string; tokenUrl: string }>(...tsx("authServer.ts", kind), {}, true);
    return { upstream, upstreamUrl: `http://127.0.0.1:${upstream.info.port}`, auth, token: await token(auth.info.tokenUrl) };
}

export async function token(tokenUrl: string): Promise<string> {
    const res = await fetch(tokenUrl, {
        method: "POST",
        headers: {
            authorization: `Basic ${Buffer.from(`${BENCH_CLIENT.clientId}:${BENCH_CLIENT.clientSecret}`).toString("base64")}`,
            "content-type": "application/x-www-form-urlencoded",
        },
        body: "grant_type=client_credentials&scope=myscope",
    });
    return ((await res.json()) as { access_token: string }).access_token;
}

export async function startGateway(
    issuer: string,
    upstream: string,
    env: Record<string, string>,
    bundle = BUNDLE, // another build, to measure a change against the code before it in one run
): Promise<{ child: ChildProcess; url: string; adminUrl: string }> {
    const [port, adminPort] = [await freePort(), await freePort()];
    const child = spawn(process.execPath, [bundle], {
        stdio: ["ignore", "ignore", "inherit"], // logs (when enabled) are written, then discarded
        env: {
            PATH: process.env.PATH ?? "",
            NODE_OPTIONS: IMAGE_NODE_OPTIONS,
            UPSTREAM_URL: upstream,
            OIDC_ISSUER: issuer,
            AUDIENCE: BENCH_AUDIENCE,
            INTROSPECTION_CLIENT_ID: BENCH_INTROSPECTION.clientId,
            INTROSPECTION_CLIENT_SECRET: BENCH_INTROSPECTION.clientSecret,
            REQUIRED_SCOPES: "myscope",
            PORT: String(port),
            ADMIN_PORT: String(adminPort),
            HOST: "127.0.0.1",
            LOG_LEVEL: "silent", // measured without its per-request log line's I/O; see BENCHMARKS.md
            // The bench's authorization server issues opaque tokens, and all load comes from one address.
            INTROSPECTION_PRECHECK: "off",
            INTROSPECTIONS_PER_CLIENT_PER_MINUTE: "0",
            WORKERS: "1", // rows say when they use more
            ...env,
        },
    });
    children.push(child);
    await untilReady(`http://127.0.0.1:${adminPort}`, { process: child });
    return { child, url: `http://127.0.0.1:${port}`, adminUrl: `http://127.0.0.1:${adminPort}` };
}

export function stop(child: ChildProcess): Promise<void> {
    return new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
    });
}
