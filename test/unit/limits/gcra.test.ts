// Unit tests of policy-gateway/src/limits/gcra.ts: GCRA over several limits. Pure, without a server.
import fc from "fast-check";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { gcra, type RatePolicy } from "../../../policy-gateway/src/limits/gcra";
import { planOf, shareOf, sharePolicy } from "../../../policy-gateway/src/limits/rateLimitPlan";
import { Buckets, ContainerBuckets } from "../../../policy-gateway/src/limits/containerBuckets";

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

    it("a share below one request is a fraction of time: one request per period, at a phase of the process's own", () => {
        const perMinute = { name: "rare-per-minute", limit: 2, windowSeconds: 60, burst: 2 };
        const { policies, periodMs } = shareOf([perMinute], 4);
        assert.deepEqual(policies, [{ ...perMinute, limit: 0.5, burst: 1 }]);
        assert.deepEqual(periodMs, [120_000], "4 tasks share 2 per minute: one request per task every 2 minutes");
        assert.deepEqual(shareOf([perMinute], 2).periodMs, [0], "a whole request each: no fraction");
        // Four processes with their own phases, a request every second to each in turn for 10 minutes.
        const phases = [0.1, 0.35, 0.6, 0.85];
        const processes = phases.map((p) => new Buckets(() => p));
        const admitted: number[] = [];
        for (let t = 0; t < 600_000; t += 1_000) if (processes[(t / 1_000) % 4].decide("c", policies, t, periodMs).allowed) admitted.push(t);
        // What the four let through together conforms to the declared limit (a single GCRA of it
        // would have let every one of them through), and over 10 minutes is the declared rate.
        assert.ok(run([perMinute], admitted).every(Boolean), admitted.join(","));
        assert.ok(admitted.length >= 18 && admitted.length <= 20, `${admitted.length} in 10 minutes`);
        // A refused newcomer keeps its phase: it is not pushed back by asking again.
        const one = new Buckets(() => 0.5);
        let first = -1;
        for (let t = 0; t < 200_000 && first < 0; t += 1_000) if (one.decide("c", policies, t, periodMs).allowed) first = t;
        assert.equal(first, 60_000, "half of its 2-minute period");
    });

    it("the primary's buckets hold a container's workers to the task's share together", () => {
        const plan = planOf({ tiers: { rare: { perMinute: 1 } }, consumers: {}, defaultTier: "rare" });
        const container = new ContainerBuckets(plan, 1);
        const allowed = Array.from({ length: 12 }, (_, i) => container.decide("c", "rare", i * 100)?.allowed).filter(Boolean).length;
        assert.equal(allowed, 1, "whichever worker asks, one bucket");
        assert.equal(container.decide("c", "unknown", 0), undefined);
    });
});
