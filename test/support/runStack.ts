// Runs index.ts under the mock runtime for one stack file and prints what it declared, as JSON.
// Usage: node --import tsx test/support/runStack.ts <stack-name> [stack-file] [--preview]
// Exits 1 with the program's error on stderr when the program fails (e.g. invalid config).
import { runProgram } from "../../rehearsal/stackHarness";

async function main(): Promise<void> {
    const args = process.argv.slice(2).filter((a) => a !== "--preview");
    const [stackName, stackFile] = args;
    if (!stackName) throw new Error("usage: runStack.ts <stack-name> [stack-file] [--preview]");
    let declared = 0;
    try {
        const run = await runProgram({ stackName, stackFile, preview: process.argv.includes("--preview") });
        declared = run.stack.resources.length;
        console.log(JSON.stringify({ declared, types: run.stack.resources.map((r) => r.type) }));
    } catch (e) {
        console.error(e instanceof Error ? e.message : String(e));
        console.log(JSON.stringify({ declared }));
        process.exitCode = 1;
    }
}
void main();
