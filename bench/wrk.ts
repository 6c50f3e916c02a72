// The data path's load generator: wrk (C, Debian's package), not autocannon, because a Node load
// generator takes a core of its own on this 2-core machine and its latencies are whole
// milliseconds. wrk runs pinned to the last core (`taskset`) where the machine has one, so the
// servers keep the rest; its Lua `done` hook prints the figures as JSON, latencies in µs.
import { spawn, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export interface WrkResult {
    rps: number;
    requests: number;
    errors: number;
    non2xx: number;
    p50Us: number;
    p99Us: number;
    maxUs: number;
}

const REPORT = `local pause = tonumber(os.getenv("WRK_DELAY_MS") or "0")
if pause > 0 then function delay() return pause end end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('\\n{"requests":%d,"durationUs":%d,"errors":%d,"non2xx":%d,"p50Us":%d,"p99Us":%d,"maxUs":%d}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99), latency.max))
end
`;

export function wrkAvailable(): boolean {
    return spawnSync("sh", ["-c", "command -v wrk"]).status === 0;
}

/** The core wrk is pinned to: the last one, when there are two or more and taskset exists. */
export function loadCore(): number | undefined {
    const cores = os.availableParallelism();
    return cores > 1 && spawnSync("sh", ["-c", "command -v taskset"]).status === 0 ? cores - 1 : undefined;
}

export interface WrkOptions {
    connections: number;
    seconds: number;
    headers?: Record<string, string>;
    /** A pause after each answer, per connection: a paced load below capacity, for latency. */
    delayMs?: number;
}

export async function wrk(url: string, opts: WrkOptions): Promise<WrkResult> {
    const script = path.join(os.tmpdir(), `bench-wrk-${process.pid}.lua`);
    writeFileSync(script, REPORT);
    const args = [
        "-t1",
        `-c${opts.connections}`,
        `-d${opts.seconds}s`,
        "-s",
        script,
        ...Object.entries(opts.headers ?? {}).flatMap(([k, v]) => ["-H", `${k}: ${v}`]),
        url,
    ];
    const core = loadCore();
    const [command, argv] = core === undefined ? ["wrk", args] : ["taskset", ["-c", String(core), "wrk", ...args]];
    const child = spawn(command, argv, { env: { ...process.env, WRK_DELAY_MS: String(opts.delayMs ?? 0) }, stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    const line = out.split("\n").find((l) => l.startsWith('{"requests"'));
    if (code !== 0 || !line) throw new Error(`wrk ${url} exited with ${code}: ${out.slice(-400)}`);
    const r = JSON.parse(line) as Omit<WrkResult, "rps"> & { durationUs: number };
    return {
        rps: Math.round(r.requests / (r.durationUs / 1e6)),
        requests: r.requests,
        errors: r.errors,
        non2xx: r.non2xx,
        p50Us: r.p50Us,
        p99Us: r.p99Us,
        maxUs: r.maxUs,
    };
}
