// Unit tests of policy-gateway/src/verification/scopes.ts: scope checks, as whole words. Pure, without a server.
import fc from "fast-check";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { missingScopes, parseScopeList, parseScopes } from "../../../policy-gateway/src/verification/scopes";

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
