// The gateway's pure decisions about the request as a whole, without a server: the one canonical
// request the gateway decides on and forwards, and authorize's prepare/conclude.
import fc from "fast-check";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { normalizePath, segmentsOf } from "../../policy-gateway/src/request/normalizePath";
import { compileRules, foldSegment, matchSegments, requirementFor, requirementsFor, type CompiledRule } from "../../policy-gateway/src/decision/routeRules";
import {
    formDecode,
    hostProblem,
    isCorsPreflight,
    isMethodOverrideParam,
    overrideMethods,
    phpParameterName,
} from "../../policy-gateway/src/request/requestShape";
import { forwardQuery } from "../../policy-gateway/src/request/forwardHeaders";
import {
    FormOverrideInspector,
    formKindOf,
    isMethodOverrideFieldName,
    OverrideInBody,
    UrlencodedOverrideScanner,
} from "../../policy-gateway/src/request/formBody";

const defaults = { scopes: ["myscope"], match: "all" as const };

/** The scopes a request needs under `rules` (and `myscope` by default), its path normalised first. */
function needOf(rules: CompiledRule[]) {
    return (method: string, path: string) => {
        const n = normalizePath(path);
        assert.ok(n.ok, path);
        return requirementFor(rules, method, n.path, defaults).scopes;
    };
}

describe("the canonical request", () => {
    const rules = compileRules([
        { path: "/settings", scopes: ["admin"] },
        { path: "/reports/", scopes: ["admin"] },
        { path: "/orders/*", methods: ["DELETE"], scopes: ["admin"] },
    ]);
    const need = needOf(rules);

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
    it("refuses a fragment in the request target, in the path or the query (RFC 9112 §3.2 has none)", () => {
        for (const target of ["/products/42#x", "/settings#frag", "/a?b=1#c", "/#"]) {
            const n = normalizePath(target);
            assert.ok(!n.ok && /fragment/.test(n.reason), target);
        }
        assert.ok(normalizePath("/products/42%23x").ok, "an encoded # is data, not a fragment");
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
    it("reads ?_method as PHP registers parameter names: leading spaces, dots, spaces, NUL and unmatched brackets", () => {
        // Each reaches Symfony/Laravel as _method (php-src main/php_variables.c); each is an override.
        for (const name of [
            "_method",
            ".method",
            "%20_method",
            "+_method",
            "_method%00",
            "_method%00%ff",
            "%5Fmethod",
            "[method",
            "_METHOD",
            "_method[]",
            "_method[x]",
            " .method",
        ]) {
            assert.equal(isMethodOverrideParam(name), true, name);
            assert.deepEqual(overrideMethods([], `a=1&${name}=delete`), ["DELETE"], name);
            assert.equal(forwardQuery(`a=1&${name}=DELETE&b=2`, true), "a=1&b=2", name);
        }
        for (const name of ["method", "_methods", "x_method", "_meth", "_method_", "a[_method]"]) assert.equal(isMethodOverrideParam(name), false, name);
        assert.equal(phpParameterName("a.b c[d"), "a_b_c_d");
        assert.equal(phpParameterName("a.b[c.d]"), "a_b");
        // Values decode as bytes too: nothing undecodable is skipped.
        assert.deepEqual(overrideMethods([], "_method=DEL%45TE&.method=pat%63h%ff"), ["DELETE", "PATCH\u0178"]);
        // Property: whatever a name is, if PHP would register it as _method, it is an override.
        fc.assert(
            fc.property(fc.stringMatching(/^[ ._%0-9a-zA-Z[\]]{0,12}$/), (raw) => {
                const php = phpParameterName(formDecode(raw)).toLowerCase();
                return isMethodOverrideParam(raw) === (php === "_method");
            }),
        );
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

describe("method overrides inside form bodies, read as they stream", () => {
    it("finds a _method pair split across chunks, and the last pair at the end", () => {
        const s = new UrlencodedOverrideScanner();
        assert.deepEqual(s.feed(Buffer.from("a=1&_me")), []);
        assert.deepEqual(s.feed(Buffer.from("thod=DEL")), []);
        assert.deepEqual(s.feed(Buffer.from("ETE&b=2&.method=put")), ["DELETE"]);
        assert.deepEqual(s.end(), ["put"]);
        assert.equal(formKindOf("Application/X-WWW-Form-Urlencoded; charset=utf-8"), "urlencoded");
        assert.equal(formKindOf("multipart/form-data; boundary=x"), "multipart");
        assert.equal(formKindOf("application/json"), undefined);
    });

    it("never hands on the whole body once a refused override is seen, even when it is the last field", async () => {
        const boundary = "----b";
        const body = Buffer.from(
            `--${boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\nx\r\n` +
                `--${boundary}\r\nContent-Disposition: form-data; name="_method"\r\n\r\nDELETE\r\n--${boundary}--\r\n`,
        );
        const inspector = new FormOverrideInspector("multipart", { "content-type": `multipart/form-data; boundary=${boundary}` }, (m) => m !== "DELETE");
        const passed: Buffer[] = [];
        inspector.on("data", (c: Buffer) => passed.push(c));
        const failure = new Promise<Error>((resolve) => inspector.once("error", resolve));
        // One byte at a time: the worst case for a scanner that must decide before handing on.
        for (let i = 0; i < body.length; i++) inspector.write(body.subarray(i, i + 1));
        inspector.end();
        const e = await failure;
        assert.ok(e instanceof OverrideInBody && e.method === "DELETE");
        assert.ok(Buffer.concat(passed).length < body.length, "the upstream never got the closing boundary");
        assert.equal(isMethodOverrideFieldName(" .method"), true);
        assert.equal(isMethodOverrideFieldName("method"), false);
    });
});

describe("string-prefix rules, for APIs routed the way nginx and Apache locations are", () => {
    const rules = compileRules([
        { path: "/admin*", scopes: ["admin"] },
        { path: "/api/v1/rep*", methods: ["GET"], scopes: ["reports"] },
    ]);
    const need = needOf(rules);
    it("covers everything an nginx `location /admin` serves: /adminx, /admin.php, /admin%20/…, /ADMIN/users", () => {
        for (const path of ["/admin", "/admin/", "/adminx", "/admin.php", "/admin%20/x", "/ADMIN/users", "/admın/panel"])
            assert.deepEqual(need("GET", path), ["admin"], path);
        for (const path of ["/", "/adm", "/x/admin", "/api/admin"]) assert.deepEqual(need("GET", path), ["myscope"], path);
    });
    it("takes a prefix after literal segments, with methods", () => {
        assert.deepEqual(need("GET", "/api/v1/reports/7"), ["reports"]);
        assert.deepEqual(need("GET", "/api/v1/rep"), ["reports"]);
        assert.deepEqual(need("POST", "/api/v1/reports"), ["myscope"]);
        assert.deepEqual(need("GET", "/api/v2/reports"), ["myscope"]);
    });
    it("accepts '*' only ending the last segment, after a literal", () => {
        for (const path of ["/a*b", "/*admin", "/admin*/x", "/admin**", "/admin*/"])
            assert.throws(() => compileRules([{ path, scopes: [] }]), /'\*' must be a whole segment, or end the last one/, path);
    });
});
