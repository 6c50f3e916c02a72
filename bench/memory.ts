// Part of `npm run bench`: the RSS of the whole container (the primary
// and its workers, WORKERS=2, as deployed with the image's NODE_OPTIONS) under a flood of unique
// junk tokens, each one introspected and refused (the worst case: INTROSPECTION_PRECHECK=off, no
// per-address budget). Sampled after a warm-up with a valid token, then at checkpoints of the
// flood; the token caches' entries are read from the metrics. Growth is counted from the warm-up:
// a cold process grows its V8 heaps to their working size under any load, junk or not.
// Run alone (`node --import tsx bench/memory.ts`) it writes bench-results/memory.json.
import autocannon from "autocannon";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { PROJECT_ROOT } from "../harness/stackHarness";
import { IMAGE_NODE_OPTIONS } from "../harness/gatewayProcess";
import { callsOf, CONNECTIONS, startChild, startGateway, stop, token, tsx } from "./harness";

const CHECKPOINTS = (process.env.BENCH_MEMORY_CHECKPOINTS ?? "1200,10000,100000").split(",").map(Number);
const OUT_DIR = process.env.BENCH_OUT ?? path.join(PROJECT_ROOT, "bench-results");

/** The container's processes: the primary and every process under it. */
export function containerPids(primary: number): number[] {
    const out = [primary];
    for (let i = 0; i < out.length; i++)
        out.push(
            ...spawnSync("pgrep", ["-P", String(out[i])], { encoding: "utf8" })
                .stdout.split("\n")
                .filter(Boolean)
                .map(Number),
        );
    return out;
}

/** Resident memory of each process, MB (VmRSS), primary first. */
function rssMb(primary: number): number[] {
    return containerPids(primary).map((pid) => {
        try {
            return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024;
        } catch {
            return 0;
        }
    });
}

async function cacheEntries(adminUrl: string): Promise<Record<string, number>> {
    const text = await (await fetch(`${adminUrl}/metrics`)).text();
    const out: Record<string, number> = {};
    for (const m of text.matchAll(/^policy_gateway_token_cache_entries\{cache="(\w+)"\} (\d+)/gm)) out[m[1]] = Number(m[2]);
    return out;
}

const round = (n: number) => Math.round(n * 10) / 10;
const settle = () => new Promise((r) => setTimeout(r, 1500));

export interface MemoryReport {
    workers: number;
    nodeOptions: string;
    /** The container's RSS when it turned ready, before any request, MB. */
    coldMb: number;
    samples: {
        after: string;
        junkTokens: number;
        rssMb: number[];
        totalMb: number;
        growthMb: number;
        cacheEntries: Record<string, number>;
        introspections: number;
    }[];
}

export async function measureMemory(): Promise<MemoryReport> {
    const upstream = await startChild<{ port: number }>(...tsx("upstream.ts"));
    const auth = await startChild<{ issuer: string; tokenUrl: string }>(...tsx("authServer.ts", "opaque"), {}, true);
    const gw = await startGateway(auth.info.issuer, `http://127.0.0.1:${upstream.info.port}`, { WORKERS: "2" });
    const pid = gw.child.pid!;
    const url = `${gw.url}/api/products`;
    await settle();
    const report: MemoryReport = { workers: 2, nodeOptions: IMAGE_NODE_OPTIONS, coldMb: round(rssMb(pid).reduce((a, b) => a + b, 0)), samples: [] };
    const sample = async (after: string, junkTokens: number) => {
        await settle();
        const rss = rssMb(pid).map(round);
        const total = round(rss.reduce((a, b) => a + b, 0));
        const baseline = report.samples[0]?.totalMb ?? total;
        report.samples.push({
            after,
            junkTokens,
            rssMb: rss,
            totalMb: total,
            growthMb: round(total - baseline),
            cacheEntries: await cacheEntries(gw.adminUrl),
            introspections: await callsOf(auth.child),
        });
        process.stderr.write(`bench:memory: ${after}: ${total} MB (${rss.join(" + ")}), growth ${round(total - baseline)} MB\n`);
    };
    // Warm-up: every process has served and been compiled; its heaps have grown to their working size.
    const valid = await token(auth.info.tokenUrl);
    await autocannon({ url, connections: CONNECTIONS, amount: 20_000, headers: { authorization: `Bearer ${valid}` } });
    await sample("warm-up, 20,000 requests with one valid token", 0);
    let sent = 0;
    for (const checkpoint of CHECKPOINTS) {
        const amount = checkpoint - sent;
        await autocannon({
            url,
            connections: CONNECTIONS,
            amount,
            requests: [{ setupRequest: (req) => ({ ...req, headers: { ...req.headers, authorization: `Bearer ${randomBytes(32).toString("base64url")}` } }) }],
        });
        sent = checkpoint;
        await sample(`${checkpoint.toLocaleString("en")} unique junk tokens`, checkpoint);
    }
    await stop(gw.child);
    await stop(auth.child);
    await stop(upstream.child);
    return report;
}

if (require.main === module) {
    measureMemory().then(
        (report) => {
            mkdirSync(OUT_DIR, { recursive: true });
            writeFileSync(path.join(OUT_DIR, "memory.json"), JSON.stringify(report, null, 2));
            process.exit(0);
        },
        (e: unknown) => {
            console.error(e);
            process.exit(1);
        },
    );
}
