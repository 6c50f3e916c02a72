// TRUST_PROXY: behind a load balancer the gateway takes the client's address and protocol from
// the balancer's X-Forwarded-* headers; from any other peer it never believes them.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { loadConfig } from "../../policy-gateway/src/config/load";
import { parseTrustProxy, trustedPeerPredicate } from "../../policy-gateway/src/request/trustProxy";
import { CLIENTS, send, startGatewayUnderTest, type GatewayUnderTest } from "../support/gatewayHarness";

describe("TRUST_PROXY parsing and the trusted-peer predicate", () => {
    it("is off unless set, and takes a hop count or a list of addresses and CIDR ranges", () => {
        assert.deepEqual(parseTrustProxy(undefined), { ok: true, value: false });
        assert.deepEqual(parseTrustProxy("false"), { ok: true, value: false });
        assert.deepEqual(parseTrustProxy("1"), { ok: true, value: 1 });
        assert.deepEqual(parseTrustProxy("10.0.0.0/16, 10.1.0.5"), { ok: true, value: ["10.0.0.0/16", "10.1.0.5"] });
        assert.deepEqual(parseTrustProxy("fd00::/8"), { ok: true, value: ["fd00::/8"] });
    });
    it("refuses anything else, naming the variable", () => {
        for (const bad of ["true", "0", "11", "10.0.0.0/33", "example.com", "10.0.0.0/8/1", "::1/129"]) {
            const r = parseTrustProxy(bad);
            assert.equal(r.ok, false, bad);
            if (!r.ok) assert.match(r.problem, /^TRUST_PROXY: /);
        }
        assert.throws(
            () =>
                loadConfig({
                    UPSTREAM_URL: "http://127.0.0.1:1",
                    OIDC_ISSUER: "http://127.0.0.1:2",
                    AUDIENCE: "a",
                    TOKEN_VALIDATION: "jwt",
                    TRUST_PROXY: "yes",
                }),
            /TRUST_PROXY: "yes" is not an IP address or CIDR range/,
        );
    });
    it("trusts only peers inside the configured ranges (IPv4-mapped IPv6 included), every peer for a hop count, none when off", () => {
        const vpc = trustedPeerPredicate(["10.0.0.0/16"]);
        assert.equal(vpc("10.0.3.4"), true);
        assert.equal(vpc("::ffff:10.0.3.4"), true);
        assert.equal(vpc("10.1.0.1"), false);
        assert.equal(vpc("203.0.113.7"), false);
        assert.equal(vpc(undefined), false);
        assert.equal(trustedPeerPredicate(1)("203.0.113.7"), true);
        assert.equal(trustedPeerPredicate(false)("10.0.3.4"), false);
    });
});

/** The request line's fields of the last log line for a request with this id. */
function logged(g: GatewayUnderTest, reqId: string): Record<string, unknown> {
    const line = g.logs
        .join("")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .findLast((l) => l.reqId === reqId && l.msg === "request");
    assert.ok(line, `a log line for ${reqId}`);
    return line;
}

for (const trusted of [false, true]) {
    describe(`the gateway with ${trusted ? "its loopback peer trusted (TRUST_PROXY=127.0.0.1)" : "no trusted proxy (default)"}`, () => {
        let g: GatewayUnderTest;
        let token: string;
        before(async () => {
            g = await startGatewayUnderTest({ env: trusted ? { TRUST_PROXY: "127.0.0.1" } : {} });
            token = await g.okta.token(CLIENTS.productsWeb, "myscope");
        });
        after(() => g.stop());

        it(
            trusted
                ? "extends the proxy's chain, keeps its https, and logs the client's address"
                : "replaces a client's X-Forwarded-* and logs the peer's address",
            async () => {
                const headers = {
                    authorization: `Bearer ${token}`,
                    "x-request-id": `xff-${trusted}`,
                    "x-forwarded-for": "203.0.113.7",
                    "x-forwarded-proto": "https",
                    "x-forwarded-host": "api.example.com",
                };
                const r = await send(g.url, "/api/products", { headers });
                assert.equal(r.status, 200, r.body);
                const seen = g.upstream.received.at(-1)!.headers;
                assert.equal(seen["x-forwarded-for"], trusted ? "203.0.113.7, 127.0.0.1" : "127.0.0.1");
                assert.equal(seen["x-forwarded-proto"], trusted ? "https" : "http");
                // Never a client's X-Forwarded-Host, trusted peer or not: the load balancer sends none.
                assert.equal(seen["x-forwarded-host"], `127.0.0.1:${new URL(g.url).port}`);
                assert.equal(logged(g, `xff-${trusted}`).clientIp, trusted ? "203.0.113.7" : "127.0.0.1");
            },
        );
        if (trusted)
            it("drops X-Forwarded-For entries that are not IP addresses: never the client address, a budget's key, logged or forwarded", async () => {
                const headers = {
                    authorization: `Bearer ${token}`,
                    "x-request-id": "xff-junk",
                    "x-forwarded-for": "203.0.113.9, <script>, evil.example, 10.0.0.1:80",
                };
                const r = await send(g.url, "/api/products", { headers });
                assert.equal(r.status, 200, r.body);
                assert.equal(g.upstream.received.at(-1)!.headers["x-forwarded-for"], "203.0.113.9, 127.0.0.1");
                assert.equal(logged(g, "xff-junk").clientIp, "203.0.113.9");
                const junkOnly = await send(g.url, "/api/products", {
                    headers: { ...headers, "x-request-id": "xff-junk-only", "x-forwarded-for": "not-an-ip" },
                });
                assert.equal(junkOnly.status, 200);
                assert.equal(logged(g, "xff-junk-only").clientIp, "127.0.0.1", "the peer's own address, not the junk");
                assert.ok(!g.logs.join("").includes("<script>"));
            });
    });
}
