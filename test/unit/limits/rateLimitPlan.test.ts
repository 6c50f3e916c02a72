// Unit tests of policy-gateway/src/limits/rateLimitPlan.ts: tiers, who is in them, and the fallback share. Pure, without a server.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compileRateLimits, limitOf, tierOf } from "../../../policy-gateway/src/limits/rateLimitPlan";

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
