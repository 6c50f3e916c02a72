// Calls a CrossGuard policy's validateResource directly, as the engine would: config defaults from
// the policy's schema, options and URN of the resource under test.
import type { ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";

export interface ResourceUnderTest {
    type: string;
    props: Record<string, unknown>;
    name?: string;
    stack?: string;
    urn?: string;
    protect?: boolean;
}

export async function violationsOf(policy: ResourceValidationPolicy, r: ResourceUnderTest, config: Record<string, unknown> = {}): Promise<string[]> {
    const defaults = Object.fromEntries(Object.entries(policy.configSchema?.properties ?? {}).map(([k, v]) => [k, (v as { default?: unknown }).default]));
    const name = r.name ?? "res";
    const args = {
        type: r.type,
        props: r.props,
        name,
        urn: r.urn ?? `urn:pulumi:${r.stack ?? "dev"}::okta-api-gateway::${r.type}::${name}`,
        opts: {
            protect: r.protect ?? false,
            ignoreChanges: [],
            aliases: [],
            customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
            additionalSecretOutputs: [],
        },
        stackTags: new Map<string, string>(),
        isType: () => false,
        asType: () => undefined,
        getConfig: <T extends object>() => ({ ...defaults, ...config }) as T,
        notApplicable: (reason?: string): never => {
            throw new Error(`not applicable: ${reason}`);
        },
    } as ResourceValidationArgs;
    const found: string[] = [];
    const validations = Array.isArray(policy.validateResource) ? policy.validateResource : policy.validateResource ? [policy.validateResource] : [];
    for (const validate of validations) await validate(args, (message) => found.push(message));
    return found;
}

/**
 * The whole pack over what a program declared, as the engine runs it: every managed resource (a
 * read one is never analysed) through every policy, with the pack's configuration per policy.
 */
export async function packViolations(
    policies: ResourceValidationPolicy[],
    resources: { type: string; name: string; inputs: Record<string, unknown>; urn: string; protect: boolean; custom: boolean; read: boolean }[],
    config: Record<string, Record<string, unknown>>,
): Promise<string[]> {
    const found: string[] = [];
    for (const r of resources.filter((x) => x.custom && !x.read))
        for (const p of policies)
            for (const v of await violationsOf(p, { type: r.type, props: r.inputs, name: r.name, urn: r.urn, protect: r.protect }, config[p.name] ?? {}))
                found.push(`${p.name}: ${v}`);
    return found;
}
