// Unit tests of policy-gateway/src/limits/sharedStore.ts: the shared store's script, on a real redis-server.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { gcra, type RatePolicy } from "../../../policy-gateway/src/limits/gcra";
import { SharedStore } from "../../../policy-gateway/src/limits/sharedStore";
import { startRedisServer, type RedisServer } from "../../../harness/redisServer";

const perSecond = (limit: number, burst = limit): RatePolicy => ({ name: "s", limit, windowSeconds: 1, burst });
const perMinute = (limit: number): RatePolicy => ({ name: "m", limit, windowSeconds: 60, burst: limit });

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
