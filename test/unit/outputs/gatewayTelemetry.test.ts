// Unit tests of components/gatewayTelemetry.ts: the CloudWatch metric filters on the request lines,
// their bounded dimensions, and the alarms on them. Pure, without the mock runtime.
import fc from "fast-check";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { alarmSpecs, apiDashboardWidgets, METRIC_FILTER_DIMENSION_LIMIT, metricFilters, SURGE_OUTCOMES } from "../../../components/gatewayTelemetry";
import { awsGatewaySpec } from "../../../components/stackConfig/awsTarget";
import { OUTCOMES } from "../../../policy-gateway/src/shared/metrics";

const thresholds = awsGatewaySpec({}).alarms;
const names = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

describe("CloudWatch metric filters on the request lines", () => {
    it("declares only filters whose dimension values stay under the limit CloudWatch Logs disables a filter at, for any declaration (property)", () => {
        fc.assert(
            fc.property(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 0, max: 1000 }), fc.boolean(), (apis, consumers, sharedStore) => {
                const { filters, skipped } = metricFilters({ apis: names(apis, "api"), consumers: names(consumers, "c"), sharedStore });
                for (const f of filters) {
                    assert.ok(f.bound <= METRIC_FILTER_DIMENSION_LIMIT, f.metric);
                    assert.ok(Object.keys(f.dimensions ?? {}).length <= 3, "at most three dimensions");
                    assert.ok(!(f.dimensions && f.defaultValue !== undefined), "dimensions and a default value exclude each other");
                }
                // What is left out is only what would pass the limit, and the per-API metrics are always there.
                for (const f of skipped) assert.ok(f.bound > METRIC_FILTER_DIMENSION_LIMIT);
                for (const m of ["Requests", "Answers", "Latency", "IntrospectionErrors", "AuthorizationServer429s"])
                    assert.ok(
                        filters.some((f) => f.metric === m),
                        m,
                    );
                assert.equal(
                    filters.some((f) => f.metric === "ConsumerRequests"),
                    (apis + 1) * (consumers + 1) <= METRIC_FILTER_DIMENSION_LIMIT,
                );
                assert.equal(
                    filters.some((f) => f.metric === "RateLimitFallbacks"),
                    sharedStore,
                );
            }),
        );
    });
    it("bounds each filter by the declared APIs and `none`, the declared consumers and `unknown`, and the gateway's closed list of outcomes", () => {
        const { filters } = metricFilters({ apis: ["products", "orders"], consumers: ["a", "b", "c"], sharedStore: false });
        const bound = (m: string) => filters.find((f) => f.metric === m)?.bound;
        assert.equal(bound("Requests"), 3);
        assert.equal(bound("Answers"), 3 * OUTCOMES.length);
        assert.equal(bound("ConsumerRequests"), 3 * 4);
        assert.equal(bound("ConsumerRefusals"), 3 * 4 * 4);
        // The values a pattern names are outcomes the gateway has.
        for (const f of filters)
            for (const [, v] of f.pattern.matchAll(/\$\.outcome = "([a-z_]+)"/g)) assert.ok((OUTCOMES as readonly string[]).includes(v), v);
    });
});

describe("alarms on the request metrics", () => {
    const specs = alarmSpecs({ apis: ["products", "orders"], sharedStore: true, thresholds, runbook: "docs/operations.md" });
    it("alarms per API on 401, 403 and 429 as shares of its traffic, and once on introspection errors, Okta's 429s and the store", () => {
        assert.deepEqual(
            specs.map((s) => s.key),
            [
                "products-401",
                "products-403",
                "products-429",
                "orders-401",
                "orders-403",
                "orders-429",
                "introspection-errors",
                "authorization-server-429",
                "rate-limit-store",
            ],
        );
        assert.equal(alarmSpecs({ apis: ["default"], sharedStore: false, thresholds, runbook: "x" }).at(-1)?.key, "authorization-server-429");
    });
    it("counts every outcome of a status, and nothing below the minimum traffic", () => {
        const s = specs.find((x) => x.key === "orders-429");
        assert.ok(s);
        const outcomes = s.queries.flatMap((q) => (q.metric?.dimensions?.Outcome ? [q.metric.dimensions.Outcome] : []));
        assert.deepEqual(outcomes, [...SURGE_OUTCOMES.tooManyRequests]);
        assert.equal(s.queries.filter((q) => q.returnData).length, 1);
        assert.equal(
            s.queries.at(-1)?.expression,
            `IF(FILL(total, 0) >= ${thresholds.minRequestsPerMinute}, 100 * (FILL(o0, 0) + FILL(o1, 0) + FILL(o2, 0)) / total, 0)`,
        );
        assert.equal(s.threshold, thresholds.tooManyRequestsPercent);
        assert.equal(s.runbook, "docs/operations.md#alarm-429");
    });
    it("draws each API's dashboard from its own metrics only", () => {
        const all = metricFilters({ apis: ["orders"], consumers: ["a"], sharedStore: false }).filters.map((f) => f.metric);
        const widgets = apiDashboardWidgets({ api: "orders", namespace: "PolicyGateway/x", region: "eu-west-1", thresholds, declared: all });
        const text = JSON.stringify(widgets);
        assert.ok(!text.includes('Api=\\"products\\"') && !text.includes('"products"'));
        assert.match(text, /SEARCH\('\{PolicyGateway\/x,Api,Consumer\} MetricName=\\"ConsumerRequests\\" Api=\\"orders\\"', 'Sum', 60\)/);
        assert.equal(widgets.length, 6);
        // A per-consumer metric the bound kept out has no widget.
        assert.equal(
            apiDashboardWidgets({ api: "orders", namespace: "n", region: "r", thresholds, declared: all.filter((m) => m !== "ConsumerRefusals") }).length,
            5,
        );
    });
});
