// Authorization bypasses: what the gateway decides must be what the API executes. Each case sends
// a request a lenient framework would route to a protected handler, and asserts both the
// gateway's answer and that the protected handler never ran (startLenientUpstream routes like
// Express/ASP.NET, honours method overrides and X-Original-URL).
import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, it } from "node:test";
import { CLIENTS, send, startGatewayUnderTest, type GatewayUnderTest } from "../support/gatewayHarness";
import { startLenientUpstream, type LenientUpstream } from "../support/lenientUpstream";

const RULES = [
    { path: "/settings", scopes: ["admin"] },
    { path: "/orders/*", methods: ["DELETE"], scopes: ["admin"] },
    { path: "/reports/", scopes: ["admin"] },
    { path: "/admin/**", scopes: ["admin"] },
];
const ROUTES = [
    { method: "GET", route: "/settings" },
    { method: "GET", route: "/orders/:id" },
    { method: "POST", route: "/orders/:id" },
    { method: "DELETE", route: "/orders/:id" },
    { method: "GET", route: "/reports" },
    { method: "GET", route: "/admin/users" },
    { method: "OPTIONS", route: "/orders/:id" },
];
/** The handlers the token (scope myscope, no admin) must never reach. */
const PROTECTED = new Set(["GET /settings", "DELETE /orders/:id", "GET /reports", "GET /admin/users"]);

/** Raw bytes in, status line out: for requests no HTTP client library would send. */
function rawStatus(port: number, text: string): Promise<number> {
    return new Promise((resolve) => {
        const socket = connect(port, "127.0.0.1");
        let data = "";
        socket.on("data", (c) => {
            data += c.toString("latin1");
            if (/\r\n\r\n/.test(data)) socket.destroy();
        });
        socket.on("close", () => resolve(Number(/^HTTP\/1\.[01] (\d{3})/.exec(data)?.[1] ?? 0)));
        socket.on("error", () => {});
        socket.setTimeout(3_000, () => socket.destroy());
        socket.write(text);
    });
}

async function gatewayInFrontOf(api: LenientUpstream, env: Record<string, string> = {}): Promise<GatewayUnderTest> {
    return startGatewayUnderTest({ env: { UPSTREAM_URL: api.url, ROUTE_RULES: JSON.stringify(RULES), CORS_ALLOWED_ORIGINS: "https://app.example", ...env } });
}

describe("bypasses: one canonical request (METHOD_OVERRIDE=strip, the default)", () => {
    let api: LenientUpstream;
    let g: GatewayUnderTest;
    let token: string;
    let port: number;
    before(async () => {
        api = await startLenientUpstream(ROUTES);
        g = await gatewayInFrontOf(api);
        token = await g.okta.token(CLIENTS.productsWeb, "myscope");
        port = Number(new URL(g.url).port);
    });
    after(async () => {
        await g.stop();
        await api.stop();
    });

    /** Sends the request; asserts no protected handler ran; returns the gateway's status. */
    async function through(method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<number> {
        const before = api.executed.length;
        const r = await send(g.url, path, { method, headers: { authorization: `Bearer ${token}`, ...headers }, body });
        const ran = api.executed.slice(before).map((e) => `${e.method} ${e.route}`);
        assert.ok(!ran.some((h) => PROTECTED.has(h)), `${method} ${path} ran ${ran.join(", ")} (gateway said ${r.status})`);
        return r.status;
    }

    it("the control: the token reaches an unprotected handler, and an admin token the protected one", async () => {
        assert.equal(await through("GET", "/orders/42"), 200);
        assert.equal(api.executed.at(-1)?.route, "/orders/:id");
        const admin = await g.okta.token(CLIENTS.admin, "myscope admin");
        assert.equal((await send(g.url, "/settings/", { headers: { authorization: `Bearer ${admin}` } })).status, 200);
        assert.equal(api.executed.at(-1)?.route, "/settings");
    });

    for (const path of [
        "/settings/",
        "/settings/.",
        "/settings/x/..",
        "/SETTINGS//",
        "/ſettings",
        "/Settings/",
        "/admın/users",
        "/ADMIN/USERS/",
        "/reports",
        "/REPORTS",
    ]) {
        // Sent percent-encoded, as HTTP clients send non-ASCII paths.
        it(`applies the rule to GET ${path}`, async () => assert.equal(await through("GET", encodeURI(path)), 403));
    }
    for (const path of ["/orders/42/", "/orders/42/.", "/ORDERS/42//"]) {
        it(`applies the DELETE rule to DELETE ${path}`, async () => assert.equal(await through("DELETE", path), 403));
    }

    for (const [name, headers, path] of [
        ["X-HTTP-Method-Override", { "x-http-method-override": "DELETE" }, "/orders/42"],
        ["X-HTTP-Method", { "x-http-method": "DELETE" }, "/orders/42"],
        ["X-Method-Override", { "x-method-override": "DELETE" }, "/orders/42"],
        ["X_HTTP_Method_Override", { X_HTTP_Method_Override: "DELETE" }, "/orders/42"],
        ["?_method=DELETE", {}, "/orders/42?_method=DELETE"],
    ] as const) {
        it(`strips the method override ${name}: the API runs the POST the rules were checked for`, async () => {
            assert.equal(await through("POST", path, headers as Record<string, string>), 200);
            const seen = api.executed.at(-1)!;
            assert.equal(`${seen.method} ${seen.route}`, "POST /orders/:id");
            for (const h of ["x-http-method-override", "x-http-method", "x-method-override", "x_http_method_override"])
                assert.equal(seen.headers[h], undefined, h);
        });
    }
    it("strips X-Original-URL and X-Rewrite-URL", async () => {
        assert.equal(await through("GET", "/orders/42", { "x-original-url": "/admin/users" }), 200);
        assert.equal(await through("GET", "/orders/42", { "x-rewrite-url": "/settings" }), 200);
        assert.equal(api.executed.at(-1)?.route, "/orders/:id");
    });

    describe("the CORS policy at the gateway", () => {
        const preflight = { origin: "https://app.example", "access-control-request-method": "DELETE", "access-control-request-headers": "authorization" };
        it("answers a real preflight itself: no handler of the API runs for a tokenless OPTIONS, not even an ANY-method one", async () => {
            const before = api.executed.length;
            const r = await send(g.url, "/orders/42", { method: "OPTIONS", headers: preflight });
            assert.equal(r.status, 204);
            assert.equal(r.headers["access-control-allow-origin"], "https://app.example");
            assert.match(String(r.headers["access-control-allow-methods"]), /DELETE/);
            assert.equal(r.headers["access-control-allow-headers"], "authorization, content-type");
            assert.equal(api.executed.length, before, "the API's OPTIONS handler never ran");
        });
        it("answers a preflight from an origin it does not allow without CORS fields, and forwards nothing", async () => {
            const before = api.executed.length;
            const r = await send(g.url, "/orders/42", { method: "OPTIONS", headers: { ...preflight, origin: "https://evil.example" } });
            assert.equal(r.status, 204);
            assert.equal(r.headers["access-control-allow-origin"], undefined);
            assert.equal(api.executed.length, before);
        });
        it("gives a page of an allowed origin the CORS fields on the API's answers and on the gateway's own refusals", async () => {
            const ok = await send(g.url, "/orders/42", { headers: { authorization: `Bearer ${token}`, origin: "https://app.example" } });
            assert.equal(ok.status, 200);
            assert.equal(ok.headers["access-control-allow-origin"], "https://app.example");
            assert.match(String(ok.headers["access-control-expose-headers"]), /RateLimit/);
            const refused = await send(g.url, "/settings", { headers: { authorization: `Bearer ${token}`, origin: "https://app.example" } });
            assert.equal(refused.status, 403);
            assert.equal(refused.headers["access-control-allow-origin"], "https://app.example", "the page can read why");
            const other = await send(g.url, "/orders/42", { headers: { authorization: `Bearer ${token}`, origin: "https://evil.example" } });
            assert.equal(other.headers["access-control-allow-origin"], undefined);
        });
        for (const [name, extra, body] of [
            // Content-Length stated: Node's client frames no body on OPTIONS by itself.
            ["a body", { "content-type": "text/plain", "content-length": "17" }, "DELETE everything"],
            ["a chunked body", { "content-type": "text/plain", "transfer-encoding": "chunked" }, "DELETE everything"],
            ["an Authorization header", { authorization: "Bearer forged" }, undefined],
            ["a method override", { "x-http-method-override": "DELETE" }, undefined],
            ["a cookie", { cookie: "session=1" }, undefined],
        ] as const) {
            it(`treats an OPTIONS with ${name} as an ordinary request that needs a token`, async () => {
                const before = api.executed.length;
                const r = await send(g.url, "/orders/42", { method: "OPTIONS", headers: { ...preflight, ...extra }, body });
                assert.ok([400, 401].includes(r.status), `status ${r.status}`);
                assert.deepEqual(
                    api.executed.slice(before).map((e) => `${e.method} ${e.route}`),
                    [],
                    "nothing reached the API",
                );
            });
        }
    });

    it("drops the Forwarded family and client-IP headers, in any spelling", async () => {
        const spoof = {
            forwarded: "for=10.0.0.1;proto=https",
            "x-real-ip": "10.0.0.1",
            "true-client-ip": "10.0.0.1",
            "x-client-ip": "10.0.0.1",
            "client-ip": "10.0.0.1",
            "cf-connecting-ip": "10.0.0.1",
            X_Forwarded_For: "10.0.0.1",
            X_Real_IP: "10.0.0.1",
        };
        assert.equal(await through("GET", "/orders/42", spoof), 200);
        const seen = api.executed.at(-1)!.headers;
        for (const h of ["forwarded", "x-real-ip", "true-client-ip", "x-client-ip", "client-ip", "cf-connecting-ip", "x_forwarded_for", "x_real_ip"])
            assert.equal(seen[h], undefined, h);
        assert.equal(seen["x-forwarded-for"], "127.0.0.1");
    });

    it("refuses two Host headers and an invalid Host with 400 (RFC 9112 §3.2)", async () => {
        const req = (host: string) => `GET /orders/42 HTTP/1.1\r\n${host}Authorization: Bearer ${token}\r\nConnection: close\r\n\r\n`;
        const before = api.executed.length;
        assert.equal(await rawStatus(port, req("Host: a.example\r\nHost: b.example\r\n")), 400);
        assert.equal(await rawStatus(port, req("Host: evil.example/path\r\n")), 400);
        assert.equal(await rawStatus(port, req("Host: a@b\r\n")), 400);
        assert.equal(await rawStatus(port, req("Host: gw.example:8080\r\n")), 200, "the control");
        assert.equal(await rawStatus(port, req("Host: [::1]:8080\r\n")), 200, "an IP literal");
        assert.equal(api.executed.length, before + 2);
    });

    it("refuses a fragment in the request target with 400: DELETE /orders/42#x never deletes id 42#x", async () => {
        const req = (target: string) => `DELETE ${target} HTTP/1.1\r\nHost: gw.example\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\n\r\n`;
        const get = (target: string) => `GET ${target} HTTP/1.1\r\nHost: gw.example\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\n\r\n`;
        const before = api.executed.length;
        assert.equal(await rawStatus(port, req("/orders/42#x")), 400);
        assert.equal(await rawStatus(port, get("/settings#frag")), 400, "not decided as settings#frag and forwarded as /settings%23frag");
        assert.equal(await rawStatus(port, get("/orders/42?a=1#x")), 400);
        assert.equal(api.executed.length, before, "nothing reached the API");
    });
});

describe("bypasses: METHOD_OVERRIDE=evaluate checks every method the API may run", () => {
    let api: LenientUpstream;
    let g: GatewayUnderTest;
    let token: string;
    before(async () => {
        api = await startLenientUpstream(ROUTES);
        g = await gatewayInFrontOf(api, { METHOD_OVERRIDE: "evaluate" });
        token = await g.okta.token(CLIENTS.productsWeb, "myscope");
    });
    after(async () => {
        await g.stop();
        await api.stop();
    });

    it("refuses a POST whose override names a method the token may not run, and forwards the override it allowed", async () => {
        const bearer = { authorization: `Bearer ${token}` };
        assert.equal((await send(g.url, "/orders/42", { method: "POST", headers: { ...bearer, "x-http-method-override": "DELETE" } })).status, 403);
        assert.equal((await send(g.url, "/orders/42?_method=delete", { method: "POST", headers: bearer })).status, 403);
        assert.ok(!api.executed.some((e) => e.method === "DELETE"));
        assert.equal((await send(g.url, "/orders/42", { method: "POST", headers: { ...bearer, "x-http-method-override": "GET" } })).status, 200);
        assert.equal(`${api.executed.at(-1)?.method} ${api.executed.at(-1)?.route}`, "GET /orders/:id");
    });
});
