// The guardrail policy pack: every policy with a resource that passes and one that fails.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { advisoryPolicies, mandatoryPolicies, policies, stackOf } from "../policy/policies";
import { policyPackConfig } from "../scripts/policyPackConfig";
import { violationsOf, type ResourceUnderTest } from "./support/policyHarness";
import { runStackWith } from "./support/stackRun";

const policy = (name: string) => {
    const p = policies.find((x) => x.name === name);
    assert.ok(p, `no policy ${name}`);
    return p;
};
async function passes(name: string, r: ResourceUnderTest, config?: Record<string, unknown>) {
    assert.deepEqual(await violationsOf(policy(name), r, config), []);
}
async function fails(name: string, r: ResourceUnderTest, message: RegExp, config?: Record<string, unknown>) {
    const found = await violationsOf(policy(name), r, config);
    assert.ok(
        found.some((m) => message.test(m)),
        `expected a violation matching ${message}, got ${JSON.stringify(found)}`,
    );
}

const OAUTH = "okta:app/oAuth:OAuth";
const POLICY = "okta:auth/serverPolicy:ServerPolicy";
const RULE = "okta:auth/serverPolicyRule:ServerPolicyRule";
const SERVER = "okta:auth/server:Server";
const TASK = "aws:ecs/taskDefinition:TaskDefinition";
const LISTENER = "aws:lb/listener:Listener";

describe("guardrail policies", () => {
    it("are mandatory or advisory as documented, each with a description", () => {
        assert.ok(mandatoryPolicies.every((p) => p.enforcementLevel === "mandatory"));
        assert.ok(advisoryPolicies.every((p) => p.enforcementLevel === "advisory"));
        assert.ok(policies.every((p) => p.description.length > 10));
        assert.equal(new Set(policies.map((p) => p.name)).size, policies.length);
    });
    it("read the stack from the URN", () => {
        assert.equal(stackOf("urn:pulumi:prod-eu::okta-api-gateway::okta:auth/server:Server::api-server"), "prod-eu");
    });

    it("service apps use only client_credentials; no app uses implicit or password", async () => {
        await passes("okta-client-credentials-only", { type: OAUTH, props: { type: "service", grantTypes: ["client_credentials"] } });
        await fails(
            "okta-client-credentials-only",
            { type: OAUTH, props: { type: "service", grantTypes: ["client_credentials", "implicit"] } },
            /implicit grant is not allowed/,
        );
        await fails(
            "okta-client-credentials-only",
            { type: OAUTH, props: { type: "service", grantTypes: ["authorization_code"] } },
            /must have grantTypes \["client_credentials"\]/,
        );
        await fails("okta-client-credentials-only", { type: OAUTH, props: { type: "web", grantTypes: ["password"] } }, /password grant is not allowed/);
        await passes("okta-client-credentials-only", { type: POLICY, props: { grantTypes: ["implicit"] } }); // other types are not its concern
    });
    it("no access policy applies to ALL_CLIENTS", async () => {
        await passes("okta-policy-names-its-clients", { type: POLICY, props: { clientWhitelists: ["0oa1"] } });
        await fails("okta-policy-names-its-clients", { type: POLICY, props: { clientWhitelists: ["ALL_CLIENTS"] } }, /ALL_CLIENTS lets any app/);
    });
    it("no rule whitelists the scope *", async () => {
        await passes("okta-rule-no-wildcard-scope", { type: RULE, props: { scopeWhitelists: ["myscope"] } });
        await fails("okta-rule-no-wildcard-scope", { type: RULE, props: { scopeWhitelists: ["myscope", "*"] } }, /contains "\*"/);
    });
    it("access tokens live at most 60 minutes, or the configured limit", async () => {
        await passes("okta-access-token-lifetime", { type: RULE, props: { accessTokenLifetimeMinutes: 60 } });
        await fails("okta-access-token-lifetime", { type: RULE, props: { accessTokenLifetimeMinutes: 1440 } }, /would live 1440 minutes; the limit is 60/);
        await fails("okta-access-token-lifetime", { type: RULE, props: { accessTokenLifetimeMinutes: 30 } }, /the limit is 15/, {
            maxAccessTokenLifetimeMinutes: 15,
        });
    });
    it("the authorization server is protected in stacks named like production", async () => {
        await fails("okta-server-protected-in-production", { type: SERVER, props: {}, stack: "prod" }, /must be protected/);
        await fails("okta-server-protected-in-production", { type: SERVER, props: {}, stack: "team-a.production" }, /must be protected/);
        await passes("okta-server-protected-in-production", { type: SERVER, props: {}, stack: "prod", protect: true });
        await passes("okta-server-protected-in-production", { type: SERVER, props: {}, stack: "dev" });
        await passes("okta-server-protected-in-production", { type: SERVER, props: {}, stack: "products" }, undefined);
        await fails("okta-server-protected-in-production", { type: SERVER, props: {}, stack: "live" }, /must be protected/, {
            productionStackPattern: "^live$",
        });
    });
    it("decide production by the stack's own production key when the workflows pass it, by the name only without it", async () => {
        // A production stack with any name: the key alone decides.
        await fails("okta-server-protected-in-production", { type: SERVER, props: {}, stack: "payments" }, /must be protected/, { production: true });
        await fails("okta-apps-protected-in-production", { type: OAUTH, props: {}, stack: "eu-main" }, /Set okta-api-gateway:production: true/, {
            production: true,
        });
        await fails("alb-https-in-production", { type: LISTENER, props: { protocol: "HTTP" }, stack: "live" }, /clear text/, { production: true });
        // A stack named prod that says it is not production.
        await passes("okta-server-protected-in-production", { type: SERVER, props: {}, stack: "prod" }, { production: false });
        await passes("alb-https-in-production", { type: LISTENER, props: { protocol: "HTTP" }, stack: "prod" }, { production: false });
    });
    it("get the production key (and an adopted server's Default Policy) from the stack file (scripts/policyPackConfig.ts)", async () => {
        const apart = policies.filter((p) => p.configSchema?.properties && "production" in p.configSchema.properties).map((p) => p.name);
        assert.deepEqual(apart.sort(), ["alb-https-in-production", "okta-apps-protected-in-production", "okta-server-protected-in-production"]);
        const config = policyPackConfig({ "okta-api-gateway:production": "true" }, "okta-api-gateway");
        assert.deepEqual(Object.keys(config).sort(), apart.sort());
        assert.ok(Object.values(config).every((c) => c.production === true));
        assert.deepEqual(policyPackConfig({}, "okta-api-gateway"), {}, "a stack without the key: the pack falls back to the name");
        // A reviewed update may replace named apps (deploy.yml's allowReplacement input).
        // The adopted server's Default Policy, which the pack cannot see, from the stack file.
        const adopted = (deactivated: boolean) =>
            policyPackConfig(
                { "okta-api-gateway:authorizationServer": JSON.stringify({ existingId: "aus1legacy", defaultPolicyDeactivated: deactivated }) },
                "okta-api-gateway",
            );
        assert.deepEqual(adopted(false)["okta-adopted-server-default-policy-deactivated"], { activeDefaultPolicyOnServer: "aus1legacy" });
        assert.equal(adopted(true)["okta-adopted-server-default-policy-deactivated"], undefined);
        const onServer = (authServerId: string, priority: number) => ({ type: POLICY, props: { authServerId, priority, clientWhitelists: ["0oa1"] } });
        const told = { activeDefaultPolicyOnServer: "aus1legacy" };
        await fails(
            "okta-adopted-server-default-policy-deactivated",
            onServer("aus1legacy", 1),
            /Default Policy" of the adopted server aus1legacy is still active/,
            told,
        );
        await passes("okta-adopted-server-default-policy-deactivated", onServer("aus1legacy", 2), told); // once per server, not per consumer
        await passes("okta-adopted-server-default-policy-deactivated", onServer("aus1other", 1), told);
        await passes("okta-adopted-server-default-policy-deactivated", onServer("aus1legacy", 1));
        const replacing = policyPackConfig({ "okta-api-gateway:production": "true" }, "okta-api-gateway", { allowReplacement: ["reporting-app"] });
        assert.deepEqual(replacing["okta-apps-protected-in-production"], { production: true, allowReplacement: ["reporting-app"] });
        assert.throws(
            () => policyPackConfig({}, "okta-api-gateway", { allowReplacement: ["reporting", "$(curl evil)"] }),
            /--allow-replacement: reporting, \$\(curl evil\) is not an app's resource name/,
        );
    });
    it("OAuth apps are protected in production, unless this update allows replacing that one app by name", async () => {
        const app = { type: OAUTH, props: { type: "service" }, name: "products-web-app" };
        await fails("okta-apps-protected-in-production", { ...app, stack: "prod" }, /must be protected: replacing it changes its client id/);
        await passes("okta-apps-protected-in-production", { ...app, stack: "prod", protect: true });
        await passes("okta-apps-protected-in-production", { ...app, stack: "prod" }, { allowReplacement: ["products-web-app"] });
        await fails("okta-apps-protected-in-production", { ...app, stack: "prod" }, /allowReplacement/, { allowReplacement: ["another-app"] });
        await passes("okta-apps-protected-in-production", { ...app, stack: "dev" });
    });
    it("service apps skip the app sign-on policy", async () => {
        await passes("okta-service-app-skips-sign-on-policy", { type: OAUTH, props: { type: "service", skipAuthenticationPolicy: true } });
        await fails("okta-service-app-skips-sign-on-policy", { type: OAUTH, props: { type: "service" } }, /issue 2295/);
        await passes("okta-service-app-skips-sign-on-policy", { type: OAUTH, props: { type: "web" } });
    });
    it("ECS services make pulumi up wait for a steady state", async () => {
        await passes("ecs-service-waits-for-steady-state", { type: "aws:ecs/service:Service", props: { waitForSteadyState: true } });
        await fails("ecs-service-waits-for-steady-state", { type: "aws:ecs/service:Service", props: {} }, /waitForSteadyState: true/);
    });
    it("the introspection secret reaches ECS only through secrets[].valueFrom", async () => {
        const def = (container: object) => ({ type: TASK, props: { containerDefinitions: JSON.stringify([{ name: "policy-gateway", ...container }]) } });
        const fromSecretsManager = {
            secrets: [{ name: "INTROSPECTION_CLIENT_SECRET", valueFrom: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:gw-AbCd" }],
        };
        await passes("ecs-introspection-secret-from-secrets-manager", def({ environment: [{ name: "AUDIENCE", value: "api://x" }], ...fromSecretsManager }));
        await fails(
            "ecs-introspection-secret-from-secrets-manager",
            def({ environment: [{ name: "INTROSPECTION_CLIENT_SECRET", value: "s" }], ...fromSecretsManager }),
            /INTROSPECTION_CLIENT_SECRET in plain environment/,
        );
        await fails("ecs-introspection-secret-from-secrets-manager", def({ environment: [] }), /only from Secrets Manager/);
        await fails(
            "ecs-introspection-secret-from-secrets-manager",
            def({ environment: [{ name: "TOKEN_VALIDATION", value: "hybrid" }] }),
            /only from Secrets Manager/,
        );
        // A key in KMS: the task holds no key, only the key's ARN (no secret), and signs through KMS.
        const kmsArn = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
        await passes("ecs-introspection-secret-from-secrets-manager", def({ environment: [{ name: "INTROSPECTION_CLIENT_KMS_KEY_ARN", value: kmsArn }] }));
        await fails(
            "ecs-introspection-secret-from-secrets-manager",
            def({ environment: [{ name: "INTROSPECTION_CLIENT_KMS_KEY_ARN", value: "alias/gateway" }] }),
            /only from Secrets Manager/,
        );
        // A gateway that checks JWTs locally has no introspection credential to be given.
        await passes("ecs-introspection-secret-from-secrets-manager", def({ environment: [{ name: "TOKEN_VALIDATION", value: "jwt" }] }));
        await passes("ecs-introspection-secret-from-secrets-manager", { type: TASK, props: {} }); // unknown until the environment exists
    });
    it("reads the prod task definition at a preview in which the image is rebuilt, and fires on a credential in plain environment", async () => {
        const run = runStackWith(() => {}, { stack: "prod", args: ["--preview"], report: true });
        assert.equal(run.status, 0, run.stderr);
        const task = run.resources?.find((r) => r.type === TASK);
        assert.ok(task);
        assert.equal(typeof task.inputs.containerDefinitions, "string", "the preview's task definition is readable");
        await passes("ecs-introspection-secret-from-secrets-manager", { type: TASK, props: task.inputs });
        // The same definition, with the credential a careless change would add: the pack refuses it at this preview.
        const [container] = JSON.parse(String(task.inputs.containerDefinitions)) as { environment: { name: string; value: string }[] }[];
        container.environment.push({ name: "INTROSPECTION_CLIENT_PRIVATE_KEY", value: "-----BEGIN PRIVATE KEY-----" });
        await fails(
            "ecs-introspection-secret-from-secrets-manager",
            { type: TASK, props: { ...task.inputs, containerDefinitions: JSON.stringify([container]) } },
            /INTROSPECTION_CLIENT_PRIVATE_KEY in plain environment/,
        );
    });
    it("ECR repositories scan on push", async () => {
        await passes("ecr-scan-on-push", { type: "aws:ecr/repository:Repository", props: { imageScanningConfiguration: { scanOnPush: true } } });
        await fails("ecr-scan-on-push", { type: "aws:ecr/repository:Repository", props: {} }, /scanOnPush: true/);
    });
    it("ElastiCache stores encrypt in transit and at rest", async () => {
        const STORE = "aws:elasticache/replicationGroup:ReplicationGroup";
        await passes("elasticache-encrypted", { type: STORE, props: { transitEncryptionEnabled: true, atRestEncryptionEnabled: true } });
        await fails("elasticache-encrypted", { type: STORE, props: { atRestEncryptionEnabled: true } }, /transitEncryptionEnabled: true/);
        await fails(
            "elasticache-encrypted",
            { type: STORE, props: { transitEncryptionEnabled: true, atRestEncryptionEnabled: false } },
            /atRestEncryptionEnabled/,
        );
    });
    it("load balancer listeners are HTTPS in production (HTTP only to redirect)", async () => {
        await passes("alb-https-in-production", { type: LISTENER, props: { protocol: "HTTPS" }, stack: "prod" });
        await passes("alb-https-in-production", {
            type: LISTENER,
            props: { protocol: "HTTP", defaultActions: [{ type: "redirect", redirect: { protocol: "HTTPS" } }] },
            stack: "prod",
        });
        await fails(
            "alb-https-in-production",
            { type: LISTENER, props: { protocol: "HTTP", defaultActions: [{ type: "forward" }] }, stack: "prod" },
            /certificateArn/,
        );
        await passes("alb-https-in-production", { type: LISTENER, props: { protocol: "HTTP", defaultActions: [{ type: "forward" }] }, stack: "dev" });
    });
    it("advises: no secret kept with private_key_jwt, automatic key rotation, log retention", async () => {
        await passes("okta-private-key-jwt-keeps-no-secret", { type: OAUTH, props: { tokenEndpointAuthMethod: "private_key_jwt", omitSecret: true } });
        await fails("okta-private-key-jwt-keeps-no-secret", { type: OAUTH, props: { tokenEndpointAuthMethod: "private_key_jwt" } }, /omitSecret: true/);
        await passes("okta-server-rotates-keys", { type: SERVER, props: { credentialsRotationMode: "AUTO" } });
        await fails("okta-server-rotates-keys", { type: SERVER, props: { credentialsRotationMode: "MANUAL" } }, /use AUTO/);
        await passes("cloudwatch-logs-expire", { type: "aws:cloudwatch/logGroup:LogGroup", props: { retentionInDays: 30 } });
        await fails("cloudwatch-logs-expire", { type: "aws:cloudwatch/logGroup:LogGroup", props: {} }, /retentionInDays/);
    });
});
