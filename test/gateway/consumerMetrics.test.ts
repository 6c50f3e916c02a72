// Per-consumer metrics: each request counted under its verified client's declared name, and every
// other client (or a request without a verified token) under `unknown`, so the label's values are
// bounded by the declared consumers whatever the traffic.
import fc from "fast-check";
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { consumerLabel, UNKNOWN_CONSUMER } from "../../policy-gateway/src/shared/metrics";
import { CLIENTS, send, startGatewayUnderTest, type GatewayUnderTest } from "../support/gatewayHarness";

describe("consumerLabel", () => {
    const names = new Map([
        ["0oaA", "billing"],
        ["0oaB", "reporting"],
    ]);
    it("names a declared client, and nothing else (property)", () => {
        fc.assert(
            fc.property(fc.option(fc.string(), { nil: undefined }), (id) => {
                const label = consumerLabel(names, id);
                assert.ok(label === UNKNOWN_CONSUMER || [...names.values()].includes(label), label);
                if (id !== undefined && names.has(id)) assert.equal(label, names.get(id));
            }),
        );
    });
});

describe("per-consumer metrics", () => {
    let g: GatewayUnderTest;
    before(async () => {
        g = await startGatewayUnderTest({
            env: {
                CONSUMER_NAMES: JSON.stringify({ [CLIENTS.productsWeb.clientId]: "products-web", [CLIENTS.admin.clientId]: "admin-console" }),
                ROUTE_RULES: JSON.stringify([{ path: "/admin/**", scopes: ["admin"] }]),
            },
        });
    });
    after(() => g.stop());

    const series = async () => {
        const text = await (await fetch(`${g.adminUrl}/metrics`)).text();
        return Object.fromEntries(
            [...text.matchAll(/^policy_gateway_consumer_requests_total\{api="default",consumer="([^"]+)",outcome="([^"]+)"\} (\d+)/gm)].map((m) => [
                `${m[1]} ${m[2]}`,
                Number(m[3]),
            ]),
        );
    };

    it("counts allowed, 403 and 401 by the consumer's name, and an undeclared client or a bad token as unknown", async () => {
        const web = await g.okta.token(CLIENTS.productsWeb, "myscope");
        const reporting = await g.okta.token(CLIENTS.reporting, "products:read"); // a client the gateway was not told about
        const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
        assert.equal((await send(g.url, "/api/products", { headers: bearer(web) })).status, 200);
        assert.equal((await send(g.url, "/api/products", { headers: bearer(web) })).status, 200);
        assert.equal((await send(g.url, "/admin/users", { headers: bearer(web) })).status, 403);
        assert.equal((await send(g.url, "/api/products", { headers: bearer(reporting) })).status, 403);
        assert.equal((await send(g.url, "/api/products", { headers: bearer("not-a-real-token-0123456789") })).status, 401);
        const s = await series();
        assert.equal(s["products-web allowed"], 2);
        assert.equal(s["products-web insufficient_scope"], 1);
        assert.equal(s["unknown insufficient_scope"], 1, "an undeclared client is unknown, never its client id");
        assert.equal(s["unknown invalid_token"], 1);
        const labels = new Set(Object.keys(s).map((k) => k.split(" ")[0]));
        assert.deepEqual([...labels].sort(), ["products-web", "unknown"]);
        const text = await (await fetch(`${g.adminUrl}/metrics`)).text();
        assert.ok(!text.includes(CLIENTS.reporting.clientId), "no client id is ever a label value");
        assert.match(text, /^policy_gateway_consumer_request_duration_seconds_count\{api="default",consumer="products-web"\} 3$/m);
        // The same name on each request's log line, for log queries (CloudWatch Logs Insights on AWS).
        const lines = g.logs
            .flatMap((l) => l.split("\n"))
            .filter((l) => l.includes('"msg":"request"'))
            .map((l) => JSON.parse(l) as { consumer: string; outcome: string });
        assert.deepEqual(
            lines.map((l) => `${l.consumer} ${l.outcome}`),
            ["products-web allowed", "products-web allowed", "products-web insufficient_scope", "unknown insufficient_scope", "unknown invalid_token"],
        );
    });
});
