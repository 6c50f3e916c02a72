// Runs index.ts under the mock runtime for one stack file and prints what it declared, as JSON.
// Usage: node --import tsx test/support/runStack.ts <stack-name> [stack-file] [--preview] [--domain-status S] [--report]
// --report adds every resource (type, name, inputs, protect, read), the gateway's settings as the
// gateway decodes its declared environment, and the guardrail pack's violations, with the policy
// configuration the workflows pass (scripts/policyPackConfig.ts).
// Exits 1 with the program's error on stderr when the program fails (e.g. invalid config).
import { declaredGateway } from "../../harness/declared";
import * as path from "node:path";
import { oktaGetDomain, PROJECT_ROOT, readStackFile, runProgram } from "../../harness/stackHarness";
import { policies } from "../../policy/policies";
import { policyPackConfig } from "../../scripts/policyPackConfig";
import { packViolations } from "./policyHarness";

async function main(): Promise<void> {
    // --domain-status S: the Okta org answers okta.getDomain with validationStatus S.
    const statusAt = process.argv.indexOf("--domain-status");
    const domainStatus = statusAt > 0 ? process.argv[statusAt + 1] : undefined;
    const args = process.argv
        .slice(2)
        .filter((a, i, all) => a !== "--preview" && a !== "--report" && a !== "--domain-status" && all[i - 1] !== "--domain-status");
    const [stackName, stackFile] = args;
    const calls = domainStatus
        ? { "okta:index/getDomain:getDomain": (inputs: Record<string, unknown>) => oktaGetDomain(String(inputs.domainIdOrName), domainStatus) }
        : undefined;
    if (!stackName) throw new Error("usage: runStack.ts <stack-name> [stack-file] [--preview]");
    let declared = 0;
    try {
        const run = await runProgram({ stackName, stackFile, preview: process.argv.includes("--preview"), calls });
        declared = run.stack.resources.length;
        const report = process.argv.includes("--report")
            ? await reportOf(run.stack.resources, readStackFile(stackFile ?? path.join(PROJECT_ROOT, `Pulumi.${stackName}.yaml`)))
            : {};
        console.log(JSON.stringify({ declared, types: run.stack.resources.map((r) => r.type), ...report }));
    } catch (e) {
        console.error(e instanceof Error ? e.message : String(e));
        console.log(JSON.stringify({ declared }));
        process.exitCode = 1;
    }
}
async function reportOf(resources: Awaited<ReturnType<typeof runProgram>>["stack"]["resources"], stackConfig: Record<string, string>) {
    const config = policyPackConfig(stackConfig);
    const violations = await packViolations(policies, resources, config);
    return {
        resources: resources.map((r) => ({ type: r.type, name: r.name, inputs: r.inputs, protect: r.protect, read: r.read, custom: r.custom })),
        gatewaySettings: declaredGateway(resources)?.settings,
        violations,
    };
}

void main();
