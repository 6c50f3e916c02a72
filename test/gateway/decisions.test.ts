// The gateway's pure decisions, without a server: token extraction, path normalisation, route
// rules, scope checks and forwarded headers. Properties (fast-check) for the invariants that keep
// the API safe whatever the input.
import fc from "fast-check";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { extractToken, headerValues, MAX_TOKEN_LENGTH, queryValues } from "../../policy-gateway/src/extractToken";
import { canonicalHeaderName, forwardHeaders, forwardQuery } from "../../policy-gateway/src/forwardHeaders";
import { normalizePath, segmentsOf } from "../../policy-gateway/src/normalizePath";
import { compileRules, foldSegment, matchesPattern, matchSegments, requirementFor, requirementsFor } from "../../policy-gateway/src/routeRules";
import { hostProblem, isCorsPreflight, overrideMethods } from "../../policy-gateway/src/requestShape";
import { conclude, originForm, prepare } from "../../policy-gateway/src/authorize";
import { privateCacheControl, responseHeaders } from "../../policy-gateway/src/responseHeaders";
import { missingScopes, parseScopeList, parseScopes } from "../../policy-gateway/src/scopes";

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

describe("forwarded headers", () => {
    const ctx = {
        identityPrefix: "X-Auth-",
        hideCredentials: false,
        identity: { clientId: "0oa1", subject: "0oa1", scopes: new Set(["a", "b"]) },
        peerIp: "127.0.0.1",
        trustedPeer: false,
        protocol: "http" as const,
        host: "api.local",
        stripMethodOverride: true,
    };
    it("drops every spoofed identity header, in any case and with _ for -", () => {
        const out = forwardHeaders(
            { "x-auth-client-id": "evil", X_AUTH_SUBJECT: "evil", "x-auth_scopes": "admin", "x-auth-anything": "x", accept: "json" },
            ctx,
        );
        assert.equal(out["x-auth-client-id"], "0oa1");
        assert.equal(out["x-auth-subject"], "0oa1");
        assert.equal(out["x-auth-scopes"], "a b");
        assert.equal(out["x-auth-anything"], undefined);
        assert.ok(!Object.keys(out).some((k) => k !== canonicalHeaderName(k) && canonicalHeaderName(k).startsWith("x-auth-")));
        assert.equal(out.accept, "json");
    });
    it("drops hop-by-hop headers and those named in Connection; replaces an untrusted client's X-Forwarded-*", () => {
        const out = forwardHeaders(
            {
                connection: "keep-alive, x-secret",
                "keep-alive": "5",
                "x-secret": "s",
                te: "trailers",
                upgrade: "h2c",
                "x-forwarded-for": "10.0.0.1",
                "x-forwarded-proto": "https",
                "x-forwarded-host": "evil",
                host: "gw",
            },
            ctx,
        );
        for (const h of ["connection", "keep-alive", "x-secret", "te", "upgrade", "host"]) assert.equal(out[h], undefined, h);
        assert.equal(out["x-forwarded-for"], "127.0.0.1", "the client's own chain is not believed");
        assert.equal(out["x-forwarded-proto"], "http", "nor its claim of https");
        assert.equal(out["x-forwarded-host"], "api.local");
    });
    it("extends a trusted proxy's X-Forwarded-For chain and keeps its X-Forwarded-Proto and -Host", () => {
        const fromAlb = { "x-forwarded-for": "203.0.113.7", "x-forwarded-proto": "https", "x-forwarded-port": "443", host: "api.example.com" };
        const out = forwardHeaders(fromAlb, { ...ctx, peerIp: "10.0.1.23", trustedPeer: true, host: "api.example.com" });
        assert.equal(out["x-forwarded-for"], "203.0.113.7, 10.0.1.23");
        assert.equal(out["x-forwarded-proto"], "https");
        assert.equal(out["x-forwarded-host"], "api.example.com");
        const odd = forwardHeaders({ "x-forwarded-proto": "gopher" }, { ...ctx, trustedPeer: true });
        assert.equal(odd["x-forwarded-proto"], "http", "only http or https is believed, even from a trusted proxy");
    });
    it("removes Authorization only when credentials are hidden", () => {
        assert.equal(forwardHeaders({ authorization: "Bearer t" }, ctx).authorization, "Bearer t");
        assert.equal(forwardHeaders({ authorization: "Bearer t" }, { ...ctx, hideCredentials: true }).authorization, undefined);
    });
    it("never forwards an identity value with control characters", () => {
        const out = forwardHeaders({}, { ...ctx, identity: { clientId: "a\r\nX-Evil: 1", subject: "ok", scopes: new Set() } });
        assert.equal(out["x-auth-client-id"], undefined);
        assert.equal(out["x-auth-subject"], "ok");
    });
    it("strips every access_token query parameter and keeps the rest", () => {
        assert.equal(forwardQuery("a=1&access_token=t&b=2&access%5Ftoken=u"), "a=1&b=2");
        assert.equal(forwardQuery("access_token=t"), "");
        assert.equal(forwardQuery("x=access_token"), "x=access_token");
    });
    it("whatever the inbound headers, only the gateway's identity headers are in the namespace (property)", () => {
        const name = fc.oneof(
            fc.constantFrom("x-auth-client-id", "X-Auth-Client-Id", "X_AUTH_CLIENT_ID", "x-auth_subject", "x-AUTH-scopes", "x-auth-role"),
            fc.stringMatching(/^[A-Za-z_-]{1,12}$/),
        );
        fc.assert(
            fc.property(fc.dictionary(name, fc.string({ maxLength: 8 })), (inbound) => {
                const out = forwardHeaders(inbound, ctx);
                const inNamespace = Object.keys(out).filter((k) => canonicalHeaderName(k).startsWith("x-auth-"));
                assert.deepEqual(inNamespace.sort(), ["x-auth-client-id", "x-auth-scopes", "x-auth-subject"]);
                assert.equal(out["x-auth-client-id"], "0oa1");
            }),
        );
    });
});

describe("the canonical request", () => {
    const rules = compileRules([
        { path: "/settings", scopes: ["admin"] },
        { path: "/reports/", scopes: ["admin"] },
        { path: "/orders/*", methods: ["DELETE"], scopes: ["admin"] },
    ]);
    const defaults = { scopes: ["myscope"], match: "all" as const };
    const need = (method: string, path: string) => {
        const n = normalizePath(path);
        assert.ok(n.ok, path);
        return requirementFor(rules, method, n.path, defaults).scopes;
    };

    it("matches rules with or without a trailing slash, whichever the rule or the request has", () => {
        for (const p of ["/settings", "/settings/", "/settings/.", "/settings/x/..", "/SETTINGS//"]) assert.deepEqual(need("GET", p), ["admin"], p);
        for (const p of ["/reports", "/reports/"]) assert.deepEqual(need("GET", p), ["admin"], p);
        for (const p of ["/orders/42", "/orders/42/", "/orders/42/."]) assert.deepEqual(need("DELETE", p), ["admin"], p);
        assert.deepEqual(need("DELETE", "/orders/"), ["myscope"], "* needs a segment: /orders/ is the collection");
    });
    it("folds case the way the most lenient routers do: dotless i, long s, Kelvin sign, fullwidth letters", () => {
        assert.equal(foldSegment("ſettings"), "settings");
        assert.equal(foldSegment("admın"), "admin");
        assert.equal(foldSegment("\u212Aey"), "key");
        assert.equal(foldSegment("ＳＥＴＴＩＮＧＳ"), "settings");
        for (const p of ["/%C5%BFettings", "/%EF%BC%B3ettings", "/Settings"]) assert.deepEqual(need("GET", p), ["admin"], p);
        assert.deepEqual(matchSegments("/a/B/"), ["a", "b"]);
    });
    it("folding only ever widens a rule: every path that matched before still matches (property)", () => {
        const seg = fc.stringMatching(/^[A-Za-z0-9ıſK.-]{1,8}$/);
        fc.assert(
            fc.property(fc.array(seg, { minLength: 1, maxLength: 4 }), (segments) => {
                const path = "/" + segments.map(encodeURIComponent).join("/");
                const n = normalizePath(path);
                if (!n.ok) return;
                const rule = compileRules([
                    {
                        path:
                            "/" +
                            segmentsOf(n.path)
                                .filter((x) => x !== "")
                                .join("/"),
                        scopes: ["x"],
                    },
                ]);
                assert.deepEqual(requirementFor(rule, "GET", n.path, defaults).scopes, ["x"], n.path);
                const slashed = normalizePath(n.path + "/");
                assert.ok(slashed.ok);
                assert.deepEqual(requirementFor(rule, "GET", slashed.path, defaults).scopes, ["x"], slashed.path);
            }),
        );
    });
    it("requires every method the upstream may run", () => {
        const reqs = requirementsFor(rules, ["POST", "delete"], "/orders/1", defaults);
        assert.deepEqual(
            reqs.map((r) => r.scopes),
            [["myscope"], ["admin"]],
        );
    });
    it("reads method overrides from the headers, in any spelling, and from ?_method", () => {
        assert.deepEqual(overrideMethods(["X-HTTP-Method-Override", "delete", "X_HTTP_Method", "put"], "a=1&_method=patch"), ["DELETE", "PUT", "PATCH"]);
        assert.deepEqual(overrideMethods(["Accept", "x"], "a=1"), []);
    });
    it("validates Host: one, and syntactically valid", () => {
        assert.equal(hostProblem(["Host", "api.example:8443"]), undefined);
        assert.equal(hostProblem(["Host", "[::1]:80"]), undefined);
        assert.equal(hostProblem(["Host", ""]), undefined, "empty is allowed (RFC 9112 §3.2)");
        assert.equal(hostProblem([]), undefined, "absent: HTTP/1.0");
        assert.equal(hostProblem(["Host", "a", "host", "b"]), "more than one Host header");
        for (const bad of ["a b", "a/b", "a@b", "a:b:c", "[::1", "a\\b"]) assert.equal(hostProblem(["Host", bad]), "invalid Host header", bad);
    });
    it("knows a real CORS preflight from an OPTIONS that only looks like one", () => {
        const pre = ["Origin", "https://app.example", "Access-Control-Request-Method", "DELETE"];
        assert.equal(isCorsPreflight("OPTIONS", pre), true);
        assert.equal(isCorsPreflight("OPTIONS", [...pre, "Content-Length", "0"]), true);
        assert.equal(isCorsPreflight("GET", pre), false);
        for (const extra of [
            ["Content-Length", "5"],
            ["Transfer-Encoding", "chunked"],
            ["Authorization", "Bearer x"],
            ["Cookie", "a=1"],
            ["X-HTTP-Method-Override", "DELETE"],
            ["X-Original-URL", "/admin"],
        ]) {
            assert.equal(isCorsPreflight("OPTIONS", [...pre, ...extra]), false, extra[0]);
        }
        assert.equal(isCorsPreflight("OPTIONS", ["Origin", "x"]), false, "no Access-Control-Request-Method");
    });
});

describe("authorize: the request path's decision", () => {
    const cfg = {
        routeRules: compileRules([{ path: "/admin/**", scopes: ["admin"] }]),
        requiredScopes: ["myscope"],
        scopeMatch: "all" as const,
        methodOverride: "strip" as const,
        corsPreflightPassthrough: true,
    };
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
    it("forwards a real preflight without a token, and says when the token came in the query", () => {
        const pre = prepare(facts("OPTIONS", "/admin/x", ["Origin", "https://a", "Access-Control-Request-Method", "DELETE"]), cfg, true);
        assert.ok(pre.kind === "forward" && pre.preflight && pre.outcome === "preflight");
        const q = prepare(facts("GET", "/a?access_token=abc"), cfg, true);
        assert.ok(q.kind === "verify" && q.tokenInQuery);
    });
    it("turns each verdict into its answer, and a valid token into a forward or a 403 by the route's scopes", () => {
        const pending = prepare(facts("GET", "/admin/users", bearer), cfg, true);
        assert.ok(pending.kind === "verify");
        const status = (v: Parameters<typeof conclude>[1]) => {
            const r = conclude(pending, v, cfg);
            return r.kind === "answer" ? r.status : 200;
        };
        assert.equal(status({ kind: "invalid", reason: "x" }), 401);
        assert.equal(status({ kind: "unavailable", reason: "x", retryAfterSeconds: 3 }), 503);
        assert.equal(status({ kind: "throttled", retryAfterSeconds: 3 }), 429);
        assert.equal(status({ kind: "valid", info: { scopes: new Set(["myscope"]) } }), 403);
        assert.equal(status({ kind: "valid", info: { scopes: new Set(["admin"]) } }), 200);
    });
});

describe("the client's copy of the upstream's headers", () => {
    it("drops connection-scoped fields and those Connection lists (RFC 9110 §7.6.1)", () => {
        const out = responseHeaders(
            {
                connection: "close, x-secret",
                "keep-alive": "timeout=5",
                "x-secret": "s",
                "transfer-encoding": "chunked",
                "content-type": "text/plain",
                "set-cookie": ["a=1", "b=2"],
            },
            { tokenInQuery: false, status: 200 },
        );
        assert.deepEqual(out, { "content-type": "text/plain", "set-cookie": ["a=1", "b=2"] });
    });
    it("makes a 2xx private when the token was in the query (RFC 6750 §2.3), leaving stricter directives alone", () => {
        assert.equal(privateCacheControl(undefined), "private");
        assert.equal(privateCacheControl("public, max-age=60, s-maxage=600"), "private, max-age=60");
        assert.equal(privateCacheControl("no-store"), "no-store");
        assert.equal(responseHeaders({ "cache-control": "public" }, { tokenInQuery: true, status: 404 })["cache-control"], "public", "not for an error");
    });
});
