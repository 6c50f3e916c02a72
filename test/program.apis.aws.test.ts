// examples/Pulumi.two-apis.yaml on the AWS target, under the mock runtime in a process of its own:
// each API gets its own alarms on 401, 403 and 429 surges and its own dashboard, the metrics are cut
// by API and consumer within CloudWatch's bounds, and the outputs say where each API is called.
import * as pulumi from "@pulumi/pulumi";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { parse as parseYaml } from "yaml";
import type { ApiOutput } from "../components/outputs";
import { PROJECT_ROOT, runProgram, valueOf, type ProgramRun } from "../harness/stackHarness";

const FILE = path.join(PROJECT_ROOT, "examples/Pulumi.two-apis.yaml");

describe("two APIs behind one gateway on the AWS target", () => {
    let run: ProgramRun;
    before(async () => {
        const doc = parseYaml(readFileSync(FILE, "utf8")) as { config: Record<string, Record<string, unknown>> };
        const { local: _local, ...gateway } = doc.config["okta-api-gateway:gateway"];
        run = await runProgram({
            stackName: "two-apis",
            stackFile: FILE,
            extraConfig: {
                "okta-api-gateway:gateway": JSON.stringify({
                    ...gateway,
                    target: "aws",
                    aws: { alarmTopicArn: "arn:aws:sns:eu-west-1:123456789012:api-owners", alarms: { forbiddenPercent: 5 } },
                }),
            },
        });
    });
    const ofType = (type: string) => run.stack.resources.filter((r) => r.type === type);

    it("alarms per API on its own 401, 403 and 429 shares, with the stack's thresholds, to the stack's topic", () => {
        const alarms = ofType("aws:cloudwatch/metricAlarm:MetricAlarm").filter((a) => a.name.includes("-telemetry-alarm-"));
        const perApi = alarms.map((a) => a.name.replace(/^.*-telemetry-alarm-/, "")).filter((n) => /^(products|orders)-/.test(n));
        assert.deepEqual(perApi.sort(), ["orders-401", "orders-403", "orders-429", "products-401", "products-403", "products-429"]);
        const ordersForbidden = alarms.find((a) => a.name.endsWith("-alarm-orders-403"));
        assert.equal(ordersForbidden?.inputs.threshold, 5, "gateway.aws.alarms.forbiddenPercent");
        const apis = (ordersForbidden?.inputs.metricQueries as { metric?: { dimensions: { Api: string } } }[]).flatMap((q) =>
            q.metric ? [q.metric.dimensions.Api] : [],
        );
        assert.deepEqual([...new Set(apis)], ["orders"], "each API's alarm reads its own metrics only");
        for (const a of alarms) assert.deepEqual(a.inputs.alarmActions, ["arn:aws:sns:eu-west-1:123456789012:api-owners"]);
        // The tiers live in the shared store on AWS: its outage has an alarm.
        assert.ok(alarms.some((a) => a.name.endsWith("-alarm-rate-limit-store")));
    });
    it("draws a dashboard per API, names them in the outputs, and calls each API at the gateway's URL and its prefix", async () => {
        const dashboards = await valueOf(run.outputs.apiDashboards as pulumi.Output<Record<string, string>>);
        assert.deepEqual(Object.keys(dashboards), ["products", "orders"]);
        for (const [api, name] of Object.entries(dashboards)) {
            const d = ofType("aws:cloudwatch/dashboard:Dashboard").find((x) => x.inputs.dashboardName === name);
            assert.ok(d, name);
            assert.match(String(d.inputs.dashboardBody), new RegExp(`Api=\\\\"${api}\\\\"`));
        }
        const apis = await valueOf(run.outputs.apis as pulumi.Output<Record<string, ApiOutput>>);
        const gatewayUrl = await valueOf(run.outputs.gatewayUrl as pulumi.Output<string>);
        assert.equal(apis.orders.url, `${gatewayUrl.replace(/\/$/, "")}/api/orders`);
    });
    it("cuts the metrics by API, consumer and outcome only, with the declared names bounding every dimension", () => {
        const filters = ofType("aws:cloudwatch/logMetricFilter:LogMetricFilter");
        assert.ok(filters.some((f) => (f.inputs.metricTransformation as { name: string }).name === "ConsumerRefusals"));
        for (const f of filters) {
            const dims = Object.values((f.inputs.metricTransformation as { dimensions?: Record<string, string> }).dimensions ?? {});
            assert.ok(
                dims.every((d) => ["$.api", "$.consumer", "$.outcome"].includes(d)),
                dims.join(),
            );
        }
    });
});
