// The gateway end to end on loopback, against a real OAuth 2.0 server (oidc-provider laid out like
// Okta) and a recording upstream: the MuleSoft walkthrough, every refusal, caching and coalescing,
// revocation within the cache window, operations. Other modes: modes.test.ts; failures around
// the gateway: resilience.test.ts.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { bearer, CLIENTS, INTROSPECTION_CLIENT, send, sleep, startGatewayUnderTest, type GatewayUnderTest } from "../support/gatewayHarness";

const ROUTE_RULES = JSON.stringify([
    { path: "/admin/**", scopes: ["admin"] },
    { path: "/products/**", methods: ["GET"], scopes: ["products:read"] },
]);

describe("gateway, introspection mode (the MuleSoft walkthrough)", () => {
    let g: GatewayUnderTest;
    let token: string;
    before(async () => {
        g = await startGatewayUnderTest({ env: { ROUTE_RULES } });
        token = await g.okta.token(CLIENTS.productsWeb, "myscope products:read");
    });
    after(() => g.stop());

    /** Asserts the upstream received nothing while `fn` ran. */
    async function nothingForwarded<T>(fn: () => Promise<T>): Promise<T> {
        const before = g.upstream.received.length;
        const r = await fn();
        assert.equal(g.upstream.received.length, before, "the upstream must not see this request");
        return r;
    }

    it("serves the issuer metadata at Okta's path", async () => {
        const md = (await (await fetch(g.okta.metadataUrl)).json()) as Record<string, string>;
        assert.equal(md.issuer, g.okta.issuer);
        assert.equal(md.token_endpoint, `${g.okta.issuer}/v1/token`);
        assert.equal(md.introspection_endpoint, `${g.okta.issuer}/v1/introspect`);
    });

    it("answers 400 'Access token was not provided' without a token", async () => {
        const r = await nothingForwarded(() => send(g.url, "/api/products"));
        assert.equal(r.status, 400);
        assert.deepEqual(JSON.parse(r.body), { error: "Access token was not provided" });
    });

    it("forwards a request with the Bearer header, with identity headers for the upstream", async () => {
        const r = await send(g.url, "/api/products?page=2", { headers: { ...bearer(token), "x-request-id": "seed-1" } });
        assert.equal(r.status, 200, r.body);
        assert.equal(r.headers["x-request-id"], "seed-1");
        const seen = g.upstream.received.at(-1)!;
        assert.equal(seen.url, "/api/products?page=2");
        assert.equal(seen.headers["x-auth-client-id"], CLIENTS.productsWeb.clientId);
        // oidc-provider's introspection carries no `sub` for client credentials (Okta's does): nothing is invented.
        assert.equal(seen.headers["x-auth-subject"], undefined);
        assert.deepEqual(String(seen.headers["x-auth-scopes"]).split(" ").sort(), ["myscope", "products:read"]);
        assert.equal(seen.headers["x-forwarded-for"], "127.0.0.1");
        assert.equal(seen.headers["x-forwarded-proto"], "http");
        assert.equal(seen.headers.authorization, `Bearer ${token}`, "kept unless HIDE_CREDENTIALS");
    });

    it("forwards a request with the access_token query parameter, and removes it from the upstream URL", async () => {
        const r = await send(g.url, `/api/products?a=1&access_token=${encodeURIComponent(token)}&b=2`);
        assert.equal(r.status, 200, r.body);
        assert.equal(g.upstream.received.at(-1)!.url, "/api/products?a=1&b=2");
    });

    it("refuses an unknown token with 401 invalid_token", async () => {
        const r = await nothingForwarded(() => send(g.url, "/api/products", { headers: bearer("not-a-real-token") }));
        assert.equal(r.status, 401);
        assert.equal(r.headers["www-authenticate"], 'Bearer error="invalid_token"');
        assert.deepEqual(JSON.parse(r.body), { error: "invalid_token" });
    });

    it("refuses a token without the route's scope with 403 insufficient_scope", async () => {
        const limited = await g.okta.token(CLIENTS.reporting, "products:read");
        const r = await nothingForwarded(() => send(g.url, "/api/orders", { headers: bearer(limited) }));
        assert.equal(r.status, 403);
        assert.equal(r.headers["www-authenticate"], 'Bearer error="insufficient_scope", scope="myscope"');
        const admin = await nothingForwarded(() => send(g.url, "/admin/users", { headers: bearer(token) }));
        assert.equal(admin.status, 403);
        assert.equal(admin.headers["www-authenticate"], 'Bearer error="insufficient_scope", scope="admin"');
        // The route rule for GET /products/** needs only products:read.
        assert.equal((await send(g.url, "/products/1", { headers: bearer(limited) })).status, 200);
    });

    it("applies route rules to the normalised path: no trick reaches /admin", async () => {
        for (const path of ["//admin/users", "/./admin/users", "/public/../admin/users", "/ADMIN/users", "/%61dmin/users", "/%2561dmin/users"]) {
            const r = await nothingForwarded(() => send(g.url, path, { headers: bearer(token) }));
            assert.equal(r.status, 403, `${path} → ${r.status}`);
        }
        const adminToken = await g.okta.token(CLIENTS.admin, "admin");
        const r = await send(g.url, "/public/..//admin/./users", { headers: bearer(adminToken) });
        assert.equal(r.status, 200);
        assert.equal(g.upstream.received.at(-1)!.url, "/admin/users", "the upstream sees the path the rule was matched on");
    });

    for (const [name, path, headers] of [
        ["a token sent both ways", "/api/x?access_token=abc", { authorization: "Bearer abc" }],
        ["two Authorization headers", "/api/x", { authorization: ["Bearer abc", "Bearer def"] }],
        ["a malformed Authorization header", "/api/x", { authorization: "Bearer a b" }],
        ["Basic instead of Bearer", "/api/x", { authorization: "Basic dXNlcjpwYXNz" }],
        ["a token over 8 KiB", "/api/x", { authorization: `Bearer ${"a".repeat(8193)}` }],
        ["an encoded slash", "/admin%2fusers", { authorization: "Bearer abc" }],
        ["a double-encoded slash", "/admin%252fusers", { authorization: "Bearer abc" }],
        ["a path above the root", "/../etc/passwd", { authorization: "Bearer abc" }],
        ["a ; path parameter", "/admin;x=1/users", { authorization: "Bearer abc" }],
        ["an encoded dot segment", "/public/%2e%2e/admin/users", { authorization: "Bearer abc" }],
    ] as const) {
        it(`refuses ${name} with 400, without asking the authorization server`, async () => {
            const introspections = g.okta.calls.introspect;
            const r = await nothingForwarded(() => send(g.url, path, { headers: headers as Record<string, string | string[]> }));
            assert.equal(r.status, 400, r.body);
            assert.equal(JSON.parse(r.body).error, "invalid_request");
            assert.equal(g.okta.calls.introspect, introspections);
        });
    }

    it("drops spoofed identity headers in every case and _ variant", async () => {
        const r = await send(g.url, "/api/whoami", {
            headers: { ...bearer(token), "X-Auth-Client-Id": "spoofed", x_auth_subject: "spoofed", "X-AUTH-SCOPES": "admin", "x-auth_role": "root" },
        });
        assert.equal(r.status, 200);
        const seen = g.upstream.received.at(-1)!;
        assert.equal(seen.headers["x-auth-client-id"], CLIENTS.productsWeb.clientId);
        assert.equal(seen.headers["x-auth-subject"], undefined, "the spoofed subject is gone");
        assert.ok(!String(seen.headers["x-auth-scopes"]).includes("admin"));
        assert.ok(
            !Object.keys(seen.headers).some(
                (h) => h.replace(/_/g, "-").startsWith("x-auth-") && !["x-auth-client-id", "x-auth-subject", "x-auth-scopes"].includes(h),
            ),
        );
    });

    it("streams a request body to the upstream", async () => {
        const body = JSON.stringify({ name: "Gadget", blob: "x".repeat(100_000) });
        const r = await send(g.url, "/api/products", { method: "POST", headers: { ...bearer(token), "content-type": "application/json" }, body });
        assert.equal(r.status, 200);
        assert.ok(g.upstream.received.at(-1)!.body === body, "the upstream received the body byte for byte");
    });

    it("introspects each token once per cache window, and concurrent first requests share one call", async () => {
        const fresh = await g.okta.token(CLIENTS.productsWeb, "myscope");
        const before = g.okta.calls.introspect;
        const answers = await Promise.all(Array.from({ length: 40 }, () => send(g.url, "/api/products", { headers: bearer(fresh) })));
        assert.ok(answers.every((a) => a.status === 200));
        for (let i = 0; i < 10; i++) assert.equal((await send(g.url, "/api/products", { headers: bearer(fresh) })).status, 200);
        assert.equal(g.okta.calls.introspect - before, 1, "one introspection for 50 requests");
    });

    it("exposes /healthz, /readyz and Prometheus /metrics on the admin port", async () => {
        assert.equal((await fetch(`${g.adminUrl}/healthz`)).status, 200);
        assert.equal((await fetch(`${g.adminUrl}/readyz`)).status, 200);
        const text = await (await fetch(`${g.adminUrl}/metrics`)).text();
        assert.match(text, /policy_gateway_decisions_total\{outcome="allowed"\} \d+/);
        assert.match(text, /policy_gateway_decisions_total\{outcome="invalid_token"\} \d+/);
        assert.match(text, /policy_gateway_token_cache_lookups_total\{result="positive_hit"\} \d+/);
        assert.match(text, /policy_gateway_coalesced_waits_total [1-9]/);
        assert.match(text, /policy_gateway_introspection_duration_seconds_count\{outcome="answer"\} [1-9]/);
    });

    it("logs one JSON line per request with a request id, and never a token or secret", async () => {
        await sleep(50);
        const lines = g.logs
            .join("")
            .trim()
            .split("\n")
            .map((l) => JSON.parse(l) as Record<string, unknown>);
        const requests = lines.filter((l) => l.msg === "request");
        assert.ok(requests.length > 10);
        assert.ok(requests.every((l) => typeof l.reqId === "string" && typeof l.status === "number"));
        const all = g.logs.join("");
        assert.ok(!all.includes(token), "no token in the logs");
        assert.ok(!all.includes(INTROSPECTION_CLIENT.clientSecret), "no secret in the logs");
        assert.ok(!/authorization/i.test(all), "no Authorization value in the logs");
        assert.ok(!all.includes("access_token="), "no query token in the logs");
    });
});

describe("gateway, revocation within the cache window", () => {
    let g: GatewayUnderTest;
    before(async () => {
        g = await startGatewayUnderTest({ env: { CACHE_MAX_TTL_SECONDS: "1" } });
    });
    after(() => g.stop());

    it("sees a revoked token refused once the window has passed", async () => {
        const token = await g.okta.token(CLIENTS.productsWeb, "myscope");
        assert.equal((await send(g.url, "/api", { headers: bearer(token) })).status, 200);
        assert.equal(await g.okta.revoke(CLIENTS.productsWeb, token), 200);
        assert.equal((await send(g.url, "/api", { headers: bearer(token) })).status, 200, "still cached inside the window");
        await sleep(1_200);
        assert.equal((await send(g.url, "/api", { headers: bearer(token) })).status, 401, "refused after the window");
    });
});
