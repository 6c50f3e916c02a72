// The program on stack files that differ from the committed ones in one setting each, checked in
// what it declares: one production key for every production difference (adopted servers too), the
// gateway's own settings reaching the container as the gateway decodes them, no introspection
// client where no token is introspected, and Fargate sizes AWS accepts.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { runStackWith, type Entry, type ReportedResource, type StackFileDoc } from "./support/stackRun";

const P = "okta-api-gateway";
const gateway = (d: StackFileDoc) => d.config[`${P}:gateway`] as Entry;
const ofType = (resources: ReportedResource[] | undefined, type: string) => (resources ?? []).filter((r) => r.type === type && r.custom);

/** The prod stack adopting the walkthrough's existing server, its Default Policy already off. */
const adoptServer = (d: StackFileDoc) => {
    const server = d.config[`${P}:authorizationServer`] as Entry;
    for (const k of ["name", "description", "audience", "issuerMode", "customDomain", "customDomainId"]) delete server[k];
    Object.assign(server, { existingId: "aus1legacy", defaultPolicyDeactivated: true });
};

describe("one production key", () => {
    it("a production stack that adopts its server gets every production difference, and passes the mandatory guardrails", () => {
        const r = runStackWith(adoptServer, { stack: "prod", report: true });
        assert.equal(r.status, 0, r.stderr);
        const apps = ofType(r.resources, "okta:app/oAuth:OAuth");
        assert.ok(apps.length >= 3);
        for (const app of apps) assert.equal(app.protect, true, `${app.name} is protected: its client id is what a team configured`);
        assert.equal(
            ofType(r.resources, "okta:auth/server:Server")[0].read,
            true,
            "the adopted server is read, never managed (external: destroy never deletes it)",
        );
        assert.equal(ofType(r.resources, "aws:ecr/repository:Repository")[0].inputs.forceDelete, false, "production keeps its images");
        const store = ofType(r.resources, "aws:elasticache/replicationGroup:ReplicationGroup")[0];
        assert.deepEqual([store.inputs.multiAzEnabled, store.inputs.automaticFailoverEnabled], [true, true]);
        assert.deepEqual(r.violations, [], "the pack, told production by the stack's key, finds every resource as production wants it");
    });

    it("decides production by the key, not by the stack's name: a stack named prod that says false gets none of it", () => {
        const r = runStackWith(
            (d) => {
                d.config[`${P}:production`] = false;
                delete (gateway(d).aws as Entry).domainName;
                delete (gateway(d).aws as Entry).hostedZoneId;
                delete (gateway(d).aws as Entry).certificateArn;
            },
            { stack: "prod", report: true },
        );
        assert.equal(r.status, 0, r.stderr);
        for (const app of ofType(r.resources, "okta:app/oAuth:OAuth")) assert.equal(app.protect, false, app.name);
        assert.equal(ofType(r.resources, "aws:ecr/repository:Repository")[0].inputs.forceDelete, true);
        assert.equal(ofType(r.resources, "aws:elasticache/replicationGroup:ReplicationGroup")[0].inputs.multiAzEnabled, false);
        assert.deepEqual(r.violations, [], "the pack follows the key too: no 'must be protected' for a stack named prod");
    });

    it("is required: a stack file without it stops, naming the key", () => {
        const r = runStackWith((d) => delete d.config[`${P}:production`]);
        assert.equal(r.status, 1);
        assert.equal(r.declared, 0);
        assert.match(r.stderr, /okta-api-gateway:production: is required: true for a stack other teams depend on/);
    });

    it("replaces authorizationServer.protect, which is refused with where it went", () => {
        const r = runStackWith((d) => ((d.config[`${P}:authorizationServer`] as Entry).protect = true));
        assert.equal(r.status, 1);
        assert.match(r.stderr, /okta-api-gateway:authorizationServer\.protect: is replaced by okta-api-gateway:production/);
    });
});

describe("what the providers refuse", () => {
    it("declares no delivery key when Secrets Manager delivery has no generated secret to carry (a key policy with no reader is refused by KMS)", () => {
        const r = runStackWith(
            (d) => {
                // Every consumer keeps its own credential: products-web adopts its app, inventory-sync
                // signs with its key; and neither names readers for its facts.
                const [web, sync] = d.config[`${P}:consumers`] as Entry[];
                delete web.readers;
                delete sync.readers;
                web.existingAppId = "0oa8products0web01";
            },
            { stack: "prod", report: true },
        );
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual(
            ofType(r.resources, "aws:kms/key:Key").filter((k) => !k.name.startsWith("introspection-key-")),
            [],
            "the only KMS keys are the introspection client's signing keys",
        );
        assert.deepEqual(
            ofType(r.resources, "aws:secretsmanager/secret:Secret").filter((s) => !s.name.includes("introspection")),
            [],
        );
    });
});

describe("what no provider can check", () => {
    it("says at every preview that ESC delivery is isolated only under an organization default environment permission of none or read", () => {
        const r = runStackWith(() => {});
        assert.equal(r.status, 0, r.stderr);
        assert.match(
            r.stderr,
            /credentialDelivery esc: each consumer's environment is isolated only if the default environment permission of the Pulumi Cloud organization acme is none or read/,
        );
        const sm = runStackWith(() => {}, { stack: "prod" });
        assert.doesNotMatch(sm.stderr, /default environment permission/, "Secrets Manager delivery does not depend on it");
    });
});

describe("consumers' keys", () => {
    it("registers a consumer's published JWKS (jwksUri) on a private_key_jwt app, with no secret to deliver", () => {
        const r = runStackWith(
            (d) => {
                const reporting = (d.config[`${P}:consumers`] as Entry[])[2];
                delete reporting.jwks;
                reporting.jwksUri = "https://reporting.acme.example/.well-known/jwks.json";
            },
            { report: true },
        );
        assert.equal(r.status, 0, r.stderr);
        const app = ofType(r.resources, "okta:app/oAuth:OAuth").find((a) => a.name === "reporting-app");
        assert.deepEqual(
            [app?.inputs.tokenEndpointAuthMethod, app?.inputs.jwksUri, app?.inputs.jwks, app?.inputs.omitSecret],
            ["private_key_jwt", "https://reporting.acme.example/.well-known/jwks.json", undefined, true],
        );
        // Its readers get its facts (what is in them: programSuite), and no secret: the consumer holds its key.
        assert.ok(
            (r.resources ?? []).some((x) => x.name === "credentials-reporting"),
            "its facts are delivered to its readers",
        );
    });
});

describe("the gateway's settings, from the stack file to the container", () => {
    it("reaches the container as the gateway decodes it: the pre-check, set from the stack", () => {
        const r = runStackWith((d) => (gateway(d).introspectionPrecheck = "off"), { report: true });
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.gatewaySettings?.introspectionPrecheck, "off");
        assert.equal(r.gatewaySettings?.tokenValidation, "introspection");
    });

    it("declares no introspection client, key or secret when the gateway checks JWTs locally", () => {
        const r = runStackWith(
            (d) => {
                gateway(d).tokenValidation = "jwt";
                delete d.config[`${P}:introspectionClient`];
            },
            { report: true },
        );
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual(
            (r.resources ?? []).filter((x) => x.type.includes("IntrospectionClient") || x.name.startsWith("introspection")).map((x) => x.name),
            [],
        );
        assert.deepEqual(ofType(r.resources, "tls:index/privateKey:PrivateKey"), [], "no key pair for a client that does not exist");
        assert.equal(r.gatewaySettings?.tokenValidation, "jwt");
        assert.equal(r.gatewaySettings?.introspectionClientId, undefined);
        const envs = ofType(r.resources, "docker:index/container:Container")[0].inputs.envs as string[];
        assert.ok(!envs.some((e) => e.startsWith("INTROSPECTION_CLIENT")), envs.join("\n"));
    });

    it("runs a jwt gateway on AWS with no introspection secret, and the guardrails accept its task", () => {
        const r = runStackWith(
            (d) => {
                gateway(d).tokenValidation = "jwt";
                delete d.config[`${P}:introspectionClient`];
            },
            { stack: "prod", report: true },
        );
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual(
            ofType(r.resources, "aws:secretsmanager/secret:Secret").filter((s) => s.name.includes("introspection")),
            [],
        );
        const [container] = JSON.parse(String(ofType(r.resources, "aws:ecs/taskDefinition:TaskDefinition")[0].inputs.containerDefinitions)) as {
            secrets: unknown[];
        }[];
        assert.deepEqual(container.secrets, []);
        assert.deepEqual(r.violations, []);
    });

    it("refuses an introspectionClient key in jwt mode instead of declaring a client nothing uses", () => {
        const r = runStackWith((d) => (gateway(d).tokenValidation = "jwt"));
        assert.equal(r.status, 1);
        assert.match(r.stderr, /okta-api-gateway:introspectionClient: applies only when tokens are introspected/);
    });

    it("sizes the task with memory Fargate accepts for its CPU when memory is left out", () => {
        const r = runStackWith((d) => (((gateway(d).aws as Entry).cpu = 2048), delete (gateway(d).aws as Entry).memory), { stack: "prod", report: true });
        assert.equal(r.status, 0, r.stderr);
        const task = ofType(r.resources, "aws:ecs/taskDefinition:TaskDefinition")[0];
        assert.deepEqual([task.inputs.cpu, task.inputs.memory], ["2048", "4096"]);
        const [container] = JSON.parse(String(task.inputs.containerDefinitions)) as { environment: { name: string; value: string }[] }[];
        assert.equal(container.environment.find((e) => e.name === "WORKERS")?.value, "2", "one worker per vCPU");
    });
});
