// The shipped artefact: policy-gateway/dist/gateway.mjs (built by `npm run build`) started as its
// own process with only environment variables, as the container runs it.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { assertWalkthrough, CLIENTS, gatewayEnv, INTROSPECTION_CLIENT, type SampleUpstream, send, startOktaAndUpstream } from "../support/gatewayHarness";
import type { LocalOkta } from "../../harness/localOkta";
import { BUNDLE, startBundle, type Running } from "../support/bundleProcess";

/** The bundle with the given WORKERS, in front of the local server and the sample upstream, for one suite. */
async function startBundleSuite(workers: string): Promise<{ okta: LocalOkta; upstream: SampleUpstream; gw: Running; stop(): Promise<void> }> {
    assert.ok(existsSync(BUNDLE), "run `npm run build` first (npm test does)");
    const { okta, upstream } = await startOktaAndUpstream();
    const gw = await startBundle(gatewayEnv(okta, upstream, { WORKERS: workers }));
    return {
        okta,
        upstream,
        gw,
        async stop() {
            gw.child.kill("SIGKILL");
            await upstream.stop();
            await okta.stop();
        },
    };
}

describe("the bundled gateway process", () => {
    let okta: LocalOkta;
    let upstream: SampleUpstream;
    let gw: Running;
    let stop: () => Promise<void>;
    before(async () => {
        ({ okta, upstream, gw, stop } = await startBundleSuite("1"));
    });
    after(() => stop());

    it("runs the MuleSoft walkthrough: token by client credentials, then 400 without it, 200 by header and by query", async () => {
        const token = await assertWalkthrough(`http://127.0.0.1:${gw.port}`, okta, upstream);
        const logs = gw.lines.join("\n");
        assert.ok(!logs.includes(token) && !logs.includes(INTROSPECTION_CLIENT.clientSecret), "no token or secret on stdout");
    });

    it("drains an in-flight request on SIGTERM, then exits 0", async () => {
        const token = await okta.token(CLIENTS.productsWeb, "myscope");
        upstream.delayMs = 400;
        const inFlight = send(`http://127.0.0.1:${gw.port}`, "/api/slow", { headers: { authorization: `Bearer ${token}` } });
        await new Promise((r) => setTimeout(r, 150));
        gw.child.kill("SIGTERM");
        const r = await inFlight;
        assert.equal(r.status, 200, "the in-flight request completed");
        assert.equal(await gw.exited, 0);
    });

    it("refuses to start without its required variables, naming them", () => {
        const r = spawnSync(process.execPath, [BUNDLE], { env: { PATH: process.env.PATH ?? "", UPSTREAM_URL: "ftp://x" }, encoding: "utf8", timeout: 10_000 });
        assert.equal(r.status, 2);
        assert.match(r.stderr, /UPSTREAM_URL: must be an http\(s\) URL/);
        assert.match(r.stderr, /OIDC_ISSUER: is required/);
        assert.match(r.stderr, /AUDIENCE: is required/);
    });
});

describe("the bundled gateway with WORKERS=2", () => {
    let okta: LocalOkta;
    let gw: Running;
    let stop: () => Promise<void>;
    before(async () => {
        ({ okta, gw, stop } = await startBundleSuite("2"));
    });
    after(() => stop());

    it("serves from both workers, on one port, after /readyz turned 200", async () => {
        const token = await okta.token(CLIENTS.productsWeb, "myscope");
        const answers = await Promise.all(
            Array.from({ length: 40 }, () => send(`http://127.0.0.1:${gw.port}`, "/api/products", { headers: { authorization: `Bearer ${token}` } })),
        );
        assert.ok(answers.every((a) => a.status === 200));
        await new Promise((r) => setTimeout(r, 1_300)); // each worker flushes its buffered log lines within a second
        const pids = new Set(gw.lines.filter((l) => l.includes('"msg":"request"')).map((l) => (JSON.parse(l) as { pid: number }).pid));
        assert.equal(pids.size, 2, "both workers answered");
    });

    it("introspects each token once for the whole container, however the requests spread over the workers", async () => {
        const tokens = await Promise.all(Array.from({ length: 5 }, () => okta.token(CLIENTS.productsWeb, "myscope")));
        const before = okta.calls.introspect;
        for (let round = 0; round < 3; round++) {
            const answers = await Promise.all(
                tokens.flatMap((t) =>
                    Array.from({ length: 8 }, () => send(`http://127.0.0.1:${gw.port}`, "/api/products", { headers: { authorization: `Bearer ${t}` } })),
                ),
            );
            assert.ok(answers.every((a) => a.status === 200));
        }
        assert.equal(okta.calls.introspect - before, tokens.length, "one introspection per distinct token");
    });

    it("merges the workers' metrics on the primary's admin port", async () => {
        const text = await (await fetch(`http://127.0.0.1:${gw.adminPort}/metrics`)).text();
        const allowed = Number(/policy_gateway_decisions_total\{outcome="allowed"\} (\d+)/.exec(text)?.[1]);
        assert.ok(allowed >= 40 + 5 * 8 * 3, `allowed across workers: ${allowed}`);
        assert.match(text, /policy_gateway_build_info\{version="[^"]+",node="24\.[^"]+"\} 1/);
    });

    it("drains and exits 0 on SIGTERM", async () => {
        gw.child.kill("SIGTERM");
        assert.equal(await gw.exited, 0);
    });
});
