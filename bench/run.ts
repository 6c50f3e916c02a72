// `npm run bench`: the gateway measured side by side with its limit and its peers, in one run, on
// loopback. Every server runs in its own process; this process only generates load (autocannon).
// Writes bench-results/results.json and .md, and BENCHMARKS.md.
import autocannon from "autocannon";
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PROJECT_ROOT } from "../harness/stackHarness";
import { measureMemory, type MemoryReport } from "./memory";
import { measureDataPath, PACE_DELAY_MS, shown, type DataPathReport, type SubjectResult } from "./dataPath";
import { wrkAvailable } from "./wrk";
import { callsOf, CONNECTIONS, DURATION, load, peakRssMb, startChild, startGateway, stop, token, tsx, type Row } from "./harness";

const DISTINCT_TOKENS = Number(process.env.BENCH_TOKENS ?? 10_000);
const FLOOD = Number(process.env.BENCH_FLOOD ?? 1_000_000);
const OUT_DIR = process.env.BENCH_OUT ?? path.join(PROJECT_ROOT, "bench-results");
const WRITE_BENCHMARKS_MD = process.env.BENCH_OUT === undefined;

const randomToken = () => randomBytes(32).toString("base64url");

async function main(): Promise<void> {
    mkdirSync(OUT_DIR, { recursive: true });
    const rows: Row[] = [];
    const upstream = await startChild<{ port: number }>(...tsx("upstream.ts"));
    const upstreamUrl = `http://127.0.0.1:${upstream.info.port}`;
    const opaque = await startChild<{ issuer: string; tokenUrl: string }>(...tsx("authServer.ts", "opaque"), {}, true);
    const jwt = await startChild<{ issuer: string; tokenUrl: string }>(...tsx("authServer.ts", "jwt"), {}, true);

    // The data path (#27): wrk, rounds alternated, medians with their spread; latency per mode.
    if (!wrkAvailable()) throw new Error("bench: wrk is not installed (bash .ci/bench-tools.sh installs it from Debian)");
    const dataPath = await measureDataPath();

    // The gateway as one process per row (autocannon), for what a row of load does to it:
    // introspections per distinct token, and peak RSS under random tokens.
    const measureGateway = async (
        name: string,
        issuer: string,
        auth: ChildProcess,
        env: Record<string, string>,
        opts: (url: string) => Partial<autocannon.Options>,
    ) => {
        const gw = await startGateway(issuer, upstreamUrl, env);
        const before = await callsOf(auth);
        const row = await load(name, `${gw.url}/api/products`, opts(gw.url));
        row.introspections = (await callsOf(auth)) - before;
        row.peakRssMb = peakRssMb(gw.child.pid);
        return { row, gw };
    };

    // 5a: many distinct valid tokens in rotation: exactly one introspection per token per window.
    process.stderr.write(`bench: getting ${DISTINCT_TOKENS} tokens\n`);
    const tokens: string[] = [];
    for (let i = 0; i < DISTINCT_TOKENS; i += 50)
        tokens.push(...(await Promise.all(Array.from({ length: Math.min(50, DISTINCT_TOKENS - i) }, () => token(opaque.info.tokenUrl)))));
    let next = 0;
    const rotation = await measureGateway(
        `5a. gateway, WORKERS=2, ${DISTINCT_TOKENS} distinct tokens in rotation`,
        opaque.info.issuer,
        opaque.child,
        { WORKERS: "2" },
        () => ({
            requests: [{ setupRequest: (req) => ({ ...req, headers: { ...req.headers, authorization: `Bearer ${tokens[next++ % tokens.length]}` } }) }],
        }),
    );
    rotation.row.note = `${Math.min(next, tokens.length)} distinct tokens sent`;
    rows.push(rotation.row);
    await stop(rotation.gw.child);

    // 5b: a flood of random invalid tokens, default settings (introspection).
    const flood = await measureGateway("5b. gateway, random invalid tokens (introspection, default settings)", opaque.info.issuer, opaque.child, {}, () => ({
        requests: [{ setupRequest: (req) => ({ ...req, headers: { ...req.headers, authorization: `Bearer ${randomToken()}` } }) }],
    }));
    rows.push(flood.row);
    await stop(flood.gw.child);

    // 5c: a fixed number of random invalid tokens, for the memory bound.
    const million = await measureGateway(
        `5c. gateway, ${FLOOD.toLocaleString("en")} random invalid tokens (jwt)`,
        jwt.info.issuer,
        jwt.child,
        { TOKEN_VALIDATION: "jwt" },
        () => ({
            amount: FLOOD,
            requests: [{ setupRequest: (req) => ({ ...req, headers: { ...req.headers, authorization: `Bearer ${randomToken()}` } }) }],
        }),
    );
    rows.push(million.row);
    await stop(million.gw.child);

    // 6: the whole container (primary + 2 workers) under unique junk tokens, each one introspected.
    const memory = await measureMemory();

    report(rows, { dataPath, rotation: rotation.row, flood: million.row, distinct: Math.min(next, tokens.length), memory });
    process.exit(0);
}

interface Key {
    dataPath: DataPathReport;
    rotation: Row;
    flood: Row;
    distinct: number;
    memory: MemoryReport;
}

function report(rows: Row[], k: Key): void {
    const d = k.dataPath;
    const r = d.rows;
    const ratio = (a: number, b: number | undefined) => (b ? Math.round((a / b) * 100) / 100 : undefined);
    const atFloorHalf = d.paced[0];
    const worstAddedP99 = Math.max(...atFloorHalf.latency.map((l) => l.addedP99Us));
    const perToken = d.introspectionsPerToken;
    const targets = [
        { target: "1 worker, cached token: ≥ 0.9 of the minimal Node proxy (medians)", value: ratio(r.gateway.rps.median, r.floor.rps.median), limit: 0.9 },
        { target: "WORKERS=2: ≥ 1.3× the 1-worker gateway (medians)", value: ratio(r.workers2.rps.median, r.gateway.rps.median), limit: 1.3 },
    ].map((t) => ({ ...t, met: t.value !== undefined && t.value >= t.limit, shown: t.value === undefined ? "n/a" : `${t.value}` }));
    const rssOk = (k.flood.peakRssMb ?? Infinity) < 200;
    const last = k.memory.samples.at(-1);
    const memoryOk = last !== undefined && last.junkTokens >= 100_000 && last.growthMb < 64;
    const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}, Node.js ${process.version}`;
    const x = (row: SubjectResult | undefined, of: SubjectResult | undefined) => (row && of ? (ratio(row.rps.median, of.rps.median) ?? "") : "");
    const subjects = [r.floor, r.dispatchFloor, r.gateway, r.workers2, r.nginx, r.spike, r.spikeUncached].filter((s): s is SubjectResult => s !== undefined);
    const dataPathTable = [
        "| subject | req/s, median (min–max) | × minimal Node proxy | × nginx | CPU µs per request | idle cores | p50 µs | p99 µs | non-2xx | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ...subjects.map(
            (s) =>
                `| ${s.name} | ${shown(s.rps)} | ${x(s, r.floor)} | ${x(s, r.nginx)} | ${s.cpuUsPerRequest ? shown(s.cpuUsPerRequest) : ""} | ${s.idleCores.median} | ${s.p50Us.median} | ${s.p99Us.median} | ${s.non2xx} | ${s.errors} |`,
        ),
    ];
    const latencyTable = d.paced.flatMap((p) => [
        `| at about half the ${p.basis === "floor" ? "floor's" : "1-worker gateway's"} capacity, ~${p.rate} req/s (${p.connections} connections, each pausing ${PACE_DELAY_MS} ms after each answer) | req/s | p50 µs | p99 µs | p50 added µs | p99 added µs | non-2xx |`,
        "|---|---:|---:|---:|---:|---:|---:|",
        `| minimal Node proxy | ${shown(p.floor.rps)} | ${shown(p.floor.p50Us)} | ${shown(p.floor.p99Us)} | | | |`,
        ...p.latency.map(
            (l) => `| gateway, ${l.mode} | ${shown(l.rps)} | ${shown(l.p50Us)} | ${shown(l.p99Us)} | ${l.addedP50Us} | ${l.addedP99Us} | ${l.non2xx} |`,
        ),
        "",
    ]);
    const verdicts = [
        ...targets.map((t) => `| ${t.target} | ${t.shown} | ${t.met ? "met" : "missed"} |`),
        `| p99 added over the minimal Node proxy at half its capacity ≤ 1 ms, per mode | ${atFloorHalf.latency.map((l) => `${l.mode} ${Math.round(l.addedP99Us / 10) / 100} ms`).join(", ")} | ${worstAddedP99 <= 1000 ? "met" : "missed"} |`,
        `| one introspection per token per window for the container, 1 worker and WORKERS=2 | first request: ${perToken.workers1} and ${perToken.workers2}; during the rounds: ${perToken.duringRounds} (at most ${perToken.allowedDuringRounds}: ${perToken.containers} containers, ${perToken.seconds} s, a ${perToken.windowSeconds} s window) | ${perToken.workers1 === 1 && perToken.workers2 === 1 && perToken.duringRounds <= perToken.allowedDuringRounds ? "met" : "missed"} |`,
        `| WORKERS=2: exactly one introspection per distinct token per cache window | ${k.rotation.introspections} for ${k.distinct} tokens | ${k.rotation.introspections === k.distinct ? "met" : "missed"} |`,
        `| peak RSS per worker < 200 MB after ${FLOOD.toLocaleString("en")} random invalid tokens | ${k.flood.peakRssMb} MB | ${rssOk ? "met" : "missed"} |`,
        `| the container (primary + 2 workers) grows < 64 MB over its warm-up after ${(last?.junkTokens ?? 0).toLocaleString("en")} unique junk tokens, caches at their bounds | +${last?.growthMb} MB (${last?.totalMb} MB; negative cache ${last?.cacheEntries.negative ?? "?"} entries) | ${memoryOk ? "met" : "missed"} |`,
    ];
    const table = [
        "| row | req/s | p50 ms | p99 ms | max ms | non-2xx | introspections | peak RSS MB (per process) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        ...rows.map(
            (row) =>
                `| ${row.name} | ${row.rps} | ${row.p50} | ${row.p99} | ${row.max} | ${row.non2xx} | ${row.introspections ?? ""} | ${row.peakRssMb ?? ""} |`,
        ),
    ];
    const notes = rows.filter((row) => row.note).map((row) => `- ${row.name}: ${row.note}`);
    const memoryTable = [
        `Container RSS (\`WORKERS=2\`, \`NODE_OPTIONS="${k.memory.nodeOptions}"\`), ${k.memory.coldMb} MB when it turned ready:`,
        "",
        "| after | RSS MB (primary + workers) | total MB | growth over the warm-up MB | token cache entries | introspections |",
        "|---|---|---:|---:|---|---:|",
        ...k.memory.samples.map(
            (s) =>
                `| ${s.after} | ${s.rssMb.join(" + ")} | ${s.totalMb} | ${s.growthMb} | ${Object.entries(s.cacheEntries)
                    .map(([c, n]) => `${c} ${n}`)
                    .join(", ")} | ${s.introspections} |`,
        ),
    ];
    const md = [
        `Measured ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC on ${machine}.`,
        `Command: \`npm run bench\`. The data path: wrk -t1 -c${d.connections}${d.loadCore !== undefined ? `, pinned to core ${d.loadCore} (taskset)` : ""}, ${d.rounds} rounds of ${d.seconds} s per subject, the order rotated each round, after one unmeasured warm-up round; medians with the lowest and the highest round. The gateway runs as deployed (LOG_LEVEL=info, metrics, identity headers).`,
        "",
        ...dataPathTable,
        "",
        ...latencyTable,
        "| target | measured | |",
        "|---|---|---|",
        ...verdicts,
        "",
        `Under load (autocannon, ${CONNECTIONS} connections, ${DURATION} s per row, one gateway process per row):`,
        "",
        ...table,
        "",
        ...memoryTable,
        ...(notes.length ? ["", ...notes] : []),
    ].join("\n");
    writeFileSync(
        path.join(OUT_DIR, "results.json"),
        JSON.stringify({ machine, dataPath: d, connections: CONNECTIONS, durationSeconds: DURATION, rows, targets, memory: k.memory }, null, 2) + "\n",
    );
    writeFileSync(path.join(OUT_DIR, "results.md"), md + "\n");
    if (WRITE_BENCHMARKS_MD) {
        const file = path.join(PROJECT_ROOT, "BENCHMARKS.md");
        const head = readFileSync(file, "utf8").split("<!-- results -->")[0];
        writeFileSync(file, `${head}<!-- results -->\n${md}\n`);
    }
    process.stdout.write(md + "\n");
}

main().catch((e: unknown) => {
    process.stderr.write(`bench: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(1);
});
