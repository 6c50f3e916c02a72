// The attack suite: each case asserts the exact status and that the upstream received nothing.
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type JWTPayload } from "jose";
import assert from "node:assert/strict";
import { createServer as createHttpServer, type Server } from "node:http";
import { connect } from "node:net";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { AUDIENCE, bearer, CLIENTS, send, startGatewayUnderTest, type GatewayUnderTest } from "../support/gatewayHarness";

const now = () => Math.floor(Date.now() / 1000);
const b64 = (v: object) => Buffer.from(JSON.stringify(v)).toString("base64url");

/** Runs `fn` and asserts the upstream saw nothing meanwhile; returns fn's result. */
async function refused<T>(g: GatewayUnderTest, fn: () => Promise<T>): Promise<T> {
    const before = g.upstream.received.length;
    const r = await fn();
    assert.equal(g.upstream.received.length, before, "the upstream must receive nothing");
    return r;
}

/**
 * Sends raw bytes and resolves the status code of the first response (0 if the connection closed
 * without one). The client keeps its side open, as real clients do, until the server answers.
 */
function raw(port: number, text: string | Buffer): Promise<number> {
    return new Promise((resolve) => {
        const socket = connect(port, "127.0.0.1");
        let data = "";
        const done = () => resolve(Number(/^HTTP\/1\.[01] (\d{3})/.exec(data)?.[1] ?? 0));
        socket.on("data", (c) => {
            data += c.toString("latin1");
            if (/\r\n\r\n/.test(data)) socket.destroy();
        });
        socket.on("close", done);
        socket.on("error", () => {});
        socket.setTimeout(3_000, () => socket.destroy());
        socket.write(text);
    });
}

describe("attacks on jwt mode", () => {
    let g: GatewayUnderTest;
    let claims: JWTPayload;
    let attackerJwks: Server;
    let attackerJwksHits = 0;
    let attackerJwksUrl = "";
    before(async () => {
        g = await startGatewayUnderTest({ env: { TOKEN_VALIDATION: "jwt" }, okta: { accessTokenFormat: "jwt" } });
        claims = { iss: g.okta.issuer, aud: AUDIENCE, scp: ["myscope"], cid: CLIENTS.productsWeb.clientId, sub: CLIENTS.productsWeb.clientId };
        attackerJwks = createHttpServer((_req, res) => {
            attackerJwksHits++;
            res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: [] }));
        });
        await new Promise<void>((r) => attackerJwks.listen(0, "127.0.0.1", r));
        attackerJwksUrl = `http://127.0.0.1:${(attackerJwks.address() as AddressInfo).port}/keys`;
    });
    after(async () => {
        await g.stop();
        await new Promise((r) => attackerJwks.close(r));
    });

    const full = (): JWTPayload => ({ ...claims, iat: now(), exp: now() + 300 });
    const expect401 = async (token: string) => {
        const r = await refused(g, () => send(g.url, "/api", { headers: bearer(token) }));
        assert.equal(r.status, 401, r.body);
        assert.equal(r.headers["www-authenticate"], 'Bearer error="invalid_token"');
    };
    /**
     * A kid the JWKS does not have: 401 once a fresh fetch lacks it; while refetches cool down the
     * key may have been published since, so 503 with Retry-After (retry, do not drop the token).
     * Refused either way: nothing reaches the API.
     */
    const expectUnknownKeyRefused = async (token: string) => {
        const r = await refused(g, () => send(g.url, "/api", { headers: bearer(token) }));
        if (r.status === 503) assert.equal(r.headers["retry-after"], "30", r.body);
        else assert.equal(r.status, 401, r.body);
        return r.status;
    };

    it("accepts the control: the server's own correctly signed token", async () => {
        assert.equal((await send(g.url, "/api", { headers: bearer(await g.okta.forge(full())) })).status, 200);
    });
    it("refuses alg: none", async () => {
        await expect401(`${b64({ alg: "none", typ: "JWT", kid: g.okta.publicJwk.kid })}.${b64(full())}.`);
    });
    it("refuses HS256 signed with the RSA public key as the secret", async () => {
        const { importJWK } = await import("jose");
        const pem = await exportSPKI((await importJWK(g.okta.publicJwk, "RS256")) as Parameters<typeof exportSPKI>[0]);
        const token = await new SignJWT(full()).setProtectedHeader({ alg: "HS256", kid: g.okta.publicJwk.kid }).sign(new TextEncoder().encode(pem));
        await expect401(token);
    });
    it("refuses a key carried in the token's own jwk header, even under the real kid", async () => {
        const attacker = await generateKeyPair("RS256", { extractable: true });
        const jwk = await exportJWK(attacker.publicKey);
        await expectUnknownKeyRefused(await new SignJWT(full()).setProtectedHeader({ alg: "RS256", kid: "attacker", jwk }).sign(attacker.privateKey));
        await expect401(await new SignJWT(full()).setProtectedHeader({ alg: "RS256", kid: g.okta.publicJwk.kid as string, jwk }).sign(attacker.privateKey));
    });
    it("refuses jku and x5u headers, and never fetches them", async () => {
        const attacker = await generateKeyPair("RS256");
        await expectUnknownKeyRefused(
            await new SignJWT(full()).setProtectedHeader({ alg: "RS256", kid: "attacker", jku: attackerJwksUrl }).sign(attacker.privateKey),
        );
        await expectUnknownKeyRefused(
            await new SignJWT(full()).setProtectedHeader({ alg: "RS256", kid: "attacker2", x5u: attackerJwksUrl }).sign(attacker.privateKey),
        );
        assert.equal(attackerJwksHits, 0, "the attacker's URL was never fetched");
    });
    it("refuses a kid not in the JWKS, and one signed by a key rotated out of it, after at most one bounded refetch", async () => {
        const old = await generateKeyPair("RS256");
        const before = g.okta.calls.keys;
        const statuses: number[] = [];
        for (let i = 0; i < 4; i++)
            statuses.push(
                await expectUnknownKeyRefused(
                    await new SignJWT({ ...full(), jti: `r${i}` })
                        .setProtectedHeader({ alg: "RS256", kid: i % 2 ? "rotated-2025-q3" : "never-existed" })
                        .sign(old.privateKey),
                ),
            );
        assert.ok(g.okta.calls.keys - before <= 1, `JWKS fetched ${g.okta.calls.keys - before} times`);
        assert.ok(
            statuses.slice(1).every((s) => s === 503),
            "during the cooldown: retry, not refused for good",
        );
        // A token that does not even claim this issuer is refused outright, cooldown or not.
        await expect401(
            await new SignJWT({ ...full(), iss: "https://evil.example/" }).setProtectedHeader({ alg: "RS256", kid: "never-existed" }).sign(old.privateKey),
        );
    });
    it("refuses an expired token and one not valid yet (beyond the clock skew)", async () => {
        await expect401(await g.okta.forge({ ...claims, iat: now() - 7200, exp: now() - 3600 }));
        await expect401(await g.okta.forge({ ...claims, iat: now(), nbf: now() + 3600, exp: now() + 7200 }));
    });
    it("refuses a wrong issuer, a wrong audience, and the org authorization server's issuer", async () => {
        await expect401(await g.okta.forge({ ...full(), iss: "https://evil.example/oauth2/aus1" }));
        await expect401(await g.okta.forge({ ...full(), aud: "api://other" }));
        await expect401(await g.okta.forge({ ...full(), iss: new URL(g.okta.issuer).origin }));
    });
    it("refuses an ID token: audience a client id, no scp", async () => {
        const { scp: _scp, ...idClaims } = full();
        await expect401(await g.okta.forge({ ...idClaims, aud: CLIENTS.productsWeb.clientId }));
        await expect401(await g.okta.forge(idClaims));
    });
    it("refuses a sender-constrained token presented without its proof: DPoP (cnf.jkt) and mTLS (cnf.x5t#S256)", async () => {
        await expect401(await g.okta.forge({ ...full(), jti: "dpop", cnf: { jkt: "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I" } }));
        await expect401(await g.okta.forge({ ...full(), jti: "mtls", cnf: { "x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2" } }));
    });
});

describe("a token the server refused stays refused during its 429 back-off", () => {
    for (const mode of [{ INTROSPECTION_PRECHECK: "jwt" }, { TOKEN_VALIDATION: "hybrid" }] as Record<string, string>[]) {
        it(`${JSON.stringify(mode)}: refused again, even with the negative cache off, while new locally valid tokens are accepted`, async () => {
            // NEGATIVE_CACHE_TTL_SECONDS=0: the gateway's short-lived negative verdict is gone, as it is 10 s after a refusal by default.
            const g = await startGatewayUnderTest({ env: { ...mode, NEGATIVE_CACHE_TTL_SECONDS: "0" } });
            try {
                const claims = { iss: g.okta.issuer, aud: AUDIENCE, scp: ["myscope"], cid: CLIENTS.productsWeb.clientId, sub: CLIENTS.productsWeb.clientId };
                // Signed with the server's key, never issued (as a revoked token): the server answers inactive.
                const revoked = await g.okta.forge({ ...claims, jti: "revoked", iat: now(), exp: now() + 300 });
                assert.equal((await refused(g, () => send(g.url, "/api", { headers: bearer(revoked) }))).status, 401);
                g.okta.setFault({ kind: "introspectionStatus", status: 429, headers: { "retry-after": "30" }, body: '{"errorCode":"E0000047"}' });
                const fresh = await g.okta.forge({ ...claims, jti: "fresh", iat: now(), exp: now() + 300 });
                assert.equal((await send(g.url, "/api", { headers: bearer(fresh) })).status, 200, "the back-off accepts a token nobody refused");
                const replayed = await send(g.url, "/api", { headers: bearer(revoked) });
                assert.equal(replayed.status, 401, "the back-off never overrides the server's own refusal");
            } finally {
                g.okta.setFault({ kind: "none" });
                await g.stop();
            }
        });
    }
});

describe("shielding the authorization server: introspection with the local JWT pre-check (the default)", () => {
    let g: GatewayUnderTest;
    let claims: JWTPayload;
    let serial = 0;
    before(async () => {
        g = await startGatewayUnderTest({ env: { INTROSPECTION_PRECHECK: "jwt" } });
        claims = { iss: g.okta.issuer, aud: AUDIENCE, scp: ["myscope"], cid: CLIENTS.productsWeb.clientId, sub: CLIENTS.productsWeb.clientId };
    });
    after(() => g.stop());
    /** A correctly signed token with this issuer's claims, new each time (its own jti). */
    const genuine = () => g.okta.forge({ ...claims, jti: `t${serial++}`, iat: now(), exp: now() + 300 });
    const introspections = () => g.okta.calls.introspect;

    it("refuses, without asking the server, what cannot be one of its tokens", async () => {
        const attacker = await generateKeyPair("RS256");
        const junk = [
            "not-a-jwt",
            "a".repeat(64),
            `${b64({ alg: "none" })}.${b64({ ...claims })}.`,
            await new SignJWT({ ...claims, exp: now() + 300, iat: now() }).setProtectedHeader({ alg: "RS256", kid: "attacker" }).sign(attacker.privateKey),
            await g.okta.forge({ ...claims, iss: "https://evil.example/oauth2/aus1", iat: now(), exp: now() + 300 }),
            await g.okta.forge({ ...claims, iat: now() - 7200, exp: now() - 3600 }),
        ];
        const before = introspections();
        for (const t of junk) {
            const r = await refused(g, () => send(g.url, "/api", { headers: bearer(t) }));
            assert.equal(r.status, 401, t.slice(0, 20));
        }
        assert.equal(introspections(), before, "the authorization server was never asked");
    });
    it("knows one JWT by one spelling: padded or pad-bit variants are refused locally, never introspected or cached as new tokens", async () => {
        const token = await genuine();
        const [h, p, sig] = token.split(".");
        const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        const withBit = (seg: string) => seg.slice(0, -1) + alphabet[alphabet.indexOf(seg.at(-1) as string) | 1];
        const variants = [`${h}=.${p}.${sig}`, `${h}.${p}==.${sig}`, `${h}.${p}.${sig}=`];
        for (const seg of [h, p, sig]) if (seg.length % 4 !== 0) variants.push([h, p, sig].map((x) => (x === seg ? withBit(x) : x)).join("."));
        assert.ok(variants.length >= 4);
        const before = introspections();
        // 400 where `=` stands inside the token (RFC 6750's b64token allows it only at the end), else 401.
        for (const v of variants) assert.ok([400, 401].includes((await refused(g, () => send(g.url, "/api", { headers: bearer(v) }))).status), v.slice(-12));
        assert.equal((await refused(g, () => send(g.url, "/api", { headers: bearer(`${h}.${p}.${sig}=`) }))).status, 401);
        assert.equal(introspections(), before, "no variant reached the server");
    });
    it("asks the server about a token that passes the local check: it has the last word (revocation)", async () => {
        const before = introspections();
        const token = await genuine();
        // Signed with the server's own key, but never issued by it (or since revoked): the local check
        // passes, the server answers inactive, and the gateway refuses it.
        assert.equal((await refused(g, () => send(g.url, "/api", { headers: bearer(token) }))).status, 401);
        assert.equal(introspections(), before + 1);
    });
    it("accepts a locally verified token on that check alone while the server rate-limits us, and still refuses junk", async () => {
        g.okta.setFault({ kind: "introspectionStatus", status: 429, headers: { "retry-after": "30" }, body: '{"errorCode":"E0000047"}' });
        try {
            const r = await send(g.url, "/api", { headers: bearer(await genuine()) });
            assert.equal(r.status, 200, r.body);
            assert.equal(g.upstream.received.at(-1)?.headers["x-auth-client-id"], CLIENTS.productsWeb.clientId);
            const during = introspections();
            assert.equal((await send(g.url, "/api", { headers: bearer(await genuine()) })).status, 200, "a second new token during the back-off");
            assert.equal(introspections(), during, "no call to the server during its back-off");
            assert.equal((await refused(g, () => send(g.url, "/api", { headers: bearer("junk-token") }))).status, 401);
            const metrics = await (await fetch(`${g.adminUrl}/metrics`)).text();
            assert.match(metrics, /policy_gateway_introspection_errors_total\{reason="accepted_on_local_check"\} [1-9]/);
        } finally {
            g.okta.setFault({ kind: "none" });
        }
    });
});

describe("shielding the authorization server: introspections of new tokens per client address", () => {
    let g: GatewayUnderTest;
    let serial = 0;
    before(async () => {
        g = await startGatewayUnderTest({ env: { INTROSPECTION_PRECHECK: "jwt", INTROSPECTIONS_PER_CLIENT_PER_MINUTE: "3" } });
    });
    after(() => g.stop());

    it("answers 429 with Retry-After once a client has caused its share, without asking the server", async () => {
        const token = () =>
            g.okta.forge({ iss: g.okta.issuer, aud: AUDIENCE, scp: ["myscope"], cid: "0oaMany", jti: `m${serial++}`, iat: now(), exp: now() + 300 });
        const before = g.okta.calls.introspect;
        // Each passes the local check and is introspected (the server never issued them: inactive, 401).
        for (let i = 0; i < 3; i++) assert.equal((await send(g.url, "/api", { headers: bearer(await token()) })).status, 401);
        assert.equal(g.okta.calls.introspect, before + 3);
        const fourth = await token();
        const r = await refused(g, () => send(g.url, "/api", { headers: bearer(fourth) }));
        assert.equal(r.status, 429);
        assert.match(String(r.headers["retry-after"]), /^[1-9]\d*$/);
        assert.equal(g.okta.calls.introspect, before + 3, "the fourth never reached the server");
        assert.equal((await send(g.url, "/api", { headers: bearer("junk") })).status, 401, "junk is refused locally, whatever the budget");
    });
});

describe("attacks on introspection mode: a misbehaving or hostile answer", () => {
    let g: GatewayUnderTest;
    before(async () => {
        g = await startGatewayUnderTest({ env: { CACHE_MAX_TTL_SECONDS: "1", INTROSPECTION_TIMEOUT_MS: "300", BREAKER_FAILURE_THRESHOLD: "100" } });
    });
    after(() => g.stop());

    const answer = (body: object | string, status = 200) =>
        g.okta.setFault({ kind: "introspectionStatus", status, body: typeof body === "string" ? body : JSON.stringify(body) });
    const active = () => ({
        active: true,
        iss: g.okta.issuer,
        aud: AUDIENCE,
        scope: "myscope",
        client_id: CLIENTS.productsWeb.clientId,
        exp: now() + 300,
        token_type: "Bearer",
    });
    let n = 0;
    const call = () => send(g.url, "/api", { headers: bearer(`attack-token-${n++}`) });

    // Answers are built when each test runs, once the server (and its issuer) exists.
    for (const [name, body] of [
        ['active: "true" as a string', () => ({ ...active(), active: "true" })],
        ["active missing", () => ({ ...active(), active: undefined })],
        ["a wrong iss in an active answer", () => ({ ...active(), iss: "https://evil.example/oauth2/aus1" })],
        ["a wrong aud in an active answer", () => ({ ...active(), aud: "api://other" })],
    ] as const) {
        it(`answers 401 for ${name}`, async () => {
            answer(body());
            const r = await refused(g, call);
            g.okta.setFault({ kind: "none" });
            assert.equal(r.status, 401);
        });
    }

    it("accepts an answer without exp, but keeps it no longer than CACHE_MAX_TTL_SECONDS", async () => {
        const { exp: _exp, ...noExp } = active();
        answer(noExp);
        const token = "no-exp-token";
        assert.equal((await send(g.url, "/api", { headers: bearer(token) })).status, 200);
        const calls = g.okta.calls.introspect;
        assert.equal((await send(g.url, "/api", { headers: bearer(token) })).status, 200);
        assert.equal(g.okta.calls.introspect, calls, "cached inside the window");
        await new Promise((r) => setTimeout(r, 1_100));
        assert.equal((await send(g.url, "/api", { headers: bearer(token) })).status, 200);
        assert.equal(g.okta.calls.introspect, calls + 1, "asked again after the window");
        g.okta.setFault({ kind: "none" });
    });

    for (const [name, body, status] of [
        ["a non-JSON answer", "<html>gateway error</html>", 200],
        ["a 500 answer", '{"error":"server_error"}', 500],
    ] as const) {
        it(`answers 503, not 401, for ${name}, and does not cache it`, async () => {
            answer(body, status);
            const token = `not-cached-${status}-${body.length}`;
            const r = await refused(g, () => send(g.url, "/api", { headers: bearer(token) }));
            assert.equal(r.status, 503);
            assert.match(String(r.headers["retry-after"]), /^\d+$/);
            assert.ok(!r.body.includes("gateway error") && !r.body.includes("server_error"), "never echoes the server");
            answer(active());
            assert.equal((await send(g.url, "/api", { headers: bearer(token) })).status, 200, "asked again: nothing was cached");
            g.okta.setFault({ kind: "none" });
        });
    }

    it("answers 503 for a slow answer (timeout)", async () => {
        g.okta.setFault({ kind: "slow", delayMs: 1_000 });
        const r = await refused(g, call);
        g.okta.setFault({ kind: "none" });
        assert.equal(r.status, 503);
    });
});

describe("attacks with the request itself", () => {
    let g: GatewayUnderTest;
    let token: string;
    let port: number;
    before(async () => {
        g = await startGatewayUnderTest({ env: { ROUTE_RULES: JSON.stringify([{ path: "/admin/**", scopes: ["admin"] }]) } });
        token = await g.okta.token(CLIENTS.productsWeb, "myscope");
        port = Number(new URL(g.url).port);
    });
    after(() => g.stop());

    const PATH_TRICKS: [string, number][] = [
        ["//admin/users", 403],
        ["/./admin/users", 403],
        ["/x/../admin/users", 403],
        ["/x/%2e%2e/admin/users", 400],
        ["/x/%2E%2e/admin/users", 400],
        ["/%2561dmin/users", 403],
        ["/ADMIN/users", 403],
        ["/Admin/Users", 403],
        ["/admin%2fusers", 400],
        ["/admin%2Fusers", 400],
        ["/admin%252fusers", 400],
        ["/x/%252e%252e/admin", 400],
        ["/admin;jsessionid=x/users", 400],
        ["/admin;/users", 400],
        ["/..%2fadmin", 400],
        ["/../admin", 400],
        ["/admin\\users", 400],
    ];
    for (const [path, status] of PATH_TRICKS) {
        it(`${path} → ${status}`, async () => {
            const r = await refused(g, () => raw(port, `GET ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\n\r\n`));
            assert.equal(r, status);
        });
    }

    it("refuses CRLF and bare CR in header values (400 from the parser)", async () => {
        assert.equal(
            await refused(g, () =>
                raw(port, `GET /api HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nX-A: a\rX-Auth-Client-Id: evil\r\nConnection: close\r\n\r\n`),
            ),
            400,
        );
        assert.equal(
            await refused(g, () =>
                raw(port, `GET /api HTTP/1.1\r\nHost: x\r\nX-A: a\nX-Auth-Client-Id: evil\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\n\r\n`),
            ),
            400,
        );
    });
    it("refuses a request with both Content-Length and Transfer-Encoding (smuggling)", async () => {
        const r = await refused(g, () =>
            raw(
                port,
                `POST /api HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\nGET /admin/users HTTP/1.1\r\nHost: x\r\n\r\n`,
            ),
        );
        assert.equal(r, 400);
    });
    it("refuses a 100 KB header block with 431", async () => {
        const r = await refused(g, () =>
            raw(port, `GET /api HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nX-Big: ${"a".repeat(100_000)}\r\nConnection: close\r\n\r\n`),
        );
        assert.equal(r, 431);
    });
    it("forwards GET without the body a client attached to it", async () => {
        const body = "GET /admin/users HTTP/1.1\r\nHost: x\r\n\r\n";
        const r = await raw(
            port,
            `GET /api HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
        );
        assert.equal(r, 200);
        const seen = g.upstream.received.at(-1)!;
        assert.equal(seen.url, "/api");
        assert.equal(seen.body, "", "no body, hence nothing smuggled");
    });
    it("answers HTTP/1.0 without Host: 400 without a token, 200 with one, nothing invented for X-Forwarded-Host", async () => {
        assert.equal(await refused(g, () => raw(port, "GET /api HTTP/1.0\r\n\r\n")), 400);
        assert.equal(await raw(port, `GET /api HTTP/1.0\r\nAuthorization: Bearer ${token}\r\n\r\n`), 200);
        assert.equal(g.upstream.received.at(-1)!.headers["x-forwarded-host"], undefined);
    });
    it("drops identity headers spoofed in every case, with underscores, and repeated", async () => {
        const r = await raw(
            port,
            `GET /api HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nX-Auth-Client-Id: evil\r\nx-auth-client-id: evil2\r\nX_Auth_Scopes: admin\r\nx-AUTH-subject: root\r\nX-Auth-Anything: 1\r\nConnection: close\r\n\r\n`,
        );
        assert.equal(r, 200);
        const seen = g.upstream.received.at(-1)!;
        assert.equal(seen.headers["x-auth-client-id"], CLIENTS.productsWeb.clientId);
        assert.equal(seen.headers["x-auth-scopes"], "myscope");
        assert.equal(seen.headers["x-auth-subject"], undefined);
        assert.equal(seen.headers["x-auth-anything"], undefined);
        assert.ok(!Object.keys(seen.headers).some((h) => h.includes("_")), "no underscore variant passes");
    });
    it("refuses a token in both places, and Basic instead of Bearer, with 400", async () => {
        assert.equal(
            await refused(g, () =>
                raw(port, `GET /api?access_token=${token} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\n\r\n`),
            ),
            400,
        );
        assert.equal(
            await refused(g, () =>
                raw(port, `GET /api HTTP/1.1\r\nHost: x\r\nAuthorization: Basic ${Buffer.from("a:b").toString("base64")}\r\nConnection: close\r\n\r\n`),
            ),
            400,
        );
    });
});
