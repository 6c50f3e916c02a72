// `node --import tsx scripts/policyPackConfig.ts <stack> > policy-config.json`: the guardrail pack's
// configuration for one stack, as `pulumi preview|up --policy-pack-config` (pulumi/actions'
// `policyPackConfigs`) takes it: `{ "<policy>": { "production": <bool> } }` for every policy that
// treats production stacks apart, from the stack file's own `okta-api-gateway:production` key. So
// the pack and the program decide "production" from one key; the pack's stack-name pattern is only
// a fallback for stacks that predate it.
import * as path from "node:path";
import { policies } from "../policy/policies";
import { projectName, readStackFile, PROJECT_ROOT } from "../harness/stackHarness";

/** The policy configuration for a stack's flat config map; no `production` entries when the stack does not say. */
export function policyPackConfig(stackConfig: Record<string, string>, project = projectName()): Record<string, { production?: boolean }> {
    const text = stackConfig[`${project}:production`];
    if (text !== "true" && text !== "false") return {};
    const production = text === "true";
    return Object.fromEntries(
        policies.filter((p) => p.configSchema?.properties && "production" in p.configSchema.properties).map((p) => [p.name, { production }]),
    );
}

if (require.main === module) {
    const stack = process.argv[2];
    if (!stack) {
        process.stderr.write("usage: node --import tsx scripts/policyPackConfig.ts <stack>\n");
        process.exit(2);
    }
    const config = policyPackConfig(readStackFile(path.join(PROJECT_ROOT, `Pulumi.${stack}.yaml`)));
    if (Object.keys(config).length === 0) {
        process.stderr.write(`Pulumi.${stack}.yaml: okta-api-gateway:production is not set to true or false\n`);
        process.exit(1);
    }
    process.stdout.write(JSON.stringify(config, null, 2) + "\n");
}
