// Stack configuration of the gateway: its target, rules, settings and the AWS target's keys.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { assertProblem, consumers, devDoc, load, problemsOf, project, server, type StackDoc, withoutGateway } from "./support/stackConfigHarness";

describe("stack configuration: the gateway", () => {
    describe("the gateway", () => {
        const gw = (d: StackDoc) => d.config[`${project}:gateway`] as Record<string, unknown>;
        const aws = (d: StackDoc) => {
            const g = gw(d);
            g.target = "aws";
            delete g.local;
            g.aws = { vpcId: "vpc-0abc", loadBalancerSubnetIds: ["subnet-01", "subnet-02"], taskSubnetIds: ["subnet-11", "subnet-12"] };
            return g.aws as Record<string, unknown>;
        };
        it("is optional: a stack may manage Okta only", () => {
            assertProblem(
                problemsOf((d) => delete d.config[`${project}:gateway`]),
                `${project}:consumers[1].tier`,
                /needs gateway\.rateLimits/,
            );
            assert.equal(load(withoutGateway(devDoc())).gateway, undefined);
        });
        it("reads the committed dev gateway with its defaults", () => {
            const g = load(devDoc()).gateway;
            assert.equal(g?.target, "local");
            assert.equal(g?.cacheMaxTtlSeconds, 60);
            assert.deepEqual(g?.local, { port: 8080, adminPort: 9090 });
        });
        it("refuses scopes the server does not declare, in requiredScopes and route rules", () => {
            const problems = problemsOf((d) => {
                gw(d).requiredScopes = ["nope"];
                gw(d).routeRules = [{ path: "/a/**", scopes: ["myscope", "ghost"] }];
            });
            assertProblem(problems, `${project}:gateway.requiredScopes[0]`, /"nope" is not a scope declared/);
            assertProblem(problems, `${project}:gateway.routeRules[0].scopes[1]`, /"ghost" is not a scope declared/);
        });
        it("refuses a route rule the gateway itself would refuse at start", () => {
            assertProblem(
                problemsOf((d) => (gw(d).routeRules = [{ path: "/a/**/b", scopes: [] }])),
                `${project}:gateway.routeRules[0].path`,
                /'\*\*' may only end a path/,
            );
        });
        it("refuses a bad target, upstream URL and port clash", () => {
            assertProblem(
                problemsOf((d) => (gw(d).target = "k8s")),
                `${project}:gateway.target`,
                /Invalid option/,
            );
            assertProblem(
                problemsOf((d) => (gw(d).upstreamUrl = "products.internal")),
                `${project}:gateway.upstreamUrl`,
                /http\(s\) URL/,
            );
            assertProblem(
                problemsOf((d) => (gw(d).local = { port: 9000, adminPort: 9000 })),
                `${project}:gateway.local.adminPort`,
                /must differ/,
            );
        });
        it("checks the AWS settings: VPC and subnets together, capacities, Fargate sizes, retention, certificate", () => {
            assertProblem(
                problemsOf((d) => delete aws(d).loadBalancerSubnetIds),
                `${project}:gateway.aws.loadBalancerSubnetIds`,
                /required with vpcId/,
            );
            assertProblem(
                problemsOf((d) => delete aws(d).taskSubnetIds),
                `${project}:gateway.aws.taskSubnetIds`,
                /required with vpcId/,
            );
            assertProblem(
                problemsOf((d) => (aws(d).taskSubnetIds = ["subnet-01"])),
                `${project}:gateway.aws.taskSubnetIds`,
                /at least two subnets/,
            );
            assertProblem(
                problemsOf((d) => (aws(d).subnetIds = ["subnet-01", "subnet-02"])),
                `${project}:gateway.aws`,
                /unknown key 'subnetIds' \(subnetIds is split into loadBalancerSubnetIds and taskSubnetIds\)/,
            );
            assertProblem(
                problemsOf((d) => Object.assign(aws(d), { minCapacity: 5, maxCapacity: 2 })),
                `${project}:gateway.aws.minCapacity`,
                /must not exceed maxCapacity/,
            );
            assertProblem(
                problemsOf((d) => Object.assign(aws(d), { cpu: 256, memory: 4096 })),
                `${project}:gateway.aws.memory`,
                /not valid with 256 CPU units/,
            );
            assertProblem(
                problemsOf((d) => (aws(d).cpu = 300)),
                `${project}:gateway.aws.cpu`,
                /Fargate CPU size/,
            );
            assertProblem(
                problemsOf((d) => (aws(d).logRetentionDays = 10)),
                `${project}:gateway.aws.logRetentionDays`,
                /CloudWatch retention/,
            );
            assertProblem(
                problemsOf((d) => (aws(d).certificateArn = "my-cert")),
                `${project}:gateway.aws.certificateArn`,
                /ACM certificate ARN/,
            );
            assertProblem(
                problemsOf((d) => (gw(d).aws = {})),
                `${project}:gateway.aws`,
                /applies only to target aws/,
            );
        });
        it("makes the load balancer internal when every allowed client is private, and refuses an internet-facing one that nobody could reach", () => {
            const doc = devDoc();
            Object.assign(aws(doc), { allowedCidrs: ["10.0.0.0/8", "192.168.0.0/16"] });
            assert.equal(load(doc).gateway?.aws.internal, true);
            Object.assign(aws(doc), { allowedCidrs: ["0.0.0.0/0"] });
            assert.equal(load(doc).gateway?.aws.internal, false);
            assertProblem(
                problemsOf((d) => Object.assign(aws(d), { allowedCidrs: ["10.0.0.0/8"], internal: false })),
                `${project}:gateway.aws.internal`,
                /internet-facing, but allowedCidrs lists only private ranges/,
            );
            assertProblem(
                problemsOf((d) => Object.assign(aws(d), { allowedCidrs: ["10.0.0.0/33"] })),
                `${project}:gateway.aws.allowedCidrs[0]`,
                /IPv4 CIDR/,
            );
        });
        it("needs a hosted zone with a domain name, and a domain name with a certificate or in production", () => {
            assertProblem(
                problemsOf((d) => (aws(d).domainName = "gw.acme.example")),
                `${project}:gateway.aws.hostedZoneId`,
                /is required with domainName/,
            );
            assertProblem(
                problemsOf((d) => (aws(d).hostedZoneId = "Z0ACME")),
                `${project}:gateway.aws.domainName`,
                /is required with hostedZoneId/,
            );
            assertProblem(
                problemsOf((d) => (aws(d).certificateArn = "arn:aws:acm:eu-west-1:123456789012:certificate/abc")),
                `${project}:gateway.aws.domainName`,
                /elb\.amazonaws\.com name is covered by no certificate/,
            );
            assertProblem(
                problemsOf((d) => {
                    aws(d);
                    server(d).protect = true;
                }),
                `${project}:gateway.aws.domainName`,
                /is required in a production stack/,
            );
            const doc = devDoc();
            Object.assign(aws(doc), { domainName: "gw.acme.example", hostedZoneId: "Z0ACME" });
            server(doc).protect = true;
            const a = load(doc).gateway?.aws;
            assert.deepEqual([a?.domainName, a?.hostedZoneId, a?.certificateArn, a?.deploymentTimeoutMinutes], ["gw.acme.example", "Z0ACME", undefined, 20]);
        });
        it("shares its option lists and bounds with the gateway: the silent log level, the cache TTL ceiling", () => {
            const doc = devDoc();
            gw(doc).logLevel = "silent";
            assert.equal(load(doc).gateway?.logLevel, "silent");
            assertProblem(
                problemsOf((d) => (gw(d).cacheMaxTtlSeconds = 3601)),
                `${project}:gateway.cacheMaxTtlSeconds`,
                /3600/,
            );
            assert.equal(load(devDoc()).gateway?.methodOverride, "strip");
            gw(doc).methodOverride = "evaluate";
            assert.equal(load(doc).gateway?.methodOverride, "evaluate");
            assertProblem(
                problemsOf((d) => (gw(d).methodOverride = "honour")),
                `${project}:gateway.methodOverride`,
                /Invalid option/,
            );
        });
    });

    it("refuses a local gateway in a production stack: no consumer reaches a laptop", () => {
        assertProblem(
            problemsOf((d) => (server(d).protect = true)),
            `${project}:gateway.target`,
            /local cannot serve a production stack .*use aws/,
        );
    });

    describe("rate limits", () => {
        const limits = (d: StackDoc) => (d.config[`${project}:gateway`] as Record<string, unknown>).rateLimits as Record<string, unknown>;
        const toAws = (d: StackDoc, aws: Record<string, unknown> = {}) => {
            const g = d.config[`${project}:gateway`] as Record<string, unknown>;
            g.target = "aws";
            delete g.local;
            g.aws = { vpcId: "vpc-0abc", loadBalancerSubnetIds: ["subnet-01", "subnet-02"], taskSubnetIds: ["subnet-11", "subnet-12"], ...aws };
        };

        it("reads the committed dev tiers, the consumer's tier and the store the target implies", () => {
            const c = load(devDoc());
            assert.deepEqual(c.gateway?.rateLimits?.tiers.standard, { perSecond: 5, burst: 10, perMinute: 120 });
            assert.equal(c.gateway?.rateLimits?.defaultTier, "standard");
            assert.equal(c.gateway?.rateLimits?.store, "local", "target local: one container");
            assert.equal(c.consumers.find((x) => x.name === "inventory-sync")?.tier, "batch");
            const onAws = devDoc();
            toAws(onAws);
            assert.equal(load(onAws).gateway?.rateLimits?.store, "shared", "target aws: the shared store by default");
            assert.equal(load(onAws).gateway?.aws.rateLimitStoreNodeType, "cache.t4g.micro");
        });

        it("refuses a tier no one declared, on a consumer or as the default", () => {
            const problems = problemsOf((d) => {
                consumers(d)[0].tier = "gold";
                limits(d).defaultTier = "silver";
            });
            assertProblem(problems, `${project}:consumers[0].tier`, /"gold" is not one of .*tiers \(standard, batch\)/);
            assertProblem(problems, `${project}:gateway.rateLimits.defaultTier`, /"silver" is not one of/);
        });

        it("refuses a tier that limits nothing or cannot apply, naming the key", () => {
            assertProblem(
                problemsOf((d) => ((limits(d).tiers as Record<string, unknown>).standard = { burst: 10 })),
                `${project}:gateway.rateLimits.tiers.standard`,
                /perSecond/,
            );
            assertProblem(
                problemsOf((d) => ((limits(d).tiers as Record<string, unknown>).standard = { perSecond: 1, perMinute: 100 })),
                `${project}:gateway.rateLimits.tiers.standard.perMinute`,
                /above 60 × perSecond/,
            );
        });

        it("refuses a tier without rateLimits to define it", () => {
            assertProblem(
                problemsOf((d) => delete (d.config[`${project}:gateway`] as Record<string, unknown>).rateLimits),
                `${project}:consumers[1].tier`,
                /needs .*gateway\.rateLimits/,
            );
        });

        it("refuses a store that cannot hold the limit: local on several AWS tasks, shared on the local target", () => {
            assertProblem(
                problemsOf((d) => {
                    toAws(d, { maxCapacity: 3 });
                    limits(d).store = "local";
                }),
                `${project}:gateway.rateLimits.store`,
                /local limits each task on its own, so 3 tasks would allow up to 3 times each limit/,
            );
            const single = devDoc();
            toAws(single, { minCapacity: 1, maxCapacity: 1 });
            limits(single).store = "local";
            assert.equal(load(single).gateway?.rateLimits?.store, "local", "one task: local is exact");
            assertProblem(
                problemsOf((d) => (limits(d).store = "shared")),
                `${project}:gateway.rateLimits.store`,
                /shared applies only to target aws/,
            );
        });
    });
});
