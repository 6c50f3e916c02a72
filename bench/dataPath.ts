// Part of `npm run bench`: the data path, measured as #27 asks. Each subject (the minimal Node
// proxy, nginx, the gateway with 1 and 2 workers, the native spike) is loaded by wrk in turn, for
// ROUNDS rounds whose order rotates, so that a shared machine's drift falls on all alike; every
// figure is the median of its rounds, with the lowest and the highest beside it. Then the latency
// each validation mode adds over the floor, at half the floor's capacity.
// Run alone (`node --import tsx bench/dataPath.ts`) it prints its tables.
import { readFileSync } from "node:fs";
import * as os from "node:os";
import { CACHE_MAX_TTL_SECONDS } from "../policy-gateway/src/config/contract";
import { callsOf, startChild, startGateway, stop, token, tsx } from "./harness";
import { containerPids } from "./memory";
import { startNginx, startSpike } from "./nativeSpike";
import { loadCore, wrk, type WrkResult } from "./wrk";

export const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
export const ROUND_SECONDS = Number(process.env.BENCH_ROUND_SECONDS ?? 5);
/** As in the reference measurement (wrk -t1 -c32). */
export const WRK_CONNECTIONS = Number(process.env.BENCH_WRK_CONNECTIONS ?? 32);
/** The pause per connection between requests in the paced (latency) runs. */
export const PACE_DELAY_MS = 3;
/**
 * At most this many paced connections: below the gateway's default CONSUMER_MAX_IN_FLIGHT (64),
 * because all the bench's load is one consumer, and wrk opens its connections in one burst.
 */
const PACE_MAX_CONNECTIONS = 48;

export interface Spread {
    median: number;
    min: number;
    max: number;
}

export interface SubjectResult {
    name: string;
    rps: Spread;
    p50Us: Spread;
    p99Us: Spread;
    non2xx: number;
    errors: number;
    /** CPU time of the subject's own processes (not the upstream's, not wrk's) per request, µs. */
    cpuUsPerRequest?: Spread;
    /** The machine's idle CPU during the round, in cores: what the subject left unused. */
    idleCores: Spread;
}

export interface LatencyResult {
    mode: string;
    rps: Spread;
    p50Us: Spread;
    p99Us: Spread;
    /** Over the floor's median in the same rounds, µs. */
    addedP50Us: number;
    addedP99Us: number;
    non2xx: number;
}

export interface PacedLatency {
    /** Whose capacity the rate is half of. */
    basis: "floor" | "gateway";
    rate: number;
    connections: number;
    floor: { rps: Spread; p50Us: Spread; p99Us: Spread };
    latency: LatencyResult[];
}

export interface DataPathReport {
    loadCore?: number;
    rounds: number;
    seconds: number;
    connections: number;
    rows: {
        floor: SubjectResult;
        dispatchFloor: SubjectResult;
        gateway: SubjectResult;
        workers2: SubjectResult;
        nginx?: SubjectResult;
        spike?: SubjectResult;
        spikeUncached?: SubjectResult;
    };
    /** At half the floor's capacity (#27's target), then at half the 1-worker gateway's. */
    paced: PacedLatency[];
    /** For the one token: the first request's introspections per container, and those of every request after. */
    introspectionsPerToken: {
        workers1: number;
        workers2: number;
        spike?: number;
        duringRounds: number;
        /** What one introspection per token per cache window allows: containers × windows begun since their first request. */
        allowedDuringRounds: number;
        containers: number;
        seconds: number;
        windowSeconds: number;
    };
}

export function spread(values: number[]): Spread {
    const s = [...values].sort((a, b) => a - b);
    const mid = s.length >> 1;
    const [a, b] = s.length % 2 ? [s[mid], s[mid]] : [s[mid - 1], s[mid]];
    const median = Number.isInteger(a) && Number.isInteger(b) ? Math.round((a + b) / 2) : Math.round(((a + b) / 2) * 10) / 10;
    return { median, min: s[0], max: s[s.length - 1] };
}

export const shown = (s: Spread, unit = "") => `${s.median}${unit} (${s.min}–${s.max})`;

export interface Subject {
    name: string;
    url: string;
    headers?: Record<string, string>;
    /** The processes whose CPU time is the subject's (each with the processes under it). */
    pids?: (number | undefined)[];
}

export interface Measured extends WrkResult {
    cpuUsPerRequest?: number;
    idleCores: number;
}

/** The machine's idle and total jiffies so far (/proc/stat, all cores). */
function machineTicks(): { idle: number; total: number } {
    const fields = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
    return { idle: fields[3] + fields[4], total: fields.reduce((a, b) => a + b, 0) };
}

const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** utime + stime of these processes and every process under them, µs. */
function cpuUs(pids: (number | undefined)[]): number {
    let ticks = 0;
    for (const pid of pids.flatMap((p) => (p === undefined ? [] : containerPids(p))))
        try {
            const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
            ticks += Number(fields[11]) + Number(fields[12]);
        } catch {
            // gone: a worker replaced between two readings
        }
    return (ticks * 1e6) / CLOCK_TICKS_PER_SECOND;
}

/**
 * Every subject once per round, the order rotated each round, after one short unmeasured round
 * that warms up each subject's JIT and connections.
 */
export async function alternated(subjects: Subject[], opts: { connections: number; seconds: number; delayMs?: number }): Promise<Measured[][]> {
    for (const s of subjects) await wrk(s.url, { ...opts, seconds: Math.min(2, opts.seconds), headers: s.headers });
    const results: Measured[][] = subjects.map(() => []);
    for (let round = 0; round < ROUNDS; round++) {
        for (let k = 0; k < subjects.length; k++) {
            const i = (round + k) % subjects.length;
            const pids = subjects[i].pids;
            const cpuBefore = pids && cpuUs(pids);
            const machineBefore = machineTicks();
            const w = await wrk(subjects[i].url, { ...opts, headers: subjects[i].headers });
            const machineAfter = machineTicks();
            const idleShare = (machineAfter.idle - machineBefore.idle) / Math.max(1, machineAfter.total - machineBefore.total);
            const r: Measured = { ...w, idleCores: Math.round(idleShare * os.availableParallelism() * 100) / 100 };
            if (pids && cpuBefore !== undefined) r.cpuUsPerRequest = Math.round(((cpuUs(pids) - cpuBefore) / Math.max(1, r.requests)) * 10) / 10;
            results[i].push(r);
            process.stderr.write(`bench: round ${round + 1} ${subjects[i].name}: ${r.rps} req/s, p99 ${r.p99Us} µs, non-2xx ${r.non2xx}\n`);
        }
    }
    return results;
}

export const summarise = (name: string, rs: Measured[]): SubjectResult => {
    const cpu = rs.flatMap((r) => (r.cpuUsPerRequest === undefined ? [] : [r.cpuUsPerRequest]));
    return {
        name,
        rps: spread(rs.map((r) => r.rps)),
        p50Us: spread(rs.map((r) => r.p50Us)),
        p99Us: spread(rs.map((r) => r.p99Us)),
        non2xx: rs.reduce((a, r) => a + r.non2xx, 0),
        errors: rs.reduce((a, r) => a + r.errors, 0),
        ...(cpu.length ? { cpuUsPerRequest: spread(cpu) } : {}),
        idleCores: spread(rs.map((r) => r.idleCores)),
    };
};

export async function measureDataPath(): Promise<DataPathReport> {
    const upstream = await startChild<{ port: number }>(...tsx("upstream.ts"));
    const upstreamUrl = `http://127.0.0.1:${upstream.info.port}`;
    const opaque = await startChild<{ issuer: string; tokenUrl: string }>(...tsx("authServer.ts", "opaque"), {}, true);
    const jwtServer = await startChild<{ issuer: string; tokenUrl: string }>(...tsx("authServer.ts", "jwt"), {}, true);
    const plain = await startChild<{ port: number }>(...tsx("plainProxy.ts", upstreamUrl));
    const floorUrl = `http://127.0.0.1:${plain.info.port}`;
    const dispatchFloor = await startChild<{ port: number }>(...tsx("plainDispatch.ts", upstreamUrl));
    const opaqueToken = await token(opaque.info.tokenUrl);
    const jwtToken = await token(jwtServer.info.tokenUrl);
    const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
    // As deployed: LOG_LEVEL=info, a JSON line per request (to /dev/null here), metrics and identity headers on.
    const asDeployed = { LOG_LEVEL: "info" };
    const one = await startGateway(opaque.info.issuer, upstreamUrl, asDeployed);
    const two = await startGateway(opaque.info.issuer, upstreamUrl, { ...asDeployed, WORKERS: "2" });
    const nginx = await startNginx(upstream.info.port);
    const spike = nginx ? await startSpike(upstream.info.port, opaque.info.issuer) : undefined;
    const spikeUncached = nginx ? await startSpike(upstream.info.port, opaque.info.issuer, false) : undefined;

    const subjects: (Subject & { key: keyof DataPathReport["rows"] })[] = [
        { key: "floor", name: "minimal Node proxy (node:http + undici Pool request()), no checks", url: floorUrl, pids: [plain.child.pid] },
        {
            key: "dispatchFloor",
            name: "minimal Node proxy on undici's dispatch handler, no checks",
            url: `http://127.0.0.1:${dispatchFloor.info.port}`,
            pids: [dispatchFloor.child.pid],
        },
        {
            key: "gateway",
            name: "gateway, 1 worker, introspection, cached token, LOG_LEVEL=info",
            url: `${one.url}/api/products`,
            headers: bearer(opaqueToken),
            pids: [one.child.pid],
        },
        { key: "workers2", name: "gateway, WORKERS=2, the same", url: `${two.url}/api/products`, headers: bearer(opaqueToken), pids: [two.child.pid] },
        ...(nginx
            ? [{ key: "nginx" as const, name: `nginx ${nginx.version}, 1 worker, reverse proxy, no checks`, url: nginx.url, pids: [nginx.child.pid] }]
            : []),
        ...(spike
            ? [
                  {
                      key: "spike" as const,
                      name: "spike: nginx, auth_request to the gateway's decision, verdicts cached by nginx",
                      url: `${spike.url}/api/products`,
                      headers: bearer(opaqueToken),
                      pids: spike.pids,
                  },
              ]
            : []),
        ...(spikeUncached
            ? [
                  {
                      key: "spikeUncached" as const,
                      name: "spike, no verdict cache in nginx: the gateway's decision asked on every request",
                      url: `${spikeUncached.url}/api/products`,
                      headers: bearer(opaqueToken),
                      pids: spikeUncached.pids,
                  },
              ]
            : []),
    ];
    // One request each first: the introspections the token costs each container, then how many more the rounds cause.
    const firstIntrospections: Partial<Record<keyof DataPathReport["rows"], number>> = {};
    const firstRequests = performance.now();
    for (const s of subjects) {
        const before = await callsOf(opaque.child);
        const res = await fetch(s.url, { headers: s.headers });
        if (res.status !== 200) throw new Error(`bench: ${s.name} answered ${res.status} to its first request: ${await res.text()}`);
        firstIntrospections[s.key] = (await callsOf(opaque.child)) - before;
    }
    const beforeRounds = await callsOf(opaque.child);
    const throughput = await alternated(subjects, { connections: WRK_CONNECTIONS, seconds: ROUND_SECONDS });
    const introspectionsDuringRounds = (await callsOf(opaque.child)) - beforeRounds;
    // Each container keeps the token's verdict for the gateway's default cache window, then asks
    // again once: the rounds outlast a window, so a few introspections during them are the design.
    const containers = subjects.filter((s) => s.headers !== undefined).length;
    const sinceFirst = (performance.now() - firstRequests) / 1000;
    const windowSeconds = CACHE_MAX_TTL_SECONDS.default;
    const rows: DataPathReport["rows"] = {} as DataPathReport["rows"];
    subjects.forEach((s, i) => (rows[s.key] = summarise(s.name, throughput[i])));
    for (const g of [one, two]) await stop(g.child);
    for (const sp of [spike, spikeUncached]) if (sp) await sp.stop();
    if (nginx) await stop(nginx.child);
    await stop(dispatchFloor.child);

    // Latency per mode at about half a capacity: each connection pauses PACE_DELAY_MS after each
    // answer, and the connections are as many as that pace needs for the rate. At half the
    // floor's capacity, as #27 asks; and at half the gateway's own, where the gateway is not near
    // saturation, so that what it adds per request shows apart from queueing.
    const modes = [
        { mode: "introspection", issuer: opaque.info.issuer, env: {} as Record<string, string>, token: opaqueToken },
        { mode: "jwt", issuer: jwtServer.info.issuer, env: { TOKEN_VALIDATION: "jwt" }, token: jwtToken },
        { mode: "hybrid", issuer: jwtServer.info.issuer, env: { TOKEN_VALIDATION: "hybrid" }, token: jwtToken },
    ];
    const gateways = await Promise.all(modes.map((m) => startGateway(m.issuer, upstreamUrl, { ...asDeployed, ...m.env })));
    const pacedAt = async (basis: PacedLatency["basis"], capacity: number): Promise<PacedLatency> => {
        const rate = Math.round(capacity / 2);
        const connections = Math.min(PACE_MAX_CONNECTIONS, Math.max(1, Math.round((rate * (PACE_DELAY_MS + rows.floor.p50Us.median / 1000)) / 1000)));
        const paced = await alternated(
            [
                { name: `floor, paced at ~${rate} req/s`, url: floorUrl },
                ...modes.map((m, i) => ({
                    name: `gateway, ${m.mode}, paced at ~${rate} req/s`,
                    url: `${gateways[i].url}/api/products`,
                    headers: bearer(m.token),
                })),
            ],
            { connections, seconds: ROUND_SECONDS, delayMs: PACE_DELAY_MS },
        );
        const floor = summarise("floor", paced[0]);
        const latency = modes.map((m, i) => {
            const s = summarise(m.mode, paced[i + 1]);
            return {
                mode: m.mode,
                rps: s.rps,
                p50Us: s.p50Us,
                p99Us: s.p99Us,
                addedP50Us: s.p50Us.median - floor.p50Us.median,
                addedP99Us: s.p99Us.median - floor.p99Us.median,
                non2xx: s.non2xx,
            };
        });
        return { basis, rate, connections, floor: { rps: floor.rps, p50Us: floor.p50Us, p99Us: floor.p99Us }, latency };
    };
    const paced = [await pacedAt("floor", rows.floor.rps.median), await pacedAt("gateway", rows.gateway.rps.median)];
    for (const g of gateways) await stop(g.child);
    await stop(plain.child);
    for (const c of [upstream.child, opaque.child, jwtServer.child]) await stop(c);
    return {
        loadCore: loadCore(),
        rounds: ROUNDS,
        seconds: ROUND_SECONDS,
        connections: WRK_CONNECTIONS,
        rows,
        paced,
        introspectionsPerToken: {
            workers1: firstIntrospections.gateway ?? 0,
            workers2: firstIntrospections.workers2 ?? 0,
            spike: firstIntrospections.spike,
            duringRounds: introspectionsDuringRounds,
            allowedDuringRounds: containers * Math.floor(sinceFirst / windowSeconds),
            containers,
            seconds: Math.round(sinceFirst),
            windowSeconds,
        },
    };
}

if (require.main === module)
    void measureDataPath().then(
        (r) => {
            process.stdout.write(JSON.stringify(r, null, 2) + "\n");
            process.exit(0);
        },
        (e: unknown) => {
            process.stderr.write(`bench: ${e instanceof Error ? e.stack : String(e)}\n`);
            process.exit(1);
        },
    );
