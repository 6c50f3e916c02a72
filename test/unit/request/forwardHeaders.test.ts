// Unit tests of policy-gateway/src/request/forwardHeaders.ts: the headers the upstream receives. Pure, without a server.
import fc from "fast-check";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { canonicalHeaderName, forwardHeaders, forwardQuery, identityHeaders } from "../../../policy-gateway/src/request/forwardHeaders";

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
    it("builds a verdict's identity headers once: the same headers for every request of a cached token, and per prefix", () => {
        const identity = { clientId: "0oa1", subject: "sub\r\nx: y", scopes: new Set(["a", "b"]) };
        const first = identityHeaders("X-Auth-", identity);
        assert.deepEqual(first, { "x-auth-client-id": "0oa1", "x-auth-scopes": "a b" }, "a value with CR/LF is never sent");
        assert.equal(identityHeaders("X-Auth-", identity), first);
        assert.ok(Object.isFrozen(first), "shared between requests: nobody may change it");
        assert.deepEqual(identityHeaders("X-User-", identity), { "x-user-client-id": "0oa1", "x-user-scopes": "a b" });
        const a = forwardHeaders({ accept: "json" }, { ...ctx, identity });
        const b = forwardHeaders({ accept: "xml" }, { ...ctx, identity });
        a["x-auth-client-id"] = "changed";
        assert.equal(b["x-auth-client-id"], "0oa1", "each request's headers are its own");
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
