// The gateway deployment in a whole-program run: the image, the target's resources, the wiring
// from the Okta components, and where the introspection client secret may (and may not) appear.
import * as pulumi from "@pulumi/pulumi";
import assert from "node:assert/strict";
import * as path from "node:path";
import { it } from "node:test";
import { loadConfig } from "../../policy-gateway/src/config/load";
import { healthCheckCommand } from "../../policy-gateway/src/config/contract";
import { buildContextDigest, GATEWAY_DIR } from "../../components/gatewayBundle";
import { imageIdentity, pinnedBaseImageOf } from "../../components/gatewayImage";
import { isPrivateCidr } from "../../components/stackConfig/index";
import { findInRawInputs, isKnown, MOCK_AWS, PROJECT_ROOT, valueOf, type ProgramRun, type RecordedResource } from "../../harness/stackHarness";

export interface GatewayDoc {
    target: "local" | "aws";
    upstreamUrl: string;
    requiredScopes?: string[];
    local?: { port?: number; adminPort?: number };
    rateLimits?: { tiers: Record<string, Record<string, number>>; defaultTier?: string; store?: "local" | "shared" };
    aws?: {
        vpcId?: string;
        loadBalancerSubnetIds?: string[];
        taskSubnetIds?: string[];
        internal?: boolean;
        domainName?: string;
        hostedZoneId?: string;
        certificateArn?: string;
        allowedCidrs?: string[];
        alarmTopicArn?: string;
        alarms?: Record<string, number>;
        minCapacity?: number;
        maxCapacity?: number;
        logRetentionDays?: number;
    };
}

interface ContainerDefinition {
    image: string;
    user: string;
    healthCheck: { command: string[] };
    environment: { name: string; value: string }[];
    secrets: { name: string; valueFrom: string }[];
}

export function gatewayDeploymentChecks(
    getRun: () => ProgramRun,
    doc: GatewayDoc,
    production: boolean,
    consumers: { name: string; tier?: string }[],
    preview = false,
): void {
    // The consumers' credential delivery (Secrets Manager secrets too) is not the gateway's.
    const all = () => getRun().stack.resources.filter((r) => r.custom && !r.name.startsWith("credentials-"));
    const ofType = (type: string) => all().filter((r) => r.type === type);
    const one = (type: string): RecordedResource => {
        const found = ofType(type);
        assert.equal(found.length, 1, `exactly one ${type}`);
        return found[0];
    };
    const introspectionApp = () => all().find((r) => r.name === "introspection-app") as RecordedResource;
    const server = () => one("okta:auth/server:Server");
    /** The introspection client's private key (the newest, which the gateway signs with). */
    const introspectionKey = (): string => String(ofType("tls:index/privateKey:PrivateKey").at(-1)?.state.privateKeyPemPkcs8);

    /** The gateway's environment as the target hands it over, secret included where the target puts it. */
    const deployedEnv = (): Record<string, string> => {
        if (doc.target === "local") {
            const envs = one("docker:index/container:Container").inputs.envs as string[];
            return Object.fromEntries(envs.map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
        }
        const def = (JSON.parse(one("aws:ecs/taskDefinition:TaskDefinition").inputs.containerDefinitions as string) as ContainerDefinition[])[0];
        return Object.fromEntries(def.environment.map((e) => [e.name, e.value]));
    };

    if (doc.rateLimits) {
        const limits = doc.rateLimits;
        it("holds each consumer to the tier the stack names, by its client id, and tells the consumer its limit", async () => {
            const clients = await valueOf(getRun().outputs.consumerClients as pulumi.Output<Record<string, { clientId: string; rateLimit: unknown }>>);
            // jwt: only the rate-limit settings matter here, not how the introspection client authenticates.
            const config = loadConfig({ ...deployedEnv(), TOKEN_VALIDATION: "jwt" });
            const plan = config.rateLimits?.plan;
            assert.ok(plan, "the gateway gets RATE_LIMITS");
            for (const c of consumers) {
                const tier = c.tier ?? limits.defaultTier;
                const enforced: string | undefined = plan.consumers.get(clients[c.name].clientId) ?? plan.defaultTier;
                assert.equal(enforced, tier, `${c.name}: the gateway enforces the tier the stack names`);
                assert.deepEqual(clients[c.name].rateLimit, tier ? { tier, ...limits.tiers[tier] } : null, `${c.name}: the output says the same`);
            }
            const store = limits.store ?? (doc.target === "aws" ? "shared" : "local");
            assert.equal(config.rateLimits?.store.kind, store);
            const stores = ofType("aws:elasticache/replicationGroup:ReplicationGroup");
            assert.equal(stores.length, store === "shared" ? 1 : 0, "a shared store is declared exactly when the limits are shared");
            if (store === "shared") {
                assert.equal(stores[0].inputs.engine, "valkey");
                assert.equal(stores[0].inputs.transitEncryptionEnabled, true);
                assert.equal(stores[0].inputs.automaticFailoverEnabled, production);
                assert.equal(config.rateLimits?.tasks, doc.aws?.maxCapacity ?? 6);
            }
        });
    }

    it("builds the gateway image from policy-gateway/Dockerfile for linux/amd64, with paths relative to the project", () => {
        const image = one("docker:index/image:Image");
        const build = image.inputs.build as { context: string; dockerfile: string; platform: string; args: Record<string, string> };
        assert.equal(build.platform, "linux/amd64");
        // Relative: another checkout (a CI runner) plans the same inputs, so the provider does not rebuild.
        assert.equal(build.context, "policy-gateway");
        assert.equal(build.dockerfile, path.join("policy-gateway", "Dockerfile"));
        assert.equal(path.resolve(PROJECT_ROOT, build.context), path.join(PROJECT_ROOT, "policy-gateway"));
    });

    it("builds on the base image pinned by digest in the repository, never looked up at preview, and tags the image by everything the build depends on", () => {
        const image = one("docker:index/image:Image");
        const build = image.inputs.build as { platform: string; args: Record<string, string> };
        assert.equal(
            getRun().stack.calls.some((c) => c.token.startsWith("docker:")),
            false,
            "no anonymous registry lookup (rate-limited, and a republished tag would rebuild prod)",
        );
        assert.equal(build.args.BASE_IMAGE, pinnedBaseImageOf());
        assert.match(build.args.BASE_IMAGE, /^node:24-bookworm-slim@sha256:[0-9a-f]{64}$/);
        const tag = String(image.inputs.imageName).split(":").at(-1) as string;
        // The tag is derived from the whole build: every file of the context, the build args, the platform.
        assert.equal(tag, imageIdentity(buildContextDigest(GATEWAY_DIR), build.args, build.platform).slice(0, 24));
        // A different base image digest is a different tag: never two images under one immutable tag.
        const other = imageIdentity("same-context", { BASE_IMAGE: "node:24-bookworm-slim@sha256:" + "1".repeat(64) }, build.platform);
        assert.notEqual(other, imageIdentity("same-context", { BASE_IMAGE: "node:24-bookworm-slim@sha256:" + "2".repeat(64) }, build.platform));
    });

    it("wires the gateway with the issuer, audience and introspection client the stack created", () => {
        const env = deployedEnv();
        assert.equal(env.OIDC_ISSUER, server().state.issuer);
        assert.equal(env.AUDIENCE, (server().inputs.audiences as string[])[0]);
        assert.equal(env.INTROSPECTION_CLIENT_ID, introspectionApp().id);
        assert.equal(env.UPSTREAM_URL, doc.upstreamUrl);
        assert.equal(env.REQUIRED_SCOPES, (doc.requiredScopes ?? []).join(" "));
    });

    /** The introspection client's KMS signing keys (AWS target), oldest first. */
    const signingKeys = () => ofType("aws:kms/key:Key").filter((k) => k.inputs.keyUsage === "SIGN_VERIFY");

    if (doc.target === "local") {
        it("hands the gateway an environment its own validator accepts", () => {
            const env = deployedEnv();
            const config = loadConfig(env);
            assert.equal(config.introspectionClient?.credentials.kind, "key");
            assert.equal(config.issuer, server().state.issuer);
            assert.equal(config.introspectionClient?.id, introspectionApp().id);
        });

        it("never lets the introspection client's private key appear outside a secret", () => {
            const secret = introspectionKey();
            assert.ok(secret && secret.length >= 32);
            const places = all().flatMap((r) => findInRawInputs(r.rawInputs, secret).map((p) => ({ ...p, where: `${r.type} ${r.name} ${p.path}` })));
            assert.ok(places.length > 0, "the secret reaches the deployment somewhere");
            for (const p of places) assert.ok(p.inSecret, `${p.where} carries the secret in plain text`);
        });
    } else {
        it("hands the gateway an environment its own validator accepts: it signs with the newest KMS key, by its ARN, no key or secret in the task", () => {
            const config = loadConfig(deployedEnv());
            const newest = signingKeys().at(-1) as RecordedResource;
            assert.deepEqual(config.introspectionClient?.credentials, {
                kind: "kms",
                keyArn: newest.state.arn,
                alg: "RS256",
                kid: (introspectionApp().inputs.jwks as { kid: string }[]).at(-1)?.kid,
            });
            assert.equal(config.issuer, server().state.issuer);
            assert.equal(config.introspectionClient?.id, introspectionApp().id);
        });

        it("declares no private key at all: the introspection client's keys are KMS RSA signing keys, the app trusts their public halves", () => {
            assert.deepEqual(ofType("tls:index/privateKey:PrivateKey"), [], "no tls key, so no private key in the stack's state");
            const keys = signingKeys();
            assert.ok(keys.length >= 1);
            for (const k of keys) assert.equal(k.inputs.customerMasterKeySpec, "RSA_2048");
            const reads = getRun()
                .stack.calls.filter((c) => c.token === "aws:kms/getPublicKey:getPublicKey")
                .map((c) => c.inputs.keyId);
            assert.deepEqual(
                reads,
                keys.map((k) => k.state.arn),
                "each public key read by its key's ARN",
            );
            assert.equal((introspectionApp().inputs.jwks as unknown[]).length, keys.length);
            assert.deepEqual(
                ofType("aws:secretsmanager/secret:Secret").filter((r) => r.name.includes("introspection")),
                [],
                "no introspection secret to store",
            );
        });

        it("lets the task role sign with those keys and nothing else: kms:Sign, RS256 only, every listed key (a rotation's old tasks still sign)", () => {
            const taskDef = one("aws:ecs/taskDefinition:TaskDefinition");
            const taskRole = all().find((r) => r.type === "aws:iam/role:Role" && r.state.arn === taskDef.inputs.taskRoleArn) as RecordedResource;
            const policy = ofType("aws:iam/rolePolicy:RolePolicy").find((p) => p.inputs.role === taskRole.id) as RecordedResource;
            assert.deepEqual(JSON.parse(policy.inputs.policy as string), {
                Version: "2012-10-17",
                Statement: [
                    {
                        Sid: "SignsIntrospectionAssertions",
                        Effect: "Allow",
                        Action: ["kms:Sign"],
                        Resource: signingKeys().map((k) => k.state.arn),
                        Condition: { StringEquals: { "kms:SigningAlgorithm": "RSASSA_PKCS1_V1_5_SHA_256" } },
                    },
                ],
            });
        });
    }

    it(
        doc.target === "local"
            ? "exports the local gateway's URL as localGatewayUrl only, and the image reference"
            : "exports the gateway's URL and image reference",
        async () => {
            const outputs = getRun().outputs;
            const url = await valueOf((doc.target === "local" ? outputs.localGatewayUrl : outputs.gatewayUrl) as pulumi.Output<string>);
            // Other teams read gatewayUrl: a local gateway is on the machine that ran `pulumi up`, not for them.
            if (doc.target === "local") assert.equal(outputs.gatewayUrl, undefined);
            else assert.equal(outputs.localGatewayUrl, undefined);
            // The image's digest exists once `up` has built it: unknown at preview, as the provider has it.
            assert.equal(await isKnown(outputs.gatewayImage as pulumi.Output<string>), !preview);
            if (doc.target === "local") assert.equal(url, `http://localhost:${doc.local?.port ?? 8080}`);
            if (preview) return;
            const image = await valueOf(outputs.gatewayImage as pulumi.Output<string>);
            assert.equal(image, one("docker:index/image:Image").state.repoDigest);
            if (doc.target === "local") {
                assert.match(image, /^sha256:[0-9a-f]{64}$/, "the local image id: a rebuild is a new id");
            } else {
                const alb = one("aws:lb/loadBalancer:LoadBalancer");
                assert.equal(url, doc.aws?.domainName ? `https://${doc.aws.domainName}` : `http://${alb.state.dnsName}`);
                if (doc.aws?.domainName) assert.doesNotMatch(url, /elb\.amazonaws\.com/, "never the load balancer's own name, which no certificate covers");
                assert.match(image, /@sha256:[0-9a-f]{64}$/, "referred to by digest");
            }
        },
    );

    if (doc.target === "local") {
        it("runs a container on its own network, ports published, restarted, health-checked, envs secret", () => {
            const network = one("docker:index/network:Network");
            const container = one("docker:index/container:Container");
            assert.deepEqual(container.inputs.networksAdvanced, [{ name: network.inputs.name }]);
            const ports = container.inputs.ports as { internal: number; external: number }[];
            assert.deepEqual(
                ports.map((p) => [p.internal, p.external]),
                [
                    [8080, doc.local?.port ?? 8080],
                    [9090, doc.local?.adminPort ?? 9090],
                ],
            );
            assert.equal(container.inputs.restart, "unless-stopped");
            assert.deepEqual((container.inputs.healthcheck as { tests: string[] }).tests, healthCheckCommand(), "readiness, as in the image");
            if (!preview)
                assert.equal(container.inputs.image, one("docker:index/image:Image").state.repoDigest, "runs the image by id, so it follows every rebuild");
            assert.equal(one("docker:index/image:Image").inputs.skipPush, true);
            assert.equal(
                findInRawInputs(container.rawInputs, "INTROSPECTION_CLIENT_ID=").every((p) => p.inSecret),
                true,
                "the whole envs list is one secret",
            );
        });
    } else {
        it("pushes to an ECR repository that scans on push, with credentials from ECR's token", () => {
            const repo = one("aws:ecr/repository:Repository");
            assert.deepEqual(repo.inputs.imageScanningConfiguration, { scanOnPush: true });
            const image = one("docker:index/image:Image");
            const registry = image.inputs.registry as { server: string; username: string };
            assert.equal(registry.server, repo.state.repositoryUrl);
            assert.equal(registry.username, "AWS");
            assert.ok(
                findInRawInputs(image.rawInputs, "ecr-token-stand-in").every((p) => p.inSecret),
                "the registry password is secret",
            );
            assert.ok(getRun().stack.calls.some((c) => c.token === "aws:ecr/getAuthorizationToken:getAuthorizationToken"));
        });

        it("hands the task no secret (KMS signs), runs the image by its immutable tag as a non-root user, readable at preview", () => {
            // A string at preview too: the guardrail pack reads it there (a digest would leave it unknown whenever the image changes).
            const definitions = one("aws:ecs/taskDefinition:TaskDefinition").inputs.containerDefinitions;
            assert.equal(typeof definitions, "string", "known at preview, while the image is yet to be built");
            const def = (JSON.parse(definitions as string) as ContainerDefinition[])[0];
            assert.deepEqual(def.secrets, []);
            assert.ok(!def.environment.some((e) => e.name.includes("SECRET") || e.name === "INTROSPECTION_CLIENT_PRIVATE_KEY"));
            const image = one("docker:index/image:Image");
            assert.equal(def.image, image.inputs.imageName, "repository:tag, the tag derived from every build input");
            assert.equal(one("aws:ecr/repository:Repository").inputs.imageTagMutability, "IMMUTABLE", "so the tag names one image for good");
            assert.ok(one("aws:ecs/taskDefinition:TaskDefinition").dependencyUrns.includes(image.urn), "registered after the push");
            assert.equal(def.user, "1000");
        });

        it("lets the execution role pull its image and write its logs, on those resources only; both roles trust this account's ECS only", () => {
            const repo = one("aws:ecr/repository:Repository");
            const logGroup = one("aws:cloudwatch/logGroup:LogGroup");
            const taskDef = one("aws:ecs/taskDefinition:TaskDefinition");
            const executionRole = all().find((r) => r.type === "aws:iam/role:Role" && r.state.arn === taskDef.inputs.executionRoleArn) as RecordedResource;
            const policies = ofType("aws:iam/rolePolicy:RolePolicy").filter((p) => p.inputs.role === executionRole.id);
            assert.equal(policies.length, 1);
            const statements = (JSON.parse(policies[0].inputs.policy as string) as { Statement: { Action: string[]; Resource: string | string[] }[] })
                .Statement;
            assert.deepEqual(
                statements.map((st) => [st.Action, st.Resource]),
                [
                    [["ecr:GetAuthorizationToken"], "*"],
                    [["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"], [repo.state.arn]],
                    [["logs:CreateLogStream", "logs:PutLogEvents"], [`${String(logGroup.state.arn)}:*`]],
                ],
                "no secret to read: the introspection client's key is in KMS",
            );
            assert.deepEqual(ofType("aws:iam/rolePolicyAttachment:RolePolicyAttachment"), [], "no AWS managed policy, with its Resource: *");
            for (const role of ofType("aws:iam/role:Role")) {
                const trust = JSON.parse(String(role.inputs.assumeRolePolicy)) as { Statement: { Condition: unknown }[] };
                assert.deepEqual(trust.Statement[0].Condition, {
                    StringEquals: { "aws:SourceAccount": MOCK_AWS.account },
                    ArnLike: { "aws:SourceArn": `arn:aws:ecs:${MOCK_AWS.region}:${MOCK_AWS.account}:*` },
                });
            }
        });

        it("runs a Fargate service behind the load balancer, with rollback", () => {
            const service = one("aws:ecs/service:Service");
            const tg = one("aws:lb/targetGroup:TargetGroup");
            assert.equal(service.inputs.launchType, "FARGATE");
            assert.deepEqual(service.inputs.deploymentCircuitBreaker, { enable: true, rollback: true });
            // A rotation changes INTROSPECTION_CLIENT_KMS_KEY_ARN in the task definition: a new deployment by itself.
            assert.equal(service.inputs.triggers, undefined, "no secret version to follow");
            assert.deepEqual(service.inputs.loadBalancers, [{ targetGroupArn: tg.state.arn, containerName: "policy-gateway", containerPort: 8080 }]);
            assert.equal(tg.inputs.targetType, "ip");
            assert.deepEqual(
                { path: (tg.inputs.healthCheck as Record<string, unknown>).path, port: (tg.inputs.healthCheck as Record<string, unknown>).port },
                { path: "/readyz", port: "9090" },
            );
            const def = (JSON.parse(one("aws:ecs/taskDefinition:TaskDefinition").inputs.containerDefinitions as string) as ContainerDefinition[])[0];
            assert.deepEqual(def.healthCheck.command, healthCheckCommand(), "the container is healthy only once ready");
        });

        it("makes pulumi up wait for the new tasks to be ready, failing when they never are", () => {
            const service = one("aws:ecs/service:Service");
            assert.equal(service.inputs.waitForSteadyState, true);
        });

        it("puts the load balancer and the tasks in their own subnets, internal when the clients are private", () => {
            const alb = one("aws:lb/loadBalancer:LoadBalancer");
            const net = one("aws:ecs/service:Service").inputs.networkConfiguration as { subnets: string[]; assignPublicIp: boolean };
            if (doc.aws?.loadBalancerSubnetIds) assert.deepEqual(alb.inputs.subnets, doc.aws.loadBalancerSubnetIds);
            if (doc.aws?.taskSubnetIds) assert.deepEqual(net.subnets, doc.aws.taskSubnetIds);
            const privateClients = (doc.aws?.allowedCidrs ?? ["0.0.0.0/0"]).every(isPrivateCidr);
            assert.equal(alb.inputs.internal, doc.aws?.internal ?? privateClients);
            assert.equal(net.assignPublicIp, doc.aws?.vpcId === undefined, "public addresses only in the default VPC's public subnets");
        });

        it("trusts X-Forwarded-For only from the load balancer's own subnets, not the whole VPC", () => {
            // The ranges DescribeSubnets gives for the load balancer's subnets (the mock's, by id).
            const asked = getRun()
                .stack.calls.filter((c) => c.token === "aws:ec2/getSubnet:getSubnet")
                .map((c) => String(c.inputs.id));
            const lbSubnets = doc.aws?.loadBalancerSubnetIds ?? ["subnet-0default00000001", "subnet-0default00000002", "subnet-0default00000003"];
            assert.ok(lbSubnets.every((id) => asked.includes(id)));
            assert.equal(deployedEnv().TRUST_PROXY, doc.aws?.vpcId ? "10.20.1.0/24,10.20.2.0/24" : "172.31.16.0/20,172.31.32.0/20,172.31.48.0/20");
        });

        it("runs one worker per whole vCPU of the task", () => {
            const cpu = Number(one("aws:ecs/taskDefinition:TaskDefinition").inputs.cpu);
            assert.equal(deployedEnv().WORKERS, String(Math.max(1, Math.floor(cpu / 1024))));
        });

        it("gives the gateway its own name: an alias record and HTTPS with a certificate for that name", () => {
            const records = ofType("aws:route53/record:Record");
            const alb = one("aws:lb/loadBalancer:LoadBalancer");
            if (!doc.aws?.domainName) {
                assert.deepEqual(records, []);
                return;
            }
            const alias = records.find((r) => r.inputs.type === "A") as RecordedResource;
            assert.equal(alias.inputs.name, doc.aws.domainName);
            assert.equal(alias.inputs.zoneId, doc.aws.hostedZoneId);
            assert.deepEqual(alias.inputs.aliases, [{ name: alb.state.dnsName, zoneId: alb.state.zoneId, evaluateTargetHealth: true }]);
            const https = ofType("aws:lb/listener:Listener").find((l) => l.inputs.protocol === "HTTPS") as RecordedResource;
            if (doc.aws.certificateArn) {
                assert.equal(https.inputs.certificateArn, doc.aws.certificateArn);
                assert.deepEqual(ofType("aws:acm/certificate:Certificate"), []);
            } else {
                assert.equal(one("aws:acm/certificate:Certificate").inputs.domainName, doc.aws.domainName);
                assert.equal(https.inputs.certificateArn, one("aws:acm/certificateValidation:CertificateValidation").state.certificateArn, "only once issued");
            }
        });

        it("alarms on 5xx, unready tasks, p99 latency and CPU, and draws them on a dashboard", () => {
            const alarms = ofType("aws:cloudwatch/metricAlarm:MetricAlarm").filter((a) => !a.name.includes("-telemetry-"));
            const byMetric = (m: string) =>
                alarms.find((a) => a.inputs.metricName === m || JSON.stringify(a.inputs.metricQueries ?? []).includes(m)) as RecordedResource;
            const alb = one("aws:lb/loadBalancer:LoadBalancer");
            const tg = one("aws:lb/targetGroup:TargetGroup");
            for (const m of ["HTTPCode_ELB_5XX_Count", "HTTPCode_Target_5XX_Count", "UnHealthyHostCount", "TargetResponseTime", "CPUUtilization"])
                assert.ok(byMetric(m), `an alarm on ${m}`);
            assert.deepEqual(byMetric("UnHealthyHostCount").inputs.dimensions, { LoadBalancer: alb.state.arnSuffix, TargetGroup: tg.state.arnSuffix });
            assert.equal(byMetric("TargetResponseTime").inputs.extendedStatistic, "p99");
            for (const a of alarms) assert.deepEqual(a.inputs.alarmActions, doc.aws?.alarmTopicArn ? [doc.aws.alarmTopicArn] : undefined, a.name);
            const main = ofType("aws:cloudwatch/dashboard:Dashboard").find((d) => !d.name.includes("-telemetry-")) as RecordedResource;
            const body = JSON.parse(main.inputs.dashboardBody as string) as { widgets: unknown[] };
            assert.ok(body.widgets.length >= 4);
            assert.ok(JSON.stringify(body).includes(String(alb.state.arnSuffix)));
        });

        it("turns the request lines into CloudWatch metrics by API, consumer and outcome, with dimension values bounded by the declarations", () => {
            const logGroup = one("aws:cloudwatch/logGroup:LogGroup");
            const filters = ofType("aws:cloudwatch/logMetricFilter:LogMetricFilter");
            const byMetric = new Map(filters.map((f) => [(f.inputs.metricTransformation as { name: string }).name, f]));
            const shared = (doc.rateLimits?.store ?? "shared") === "shared" && doc.rateLimits !== undefined;
            assert.deepEqual(
                [...byMetric.keys()].sort(),
                [
                    "Answers",
                    "AuthorizationServer429s",
                    "ConsumerLatency",
                    "ConsumerRefusals",
                    "ConsumerRequests",
                    "IntrospectionErrors",
                    "Latency",
                    ...(shared ? ["RateLimitFallbacks"] : []),
                    "Requests",
                ].sort(),
            );
            // The dimensions are the request line's bounded fields only: never a client id, an address or a path.
            const allowed = new Set(["$.api", "$.consumer", "$.outcome"]);
            for (const f of filters) {
                assert.equal(f.inputs.logGroupName, logGroup.state.name);
                const t = f.inputs.metricTransformation as { namespace: string; dimensions?: Record<string, string> };
                assert.match(t.namespace, /^PolicyGateway\//);
                for (const field of Object.values(t.dimensions ?? {})) assert.ok(allowed.has(field), `${f.name}: ${field}`);
            }
        });

        it("alarms per API on 401, 403 and 429 surges relative to its traffic, and on introspection errors and the authorization server's 429s, to the stack's topic", () => {
            const alarms = ofType("aws:cloudwatch/metricAlarm:MetricAlarm").filter((a) => a.name.includes("-telemetry-"));
            const apis = ["default"];
            const shared = (doc.rateLimits?.store ?? "shared") === "shared" && doc.rateLimits !== undefined;
            assert.deepEqual(
                alarms.map((a) => a.name.replace(/^.*-telemetry-alarm-/, "")).sort(),
                [
                    ...apis.flatMap((api) => [`${api}-401`, `${api}-403`, `${api}-429`]),
                    "authorization-server-429",
                    "introspection-errors",
                    ...(shared ? ["rate-limit-store"] : []),
                ].sort(),
            );
            for (const a of alarms) {
                assert.deepEqual(a.inputs.alarmActions, doc.aws?.alarmTopicArn ? [doc.aws.alarmTopicArn] : undefined, a.name);
                assert.match(String(a.inputs.alarmDescription), /Runbook: docs\/operations\.md#alarm-/);
            }
            const surge = alarms.find((a) => a.name.endsWith("-alarm-default-403")) as RecordedResource;
            const queries = surge.inputs.metricQueries as {
                id: string;
                expression?: string;
                metric?: { metricName: string; dimensions: Record<string, string> };
            }[];
            assert.deepEqual(
                queries.flatMap((q) => (q.metric ? [`${q.metric.metricName} ${Object.values(q.metric.dimensions).join(" ")}`] : [])),
                ["Requests default", "Answers default insufficient_scope", "Answers default not_a_consumer"],
            );
            const minimum = doc.aws?.alarms?.minRequestsPerMinute ?? 20;
            assert.match(queries.at(-1)?.expression ?? "", new RegExp(`^IF\\(FILL\\(total, 0\\) >= ${minimum}, 100 \\* `));
            assert.equal(surge.inputs.threshold, doc.aws?.alarms?.forbiddenPercent ?? 10);
        });

        it(production ? "keeps the image repository's images on destroy in production" : "lets destroy remove the image repository with its images", () => {
            assert.equal(one("aws:ecr/repository:Repository").inputs.forceDelete, !production);
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

        it("listens with HTTPS when the gateway has a name, redirecting HTTP", () => {
            const listeners = ofType("aws:lb/listener:Listener");
            if (doc.aws?.domainName) {
                const https = listeners.find((l) => l.inputs.protocol === "HTTPS") as RecordedResource;
                assert.equal(https.inputs.port, 443);
                const http = listeners.find((l) => l.inputs.protocol === "HTTP") as RecordedResource;
                assert.equal((http.inputs.defaultActions as { type: string }[])[0].type, "redirect");
            } else {
                assert.deepEqual(
                    listeners.map((l) => l.inputs.protocol),
                    ["HTTP"],
                );
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
