// What goes wrong around the gateway, end to end on loopback: the authorization server down, its
// 429s, and the upstream failing; the gateway fails closed, backs off and recovers.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { bearer, CLIENTS, gatewayEnv, send, sleep, startGatewayUnderTest, type GatewayUnderTest } from "../support/gatewayHarness";
import { loadConfig } from "../../policy-gateway/src/config/load";

describe("gateway, authorization server outage", () => {
    let g: GatewayUnderTest;
    before(async () => {
        g = await startGatewayUnderTest({ env: { INTROSPECTION_TIMEOUT_MS: "300", BREAKER_FAILURE_THRESHOLD: "2", BREAKER_RESET_SECONDS: "1" } });
    });
    after(() => g.stop());

    it("fails closed with 503 and Retry-After for tokens it cannot verify, keeps cached tokens working, and recovers", async () => {
        const cached = await g.okta.token(CLIENTS.productsWeb, "myscope");
        const uncached = await g.okta.token(CLIENTS.productsWeb, "myscope");
        assert.equal((await send(g.url, "/api", { headers: bearer(cached) })).status, 200);
        g.okta.setFault({ kind: "down" });
        const received = g.upstream.received.length;
        for (let i = 0; i < 3; i++) {
            const r = await send(g.url, "/api", { headers: bearer(uncached) });
            assert.equal(r.status, 503);
            assert.match(String(r.headers["retry-after"]), /^\d+$/);
        }
        assert.equal(g.upstream.received.length, received, "nothing forwarded while unverifiable");
        const callsWhileOpen = g.okta.calls.introspect;
        assert.equal((await send(g.url, "/api", { headers: bearer(uncached) })).status, 503);
        assert.equal(g.okta.calls.introspect, callsWhileOpen, "the open breaker spares the server");
        assert.equal((await send(g.url, "/api", { headers: bearer(cached) })).status, 200, "cached token still served");

        g.okta.setFault({ kind: "none" });
        await sleep(1_100);
        assert.equal((await send(g.url, "/api", { headers: bearer(uncached) })).status, 200, "recovered after the breaker's reset");
    });

    it("treats a slow answer as a timeout: 503, not cached", async () => {
        const token = await g.okta.token(CLIENTS.productsWeb, "myscope");
        g.okta.setFault({ kind: "slow", delayMs: 800 });
        assert.equal((await send(g.url, "/api", { headers: bearer(token) })).status, 503);
        g.okta.setFault({ kind: "none" });
        await sleep(1_100);
        assert.equal((await send(g.url, "/api", { headers: bearer(token) })).status, 200);
    });
});

describe("gateway, 429 from the authorization server", () => {
    let g: GatewayUnderTest;
    before(async () => {
        g = await startGatewayUnderTest();
    });
    after(() => g.stop());

    it("backs off for Retry-After without calling again, then recovers", async () => {
        const token = await g.okta.token(CLIENTS.productsWeb, "myscope");
        g.okta.setFault({ kind: "introspectionStatus", status: 429, headers: { "retry-after": "1" }, body: '{"errorCode":"E0000047"}' });
        const first = await send(g.url, "/api", { headers: bearer(token) });
        assert.equal(first.status, 503);
        assert.equal(first.headers["retry-after"], "1");
        const calls = g.okta.calls.introspect;
        for (let i = 0; i < 5; i++) assert.equal((await send(g.url, "/api", { headers: bearer(token) })).status, 503);
        assert.equal(g.okta.calls.introspect, calls, "no calls during the back-off");
        // Each line says why: what the AWS target's AuthorizationServer429s metric (and its alarm) counts.
        await sleep(20);
        const lines = g.logs
            .flatMap((l) => l.split("\n"))
            .filter((l) => l.includes('"msg":"request"'))
            .map((l) => JSON.parse(l) as { outcome: string; reason?: string });
        assert.deepEqual(
            lines.slice(-6).map((l) => `${l.outcome} ${l.reason}`),
            Array(6).fill("unavailable rate_limited"),
        );
        g.okta.setFault({ kind: "none" });
        await sleep(1_100);
        assert.equal((await send(g.url, "/api", { headers: bearer(token) })).status, 200);
    });

    it("honours Okta's X-Rate-Limit-Reset", async () => {
        const token = await g.okta.token(CLIENTS.productsWeb, "myscope");
        await sleep(1_100);
        const reset = Math.floor(Date.now() / 1000) + 3;
        g.okta.setFault({ kind: "introspectionStatus", status: 429, headers: { "x-rate-limit-reset": String(reset) } });
        const r = await send(g.url, "/api", { headers: bearer(token) });
        g.okta.setFault({ kind: "none" });
        assert.equal(r.status, 503);
        assert.ok(Number(r.headers["retry-after"]) >= 2 && Number(r.headers["retry-after"]) <= 3, String(r.headers["retry-after"]));
    });

    it("never caches a 500 or non-JSON answer, and answers 503 rather than 401", async () => {
        const token = await g.okta.token(CLIENTS.productsWeb, "myscope");
        await sleep(3_100);
        for (const fault of [
            { status: 500, body: "oops" },
            { status: 200, body: "<html>not json</html>" },
        ]) {
            g.okta.setFault({ kind: "introspectionStatus", ...fault });
            assert.equal((await send(g.url, "/api", { headers: bearer(token) })).status, 503);
        }
        g.okta.setFault({ kind: "none" });
        assert.equal((await send(g.url, "/api", { headers: bearer(token) })).status, 200);
    });
});

describe("gateway, upstream failures and options", () => {
    let g: GatewayUnderTest;
    let token: string;
    before(async () => {
        g = await startGatewayUnderTest({
            env: { UPSTREAM_TIMEOUT_MS: "300", HIDE_CREDENTIALS: "true", IDENTITY_HEADER_PREFIX: "X-Caller-", CORS_ALLOWED_ORIGINS: "https://app.example" },
        });
        token = await g.okta.token(CLIENTS.productsWeb, "myscope");
    });
    after(() => g.stop());

    it("hides the credential from the upstream and uses the configured identity prefix", async () => {
        assert.equal((await send(g.url, "/api?access_token=" + token)).status, 200);
        const seen = g.upstream.received.at(-1)!;
        assert.equal(seen.headers.authorization, undefined);
        assert.equal(seen.url, "/api");
        assert.equal(seen.headers["x-caller-client-id"], CLIENTS.productsWeb.clientId);
        assert.equal((await send(g.url, "/api", { headers: { ...bearer(token) } })).status, 200);
        assert.equal(g.upstream.received.at(-1)!.headers.authorization, undefined);
    });

    it("answers CORS preflights itself when a policy is set, forwarding none, and nothing else goes without a token", async () => {
        const before = g.upstream.received.length;
        const preflight = await send(g.url, "/api/products", {
            method: "OPTIONS",
            headers: { origin: "https://app.example", "access-control-request-method": "POST", "x-caller-client-id": "spoofed" },
        });
        assert.equal(preflight.status, 204);
        assert.equal(preflight.headers["access-control-allow-origin"], "https://app.example");
        assert.equal(g.upstream.received.length, before, "never forwarded");
        const plainOptions = await send(g.url, "/api/products", { method: "OPTIONS" });
        assert.equal(plainOptions.status, 400, "an OPTIONS that is not a preflight still needs a token");
    });

    it("refuses CORS_PREFLIGHT_PASSTHROUGH=true at start, pointing at the CORS policy", () => {
        assert.throws(
            () => loadConfig({ ...gatewayEnv(g.okta, g.upstream), CORS_PREFLIGHT_PASSTHROUGH: "true" }),
            /CORS_PREFLIGHT_PASSTHROUGH: is removed: .*set CORS_ALLOWED_ORIGINS/,
        );
        assert.throws(
            () => loadConfig({ ...gatewayEnv(g.okta, g.upstream), CORS_ALLOWED_ORIGINS: "*", CORS_ALLOW_CREDENTIALS: "true" }),
            /CORS_ALLOW_CREDENTIALS: cannot be true with CORS_ALLOWED_ORIGINS \*/,
        );
        assert.throws(() => loadConfig({ ...gatewayEnv(g.okta, g.upstream), CORS_ALLOWED_ORIGINS: "https://app.example/path" }), /CORS_ALLOWED_ORIGINS/);
    });

    it("passes an upstream 503 through once, never replaying the request", async () => {
        g.upstream.status = 503;
        const before = g.upstream.received.length;
        const r = await send(g.url, "/api", { headers: bearer(token) });
        g.upstream.status = 200;
        assert.equal(r.status, 503);
        assert.equal(g.upstream.received.length - before, 1);
    });

    it("answers 504 when the upstream is too slow", async () => {
        g.upstream.delayMs = 1_000;
        const r = await send(g.url, "/api", { headers: bearer(token) });
        g.upstream.delayMs = 0;
        assert.equal(r.status, 504);
        assert.equal(JSON.parse(r.body).error, "upstream_timeout");
    });

    it("answers 502 when the upstream is down", async () => {
        await g.upstream.stop();
        const r = await send(g.url, "/api", { headers: bearer(token) });
        assert.equal(r.status, 502);
        assert.equal(JSON.parse(r.body).error, "bad_gateway");
    });
});
