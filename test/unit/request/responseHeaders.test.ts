// Unit tests of policy-gateway/src/request/responseHeaders.ts: the headers the client receives from an upstream answer. Pure, without a server.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { privateCacheControl, responseHeaders } from "../../../policy-gateway/src/request/responseHeaders";

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
