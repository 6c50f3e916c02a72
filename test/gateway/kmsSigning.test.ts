// The introspection client's assertion signed by AWS KMS (INTROSPECTION_CLIENT_KMS_KEY_ARN), so no
// private key exists outside KMS: the pure parts, then the shipped bundle against a local KMS
// (moto's server) and the local authorization server, which holds the app's JWKS made from the KMS
// public key by the same function the stack uses, and enforces private_key_jwt as Okta does.
import { compactVerify, decodeJwt, decodeProtectedHeader, importSPKI } from "jose";
import assert from "node:assert/strict";
import { generateKeyPairSync, sign as rsaSign } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { publicJwkOf } from "../../components/introspectionClient";
import { startKmsServer, type KmsServer } from "../../harness/kmsServer";
import { ConfigError, loadConfig } from "../../policy-gateway/src/config/load";
import { authenticate } from "../../policy-gateway/src/verification/clientAuth";
import { regionOfKeyArn } from "../../policy-gateway/src/verification/kmsSigner";
import { CLIENT_AUTH_FAILURES_BEFORE_NOT_READY, CLIENT_AUTH_REFUSED } from "../../policy-gateway/src/verification/verifiers";
import { startBundle, type Running } from "../support/bundleProcess";
import { CLIENTS, gatewayEnv, INTROSPECTION_CLIENT, send, startOktaAndUpstream } from "../support/gatewayHarness";

const KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const base = {
    UPSTREAM_URL: "http://127.0.0.1:1",
    OIDC_ISSUER: "http://127.0.0.1:2/oauth2/aus1",
    AUDIENCE: "api://products",
    INTROSPECTION_CLIENT_ID: "0oaIntro",
};

/** The bundle's JSON log lines that `match`, waiting up to 5 s for the first (stdout arrives on its own time). */
async function logLines(gw: Running, match: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>[]> {
    const deadline = Date.now() + 5_000;
    for (;;) {
        const found = gw.lines
            .filter((l) => l.startsWith("{"))
            .map((l) => JSON.parse(l) as Record<string, unknown>)
            .filter(match);
        if (found.length || Date.now() > deadline) return found;
        await new Promise((r) => setTimeout(r, 50));
    }
}

function problemsOf(env: Record<string, string>): string {
    try {
        loadConfig({ ...base, ...env });
    } catch (e) {
        return (e as ConfigError).problems.join("\n");
    }
    return "";
}

describe("a KMS-signed client assertion: the pure parts", () => {
    it("is a JWS of the RFC 7523 claims that verifies with the key's public half, with the kid", async () => {
        const pair = generateKeyPairSync("rsa", { modulusLength: 2048 });
        const signed: { keyArn: string; bytes: string }[] = [];
        // What KMS Sign does with RSASSA_PKCS1_V1_5_SHA_256 and MessageType RAW: hash the message, sign PKCS #1 v1.5.
        const signer = async (keyArn: string, input: Uint8Array) => {
            signed.push({ keyArn, bytes: Buffer.from(input).toString() });
            return new Uint8Array(rsaSign("sha256", input, pair.privateKey));
        };
        const client = { id: "0oaIntro", credentials: { kind: "kms" as const, keyArn: KEY_ARN, alg: "RS256" as const, kid: "gw-2" } };
        const endpoint = "https://as.example/oauth2/aus1/v1/introspect";
        const { form, headers } = await authenticate(client, "private_key_jwt", endpoint, 1_800_000_000_000, signer);
        const publicKey = await importSPKI(pair.publicKey.export({ format: "pem", type: "spki" }).toString(), "RS256");
        await compactVerify(form.client_assertion, publicKey); // throws when the signature is not over the signing input
        assert.deepEqual(decodeProtectedHeader(form.client_assertion), { alg: "RS256", kid: "gw-2", typ: "JWT" });
        const claims = decodeJwt(form.client_assertion);
        assert.deepEqual([claims.iss, claims.sub, claims.aud, claims.exp! - claims.iat!], ["0oaIntro", "0oaIntro", endpoint, 60]);
        assert.equal(signed.length, 1);
        assert.equal(signed[0].keyArn, KEY_ARN);
        assert.equal(signed[0].bytes, form.client_assertion.split(".").slice(0, 2).join("."), "KMS signs exactly the JWS signing input");
        assert.deepEqual(headers, {});
    });

    it("reads the key ARN as the credential, alone, and names what is wrong", () => {
        const c = loadConfig({ ...base, INTROSPECTION_CLIENT_KMS_KEY_ARN: KEY_ARN, INTROSPECTION_CLIENT_KEY_ID: "gw-2" });
        assert.deepEqual(c.introspectionClient?.credentials, { kind: "kms", keyArn: KEY_ARN, alg: "RS256", kid: "gw-2" });
        assert.equal(regionOfKeyArn(KEY_ARN), "eu-west-1");
        assert.match(
            problemsOf({ INTROSPECTION_CLIENT_KMS_KEY_ARN: KEY_ARN, INTROSPECTION_CLIENT_SECRET: "s" }),
            /INTROSPECTION_CLIENT_KMS_KEY_ARN: set it alone/,
        );
        assert.match(
            problemsOf({ INTROSPECTION_CLIENT_KMS_KEY_ARN: KEY_ARN, INTROSPECTION_AUTH_METHOD: "client_secret_basic" }),
            /INTROSPECTION_CLIENT_KMS_KEY_ARN: signs private_key_jwt assertions, not client_secret_basic/,
        );
        const alias = problemsOf({ INTROSPECTION_CLIENT_KMS_KEY_ARN: "alias/gateway" });
        assert.match(alias, /INTROSPECTION_CLIENT_KMS_KEY_ARN: must be an AWS KMS key ARN/);
        assert.doesNotMatch(alias, /INTROSPECTION_CLIENT_SECRET/, "a refused ARN is not reported again as a missing credential");
    });
});

describe("the bundle signs with a key in a local KMS", () => {
    let kms: KmsServer;
    const running: { gw: Running; stop(): Promise<void> }[] = [];
    before(async () => {
        kms = await startKmsServer();
    });
    after(async () => {
        for (const r of running) await r.stop();
        await kms.stop();
    });

    /** The bundle whose introspection client is registered with `registeredPem`'s key and signs with `signingArn`. */
    async function gatewaySigningWith(signingArn: string, registeredPem: string, workers: string) {
        const { okta, upstream } = await startOktaAndUpstream({
            introspectionClient: {
                clientId: INTROSPECTION_CLIENT.clientId,
                authMethod: "private_key_jwt",
                jwks: { keys: [{ ...publicJwkOf(registeredPem, "gw-1"), alg: "RS256", use: "sig" }] },
            },
        });
        const env = gatewayEnv(okta, upstream, {
            ...kms.environment,
            INTROSPECTION_CLIENT_SECRET: "",
            INTROSPECTION_CLIENT_KMS_KEY_ARN: signingArn,
            INTROSPECTION_CLIENT_KEY_ID: "gw-1",
            WORKERS: workers,
        });
        const gw = await startBundle(env);
        const handle = {
            gw,
            okta,
            async stop() {
                gw.child.kill("SIGKILL");
                await upstream.stop();
                await okta.stop();
            },
        };
        running.push(handle);
        return handle;
    }

    it("introspects with the assertion KMS signed: the request reaches the API (two workers, the primary signs)", async () => {
        const key = await kms.createSigningKey();
        const { gw, okta } = await gatewaySigningWith(key.arn, key.publicKeyPem, "2");
        const token = await okta.token(CLIENTS.productsWeb, "myscope");
        const r = await send(`http://127.0.0.1:${gw.port}`, "/api", { headers: { authorization: `Bearer ${token}` } });
        assert.equal(r.status, 200, gw.lines.join("\n"));
    });

    it("a key KMS will not sign with (one that does not exist) is a configuration problem: 503, not ready, logged with KMS's error", async () => {
        const registered = await kms.createSigningKey();
        const missing = registered.arn.replace(/key\/.*$/, "key/00000000-0000-0000-0000-000000000000");
        const { gw, okta } = await gatewaySigningWith(missing, registered.publicKeyPem, "1");
        const token = await okta.token(CLIENTS.productsWeb, "myscope");
        for (let i = 0; i < CLIENT_AUTH_FAILURES_BEFORE_NOT_READY; i++)
            assert.equal((await send(`http://127.0.0.1:${gw.port}`, "/api", { headers: { authorization: `Bearer ${token}` } })).status, 503);
        const ready = await fetch(`http://127.0.0.1:${gw.adminPort}/readyz`);
        assert.equal(ready.status, 503);
        assert.deepEqual(await ready.json(), { status: "misconfigured" });
        const refusals = await logLines(gw, (l) => l.msg === CLIENT_AUTH_REFUSED);
        assert.equal(refusals[0].kmsError, "NotFoundException");
        const metrics = await (await fetch(`http://127.0.0.1:${gw.adminPort}/metrics`)).text();
        assert.match(metrics, /policy_gateway_introspection_errors_total\{reason="signing_refused"\} [3-9]/);
    });

    it("a key the app does not list signs, and Okta refuses it: the same configuration problem", async () => {
        const signing = await kms.createSigningKey();
        const registered = await kms.createSigningKey();
        const { gw, okta } = await gatewaySigningWith(signing.arn, registered.publicKeyPem, "1");
        const token = await okta.token(CLIENTS.productsWeb, "myscope");
        assert.equal((await send(`http://127.0.0.1:${gw.port}`, "/api", { headers: { authorization: `Bearer ${token}` } })).status, 503);
        assert.equal((await logLines(gw, (l) => l.msg === CLIENT_AUTH_REFUSED))[0].status, 401);
    });
});
