// The gateway's pure decisions, without a server: extracting the token, normalising the path,
// matching route rules, reading scopes. Request shape and forwarding: request.test.ts, headers.test.ts.
import fc from "fast-check";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { extractToken, headerValues, MAX_TOKEN_LENGTH, queryValues } from "../../policy-gateway/src/request/extractToken";
import { normalizePath, segmentsOf } from "../../policy-gateway/src/request/normalizePath";
import { compileRules, matchesPattern, requirementFor } from "../../policy-gateway/src/decision/routeRules";
import { missingScopes, parseScopeList, parseScopes } from "../../policy-gateway/src/verification/scopes";
import { DRAINING, rateLimited } from "../../policy-gateway/src/decision/authorize";
import { tierPolicies } from "../../policy-gateway/src/limits/rateLimitPlan";

describe("extractToken", () => {
    it("takes a Bearer header, scheme in any case", () => {
        assert.deepEqual(extractToken(["Bearer abc.def-ghi"], []), { ok: true, token: "abc.def-ghi", source: "header" });
        assert.deepEqual(extractToken(["bEaReR   x+y/z=="], []), { ok: true, token: "x+y/z==", source: "header" });
    });
    it("takes the access_token query parameter", () => {
        assert.deepEqual(extractToken([], ["tok"]), { ok: true, token: "tok", source: "query" });
    });
    it("answers MuleSoft's 400 when there is no token", () => {
        assert.deepEqual(extractToken([], []), { ok: false, status: 400, body: { error: "Access token was not provided" } });
    });
    for (const [name, auth, query] of [
        ["a token sent both ways", ["Bearer a"], ["a"]],
        ["two Authorization headers", ["Bearer a", "Bearer b"], []],
        ["two access_token parameters", [], ["a", "b"]],
        ["Basic instead of Bearer", ["Basic dXNlcjpwYXNz"], []],
        ["a bare token without scheme", ["abc"], []],
        ["Bearer without token", ["Bearer "], []],
        ["a token with spaces", ["Bearer a b"], []],
        ["a token with a quote", ['Bearer a"b'], []],
        ["an empty query token", [], [""]],
        ["a token over 8 KiB", [`Bearer ${"a".repeat(MAX_TOKEN_LENGTH + 1)}`], []],
        ["a query token over 8 KiB", [], ["a".repeat(MAX_TOKEN_LENGTH + 1)]],
    ] as const) {
        it(`refuses ${name} with 400 invalid_request`, () => {
            const r = extractToken(auth, query);
            assert.equal(r.ok, false);
            assert.ok(!r.ok && r.status === 400 && r.body.error === "invalid_request");
        });
    }
    it("accepts a token of exactly 8 KiB", () => {
        assert.equal(extractToken([`Bearer ${"a".repeat(MAX_TOKEN_LENGTH)}`], []).ok, true);
    });
    it("reads repeated headers and query parameters", () => {
        assert.deepEqual(headerValues(["Authorization", "Bearer a", "host", "h", "AUTHORIZATION", "Bearer b"], "authorization"), ["Bearer a", "Bearer b"]);
        assert.deepEqual(queryValues("a=1&access_token=x&access%5Ftoken=y&b=2", "access_token"), ["x", "y"]);
        assert.deepEqual(queryValues("access_token=a%2Bb+c", "access_token"), ["a+b c"]);
    });
    it("never throws, and accepts only a single well-formed token (property)", () => {
        fc.assert(
            fc.property(fc.array(fc.string(), { maxLength: 3 }), fc.array(fc.string(), { maxLength: 3 }), (auth, query) => {
                const r = extractToken(auth, query);
                if (r.ok) {
                    assert.equal(auth.length + query.length, 1);
                    assert.ok(r.token.length > 0 && r.token.length <= MAX_TOKEN_LENGTH);
                    assert.match(r.token, /^[A-Za-z0-9\-._~+/]+=*$/);
                } else assert.equal(r.status, 400);
            }),
        );
    });
});

describe("normalizePath", () => {
    const ok = (target: string) => {
        const r = normalizePath(target);
        assert.ok(r.ok, `refused ${target}: ${!r.ok ? r.reason : ""}`);
        return r.path;
    };
    const refused = (target: string) => assert.equal(normalizePath(target).ok, false, `accepted ${target}`);

    it("collapses duplicate slashes and dot segments, as the upstream would", () => {
        assert.equal(ok("//admin//users"), "/admin/users");
        assert.equal(ok("/public/../admin"), "/admin");
        assert.equal(ok("/./admin/./x"), "/admin/x");
        assert.equal(ok("/a/b/.."), "/a/");
        assert.equal(ok("/admin/"), "/admin/");
        assert.equal(ok("/"), "/");
    });
    it("decodes once: %2e%2e is a dot-dot segment, %41 is A", () => {
        assert.equal(ok("/public/%2e%2e/admin"), "/admin");
        assert.equal(ok("/public/%2E%2E/admin"), "/admin");
        assert.equal(ok("/%41dmin"), "/Admin");
        assert.equal(ok("/caf%C3%A9"), "/caf%C3%A9");
        assert.equal(ok("/a%20b"), "/a%20b");
    });
    it("keeps the query apart", () => {
        assert.deepEqual(normalizePath("/a//b?x=1&y=/../"), { ok: true, path: "/a/b", query: "x=1&y=/../" });
    });
    for (const target of [
        "/admin%2fusers",
        "/admin%2Fusers",
        "/a%5cb",
        "/%252f",
        "/a%252e%252e/b",
        "/..",
        "/a/../..",
        "/%2e%2e/x",
        "/a;jsessionid=1/b",
        "/admin;/x",
        "/a\\b",
        "/a%00b",
        "/bad%zz",
        "admin",
        "http://evil/admin",
        "*",
    ]) {
        it(`refuses ${JSON.stringify(target)}`, () => refused(target));
    }
    it("never throws, and what it accepts is already normal (property)", () => {
        const segment = fc.oneof(
            fc.constantFrom("", ".", "..", "%2e", "%2E%2e", "%2f", "%252f", "a", "A", "admin", ";x", "%41", "%", "%zz", "%c3%a9"),
            fc.string({ maxLength: 4 }),
        );
        fc.assert(
            fc.property(fc.array(segment, { maxLength: 8 }), (segments) => {
                const r = normalizePath("/" + segments.join("/"));
                if (!r.ok) return;
                assert.ok(r.path.startsWith("/"));
                assert.ok(!r.path.includes("//"), r.path);
                const again = normalizePath(r.path);
                assert.ok(again.ok && again.path === r.path, `not idempotent: ${r.path}`);
                for (const s of segmentsOf(r.path)) assert.ok(s !== "." && s !== ".." && !s.includes("/"), `segment ${s}`);
            }),
            { numRuns: 2000 },
        );
    });
});

describe("route rules", () => {
    const rules = compileRules([
        { path: "/admin/**", scopes: ["admin"] },
        { path: "/products/*/reviews", methods: ["POST"], scopes: ["reviews:write"] },
        { path: "/products/**", methods: ["GET"], scopes: ["products:read", "products:admin"], match: "any" },
        { path: "/health", scopes: [] },
    ]);
    const defaults = { scopes: ["myscope"], match: "all" as const };
    const req = (method: string, path: string) => requirementFor(rules, method, path, defaults);

    it("lets the first matching rule decide, by method and path", () => {
        assert.deepEqual(req("GET", "/admin/users").scopes, ["admin"]);
        assert.deepEqual(req("POST", "/products/42/reviews").scopes, ["reviews:write"]);
        assert.deepEqual(req("GET", "/products/42/reviews").scopes, ["products:read", "products:admin"]);
        assert.equal(req("GET", "/products/42").match, "any");
        assert.deepEqual(req("GET", "/health").scopes, []);
    });
    it("uses REQUIRED_SCOPES when no rule matches", () => {
        assert.deepEqual(req("DELETE", "/products/42"), { scopes: ["myscope"], match: "all" });
        assert.deepEqual(req("GET", "/other"), { scopes: ["myscope"], match: "all" });
    });
    it("matches ** against the bare prefix too, and case-insensitively", () => {
        assert.deepEqual(req("GET", "/admin").scopes, ["admin"]);
        assert.deepEqual(req("GET", "/ADMIN/Users").scopes, ["admin"]);
        assert.deepEqual(req("HEAD", "/products/1").scopes, ["products:read", "products:admin"], "HEAD follows GET rules");
    });
    it("* is exactly one non-empty segment", () => {
        assert.equal(matchesPattern(["products", "*", "reviews"], ["products", "1", "reviews"]), true);
        assert.equal(matchesPattern(["products", "*", "reviews"], ["products", "reviews"]), false);
        assert.equal(matchesPattern(["products", "*"], ["products", ""]), false);
        assert.equal(matchesPattern(["products", "*"], ["products", "1", "2"]), false);
    });
    for (const [bad, what] of [
        [{ path: "admin", scopes: [] }, /ROUTE_RULES\[0\]\.path/],
        [{ path: "/a/**/b", scopes: [] }, /'\*\*' may only end a path/],
        [{ path: "/a*", scopes: [] }, /whole segment/],
        [{ path: "/a", scopes: "admin" }, /ROUTE_RULES\[0\]\.scopes/],
        [{ path: "/a", scopes: [], methods: [] }, /ROUTE_RULES\[0\]\.methods/],
        [{ path: "/a", scopes: [], match: "some" }, /ROUTE_RULES\[0\]\.match/],
        [{ path: "/a", scope: [] }, /unknown key 'scope'/],
        [{ path: "/a/../b", scopes: [] }, /normalised/],
    ] as const) {
        it(`refuses the rule ${JSON.stringify(bad)}`, () => assert.throws(() => compileRules([bad]), what));
    }
    it("refuses a ROUTE_RULES that is not an array", () => assert.throws(() => compileRules({}), /ROUTE_RULES: must be a JSON array/));

    it("no path trick reaches /admin without the admin rule (property)", () => {
        const trick = fc.constantFrom("", ".", "..", "%2e", "%2e%2e", "admin", "ADMIN", "Admin", "%61dmin", "public", "x", "%2f", ";", "%252f");
        fc.assert(
            fc.property(fc.array(trick, { maxLength: 6 }), fc.constantFrom("GET", "POST", "HEAD", "DELETE"), (segments, method) => {
                const n = normalizePath("/" + segments.join("/"));
                if (!n.ok) return; // refused: nothing forwarded
                const first = segmentsOf(n.path)[0]?.toLowerCase();
                if (first === "admin") assert.deepEqual(req(method, n.path).scopes, ["admin"], `${segments.join("/")} → ${n.path}`);
            }),
            { numRuns: 3000 },
        );
    });
});

describe("scopes", () => {
    it("reads a scope string and an scp array as whole words", () => {
        assert.deepEqual([...parseScopes("a b  c")], ["a", "b", "c"]);
        assert.deepEqual([...parseScopes(["a", "b", 3])], ["a", "b"]);
        assert.deepEqual([...parseScopes(undefined)], []);
        assert.deepEqual(parseScopeList("a, b c,,a"), ["a", "b", "c"]);
    });
    it("never matches a substring: superadmin is not admin", () => {
        assert.deepEqual(missingScopes(parseScopes("superadmin admins"), ["admin"], "all"), ["admin"]);
        assert.deepEqual(missingScopes(parseScopes(["products:read:all"]), ["products:read"], "any"), ["products:read"]);
    });
    it("all: every scope; any: at least one; none required: always met", () => {
        const granted = parseScopes("a b");
        assert.deepEqual(missingScopes(granted, ["a", "b"], "all"), []);
        assert.deepEqual(missingScopes(granted, ["a", "c"], "all"), ["c"]);
        assert.deepEqual(missingScopes(granted, ["c", "a"], "any"), []);
        assert.deepEqual(missingScopes(granted, ["c", "d"], "any"), ["c", "d"]);
        assert.deepEqual(missingScopes(new Set(), [], "all"), []);
    });
    it("is met exactly when the granted set covers the requirement (property)", () => {
        const word = fc.stringMatching(/^[a-z:]{1,6}$/);
        fc.assert(
            fc.property(fc.array(word, { maxLength: 5 }), fc.array(word, { maxLength: 4 }), (granted, required) => {
                const g = parseScopes(granted.join(" "));
                assert.equal(
                    missingScopes(g, required, "all").length === 0,
                    required.every((s) => granted.includes(s)),
                );
                assert.equal(missingScopes(g, required, "any").length === 0, required.length === 0 || required.some((s) => granted.includes(s)));
            }),
        );
    });
});

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
