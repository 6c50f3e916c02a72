// The explicit opt-in to the old single secret output (credentialDelivery.method stackOutputs):
// the whole program under the mock runtime, in a process of its own.
import * as pulumi from "@pulumi/pulumi";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { parse as parseYaml } from "yaml";
import { PROJECT_ROOT, runProgram, valueOf, type ProgramRun } from "../harness/stackHarness";

describe("the program with credentialDelivery.method stackOutputs", () => {
    let run: ProgramRun;
    before(async () => {
        const doc = parseYaml(readFileSync(path.join(PROJECT_ROOT, "Pulumi.dev.yaml"), "utf8")) as { config: Record<string, unknown> };
        const consumers = (doc.config["okta-api-gateway:consumers"] as Record<string, unknown>[]).map(({ readers: _readers, ...c }) => c);
        run = await runProgram({
            stackName: "dev",
            extraConfig: {
                "okta-api-gateway:credentialDelivery": JSON.stringify({ method: "stackOutputs" }),
                "okta-api-gateway:consumers": JSON.stringify(consumers),
            },
        });
    });

    it("puts every generated secret, and only those, in one secret output, and declares no delivery", async () => {
        const output = run.outputs.consumerClientSecrets as pulumi.Output<Record<string, string>>;
        assert.equal(await pulumi.isSecret(output), true);
        assert.deepEqual(await valueOf(output), { "inventory-sync": run.stack.resources.find((r) => r.name === "inventory-sync-app")?.state.clientSecret });
        assert.equal(run.stack.resources.filter((r) => r.type.startsWith("okta-api-gateway:delivery:") || r.type.startsWith("pulumiservice:")).length, 0);
        const clients = await valueOf(run.outputs.consumerClients as Record<string, { credentials: { method: string } }>);
        assert.equal(clients["inventory-sync"].credentials.method, "stackOutputs");
    });
});
