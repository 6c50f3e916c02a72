// Unit tests of policy-gateway/src/config/load.ts: the gateway's configuration from its environment, named by variable. Pure, without a server.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PORTS } from "../../../policy-gateway/src/config/contract";
import { ConfigError, loadConfig } from "../../../policy-gateway/src/config/load";

describe("RATE_LIMIT_* variables", () => {
    const base = { UPSTREAM_URL: "http://127.0.0.1:1", OIDC_ISSUER: "http://127.0.0.1:2", AUDIENCE: "api://x", TOKEN_VALIDATION: "jwt" };
    const tiers = JSON.stringify({ tiers: { gold: { perSecond: 5 } }, defaultTier: "gold" });

    it("reads a shared store on loopback, and no limits without RATE_LIMITS", () => {
        const c = loadConfig({
            ...base,
            RATE_LIMITS: tiers,
            RATE_LIMIT_STORE: "shared",
            RATE_LIMIT_STORE_URL: "redis://127.0.0.1:6379",
            RATE_LIMIT_TASKS: "3",
        });
        assert.deepEqual(c.rateLimits?.store, { kind: "shared", url: "redis://127.0.0.1:6379", timeoutMs: 250 });
        assert.equal(c.rateLimits?.tasks, 3);
        assert.equal(loadConfig(base).rateLimits, undefined);
        assert.equal(loadConfig({ ...base, RATE_LIMITS: tiers }).rateLimits?.store.kind, "local");
    });

    it("names the variable and what was expected when it is wrong", () => {
        const problems = (env: Record<string, string>) => {
            try {
                loadConfig({ ...base, ...env });
                return "";
            } catch (e) {
                return (e as Error).message;
            }
        };
        assert.match(problems({ RATE_LIMITS: "{" }), /RATE_LIMITS: is not valid JSON/);
        assert.match(problems({ RATE_LIMITS: tiers, RATE_LIMIT_STORE: "shared" }), /RATE_LIMIT_STORE_URL: is required with RATE_LIMIT_STORE=shared/);
        assert.match(
            problems({ RATE_LIMITS: tiers, RATE_LIMIT_STORE: "shared", RATE_LIMIT_STORE_URL: "redis://cache.internal:6379" }),
            /RATE_LIMIT_STORE_URL: must use rediss:\/\/ \(TLS\)/,
        );
        assert.match(
            problems({ RATE_LIMITS: tiers, RATE_LIMIT_TASKS: "2" }),
            /RATE_LIMIT_TASKS: is 2 with RATE_LIMIT_STORE=local, which limits each task on its own/,
        );
        assert.match(problems({ RATE_LIMIT_STORE: "shared", RATE_LIMIT_STORE_URL: "rediss://c:6379" }), /RATE_LIMITS: is required/);
        assert.equal(problems({ RATE_LIMITS: tiers, RATE_LIMIT_STORE: "shared", RATE_LIMIT_STORE_URL: "rediss://cache.internal:6379" }), "");
    });
});

describe("gateway configuration", () => {
    const base = {
        UPSTREAM_URL: "http://127.0.0.1:3000",
        OIDC_ISSUER: "https://acme.okta.com/oauth2/aus1",
        AUDIENCE: "api://products",
        INTROSPECTION_CLIENT_ID: "0oa1",
        INTROSPECTION_CLIENT_SECRET: "s3cret-value",
    };
    const problems = (env: Record<string, string>) => {
        try {
            loadConfig(env);
        } catch (e) {
            assert.ok(e instanceof ConfigError);
            return e.problems;
        }
        return assert.fail("accepted");
    };
    it("applies the documented defaults", () => {
        const c = loadConfig(base);
        assert.equal(c.tokenValidation, "introspection");
        assert.equal(c.port, PORTS.traffic);
        assert.equal(c.adminPort, PORTS.admin);
        assert.equal(c.cache.maxTtlSeconds, 60);
        assert.equal(c.hideCredentials, false);
        assert.equal(c.identityHeaderPrefix, "X-Auth-");
        assert.deepEqual(
            c.apis.map((a) => [a.name, a.pathPrefix, a.requiredScopes]),
            [["default", "/", []]],
        );
    });
    it("names each missing required variable", () => {
        const p = problems({});
        for (const name of ["OIDC_ISSUER", "AUDIENCE"]) assert.ok(p.includes(`${name}: is required`), p.join("\n"));
        assert.ok(p.includes("UPSTREAM_URL: is required (the API behind the gateway), or declare APIS"), p.join("\n"));
        const q = problems({ ...base, INTROSPECTION_CLIENT_ID: "", INTROSPECTION_CLIENT_SECRET: "" });
        assert.ok(q.some((x) => x.startsWith("INTROSPECTION_CLIENT_ID: is required")));
        assert.ok(q.some((x) => x.startsWith("INTROSPECTION_CLIENT_SECRET: is required")));
    });
    it("needs no introspection client in jwt mode", () => {
        assert.equal(
            loadConfig({ ...base, TOKEN_VALIDATION: "jwt", INTROSPECTION_CLIENT_ID: "", INTROSPECTION_CLIENT_SECRET: "" }).introspectionClient,
            undefined,
        );
    });
    it("refuses an http issuer unless it is a loopback address", () => {
        assert.ok(problems({ ...base, OIDC_ISSUER: "http://acme.okta.com/oauth2/aus1" }).some((p) => p.startsWith("OIDC_ISSUER: must use https")));
        assert.equal(loadConfig({ ...base, OIDC_ISSUER: "http://127.0.0.1:9000/oauth2/aus1" }).issuer, "http://127.0.0.1:9000/oauth2/aus1");
        // Exactly as configured: an issuer that ends in "/" keeps it (issue 14; compared exactly, RFC 8414 §3.3).
        assert.equal(loadConfig({ ...base, OIDC_ISSUER: "http://localhost:9000/oauth2/aus1/" }).issuer, "http://localhost:9000/oauth2/aus1/");
    });
    it("names invalid values, without echoing a secret", () => {
        const p = problems({
            ...base,
            PORT: "http",
            TOKEN_VALIDATION: "maybe",
            HIDE_CREDENTIALS: "yes",
            ROUTE_RULES: "{not json",
            CACHE_MAX_TTL_SECONDS: "-1",
        });
        for (const name of ["PORT", "TOKEN_VALIDATION", "HIDE_CREDENTIALS", "CACHE_MAX_TTL_SECONDS"])
            assert.ok(
                p.some((x) => x.startsWith(`${name}: `)),
                `${name} in ${p.join("\n")}`,
            );
        const r = problems({ ...base, ROUTE_RULES: "{not json" });
        assert.deepEqual(r, ["ROUTE_RULES: is not valid JSON"]);
        assert.ok(
            !problems({ ...base, ROUTE_RULES: '[{"path":"x","scopes":[]}]' })
                .join()
                .includes(base.INTROSPECTION_CLIENT_SECRET),
        );
    });
    it("reads the secret and the rules from files, and names a file it cannot read", () => {
        const p = problems({
            ...base,
            INTROSPECTION_CLIENT_SECRET: "",
            INTROSPECTION_CLIENT_SECRET_FILE: "/nonexistent/secret",
            ROUTE_RULES_FILE: "/nonexistent/rules.json",
        });
        assert.ok(p.some((x) => x.startsWith("INTROSPECTION_CLIENT_SECRET_FILE: cannot read /nonexistent/secret")));
        assert.ok(p.some((x) => x.startsWith("ROUTE_RULES_FILE: cannot read")));
    });
    it("refuses the same port for traffic and admin", () => {
        assert.ok(problems({ ...base, PORT: "8080", ADMIN_PORT: "8080" }).includes("ADMIN_PORT: must differ from PORT"));
    });
});

describe("APIS: several APIs behind one gateway", () => {
    const base = { OIDC_ISSUER: "http://127.0.0.1:2", AUDIENCE: "api://x", TOKEN_VALIDATION: "jwt" };
    const products = { name: "products", pathPrefix: "/products", upstreamUrl: "http://127.0.0.1:3001/v1", requiredScopes: ["products:read"] };
    const orders = { name: "orders", pathPrefix: "/orders", stripPrefix: true, upstreamUrl: "http://127.0.0.1:3002", consumers: ["0oaA"] };
    const problems = (env: Record<string, string>): string[] => {
        try {
            loadConfig({ ...base, ...env });
            return [];
        } catch (e) {
            assert.ok(e instanceof ConfigError);
            return e.problems;
        }
    };

    it("loads each API with its route, upstream and policy, and the gateway's CORS policy unless it names its own origins", () => {
        const c = loadConfig({
            ...base,
            CORS_ALLOWED_ORIGINS: "https://app.example",
            APIS: JSON.stringify([products, { ...orders, corsAllowedOrigins: ["https://orders.example"] }]),
        });
        assert.deepEqual(
            c.apis.map((a) => [a.name, a.prefix, a.stripPrefix, a.upstreamUrl.href, a.requiredScopes, a.consumers && [...a.consumers], a.cors.origins]),
            [
                ["products", ["products"], false, "http://127.0.0.1:3001/v1", ["products:read"], undefined, ["https://app.example"]],
                ["orders", ["orders"], true, "http://127.0.0.1:3002/", [], ["0oaA"], ["https://orders.example"]],
            ],
        );
    });
    it("names what is wrong: the shorthand's settings beside APIS, a name or route used twice, a reserved name, neither", () => {
        const apis = (list: unknown[]) => ({ APIS: JSON.stringify(list) });
        assert.deepEqual(problems({ ...apis([products]), UPSTREAM_URL: "http://127.0.0.1:1", REQUIRED_SCOPES: "x", SCOPE_MATCH: "any" }), [
            "UPSTREAM_URL: applies to the one-API shorthand only: with APIS, set it on each API",
            "REQUIRED_SCOPES: applies to the one-API shorthand only: with APIS, set it on each API",
            "SCOPE_MATCH: applies to the one-API shorthand only: with APIS, set it on each API",
        ]);
        assert.deepEqual(problems(apis([products, { ...orders, name: "products" }])), ["APIS[1].name: 'products' is also the name of API [0]"]);
        assert.deepEqual(problems(apis([products, { ...orders, pathPrefix: "/PRODUCTS" }])), [
            "APIS[1].pathPrefix: /PRODUCTS on any host is also the route of API [0] (products): give one a longer prefix or its own hosts",
        ]);
        // The same prefix on hosts of its own is another route.
        assert.deepEqual(problems(apis([products, { ...orders, pathPrefix: "/products", hosts: ["partner.example"] }])), []);
        assert.match(problems(apis([{ ...orders, name: "none" }])).join("\n"), /APIS\[0\]\.name: 'none' is the label of requests that reach no API/);
        assert.match(problems(apis([{ ...orders, pathPrefix: "/orders/" }])).join("\n"), /APIS\[0\]\.pathPrefix: must be a path such as \/orders/);
        assert.match(problems(apis([{ ...orders, pathPrefix: "/a/../b" }])).join("\n"), /APIS\[0\]\.pathPrefix: must not contain '\.' or '\.\.'/);
        assert.match(problems(apis([{ ...orders, consumers: [] }])).join("\n"), /APIS\[0\]\.consumers: must name at least one consumer/);
        assert.match(problems(apis([{ ...orders, hosts: ["Orders.Example:443"] }])).join("\n"), /APIS\[0\]\.hosts\[0\]: must be host names in lower case/);
        assert.deepEqual(problems({}), ["UPSTREAM_URL: is required (the API behind the gateway), or declare APIS"]);
    });
});
