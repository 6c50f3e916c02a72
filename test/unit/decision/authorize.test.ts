// Unit tests of policy-gateway/src/decision/authorize.ts: the request path's decision: prepare, conclude, and the answers the gateway gives itself. Pure, without a server.
import { conclude, originForm, prepare } from "../../../policy-gateway/src/decision/authorize";
import { compileRules } from "../../../policy-gateway/src/decision/routeRules";
import { prefixSegments } from "../../../policy-gateway/src/decision/apiRouting";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DRAINING, rateLimited } from "../../../policy-gateway/src/decision/authorize";
import { tierPolicies } from "../../../policy-gateway/src/limits/rateLimitPlan";

describe("the answers the gateway gives itself before forwarding", () => {
    it("refuses while draining with 503, Retry-After and the OAuth error, labelled not_ready", () => {
        assert.deepEqual(DRAINING, {
            kind: "answer",
            status: 503,
            body: { error: "temporarily_unavailable" },
            headers: { "retry-after": "1" },
            outcome: "not_ready",
            reason: undefined,
        });
    });
    it("refuses a consumer over its tier with 429, the RateLimit fields, Retry-After, and the binding policy for the log", () => {
        const policies = tierPolicies("gold", { perSecond: 10, burst: 20, perMinute: 300 });
        const a = rateLimited({ tier: "gold", policies, binding: 1, remaining: 0, resetMs: 4_200, retryAfterMs: 1_500 });
        assert.equal(a.status, 429);
        assert.deepEqual(a.body, { error: "too_many_requests", error_description: "rate limit of tier gold exceeded" });
        assert.equal(a.outcome, "rate_limited");
        assert.equal(a.reason, "gold-per-minute");
        assert.equal(a.headers["retry-after"], "2");
        assert.equal(a.headers["ratelimit-policy"], '"gold-per-second";q=20;w=2, "gold-per-minute";q=300;w=60');
        assert.match(a.headers.ratelimit, /^"gold-per-minute";r=0;t=\d+$/);
    });
});

describe("authorize: the request path's decision", () => {
    const api = {
        name: "default",
        prefix: [],
        routeRules: compileRules([{ path: "/admin/**", scopes: ["admin"] }]),
        requiredScopes: ["myscope"],
        scopeMatch: "all" as const,
        cors: {
            origins: ["https://app.example"],
            methods: ["GET", "HEAD", "POST", "DELETE"],
            headers: ["authorization", "content-type"],
            exposedHeaders: ["X-Request-Id"],
            credentials: false,
            maxAgeSeconds: 600,
        },
    };
    const cfg = { apis: [api], methodOverride: "strip" as const };
    const facts = (method: string, target: string, headers: string[] = []) => ({ method, target, rawHeaders: ["Host", "gw.example", ...headers] });
    const bearer = ["Authorization", "Bearer abc.def"];

    it("answers at once what needs no token check: bad Host, TRACE, not ready, a bad path, a missing or malformed token", () => {
        const a = (r: ReturnType<typeof prepare>) =>
            r.kind === "answer" ? [r.status, r.outcome, r.headers["www-authenticate"] ?? r.headers.allow ?? r.headers["retry-after"] ?? ""] : r.kind;
        assert.deepEqual(a(prepare({ method: "GET", target: "/", rawHeaders: ["Host", "a", "Host", "b"] }, cfg, true)), [400, "bad_request", ""]);
        assert.deepEqual(a(prepare(facts("TRACE", "/"), cfg, true)), [405, "bad_request", "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"]);
        assert.deepEqual(a(prepare(facts("GET", "/", bearer), cfg, false)), [503, "not_ready", "1"]);
        assert.deepEqual(a(prepare(facts("GET", "/a%2fb", bearer), cfg, true)), [400, "bad_request", ""]);
        assert.deepEqual(a(prepare(facts("GET", "/a"), cfg, true)), [400, "no_token", "Bearer"]);
        assert.deepEqual(a(prepare(facts("GET", "/a", ["Authorization", "Basic eA=="]), cfg, true)), [400, "bad_request", 'Bearer error="invalid_request"']);
    });
    it("reduces an absolute-form target to origin-form and takes its authority as the host", () => {
        const r = prepare(facts("GET", "http://other.example:8080/x/../a?q=1", bearer), cfg, true);
        assert.ok(r.kind === "verify");
        assert.deepEqual([r.path, r.query, r.host], ["/a", "q=1", "other.example:8080"]);
        assert.equal(originForm("https://h")?.target, "/");
        assert.equal(originForm("ftp://h/x"), undefined);
        assert.equal(originForm("*"), undefined);
    });
    it("answers a real preflight itself with the CORS policy, never forwarding it; says when the token came in the query", () => {
        const preflight = (origin: string, method: string, headers = "") =>
            prepare(
                facts("OPTIONS", "/admin/x", ["Origin", origin, "Access-Control-Request-Method", method, "Access-Control-Request-Headers", headers]),
                cfg,
                true,
            );
        const ok = preflight("https://app.example", "DELETE", "Authorization, Content-Type");
        assert.ok(ok.kind === "answer" && ok.status === 204 && ok.outcome === "preflight");
        assert.deepEqual(ok.headers, {
            "access-control-allow-origin": "https://app.example",
            vary: "Origin",
            "access-control-allow-methods": "GET, HEAD, POST, DELETE",
            "access-control-allow-headers": "authorization, content-type",
            "access-control-max-age": "600",
        });
        for (const [origin, method, headers, reason] of [
            ["https://evil.example", "DELETE", "", /origin https:\/\/evil\.example not allowed/],
            ["https://app.example", "PATCH", "", /method PATCH not allowed/],
            ["https://app.example", "GET", "x-secret", /request header x-secret not allowed/],
        ] as const) {
            const no = preflight(origin, method, headers);
            assert.ok(no.kind === "answer" && no.status === 204, "answered, never forwarded");
            assert.equal(no.headers["access-control-allow-origin"], undefined);
            assert.match(no.reason ?? "", reason);
        }
        // Without a CORS policy a preflight is an OPTIONS like any other: it needs a token.
        const none = prepare(
            facts("OPTIONS", "/admin/x", ["Origin", "https://app.example", "Access-Control-Request-Method", "GET"]),
            { ...cfg, apis: [{ ...api, cors: { ...api.cors, origins: [] } }] },
            true,
        );
        assert.ok(none.kind === "answer" && none.status === 400 && none.outcome === "no_token");
        const q = prepare(facts("GET", "/a?access_token=abc"), cfg, true);
        assert.ok(q.kind === "verify" && q.tokenInQuery);
    });
    it("turns each verdict into its answer, and a valid token into a forward or a 403 by the route's scopes", () => {
        const pending = prepare(facts("GET", "/admin/users", bearer), cfg, true);
        assert.ok(pending.kind === "verify");
        const status = (v: Parameters<typeof conclude>[1]) => {
            const r = conclude(pending, v);
            return r.kind === "answer" ? r.status : 200;
        };
        assert.equal(status({ kind: "invalid", reason: "x" }), 401);
        assert.equal(status({ kind: "unavailable", reason: "x", retryAfterSeconds: 3 }), 503);
        assert.equal(status({ kind: "throttled", retryAfterSeconds: 3 }), 429);
        assert.equal(status({ kind: "valid", info: { scopes: new Set(["myscope"]) } }), 403);
        assert.equal(status({ kind: "valid", info: { scopes: new Set(["admin"]) } }), 200);
    });
});

describe("authorize: several APIs behind one gateway", () => {
    const noCors = { origins: [], methods: ["GET"], headers: ["authorization"], exposedHeaders: [], credentials: false, maxAgeSeconds: 600 };
    const products = {
        name: "products",
        prefix: prefixSegments("/products"),
        routeRules: compileRules([{ path: "/products/**", methods: ["POST"], scopes: ["products:write"] }]),
        requiredScopes: ["products:read"],
        scopeMatch: "all" as const,
        cors: { ...noCors, origins: ["https://shop.example"] },
    };
    const orders = {
        name: "orders",
        prefix: prefixSegments("/orders"),
        routeRules: [],
        requiredScopes: ["orders:read"],
        scopeMatch: "all" as const,
        cors: noCors,
        consumers: new Set(["0oaOrdersClient"]),
    };
    const cfg = { apis: [products, orders], methodOverride: "strip" as const };
    const get = (target: string, headers: string[] = ["Authorization", "Bearer abc.def"]) =>
        prepare({ method: "GET", target, rawHeaders: ["Host", "gw.example", ...headers] }, cfg, true);

    it("answers 404 in its own JSON for a path no API serves, before asking for a token", () => {
        for (const target of ["/", "/product", "/ordersx/1"]) {
            const r = get(target, []);
            assert.ok(r.kind === "answer", target);
            assert.deepEqual([r.status, r.body.error, r.outcome, r.api], [404, "not_found", "no_api", undefined]);
        }
    });
    it("holds each request to its own API's scopes, and names the API in every answer", () => {
        const p = get("/products/1");
        const o = get("/orders/1");
        assert.ok(p.kind === "verify" && o.kind === "verify");
        assert.equal(p.api.name, "products");
        const verdict = (clientId: string, scopes: string[]) => ({ kind: "valid" as const, info: { clientId, scopes: new Set(scopes) } });
        // A token for orders does not open products, nor the other way round.
        const refused = conclude(p, verdict("0oaOrdersClient", ["orders:read"]));
        assert.ok(refused.kind === "answer");
        assert.deepEqual([refused.status, refused.body.scope, refused.api], [403, "products:read", "products"]);
        assert.equal(conclude(o, verdict("0oaOrdersClient", ["orders:read"])).kind, "forward");
        const noToken = get("/orders/1", []);
        assert.ok(noToken.kind === "answer" && noToken.api === "orders");
    });
    it("refuses with 403 a valid token of a client the API does not list, whatever its scopes", () => {
        const o = get("/orders/1");
        assert.ok(o.kind === "verify");
        const r = conclude(o, { kind: "valid", info: { clientId: "0oaReporting", scopes: new Set(["orders:read"]) } });
        assert.ok(r.kind === "answer");
        assert.deepEqual([r.status, r.body.error, r.outcome, r.headers["www-authenticate"]], [403, "access_denied", "not_a_consumer", undefined]);
        assert.match(r.body.error_description, /not a consumer of API orders/);
        // Products lists no consumers: any client with the scopes.
        const p = get("/products/1");
        assert.ok(p.kind === "verify");
        assert.equal(conclude(p, { kind: "valid", info: { clientId: "0oaReporting", scopes: new Set(["products:read"]) } }).kind, "forward");
    });
    it("answers each API's preflights with its own CORS policy", () => {
        const preflight = (target: string) =>
            prepare(
                { method: "OPTIONS", target, rawHeaders: ["Host", "gw.example", "Origin", "https://shop.example", "Access-Control-Request-Method", "GET"] },
                cfg,
                true,
            );
        const p = preflight("/products/1");
        assert.ok(p.kind === "answer" && p.outcome === "preflight" && p.headers["access-control-allow-origin"] === "https://shop.example");
        // Orders has no CORS policy: the preflight is an OPTIONS like any other, and needs a token.
        const o = preflight("/orders/1");
        assert.ok(o.kind === "answer" && o.outcome === "no_token");
    });
    it("refuses a path whose second decoding would be another API's", () => {
        const r = get("/%256frders/1");
        assert.ok(r.kind === "answer");
        assert.equal(r.status, 400);
        assert.match(r.body.error_description, /more than one API \(none, orders\)/);
    });
});
