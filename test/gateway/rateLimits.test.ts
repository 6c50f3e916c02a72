// Per-consumer rate limits end to end: real tokens from the local authorization server, the
// gateway in front of the sample upstream, and a real redis-server as the shared store. The limit
// per consumer and its 429, that unauthenticated or unauthorised requests never count, the limit
// shared by two gateway processes, and the store's outage and recovery.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Agent, RetryAgent, request } from "undici";
import { startRedisServer, type RedisServer } from "../../harness/redisServer";
import { startBundle, type Running } from "../support/bundleProcess";
import { bearer, CLIENTS, gatewayEnv, send, sleep, startGatewayUnderTest, startOktaAndUpstream, type GatewayUnderTest } from "../support/gatewayHarness";

const TIERS = {
    tiers: { tiny: { perMinute: 5 }, roomy: { perSecond: 1_000 } },
    consumers: { [CLIENTS.productsWeb.clientId]: "tiny", [CLIENTS.admin.clientId]: "roomy" },
};

/** One sample of a Prometheus text exposition, by name and exact label set ({} for none). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
    const wanted = Object.entries(labels)
        .map(([k, v]) => `${k}="${v}"`)
        .sort()
        .join(",");
    for (const line of text.split("\n")) {
        const m = /^([a-z_]+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
        if (!m || m[1] !== name) continue;
        const got = (m[2] ?? "").split(",").filter(Boolean).sort().join(",");
        if (got === wanted) return Number(m[3]);
    }
    return undefined;
}

describe("per-consumer rate limits, shared store", () => {
    let redis: RedisServer;
    let g: GatewayUnderTest;
    before(async () => {
        redis = await startRedisServer();
        g = await startGatewayUnderTest({
            env: { RATE_LIMITS: JSON.stringify(TIERS), RATE_LIMIT_STORE: "shared", RATE_LIMIT_STORE_URL: redis.url, WORKERS: "1" },
            okta: { scopes: ["myscope", "products:read", "admin"] },
        });
    });
    after(async () => {
        await g.stop();
        await redis.stop();
    });

    it("counts only requests that passed the token and scope checks, then answers 429 with Retry-After and the RateLimit fields, forwarding nothing", async () => {
        for (let i = 0; i < 8; i++) assert.equal((await send(g.url, "/api", { headers: bearer(`not-a-token-${i}`) })).status, 401);
        const readOnly = await g.okta.token(CLIENTS.productsWeb, "products:read");
        for (let i = 0; i < 8; i++) assert.equal((await send(g.url, "/api", { headers: bearer(readOnly) })).status, 403, "the route needs myscope");

        const token = await g.okta.token(CLIENTS.productsWeb, "myscope");
        for (let i = 0; i < 5; i++) {
            const r = await send(g.url, "/api", { headers: bearer(token) });
            assert.equal(r.status, 200, `request ${i + 1} of 5 per minute: none of the 16 refused ones counted`);
            assert.equal(r.headers["ratelimit-policy"], '"tiny-per-minute";q=5;w=60');
            assert.match(String(r.headers.ratelimit), new RegExp(`^"tiny-per-minute";r=${4 - i};t=\\d+$`));
        }
        const forwarded = g.upstream.received.length;
        const refused = await send(g.url, "/api", { method: "POST", headers: { ...bearer(token), "content-type": "application/json" }, body: "{}" });
        assert.equal(refused.status, 429);
        assert.deepEqual(JSON.parse(refused.body), { error: "too_many_requests", error_description: "rate limit of tier tiny exceeded" });
        const wait = Number(refused.headers["retry-after"]);
        assert.ok(wait >= 1 && wait <= 12, `Retry-After ${wait}: 5 per minute refill one every 12 s`);
        assert.equal(refused.headers["ratelimit-policy"], '"tiny-per-minute";q=5;w=60');
        assert.equal(refused.headers.ratelimit, `"tiny-per-minute";r=0;t=${wait}`);
        assert.equal(g.upstream.received.length, forwarded, "nothing of a refused request reaches the API");

        const other = await send(g.url, "/api", { headers: bearer(await g.okta.token(CLIENTS.admin, "myscope")) });
        assert.equal(other.status, 200, "another consumer, another tier, its own budget");
        assert.equal(other.headers["ratelimit-policy"], '"roomy-per-second";q=1000;w=1');
    });

    it("counts by tier and outcome, never by client id", async () => {
        const text = await (await fetch(`${g.adminUrl}/metrics`)).text();
        assert.equal(sample(text, "policy_gateway_rate_limit_decisions_total", { tier: "tiny", outcome: "allowed", store: "shared" }), 5);
        assert.equal(sample(text, "policy_gateway_rate_limit_decisions_total", { tier: "tiny", outcome: "limited", store: "shared" }), 1);
        assert.equal(sample(text, "policy_gateway_decisions_total", { outcome: "rate_limited" }), 1);
        assert.equal(sample(text, "policy_gateway_rate_limit_store_up"), 1);
        assert.doesNotMatch(text, new RegExp(CLIENTS.productsWeb.clientId));
    });
});

describe("per-consumer rate limits across two gateway processes", () => {
    let redis: RedisServer;
    let gateways: Running[];
    let stop: (() => Promise<void>) | undefined;
    before(async () => {
        redis = await startRedisServer();
        const { okta, upstream } = await startOktaAndUpstream({ scopes: ["myscope", "products:read", "admin"] });
        const env = gatewayEnv(okta, upstream, {
            WORKERS: "1",
            RATE_LIMITS: JSON.stringify({ tiers: { ten: { perMinute: 10 } }, defaultTier: "ten" }),
            RATE_LIMIT_STORE: "shared",
            RATE_LIMIT_STORE_URL: redis.url,
            RATE_LIMIT_TASKS: "2",
        });
        gateways = await Promise.all([startBundle(env), startBundle(env)]);
        const token = await okta.token(CLIENTS.productsWeb, "myscope");
        shared.token = token;
        shared.other = await okta.token(CLIENTS.admin, "myscope");
        stop = async () => {
            for (const gw of gateways) gw.child.kill("SIGKILL");
            await upstream.stop();
            await okta.stop();
            await redis.stop();
        };
    });
    const shared = { token: "", other: "" };
    after(() => stop?.());

    it("holds one limit for the deployment: 10 per minute in all, whichever process answers", async () => {
        const statuses: number[] = [];
        for (let i = 0; i < 16; i++) {
            const gw = gateways[i % 2];
            statuses.push((await send(`http://127.0.0.1:${gw.port}`, "/api", { headers: bearer(shared.token) })).status);
        }
        assert.equal(statuses.filter((s) => s === 200).length, 10, statuses.join(" "));
        assert.equal(statuses.filter((s) => s === 429).length, 6);
    });

    it("when the store dies, answers every request and limits each process to its share; when it is back, shares the limit again", async () => {
        await redis.kill();
        // Every request is answered, none hangs: 8 at once per process, at the moment the store is gone.
        const burst = await Promise.all(
            Array.from({ length: 16 }, (_, i) => send(`http://127.0.0.1:${gateways[i % 2].port}`, "/api", { headers: bearer(shared.token) })),
        );
        assert.ok(
            burst.every((r) => r.status === 200 || r.status === 429),
            burst.map((r) => r.status).join(" "),
        );
        // Each process alone enforces 10 ÷ 2 tasks = 5 per minute, from a full bucket of its own.
        assert.equal(burst.filter((r) => r.status === 200).length, 10, burst.map((r) => r.status).join(" "));
        for (const gw of gateways) {
            const text = await (await fetch(`http://127.0.0.1:${gw.adminPort}/metrics`)).text();
            assert.equal(sample(text, "policy_gateway_rate_limit_store_up"), 0);
            assert.ok((sample(text, "policy_gateway_rate_limit_store_errors_total", { reason: "unavailable" }) ?? 0) >= 1);
            assert.equal(sample(text, "policy_gateway_rate_limit_decisions_total", { tier: "ten", outcome: "allowed", store: "fallback" }), 5);
            await sleep(1_100); // the log is flushed at least once a second
            assert.equal(gw.lines.filter((l) => l.includes("rate-limit store unavailable")).length, 1, "logged once, not per request");
            // Each request decided without the store says so on its line: what the AWS target's RateLimitFallbacks metric counts.
            const requests = gw.lines.filter((l) => l.includes('"msg":"request"')).map((l) => JSON.parse(l) as { limitStore?: string });
            assert.equal(requests.filter((r) => r.limitStore === "fallback").length, 8);
        }

        await redis.restart();
        const deadline = Date.now() + 10_000;
        for (const gw of gateways) {
            const metrics = async () => (await fetch(`http://127.0.0.1:${gw.adminPort}/metrics`)).text();
            // A request lets the process try the store again (at most once a second).
            while (sample(await metrics(), "policy_gateway_rate_limit_store_up") !== 1) {
                assert.ok(Date.now() < deadline, "the store was not used again within 10 s of its return");
                await send(`http://127.0.0.1:${gw.port}`, "/api", { headers: bearer(shared.token) });
                await sleep(200);
            }
            // The log is flushed at least once a second.
            while (!gw.lines.some((l) => l.includes("rate-limit store reachable again"))) {
                assert.ok(Date.now() < deadline, "the return of the store was not logged");
                await sleep(100);
            }
        }
        // Shared again: another consumer of the tier gets 10 in all from the two processes.
        const statuses: number[] = [];
        for (let i = 0; i < 16; i++) statuses.push((await send(`http://127.0.0.1:${gateways[i % 2].port}`, "/api", { headers: bearer(shared.other) })).status);
        assert.equal(statuses.filter((s) => s === 200).length, 10, statuses.join(" "));
    });
});

/** The bundle with WORKERS and one tier for every consumer, no store: for one suite. */
function limitedBundle(workers: string, tiers: object) {
    const b = { gw: undefined as Running | undefined, token: "", stop: async () => {} };
    before(async () => {
        const { okta, upstream } = await startOktaAndUpstream();
        b.stop = async () => {
            b.gw?.child.kill("SIGKILL");
            await upstream.stop();
            await okta.stop();
        };
        const name = Object.keys(tiers)[0];
        b.gw = await startBundle(gatewayEnv(okta, upstream, { WORKERS: workers, RATE_LIMITS: JSON.stringify({ tiers, defaultTier: name }) }));
        b.token = await okta.token(CLIENTS.productsWeb, "myscope");
    });
    after(() => b.stop());
    /** Statuses of `n` requests, each on a new connection: node:cluster hands them to the workers in turn. */
    const statuses = async (n: number) => {
        const out: number[] = [];
        for (let i = 0; i < n; i++) out.push((await send(`http://127.0.0.1:${b.gw!.port}`, "/api", { headers: bearer(b.token) })).status);
        return out;
    };
    return { b, statuses };
}

describe("per-consumer rate limits without a store (RATE_LIMIT_STORE=local), WORKERS=2", () => {
    const { b, statuses } = limitedBundle("2", { ten: { perMinute: 10 } });

    it("holds the limit for the container, the connections spread across the workers", async () => {
        const seen = await statuses(16);
        assert.equal(seen.filter((s) => s === 200).length, 10, seen.join(" "));
        const text = await (await fetch(`http://127.0.0.1:${b.gw!.adminPort}/metrics`)).text();
        assert.equal(
            sample(text, "policy_gateway_rate_limit_decisions_total", { tier: "ten", outcome: "allowed", store: "local" }),
            10,
            "merged from both workers",
        );
        assert.equal(sample(text, "policy_gateway_rate_limit_store_up"), 0, "no shared store");
    });
});

describe("a limit below one request per worker (WORKERS=4, 1 per minute, no store)", () => {
    const { statuses } = limitedBundle("4", { rare: { perMinute: 1 } });

    it("lets exactly one request through for the container, not one per worker: the primary keeps the buckets", async () => {
        // Each worker rounded its quarter up to one request before.
        const seen = await statuses(12);
        assert.equal(seen.filter((s) => s === 200).length, 1, seen.join(" "));
        assert.equal(seen.filter((s) => s === 429).length, 11);
    });
});

describe("a 429 as HTTP clients read it", () => {
    let g: GatewayUnderTest;
    before(async () => {
        g = await startGatewayUnderTest({
            env: { WORKERS: "1", RATE_LIMITS: JSON.stringify({ tiers: { paced: { perSecond: 1, burst: 2 } }, defaultTier: "paced" }) },
        });
    });
    after(() => g.stop());

    it("undici's RetryAgent waits the Retry-After the gateway gives, and then gets through", async () => {
        const token = await g.okta.token(CLIENTS.productsWeb, "myscope");
        const headers = { authorization: `Bearer ${token}` };
        const plain = new Agent();
        for (let i = 0; i < 2; i++) assert.equal((await request(`${g.url}/api`, { headers, dispatcher: plain })).statusCode, 200);
        const refused = await request(`${g.url}/api`, { headers, dispatcher: plain });
        await refused.body.dump();
        assert.equal(refused.statusCode, 429);
        assert.equal(refused.headers["retry-after"], "1");
        // A stock retrying client, told nothing but to retry 429s: it waits what Retry-After says.
        const retrying = new RetryAgent(plain, { maxRetries: 2, minTimeout: 10, statusCodes: [429] });
        const started = performance.now();
        const answered = await request(`${g.url}/api`, { headers, dispatcher: retrying });
        await answered.body.dump();
        const waited = performance.now() - started;
        assert.equal(answered.statusCode, 200);
        assert.ok(waited >= 900 && waited < 3_000, `waited ${Math.round(waited)} ms: Retry-After 1 s, not minTimeout's 10 ms`);
        await plain.close();
    });
});

describe("the shared store over TLS (rediss://, as ElastiCache's in-transit encryption)", () => {
    let redis: RedisServer;
    let stop: (() => Promise<void>) | undefined;
    const started: { trusted?: Running; untrusted?: Running } = {};
    before(async () => {
        redis = await startRedisServer({ tls: true });
        const { okta, upstream } = await startOktaAndUpstream();
        const env = gatewayEnv(okta, upstream, {
            WORKERS: "1",
            RATE_LIMITS: JSON.stringify({ tiers: { ten: { perMinute: 10 } }, defaultTier: "ten" }),
            RATE_LIMIT_STORE: "shared",
            RATE_LIMIT_STORE_URL: redis.url,
        });
        stop = async () => {
            for (const g of Object.values(started)) g?.child.kill("SIGKILL");
            await upstream.stop();
            await okta.stop();
            await redis.stop();
        };
        // One process trusts the store's certificate (as Node trusts Amazon's CAs), the other does not.
        started.trusted = await startBundle({ ...env, NODE_EXTRA_CA_CERTS: redis.caFile ?? "" });
        started.untrusted = await startBundle(env);
        shared.token = await okta.token(CLIENTS.productsWeb, "myscope");
    });
    const shared = { token: "" };
    after(() => stop?.());

    it("decides in the store over TLS, and treats a certificate it cannot verify as a store it cannot use", async () => {
        assert.match(redis.url, /^rediss:/);
        for (const gw of [started.trusted!, started.untrusted!]) {
            assert.equal((await send(`http://127.0.0.1:${gw.port}`, "/api", { headers: bearer(shared.token) })).status, 200);
        }
        const metricsOf = async (gw: Running) => (await fetch(`http://127.0.0.1:${gw.adminPort}/metrics`)).text();
        const trusted = await metricsOf(started.trusted!);
        assert.equal(sample(trusted, "policy_gateway_rate_limit_decisions_total", { tier: "ten", outcome: "allowed", store: "shared" }), 1);
        assert.equal(sample(trusted, "policy_gateway_rate_limit_store_up"), 1);
        const untrusted = await metricsOf(started.untrusted!);
        assert.equal(sample(untrusted, "policy_gateway_rate_limit_decisions_total", { tier: "ten", outcome: "allowed", store: "fallback" }), 1);
        assert.equal(sample(untrusted, "policy_gateway_rate_limit_store_up"), 0, "no connection without a verified certificate");
    });
});
