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
