// The rate-limit decisions without a server: GCRA over one and several policies, the tiers a
// stack declares, the headers a consumer reads, and the gateway's RATE_LIMIT_* variables. Then
// the store's Lua script against a real redis-server, held to the same answers as gcra().
import fc from "fast-check";
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { loadConfig } from "../../policy-gateway/src/config/load";
import { gcra, type RatePolicy } from "../../policy-gateway/src/limits/gcra";
import { rateLimitHeaders, rateLimitPolicyField } from "../../policy-gateway/src/limits/rateLimitHeaders";
import { compileRateLimits, limitOf, sharePolicy, tierOf, tierPolicies } from "../../policy-gateway/src/limits/rateLimitPlan";
import { SharedStore } from "../../policy-gateway/src/limits/sharedStore";
import { startRedisServer, type RedisServer } from "../../harness/redisServer";

const perSecond = (limit: number, burst = limit): RatePolicy => ({ name: "s", limit, windowSeconds: 1, burst });
const perMinute = (limit: number): RatePolicy => ({ name: "m", limit, windowSeconds: 60, burst: limit });

/** Runs requests at the given instants through gcra(), keeping state as the limiter does. */
function run(policies: RatePolicy[], instants: number[]): boolean[] {
    let tats: number[] = [];
    return instants.map((t) => {
        const r = gcra(policies, tats, t);
        if (r.allowed) tats = r.tats;
        return r.allowed;
    });
}

describe("GCRA", () => {
    it("lets a burst through at once, refuses the next, and tells how long to wait", () => {
        const policies = [perSecond(10, 5)];
        let tats: number[] = [];
        for (let i = 0; i < 5; i++) {
            const r = gcra(policies, tats, 1_000);
            assert.ok(r.allowed, `request ${i + 1} of the burst`);
            assert.equal(r.remaining, 4 - i);
            tats = r.tats;
        }
        const refused = gcra(policies, tats, 1_000);
        assert.equal(refused.allowed, false);
        assert.equal(refused.retryAfterMs, 100, "one interval of 1000/10 ms");
        assert.deepEqual(refused.tats, tats, "a refused request spends nothing");
        assert.equal(gcra(policies, tats, 1_100).allowed, true, "one interval later, one more");
    });

    it("holds the steady rate: over 10 s at twice the rate, burst + rate × 10 pass", () => {
        const instants = Array.from({ length: 400 }, (_, i) => i * 25); // 40/s for 10 s
        const allowed = run([perSecond(20, 20)], instants).filter(Boolean).length;
        assert.equal(allowed, 20 + 20 * 10 - 1);
    });

    it("refuses when any policy refuses, and then spends none of them", () => {
        const policies = [perSecond(100), perMinute(3)];
        const results = run(policies, [0, 10, 20, 30, 40]);
        assert.deepEqual(results, [true, true, true, false, false]);
        const r = gcra(policies, [], 0);
        const after3 = [0, 1, 2].reduce((t) => gcra(policies, t, 0).tats, [] as number[]);
        const refused = gcra(policies, after3, 0);
        assert.equal(refused.binding, 1, "the per-minute policy is the one that refused");
        assert.equal(refused.retryAfterMs, 20_000, "a minute's quota of 3 refills one every 20 s");
        assert.equal(r.binding, 1, "with 2 left of 3 per minute and 99 of 100 per second, the minute binds");
    });

    it("never lets more than burst + rate × elapsed through, whatever the arrivals (property)", () => {
        fc.assert(
            fc.property(
                fc.integer({ min: 1, max: 50 }),
                fc.integer({ min: 1, max: 50 }),
                fc.array(fc.integer({ min: 0, max: 5_000 }), { minLength: 1, maxLength: 300 }),
                (rate, burst, raw) => {
                    const instants = [...raw].sort((a, b) => a - b);
                    const allowed = run([perSecond(rate, burst)], instants).filter(Boolean).length;
                    const elapsedSeconds = (instants.at(-1)! - instants[0]) / 1000;
                    return allowed <= burst + rate * elapsedSeconds + 1e-9;
                },
            ),
        );
    });

    it("a process's share of a limit lets through its part of the whole", () => {
        const whole = perSecond(30, 30);
        const share = sharePolicy(whole, 3);
        assert.deepEqual({ limit: share.limit, burst: share.burst }, { limit: 10, burst: 10 });
        const instants = Array.from({ length: 200 }, (_, i) => i * 10); // 100/s for 2 s
        assert.equal(run([share], instants).filter(Boolean).length, 10 + 10 * 2 - 1);
    });
});

describe("tiers (RATE_LIMITS)", () => {
    const plan = compileRateLimits(
        { tiers: { gold: { perSecond: 50, burst: 100, perMinute: 2000 }, batch: { perMinute: 60 } }, consumers: { "0oaA": "gold" }, defaultTier: "batch" },
        "RATE_LIMITS",
    );

    it("maps a tier to its policies and a client id to its tier, with the default for the rest", () => {
        assert.deepEqual(plan.tiers.get("gold"), [
            { name: "gold-per-second", limit: 50, windowSeconds: 1, burst: 100 },
            { name: "gold-per-minute", limit: 2000, windowSeconds: 60, burst: 2000 },
        ]);
        assert.equal(tierOf(plan, "0oaA"), "gold");
        assert.equal(tierOf(plan, "0oaSomeoneElse"), "batch");
        const noDefault = compileRateLimits({ tiers: { gold: { perSecond: 1 } }, consumers: { "0oaA": "gold" } }, "RATE_LIMITS");
        assert.equal(tierOf(noDefault, "0oaSomeoneElse"), undefined, "no default tier: other clients are not limited");
        // What the stack tells each team (consumerClients.rateLimit), by the same rule.
        const declared = { tiers: { gold: { perSecond: 1 }, batch: { perMinute: 60 } }, defaultTier: "batch" };
        assert.deepEqual(limitOf(declared, "gold"), { tier: "gold", perSecond: 1 });
        assert.deepEqual(limitOf(declared, undefined), { tier: "batch", perMinute: 60 });
        assert.equal(limitOf({ tiers: declared.tiers }, undefined), null, "no tier, no default: not limited");
        assert.equal(limitOf(undefined, "gold"), null);
        assert.equal(limitOf(declared, "constructor"), null, "own members only");
    });

    it("refuses what cannot be meant, naming the variable and the key", () => {
        const refuses = (value: unknown, message: RegExp) => assert.throws(() => compileRateLimits(value, "RATE_LIMITS"), message);
        refuses({ tiers: { gold: {} } }, /RATE_LIMITS\.tiers\.gold: must set perSecond, perMinute or both/);
        refuses({ tiers: { gold: { burst: 5, perMinute: 10 } } }, /tiers\.gold\.burst: needs perSecond/);
        refuses({ tiers: { gold: { perSecond: 1, perMinute: 61 } } }, /tiers\.gold\.perMinute: is above 60 × perSecond/);
        refuses({ tiers: { gold: { perSecond: 0 } } }, /tiers\.gold\.perSecond/);
        refuses(
            { tiers: { gold: { perSecond: 1 } }, consumers: { "0oaA": "silver" } },
            /RATE_LIMITS\.consumers\.0oaA: "silver" is not one of the declared tiers \(gold\)/,
        );
        refuses({ tiers: { gold: { perSecond: 1 } }, defaultTier: "silver" }, /RATE_LIMITS\.defaultTier: "silver" is not one of the declared tiers/);
        // Own members only: names that exist on every object's prototype are no tiers unless declared.
        refuses({ tiers: { gold: { perSecond: 1 } }, consumers: { "0oaA": "constructor" } }, /consumers\.0oaA: "constructor" is not one of the declared tiers/);
        refuses({ tiers: { gold: { perSecond: 1 } }, consumers: { "0oaA": "toString" } }, /consumers\.0oaA: "toString" is not one of the declared tiers/);
        refuses({ tiers: { gold: { perSecond: 1 } }, defaultTier: "hasOwnProperty" }, /defaultTier: "hasOwnProperty" is not one/);
        // A tier that is declared under such a name is a tier like any other.
        const odd = compileRateLimits({ tiers: { constructor: { perSecond: 1 } }, defaultTier: "constructor" }, "RATE_LIMITS");
        assert.equal(tierOf(odd, "0oaAnyone"), "constructor");
        assert.ok(odd.tiers.get("constructor")?.length);
        refuses({ tiers: { Gold: { perSecond: 1 } } }, /tier names must be/);
    });
});

describe("the RateLimit headers", () => {
    it("lists every policy of the tier as quota and window, the bucket's refill time for a burst", () => {
        assert.equal(
            rateLimitPolicyField(tierPolicies("gold", { perSecond: 50, burst: 100, perMinute: 2000 })),
            '"gold-per-second";q=100;w=2, "gold-per-minute";q=2000;w=60',
        );
    });

    it("reports the binding policy's remaining and reset on an allowed answer, with no Retry-After", () => {
        const policies = tierPolicies("gold", { perSecond: 10 });
        const h = rateLimitHeaders({ policies, binding: 0, remaining: 7, resetMs: 300, retryAfterMs: 0 });
        assert.deepEqual(h, { "ratelimit-policy": '"gold-per-second";q=10;w=1', ratelimit: '"gold-per-second";r=7;t=1' });
    });

    it("on a refusal: r=0, and Retry-After and t in whole seconds rounded up", () => {
        const policies = tierPolicies("batch", { perMinute: 60 });
        const h = rateLimitHeaders({ policies, binding: 0, remaining: 0, resetMs: 60_000, retryAfterMs: 1_200 });
        assert.equal(h["retry-after"], "2");
        assert.equal(h.ratelimit, '"batch-per-minute";r=0;t=2');
    });
});

describe("RATE_LIMIT_* variables", () => {
    const base = { UPSTREAM_URL: "http://127.0.0.1:1", OIDC_ISSUER: "http://127.0.0.1:2", AUDIENCE: "api://x", TOKEN_VALIDATION: "jwt" };
    const tiers = JSON.stringify({ tiers: { gold: { perSecond: 5 } }, defaultTier: "gold" });

    it("reads a shared store on loopback, and no limits without RATE_LIMITS", () => {
        const c = loadConfig({
            ...base,
            RATE_LIMITS: tiers,
            RATE_LIMIT_STORE: "shared",
            RATE_LIMIT_STORE_URL: "redis://127.0.0.1:6379",
            RATE_LIMIT_TASKS: "3",
        });
        assert.deepEqual(c.rateLimits?.store, { kind: "shared", url: "redis://127.0.0.1:6379", timeoutMs: 250 });
        assert.equal(c.rateLimits?.tasks, 3);
        assert.equal(loadConfig(base).rateLimits, undefined);
        assert.equal(loadConfig({ ...base, RATE_LIMITS: tiers }).rateLimits?.store.kind, "local");
    });

    it("names the variable and what was expected when it is wrong", () => {
        const problems = (env: Record<string, string>) => {
            try {
                loadConfig({ ...base, ...env });
                return "";
            } catch (e) {
                return (e as Error).message;
            }
        };
        assert.match(problems({ RATE_LIMITS: "{" }), /RATE_LIMITS: is not valid JSON/);
        assert.match(problems({ RATE_LIMITS: tiers, RATE_LIMIT_STORE: "shared" }), /RATE_LIMIT_STORE_URL: is required with RATE_LIMIT_STORE=shared/);
        assert.match(
            problems({ RATE_LIMITS: tiers, RATE_LIMIT_STORE: "shared", RATE_LIMIT_STORE_URL: "redis://cache.internal:6379" }),
            /RATE_LIMIT_STORE_URL: must use rediss:\/\/ \(TLS\)/,
        );
        assert.match(
            problems({ RATE_LIMITS: tiers, RATE_LIMIT_TASKS: "2" }),
            /RATE_LIMIT_TASKS: is 2 with RATE_LIMIT_STORE=local, which limits each task on its own/,
        );
        assert.match(problems({ RATE_LIMIT_STORE: "shared", RATE_LIMIT_STORE_URL: "rediss://c:6379" }), /RATE_LIMITS: is required/);
        assert.equal(problems({ RATE_LIMITS: tiers, RATE_LIMIT_STORE: "shared", RATE_LIMIT_STORE_URL: "rediss://cache.internal:6379" }), "");
    });
});

describe("the shared store's script, on a real redis-server", () => {
    let redis: RedisServer;
    let store: SharedStore;
    before(async () => {
        redis = await startRedisServer();
        store = new SharedStore({ url: redis.url, timeoutMs: 1_000 });
        assert.ok(await store.connected(5_000));
    });
    after(async () => {
        await store.close();
        await redis.stop();
    });

    /** The store's form of a policy, as ConsumerRateLimiter builds it. */
    const storePolicy = (p: RatePolicy, field: string) => ({ field, intervalUs: ((p.windowSeconds * 1000) / p.limit) * 1000, burst: p.burst });

    it("gives gcra()'s answers for a burst: the same count allowed, the same remaining, then a refusal with the same wait", async () => {
        const policies = [perSecond(1, 5), perMinute(4)];
        const local: ReturnType<typeof gcra>[] = [];
        let tats: number[] = [];
        for (let i = 0; i < 6; i++) {
            const r = gcra(policies, tats, 0);
            if (r.allowed) tats = r.tats;
            local.push(r);
        }
        const fromStore = [];
        for (let i = 0; i < 6; i++)
            fromStore.push(await store.decide("client-a", SharedStore.scriptArgs([storePolicy(policies[0], "s"), storePolicy(policies[1], "m")])));
        assert.deepEqual(
            fromStore.map((a) => [a.allowed, a.binding, a.remaining]),
            local.map((r) => [r.allowed, r.binding, r.remaining]),
        );
        // The server's clock moved on a little between the calls: the wait is the same within 50 ms.
        const wait = fromStore.at(-1)!.retryAfterMs;
        assert.ok(Math.abs(wait - local.at(-1)!.retryAfterMs) < 50, `retry after ${wait} ms`);
    });

    it("decides the requests of one turn together, in arrival order, also past one batch's size", async () => {
        const p = SharedStore.scriptArgs([storePolicy(perSecond(1, 300), "s")]);
        // 600 at once for one consumer and 3 for another: one consumer's bucket of 300 is spent in
        // order across the batches, the other's is untouched by it.
        const answers = await Promise.all([
            ...Array.from({ length: 600 }, () => store.decide("client-many", p)),
            ...Array.from({ length: 3 }, () => store.decide("client-few", p)),
        ]);
        const many = answers.slice(0, 600).map((a) => a.allowed);
        assert.deepEqual(many.indexOf(false), 300, "the first 300 in arrival order pass");
        assert.ok(many.slice(300).every((a) => !a));
        assert.deepEqual(
            answers.slice(600).map((a) => a.remaining),
            [299, 298, 297],
        );
    });

    it("keeps consumers apart, and lets the hash expire once its buckets are full again", async () => {
        const p = SharedStore.scriptArgs([storePolicy(perSecond(10, 2), "s")]);
        assert.equal((await store.decide("client-b", p)).allowed, true);
        assert.equal((await store.decide("client-b", p)).allowed, true);
        assert.equal((await store.decide("client-b", p)).allowed, false);
        assert.equal((await store.decide("client-c", p)).allowed, true, "another consumer has its own bucket");
        await new Promise((r) => setTimeout(r, 300));
        assert.equal((await store.decide("client-b", p)).allowed, true, "refilled at 10/s");
    });
});
