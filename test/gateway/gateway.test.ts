// The gateway end to end on loopback, against a real OAuth 2.0 server (oidc-provider laid out like
// Okta) and a recording upstream: the MuleSoft walkthrough, every refusal, caching and coalescing,
// revocation within the cache window, an outage, 429 back-off, upstream failures, operations.
import { generateKeyPair, SignJWT } from "jose";
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { AUDIENCE, CLIENTS, INTROSPECTION_CLIENT, send, startGatewayUnderTest, type GatewayUnderTest } from "../support/gatewayHarness";

const ROUTE_RULES = JSON.stringify([
    { path: "/admin/**", scopes: ["admin"] },
    { path: "/products/**", methods: ["GET"], scopes: ["products:read"] },
]);
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A well-formed Okta-style access token for products-web, signed by a key the server never published. */
async function foreignToken(issuer: string, jti: string): Promise<string> {
    const { privateKey } = await generateKeyPair("RS256");
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ scp: ["myscope"], cid: CLIENTS.productsWeb.clientId })
        .setProtectedHeader({ alg: "RS256", kid: "not-in-the-jwks" })
        .setIssuer(issuer)
        .setAudience(AUDIENCE)
        .setIssuedAt(now)
        .setExpirationTime(now + 300)
        .setJti(jti)
        .sign(privateKey);
}

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
        for (const path of ["//admin/users", "/./admin/users", "/public/../admin/users", "/public/%2e%2e/admin/users", "/ADMIN/users", "/%61dmin/users"]) {
            const r = await nothingForwarded(() => send(g.url, path, { headers: bearer(token) }));
            assert.equal(r.status, 403, `${path} → ${r.status}`);
        }
        const adminToken = await g.okta.token(CLIENTS.admin, "admin");
        const r = await send(g.url, "/public/%2e%2e//admin/./users", { headers: bearer(adminToken) });
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

describe("gateway, hybrid mode (JWT checked locally, introspection once per window)", () => {
    let g: GatewayUnderTest;
    before(async () => {
        g = await startGatewayUnderTest({ env: { TOKEN_VALIDATION: "hybrid", CACHE_MAX_TTL_SECONDS: "1" }, okta: { accessTokenFormat: "jwt" } });
    });
    after(() => g.stop());

    it("introspects a JWT once per window, and refuses it after revocation once the window has passed", async () => {
        const token = await g.okta.token(CLIENTS.productsWeb, "myscope");
        assert.equal(token.split(".").length, 3);
        const introspectedBefore = g.okta.calls.introspect;
        for (let i = 0; i < 5; i++) assert.equal((await send(g.url, "/api", { headers: bearer(token) })).status, 200);
        assert.equal(g.okta.calls.introspect - introspectedBefore, 1, "five requests inside one window, one introspection");
        assert.equal(g.upstream.received.at(-1)!.headers["x-auth-client-id"], CLIENTS.productsWeb.clientId);

        assert.equal(await g.okta.revoke(CLIENTS.reporting, token), 200, "another client's revocation is answered 200 (RFC 7009) ...");
        await sleep(1_200);
        assert.equal((await send(g.url, "/api", { headers: bearer(token) })).status, 200, "... and has no effect");

        assert.equal(await g.okta.revoke(CLIENTS.productsWeb, token), 200);
        assert.equal((await send(g.url, "/api", { headers: bearer(token) })).status, 200, "still inside the window");
        await sleep(1_200);
        const refused = await send(g.url, "/api", { headers: bearer(token) });
        assert.equal(refused.status, 401, "the signature is still good, but the server says revoked");
        assert.match(String(refused.headers["www-authenticate"]), /invalid_token/);
    });

    it("never asks the server about a JWT that fails the local checks", async () => {
        const forged = await foreignToken(g.okta.issuer, "forged-hybrid");
        const introspectedBefore = g.okta.calls.introspect;
        assert.equal((await send(g.url, "/api", { headers: bearer(forged) })).status, 401);
        assert.equal(g.okta.calls.introspect, introspectedBefore);
    });
});

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
            env: { UPSTREAM_TIMEOUT_MS: "300", HIDE_CREDENTIALS: "true", IDENTITY_HEADER_PREFIX: "X-Caller-", CORS_PREFLIGHT_PASSTHROUGH: "true" },
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

    it("passes CORS preflights through without a token when enabled, and nothing else", async () => {
        const preflight = await send(g.url, "/api/products", {
            method: "OPTIONS",
            headers: { origin: "https://app.example", "access-control-request-method": "POST", "x-caller-client-id": "spoofed" },
        });
        assert.equal(preflight.status, 200);
        const seen = g.upstream.received.at(-1)!;
        assert.equal(seen.method, "OPTIONS");
        assert.equal(seen.headers["x-caller-client-id"], undefined, "no identity, spoofed or not, on a preflight");
        const plainOptions = await send(g.url, "/api/products", { method: "OPTIONS" });
        assert.equal(plainOptions.status, 400, "an OPTIONS that is not a preflight still needs a token");
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

describe("gateway, jwt mode", () => {
    let g: GatewayUnderTest;
    before(async () => {
        g = await startGatewayUnderTest({ env: { TOKEN_VALIDATION: "jwt" }, okta: { accessTokenFormat: "jwt" } });
    });
    after(() => g.stop());

    it("validates Okta-style RS256 access tokens locally, with scp scopes, without introspection", async () => {
        const token = await g.okta.token(CLIENTS.productsWeb, "myscope");
        assert.equal(token.split(".").length, 3);
        const r = await send(g.url, "/api", { headers: bearer(token) });
        assert.equal(r.status, 200, r.body);
        assert.equal(g.upstream.received.at(-1)!.headers["x-auth-client-id"], CLIENTS.productsWeb.clientId);
        assert.equal(g.upstream.received.at(-1)!.headers["x-auth-subject"], CLIENTS.productsWeb.clientId, "the JWT's sub");
        const limited = await g.okta.token(CLIENTS.reporting, "products:read");
        assert.equal((await send(g.url, "/api", { headers: bearer(limited) })).status, 403);
        assert.equal(g.okta.calls.introspect, 0);
    });

    it("refuses a token with an unknown kid after at most one bounded JWKS refetch", async () => {
        const keysBefore = g.okta.calls.keys;
        for (let i = 0; i < 5; i++) {
            // Five distinct tokens, so no verdict cache can answer in the JWKS's place.
            const foreign = await foreignToken(g.okta.issuer, `foreign-${i}`);
            assert.equal((await send(g.url, "/api", { headers: bearer(foreign) })).status, 401);
        }
        assert.ok(g.okta.calls.keys - keysBefore <= 1, `JWKS fetched ${g.okta.calls.keys - keysBefore} times`);
    });

    it("refuses a token whose signature does not verify", async () => {
        const token = await g.okta.token(CLIENTS.productsWeb, "myscope");
        const [h, p] = token.split(".");
        const claims = JSON.parse(Buffer.from(p, "base64url").toString()) as Record<string, unknown>;
        const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, scp: ["myscope", "admin"] })).toString("base64url")}.${token.split(".")[2]}`;
        assert.equal((await send(g.url, "/api", { headers: bearer(forged) })).status, 401);
    });
});

describe("gateway audience", () => {
    it("refuses an active token whose audience is another API's", async () => {
        const g = await startGatewayUnderTest({ env: { AUDIENCE: "api://other" } });
        try {
            const token = await g.okta.token(CLIENTS.productsWeb, "myscope");
            assert.equal((await send(g.url, "/api", { headers: bearer(token) })).status, 401);
            assert.equal(AUDIENCE, "api://products");
        } finally {
            await g.stop();
        }
    });
});
