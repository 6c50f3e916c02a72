// Unit tests of policy-gateway/src/request/normalizePath.ts: the path as the upstream will see it. Pure, without a server.
import fc from "fast-check";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { normalizePath, segmentsOf, twiceDecoded } from "../../../policy-gateway/src/request/normalizePath";

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
    it("decodes once: %41 is A", () => {
        assert.equal(ok("/%41dmin"), "/Admin");
        assert.equal(ok("/caf%C3%A9"), "/caf%C3%A9");
        assert.equal(ok("/a%20b"), "/a%20b");
    });
    it("forwards encoded what is data to every server: %3B is a ';' in a name, %2541 the id '%41'", () => {
        assert.equal(ok("/orders/a%3Bb"), "/orders/a%3Bb");
        assert.equal(ok("/orders/%2541"), "/orders/%2541");
        assert.equal(ok("/orders/100%25"), "/orders/100%25");
        assert.equal(ok("/a%252e%252e/b"), "/a%252e%252e/b", "a name a.. even when decoded twice");
        assert.deepEqual(segmentsOf("/orders/%2541"), ["orders", "%41"]);
    });
    it("twiceDecoded: what an upstream that decodes again reads, unless that changes the path's structure", () => {
        assert.equal(twiceDecoded("%61dmin"), "admin");
        assert.equal(twiceDecoded("plain"), "plain");
        for (const s of ["%2f", "%5c", "%2e", "%2e%2e", "%3b", "%25", "%3f", "%23", "%00", "%41%zz"]) assert.equal(twiceDecoded(s), undefined, s);
    });
    it("keeps the query apart", () => {
        assert.deepEqual(normalizePath("/a//b?x=1&y=/../"), { ok: true, path: "/a/b", query: "x=1&y=/../" });
    });
    for (const target of [
        "/admin%2fusers",
        "/admin%2Fusers",
        "/a%5cb",
        "/%252f",
        "/..",
        "/a/../..",
        "/%2e%2e/x",
        "/public/%2e%2e/admin",
        "/public/%2E%2E/admin",
        "/products/%2e",
        "/products/.%2e",
        "/products/%2e./x",
        "/a/%252e/b",
        "/x/%252e%252e/admin",
        "/a%253b/b",
        "/a%2500",
        "/a%252541",
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
