// Unit tests of policy-gateway/src/limits/rateLimitHeaders.ts: the RateLimit fields a consumer sees. Pure, without a server.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { rateLimitHeaders, rateLimitPolicyField } from "../../../policy-gateway/src/limits/rateLimitHeaders";
import { tierPolicies } from "../../../policy-gateway/src/limits/rateLimitPlan";

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
