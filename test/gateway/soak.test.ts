// The short fault and load soak (the long one is `npm run soak`): a mixed load while the
// authorization server is stopped, slow and rate limiting, and the upstream is stopped.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CYCLE_SECONDS, formatSummary, runSoak } from "../../bench/soak";

describe("fault and load soak (short)", () => {
    it("never answers 2xx for a bad or unverifiable token, answers every request, stays up and bounded, and recovers", async () => {
        const summary = await runSoak({ seconds: CYCLE_SECONDS, concurrency: 12 }); // one cycle of every fault
        process.stdout.write(formatSummary(summary) + "\n");
        assert.equal(summary.forbiddenSuccesses, 0, "2xx for an invalid, random or scope-lacking token");
        assert.equal(summary.unverifiableSuccesses, 0, "2xx for a fresh token while the authorization server was failing");
        assert.equal(summary.unanswered, 0, "requests left without an answer");
        assert.equal(summary.gatewayAlive, true);
        assert.ok(summary.sent > 1_000, `only ${summary.sent} requests sent`);
        assert.deepEqual(
            summary.faults.map((f) => f.kind),
            ["authStopped", "authSlow", "auth429", "upstreamStopped"],
        );
        for (const f of summary.faults) assert.ok(f.recoverySeconds !== null && f.recoverySeconds <= 8, `${f.kind}: recovered after ${f.recoverySeconds} s`);
        assert.ok(summary.peakRssMb < 300, `peak RSS ${summary.peakRssMb} MB`);
        // Each fault was felt: 503s while the authorization server failed, 502s while the upstream was down.
        assert.ok((summary.byStatus["503"] ?? 0) > 0 && (summary.byStatus["502"] ?? 0) > 0, JSON.stringify(summary.byStatus));
    });
});
