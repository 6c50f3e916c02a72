import * as okta from "@pulumi/okta";
import * as pulumi from "@pulumi/pulumi";

export interface ConsumerGrant {
    /** The consumer's slug, used in resource and policy names. */
    consumer: string;
    clientId: pulumi.Input<string>;
    scopes: string[];
    accessTokenLifetimeMinutes: number;
}

export interface AccessPoliciesArgs {
    authServerId: pulumi.Input<string>;
    /** In priority order: the first grant gets priority 1. */
    grants: ConsumerGrant[];
    /** Scope resources by name; every scope a grant names must be here. */
    scopes: Record<string, pulumi.Resource>;
}

/**
 * Least privilege, unlike the console setup this project replaces (which leaves Okta's "any
 * client, any scope" default policy in charge): one access policy per consumer, assigned to
 * that consumer's client only, with one rule that allows the client credentials grant for
 * exactly the scopes the consumer's config lists.
 *
 * Okta fails with 500s when policies or rules are written in parallel or with duplicate
 * priorities, so priorities are unique and contiguous from 1, and every policy and rule waits for
 * the previous consumer's rule, forming one chain.
 */
export class AccessPolicies extends pulumi.ComponentResource {
    public readonly policies: okta.auth.ServerPolicy[] = [];
    public readonly rules: okta.auth.ServerPolicyRule[] = [];

    constructor(name: string, args: AccessPoliciesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("okta-api-gateway:okta:AccessPolicies", name, {}, opts);

        let previousRule: okta.auth.ServerPolicyRule | undefined;
        args.grants.forEach((grant, i) => {
            const missing = grant.scopes.filter((s) => !(s in args.scopes));
            if (missing.length) throw new Error(`AccessPolicies ${name}: ${grant.consumer} names undeclared scopes: ${missing.join(", ")}`);

            const policy = new okta.auth.ServerPolicy(
                `${name}-${grant.consumer}`,
                {
                    authServerId: args.authServerId,
                    name: grant.consumer,
                    description: `Client credentials for ${grant.consumer}: ${grant.scopes.join(" ")} (managed by Pulumi)`,
                    priority: i + 1,
                    clientWhitelists: [grant.clientId],
                    status: "ACTIVE",
                },
                { parent: this, dependsOn: previousRule ? [previousRule] : [] },
            );
            const rule = new okta.auth.ServerPolicyRule(
                `${name}-${grant.consumer}-rule`,
                {
                    authServerId: args.authServerId,
                    policyId: policy.id,
                    name: `${grant.consumer} client credentials`,
                    priority: 1,
                    status: "ACTIVE",
                    grantTypeWhitelists: ["client_credentials"],
                    scopeWhitelists: grant.scopes,
                    // A client credentials token has no user; Okta still requires a people condition.
                    groupWhitelists: ["EVERYONE"],
                    accessTokenLifetimeMinutes: grant.accessTokenLifetimeMinutes,
                },
                {
                    parent: this,
                    // Scope names are plain strings, so the dependency must be stated.
                    dependsOn: [...grant.scopes.map((s) => args.scopes[s]), ...(previousRule ? [previousRule] : [])],
                },
            );
            this.policies.push(policy);
            this.rules.push(rule);
            previousRule = rule;
        });

        this.registerOutputs({ policyIds: this.policies.map((p) => p.id), ruleIds: this.rules.map((r) => r.id) });
    }
}
