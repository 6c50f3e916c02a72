// The per-consumer rate limits under load (part of `npm run bench`): what checking a limit in the
// shared store costs, how exactly two gateway processes sharing the store hold a declared limit,
// and what happens when the store is killed mid-run. Everything on loopback; the store is Debian's
// redis-server (bash .ci/tools.sh). Writes bench-results/rate-limits.json and .md, and its part of
// BENCHMARKS.md.
import autocannon from "autocannon";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { startRedisServer } from "../harness/redisServer";
import { PROJECT_ROOT } from "../harness/stackHarness";
import { CONNECTIONS, DURATION, load, startChild, startGateway, stop, token, tsx, type Row } from "./harness";

const OUT_DIR = process.env.BENCH_OUT ?? path.join(PROJECT_ROOT, "bench-results");
const WRITE_BENCHMARKS_MD = process.env.BENCH_OUT === undefined;
/** The accuracy runs' tier: a bucket of RATE, refilled at RATE per second. */
const RATE = 300;
const ACCURACY_SECONDS = 10;
const MARKER = "<!-- rate-limits -->";
const OVERHEAD_TURNS = 3;

/** One autocannon run against several gateways at once; resolves each one's result. */
function loadAll(urls: string[], auth: string, seconds: number): Promise<autocannon.Result[]> {
    return Promise.all(
        urls.map((url) =>
            autocannon({ url: `${url}/api/products`, connections: 10, duration: seconds, headers: { authorization: `Bearer ${auth}` }, timeout: 5 }),
        ),
    );
}

const sum = (rs: autocannon.Result[], f: (r: autocannon.Result) => number) => rs.reduce((a, r) => a + f(r), 0);
const count = (r: autocannon.Result, status: string) => Number((r.statusCodeStats as Record<string, { count: number } | undefined>)[status]?.count ?? 0);

async function main(): Promise<void> {
    mkdirSync(OUT_DIR, { recursive: true });
    const upstream = await startChild<{ port: number }>(...tsx("upstream.ts"));
    const upstreamUrl = `http://127.0.0.1:${upstream.info.port}`;
    const auth = await startChild<{ issuer: string; tokenUrl: string }>(...tsx("authServer.ts", "opaque"), {}, true);
    const bearer = await token(auth.info.tokenUrl);
    const redis = await startRedisServer();

    // 1. Overhead: the same gateway without limits and with a limit it never reaches (the store on
    //    loopback), loaded in turns (A B A B A B) rather than one after the other, so that the
    //    shared machine's drift falls on both alike; the ratio is of the totals.
    const unreachable = JSON.stringify({ tiers: { roomy: { perSecond: 100_000 } }, defaultTier: "roomy" });
    const plain = await startGateway(auth.info.issuer, upstreamUrl, {});
    const limited = await startGateway(auth.info.issuer, upstreamUrl, {
        RATE_LIMITS: unreachable,
        RATE_LIMIT_STORE: "shared",
        RATE_LIMIT_STORE_URL: redis.url,
    });
    const turns: { plain: Row[]; limited: Row[] } = { plain: [], limited: [] };
    const turnSeconds = Math.max(2, Math.round(DURATION / 2));
    for (let i = 0; i < OVERHEAD_TURNS; i++) {
        const opts = { duration: turnSeconds, headers: { authorization: `Bearer ${bearer}` } };
        turns.plain.push(await load(`6a. turn ${i + 1}`, `${plain.url}/api/products`, opts));
        turns.limited.push(await load(`6b. turn ${i + 1}`, `${limited.url}/api/products`, opts));
    }
    await stop(plain.child);
    await stop(limited.child);
    const merged = (name: string, rs: Row[]): Row => ({
        name,
        rps: Math.round(rs.reduce((a, r) => a + r.rps, 0) / rs.length),
        p50: Math.max(...rs.map((r) => r.p50)),
        p99: Math.max(...rs.map((r) => r.p99)),
        max: Math.max(...rs.map((r) => r.max)),
        requests: rs.reduce((a, r) => a + r.requests, 0),
        non2xx: rs.reduce((a, r) => a + r.non2xx, 0),
        errors: rs.reduce((a, r) => a + r.errors, 0),
    });
    const withoutLimits = merged(`6a. gateway, 1 worker, cached token, no rate limits (${OVERHEAD_TURNS} turns of ${turnSeconds} s)`, turns.plain);
    const withLimits = merged(
        `6b. the same, every request checked in the shared store, redis-server on loopback (${OVERHEAD_TURNS} turns of ${turnSeconds} s, alternating with 6a)`,
        turns.limited,
    );
    const rows: Row[] = [withoutLimits, withLimits];
    const local = await startGateway(auth.info.issuer, upstreamUrl, { RATE_LIMITS: unreachable, RATE_LIMIT_STORE: "local" });
    rows.push(await load("6c. the same, RATE_LIMIT_STORE=local (no store)", `${local.url}/api/products`, { headers: { authorization: `Bearer ${bearer}` } }));
    await stop(local.child);

    // 2. Accuracy: two processes share one limit; GCRA allows the bucket, then RATE per second.
    const tier = JSON.stringify({ tiers: { bench: { perSecond: RATE, burst: RATE } }, defaultTier: "bench" });
    const shared = { RATE_LIMITS: tier, RATE_LIMIT_STORE: "shared", RATE_LIMIT_STORE_URL: redis.url, RATE_LIMIT_TASKS: "2" };
    const pair = [await startGateway(auth.info.issuer, upstreamUrl, shared), await startGateway(auth.info.issuer, upstreamUrl, shared)];
    const accuracyRun = await loadAll(
        pair.map((g) => g.url),
        bearer,
        ACCURACY_SECONDS,
    );
    const storeErrors = async () => {
        let n = 0;
        for (const g of pair) {
            const text = await (await fetch(`${g.adminUrl}/metrics`)).text();
            for (const m of text.matchAll(/^policy_gateway_rate_limit_store_errors_total\{[^}]*\} (\d+)/gm)) n += Number(m[1]);
        }
        return n;
    };
    const accuracyStoreErrors = await storeErrors();
    const allowed = sum(accuracyRun, (r) => r["2xx"]);
    const expected = RATE * ACCURACY_SECONDS + RATE;
    const accuracy = allowed / expected;
    const offered = sum(accuracyRun, (r) => r.requests.total);
    const refusedAccuracy = sum(accuracyRun, (r) => count(r, "429"));

    // 3. The store killed halfway through: every request answered, the fallback takes over. A new
    //    consumer's token, so the shared bucket starts full, as it does for the first run.
    const second = await token(auth.info.tokenUrl);
    const outage = loadAll(
        pair.map((g) => g.url),
        second,
        ACCURACY_SECONDS,
    );
    await new Promise((r) => setTimeout(r, (ACCURACY_SECONDS * 1000) / 2));
    await redis.kill();
    const outageRun = await outage;
    const outageAllowed = sum(outageRun, (r) => r["2xx"]);
    const outageOffered = sum(outageRun, (r) => r.requests.total);
    const answered = sum(outageRun, (r) => r["2xx"] + count(r, "429"));
    const failed = sum(outageRun, (r) => r.errors + r.timeouts + r.non2xx - count(r, "429"));
    // Half the window shared (the bucket, then RATE/s), half on each process's share: a full
    // bucket of RATE/2 each, then RATE/2 per second each.
    const outageExpected = RATE + (RATE * ACCURACY_SECONDS) / 2 + 2 * (RATE / 2 + (RATE / 2) * (ACCURACY_SECONDS / 2));
    const metricsAfter = await (await fetch(`${pair[0].adminUrl}/metrics`)).text();
    const fallbackDecisions = [...metricsAfter.matchAll(/^policy_gateway_rate_limit_decisions_total\{[^}]*store="fallback"[^}]*\} (\d+)/gm)].reduce(
        (a, m) => a + Number(m[1]),
        0,
    );
    for (const g of pair) await stop(g.child);

    report({
        rows,
        withoutLimits,
        withLimits,
        allowed,
        expected,
        accuracy,
        offered,
        refusedAccuracy,
        accuracyStoreErrors,
        outageAllowed,
        outageOffered,
        answered,
        failed,
        outageExpected,
        fallbackDecisions,
    });
    process.exit(0);
}

interface Figures {
    rows: Row[];
    withoutLimits: Row;
    withLimits: Row;
    allowed: number;
    expected: number;
    accuracy: number;
    offered: number;
    refusedAccuracy: number;
    /** Store calls that failed during the accuracy run (then the fallback decided). */
    accuracyStoreErrors: number;
    outageAllowed: number;
    outageOffered: number;
    answered: number;
    failed: number;
    outageExpected: number;
    fallbackDecisions: number;
}

function report(f: Figures): void {
    // Turns of equal length: the ratio of the request totals is the ratio of the rates.
    const ratio = Math.round((f.withLimits.requests / f.withoutLimits.requests) * 100) / 100;
    const pct = (x: number) => `${Math.round(x * 1000) / 10} %`;
    const md = [
        `Rate limits, measured ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC (${CONNECTIONS} connections and ${DURATION} s per row; accuracy runs: 2 gateway processes × 10 connections, ${ACCURACY_SECONDS} s).`,
        "",
        "| row | req/s | p50 ms | p99 ms | non-2xx | errors |",
        "|---|---:|---:|---:|---:|---:|",
        ...f.rows.map((r) => `| ${r.name} | ${r.rps} | ${r.p50} | ${r.p99} | ${r.non2xx} | ${r.errors} |`),
        "",
        "| target | measured | |",
        "|---|---|---|",
        `| cached token, limits checked in the shared store: ≥ 0.8 of the gateway without limits | ${ratio} | ${ratio >= 0.8 ? "met" : "missed"} |`,
        `| 2 processes sharing the store: allowed within ±5 % of the declared limit over ${ACCURACY_SECONDS} s (${RATE}/s, bucket ${RATE}: ${f.expected}) | ${f.allowed} of ${f.offered} offered (${pct(f.accuracy)}; ${f.refusedAccuracy} answered 429; ${f.accuracyStoreErrors} store errors) | ${Math.abs(f.accuracy - 1) <= 0.05 ? "met" : "missed"} |`,
        `| store killed at ${ACCURACY_SECONDS / 2} s: every request answered (200 or 429), none failed | ${f.answered} of ${f.outageOffered} answered, ${f.failed} failed | ${f.failed === 0 && f.answered === f.outageOffered ? "met" : "missed"} |`,
        `| … and service continues under the fallback (each process its share) | ${f.outageAllowed} allowed (expected about ${f.outageExpected}), ${f.fallbackDecisions} fallback decisions in one process | ${f.fallbackDecisions > 0 && f.outageAllowed > f.expected / 2 ? "met" : "missed"} |`,
    ].join("\n");
    writeFileSync(path.join(OUT_DIR, "rate-limits.json"), JSON.stringify({ ...f, overheadRatio: ratio }, null, 2) + "\n");
    writeFileSync(path.join(OUT_DIR, "rate-limits.md"), md + "\n");
    if (WRITE_BENCHMARKS_MD) {
        const file = path.join(PROJECT_ROOT, "BENCHMARKS.md");
        const text = readFileSync(file, "utf8");
        const [before, rest] = text.includes(MARKER)
            ? [text.split(MARKER)[0], text.split(MARKER)[2] ?? ""]
            : [text.split("<!-- results -->")[0], "<!-- results -->" + text.split("<!-- results -->")[1]];
        writeFileSync(file, `${before}${MARKER}\n${md}\n${MARKER}\n${rest}`);
    }
    process.stdout.write(md + "\n");
}

main().catch((e: unknown) => {
    process.stderr.write(`bench: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(1);
});
