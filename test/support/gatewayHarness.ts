// Everything a gateway test needs on loopback: the local authorization server, a sample upstream
// ("Products API") that records what reaches it, and a gateway wired to both.
import assert from "node:assert/strict";
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { Writable } from "node:stream";
import pino from "pino";
import { loadConfig } from "../../policy-gateway/src/config/load";
import { createGateway, type Gateway } from "../../policy-gateway/src/server/gateway";
import { startLocalOkta, type LocalOkta, type LocalOktaOptions } from "../../harness/localOkta";
import { startSampleUpstream, type SampleUpstream } from "../../harness/sampleUpstream";

export { startSampleUpstream, type SampleUpstream };

export const AUDIENCE = "api://products";
export const CLIENTS = {
    productsWeb: { clientId: "0oaProductsWeb000001", clientSecret: "products-web-secret-0123456789abcdef", scopes: ["myscope", "products:read"] },
    reporting: { clientId: "0oaReporting00000001", clientSecret: "reporting-secret-0123456789abcdefgh", scopes: ["products:read"] },
    admin: { clientId: "0oaAdmin000000000001", clientSecret: "admin-secret-0123456789abcdefghijkl", scopes: ["myscope", "products:read", "admin"] },
};
export const INTROSPECTION_CLIENT = { clientId: "0oaIntrospection0001", clientSecret: "introspection-secret-0123456789abcd" };

/** The local authorization server with the test clients, and the recording sample upstream: what every gateway test stands on. */
export async function startOktaAndUpstream(okta: Partial<LocalOktaOptions> = {}): Promise<{ okta: LocalOkta; upstream: SampleUpstream }> {
    const server = await startLocalOkta({
        audience: AUDIENCE,
        scopes: ["myscope", "products:read"],
        clients: Object.values(CLIENTS),
        introspectionClient: INTROSPECTION_CLIENT,
        ...okta,
    });
    return { okta: server, upstream: await startSampleUpstream() };
}

/** The environment a gateway gets in tests: wired to the local server and upstream, on loopback, free ports. */
export function gatewayEnv(okta: LocalOkta, upstream: SampleUpstream, extra: Record<string, string> = {}): Record<string, string> {
    return {
        UPSTREAM_URL: upstream.url,
        OIDC_ISSUER: okta.issuer,
        AUDIENCE,
        INTROSPECTION_CLIENT_ID: INTROSPECTION_CLIENT.clientId,
        INTROSPECTION_CLIENT_SECRET: INTROSPECTION_CLIENT.clientSecret,
        REQUIRED_SCOPES: "myscope",
        PORT: "0",
        ADMIN_PORT: "0",
        HOST: "127.0.0.1",
        // oidc-provider's opaque tokens are not JWTs (Okta's are): the local pre-check is tested on its
        // own, with JWTs, in attacks.test.ts.
        INTROSPECTION_PRECHECK: "off",
        ...extra,
    };
}

export interface GatewayUnderTest {
    okta: LocalOkta;
    upstream: SampleUpstream;
    gateway: Gateway;
    url: string;
    adminUrl: string;
    logs: string[];
    stop(): Promise<void>;
}

export async function startGatewayUnderTest(
    opts: {
        env?: Record<string, string>;
        okta?: Partial<LocalOktaOptions>;
        /** APIS, given the sample upstream's URL (the gateway's other settings as in `env`). */
        apis?: (upstreamUrl: string) => unknown[];
    } = {},
): Promise<GatewayUnderTest> {
    const { okta, upstream } = await startOktaAndUpstream({ scopes: ["myscope", "products:read", "admin"], ...opts.okta });
    const config = loadConfig(gatewayEnv(okta, upstream, { ...opts.env, ...(opts.apis ? { APIS: JSON.stringify(opts.apis(upstream.url)) } : {}) }));
    const logs: string[] = [];
    const sink = new Writable({
        write(chunk: Buffer, _enc, cb) {
            logs.push(chunk.toString());
            cb();
        },
    });
    const gateway = createGateway(config, { logger: pino({ level: "debug" }, sink) });
    const { port, adminPort } = await gateway.start();
    const deadline = Date.now() + 10_000;
    while (!gateway.ready) {
        if (Date.now() > deadline) throw new Error("gateway did not become ready");
        await new Promise((r) => setTimeout(r, 20));
    }
    return {
        okta,
        upstream,
        gateway,
        url: `http://127.0.0.1:${port}`,
        adminUrl: `http://127.0.0.1:${adminPort}`,
        logs,
        async stop() {
            await gateway.close();
            await upstream.stop();
            await okta.stop();
        },
    };
}

export interface RawResponse {
    status: number;
    headers: IncomingHttpHeaders;
    body: string;
}

/** An HTTP request with full control: repeated headers (as arrays), any path, a body on any method. */
export function send(
    baseUrl: string,
    path: string,
    opts: { method?: string; headers?: Record<string, string | string[]>; body?: string } = {},
): Promise<RawResponse> {
    const u = new URL(baseUrl);
    return new Promise((resolve, reject) => {
        const req = httpRequest({ host: u.hostname, port: u.port, path, method: opts.method ?? "GET", headers: opts.headers, agent: false }, (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
        });
        req.on("error", reject);
        req.end(opts.body);
    });
}

/**
 * The MuleSoft walkthrough through a running gateway at `base`: a token by client credentials, then
 * 400 without it, 200 by header and by query parameter (removed upstream), 403 without the scope.
 * Returns the token, for checks of what the gateway logged.
 */
export async function assertWalkthrough(base: string, okta: LocalOkta, upstream: SampleUpstream): Promise<string> {
    const token = await okta.token(CLIENTS.productsWeb, "myscope");
    const none = await send(base, "/api/products");
    assert.equal(none.status, 400);
    assert.deepEqual(JSON.parse(none.body), { error: "Access token was not provided" });
    assert.equal((await send(base, "/api/products", { headers: { authorization: `Bearer ${token}` } })).status, 200);
    assert.equal((await send(base, `/api/products?access_token=${token}`)).status, 200);
    assert.equal(upstream.received.at(-1)!.url, "/api/products");
    assert.equal(upstream.received.at(-1)!.headers["x-auth-client-id"], CLIENTS.productsWeb.clientId);
    const limited = await okta.token(CLIENTS.reporting, "products:read");
    assert.equal((await send(base, "/api/products", { headers: { authorization: `Bearer ${limited}` } })).status, 403);
    return token;
}

/** The Authorization header of a bearer token (RFC 6750 §2.1). */
export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
