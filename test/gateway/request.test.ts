// The gateway's pure decisions about the request as a whole, without a server: the one canonical
// request the gateway decides on and forwards, and authorize's prepare/conclude.
import fc from "fast-check";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { normalizePath, segmentsOf } from "../../policy-gateway/src/request/normalizePath";
import { compileRules, foldSegment, matchSegments, requirementFor, requirementsFor } from "../../policy-gateway/src/decision/routeRules";
import { hostProblem, isCorsPreflight, overrideMethods } from "../../policy-gateway/src/request/requestShape";

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
