// Unit tests of policy-gateway/src/request/normalizePath.ts: the path as the upstream will see it. Pure, without a server.
import fc from "fast-check";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { normalizePath, segmentsOf } from "../../../policy-gateway/src/request/normalizePath";

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
