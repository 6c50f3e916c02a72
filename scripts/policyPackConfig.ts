// `node --import tsx scripts/policyPackConfig.ts <stack> [--allow-replacement "a-app,b-app"] > policy-config.json`:
// the guardrail pack's configuration for one stack, as `pulumi preview|up --policy-pack-config`
// (pulumi/actions' `policyPackConfigs`) takes it: `{ "<policy>": { "production": <bool> } }` for
// every policy that treats production stacks apart, from the stack file's own
// `okta-api-gateway:production` key. So the pack and the program decide "production" from one
// key; the pack's stack-name pattern is only a fallback for stacks that predate it.
import * as path from "node:path";
import { policies } from "../policy/policies";
import { projectName, readStackFile, PROJECT_ROOT } from "../harness/stackHarness";

type PolicyConfig = Record<string, { production?: boolean; allowReplacement?: string[]; activeDefaultPolicyOnServer?: string }>;

/** A structured key's value, as the stack file map holds it (JSON text); undefined when it is not an object. */
function parsed(text: string | undefined): Record<string, unknown> | undefined {
    if (text === undefined) return undefined;
    try {
        const value: unknown = JSON.parse(text);
        return value !== null && typeof value === "object" ? (value as Record<string, unknown>) : undefined;
    } catch {
        return undefined;
    }
}

/** An app's resource name, as okta-apps-protected-in-production names it (`<consumer>-app`). */
const APP_NAME = /^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?-app$/;

/**
 * The policy configuration for a stack's flat config map; no `production` entries when the stack
 * does not say. `allowReplacement`: the apps one reviewed update may replace (each consumer sets
 * allowReplacement: true as well); a name that is not an app's is refused.
 */
export function policyPackConfig(stackConfig: Record<string, string>, project = projectName(), opts: { allowReplacement?: string[] } = {}): PolicyConfig {
    const text = stackConfig[`${project}:production`];
    const config: PolicyConfig = {};
    if (text === "true" || text === "false")
        for (const p of policies.filter((x) => x.configSchema?.properties && "production" in x.configSchema.properties))
            config[p.name] = { production: text === "true" };
    // An adopted server whose Default Policy is still active: the pack cannot see that policy (it is Okta's, not the stack's).
    const server = parsed(stackConfig[`${project}:authorizationServer`]);
    if (server && typeof server.existingId === "string" && server.defaultPolicyDeactivated !== true)
        config["okta-adopted-server-default-policy-deactivated"] = { activeDefaultPolicyOnServer: server.existingId };
    const replace = opts.allowReplacement ?? [];
    const bad = replace.filter((n) => !APP_NAME.test(n));
    if (bad.length) throw new Error(`--allow-replacement: ${bad.join(", ")} is not an app's resource name such as reporting-app (<consumer>-app)`);
    if (replace.length) config["okta-apps-protected-in-production"] = { ...config["okta-apps-protected-in-production"], allowReplacement: replace };
    return config;
}

if (require.main === module) {
    const stack = process.argv[2];
    if (!stack) {
        process.stderr.write('usage: node --import tsx scripts/policyPackConfig.ts <stack> [--allow-replacement "a-app,b-app"]\n');
        process.exit(2);
    }
    const at = process.argv.indexOf("--allow-replacement");
    const allowReplacement = (at > 0 ? (process.argv[at + 1] ?? "") : "").split(/[\s,]+/).filter(Boolean);
    try {
        const config = policyPackConfig(readStackFile(path.join(PROJECT_ROOT, `Pulumi.${stack}.yaml`)), projectName(), { allowReplacement });
        if (!Object.values(config).some((c) => c.production !== undefined)) {
            process.stderr.write(`Pulumi.${stack}.yaml: okta-api-gateway:production is not set to true or false\n`);
            process.exit(1);
        }
        process.stdout.write(JSON.stringify(config, null, 2) + "\n");
    } catch (e) {
        process.stderr.write(`${(e as Error).message}\n`);
        process.exit(1);
    }
}
