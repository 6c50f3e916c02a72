// Unit tests of policy-gateway/src/request/extractToken.ts: where the access token comes from, and what is refused. Pure, without a server.
import fc from "fast-check";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { extractToken, headerValues, MAX_TOKEN_LENGTH, queryValues } from "../../../policy-gateway/src/request/extractToken";

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
