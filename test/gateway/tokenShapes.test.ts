// Token shapes from servers other than Okta, and issuer discovery as the standards allow it:
// `scp` arrays and strings, RFC 9068 access tokens (`typ: at+jwt`, `scope` string), ID tokens
// still refused; metadata at openid-configuration when oauth-authorization-server is absent; an
// issuer compared exactly as configured, a trailing slash included.
import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload, type JWTVerifyGetKey } from "jose";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { AuthServerClient } from "../../policy-gateway/src/verification/authServerClient";
import { loadConfig } from "../../policy-gateway/src/config/load";
import { DecisionCache } from "../../policy-gateway/src/verification/decisionCache";
import { bearer, CLIENTS, send, startGatewayUnderTest } from "../support/gatewayHarness";
import { GatewayMetrics } from "../../policy-gateway/src/shared/metrics";
import {
    accessTokenScopes,
    JwtVerifier,
    LocalThenIntrospection,
    UNKNOWN_KEY_COOLING_DOWN,
    type TokenVerifier,
} from "../../policy-gateway/src/verification/verifiers";

const ISSUER = "https://as.example/";
const AUD = "api://products";
const now = () => Math.floor(Date.now() / 1000);

describe("JWT access token shapes", () => {
    let sign: (claims: JWTPayload, typ?: string) => Promise<string>;
    let verifier: JwtVerifier;
    before(async () => {
        const { privateKey, publicKey } = await generateKeyPair("RS256");
        const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "RS256" };
        sign = (claims, typ = "JWT") =>
            new SignJWT({ iss: ISSUER, aud: AUD, iat: now(), exp: now() + 300, sub: "0oaClient", ...claims })
                .setProtectedHeader({ alg: "RS256", kid: "k1", typ })
                .sign(privateKey);
        const cache = new DecisionCache({ maxEntries: 100, negativeMaxEntries: 100, negativeTtlSeconds: 0 });
        verifier = new JwtVerifier({
            issuer: ISSUER,
            audience: AUD,
            clockSkewSeconds: 30,
            maxTtlSeconds: 0,
            cache,
            metrics: new GatewayMetrics(),
            jwksUri: "https://as.example/keys",
            keys: createLocalJWKSet({ keys: [jwk] }),
        });
    });
    const scopesOf = async (token: string) => {
        const v = await verifier.verify(token);
        return v.kind === "valid" ? [...v.info.scopes].sort() : v.kind;
    };

    it("reads Okta's scp array, an scp string, and an RFC 9068 token's scope string", async () => {
        assert.deepEqual(await scopesOf(await sign({ scp: ["a", "b"] })), ["a", "b"]);
        assert.deepEqual(await scopesOf(await sign({ scp: "a b" })), ["a", "b"]);
        assert.deepEqual(await scopesOf(await sign({ scope: "a b", client_id: "0oaClient" }, "at+jwt")), ["a", "b"]);
        assert.deepEqual(await scopesOf(await sign({ scope: "a" }, "application/at+jwt")), ["a"]);
    });
    it("still refuses an ID token; takes a scope string without the at+jwt type when nothing in it is an ID token's", async () => {
        assert.equal(await scopesOf(await sign({ nonce: "n", auth_time: now() })), "invalid");
        // oauth2-mock-server, Keycloak, older Auth0: `scope`, `typ: JWT`, this API's audience.
        assert.deepEqual(await scopesOf(await sign({ scope: "a b" })), ["a", "b"]);
        for (const idClaim of [{ nonce: "n" }, { at_hash: "x" }, { auth_time: now() }, { acr: "1" }])
            assert.equal(await scopesOf(await sign({ scope: "a b", ...idClaim })), "invalid", JSON.stringify(idClaim));
    });
    it("compares the issuer exactly: a token from the slash-less issuer is not this issuer's", async () => {
        assert.equal(await scopesOf(await sign({ scp: ["a"], iss: "https://as.example" })), "invalid");
    });
    it("decides the shapes in one pure function", () => {
        assert.deepEqual([...(accessTokenScopes({ scp: ["x"] }, undefined) ?? [])], ["x"]);
        assert.deepEqual([...(accessTokenScopes({ scope: "x" }, "JWT") ?? [])], ["x"]);
        assert.equal(accessTokenScopes({ scope: "x", nonce: "n" }, "JWT"), undefined);
        assert.equal(accessTokenScopes({}, "at+jwt"), undefined);
    });
});

describe("issuer discovery", () => {
    let server: Server;
    let base = "";
    const served: string[] = [];
    /** Serves only openid-configuration, for an issuer with a trailing slash. */
    before(async () => {
        server = createServer((req, res) => {
            served.push(req.url ?? "");
            if (req.url === "/.well-known/openid-configuration") {
                res.writeHead(200, { "content-type": "application/json" }).end(
                    JSON.stringify({ issuer: `${base}/`, jwks_uri: `${base}/keys`, introspection_endpoint: `${base}/introspect` }),
                );
            } else res.writeHead(404).end();
        });
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
        base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(() => new Promise<void>((r) => server.close(() => r())));

    it("falls back to openid-configuration on a 404, and accepts an issuer that ends in a slash, exactly", async () => {
        const client = new AuthServerClient(2_000, 2);
        try {
            const md = await client.metadata(`${base}/`, ["jwks_uri", "introspection_endpoint"]);
            assert.equal(md.jwks_uri, `${base}/keys`);
            assert.deepEqual(served.slice(-2), ["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"]);
            await assert.rejects(
                client.metadata(base, ["jwks_uri"]),
                /its issuer is "http:\/\/127\.0\.0\.1:\d+\/", not OIDC_ISSUER http:\/\/127\.0\.0\.1:\d+$/,
            );
        } finally {
            await client.close();
        }
    });
    it("keeps OIDC_ISSUER as configured", () => {
        const c = loadConfig({ UPSTREAM_URL: "http://127.0.0.1:1", OIDC_ISSUER: "https://as.example/", AUDIENCE: "a", TOKEN_VALIDATION: "jwt" });
        assert.equal(c.issuer, "https://as.example/");
    });
});

describe("an unknown kid while refetches of the JWKS cool down", () => {
    it("answers 503 to retry, caches nothing and asks no server; refuses only once a fresh key set still lacks the kid", async () => {
        const { privateKey, publicKey } = await generateKeyPair("RS256");
        const jwk = { ...(await exportJWK(publicKey)), kid: "published-during-cooldown", alg: "RS256" };
        const token = await new SignJWT({ iss: ISSUER, aud: AUD, iat: now(), exp: now() + 300, sub: "0oaClient", scp: ["a"] })
            .setProtectedHeader({ alg: "RS256", kid: jwk.kid })
            .sign(privateKey);
        // A key set like jose's remote one: the keys it holds, and whether it is cooling down.
        let held: JWK[] = [];
        let cooling = true;
        const keys = Object.defineProperty(
            (h: Parameters<JWTVerifyGetKey>[0], t: Parameters<JWTVerifyGetKey>[1]) => createLocalJWKSet({ keys: held })(h, t),
            "coolingDown",
            {
                get: () => cooling,
            },
        ) as JWTVerifyGetKey;
        const cache = new DecisionCache({ maxEntries: 10, negativeMaxEntries: 10, negativeTtlSeconds: 60 });
        const verifier = new JwtVerifier({
            issuer: ISSUER,
            audience: AUD,
            clockSkewSeconds: 30,
            maxTtlSeconds: 60,
            cache,
            metrics: new GatewayMetrics(),
            jwksUri: "https://as.example/keys",
            keys,
        });

        const during = await verifier.verify(token);
        assert.deepEqual(during, { kind: "unavailable", reason: UNKNOWN_KEY_COOLING_DOWN, retryAfterSeconds: 30 });
        let introspected = 0;
        const introspection: TokenVerifier = { verify: async () => (introspected++, { kind: "invalid", reason: "inactive" }) };
        assert.equal((await new LocalThenIntrospection(verifier, introspection, "introspection").verify(token)).kind, "unavailable");
        assert.equal(introspected, 0, "an unknown kid never reaches the server");

        // After the cooldown the key set is fetched again and holds the new key: the same token is valid, nothing was negative-cached.
        cooling = false;
        held = [jwk];
        assert.equal((await verifier.verify(token)).kind, "valid");
        // A kid that a fresh fetch does not have is refused.
        const stranger = await new SignJWT({ iss: ISSUER, aud: AUD, iat: now(), exp: now() + 300, sub: "x", scp: ["a"] })
            .setProtectedHeader({ alg: "RS256", kid: "never-published" })
            .sign(privateKey);
        assert.equal((await verifier.verify(stranger)).kind, "invalid");
    });
});

describe("an authorization server that issues opaque tokens, behind the default JWT pre-check", () => {
    it("refuses its tokens with 401 and tells the operator, once, to set INTROSPECTION_PRECHECK=off; with it off they pass", async () => {
        const g = await startGatewayUnderTest({ env: { INTROSPECTION_PRECHECK: "jwt" } }); // oidc-provider's tokens here are opaque
        try {
            const token = await g.okta.token(CLIENTS.productsWeb, "myscope");
            assert.equal(token.split(".").length, 1, "opaque");
            for (let i = 0; i < 2; i++) assert.equal((await send(g.url, "/api", { headers: bearer(token) })).status, 401);
            const hints = g.logs
                .join("")
                .split("\n")
                .filter((l) => l.includes("set INTROSPECTION_PRECHECK=off"));
            assert.equal(hints.length, 1, "said once, not per request");
            assert.match(hints[0], /"level":40/, "a warning");
            assert.ok(!hints[0].includes(token), "never the token");
        } finally {
            await g.stop();
        }
        const off = await startGatewayUnderTest({ env: { INTROSPECTION_PRECHECK: "off" } });
        try {
            assert.equal((await send(off.url, "/api", { headers: bearer(await off.okta.token(CLIENTS.productsWeb, "myscope")) })).status, 200);
        } finally {
            await off.stop();
        }
    });
});
