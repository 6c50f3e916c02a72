// Several APIs behind one gateway (APIS), against the local authorization server and two real
// upstreams: each request reaches its own API's upstream under its own API's scopes, a client
// reaches only the APIs that declare it, a path of no API is answered 404 and never forwarded,
// and the per-API metrics' labels stay within the declared APIs and consumers.
import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, it } from "node:test";
import { bearer, send, startGatewayUnderTest, startSampleUpstream, type GatewayUnderTest, type SampleUpstream } from "../support/gatewayHarness";

const BOTH = { clientId: "0oaInventorySync0001", clientSecret: "inventory-sync-secret-0123456789abcd", scopes: ["products:read", "orders:read"] };
const PRODUCTS_ONLY = { clientId: "0oaStorefront0000001", clientSecret: "storefront-secret-0123456789abcdefgh", scopes: ["products:read"] };
/** Granted orders:read in the authorization server by mistake, but not declared a consumer of orders. */
const UNDECLARED = { clientId: "0oaReporting00000009", clientSecret: "reporting-secret-0123456789abcdefghij", scopes: ["products:read", "orders:read"] };

describe("several APIs behind one gateway", () => {
    let g: GatewayUnderTest;
    let orders: SampleUpstream;
    before(async () => {
        orders = await startSampleUpstream();
        g = await startGatewayUnderTest({
            okta: { scopes: ["products:read", "orders:read"], clients: [BOTH, PRODUCTS_ONLY, UNDECLARED] },
            env: {
                UPSTREAM_URL: "",
                REQUIRED_SCOPES: "",
                CONSUMER_NAMES: JSON.stringify({ [BOTH.clientId]: "inventory-sync", [PRODUCTS_ONLY.clientId]: "storefront" }),
            },
            apis: (productsUrl) => [
                { name: "products", pathPrefix: "/products", upstreamUrl: `${productsUrl}/catalog`, requiredScopes: ["products:read"] },
                {
                    name: "orders",
                    pathPrefix: "/orders",
                    stripPrefix: true,
                    upstreamUrl: orders.url,
                    requiredScopes: ["orders:read"],
                    consumers: [BOTH.clientId],
                },
            ],
        });
    });
    after(async () => {
        await g.stop();
        await orders.stop();
    });

    it("sends each API's requests to its own upstream, a consumer of both to both, and another to its own only (403)", async () => {
        const both = await g.okta.token(BOTH, "products:read orders:read");
        const storefront = await g.okta.token(PRODUCTS_ONLY, "products:read");
        assert.equal((await send(g.url, "/products/42", { headers: bearer(both) })).status, 200);
        assert.equal((await send(g.url, "/orders/7?x=1", { headers: bearer(both) })).status, 200);
        assert.equal((await send(g.url, "/products/43", { headers: bearer(storefront) })).status, 200);
        const refused = await send(g.url, "/orders/7", { headers: bearer(storefront) });
        assert.equal(refused.status, 403);
        assert.equal(JSON.parse(refused.body).error, "access_denied");
        assert.deepEqual(
            g.upstream.received.map((r) => r.url),
            ["/catalog/products/42", "/catalog/products/43"],
        );
        assert.deepEqual(
            orders.received.map((r) => r.url),
            ["/7?x=1"],
            "the orders API strips its prefix",
        );
    });
    it("refuses a client the API does not declare, even with a token that has the API's scope", async () => {
        const token = await g.okta.token(UNDECLARED, "orders:read");
        const before = orders.count;
        const r = await send(g.url, "/orders/7", { headers: bearer(token) });
        assert.equal(r.status, 403);
        assert.match(JSON.parse(r.body).error_description, /not a consumer of API orders/);
        assert.equal(orders.count, before, "never forwarded");
    });
    it("answers 404 in its JSON for a path of no API, before any token, and forwards nothing", async () => {
        const counts = [g.upstream.count, orders.count];
        for (const path of ["/", "/productsx", "/inventory/1", "/Orders-archive"]) {
            const r = await send(g.url, path, {});
            assert.equal(r.status, 404, path);
            assert.equal(r.headers["content-type"], "application/json");
            assert.ok(r.headers["x-request-id"]);
            assert.equal(JSON.parse(r.body).error, "not_found");
        }
        assert.deepEqual([g.upstream.count, orders.count], counts);
    });
    it("writes api, consumer and outcome on every request line, even one the HTTP parser refused: the fields the CloudWatch metrics are cut by", async () => {
        const socket = connect(Number(new URL(g.url).port), "127.0.0.1");
        await new Promise((resolve) => socket.once("connect", resolve));
        socket.end("GET /products/1 HTTP/1.1\r\nHost: gw\r\nBad Header\r\n\r\n");
        await new Promise((resolve) => socket.once("close", resolve).resume());
        await new Promise((r) => setTimeout(r, 20));
        const lines = g.logs
            .flatMap((l) => l.split("\n"))
            .filter((l) => l.includes('"msg":"request"'))
            .map((l) => JSON.parse(l) as Record<string, unknown>);
        for (const l of lines) for (const field of ["api", "consumer", "outcome"]) assert.equal(typeof l[field], "string", JSON.stringify(l));
        assert.deepEqual([lines.at(-1)?.api, lines.at(-1)?.consumer, lines.at(-1)?.status], ["none", "unknown", 400]);
    });
    it("counts requests by API and consumer, with labels bounded by the declared names", async () => {
        const text = await (await fetch(`${g.adminUrl}/metrics`)).text();
        const series = [...text.matchAll(/^policy_gateway_consumer_requests_total\{api="([^"]+)",consumer="([^"]+)",outcome="([^"]+)"\} (\d+)/gm)];
        const count = (api: string, consumer: string, outcome: string) =>
            Number(series.find((m) => m[1] === api && m[2] === consumer && m[3] === outcome)?.[4] ?? 0);
        assert.equal(count("products", "inventory-sync", "allowed"), 1);
        assert.equal(count("orders", "inventory-sync", "allowed"), 1);
        assert.equal(count("products", "storefront", "allowed"), 1);
        assert.equal(count("orders", "storefront", "not_a_consumer"), 1);
        assert.equal(count("orders", "unknown", "not_a_consumer"), 1);
        assert.equal(count("none", "unknown", "no_api"), 4);
        assert.deepEqual(new Set(series.map((m) => m[1])), new Set(["products", "orders", "none"]));
        assert.ok(series.every((m) => ["inventory-sync", "storefront", "unknown"].includes(m[2])));
        assert.ok(!text.includes(UNDECLARED.clientId), "no client id is ever a label value");
        const lines = g.logs
            .flatMap((l) => l.split("\n"))
            .filter((l) => l.includes('"msg":"request"'))
            .map((l) => JSON.parse(l) as { api: string; outcome: string });
        assert.deepEqual(
            lines.slice(0, 4).map((l) => `${l.api} ${l.outcome}`),
            ["products allowed", "orders allowed", "products allowed", "orders not_a_consumer"],
        );
    });
});
