// Unit tests of policy-gateway/src/decision/routeRules.ts: which scopes a request needs, by method and path. Pure, without a server.
import fc from "fast-check";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { normalizePath, segmentsOf } from "../../../policy-gateway/src/request/normalizePath";
import { compileRules, matchesPattern, requirementFor, requirementsFor } from "../../../policy-gateway/src/decision/routeRules";

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
        [{ path: "/a*b", scopes: [] }, /whole segment, or end the last one/],
        [{ path: "/a*/b", scopes: [] }, /whole segment, or end the last one/],
        [{ path: "/a", scopes: "admin" }, /ROUTE_RULES\[0\]\.scopes/],
        [{ path: "/a", scopes: [], methods: [] }, /ROUTE_RULES\[0\]\.methods/],
        [{ path: "/a", scopes: [], match: "some" }, /ROUTE_RULES\[0\]\.match/],
        [{ path: "/a", scope: [] }, /unknown key 'scope'/],
        [{ path: "/a/../b", scopes: [] }, /normalised/],
    ] as const) {
        it(`refuses the rule ${JSON.stringify(bad)}`, () => assert.throws(() => compileRules([bad]), what));
    }
    it("refuses a ROUTE_RULES that is not an array", () => assert.throws(() => compileRules({}), /ROUTE_RULES: must be a JSON array/));

    it("no path trick reaches /admin without the admin rule, for an upstream that decodes once or twice (property)", () => {
        const trick = fc.constantFrom(
            "",
            ".",
            "..",
            "%2e",
            "%2e%2e",
            "admin",
            "ADMIN",
            "Admin",
            "%61dmin",
            "%2561dmin",
            "%25%36%31dmin",
            "public",
            "x",
            "%2f",
            ";",
            "%3b",
            "%252f",
        );
        fc.assert(
            fc.property(fc.array(trick, { maxLength: 6 }), fc.constantFrom("GET", "POST", "HEAD", "DELETE"), (segments, method) => {
                const n = normalizePath("/" + segments.join("/"));
                if (!n.ok) return; // refused: nothing forwarded
                const first = segmentsOf(n.path)[0] ?? "";
                const readings = [first, decodeURIComponent(first)].map((s) => s.toLowerCase());
                const needs = requirementsFor(rules, [method], n.path, defaults).map((r) => r.scopes);
                if (readings.includes("admin"))
                    assert.ok(
                        needs.some((s) => s.length === 1 && s[0] === "admin"),
                        `${segments.join("/")} → ${n.path}`,
                    );
            }),
            { numRuns: 3000 },
        );
    });
    it("a twice-encoded name needs the rules of both readings: the literal id and what a double-decoding upstream routes", () => {
        const needs = requirementsFor(rules, ["GET"], "/%2561dmin/users", defaults).map((r) => r.scopes);
        assert.deepEqual(needs, [["myscope"], ["admin"]]);
        assert.deepEqual(
            requirementsFor(rules, ["GET"], "/orders/%2541", defaults).map((r) => r.scopes),
            [["myscope"], ["myscope"]],
        );
    });
});
