// Authorization parity: the route rules mean what the frameworks behind the gateway route. The
// bypass corpus (test/support/parity/corpus.ts) is sent to each real framework directly, to learn
// what it runs for each request, then through the gateway with a token without `admin` and with
// one that has it. Asserted for every framework, under both METHOD_OVERRIDE modes:
// - no handler a rule protects ever runs for the token without `admin`;
// - a token is served what the framework serves (the same handler, the same id) for every request
//   whose handlers its scopes allow. The gateway may refuse such a request only where the
//   frameworks disagree on what it means (then any answer would be wrong for some API), or, with
//   METHOD_OVERRIDE=evaluate, where it carries an override the token may not run: the gateway
//   cannot know which overrides an API honours (PHP's `.method`, ASP.NET's X-HTTP-Method), and
//   `strip` is the mode that serves them. A request the corpus marks `refusedBecause` is refused
//   for a server outside the suite (a raw `;` is a path parameter to Tomcat and Spring).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CLIENTS, send, startGatewayUnderTest, type GatewayUnderTest } from "../support/gatewayHarness";
import { handlerOf, PARITY_RULES, PROTECTED, type Handler, type ParityUpstream } from "../support/parity/api";
import { bypassCorpus, controls, describeShape, type Shape } from "../support/parity/corpus";
import { startExpress4, startExpress5, startFastify, startHono, startKoa } from "../support/parity/nodeApps";
import { startPythonApp } from "../support/parity/pythonApps";
import { startApache, startNginx } from "../support/parity/webServers";

const FRAMEWORKS: { name: string; start: () => Promise<ParityUpstream>; cannotRun?: Handler[] }[] = [
    { name: "express 4", start: startExpress4 },
    { name: "express 5", start: startExpress5 },
    { name: "fastify", start: startFastify },
    { name: "koa", start: startKoa },
    { name: "Hono", start: startHono },
    { name: "Flask", start: () => startPythonApp("flask") },
    { name: "Django", start: () => startPythonApp("django") },
    { name: "FastAPI", start: () => startPythonApp("fastapi") },
    { name: "nginx", start: startNginx },
    // Static files: Apache runs no DELETE.
    { name: "Apache httpd", start: startApache, cannotRun: ["orders.delete"] },
];
const SHAPES: Shape[] = [...bypassCorpus(), ...controls()];

/** The readings each request of the corpus made the framework run, one list per shape. */
async function readingsOf(api: ParityUpstream, base: string, authorization: string | undefined): Promise<string[][]> {
    let seen = (await api.ran()).length;
    const out: string[][] = [];
    for (const shape of SHAPES) {
        const headers: Record<string, string> = { ...shape.headers };
        if (authorization && shape.token !== false) headers.authorization = authorization;
        if (shape.body !== undefined) headers["content-length"] = String(Buffer.byteLength(shape.body));
        await send(base, shape.target, { method: shape.method, headers, body: shape.body }).catch(() => undefined);
        const ran = await api.ran();
        out.push(ran.slice(seen));
        seen = ran.length;
    }
    return out;
}

const key = (readings: string[]) => JSON.stringify(readings);

describe("authorization parity: the bypass corpus through the gateway in front of real frameworks", () => {
    const direct = new Map<string, string[][]>();
    const upstreams = new Map<string, ParityUpstream>();
    before(async () => {
        for (const f of FRAMEWORKS) {
            const api = await f.start();
            upstreams.set(f.name, api);
            direct.set(f.name, await readingsOf(api, api.url, undefined));
        }
    });
    after(async () => {
        for (const api of upstreams.values()) await api.stop();
    });
    /** Whether the frameworks run different handlers (or ids) for shape i. */
    const disputed = (i: number) => new Set([...direct.values()].map((r) => key(r[i]))).size > 1;

    for (const f of FRAMEWORKS) {
        describe(f.name, () => {
            it(`is reached directly, by the corpus, in every handler a rule protects (${SHAPES.length} requests)`, () => {
                const reached = new Set(direct.get(f.name)!.flat().map(handlerOf));
                for (const h of PROTECTED) if (!f.cannotRun?.includes(h)) assert.ok(reached.has(h), `${h} never ran: the corpus would prove nothing`);
            });

            for (const mode of ["strip", "evaluate"] as const) {
                describe(`METHOD_OVERRIDE=${mode}`, () => {
                    let g: GatewayUnderTest;
                    let readOnly: string[][];
                    let admin: string[][];
                    before(async () => {
                        const api = upstreams.get(f.name)!;
                        g = await startGatewayUnderTest({
                            env: {
                                UPSTREAM_URL: api.url,
                                ROUTE_RULES: JSON.stringify(PARITY_RULES),
                                METHOD_OVERRIDE: mode,
                                CORS_ALLOWED_ORIGINS: "https://app.example",
                            },
                        });
                        readOnly = await readingsOf(api, g.url, `Bearer ${await g.okta.token(CLIENTS.productsWeb, "myscope")}`);
                        admin = await readingsOf(api, g.url, `Bearer ${await g.okta.token(CLIENTS.admin, "myscope admin")}`);
                    });
                    after(() => g.stop());

                    it("never runs a handler a rule protects for a token without its scope", () => {
                        const breaches = SHAPES.flatMap((s, i) =>
                            readOnly[i].some((r) => PROTECTED.has(handlerOf(r))) ? [`${describeShape(s)} ran ${readOnly[i].join(", ")}`] : [],
                        );
                        assert.deepEqual(breaches, []);
                    });

                    it("serves a token what the framework serves, for every request its scopes allow, unless frameworks disagree on it", () => {
                        const mine = direct.get(f.name)!;
                        const wrong: string[] = [];
                        for (const [token, through] of [
                            ["admin", admin],
                            ["read-only", readOnly],
                        ] as const) {
                            SHAPES.forEach((s, i) => {
                                if (mine[i].length === 0) return; // the framework serves nothing for it
                                if (token === "read-only" && mine[i].some((r) => PROTECTED.has(handlerOf(r)))) return;
                                if (token === "read-only" && mode === "evaluate" && s.override === "DELETE") {
                                    if (through[i].length > 0) wrong.push(`read-only: ${describeShape(s)}: forwarded an override to DELETE`);
                                    return;
                                }
                                const same = key(through[i]) === key(mine[i]);
                                // strip removes overrides: the framework runs the request line's method.
                                const served = mode === "strip" ? through[i].length > 0 : same;
                                if (!served && !(through[i].length === 0 && (disputed(i) || s.refusedBecause)))
                                    wrong.push(
                                        `${token}: ${describeShape(s)}: direct ${mine[i].join(", ")}; through the gateway ${through[i].join(", ") || "nothing"}`,
                                    );
                            });
                        }
                        assert.deepEqual(wrong, []);
                    });
                });
            }
        });
    }
});
