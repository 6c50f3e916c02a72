// The gateway in front of real frameworks: what the rules were checked for is what the framework
// runs. Symfony HttpFoundation on PHP (Debian's php-cli and php-symfony-http-foundation), with
// method-parameter override on (as Laravel has it): PHP registers `.method`, `%20_method`,
// `_method%00` and `[method` as `_method`, so each must count as the override.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CLIENTS, send, startGatewayUnderTest, type GatewayUnderTest } from "../support/gatewayHarness";
import { startSymfonyUpstream, type SymfonyUpstream } from "../support/symfonyUpstream";
import { startExpressWithMethodOverride, startHonoWithMethodOverride, type FrameworkUpstream } from "../support/nodeFrameworks";
import { gzipSync } from "node:zlib";
import { startNginxWithLocations, type NginxUpstream } from "../support/nginxUpstream";

const RULES = [{ path: "/orders/*", methods: ["DELETE"], scopes: ["admin"] }];
/** Spellings of `?_method=DELETE` that PHP registers as `_method` (php-src main/php_variables.c). */
const MANGLED = ["_method", ".method", "%20_method", "+_method", "_method%00", "_method%00%ff", "[method", "%5Fmethod", "%20.method"];

describe("behind Symfony (PHP), method-parameter override on", () => {
    let api: SymfonyUpstream;
    before(async () => {
        api = await startSymfonyUpstream();
    });
    after(async () => {
        await api.stop();
    });

    for (const mode of ["strip", "evaluate"] as const) {
        describe(`METHOD_OVERRIDE=${mode}`, () => {
            let g: GatewayUnderTest;
            let readOnly: Record<string, string>;
            let admin: Record<string, string>;
            before(async () => {
                g = await startGatewayUnderTest({ env: { UPSTREAM_URL: api.url, ROUTE_RULES: JSON.stringify(RULES), METHOD_OVERRIDE: mode } });
                readOnly = { authorization: `Bearer ${await g.okta.token(CLIENTS.productsWeb, "myscope")}` };
                admin = { authorization: `Bearer ${await g.okta.token(CLIENTS.admin, "myscope admin")}` };
            });
            after(async () => {
                await g.stop();
            });

            it("never lets Symfony run DELETE for a token without the DELETE rule's scope, whatever the parameter's spelling", async () => {
                for (const name of MANGLED) {
                    const before = (await api.executed()).length;
                    const r = await send(g.url, `/orders/42?${name}=DELETE`, { method: "POST", headers: readOnly });
                    const ran = (await api.executed()).slice(before);
                    assert.ok(!ran.some((e) => e.method === "DELETE"), `${name}: Symfony ran ${JSON.stringify(ran)}`);
                    if (mode === "strip") {
                        // Forwarded without the override: Symfony runs the POST the rules were checked for.
                        assert.equal(r.status, 200, name);
                        assert.deepEqual(
                            ran.map((e) => e.method),
                            ["POST"],
                            name,
                        );
                    } else assert.equal(r.status, 403, `${name}: the override needs the DELETE rule's scope`);
                }
            });

            it(mode === "strip" ? "runs the POST itself for a token with the scope" : "lets a token with the DELETE rule's scope override", async () => {
                const before = (await api.executed()).length;
                const r = await send(g.url, "/orders/42?.method=DELETE&x=1", { method: "POST", headers: admin });
                assert.equal(r.status, 200);
                const [ran] = (await api.executed()).slice(before);
                assert.equal(ran.method, mode === "strip" ? "POST" : "DELETE");
                assert.deepEqual(ran.query.x, "1", "the other parameters are forwarded");
            });
        });
    }
});

/** POST /orders/42 with a form body naming `_method`, urlencoded or multipart, as a browser form (or curl -F) sends it. */
function formWith(kind: "urlencoded" | "multipart", fields: Record<string, string>): { body: string | FormData; headers: Record<string, string> } {
    if (kind === "urlencoded") return { body: new URLSearchParams(fields).toString(), headers: { "content-type": "application/x-www-form-urlencoded" } };
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    return { body: form, headers: {} };
}

for (const start of [startExpressWithMethodOverride, startHonoWithMethodOverride]) {
    describe(`behind ${start === startExpressWithMethodOverride ? "express 5 with method-override (body)" : "Hono's methodOverride (form field)"}`, () => {
        let api: FrameworkUpstream;
        before(async () => {
            api = await start();
        });
        after(() => api.stop());
        const kinds = start === startExpressWithMethodOverride ? (["urlencoded"] as const) : (["urlencoded", "multipart"] as const);

        for (const mode of ["strip", "evaluate"] as const) {
            describe(`METHOD_OVERRIDE=${mode}`, () => {
                let g: GatewayUnderTest;
                let readOnly: string;
                let admin: string;
                before(async () => {
                    g = await startGatewayUnderTest({ env: { UPSTREAM_URL: api.url, ROUTE_RULES: JSON.stringify(RULES), METHOD_OVERRIDE: mode } });
                    readOnly = await g.okta.token(CLIENTS.productsWeb, "myscope");
                    admin = await g.okta.token(CLIENTS.admin, "myscope admin");
                });
                after(() => g.stop());

                for (const kind of kinds)
                    it(`never runs DELETE for a read-only token that posts a ${kind} _method field (nor .method, nor PUT/PATCH)`, async () => {
                        for (const fields of [{ _method: "DELETE" }, { name: "x", _method: "delete" }, { ".method": "DELETE" }, { _method: "PUT" }] as Record<
                            string,
                            string
                        >[]) {
                            const before = api.ran.length;
                            const { body, headers } = formWith(kind, fields);
                            const r = await fetch(`${g.url}/orders/42`, { method: "POST", body, headers: { ...headers, authorization: `Bearer ${readOnly}` } });
                            await r.arrayBuffer();
                            const ran = api.ran.slice(before);
                            assert.ok(!ran.some((m) => m.startsWith("DELETE")), `${JSON.stringify(fields)}: ran ${ran.join(",")}`);
                            if (fields._method === "PUT" && mode === "evaluate") {
                                // PUT needs no more than the default scope here: allowed, and run as PUT.
                                assert.equal(r.status, 200);
                                continue;
                            }
                            assert.equal(r.status, mode === "strip" ? 400 : fields._method === "PUT" ? 400 : 403, JSON.stringify(fields));
                        }
                    });

                it("forwards a form without an override untouched, and in evaluate mode the override a token may run", async () => {
                    const plain = await fetch(`${g.url}/orders/42`, {
                        method: "POST",
                        body: "name=x&qty=2",
                        headers: { "content-type": "application/x-www-form-urlencoded", authorization: `Bearer ${readOnly}` },
                    });
                    assert.equal(plain.status, 200);
                    assert.equal(api.ran.at(-1), "POST /orders/:id");
                    const del = await fetch(`${g.url}/orders/42`, {
                        method: "POST",
                        body: "_method=DELETE",
                        headers: { "content-type": "application/x-www-form-urlencoded", authorization: `Bearer ${admin}` },
                    });
                    await del.arrayBuffer();
                    if (mode === "evaluate") {
                        assert.equal(del.status, 200);
                        assert.equal(api.ran.at(-1), "DELETE /orders/:id");
                    } else assert.equal(del.status, 400, "strip: no body override at all");
                });

                it("refuses a compressed form body (415): it could not be read for _method as it passes", async () => {
                    const before = api.ran.length;
                    const r = await fetch(`${g.url}/orders/42`, {
                        method: "POST",
                        body: gzipSync("_method=DELETE"),
                        headers: { "content-type": "application/x-www-form-urlencoded", "content-encoding": "gzip", authorization: `Bearer ${admin}` },
                    });
                    assert.equal(r.status, 415);
                    assert.equal(api.ran.length, before);
                });
            });
        }
    });
}

describe("behind nginx, whose `location /admin` is a string prefix", () => {
    let api: NginxUpstream;
    before(async () => {
        api = await startNginxWithLocations();
    });
    after(() => api.stop());

    /** Raw request targets (no client re-encodes them), and the body nginx answered with. */
    async function through(g: GatewayUnderTest, token: string, target: string): Promise<{ status: number; body: string }> {
        const r = await send(g.url, target, { headers: { authorization: `Bearer ${token}` } });
        return { status: r.status, body: r.body.trim() };
    }

    it("a whole-segment rule (/admin/**) leaves /adminx and /admin.php to the admin location: why the prefix rule exists", async () => {
        const g = await startGatewayUnderTest({ env: { UPSTREAM_URL: api.url, ROUTE_RULES: JSON.stringify([{ path: "/admin/**", scopes: ["admin"] }]) } });
        try {
            const readOnly = await g.okta.token(CLIENTS.productsWeb, "myscope");
            assert.deepEqual(await through(g, readOnly, "/adminx"), { status: 200, body: "location /admin" });
        } finally {
            await g.stop();
        }
    });

    it("a prefix rule (/admin*) covers everything the location serves, and nothing else", async () => {
        const g = await startGatewayUnderTest({ env: { UPSTREAM_URL: api.url, ROUTE_RULES: JSON.stringify([{ path: "/admin*", scopes: ["admin"] }]) } });
        try {
            const readOnly = await g.okta.token(CLIENTS.productsWeb, "myscope");
            const admin = await g.okta.token(CLIENTS.admin, "myscope admin");
            for (const target of ["/admin", "/admin/", "/adminx", "/admin.php", "/admin/users", "/admin%20/x", "/admin-panel"]) {
                assert.equal((await through(g, readOnly, target)).status, 403, target);
                assert.deepEqual(await through(g, admin, target), { status: 200, body: "location /admin" }, target);
            }
            assert.deepEqual(await through(g, readOnly, "/adm"), { status: 200, body: "location /" });
            assert.deepEqual(await through(g, readOnly, "/x/admin"), { status: 200, body: "location /" });
        } finally {
            await g.stop();
        }
    });
});
