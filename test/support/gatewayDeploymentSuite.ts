// The gateway deployment in a whole-program run: the image, the target's resources, the wiring
// from the Okta components, and where the introspection client secret may (and may not) appear.
import * as pulumi from "@pulumi/pulumi";
import assert from "node:assert/strict";
import * as path from "node:path";
import { it } from "node:test";
import { loadConfig } from "../../policy-gateway/src/config";
import { findInRawInputs, PROJECT_ROOT, valueOf, type ProgramRun, type RecordedResource } from "../../rehearsal/stackHarness";

export interface GatewayDoc {
    target: "local" | "aws";
    upstreamUrl: string;
    requiredScopes?: string[];
    local?: { port?: number; adminPort?: number };
    aws?: { vpcId?: string; subnetIds?: string[]; certificateArn?: string; minCapacity?: number; maxCapacity?: number; logRetentionDays?: number };
}

interface ContainerDefinition {
    image: string;
    user: string;
    environment: { name: string; value: string }[];
    secrets: { name: string; valueFrom: string }[];
}

export function gatewayDeploymentChecks(getRun: () => ProgramRun, doc: GatewayDoc): void {
    const all = () => getRun().stack.resources.filter((r) => r.custom);
    const ofType = (type: string) => all().filter((r) => r.type === type);
    const one = (type: string): RecordedResource => {
        const found = ofType(type);
        assert.equal(found.length, 1, `exactly one ${type}`);
        return found[0];
    };
    const introspectionApp = () => all().find((r) => r.name === "introspection-app") as RecordedResource;
    const server = () => one("okta:auth/server:Server");

    /** The gateway's environment as the target hands it over, secret included where the target puts it. */
    const deployedEnv = (): Record<string, string> => {
        if (doc.target === "local") {
            const envs = one("docker:index/container:Container").inputs.envs as string[];
            return Object.fromEntries(envs.map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
        }
        const def = (JSON.parse(one("aws:ecs/taskDefinition:TaskDefinition").inputs.containerDefinitions as string) as ContainerDefinition[])[0];
        return Object.fromEntries(def.environment.map((e) => [e.name, e.value]));
    };

    it("builds the gateway image from policy-gateway/Dockerfile for linux/amd64", () => {
        const image = one("docker:index/image:Image");
        const build = image.inputs.build as { context: string; dockerfile: string; platform: string };
        assert.equal(build.platform, "linux/amd64");
        assert.equal(path.resolve(build.context), path.join(PROJECT_ROOT, "policy-gateway"));
        assert.equal(path.resolve(build.dockerfile), path.join(PROJECT_ROOT, "policy-gateway", "Dockerfile"));
    });

    it("wires the gateway with the issuer, audience and introspection client the stack created", () => {
        const env = deployedEnv();
        assert.equal(env.OIDC_ISSUER, server().state.issuer);
        assert.equal(env.AUDIENCE, (server().inputs.audiences as string[])[0]);
        assert.equal(env.INTROSPECTION_CLIENT_ID, introspectionApp().id);
        assert.equal(env.UPSTREAM_URL, doc.upstreamUrl);
        assert.equal(env.REQUIRED_SCOPES, (doc.requiredScopes ?? []).join(" "));
    });

    it("hands the gateway an environment its own validator accepts", () => {
        const env = deployedEnv();
        const config = loadConfig({ ...env, INTROSPECTION_CLIENT_SECRET: env.INTROSPECTION_CLIENT_SECRET ?? "from-secrets-manager" });
        assert.equal(config.issuer, server().state.issuer);
        assert.equal(config.introspectionClient?.id, introspectionApp().id);
    });

    it("never lets the introspection client secret appear outside a secret (or, on AWS, outside Secrets Manager's secretString)", () => {
        const secret = introspectionApp().state.clientSecret as string;
        assert.ok(secret && secret.length >= 32);
        const places = all().flatMap((r) => findInRawInputs(r.rawInputs, secret).map((p) => ({ ...p, where: `${r.type} ${r.name} ${p.path}` })));
        assert.ok(places.length > 0, "the secret reaches the deployment somewhere");
        for (const p of places) assert.ok(p.inSecret, `${p.where} carries the secret in plain text`);
        if (doc.target === "aws") {
            assert.deepEqual(places.map((p) => p.where), [`aws:secretsmanager/secretVersion:SecretVersion gateway-introspection-secret-version secretString`]);
        }
    });

    it("exports the gateway's URL and image reference", async () => {
        const outputs = getRun().outputs;
        const url = await valueOf(outputs.gatewayUrl as pulumi.Output<string>);
        const image = await valueOf(outputs.gatewayImage as pulumi.Output<string>);
        if (doc.target === "local") {
            assert.equal(url, `http://localhost:${doc.local?.port ?? 8080}`);
            assert.match(image, /^okta-api-gateway\/policy-gateway:[0-9a-f]{16}$/, "the bundle-addressed tag");
        } else {
            const alb = one("aws:lb/loadBalancer:LoadBalancer");
            assert.equal(url, `${doc.aws?.certificateArn ? "https" : "http"}://${alb.state.dnsName}`);
            assert.match(image, /@sha256:[0-9a-f]{64}$/, "referred to by digest");
        }
    });

    if (doc.target === "local") {
        it("runs a container on its own network, ports published, restarted, health-checked, envs secret", () => {
            const network = one("docker:index/network:Network");
            const container = one("docker:index/container:Container");
            assert.deepEqual(container.inputs.networksAdvanced, [{ name: network.inputs.name }]);
            const ports = container.inputs.ports as { internal: number; external: number }[];
            assert.deepEqual(ports.map((p) => [p.internal, p.external]), [[8080, doc.local?.port ?? 8080], [9090, doc.local?.adminPort ?? 9090]]);
            assert.equal(container.inputs.restart, "unless-stopped");
            assert.match((container.inputs.healthcheck as { tests: string[] }).tests.join(" "), /\/healthz/);
            assert.equal(container.inputs.image, one("docker:index/image:Image").inputs.imageName);
            assert.equal(one("docker:index/image:Image").inputs.skipPush, true);
            assert.equal(findInRawInputs(container.rawInputs, "INTROSPECTION_CLIENT_ID=").every((p) => p.inSecret), true, "the whole envs list is one secret");
        });
    } else {
        it("pushes to an ECR repository that scans on push, with credentials from ECR's token", () => {
            const repo = one("aws:ecr/repository:Repository");
            assert.deepEqual(repo.inputs.imageScanningConfiguration, { scanOnPush: true });
            const image = one("docker:index/image:Image");
            const registry = image.inputs.registry as { server: string; username: string };
            assert.equal(registry.server, repo.state.repositoryUrl);
            assert.equal(registry.username, "AWS");
            assert.ok(findInRawInputs(image.rawInputs, "ecr-token-stand-in").every((p) => p.inSecret), "the registry password is secret");
            assert.ok(getRun().stack.calls.some((c) => c.token === "aws:ecr/getAuthorizationToken:getAuthorizationToken"));
        });

        it("injects the secret into the task through secrets[].valueFrom, never as an environment value, and runs the image by digest", () => {
            const secret = one("aws:secretsmanager/secret:Secret");
            const def = (JSON.parse(one("aws:ecs/taskDefinition:TaskDefinition").inputs.containerDefinitions as string) as ContainerDefinition[])[0];
            assert.deepEqual(def.secrets, [{ name: "INTROSPECTION_CLIENT_SECRET", valueFrom: secret.state.arn }]);
            assert.ok(!def.environment.some((e) => e.name.includes("SECRET")));
            assert.match(def.image, /@sha256:/);
            assert.equal(def.user, "1000");
        });

        it("lets the execution role read exactly that one secret", () => {
            const secret = one("aws:secretsmanager/secret:Secret");
            const taskDef = one("aws:ecs/taskDefinition:TaskDefinition");
            const executionRole = all().find((r) => r.type === "aws:iam/role:Role" && r.state.arn === taskDef.inputs.executionRoleArn) as RecordedResource;
            const policies = ofType("aws:iam/rolePolicy:RolePolicy");
            assert.equal(policies.length, 1);
            assert.equal(policies[0].inputs.role, executionRole.id);
            assert.deepEqual(JSON.parse(policies[0].inputs.policy as string), {
                Version: "2012-10-17",
                Statement: [{ Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [secret.state.arn] }],
            });
            const attachments = ofType("aws:iam/rolePolicyAttachment:RolePolicyAttachment");
            assert.deepEqual(attachments.map((a) => [a.inputs.role, a.inputs.policyArn]), [[executionRole.state.name, "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"]]);
        });

        it("runs a Fargate service behind the load balancer, with rollback, redeployed on a new secret version", () => {
            const service = one("aws:ecs/service:Service");
            const version = one("aws:secretsmanager/secretVersion:SecretVersion");
            const tg = one("aws:lb/targetGroup:TargetGroup");
            assert.equal(service.inputs.launchType, "FARGATE");
            assert.deepEqual(service.inputs.deploymentCircuitBreaker, { enable: true, rollback: true });
            assert.deepEqual(service.inputs.triggers, { introspectionSecretVersion: version.state.versionId });
            assert.deepEqual(service.inputs.loadBalancers, [{ targetGroupArn: tg.state.arn, containerName: "policy-gateway", containerPort: 8080 }]);
            assert.equal(tg.inputs.targetType, "ip");
            assert.deepEqual({ path: (tg.inputs.healthCheck as Record<string, unknown>).path, port: (tg.inputs.healthCheck as Record<string, unknown>).port }, { path: "/healthz", port: "9090" });
            const net = service.inputs.networkConfiguration as { subnets: string[]; securityGroups: string[] };
            if (doc.aws?.subnetIds) assert.deepEqual(net.subnets, doc.aws.subnetIds);
        });

        it("lets only the load balancer reach the tasks", () => {
            const service = one("aws:ecs/service:Service");
            const taskSg = (service.inputs.networkConfiguration as { securityGroups: string[] }).securityGroups[0];
            const albSg = (one("aws:lb/loadBalancer:LoadBalancer").inputs.securityGroups as string[])[0];
            const taskIngress = ofType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").filter((r) => r.inputs.securityGroupId === taskSg);
            assert.deepEqual(taskIngress.map((r) => r.inputs.fromPort).sort(), [8080, 9090]);
            for (const r of taskIngress) {
                assert.equal(r.inputs.referencedSecurityGroupId, albSg);
                assert.equal(r.inputs.cidrIpv4, undefined);
            }
        });

        it("listens with HTTPS when a certificate is configured, redirecting HTTP", () => {
            const listeners = ofType("aws:lb/listener:Listener");
            if (doc.aws?.certificateArn) {
                const https = listeners.find((l) => l.inputs.protocol === "HTTPS") as RecordedResource;
                assert.equal(https.inputs.certificateArn, doc.aws.certificateArn);
                assert.equal(https.inputs.port, 443);
                const http = listeners.find((l) => l.inputs.protocol === "HTTP") as RecordedResource;
                assert.equal((http.inputs.defaultActions as { type: string }[])[0].type, "redirect");
            } else {
                assert.deepEqual(listeners.map((l) => l.inputs.protocol), ["HTTP"]);
            }
        });

        it("keeps logs with the configured retention and scales between the configured bounds", () => {
            assert.equal(one("aws:cloudwatch/logGroup:LogGroup").inputs.retentionInDays, doc.aws?.logRetentionDays ?? 30);
            const target = one("aws:appautoscaling/target:Target");
            assert.equal(target.inputs.minCapacity, doc.aws?.minCapacity ?? 2);
            assert.equal(target.inputs.maxCapacity, doc.aws?.maxCapacity ?? 6);
            assert.equal(one("aws:appautoscaling/policy:Policy").inputs.policyType, "TargetTrackingScaling");
        });
    }
}
