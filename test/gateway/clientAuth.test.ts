// The gateway's authentication to the introspection endpoint, against the local server, which
// enforces the method the introspection client is registered with (as Okta does):
// client_secret_basic, client_secret_post and private_key_jwt (RFC 7523) succeed when they match;
// a refused credential is reported as a configuration problem and turns /readyz not-ready.
import { decodeJwt, decodeProtectedHeader, exportJWK, exportPKCS8, generateKeyPair } from "jose";
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { after, describe, it } from "node:test";
import { authenticate, chooseMethod, parsePrivateKey } from "../../policy-gateway/src/verification/clientAuth";
import { ConfigError, loadConfig } from "../../policy-gateway/src/config/load";
import { CLIENT_AUTH_FAILURES_BEFORE_NOT_READY } from "../../policy-gateway/src/verification/verifiers";
import { CLIENTS, INTROSPECTION_CLIENT, send, startGatewayUnderTest, type GatewayUnderTest } from "../support/gatewayHarness";

const base = {
    UPSTREAM_URL: "http://127.0.0.1:1",
    OIDC_ISSUER: "http://127.0.0.1:2/oauth2/aus1",
    AUDIENCE: "api://products",
    INTROSPECTION_CLIENT_ID: "0oaIntro",
};

async function rsaKey() {
    const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
    return { pem: await exportPKCS8(privateKey), publicJwk: { ...(await exportJWK(publicKey)), kid: "gw-1", alg: "RS256", use: "sig" } };
}

describe("introspection client authentication: the pure parts", () => {
    it("chooses the configured method, else the key's, else basic unless the server advertises only post", async () => {
        const secret = { id: "c", credentials: { kind: "secret" as const, secret: "s" } };
        assert.equal(chooseMethod(secret, undefined), "client_secret_basic");
        assert.equal(chooseMethod(secret, ["client_secret_post", "private_key_jwt"]), "client_secret_post");
        assert.equal(chooseMethod({ ...secret, method: "client_secret_post" }, ["client_secret_basic"]), "client_secret_post");
        assert.equal(chooseMethod({ id: "c", credentials: parsePrivateKey((await rsaKey()).pem, "K") }, undefined), "private_key_jwt");
    });
    it("signs an RFC 7523 assertion: iss = sub = client id, aud = the endpoint, a minute's lifetime, a unique jti, the kid", async () => {
        const client = { id: "0oaIntro", credentials: parsePrivateKey((await rsaKey()).pem, "K", "gw-1") };
        const a = await authenticate(client, "private_key_jwt", "https://as.example/oauth2/aus1/v1/introspect", 1_800_000_000_000);
        const b = await authenticate(client, "private_key_jwt", "https://as.example/oauth2/aus1/v1/introspect", 1_800_000_000_000);
        assert.equal(a.form.client_assertion_type, "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
        const claims = decodeJwt(a.form.client_assertion);
        assert.deepEqual(
            [claims.iss, claims.sub, claims.aud, claims.exp! - claims.iat!],
            ["0oaIntro", "0oaIntro", "https://as.example/oauth2/aus1/v1/introspect", 60],
        );
        assert.notEqual(claims.jti, decodeJwt(b.form.client_assertion).jti);
        assert.deepEqual(decodeProtectedHeader(a.form.client_assertion), { alg: "RS256", kid: "gw-1", typ: "JWT" });
        assert.deepEqual(a.headers, {}, "no secret anywhere");
    });
    it("reads the key from the environment or a file, and names what is wrong", async () => {
        const { pem } = await rsaKey();
        const c = loadConfig({ ...base, INTROSPECTION_CLIENT_PRIVATE_KEY: pem });
        assert.equal(c.introspectionClient?.credentials.kind, "key");
        const problems = (env: Record<string, string>) => {
            try {
                loadConfig({ ...base, ...env });
            } catch (e) {
                return (e as ConfigError).problems.join("\n");
            }
            return "";
        };
        assert.match(problems({ INTROSPECTION_CLIENT_PRIVATE_KEY: "not a key" }), /INTROSPECTION_CLIENT_PRIVATE_KEY: is not a private key/);
        // A key jose cannot sign RS256 with is refused at start, not at every introspection.
        const small = generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey.export({ format: "pem", type: "pkcs8" }).toString();
        assert.match(
            problems({ INTROSPECTION_CLIENT_PRIVATE_KEY: small }),
            /INTROSPECTION_CLIENT_PRIVATE_KEY: is a 1024-bit RSA key; RS256 needs at least 2048 bits/,
        );
        const jwk = JSON.stringify(generateKeyPairSync("rsa", { modulusLength: 1536 }).privateKey.export({ format: "jwk" }));
        assert.match(problems({ INTROSPECTION_CLIENT_PRIVATE_KEY: jwk }), /is a 1536-bit RSA key/);
        assert.match(problems({ INTROSPECTION_CLIENT_PRIVATE_KEY: pem, INTROSPECTION_CLIENT_SECRET: "s" }), /set only one/);
        assert.match(
            problems({ INTROSPECTION_AUTH_METHOD: "private_key_jwt", INTROSPECTION_CLIENT_SECRET: "s" }),
            /INTROSPECTION_CLIENT_PRIVATE_KEY: is required with INTROSPECTION_AUTH_METHOD=private_key_jwt/,
        );
        assert.match(problems({ INTROSPECTION_CLIENT_PRIVATE_KEY_FILE: "/nonexistent/key.pem" }), /INTROSPECTION_CLIENT_PRIVATE_KEY_FILE: cannot read/);
        assert.ok(
            !problems({ INTROSPECTION_CLIENT_PRIVATE_KEY: "-----BEGIN PRIVATE KEY-----\nsecret-material\n-----END PRIVATE KEY-----" }).includes(
                "secret-material",
            ),
            "never the key",
        );
    });
});

describe("introspection client authentication against a server that enforces the registered method", () => {
    const running: GatewayUnderTest[] = [];
    after(async () => {
        for (const g of running) await g.stop();
    });
    async function gatewayWith(registered: Parameters<typeof startGatewayUnderTest>[0] extends infer O ? O : never) {
        const g = await startGatewayUnderTest(registered);
        running.push(g);
        return g;
    }
    const through = async (g: GatewayUnderTest) =>
        (await send(g.url, "/api", { headers: { authorization: `Bearer ${await g.okta.token(CLIENTS.productsWeb, "myscope")}` } })).status;

    it("client_secret_post, when that is the registered method", async () => {
        const g = await gatewayWith({
            okta: { introspectionClient: { ...INTROSPECTION_CLIENT, authMethod: "client_secret_post" } },
            env: { INTROSPECTION_AUTH_METHOD: "client_secret_post" },
        });
        assert.equal(await through(g), 200);
    });

    it("private_key_jwt: no shared secret at all", async () => {
        const { pem, publicJwk } = await rsaKey();
        const g = await gatewayWith({
            okta: { introspectionClient: { clientId: INTROSPECTION_CLIENT.clientId, authMethod: "private_key_jwt", jwks: { keys: [publicJwk] } } },
            env: { INTROSPECTION_CLIENT_SECRET: "", INTROSPECTION_CLIENT_PRIVATE_KEY: pem, INTROSPECTION_CLIENT_KEY_ID: "gw-1" },
        });
        assert.equal(await through(g), 200);
        assert.ok(g.logs.join("").includes('"introspectionAuth":"private_key_jwt"'));
    });

    it("reports a refused credential (a wrong key) as a configuration problem, and stops being ready", async () => {
        const registered = await rsaKey();
        const wrong = await rsaKey();
        const g = await gatewayWith({
            okta: { introspectionClient: { clientId: INTROSPECTION_CLIENT.clientId, authMethod: "private_key_jwt", jwks: { keys: [registered.publicJwk] } } },
            env: { INTROSPECTION_CLIENT_SECRET: "", INTROSPECTION_CLIENT_PRIVATE_KEY: wrong.pem },
        });
        assert.equal((await fetch(`${g.adminUrl}/readyz`)).status, 200);
        for (let i = 0; i < CLIENT_AUTH_FAILURES_BEFORE_NOT_READY; i++) assert.equal(await through(g), 503);
        const ready = await fetch(`${g.adminUrl}/readyz`);
        assert.equal(ready.status, 503);
        assert.deepEqual(await ready.json(), { status: "misconfigured" });
        const errors = g.logs
            .join("")
            .trim()
            .split("\n")
            .map((l) => JSON.parse(l) as Record<string, unknown>)
            .filter((l) => l.level === 50);
        assert.ok(
            errors.some((l) => String(l.msg).includes("refused the gateway's client credentials") && l.status === 401),
            "logged at error level, as configuration",
        );
        const metrics = await (await fetch(`${g.adminUrl}/metrics`)).text();
        assert.match(metrics, /policy_gateway_introspection_errors_total\{reason="client_auth_failed"\} [3-9]/);
        assert.match(metrics, /policy_gateway_circuit_breaker_state 0/, "not an outage: the breaker stays closed");
    });

    it("refuses the basic method when the client is registered for post, as Okta would", async () => {
        const g = await gatewayWith({ okta: { introspectionClient: { ...INTROSPECTION_CLIENT, authMethod: "client_secret_post" } } });
        assert.equal(await through(g), 503);
    });
});
