// The whole program with examples/Pulumi.two-apis.yaml (two APIs behind one gateway) under the mock
// runtime, in a process of its own: what Okta grants each consumer, what the gateway container is
// told, and what the outputs say about each API.
import * as pulumi from "@pulumi/pulumi";
import assert from "node:assert/strict";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { loadConfig } from "../policy-gateway/src/config/load";
import { stackOutputsSchema } from "../components/stackOutputs";
import type { ApiOutput } from "../components/outputs";
import { PROJECT_ROOT, runProgram, unwrapSecrets, valueOf, type ProgramRun } from "../harness/stackHarness";

describe("the program with two APIs behind one gateway (examples/Pulumi.two-apis.yaml)", () => {
    let run: ProgramRun;
    before(async () => {
        run = await runProgram({ stackName: "two-apis", stackFile: path.join(PROJECT_ROOT, "examples/Pulumi.two-apis.yaml") });
    });
    const resource = (name: string) => {
        const r = run.stack.resources.find((x) => x.name === name);
        assert.ok(r, name);
        return r;
    };
    const clientIdOf = (consumer: string) => String(resource(`${consumer}-app`).state.clientId);
    const containerEnv = () => {
        const envs = unwrapSecrets(resource("gateway-container").inputs.envs) as string[];
        return Object.fromEntries(envs.map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
    };

    it("grants each consumer exactly its declared scopes, all from the APIs that list it", () => {
        const granted = (consumer: string) => resource(`access-${consumer}-rule`).inputs.scopeWhitelists;
        assert.deepEqual(granted("products-web"), ["products:read"]);
        assert.deepEqual(granted("inventory-sync"), ["products:read", "products:write", "orders:read"]);
        assert.deepEqual(granted("reporting"), ["products:read"]);
    });
    it("tells the container each API, its consumers by client id, and the gateway accepts it as deployed", () => {
        const env = containerEnv();
        assert.equal(env.UPSTREAM_URL, undefined, "the one-API shorthand is not set beside APIS");
        const apis = JSON.parse(env.APIS) as { name: string; upstreamUrl: string; consumers?: string[] }[];
        assert.deepEqual(
            apis.map((a) => [a.name, a.upstreamUrl, a.consumers]),
            [
                ["products", "http://host.docker.internal:3000", undefined],
                ["orders", "http://host.docker.internal:3001", [clientIdOf("inventory-sync")]],
            ],
        );
        const config = loadConfig({ ...env, INTROSPECTION_CLIENT_PRIVATE_KEY: undefined, TOKEN_VALIDATION: "jwt" });
        assert.deepEqual(
            config.apis.map((a) => [a.name, a.prefix, a.consumers && [...a.consumers]]),
            [
                ["products", ["api", "products"], undefined],
                ["orders", ["api", "orders"], [clientIdOf("inventory-sync")]],
            ],
        );
        assert.equal(config.consumerNames.get(clientIdOf("inventory-sync")), "inventory-sync");
    });
    it("outputs each API: its route, scopes, consumers, and OpenAPI and RAML fragments of its own scopes only", async () => {
        const outputs = Object.fromEntries(
            await Promise.all(Object.entries(run.outputs).map(async ([k, v]) => [k, v === undefined ? undefined : await valueOf(v as pulumi.Output<unknown>)])),
        ) as Record<string, unknown>;
        const parsed = stackOutputsSchema.parse(Object.fromEntries(Object.entries(outputs).filter(([, v]) => v !== undefined)));
        assert.equal(parsed.openApiFragment, undefined, "each API has its own fragment");
        const apis = parsed.apis as Record<string, ApiOutput>;
        assert.deepEqual(Object.keys(apis), ["products", "orders"]);
        assert.deepEqual(apis.orders.consumers, ["inventory-sync"]);
        assert.deepEqual(apis.products.consumers, ["products-web", "inventory-sync", "reporting"], "any consumer granted one of its scopes");
        assert.deepEqual(apis.orders.scopes, ["orders:read", "orders:write"]);
        assert.equal(apis.orders.url, undefined, "a local gateway is reached by no team");
        const schemes = apis.orders.openApiFragment.components.securitySchemes as {
            okta: { flows: { clientCredentials: { scopes: Record<string, string> } } };
        };
        assert.deepEqual(Object.keys(schemes.okta.flows.clientCredentials.scopes), ["orders:read", "orders:write"]);
        assert.deepEqual(apis.orders.openApiFragment.security, [{ okta: ["orders:read"] }]);
        assert.match(apis.orders.ramlSecurityScheme, /scopes:\n\s+- orders:read\n\s+- orders:write/);
    });
});
