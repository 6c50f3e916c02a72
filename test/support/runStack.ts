// Runs index.ts under the mock runtime for one stack file and prints what it declared, as JSON.
// Usage: node --import tsx test/support/runStack.ts <stack-name> [stack-file] [--preview] [--domain-status S]
// Exits 1 with the program's error on stderr when the program fails (e.g. invalid config).
import { runProgram } from "../../offline/stackHarness";

async function main(): Promise<void> {
    // --domain-status S: the Okta org answers okta.getDomain with validationStatus S.
    const statusAt = process.argv.indexOf("--domain-status");
    const domainStatus = statusAt > 0 ? process.argv[statusAt + 1] : undefined;
    const args = process.argv.slice(2).filter((a, i, all) => a !== "--preview" && a !== "--domain-status" && all[i - 1] !== "--domain-status");
    const [stackName, stackFile] = args;
    const calls = domainStatus
        ? {
              "okta:index/getDomain:getDomain": (inputs: Record<string, unknown>) => ({
                  id: "OcD1",
                  domain: inputs.domainIdOrName,
                  validationStatus: domainStatus,
                  dnsRecords: [],
                  publicCertificate: {},
              }),
          }
        : undefined;
    if (!stackName) throw new Error("usage: runStack.ts <stack-name> [stack-file] [--preview]");
    let declared = 0;
    try {
        const run = await runProgram({ stackName, stackFile, preview: process.argv.includes("--preview"), calls });
        declared = run.stack.resources.length;
        console.log(JSON.stringify({ declared, types: run.stack.resources.map((r) => r.type) }));
    } catch (e) {
        console.error(e instanceof Error ? e.message : String(e));
        console.log(JSON.stringify({ declared }));
        process.exitCode = 1;
    }
}
void main();
