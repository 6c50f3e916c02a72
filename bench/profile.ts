// `node --import tsx bench/profile.ts [seconds] [gateway|floor]`: a CPU profile of the 1-worker
// gateway (introspection, cached token, LOG_LEVEL=info), or of the minimal Node proxy it is
// measured against, under wrk's load as the data path bench runs it; prints the functions and the
// files where the time goes (self time), and writes the .cpuprofile for a flame graph (Chrome
// DevTools, speedscope).
import { readdirSync, readFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { mkdtempSync } from "node:fs";
import { IMAGE_NODE_OPTIONS } from "../harness/gatewayProcess";
import { startBackends, startChild, startGateway, stop, tsx } from "./harness";
import { wrk, type WrkResult } from "./wrk";

interface ProfileNode {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    hitCount?: number;
    children?: number[];
}

export function selfTimes(file: string): { total: number; byFunction: [string, number][]; byFile: [string, number][] } {
    const p = JSON.parse(readFileSync(file, "utf8")) as { nodes: ProfileNode[] };
    const fn = new Map<string, number>();
    const byFile = new Map<string, number>();
    let total = 0;
    for (const n of p.nodes) {
        const hits = n.hitCount ?? 0;
        total += hits;
        const f = n.callFrame;
        const where = f.url ? `${path.basename(f.url)}:${f.lineNumber + 1}` : "";
        const key = `${f.functionName || "(anonymous)"} ${where}`.trim();
        fn.set(key, (fn.get(key) ?? 0) + hits);
        const file = f.url ? f.url.replace(/^.*node_modules\//, "").replace(/^node:/, "node:") : f.functionName;
        byFile.set(file, (byFile.get(file) ?? 0) + hits);
    }
    const sorted = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1]);
    return { total, byFunction: sorted(fn), byFile: sorted(byFile) };
}

async function main(): Promise<void> {
    const seconds = Number(process.argv[2] ?? 8);
    const dir = mkdtempSync(path.join(os.tmpdir(), "gateway-profile-"));
    const { upstream, upstreamUrl, auth, token: t } = await startBackends("opaque");
    const profiling = ["--cpu-prof", `--cpu-prof-dir=${dir}`];
    let r: WrkResult;
    if (process.argv[3] === "floor") {
        const [node, args] = tsx("plainProxy.ts", upstreamUrl);
        const floor = await startChild<{ port: number }>(node, [...profiling, ...args]);
        r = await wrk(`http://127.0.0.1:${floor.info.port}/api/products`, { connections: 32, seconds });
        await stop(floor.child);
    } else {
        const gw = await startGateway(auth.info.issuer, upstreamUrl, {
            LOG_LEVEL: "info",
            NODE_OPTIONS: `${IMAGE_NODE_OPTIONS} ${profiling.join(" ")}`,
            ...(process.env.PROFILE_ENV ? (JSON.parse(process.env.PROFILE_ENV) as Record<string, string>) : {}),
        });
        r = await wrk(`${gw.url}/api/products`, { connections: 32, seconds, headers: { authorization: `Bearer ${t}` } });
        await stop(gw.child);
    }
    const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"));
    if (!file) throw new Error("no profile written");
    const s = selfTimes(path.join(dir, file));
    const pct = (n: number) => `${((n / s.total) * 100).toFixed(1)}%`;
    process.stdout.write(`${r.rps} req/s under the profiler; profile ${path.join(dir, file)}\n\nby file:\n`);
    for (const [k, v] of s.byFile.slice(0, 25)) process.stdout.write(`  ${pct(v).padStart(6)}  ${k}\n`);
    process.stdout.write("\nby function:\n");
    for (const [k, v] of s.byFunction.slice(0, 45)) process.stdout.write(`  ${pct(v).padStart(6)}  ${k}\n`);
    for (const c of [upstream.child, auth.child]) await stop(c);
    process.exit(0);
}
if (require.main === module) void main();
