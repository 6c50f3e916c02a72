// The gateway in front of real frameworks: what the rules were checked for is what the framework
// runs. Symfony HttpFoundation on PHP (Debian's php-cli and php-symfony-http-foundation), with
// method-parameter override on (as Laravel has it): PHP registers `.method`, `%20_method`,
// `_method%00` and `[method` as `_method`, so each must count as the override.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CLIENTS, send, startGatewayUnderTest, type GatewayUnderTest } from "../support/gatewayHarness";
import { startSymfonyUpstream, type SymfonyUpstream } from "../support/symfonyUpstream";

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
