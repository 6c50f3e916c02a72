// A broken stack file stops the program before anything is declared, naming every bad key.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { runStackWith as runWith, type Entry, type StackFileDoc as Doc } from "./support/stackRun";

describe("the program adopting the walkthrough's server during a migration", () => {
    const adopt = (deactivated: boolean) => (d: Doc) => {
        const server = d.config["okta-api-gateway:authorizationServer"] as Entry;
        for (const k of ["name", "description", "audience", "issuerMode"]) delete server[k];
        Object.assign(server, { existingId: "aus1legacy", defaultPolicyDeactivated: deactivated });
        (server.scopes as Entry[])[0].existingId = "scp1legacy";
    };
    it("declares everything with the Default Policy still on, and warns on every run that least privilege does not hold yet", () => {
        const r = runWith(adopt(false), { report: true });
        assert.equal(r.status, 0, r.stderr);
        // And in the pull request's policy results, which reviewers read: the pack cannot see Okta's
        // Default Policy, so the workflows tell it from the stack file; reported once, advisory.
        assert.deepEqual((r.violations ?? []).filter((v) => v.startsWith("okta-adopted-server-default-policy-deactivated")).length, 1);
        assert.match(
            (r.violations ?? []).join("\n"),
            /okta-adopted-server-default-policy-deactivated: \S+: the "Default Policy" of the adopted server aus1legacy is still active/,
        );
        assert.ok((r.declared ?? 0) > 20);
        assert.match(
            r.stderr,
            /defaultPolicyDeactivated is false: the "Default Policy" of aus1legacy still lets every app of the org \(Exchange\/DCR-registered ones included\) ask for any scope/,
        );
    });
    it("stops warning once the Default Policy is declared deactivated", () => {
        const r = runWith(adopt(true), { report: true });
        assert.equal(r.status, 0, r.stderr);
        assert.doesNotMatch(r.stderr, /Default Policy/);
        assert.deepEqual(r.violations, []);
    });
});

describe("the program with a broken Pulumi.dev.yaml", () => {
    it("stops before declaring anything and names each bad key", () => {
        const r = runWith((d) => {
            const consumers = d.config["okta-api-gateway:consumers"] as Entry[];
            const server = d.config["okta-api-gateway:authorizationServer"] as Entry;
            consumers[0].scopes = ["myscope", "admin"]; // not declared
            consumers[2].name = "inventory-sync"; // duplicate
            consumers[1].accessTokenLifetimeMinutes = 2880; // over a day
            server.audience = "products api"; // malformed
        });
        assert.equal(r.status, 1);
        assert.equal(r.declared, 0, "nothing half-created");
        // Each consumer by its place and its name; the bad value echoed; the stack file named.
        assert.match(r.stderr, /okta-api-gateway:consumers\[0\] \(products-web\)\.scopes\[1\]: "admin" is not a scope declared/);
        assert.match(r.stderr, /okta-api-gateway:consumers\[2\] \(inventory-sync\)\.name: "inventory-sync" is also the name of consumers\[1\]/);
        assert.match(r.stderr, /okta-api-gateway:consumers\[1\] \(inventory-sync\)\.accessTokenLifetimeMinutes: must be at most 1440/);
        assert.match(r.stderr, /okta-api-gateway:authorizationServer\.audience: must be an absolute URI.* \(got "products api"\)/);
        assert.match(r.stderr, /Invalid stack configuration in Pulumi\.dev\.yaml \(4 problems\)/);
    });

    it("stops on a misspelt key of the project's namespace instead of ignoring it (which on a live stack would delete the gateway)", () => {
        const r = runWith((d) => {
            d.config["okta-api-gateway:gatway"] = d.config["okta-api-gateway:gateway"];
            delete d.config["okta-api-gateway:gateway"];
        });
        assert.equal(r.status, 1);
        assert.equal(r.declared, 0, "nothing half-created");
        assert.match(r.stderr, /okta-api-gateway:gatway: unknown key \(did you mean okta-api-gateway:gateway\?\)/);
    });

    it("stops when the custom domain CUSTOM_URL needs is not verified in the org", () => {
        const r = runWith(() => {}, { stack: "prod", args: ["--domain-status", "NOT_STARTED"] });
        assert.notEqual(r.status, 0);
        assert.match(
            r.stderr,
            /authorizationServer\.customDomain: login\.acme\.example is NOT_STARTED in the Okta org; issuerMode CUSTOM_URL needs a verified custom domain/,
        );
    });

    it("stops when customDomainId names another domain of the org than customDomain", () => {
        const r = runWith((d) => ((d.config["okta-api-gateway:authorizationServer"] as Entry).customDomainId = "OcD1orderslogin00001"), { stack: "prod" });
        assert.notEqual(r.status, 0);
        assert.match(
            r.stderr,
            /customDomainId: OcD1orderslogin00001 is the custom domain login\.orders\.example in the Okta org, not customDomain login\.acme\.example/,
        );
    });

    it("stops when the configured subnets cannot carry an internet-facing load balancer", () => {
        const r = runWith(
            (d) => {
                const aws = (d.config["okta-api-gateway:gateway"] as { aws: Entry }).aws;
                aws.allowedCidrs = ["0.0.0.0/0"]; // internet-facing by default, in the committed (private, NAT-routed) subnets
            },
            { stack: "prod" },
        );
        assert.notEqual(r.status, 0);
        assert.match(
            r.stderr,
            /okta-api-gateway:gateway\.aws\.loadBalancerSubnetIds: subnet-0a1b2c3d4e5f60001, subnet-0a1b2c3d4e5f60002 have no default route to an internet gateway/,
        );
    });

    it("stops when the load balancer's subnets, or a Multi-AZ store's, lie in one Availability Zone", () => {
        const r = runWith(
            (d) => {
                const aws = (d.config["okta-api-gateway:gateway"] as { aws: Entry }).aws;
                // The mock org places a subnet by its id's last hex digit modulo three: 1 and 4 share a zone.
                aws.loadBalancerSubnetIds = ["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60004"];
                aws.taskSubnetIds = ["subnet-0a1b2c3d4e5f60011", "subnet-0a1b2c3d4e5f60014"];
            },
            { stack: "prod" },
        );
        assert.notEqual(r.status, 0);
        assert.match(
            r.stderr,
            /gateway\.aws\.loadBalancerSubnetIds: .* lie in eu-west-1b only; a load balancer needs subnets in at least two Availability Zones/,
        );
        assert.match(r.stderr, /gateway\.aws\.taskSubnetIds: .* lie in eu-west-1b only; the production rate-limit store is Multi-AZ/);
    });

    it("runs to completion with the committed file (the control case)", () => {
        const r = runWith(() => {});
        assert.equal(r.status, 0, r.stderr);
        assert.ok((r.declared ?? 0) > 10);
    });
});
