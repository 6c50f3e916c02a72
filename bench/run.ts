// `npm run bench`: the gateway measured side by side with its limit and its peers, in one run, on
// loopback. Every server runs in its own process; this process only generates load (autocannon).
// Writes bench-results/results.json and .md, and BENCHMARKS.md.
import { nginxConf } from "../harness/nginxConf";
import { freePort } from "../harness/gatewayProcess";
import autocannon from "autocannon";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PROJECT_ROOT } from "../harness/stackHarness";
import { measureMemory, type MemoryReport } from "./memory";
import { callsOf, children, CONNECTIONS, DURATION, load, peakRssMb, startChild, startGateway, stop, token, tsx, type Row } from "./harness";

const DISTINCT_TOKENS = Number(process.env.BENCH_TOKENS ?? 10_000);
const FLOOD = Number(process.env.BENCH_FLOOD ?? 1_000_000);
const OUT_DIR = process.env.BENCH_OUT ?? path.join(PROJECT_ROOT, "bench-results");
const WRITE_BENCHMARKS_MD = process.env.BENCH_OUT === undefined;

async function startNginx(upstreamPort: number): Promise<{ child: ChildProcess; url: string; version: string } | undefined> {
    const which = spawnSync("sh", ["-c", "command -v nginx"], { encoding: "utf8" });
    if (which.status !== 0) return undefined;
    const bin = which.stdout.trim();
    const dir = mkdtempSync(path.join(os.tmpdir(), "bench-nginx-"));
    const port = await freePort();
    writeFileSync(
        path.join(dir, "nginx.conf"),
        nginxConf(
            dir,
            `  upstream api { server 127.0.0.1:${upstreamPort}; keepalive 256; }
  server {
    listen 127.0.0.1:${port};
    location / { proxy_pass http://api; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }`,
        ),
    );
    const child = spawn(bin, ["-c", path.join(dir, "nginx.conf"), "-p", dir], { stdio: "ignore" });
    children.push(child);
    while (
        !(await fetch(`http://127.0.0.1:${port}/`).then(
            (r) => r.ok,
            () => false,
        ))
    ) {
        if (child.exitCode !== null) return undefined;
        await new Promise((r) => setTimeout(r, 50));
    }
    const version = spawnSync(bin, ["-v"], { encoding: "utf8" })
        .stderr.trim()
        .replace(/^nginx version: /, "");
    return { child, url: `http://127.0.0.1:${port}`, version };
}

const randomToken = () => randomBytes(32).toString("base64url");

async function main(): Promise<void> {
    mkdirSync(OUT_DIR, { recursive: true });
    const rows: Row[] = [];
    const upstream = await startChild<{ port: number }>(...tsx("upstream.ts"));
    const upstreamUrl = `http://127.0.0.1:${upstream.info.port}`;
    const opaque = await startChild<{ issuer: string; tokenUrl: string }>(...tsx("authServer.ts", "opaque"), {}, true);
    const jwt = await startChild<{ issuer: string; tokenUrl: string }>(...tsx("authServer.ts", "jwt"), {}, true);

    // 1-3: the limit, one plain hop on the same stack, and nginx.
    rows.push(await load("1. upstream alone (the limit)", upstreamUrl));
    const plain = await startChild<{ port: number }>(...tsx("plainProxy.ts", upstreamUrl));
    const plainRow = await load("2. minimal Node proxy (node:http + undici Pool), no checks", `http://127.0.0.1:${plain.info.port}`);
    rows.push(plainRow);
    const nginx = await startNginx(upstream.info.port);
    const nginxRow = nginx ? await load(`3. nginx ${nginx.version} reverse proxy`, nginx.url) : undefined;
    if (nginxRow) rows.push(nginxRow);
    else
        rows.push({
            name: "3. nginx reverse proxy",
            rps: 0,
            p50: 0,
            p99: 0,
            max: 0,
            requests: 0,
            non2xx: 0,
            errors: 0,
            note: "no nginx binary on this machine (apt-get install nginx-light)",
        });
    if (nginx) await stop(nginx.child);

    // 4: the gateway with a cached token, per validation mode; a fresh process each, for its peak RSS.
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
    const opaqueToken = await token(opaque.info.tokenUrl);
    const cached = await measureGateway("4a. gateway, 1 worker, introspection, cached token", opaque.info.issuer, opaque.child, {}, () => ({
        headers: { authorization: `Bearer ${opaqueToken}` },
    }));
    rows.push(cached.row);
    const two = await measureGateway("4d. gateway, WORKERS=2, introspection, cached token", opaque.info.issuer, opaque.child, { WORKERS: "2" }, () => ({
        headers: { authorization: `Bearer ${opaqueToken}` },
    }));
    rows.push(two.row);
    await stop(two.gw.child);
    const logged = await measureGateway(
        "4a+. the same, with the default LOG_LEVEL=info (a JSON line per request)",
        opaque.info.issuer,
        opaque.child,
        { LOG_LEVEL: "info" },
        () => ({ headers: { authorization: `Bearer ${opaqueToken}` } }),
    );
    rows.push(logged.row);
    await stop(logged.gw.child);
    const jwtToken = await token(jwt.info.tokenUrl);
    const jwtRun = await measureGateway("4b. gateway, jwt", jwt.info.issuer, jwt.child, { TOKEN_VALIDATION: "jwt" }, () => ({
        headers: { authorization: `Bearer ${jwtToken}` },
    }));
    rows.push(jwtRun.row);
    await stop(jwtRun.gw.child);
    // The local server introspects its own JWTs as Okta does: one introspection per window expected.
    const hybridRun = await measureGateway("4c. gateway, hybrid", jwt.info.issuer, jwt.child, { TOKEN_VALIDATION: "hybrid" }, () => ({
        headers: { authorization: `Bearer ${jwtToken}` },
    }));
    rows.push(hybridRun.row);
    await stop(hybridRun.gw.child);

    // Latency at 50% of the gateway's maximum rate, gateway and plain proxy at the same fixed rate.
    const halfRate = Math.max(1, Math.round(cached.row.rps / 2));
    const plainHalf = await load(`2'. minimal Node proxy at ${halfRate} req/s`, `http://127.0.0.1:${plain.info.port}`, { overallRate: halfRate });
    const cachedHalf = await load(`4a'. gateway, cached token, at ${halfRate} req/s`, `${cached.gw.url}/api/products`, {
        overallRate: halfRate,
        headers: { authorization: `Bearer ${opaqueToken}` },
    });
    rows.push(plainHalf, cachedHalf);
    await stop(cached.gw.child);
    await stop(plain.child);

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

    report(
        rows,
        {
            plainRow,
            nginxRow,
            cached: cached.row,
            two: two.row,
            jwt: jwtRun.row,
            plainHalf,
            cachedHalf,
            rotation: rotation.row,
            flood: million.row,
            distinct: Math.min(next, tokens.length),
            memory,
        },
        nginx?.version,
    );
    process.exit(0);
}

interface Key {
    plainRow: Row;
    nginxRow?: Row;
    cached: Row;
    two: Row;
    jwt: Row;
    plainHalf: Row;
    cachedHalf: Row;
    rotation: Row;
    flood: Row;
    distinct: number;
    memory: MemoryReport;
}

function report(rows: Row[], k: Key, nginxVersion: string | undefined): void {
    const ratio = (a: number, b: number | undefined) => (b ? Math.round((a / b) * 100) / 100 : undefined);
    const targets = [
        { target: "1 worker, cached token: ≥ 0.9 of the minimal Node proxy", value: ratio(k.cached.rps, k.plainRow.rps), limit: 0.9 },
        { target: "1 worker, cached token: ≥ 0.5 of nginx with 1 worker (goal 0.6)", value: ratio(k.cached.rps, k.nginxRow?.rps), limit: 0.5 },
        { target: "WORKERS=2: ≥ 1.2× the 1-worker gateway", value: ratio(k.two.rps, k.cached.rps), limit: 1.2 },
        { target: "jwt, 1 worker: ≥ 0.85 of the minimal Node proxy", value: ratio(k.jwt.rps, k.plainRow.rps), limit: 0.85 },
    ].map((t) => ({ ...t, met: t.value !== undefined && t.value >= t.limit, shown: t.value === undefined ? "n/a" : `${t.value}` }));
    const addedP99 = Math.round((k.cachedHalf.p99 - k.plainHalf.p99) * 100) / 100;
    const rssOk = (k.flood.peakRssMb ?? Infinity) < 200;
    const last = k.memory.samples.at(-1);
    const memoryOk = last !== undefined && last.junkTokens >= 100_000 && last.growthMb < 64;
    const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}, Node.js ${process.version}${nginxVersion ? `, nginx ${nginxVersion}` : ""}`;

    const table = [
        "| row | req/s | p50 ms | p99 ms | max ms | non-2xx | introspections | peak RSS MB (per process) | × minimal Node proxy | × nginx |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ...rows.map((r) =>
            r.note && r.rps === 0
                ? `| ${r.name} | – | – | – | – | – | – | – | – | – |`
                : `| ${r.name} | ${r.rps} | ${r.p50} | ${r.p99} | ${r.max} | ${r.non2xx} | ${r.introspections ?? ""} | ${r.peakRssMb ?? ""} | ${r.name.startsWith("4") || r.name.startsWith("5") ? (ratio(r.rps, k.plainRow.rps) ?? "") : ""} | ${r.name.startsWith("4") || r.name.startsWith("5") ? (ratio(r.rps, k.nginxRow?.rps) ?? "") : ""} |`,
        ),
    ];
    const notes = rows.filter((r) => r.note).map((r) => `- ${r.name}: ${r.note}`);
    const verdicts = [
        ...targets.map((t) => `| ${t.target} | ${t.shown} | ${t.met ? "met" : "missed"} |`),
        `| p99 added over the minimal Node proxy at 50% of the gateway's maximum rate ≤ 2 ms | ${addedP99} ms | ${addedP99 <= 2 ? "met" : "missed"} |`,
        `| WORKERS=2: exactly one introspection per distinct token per cache window | ${k.rotation.introspections} for ${k.distinct} tokens | ${k.rotation.introspections === k.distinct ? "met" : "missed"} |`,
        `| peak RSS per worker < 200 MB after ${FLOOD.toLocaleString("en")} random invalid tokens | ${k.flood.peakRssMb} MB | ${rssOk ? "met" : "missed"} |`,
        `| the container (primary + 2 workers) grows < 64 MB over its warm-up after ${(last?.junkTokens ?? 0).toLocaleString("en")} unique junk tokens, caches at their bounds | +${last?.growthMb} MB (${last?.totalMb} MB; negative cache ${last?.cacheEntries.negative ?? "?"} entries) | ${memoryOk ? "met" : "missed"} |`,
    ];
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
        `Command: \`npm run bench\` (${CONNECTIONS} connections, ${DURATION} s per row; every server in its own process, autocannon in the driver; all on loopback).`,
        "",
        ...table,
        "",
        "| target | measured | |",
        "|---|---|---|",
        ...verdicts,
        "",
        ...memoryTable,
        ...(notes.length ? ["", ...notes] : []),
    ].join("\n");
    writeFileSync(
        path.join(OUT_DIR, "results.json"),
        JSON.stringify({ machine, connections: CONNECTIONS, durationSeconds: DURATION, rows, targets, addedP99Ms: addedP99, memory: k.memory }, null, 2) + "\n",
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
