// The gateway's other token validation modes end to end on loopback, against a real OAuth 2.0
// server: hybrid (JWT checked locally, introspection once per window), jwt, and the audience check.
import { generateKeyPair, SignJWT } from "jose";
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { AUDIENCE, bearer, CLIENTS, send, sleep, startGatewayUnderTest, type GatewayUnderTest } from "../support/gatewayHarness";

/** A well-formed Okta-style access token for products-web, signed by a key the server never published. */
async function foreignToken(issuer: string, jti: string): Promise<string> {
    const { privateKey } = await generateKeyPair("RS256");
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ scp: ["myscope"], cid: CLIENTS.productsWeb.clientId })
        .setProtectedHeader({ alg: "RS256", kid: "not-in-the-jwks" })
        .setIssuer(issuer)
        .setAudience(AUDIENCE)
        .setIssuedAt(now)
        .setExpirationTime(now + 300)
        .setJti(jti)
        .sign(privateKey);
}

describe("gateway, hybrid mode (JWT checked locally, introspection once per window)", () => {
    let g: GatewayUnderTest;
    before(async () => {
        g = await startGatewayUnderTest({ env: { TOKEN_VALIDATION: "hybrid", CACHE_MAX_TTL_SECONDS: "1" }, okta: { accessTokenFormat: "jwt" } });
    });
    after(() => g.stop());

    it("introspects a JWT once per window, and refuses it after revocation once the window has passed", async () => {
        const token = await g.okta.token(CLIENTS.productsWeb, "myscope");
        assert.equal(token.split(".").length, 3);
        const introspectedBefore = g.okta.calls.introspect;
        for (let i = 0; i < 5; i++) assert.equal((await send(g.url, "/api", { headers: bearer(token) })).status, 200);
        assert.equal(g.okta.calls.introspect - introspectedBefore, 1, "five requests inside one window, one introspection");
        assert.equal(g.upstream.received.at(-1)!.headers["x-auth-client-id"], CLIENTS.productsWeb.clientId);

        assert.equal(await g.okta.revoke(CLIENTS.reporting, token), 200, "another client's revocation is answered 200 (RFC 7009) ...");
        await sleep(1_200);
        assert.equal((await send(g.url, "/api", { headers: bearer(token) })).status, 200, "... and has no effect");

        assert.equal(await g.okta.revoke(CLIENTS.productsWeb, token), 200);
        assert.equal((await send(g.url, "/api", { headers: bearer(token) })).status, 200, "still inside the window");
        await sleep(1_200);
        const refused = await send(g.url, "/api", { headers: bearer(token) });
        assert.equal(refused.status, 401, "the signature is still good, but the server says revoked");
        assert.match(String(refused.headers["www-authenticate"]), /invalid_token/);
    });

    it("never asks the server about a JWT that fails the local checks", async () => {
        const forged = await foreignToken(g.okta.issuer, "forged-hybrid");
        const introspectedBefore = g.okta.calls.introspect;
        // An unknown kid: 401 after a fresh JWKS fetch, 503 (retry) while refetches cool down; never introspected.
        assert.ok([401, 503].includes((await send(g.url, "/api", { headers: bearer(forged) })).status));
        assert.equal(g.okta.calls.introspect, introspectedBefore);
    });
});

describe("gateway, jwt mode", () => {
    let g: GatewayUnderTest;
    before(async () => {
        g = await startGatewayUnderTest({ env: { TOKEN_VALIDATION: "jwt" }, okta: { accessTokenFormat: "jwt" } });
    });
    after(() => g.stop());

    it("validates Okta-style RS256 access tokens locally, with scp scopes, without introspection", async () => {
        const token = await g.okta.token(CLIENTS.productsWeb, "myscope");
        assert.equal(token.split(".").length, 3);
        const r = await send(g.url, "/api", { headers: bearer(token) });
        assert.equal(r.status, 200, r.body);
        assert.equal(g.upstream.received.at(-1)!.headers["x-auth-client-id"], CLIENTS.productsWeb.clientId);
        assert.equal(g.upstream.received.at(-1)!.headers["x-auth-subject"], CLIENTS.productsWeb.clientId, "the JWT's sub");
        const limited = await g.okta.token(CLIENTS.reporting, "products:read");
        assert.equal((await send(g.url, "/api", { headers: bearer(limited) })).status, 403);
        assert.equal(g.okta.calls.introspect, 0);
    });

    it("refuses a token with an unknown kid after at most one bounded JWKS refetch; during the cooldown with 503, to retry", async () => {
        const keysBefore = g.okta.calls.keys;
        const statuses: number[] = [];
        for (let i = 0; i < 5; i++) {
            // Five distinct tokens, so no verdict cache can answer in the JWKS's place.
            const foreign = await foreignToken(g.okta.issuer, `foreign-${i}`);
            const r = await send(g.url, "/api", { headers: bearer(foreign) });
            statuses.push(r.status);
            if (r.status === 503) assert.equal(r.headers["retry-after"], "30");
        }
        assert.ok(g.okta.calls.keys - keysBefore <= 1, `JWKS fetched ${g.okta.calls.keys - keysBefore} times`);
        assert.ok(statuses.every((s) => s === 401 || s === 503));
        assert.ok(
            statuses.slice(1).every((s) => s === 503),
            "the key may have been published since the last fetch: retry",
        );
    });

    it("refuses a token whose signature does not verify", async () => {
        const token = await g.okta.token(CLIENTS.productsWeb, "myscope");
        const [h, p] = token.split(".");
        const claims = JSON.parse(Buffer.from(p, "base64url").toString()) as Record<string, unknown>;
        const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, scp: ["myscope", "admin"] })).toString("base64url")}.${token.split(".")[2]}`;
        assert.equal((await send(g.url, "/api", { headers: bearer(forged) })).status, 401);
    });
});

describe("gateway audience", () => {
    it("refuses an active token whose audience is another API's", async () => {
        const g = await startGatewayUnderTest({ env: { AUDIENCE: "api://other" } });
        try {
            const token = await g.okta.token(CLIENTS.productsWeb, "myscope");
            assert.equal((await send(g.url, "/api", { headers: bearer(token) })).status, 401);
            assert.equal(AUDIENCE, "api://products");
        } finally {
            await g.stop();
        }
    });
});
