// Stack configuration of the gateway: its target, rules, settings and the AWS target's keys.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { assertProblem, consumers, devDoc, load, problemsOf, project, type StackDoc, withoutGateway } from "./support/stackConfigHarness";

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
            assert.equal(g?.settings.cacheMaxTtlSeconds, 60);
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
        it("declares the CORS policy with the gateway's own keys and rules, and refuses the removed pass-through by its stack key", () => {
            const doc = devDoc();
            Object.assign(gw(doc), { corsAllowedOrigins: ["https://shop.acme.example"], corsAllowCredentials: true });
            const settings = load(doc).gateway?.settings;
            assert.deepEqual(settings?.corsAllowedOrigins, ["https://shop.acme.example"]);
            assert.deepEqual(settings?.corsAllowedMethods, ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"], "the gateway's default");
            assertProblem(
                problemsOf((d) => (gw(d).corsPreflightPassthrough = true)),
                `${project}:gateway.corsPreflightPassthrough`,
                /is removed: .*set okta-api-gateway:gateway\.corsAllowedOrigins/,
            );
            assertProblem(
                problemsOf((d) => Object.assign(gw(d), { corsAllowedOrigins: ["*"], corsAllowCredentials: true })),
                `${project}:gateway.corsAllowCredentials`,
                /cannot be true with/,
            );
            assertProblem(
                problemsOf((d) => (gw(d).corsAllowedOrigins = ["https://shop.acme.example/"])),
                `${project}:gateway.corsAllowedOrigins[0]`,
                /must be origins/,
            );
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
                    d.config[`${project}:production`] = true;
                }),
                `${project}:gateway.aws.domainName`,
                /is required in a production stack/,
            );
            const doc = devDoc();
            Object.assign(aws(doc), { domainName: "gw.acme.example", hostedZoneId: "Z0ACME" });
            doc.config[`${project}:production`] = true;
            const a = load(doc).gateway?.aws;
            assert.deepEqual([a?.domainName, a?.hostedZoneId, a?.certificateArn, a?.deploymentTimeoutMinutes], ["gw.acme.example", "Z0ACME", undefined, 20]);
        });
        it("shares its option lists and bounds with the gateway: the silent log level, the cache TTL ceiling", () => {
            const doc = devDoc();
            gw(doc).logLevel = "silent";
            assert.equal(load(doc).gateway?.settings.logLevel, "silent");
            assertProblem(
                problemsOf((d) => (gw(d).cacheMaxTtlSeconds = 3601)),
                `${project}:gateway.cacheMaxTtlSeconds`,
                /3600/,
            );
            assert.equal(load(devDoc()).gateway?.settings.methodOverride, "strip");
            gw(doc).methodOverride = "evaluate";
            assert.equal(load(doc).gateway?.settings.methodOverride, "evaluate");
            assertProblem(
                problemsOf((d) => (gw(d).methodOverride = "honour")),
                `${project}:gateway.methodOverride`,
                /Invalid option/,
            );
        });
    });

    it("refuses a local gateway in a production stack: no consumer reaches a laptop", () => {
        assertProblem(
            problemsOf((d) => (d.config[`${project}:production`] = true)),
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
                `${project}:gateway.aws.maxCapacity`,
                /is 3 with .*gateway\.rateLimits\.store=local, which limits each task on its own: 3 tasks would allow up to 3 times each limit/,
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

    // Each of these once passed validation and failed at `pulumi up` or in the running gateway:
    // the rules now see the values that will deploy, and the gateway's own rules run on them.
    describe("checks the values that will deploy, with the gateway's own rules", () => {
        const gw = (d: StackDoc) => d.config[`${project}:gateway`] as Record<string, unknown>;
        const onAws = (d: StackDoc, extra: Record<string, unknown>) => {
            const g = gw(d);
            g.target = "aws";
            delete g.local;
            g.aws = { vpcId: "vpc-0abc", loadBalancerSubnetIds: ["subnet-01", "subnet-02"], taskSubnetIds: ["subnet-11", "subnet-12"], ...extra };
        };

        it("gives a larger Fargate CPU the smallest memory AWS pairs with it, and refuses a pair AWS refuses, listing what it allows", () => {
            for (const [cpu, memory] of [
                [256, 1024],
                [512, 1024],
                [1024, 2048],
                [2048, 4096],
                [4096, 8192],
                [8192, 16384],
                [16384, 32768],
            ]) {
                const doc = devDoc();
                onAws(doc, { cpu, minCapacity: 1, maxCapacity: 1 });
                (gw(doc).rateLimits as Record<string, unknown>).store = "local";
                assert.equal(load(doc).gateway?.aws.memory, memory, `cpu ${cpu}`);
            }
            assertProblem(
                problemsOf((d) => onAws(d, { cpu: 1024, memory: 1024 })),
                `${project}:gateway.aws.memory`,
                /1024 MiB is not valid with 1024 CPU units on Fargate, which allows 2048, 3072, 4096, 5120, 6144, 7168, 8192 MiB/,
            );
            assertProblem(
                problemsOf((d) => onAws(d, { cpu: 256, memory: 1536 })),
                `${project}:gateway.aws.memory`,
                /allows 512, 1024, 2048 MiB/,
            );
            assertProblem(
                problemsOf((d) => onAws(d, { cpu: 8192, memory: 18432 })),
                `${project}:gateway.aws.memory`,
                /16384 to 61440 in steps of 4096/,
            );
        });

        it("refuses a local admin port that clashes with the default traffic port (and the reverse), naming the key that was set", () => {
            assertProblem(
                problemsOf((d) => (gw(d).local = { adminPort: 8080 })),
                `${project}:gateway.local.adminPort`,
                /8080 is also the gateway's port \(local\.port, by default 8080\); the two must differ/,
            );
            assertProblem(
                problemsOf((d) => (gw(d).local = { port: 9090 })),
                `${project}:gateway.local.port`,
                /9090 is also the admin port \(local\.adminPort, by default 9090\)/,
            );
            const moved = devDoc();
            gw(moved).local = { port: 9090, adminPort: 9091 };
            assert.deepEqual(load(moved).gateway?.local, { port: 9090, adminPort: 9091 });
        });

        it("refuses a consumer tier that only an object's prototype has, with the declared tiers", () => {
            for (const tier of ["constructor", "toString", "__proto__"]) {
                assertProblem(
                    problemsOf((d) => (consumers(d)[0].tier = tier)),
                    `${project}:consumers[0].tier`,
                    new RegExp(`"${tier}" is not one of the declared tiers \\(standard, batch\\)`),
                );
            }
            assertProblem(
                problemsOf((d) => ((gw(d).rateLimits as Record<string, unknown>).defaultTier = "valueOf")),
                `${project}:gateway.rateLimits.defaultTier`,
                /"valueOf" is not one of the declared tiers/,
            );
        });

        it("takes the gateway's settings by the gateway's names, with its defaults: the pre-check, the negative cache, the upstream timeout", () => {
            const defaults = load(devDoc()).gateway?.settings;
            assert.deepEqual(
                [defaults?.introspectionPrecheck, defaults?.negativeCacheTtlSeconds, defaults?.upstreamTimeoutMs, defaults?.identityHeaderPrefix],
                ["jwt", 10, 30_000, "X-Auth-"],
            );
            const doc = devDoc();
            Object.assign(gw(doc), { introspectionPrecheck: "off", negativeCacheTtlSeconds: 0, upstreamTimeoutMs: 5_000 });
            const set = load(doc).gateway?.settings;
            assert.deepEqual([set?.introspectionPrecheck, set?.negativeCacheTtlSeconds, set?.upstreamTimeoutMs], ["off", 0, 5_000]);
            assertProblem(
                problemsOf((d) => (gw(d).introspectionPrecheck = "maybe")),
                `${project}:gateway.introspectionPrecheck`,
                /Invalid option/,
            );
            assertProblem(
                problemsOf((d) => (gw(d).upstreamTimeoutMs = 10)),
                `${project}:gateway.upstreamTimeoutMs`,
                />=100/,
            );
            assertProblem(
                problemsOf((d) => (gw(d).issuer = "https://elsewhere.example")),
                `${project}:gateway`,
                /unknown key 'issuer'/,
            );
        });

        it("declares an introspection client only where tokens are introspected", () => {
            assert.ok(load(devDoc()).introspectionClient, "introspection mode");
            assert.ok(load(withoutGateway(devDoc())).introspectionClient, "no gateway: MuleSoft's policy introspects");
            const hybrid = devDoc();
            gw(hybrid).tokenValidation = "hybrid";
            assert.ok(load(hybrid).introspectionClient, "hybrid");
            const jwt = devDoc();
            gw(jwt).tokenValidation = "jwt";
            delete jwt.config[`${project}:introspectionClient`];
            assert.equal(load(jwt).introspectionClient, undefined, "jwt: none");
        });

        it("reports a mistake in the gateway once, not again as every consumer's tier", () => {
            const problems = problemsOf((d) => (gw(d).target = "k8s"));
            assert.deepEqual(
                problems.map((p) => p.split(":").slice(0, 2).join(":")),
                [`${project}:gateway.target`],
            );
        });

        it("needs the production key, true or false", () => {
            assertProblem(
                problemsOf((d) => delete d.config[`${project}:production`]),
                `${project}:production`,
                /is required/,
            );
            assertProblem(
                problemsOf((d) => (d.config[`${project}:production`] = "yes")),
                `${project}:production`,
                /must be true or false/,
            );
        });
    });
});
