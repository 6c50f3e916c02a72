// The gateway deployment components alone, under the mock runtime, for the cases the committed
// stacks do not cover (the account's default VPC, no certificate), and their pure helpers.
import * as pulumi from "@pulumi/pulumi";
import { awsGatewaySpec } from "../components/stackConfig/awsTarget";
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, renameSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { accountUniqueName, AwsGateway, ecsTasksTrust, executionRolePolicy } from "../components/awsGateway";
import { buildContextDigest, bundleIsStale, ensureGatewayBundle, GATEWAY_DIR, inputsOf } from "../components/gatewayBundle";
import { imageAnnotations, imageIdentity, pinnedBaseImageOf } from "../components/gatewayImage";
import { execFileSync } from "node:child_process";
import { parse as parseYaml } from "yaml";
import { defaultRouteOf, routingProblems, zoneProblems } from "../components/subnetRouting";
import { healthCheckCommand } from "../policy-gateway/src/config/contract";
import { deployedSettings, gatewayEnvironment, type OktaWiring } from "../components/gatewayEnvironment";
import { LocalGateway } from "../components/localGateway";
import type { GatewaySpec } from "../components/stackConfig/index";
import { loadConfig } from "../policy-gateway/src/config/load";
import { PROJECT_ROOT, startMockedStack, valueOf, type MockedStack } from "../harness/stackHarness";

const spec: GatewaySpec = {
    target: "aws",
    settings: {
        upstreamUrl: "https://api.internal.example",
        tokenValidation: "introspection",
        introspectionPrecheck: "jwt",
        requiredScopes: ["myscope"],
        scopeMatch: "all",
        routeRules: [{ path: "/admin/**", scopes: ["admin"] }],
        cacheMaxTtlSeconds: 60,
        negativeCacheTtlSeconds: 10,
        introspectionsPerClientPerMinute: 120,
        upstreamTimeoutMs: 30_000,
        hideCredentials: false,
        identityHeaderPrefix: "X-Auth-",
        corsPreflightPassthrough: false,
        corsAllowedOrigins: [],
        corsAllowedMethods: ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
        corsAllowedHeaders: ["authorization", "content-type"],
        corsExposedHeaders: ["RateLimit", "RateLimit-Policy", "Retry-After", "X-Request-Id", "WWW-Authenticate"],
        corsAllowCredentials: false,
        corsMaxAgeSeconds: 600,
        logLevel: "info",
        methodOverride: "strip",
    },
    local: { port: 18080, adminPort: 19090 },
    aws: {
        allowedCidrs: ["0.0.0.0/0"],
        internal: false,
        assignPublicIp: true,
        deploymentTimeoutMinutes: 20,
        alarms: awsGatewaySpec({}).alarms,
        minCapacity: 1,
        maxCapacity: 3,
        targetCpuPercent: 50,
        cpu: 256,
        memory: 512,
        cpuArchitecture: "X86_64",
        rateLimitStoreNodeType: "cache.t4g.micro",
        logRetentionDays: 7,
    },
};
const okta: OktaWiring = {
    issuer: "https://acme.okta.com/oauth2/aus1",
    audience: "api://products",
    introspectionClientId: "0oaIntrospect",
    consumerTiers: {},
    consumerNames: {},
};
/** The environment a target gives the container for `gateway`. */
const envOf = (gateway: GatewaySpec, wiring: OktaWiring = okta) => gatewayEnvironment(deployedSettings(gateway, wiring, {}));

let stack: MockedStack;
before(async () => {
    stack = await startMockedStack({ project: "okta-api-gateway", stack: "unit", config: {} });
});

describe("gatewayEnvironment", () => {
    it("gives the gateway an environment its own validator accepts, with the stack's values", () => {
        const env = envOf(spec);
        const config = loadConfig({ ...env, INTROSPECTION_CLIENT_SECRET: "x".repeat(40) });
        assert.equal(config.issuer, okta.issuer);
        assert.equal(config.audience, okta.audience);
        assert.equal(config.introspectionClient?.id, okta.introspectionClientId);
        const [api] = config.apis;
        assert.deepEqual(api.requiredScopes, ["myscope"]);
        assert.deepEqual(
            api.routeRules.map((r) => r.source),
            spec.settings.routeRules,
        );
        assert.equal(api.upstreamUrl.href, "https://api.internal.example/");
        assert.ok(!Object.keys(env).some((k) => k.includes("SECRET")), "never the secret");
    });

    it("names each consumer's client id for the per-consumer metrics (CONSUMER_NAMES), which the gateway decodes", () => {
        const names = { "0oaProductsWeb": "products-web", "0oaBilling": "billing-export" };
        const env = envOf(spec, { ...okta, consumerNames: names });
        assert.deepEqual(JSON.parse(env.CONSUMER_NAMES ?? "{}"), names);
        const config = loadConfig({ ...env, INTROSPECTION_CLIENT_SECRET: "x".repeat(40) });
        assert.equal(config.consumerNames.get("0oaBilling"), "billing-export");
        assert.equal(envOf(spec).CONSUMER_NAMES, undefined, "no consumers, no names");
    });
});

describe("the gateway bundle", () => {
    it("is stale when missing or older than any input", () => {
        assert.equal(bundleIsStale(undefined, []), true);
        assert.equal(bundleIsStale(100, [50, 99]), false);
        assert.equal(bundleIsStale(100, [50, 101]), true);
    });
    it("is rebuilt when a source is newer, and named by its content", () => {
        const dir = mkdtempSync(path.join(tmpdir(), "gw-"));
        mkdirSync(path.join(dir, "src"));
        mkdirSync(path.join(dir, "dist"));
        writeFileSync(path.join(dir, "src", "main.ts"), "export {}\n");
        writeFileSync(
            path.join(dir, "build.mjs"),
            "import { writeFileSync } from 'node:fs'; writeFileSync(new URL('./dist/gateway.mjs', import.meta.url), 'rebuilt'); writeFileSync(new URL('./dist/sbom.cdx.json', import.meta.url), '{}');\n",
        );
        writeFileSync(path.join(dir, "dist", "gateway.mjs"), "old");
        const past = new Date(Date.now() - 60_000);
        utimesSync(path.join(dir, "dist", "gateway.mjs"), past, past);
        const first = ensureGatewayBundle(dir);
        assert.equal(first.rebuilt, true);
        const second = ensureGatewayBundle(dir);
        assert.equal(second.rebuilt, false, "fresh: not rebuilt again");
        assert.equal(second.sha256, first.sha256);
        assert.match(second.sha256, /^[0-9a-f]{64}$/);
    });
});

describe("the gateway bundle's inputs and SBOM", () => {
    it("counts every source in the layer folders, the lock file and the base image pin as inputs", () => {
        const inputs = inputsOf(GATEWAY_DIR).map((f) => path.relative(GATEWAY_DIR, f));
        for (const f of ["src/server/main.ts", "src/verification/kmsSigner.ts", "build.mjs", "../package-lock.json", "base-image/Dockerfile"])
            assert.ok(inputs.includes(f), `${f} is an input`);
    });
    it("lists exactly the npm packages the bundle contains, at their installed versions, and the pinned base image; the same bytes on every build", () => {
        ensureGatewayBundle();
        const file = path.join(GATEWAY_DIR, "dist", "sbom.cdx.json");
        const first = readFileSync(file, "utf8");
        const sbom = JSON.parse(first) as {
            bomFormat: string;
            specVersion: string;
            components: { type: string; name: string; version: string; purl?: string }[];
        };
        assert.deepEqual([sbom.bomFormat, sbom.specVersion], ["CycloneDX", "1.5"]);
        const installed = (name: string) =>
            (JSON.parse(readFileSync(path.join(PROJECT_ROOT, "node_modules", name, "package.json"), "utf8")) as { version: string }).version;
        const libraries = new Map(sbom.components.filter((c) => c.type === "library").map((c) => [c.name, c]));
        for (const name of ["jose", "undici", "zod", "pino", "lru-cache", "prom-client", "ioredis", "@aws-sdk/client-kms"]) {
            assert.equal(libraries.get(name)?.version, installed(name), `${name} at its installed version`);
        }
        assert.equal(libraries.get("@aws-sdk/client-kms")?.purl, `pkg:npm/%40aws-sdk/client-kms@${installed("@aws-sdk/client-kms")}`);
        for (const name of ["esbuild", "oidc-provider", "@pulumi/pulumi", "yaml"]) assert.equal(libraries.has(name), false, `${name} is not in the bundle`);
        assert.deepEqual(
            sbom.components.filter((c) => c.type === "container").map((c) => `${c.name}@${c.version}`),
            [pinnedBaseImageOf()],
        );
        execFileSync(process.execPath, [path.join(GATEWAY_DIR, "build.mjs")]);
        assert.equal(readFileSync(file, "utf8"), first, "no timestamp or serial number: the build context changes only with its content");
    });
});

describe("the gateway image's base and annotations", () => {
    it("reads the base image from the pin file, and refuses one not pinned by digest, naming the file", () => {
        assert.match(pinnedBaseImageOf(), /^node:24-bookworm-slim@sha256:[0-9a-f]{64}$/);
        const dir = mkdtempSync(path.join(tmpdir(), "pin-"));
        writeFileSync(path.join(dir, "Dockerfile"), "# comment\nFROM node:24-bookworm-slim\n");
        assert.throws(
            () => pinnedBaseImageOf(path.join(dir, "Dockerfile")),
            /Dockerfile: its FROM line must name the base image by digest .* got node:24-bookworm-slim/,
        );
    });
    it("annotates the image with the version, the git tree of policy-gateway/ and the repository", () => {
        const a = imageAnnotations({ GITHUB_SERVER_URL: "https://github.com", GITHUB_REPOSITORY: "acme/okta-api-gateway" });
        assert.equal(a.VERSION, (JSON.parse(readFileSync(path.join(PROJECT_ROOT, "package.json"), "utf8")) as { version: string }).version);
        assert.equal(a.REVISION, execFileSync("git", ["rev-parse", "HEAD:policy-gateway"], { cwd: PROJECT_ROOT, encoding: "utf8" }).trim());
        assert.equal(a.SOURCE, "https://github.com/acme/okta-api-gateway");
        assert.equal(imageAnnotations({}).SOURCE, "", "outside the workflows: no repository claimed");
    });
    it("is watched by Dependabot: the pin file's folder under the docker ecosystem", () => {
        const config = parseYaml(readFileSync(path.join(PROJECT_ROOT, ".github", "dependabot.yml"), "utf8")) as {
            updates: { "package-ecosystem": string; directory: string }[];
        };
        assert.ok(config.updates.some((u) => u["package-ecosystem"] === "docker" && u.directory === "/policy-gateway/base-image"));
    });
});

describe("the gateway image's identity", () => {
    it("changes with the content, the name and the mode of any file of the build context, as the docker provider's context hash does", () => {
        const dir = mkdtempSync(path.join(tmpdir(), "ctx-"));
        mkdirSync(path.join(dir, "dist"));
        writeFileSync(path.join(dir, "Dockerfile"), "FROM x\n");
        writeFileSync(path.join(dir, "dist", "gateway.mjs"), "a");
        const seen = new Set([buildContextDigest(dir)]);
        writeFileSync(path.join(dir, "dist", "gateway.mjs"), "b");
        seen.add(buildContextDigest(dir));
        writeFileSync(path.join(dir, ".dockerignore"), "src/\n");
        seen.add(buildContextDigest(dir));
        chmodSync(path.join(dir, "Dockerfile"), 0o600);
        seen.add(buildContextDigest(dir));
        renameSync(path.join(dir, "dist", "gateway.mjs"), path.join(dir, "dist", "main.mjs"));
        seen.add(buildContextDigest(dir));
        assert.equal(seen.size, 5, "every change is a new identity");
        assert.equal(buildContextDigest(dir), buildContextDigest(dir), "and the same tree the same one");
    });
    it("changes with the build arguments (the base image's digest) and the platform", () => {
        const base = imageIdentity("c", { BASE_IMAGE: "node:24@sha256:aa" }, "linux/amd64");
        assert.notEqual(base, imageIdentity("c", { BASE_IMAGE: "node:24@sha256:bb" }, "linux/amd64"));
        assert.notEqual(base, imageIdentity("c", { BASE_IMAGE: "node:24@sha256:aa" }, "linux/arm64"));
        assert.notEqual(base, imageIdentity("d", { BASE_IMAGE: "node:24@sha256:aa" }, "linux/amd64"));
    });
    it("is built from a Dockerfile that takes BASE_IMAGE and checks readiness with the contract's command", () => {
        const dockerfile = readFileSync(path.join(GATEWAY_DIR, "Dockerfile"), "utf8");
        assert.match(dockerfile, /^ARG BASE_IMAGE=node:24-bookworm-slim$/m);
        assert.match(dockerfile, /^FROM \$\{BASE_IMAGE\}$/m);
        const cmd = /HEALTHCHECK[^\n]*\\\n\s*CMD (\[.*\])$/m.exec(dockerfile);
        assert.ok(cmd, "a HEALTHCHECK in exec form");
        assert.deepEqual(["CMD", ...(JSON.parse(cmd[1]) as string[])], healthCheckCommand());
    });
});

describe("the subnets' routing", () => {
    const at = "okta-api-gateway:gateway.aws";
    it("reads where a subnet's default route leads", () => {
        assert.equal(
            defaultRouteOf([
                { cidrBlock: "10.0.0.0/16", gatewayId: "local" },
                { cidrBlock: "0.0.0.0/0", gatewayId: "igw-1" },
            ]),
            "internet-gateway",
        );
        assert.equal(defaultRouteOf([{ cidrBlock: "0.0.0.0/0", natGatewayId: "nat-1" }]), "nat-gateway");
        assert.equal(defaultRouteOf([{ cidrBlock: "0.0.0.0/0", transitGatewayId: "tgw-1" }]), "other");
        assert.equal(defaultRouteOf([{ cidrBlock: "10.0.0.0/16", gatewayId: "local" }]), "none");
    });
    it("refuses an internet-facing load balancer outside public subnets", () => {
        const p = routingProblems(at, { internal: false, assignPublicIp: false }, { "subnet-a": "nat-gateway", "subnet-b": "internet-gateway" }, {});
        assert.deepEqual(p.length, 1);
        assert.match(
            p[0],
            /^okta-api-gateway:gateway\.aws\.loadBalancerSubnetIds: subnet-a has no default route to an internet gateway, so an internet-facing load balancer there is unreachable/,
        );
        assert.deepEqual(
            routingProblems(at, { internal: true, assignPublicIp: false }, { "subnet-a": "nat-gateway" }, {}),
            [],
            "an internal one may live anywhere",
        );
    });
    it("refuses tasks that could not reach ECR, Secrets Manager or Okta", () => {
        const p = routingProblems(
            at,
            { internal: true, assignPublicIp: false },
            {},
            { "subnet-pub": "internet-gateway", "subnet-iso": "none", "subnet-nat": "nat-gateway", "subnet-tgw": "other" },
        );
        assert.equal(p.length, 2);
        assert.match(p[0], /taskSubnetIds: subnet-pub is a public subnet .*\(assignPublicIp: false\)/);
        assert.match(p[1], /taskSubnetIds: subnet-iso has no default route/);
        assert.deepEqual(
            routingProblems(at, { internal: false, assignPublicIp: true }, { "subnet-pub": "internet-gateway" }, { "subnet-pub": "internet-gateway" }),
            [],
            "public subnets with public addresses work",
        );
    });
});

describe("the tasks' roles", () => {
    it("name the stack's own partition, account and region, and scope the execution role to its repository, log group and secret", () => {
        const trust = ecsTasksTrust("210987654321", "aws-cn", "cn-north-1");
        assert.equal(trust.Statement[0].Condition.ArnLike["aws:SourceArn"], "arn:aws-cn:ecs:cn-north-1:210987654321:*");
        const policy = executionRolePolicy({
            repositoryArn: "arn:aws-cn:ecr:cn-north-1:210987654321:repository/gw",
            logGroupArn: "arn:aws-cn:logs:cn-north-1:210987654321:log-group:gw",
        });
        assert.deepEqual(
            policy.Statement.map((st) => st.Resource),
            ["*", ["arn:aws-cn:ecr:cn-north-1:210987654321:repository/gw"], ["arn:aws-cn:logs:cn-north-1:210987654321:log-group:gw:*"]],
            "no secret statement without a secret; only GetAuthorizationToken, which has no resource-level permissions, on *",
        );
    });
});

describe("names AWS holds per account", () => {
    it("carry project, stack and component, so two projects' prod stacks never share a task family or a dashboard", () => {
        assert.equal(accountUniqueName("gateway", "okta-api-gateway", "prod"), "okta-api-gateway-prod-gateway");
        assert.notEqual(accountUniqueName("gateway", "orders-api", "prod"), accountUniqueName("gateway", "okta-api-gateway", "prod"));
        assert.equal(accountUniqueName("gateway", "team.api", "eu/prod"), "team-api-eu-prod-gateway", "only letters, digits, - and _");
    });
});

describe("subnet zones", () => {
    const at = "okta-api-gateway:gateway.aws";
    it("needs the load balancer's subnets in two zones, and a Multi-AZ store's (the tasks') in two", () => {
        const two = { "subnet-a": "eu-west-1a", "subnet-b": "eu-west-1b" };
        const one = { "subnet-a": "eu-west-1a", "subnet-c": "eu-west-1a" };
        assert.deepEqual(zoneProblems(at, { internal: true, assignPublicIp: false, multiAzStore: true }, two, two), []);
        assert.match(zoneProblems(at, { internal: true, assignPublicIp: false }, one, two)[0], /loadBalancerSubnetIds: .* lie in eu-west-1a only/);
        assert.deepEqual(zoneProblems(at, { internal: true, assignPublicIp: false, multiAzStore: false }, two, one), [], "one zone is fine without Multi-AZ");
        assert.match(zoneProblems(at, { internal: true, assignPublicIp: false, multiAzStore: true }, two, one)[0], /taskSubnetIds: .* Multi-AZ/);
    });
});

describe("AwsGateway in a VPC of its own, with a name and no certificate given", () => {
    it("requests a certificate for the name, validated in the zone, listens with HTTPS on an internal load balancer, and trusts its subnets' ranges", async () => {
        const settings = {
            ...spec.aws,
            vpcId: "vpc-0abc",
            loadBalancerSubnetIds: ["subnet-0a1", "subnet-0a2"],
            taskSubnetIds: ["subnet-0b1", "subnet-0b2"],
            internal: true,
            assignPublicIp: false,
            domainName: "gw.acme.example",
            hostedZoneId: "Z0ACME",
            allowedCidrs: ["10.0.0.0/8"],
        };
        const gw = new AwsGateway("named", {
            consumerNames: ["products-web"],
            gateway: { ...spec, aws: settings },
            okta,
            introspectionCredential: { variable: "INTROSPECTION_CLIENT_SECRET", value: pulumi.secret("n".repeat(40)) },
            production: true,
        });
        assert.equal(await valueOf(gw.url), "https://gw.acme.example");
        await stack.settle();
        const mine = (type: string) => stack.resources.filter((r) => r.type === type && r.name.startsWith("named-"));
        const certificate = mine("aws:acm/certificate:Certificate")[0];
        assert.deepEqual([certificate.inputs.domainName, certificate.inputs.validationMethod], ["gw.acme.example", "DNS"]);
        const validationRecord = mine("aws:route53/record:Record").find((r) => r.inputs.type === "CNAME");
        assert.equal(validationRecord?.inputs.zoneId, "Z0ACME");
        const https = mine("aws:lb/listener:Listener").find((l) => l.inputs.protocol === "HTTPS");
        assert.equal(https?.inputs.certificateArn, mine("aws:acm/certificateValidation:CertificateValidation")[0].state.certificateArn);
        const alb = mine("aws:lb/loadBalancer:LoadBalancer")[0];
        assert.equal(alb.inputs.internal, true);
        assert.deepEqual(alb.inputs.subnets, ["subnet-0a1", "subnet-0a2"]);
        const net = mine("aws:ecs/service:Service")[0].inputs.networkConfiguration as { subnets: string[]; assignPublicIp: boolean };
        assert.deepEqual([net.subnets, net.assignPublicIp], [["subnet-0b1", "subnet-0b2"], false]);
        const def = JSON.parse(mine("aws:ecs/taskDefinition:TaskDefinition")[0].inputs.containerDefinitions as string) as {
            environment: { name: string; value: string }[];
        }[];
        const env = Object.fromEntries(def[0].environment.map((e) => [e.name, e.value]));
        // The load balancer's own subnets (subnet-0a1, subnet-0a2), not the VPC: in-VPC callers are not proxies.
        assert.equal(env.TRUST_PROXY, "10.20.1.0/24,10.20.2.0/24");
        assert.equal(loadConfig({ ...env, INTROSPECTION_CLIENT_SECRET: "x" }).trustProxy.toString(), "10.20.1.0/24,10.20.2.0/24");
        assert.equal(mine("aws:ecr/repository:Repository")[0].inputs.forceDelete, false, "production keeps its images");
    });
});

describe("rate limits in the gateway's deployment", () => {
    const limits = { tiers: { standard: { perSecond: 10, burst: 20 }, batch: { perMinute: 600 } }, defaultTier: "standard", store: "shared" as const };

    it("hands the gateway the tiers and each consumer's tier by client id, in a form its validator accepts", () => {
        const env = envOf({ ...spec, target: "local", rateLimits: { ...limits, store: "local" } }, { ...okta, consumerTiers: { "0oaBatch": "batch" } });
        const config = loadConfig({ ...env, INTROSPECTION_CLIENT_SECRET: "x".repeat(40) });
        const plan = config.rateLimits?.plan;
        assert.equal(plan?.consumers.get("0oaBatch"), "batch");
        assert.equal(plan?.defaultTier, "standard");
        assert.deepEqual(plan?.tiers.get("standard")?.[0], { name: "standard-per-second", limit: 10, windowSeconds: 1, burst: 20 });
        assert.equal(config.rateLimits?.store.kind, "local");
        assert.equal(envOf(spec).RATE_LIMITS, undefined, "no rateLimits, no limits");
    });

    it("declares a Valkey store only the tasks reach, over TLS, and points every task at it with its fallback share", async () => {
        const gw = new AwsGateway("limited", {
            consumerNames: ["products-web"],
            gateway: { ...spec, aws: { ...spec.aws, maxCapacity: 4 }, rateLimits: limits },
            okta,
            introspectionCredential: { variable: "INTROSPECTION_CLIENT_SECRET", value: pulumi.secret("l".repeat(40)) },
            production: true,
        });
        await valueOf(gw.url);
        await stack.settle();
        const mine = (type: string) => stack.resources.filter((r) => r.type === type && r.name.startsWith("limited-"));
        const store = mine("aws:elasticache/replicationGroup:ReplicationGroup")[0];
        assert.equal(store.inputs.engine, "valkey");
        assert.equal(store.inputs.transitEncryptionEnabled, true);
        assert.equal(store.inputs.atRestEncryptionEnabled, true);
        assert.deepEqual(
            [store.inputs.numCacheClusters, store.inputs.automaticFailoverEnabled, store.inputs.multiAzEnabled],
            [2, true, true],
            "production: a replica in another zone",
        );
        assert.equal(store.inputs.applyImmediately, true, "a change takes effect at pulumi up, not in the next maintenance window");
        const storeSg = mine("aws:ec2/securityGroup:SecurityGroup").find((r) => r.name === "limited-ratelimit-sg");
        const taskSg = mine("aws:ec2/securityGroup:SecurityGroup").find((r) => r.name === "limited-task-sg");
        const ingress = mine("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").filter((r) => r.inputs.securityGroupId === storeSg?.id);
        assert.deepEqual(
            ingress.map((r) => [r.inputs.fromPort, r.inputs.referencedSecurityGroupId, r.inputs.cidrIpv4]),
            [[6379, taskSg?.id, undefined]],
            "the tasks' security group and nothing else",
        );
        assert.deepEqual(store.inputs.securityGroupIds, [storeSg?.id]);
        const def = JSON.parse(mine("aws:ecs/taskDefinition:TaskDefinition")[0].inputs.containerDefinitions as string) as {
            environment: { name: string; value: string }[];
        }[];
        const env = Object.fromEntries(def[0].environment.map((e) => [e.name, e.value]));
        assert.match(env.RATE_LIMIT_STORE_URL, /^rediss:\/\/master\.[^:]+\.cache\.amazonaws\.com:6379$/);
        assert.equal(env.RATE_LIMIT_TASKS, "4", "the fallback share assumes the most tasks that may run");
        const config = loadConfig({ ...env, INTROSPECTION_CLIENT_SECRET: "x" });
        assert.deepEqual(config.rateLimits?.store, { kind: "shared", url: env.RATE_LIMIT_STORE_URL, timeoutMs: 250 });
    });
});

describe("AwsGateway in the account's default VPC, without a certificate", () => {
    it("looks the default VPC and its subnets up, listens on HTTP only, and exports an http URL", async () => {
        const gw = new AwsGateway("edge", {
            consumerNames: [],
            gateway: spec,
            okta,
            introspectionCredential: { variable: "INTROSPECTION_CLIENT_SECRET", value: pulumi.secret("s".repeat(40)) },
            production: false,
        });
        const url = await valueOf(gw.url);
        await stack.settle();
        const tokens = stack.calls.map((c) => c.token);
        assert.ok(tokens.includes("aws:ec2/getVpc:getVpc"));
        assert.ok(tokens.includes("aws:ec2/getSubnets:getSubnets"));
        const service = stack.resources.find((r) => r.type === "aws:ecs/service:Service" && r.name === "edge-service");
        const net = service?.inputs.networkConfiguration as { subnets: string[]; assignPublicIp: boolean };
        assert.deepEqual(net.subnets, ["subnet-0default00000001", "subnet-0default00000002", "subnet-0default00000003"]);
        assert.equal(net.assignPublicIp, true, "tasks in the default VPC's public subnets need a public IP to reach ECR and Okta");
        const listeners = stack.resources.filter((r) => r.type === "aws:lb/listener:Listener" && r.name.startsWith("edge-"));
        assert.deepEqual(
            listeners.map((l) => [l.inputs.protocol, l.inputs.port]),
            [["HTTP", 80]],
        );
        assert.match(url, /^http:\/\/edge-alb-[a-z0-9]+\.eu-west-1\.elb\.amazonaws\.com$/);
        assert.equal(stack.resources.find((r) => r.name === "edge-task")?.inputs.family, "okta-api-gateway-unit-edge", "unique in the account");
        assert.equal(stack.resources.find((r) => r.name === "edge-dashboard")?.inputs.dashboardName, "okta-api-gateway-unit-edge");
        assert.equal(
            stack.resources.find((r) => r.type === "aws:ecr/repository:Repository" && r.name === "edge-repo")?.inputs.forceDelete,
            true,
            "a sandbox can be destroyed with its images",
        );
        const ingress = stack.resources.filter(
            (r) => r.type === "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule" && r.name.startsWith("edge-alb-in"),
        );
        assert.deepEqual(
            ingress.map((r) => [r.inputs.fromPort, r.inputs.cidrIpv4]),
            [[80, "0.0.0.0/0"]],
        );
        const def = JSON.parse(stack.resources.find((r) => r.name === "edge-task")?.inputs.containerDefinitions as string) as {
            readonlyRootFilesystem: boolean;
        }[];
        assert.equal(def[0].readonlyRootFilesystem, true);
    });
});

describe("LocalGateway", () => {
    it("publishes the configured ports (admin on loopback only) and makes the envs secret", async () => {
        const gw = new LocalGateway("dev", {
            gateway: { ...spec, target: "local" },
            okta,
            introspectionCredential: { variable: "INTROSPECTION_CLIENT_SECRET", value: pulumi.secret("t".repeat(40)) },
        });
        assert.equal(await valueOf(gw.url), "http://localhost:18080");
        await stack.settle();
        const container = stack.resources.find((r) => r.name === "dev-container");
        assert.deepEqual(container?.inputs.ports, [
            { internal: 8080, external: 18080 },
            { internal: 9090, external: 19090, ip: "127.0.0.1" },
        ]);
        assert.ok((container?.inputs.envs as string[]).includes(`INTROSPECTION_CLIENT_SECRET=${"t".repeat(40)}`));
        assert.equal(container?.inputs.wait, true);
    });
});

describe("a gateway that checks JWTs locally (tokenValidation jwt)", () => {
    it("runs its task with no introspection secret: none declared, none readable, none in the task", async () => {
        const jwt: GatewaySpec = { ...spec, settings: { ...spec.settings, tokenValidation: "jwt" } };
        const gw = new AwsGateway("jwtonly", { gateway: jwt, okta: { ...okta, introspectionClientId: undefined }, production: false, consumerNames: [] });
        await valueOf(gw.url);
        await stack.settle();
        const mine = (type: string) => stack.resources.filter((r) => r.type === type && r.name.startsWith("jwtonly-"));
        assert.deepEqual(mine("aws:secretsmanager/secret:Secret"), []);
        const policy = JSON.parse(String(mine("aws:iam/rolePolicy:RolePolicy")[0].inputs.policy)) as { Statement: { Action: string[] }[] };
        assert.ok(!policy.Statement.some((st) => st.Action.some((a) => a.startsWith("secretsmanager:"))), "the execution role may read no secret");
        const def = JSON.parse(mine("aws:ecs/taskDefinition:TaskDefinition")[0].inputs.containerDefinitions as string) as {
            environment: { name: string; value: string }[];
            secrets: unknown[];
        }[];
        assert.deepEqual(def[0].secrets, []);
        const env = Object.fromEntries(def[0].environment.map((e) => [e.name, e.value]));
        assert.equal(env.INTROSPECTION_CLIENT_ID, undefined);
        assert.equal(loadConfig(env).introspectionClient, undefined, "the gateway starts without one");
    });
});

describe("AwsGateway on Graviton (cpuArchitecture ARM64)", () => {
    it("builds the image for linux/arm64 and runs the task on ARM64", async () => {
        const gw = new AwsGateway("graviton", {
            consumerNames: [],
            gateway: { ...spec, aws: { ...spec.aws, cpuArchitecture: "ARM64" } },
            okta,
            introspectionCredential: { variable: "INTROSPECTION_CLIENT_SECRET", value: pulumi.secret("g".repeat(40)) },
            production: false,
        });
        await valueOf(gw.url);
        await stack.settle();
        const image = stack.resources.find((r) => r.type === "docker:index/image:Image" && r.name.startsWith("graviton-"));
        assert.equal((image?.inputs.build as { platform: string }).platform, "linux/arm64");
        const task = stack.resources.find((r) => r.name === "graviton-task");
        assert.deepEqual(task?.inputs.runtimePlatform, { operatingSystemFamily: "LINUX", cpuArchitecture: "ARM64" });
        const x86 = stack.resources.find((r) => r.name === "edge-task");
        assert.deepEqual(x86?.inputs.runtimePlatform, { operatingSystemFamily: "LINUX", cpuArchitecture: "X86_64" }, "the default");
    });
});
