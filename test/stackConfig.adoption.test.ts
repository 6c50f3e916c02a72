// Stack configuration for migrating and delivering: adopting an existing server, apps and scopes,
// production protection, and how each consumer's credentials reach it.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { assertProblem, consumers, devDoc, load, problemsOf, project, server, type StackDoc, withoutGateway } from "./support/stackConfigHarness";

describe("stack configuration: adoption and credential delivery", () => {
    it("adopts an existing server by id, and refuses settings that would be ignored", () => {
        const doc = devDoc();
        const s = server(doc);
        for (const k of ["name", "description", "audience", "issuerMode"]) delete s[k];
        s.existingId = "default";
        s.defaultPolicyDeactivated = true;
        assert.deepEqual(load(doc).authorizationServer, { kind: "existing", id: "default", defaultPolicyDeactivated: true });
        const problems = problemsOf((d) => (server(d).existingId = "default"));
        for (const k of ["name", "description", "audience", "issuerMode"]) {
            assertProblem(problems, `${project}:authorizationServer.${k}`, /applies only to a server this stack creates/);
        }
    });

    it("adopts an existing server only once the user states whether its ALL_CLIENTS Default Policy is deactivated (false: migrating)", () => {
        const adopt = (d: StackDoc) => {
            const s = server(d);
            for (const k of ["name", "description", "audience", "issuerMode"]) delete s[k];
            s.existingId = "default";
        };
        assertProblem(
            problemsOf(adopt),
            `${project}:authorizationServer.defaultPolicyDeactivated`,
            /must be set to adopt server default: true once its "Default Policy" is deactivated .*lets ALL_CLIENTS ask for any scope.*false only while migrating/,
        );
        const migrating = devDoc();
        adopt(migrating);
        server(migrating).defaultPolicyDeactivated = false;
        assert.deepEqual(load(migrating).authorizationServer, { kind: "existing", id: "default", defaultPolicyDeactivated: false });
        assertProblem(
            problemsOf((d) => (server(d).defaultPolicyDeactivated = true)),
            `${project}:authorizationServer.defaultPolicyDeactivated`,
            /applies only with existingId/,
        );
    });

    it("adopts an existing app by id (keeping its own settings) and an existing scope only on an adopted server", () => {
        const cfg = load(devDoc());
        const adopted = cfg.consumers.find((c) => c.existingAppId);
        assert.ok(adopted, "Pulumi.dev.yaml shows an adopted consumer");
        const problems = problemsOf((d) => {
            const [first, second] = consumers(d);
            Object.assign(first, {
                existingAppId: "0oaSame000000001",
                jwks: { keys: [{ kid: "k", kty: "RSA", n: "x", e: "AQAB" }] },
                label: "L",
                allowReplacement: true,
            });
            Object.assign(second, { existingAppId: "0oaSame000000001" });
            delete second.readers;
            consumers(d)[2].existingAppId = "app-123";
            (server(d).scopes as Record<string, unknown>[])[0].existingId = "scp1abc";
        });
        for (const k of ["jwks", "label", "allowReplacement"])
            assertProblem(
                problems,
                `${project}:consumers[0].${k}`,
                /applies only to an app this stack creates; an adopted app \(existingAppId\) keeps its own settings/,
            );
        assertProblem(problems, `${project}:consumers[1].existingAppId`, /0oaSame000000001 is also adopted by consumers\[0\]/);
        assertProblem(problems, `${project}:consumers[2].existingAppId`, /must be an Okta app id such as 0oa/);
        assertProblem(problems, `${project}:authorizationServer.scopes[0].existingId`, /applies only to a server this stack adopts/);
        assertProblem(
            problemsOf((d) => ((server(d).scopes as Record<string, unknown>[])[0].existingId = "myscope")),
            `${project}:authorizationServer.scopes[0].existingId`,
            /must be an Okta scope id/,
        );
    });

    it("requires a credential delivery as soon as the stack generates a client secret, and readers for each such consumer", () => {
        assertProblem(
            problemsOf((d) => delete d.config[`${project}:credentialDelivery`]),
            `${project}:credentialDelivery`,
            /is required because inventory-sync authenticates with a client secret: method esc .* or awsSecretsManager .*or give the consumer jwks \(private_key_jwt/,
        );
        // Nothing to deliver: every consumer adopted or private_key_jwt, and the key may be left out.
        const noSecrets = devDoc();
        delete noSecrets.config[`${project}:credentialDelivery`];
        consumers(noSecrets).splice(1, 1);
        delete consumers(noSecrets)[1].readers; // reporting's facts need a delivery as much as a secret does
        assert.deepEqual(load(noSecrets).credentialDelivery, { method: "none" });

        assertProblem(
            problemsOf((d) => delete consumers(d)[1].readers),
            `${project}:consumers[1].readers`,
            /is required with okta-api-gateway:credentialDelivery.method esc: who may read inventory-sync's secret \(Pulumi Cloud team names\)/,
        );
        // Without a secret (private_key_jwt, adopted), readers are optional and receive the consumer's facts.
        const factsOnly = devDoc();
        consumers(factsOnly)[2].readers = ["reporting-team"];
        consumers(factsOnly)[0].readers = ["storefront-team"];
        assert.deepEqual(
            load(factsOnly).consumers.map((c) => [c.name, c.readers]),
            [
                ["products-web", ["storefront-team"]],
                ["inventory-sync", ["inventory-team"]],
                ["reporting", ["reporting-team"]],
            ],
        );
        assertProblem(
            problemsOf((d) => (consumers(d)[2].readers = ["arn:aws:iam::1:role/x"])),
            `${project}:consumers[2].readers[0]`,
            /must be a Pulumi Cloud team name/,
        );
        assertProblem(
            problemsOf((d) => {
                d.config[`${project}:credentialDelivery`] = { method: "stackOutputs" };
                consumers(d)[2].readers = ["reporting-team"];
                delete consumers(d)[1].readers;
            }),
            `${project}:consumers[2].readers`,
            /applies only to methods esc and awsSecretsManager/,
        );
        assertProblem(
            problemsOf((d) => (d.config[`${project}:credentialDelivery`] = { method: "esc" })),
            `${project}:credentialDelivery.esc.organization`,
            /is required with method esc/,
        );
        const aws = problemsOf((d) => (d.config[`${project}:credentialDelivery`] = { method: "awsSecretsManager", esc: { organization: "acme" } }));
        assertProblem(aws, `${project}:credentialDelivery.esc`, /applies only to method esc/);
        assertProblem(aws, `${project}:consumers[1].readers[0]`, /must be an IAM role, user or account-root ARN/);
        assertProblem(
            problemsOf((d) => (d.config[`${project}:credentialDelivery`] = { method: "awsSecretsManager", awsSecretsManager: { recoveryWindowInDays: 3 } })),
            `${project}:credentialDelivery.awsSecretsManager.recoveryWindowInDays`,
            /must be 0 \(delete at once\) or 7 to 30 days/,
        );
        assertProblem(
            problemsOf((d) => (d.config[`${project}:credentialDelivery`] = { method: "stackOutputs" })),
            `${project}:consumers[1].readers`,
            /with stackOutputs whoever may read the stack reads every secret/,
        );
        assertProblem(
            problemsOf((d) => (d.config[`${project}:credentialDelivery`] = { method: "vault" })),
            `${project}:credentialDelivery.method`,
            /esc|awsSecretsManager/,
        );
    });

    it("fills delivery defaults: the ESC project from the project name, no Secrets Manager recovery window outside production", () => {
        const doc = devDoc();
        doc.config[`${project}:credentialDelivery`] = { method: "esc", esc: { organization: "acme" } };
        assert.deepEqual(load(doc).credentialDelivery, { method: "esc", organization: "acme", project: `${project}-consumers`, apiReaders: [] });
        doc.config[`${project}:credentialDelivery`] = { method: "esc", esc: { organization: "acme", apiReaders: ["products-api-team"] } };
        assert.deepEqual(load(doc).credentialDelivery, {
            method: "esc",
            organization: "acme",
            project: `${project}-consumers`,
            apiReaders: ["products-api-team"],
        });
        doc.config[`${project}:credentialDelivery`] = { method: "awsSecretsManager" };
        consumers(doc)[1].readers = ["arn:aws:iam::210987654321:role/inventory-sync"];
        consumers(doc)[2].readers = ["arn:aws:iam::210987654321:role/reporting"];
        assert.deepEqual(load(doc).credentialDelivery, { method: "awsSecretsManager", namePrefix: `${project}/dev/`, recoveryWindowInDays: 0 });
        doc.config[`${project}:production`] = true;
        withoutGateway(doc);
        assert.equal((load(doc).credentialDelivery as { recoveryWindowInDays: number }).recoveryWindowInDays, 30);
    });

    it("lets a consumer allow the replacement of its app, and marks production stacks", () => {
        const doc = devDoc();
        delete consumers(doc)[0].existingAppId; // an adopted app keeps its own settings
        consumers(doc)[0].readers = ["storefront-team"];
        consumers(doc)[0].allowReplacement = true;
        const cfg = load(doc);
        assert.deepEqual(
            cfg.consumers.map((c) => c.allowReplacement),
            [true, false, false],
        );
        assert.equal(cfg.production, false);
        doc.config[`${project}:production`] = true;
        withoutGateway(doc); // a production stack's gateway is on AWS, or elsewhere
        assert.equal(load(doc).production, true, "the production key makes the stack a production stack");
    });
});
