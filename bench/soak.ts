// The fault and load soak: a mixed load of valid, revoked, random and scope-lacking tokens against
// the gateway bundle (its own process, default settings) for a fixed time, while the authorization
// server is stopped and restarted, answers slowly, answers 429, and the upstream is stopped and
// restarted. Every response is recorded. Loopback only; bounded in time and concurrency.
// `npm run soak` runs the long one (SOAK_SECONDS, default 120); the test suite a short one.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { Pool } from "undici";
import { startLocalOkta, type LocalOkta } from "../harness/localOkta";
import { startSampleUpstream, type SampleUpstream } from "../harness/sampleUpstream";
import { PROJECT_ROOT } from "../harness/stackHarness";
import { freePort, IMAGE_NODE_OPTIONS, untilReady } from "../harness/gatewayProcess";

export type TokenClass = "cachedValid" | "freshValid" | "revoked" | "random" | "lackingScope";
export type FaultKind = "authStopped" | "authSlow" | "auth429" | "upstreamStopped";

export interface Sample {
    cls: TokenClass;
    start: number;
    end: number;
    status: number; // 0: no answer
}

export interface FaultWindow {
    kind: FaultKind;
    from: number;
    to: number;
}

export interface SoakSummary {
    seconds: number;
    sent: number;
    byStatus: Record<string, number>;
    byClass: Record<string, Record<string, number>>;
    unanswered: number;
    forbiddenSuccesses: number;
    unverifiableSuccesses: number;
    faults: (FaultWindow & { recoverySeconds: number | null })[];
    peakRssMb: number;
    gatewayAlive: boolean;
}

const AUDIENCE = "api://products";
const SERVICE = { clientId: "0oaSoakService000001", clientSecret: "soak-service-secret-0123456789abcdefg", scopes: ["myscope"] };
const LIMITED = { clientId: "0oaSoakLimited000001", clientSecret: "soak-limited-secret-0123456789abcdefg", scopes: ["other"] };
const INTROSPECTION = { clientId: "0oaSoakIntrospect001", clientSecret: "soak-introspection-secret-0123456789" };
/** One cycle of the timeline, in seconds: each fault, then long enough (more than the breaker's 5 s reset) to recover. */
export const CYCLE: { kind: FaultKind | "normal"; seconds: number }[] = [
    { kind: "normal", seconds: 3 },
    { kind: "authStopped", seconds: 2 },
    { kind: "normal", seconds: 7 },
    { kind: "authSlow", seconds: 3 },
    { kind: "normal", seconds: 7 },
    { kind: "auth429", seconds: 2 },
    { kind: "normal", seconds: 4 },
    { kind: "upstreamStopped", seconds: 2 },
    { kind: "normal", seconds: 3 },
];
export const CYCLE_SECONDS = CYCLE.reduce((a, p) => a + p.seconds, 0);
/** Fresh (never seen) valid tokens sent per second at most, so that the pool lasts the whole soak. */
const FRESH_PER_SECOND = 60;

function rssMb(pid: number): number {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : 0;
}

async function setFault(kind: FaultKind | "normal", okta: LocalOkta, upstream: SampleUpstream, state: { authListening: boolean; upstreamListening: boolean }) {
    okta.setFault({ kind: "none" });
    if (!state.authListening) {
        await okta.startListening();
        state.authListening = true;
    }
    if (!state.upstreamListening) {
        await upstream.start();
        state.upstreamListening = true;
    }
    if (kind === "authStopped") {
        await okta.stopListening();
        state.authListening = false;
    } else if (kind === "authSlow") okta.setFault({ kind: "slow", delayMs: 3_000 });
    else if (kind === "auth429") okta.setFault({ kind: "introspectionStatus", status: 429, headers: { "retry-after": "1" }, body: '{"errorCode":"E0000047"}' });
    else if (kind === "upstreamStopped") {
        await upstream.stop();
        state.upstreamListening = false;
    }
}

/** Seconds from a fault's end until the first 2xx for a token that needed the faulty part again. */
export function recoveryAfter(samples: readonly Sample[], fault: FaultWindow): number | null {
    const cls: TokenClass[] = fault.kind === "upstreamStopped" ? ["cachedValid", "freshValid"] : ["freshValid"];
    const first = samples.filter((s) => s.start >= fault.to && cls.includes(s.cls) && s.status >= 200 && s.status < 300).sort((a, b) => a.end - b.end)[0];
    return first ? Math.round((first.end - fault.to) / 100) / 10 : null;
}

/** Samples that must never be 2xx: tokens that are invalid, random or lack the scope. */
export function forbiddenSuccesses(samples: readonly Sample[]): Sample[] {
    return samples.filter((s) => ["revoked", "random", "lackingScope"].includes(s.cls) && s.status >= 200 && s.status < 300);
}

/** Fresh (never cached) valid tokens answered 2xx while sent and answered entirely inside an authorization-server fault. */
export function unverifiableSuccesses(samples: readonly Sample[], faults: readonly FaultWindow[]): Sample[] {
    const auth = faults.filter((f) => f.kind !== "upstreamStopped");
    return samples.filter((s) => s.cls === "freshValid" && s.status >= 200 && s.status < 300 && auth.some((f) => s.start >= f.from && s.end <= f.to));
}

export async function runSoak(opts: { seconds: number; concurrency?: number; log?: (line: string) => void }): Promise<SoakSummary> {
    const log = opts.log ?? (() => {});
    const concurrency = opts.concurrency ?? 16;
    const okta = await startLocalOkta({
        audience: AUDIENCE,
        scopes: ["myscope", "other"],
        clients: [SERVICE, LIMITED],
        introspectionClient: INTROSPECTION,
        accessTokenTtlSeconds: 3600,
    });
    const upstream = await startSampleUpstream(0, "127.0.0.1", { record: false });
    const [port, adminPort] = [await freePort(), await freePort()];
    const gateway: ChildProcess = spawn(process.execPath, [path.join(PROJECT_ROOT, "policy-gateway/dist/gateway.mjs")], {
        stdio: ["ignore", "ignore", "inherit"],
        env: {
            PATH: process.env.PATH ?? "",
            NODE_OPTIONS: IMAGE_NODE_OPTIONS, // as the image runs it
            UPSTREAM_URL: upstream.url,
            OIDC_ISSUER: okta.issuer,
            AUDIENCE,
            INTROSPECTION_CLIENT_ID: INTROSPECTION.clientId,
            INTROSPECTION_CLIENT_SECRET: INTROSPECTION.clientSecret,
            REQUIRED_SCOPES: "myscope",
            PORT: String(port),
            ADMIN_PORT: String(adminPort),
            HOST: "127.0.0.1",
            LOG_LEVEL: "warn",
            // The local server's opaque tokens are not JWTs, and the whole load comes from one address.
            INTROSPECTION_PRECHECK: "off",
            INTROSPECTIONS_PER_CLIENT_PER_MINUTE: "0",
        },
    });
    const state = { authListening: true, upstreamListening: true };
    try {
        await untilReady(`http://127.0.0.1:${adminPort}`, { process: gateway });
        // Token pools, made before the clock starts.
        const issue = (client: typeof SERVICE, scope: string, n: number) => Promise.all(Array.from({ length: n }, () => okta.token(client, scope)));
        const freshNeeded = Math.ceil(opts.seconds * FRESH_PER_SECOND) + 100;
        const cached = await issue(SERVICE, "myscope", 5);
        const fresh: string[] = [];
        for (let i = 0; i < freshNeeded; i += 100) fresh.push(...(await issue(SERVICE, "myscope", 100)));
        const revoked = await issue(SERVICE, "myscope", 100);
        await Promise.all(revoked.map((t) => okta.revoke(SERVICE, t)));
        const lacking = await issue(LIMITED, "other", 100);
        log(
            `soak: ${fresh.length} fresh, ${cached.length} cached, ${revoked.length} revoked, ${lacking.length} scope-lacking tokens; ${opts.seconds} s, ${concurrency} concurrent`,
        );

        const pool = new Pool(`http://127.0.0.1:${port}`, { connections: concurrency, headersTimeout: 15_000, bodyTimeout: 15_000 });
        const samples: Sample[] = [];
        const faults: FaultWindow[] = [];
        const t0 = Date.now();
        const end = t0 + opts.seconds * 1000;
        let freshIndex = 0;
        const pick = (): [TokenClass, string] => {
            const r = Math.random();
            if (r < 0.3) return ["cachedValid", cached[Math.floor(Math.random() * cached.length)]];
            const freshBudget = Math.min(fresh.length, 100 + ((Date.now() - t0) / 1000) * FRESH_PER_SECOND);
            if (r < 0.5 && freshIndex < freshBudget) return ["freshValid", fresh[freshIndex++]];
            if (r < 0.65) return ["revoked", revoked[Math.floor(Math.random() * revoked.length)]];
            if (r < 0.85) return ["random", randomBytes(24).toString("base64url")];
            return ["lackingScope", lacking[Math.floor(Math.random() * lacking.length)]];
        };
        const worker = async () => {
            while (Date.now() < end) {
                const [cls, token] = pick();
                const start = Date.now();
                let status = 0;
                try {
                    const res = await pool.request({ path: "/api/products", method: "GET", headers: { authorization: `Bearer ${token}` } });
                    status = res.statusCode;
                    await res.body.dump();
                } catch {
                    status = 0;
                }
                samples.push({ cls, start: start - t0, end: Date.now() - t0, status });
            }
        };
        // The fault timeline: the cycle, repeated until the end.
        const timeline = (async () => {
            let i = 0;
            while (Date.now() + CYCLE[i % CYCLE.length].seconds * 1000 <= end) {
                const { kind, seconds } = CYCLE[i % CYCLE.length];
                const from = Date.now() - t0;
                await setFault(kind, okta, upstream, state);
                await new Promise((r) => setTimeout(r, seconds * 1000));
                if (kind !== "normal") {
                    await setFault("normal", okta, upstream, state);
                    faults.push({ kind, from, to: Date.now() - t0 });
                    log(`soak: ${kind} from ${(from / 1000).toFixed(1)} s to ${((Date.now() - t0) / 1000).toFixed(1)} s`);
                }
                i++;
            }
            await setFault("normal", okta, upstream, state);
        })();
        let peakRss = 0;
        const sampler = setInterval(() => (peakRss = Math.max(peakRss, gateway.pid ? rssMb(gateway.pid) : 0)), 250);
        await Promise.all([timeline, ...Array.from({ length: concurrency }, worker)]);
        clearInterval(sampler);
        peakRss = Math.max(peakRss, gateway.pid ? rssMb(gateway.pid) : 0);
        await pool.close();

        const count = (list: Sample[]) =>
            list.reduce<Record<string, number>>((acc, s) => ((acc[String(s.status)] = (acc[String(s.status)] ?? 0) + 1), acc), {});
        const byClass: Record<string, Record<string, number>> = {};
        for (const cls of ["cachedValid", "freshValid", "revoked", "random", "lackingScope"] as TokenClass[])
            byClass[cls] = count(samples.filter((s) => s.cls === cls));
        return {
            seconds: opts.seconds,
            sent: samples.length,
            byStatus: count(samples),
            byClass,
            unanswered: samples.filter((s) => s.status === 0).length,
            forbiddenSuccesses: forbiddenSuccesses(samples).length,
            unverifiableSuccesses: unverifiableSuccesses(samples, faults).length,
            faults: faults.map((f) => ({ ...f, recoverySeconds: recoveryAfter(samples, f) })),
            peakRssMb: Math.round(peakRss * 10) / 10,
            gatewayAlive: gateway.exitCode === null,
        };
    } finally {
        gateway.kill("SIGTERM");
        await new Promise((r) => (gateway.exitCode !== null ? r(null) : gateway.once("exit", r)));
        if (!state.upstreamListening) await upstream.start();
        if (!state.authListening) await okta.startListening();
        await upstream.stop();
        await okta.stop();
    }
}

export function formatSummary(s: SoakSummary): string {
    const lines = [
        `Soak: ${s.sent} requests in ${s.seconds} s; answered by status: ${Object.entries(s.byStatus)
            .map(([k, v]) => `${k === "0" ? "no answer" : k}: ${v}`)
            .join(", ")}`,
        ...Object.entries(s.byClass).map(
            ([cls, by]) =>
                `  ${cls}: ${Object.entries(by)
                    .map(([k, v]) => `${k}: ${v}`)
                    .join(", ")}`,
        ),
        `Faults injected: ${s.faults.length}; time to recover: ${s.faults.map((f) => `${f.kind} ${f.recoverySeconds ?? "never"} s`).join(", ")}`,
        `2xx for invalid, random or scope-lacking tokens: ${s.forbiddenSuccesses}; 2xx for unverifiable tokens: ${s.unverifiableSuccesses}; unanswered: ${s.unanswered}`,
        `Gateway peak RSS ${s.peakRssMb} MB; alive at the end: ${s.gatewayAlive}`,
    ];
    return lines.join("\n");
}

if (require.main === module) {
    const seconds = Number(process.env.SOAK_SECONDS ?? 120);
    runSoak({ seconds, log: (l) => process.stderr.write(l + "\n") })
        .then((summary) => {
            process.stdout.write(formatSummary(summary) + "\n");
            const ok =
                summary.forbiddenSuccesses === 0 &&
                summary.unverifiableSuccesses === 0 &&
                summary.unanswered === 0 &&
                summary.gatewayAlive &&
                summary.faults.every((f) => f.recoverySeconds !== null && f.recoverySeconds <= 8);
            process.exit(ok ? 0 : 1);
        })
        .catch((e: unknown) => {
            process.stderr.write(`soak: ${e instanceof Error ? e.stack : String(e)}\n`);
            process.exit(1);
        });
}
