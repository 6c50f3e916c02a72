// Each component alone, under Pulumi's mock runtime: the exact Okta values it declares, its
// children's parents and dependencies, and the secrecy of what it returns.
import * as pulumi from "@pulumi/pulumi";
import assert from "node:assert/strict";
import { createPrivateKey, createPublicKey } from "node:crypto";
import { before, describe, it } from "node:test";
import { AccessPolicies } from "../components/accessPolicies";
import { AuthorizationServer, customDomainProblem, endpointsOf } from "../components/authorizationServer";
import { ConsumerApp } from "../components/consumerApp";
import { IntrospectionClient } from "../components/introspectionClient";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import {
    findInRawInputs,
    kmsGetPublicKey,
    oktaGetDomain,
    PROJECT_ROOT,
    startMockedStack,
    valueOf,
    type MockedStack,
    type RecordedResource,
} from "../harness/stackHarness";
import { PULUMI_SDK_VERIFIED } from "../harness/pulumiSdk";

let stack: MockedStack;
before(async () => {
    stack = await startMockedStack({ project: "okta-api-gateway", stack: "unit", config: { "okta:orgName": "unit-1", "okta:baseUrl": "okta.com" } });
});

const byType = (type: string) => stack.resources.filter((r) => r.type === type);
const named = (name: string): RecordedResource => {
    const r = stack.resources.find((x) => x.name === name);
    assert.ok(r, `no resource named ${name}; have ${stack.resources.map((x) => x.name).join(", ")}`);
    return r;
};
const childrenOf = (component: string) => {
    const parent = named(component);
    return stack.resources.filter((r) => r.parentUrn === parent.urn);
};

const scopes = [
    { name: "myscope", description: "Call the API", default: false },
    { name: "orders:read", description: "Read orders", default: false },
];

describe("AuthorizationServer", () => {
    it("accepts a custom domain only once it is verified in the org", () => {
        const configured = { id: "OcD1acmelogin0000001", name: "login.acme.example" };
        assert.equal(customDomainProblem(configured, { domain: "login.acme.example", validationStatus: "VERIFIED" }), undefined);
        assert.equal(customDomainProblem(configured, { domain: "LOGIN.acme.example", validationStatus: "COMPLETED" }), undefined);
        assert.match(
            customDomainProblem(configured, { domain: "login.other.example", validationStatus: "VERIFIED" }) ?? "",
            /^authorizationServer\.customDomainId: OcD1acmelogin0000001 is the custom domain login\.other\.example in the Okta org, not customDomain login\.acme\.example/,
        );
        for (const state of ["NOT_STARTED", "IN_PROGRESS", "FAILED_TO_VERIFY"]) {
            assert.match(
                customDomainProblem(configured, { domain: "login.acme.example", validationStatus: state }) ?? "",
                new RegExp(`^authorizationServer\\.customDomain: login\\.acme\\.example is ${state} in the Okta org`),
            );
        }
    });

    it("creates a server with its audience, issuer mode and protect flag, and one scope per declared scope", async () => {
        const server = new AuthorizationServer("srv", {
            name: "orders-api",
            description: "Orders",
            audience: "api://orders",
            issuerMode: "CUSTOM_URL",
            customDomain: { id: "OcD1orderslogin00001", name: "login.orders.example" },
            protect: true,
            scopes,
            claims: [{ name: "tier", value: '"gold"', valueType: "EXPRESSION", scopes: ["myscope"], alwaysIncludeInToken: true }],
        });
        const issuer = await valueOf(server.issuer);
        await stack.settle();

        const component = named("srv");
        assert.equal(component.type, "okta-api-gateway:okta:AuthorizationServer");
        assert.equal(component.custom, false);

        const okta = named("srv-server");
        assert.equal(okta.type, "okta:auth/server:Server");
        assert.deepEqual(okta.inputs.audiences, ["api://orders"]);
        assert.equal(okta.inputs.name, "orders-api");
        assert.equal(okta.inputs.issuerMode, "CUSTOM_URL");
        const domainLookup = stack.calls.find((c) => c.token === "okta:index/getDomain:getDomain");
        assert.equal(domainLookup?.inputs.domainIdOrName, "OcD1orderslogin00001", "the custom domain is read by id in the org before the server is written");
        assert.equal(okta.protect, true, "protect reaches the Okta server");
        assert.equal(okta.parentUrn, component.urn);

        const scopeResources = childrenOf("srv").filter((r) => r.type === "okta:auth/serverScope:ServerScope");
        assert.deepEqual(scopeResources.map((r) => r.inputs.name).sort(), ["myscope", "orders:read"]);
        for (const s of scopeResources) {
            assert.equal(s.inputs.authServerId, okta.id);
            assert.equal(s.inputs.consent, "IMPLICIT");
            assert.equal(s.inputs.default, false);
        }

        const claim = named("srv-claim-tier");
        assert.equal(claim.type, "okta:auth/serverClaim:ServerClaim");
        assert.equal(claim.inputs.claimType, "RESOURCE", "an access-token claim");
        assert.ok(claim.dependencyUrns.includes(named("srv-scope-myscope").urn), "the claim waits for the scope it names");

        assert.equal(issuer, `https://unit-1.okta.com/oauth2/${okta.id}`);
        assert.equal(await valueOf(server.audience), "api://orders");
        assert.deepEqual(await valueOf(server.endpoints), endpointsOf(issuer));
    });

    it("adds scopes to an existing server by id without managing the server", async () => {
        const server = new AuthorizationServer("dflt", { existingServerId: "default", scopes: [scopes[0]] });
        assert.equal(await valueOf(server.id), "default");
        await stack.settle();
        const read = named("dflt-server");
        assert.equal(read.read, true, "read with .get(), never created or deleted");
        assert.equal(named("dflt-scope-myscope").inputs.authServerId, "default");
        assert.equal(await valueOf(server.issuer), "https://unit-1.okta.com/oauth2/default");
    });

    it("adopts an existing scope of an adopted server by <server id>/<scope id>, and creates the scopes that are new", async () => {
        const server = new AuthorizationServer("adopted", {
            existingServerId: "aus1legacy",
            scopes: [
                { name: "legacyscope", description: "Made in the console", default: false, existingId: "scp1legacy" },
                { name: "newscope", description: "New with this stack", default: false },
            ],
        });
        await valueOf(server.id);
        await stack.settle();
        const adopted = named("adopted-scope-legacyscope");
        assert.equal(adopted.importId, "aus1legacy/scp1legacy");
        assert.deepEqual(adopted.ignoreChanges, ["*"]);
        assert.equal(adopted.retainOnDelete, true, "consumers already ask for it: destroy leaves it in Okta");
        const created = named("adopted-scope-newscope");
        assert.equal(created.importId, undefined);
        assert.deepEqual(created.ignoreChanges, []);
        assert.equal(created.retainOnDelete, false);
        assert.throws(
            () =>
                new AuthorizationServer("made", {
                    name: "made",
                    audience: "api://x",
                    scopes: [{ name: "s", description: "s", default: false, existingId: "scp1" }],
                }),
            /scope s can only be adopted on an adopted server/,
        );
    });

    it("derives every endpoint from the issuer", () => {
        assert.deepEqual(endpointsOf("https://acme.okta.com/oauth2/aus1/"), {
            metadataUrl: "https://acme.okta.com/oauth2/aus1/.well-known/oauth-authorization-server",
            authorizeUrl: "https://acme.okta.com/oauth2/aus1/v1/authorize",
            tokenUrl: "https://acme.okta.com/oauth2/aus1/v1/token",
            introspectionUrl: "https://acme.okta.com/oauth2/aus1/v1/introspect",
            revocationUrl: "https://acme.okta.com/oauth2/aus1/v1/revoke",
            jwksUrl: "https://acme.okta.com/oauth2/aus1/v1/keys",
        });
    });
});

describe("ConsumerApp", () => {
    it("declares a client-credentials service app with client_secret_basic, no group assignment, no sign-on policy calls, and a secret client secret", async () => {
        const app = new ConsumerApp("billing", { label: "billing (unit)", protect: false });
        const secret = app.clientSecret;
        assert.ok(secret, "a client_secret_basic app has a secret");
        assert.equal(await pulumi.isSecret(secret), true);
        assert.ok((await valueOf(secret)).length >= 32);
        await stack.settle();

        const okta = named("billing-app");
        assert.equal(okta.type, "okta:app/oAuth:OAuth");
        assert.equal(okta.inputs.type, "service");
        assert.deepEqual(okta.inputs.grantTypes, ["client_credentials"]);
        assert.deepEqual(okta.inputs.responseTypes, ["token"]);
        assert.equal(okta.inputs.tokenEndpointAuthMethod, "client_secret_basic");
        assert.equal(okta.inputs.omitSecret, false);
        assert.equal(okta.parentUrn, named("billing").urn);

        // Without it the provider's update path PUTs an app sign-on policy, which Okta refuses for service apps.
        assert.equal(okta.inputs.skipAuthenticationPolicy, true);
        // Client credentials has no user: a group assignment would restrict nothing.
        assert.deepEqual(
            childrenOf("billing").map((r) => r.type),
            ["okta:app/oAuth:OAuth"],
        );
        assert.equal(okta.protect, false);
        assert.equal(await valueOf(app.clientId), okta.id);
    });

    it("uses private_key_jwt with the given public keys, and then has no secret at all", async () => {
        const jwks = [{ kid: "k1", kty: "RSA" as const, e: "AQAB", n: "sXch" }];
        const app = new ConsumerApp("signer", { label: "signer", jwks, protect: true });
        assert.equal(app.clientSecret, undefined);
        assert.equal(await valueOf(app.tokenEndpointAuthMethod), "private_key_jwt");
        await valueOf(app.clientId);
        await stack.settle();
        const okta = named("signer-app");
        assert.equal(okta.inputs.tokenEndpointAuthMethod, "private_key_jwt");
        assert.equal(okta.inputs.omitSecret, true, "no secret is kept in the state");
        assert.deepEqual(okta.inputs.jwks, jwks);
        assert.equal(okta.state.clientSecret, undefined);
        assert.equal(okta.protect, true, "protected: Pulumi refuses a plan that would replace it (a new client id)");
    });

    it("adopts an existing app by id: imported (no new app), its settings left as Okta has them, kept in Okta on destroy, no secret handed out", async () => {
        const app = new ConsumerApp("legacy", { label: "legacy", existingAppId: "0oaLegacy0000000001", protect: true });
        assert.equal(app.adopted, true);
        assert.equal(app.clientSecret, undefined, "the consumer keeps the secret it has; Okta never returns it");
        assert.equal(await valueOf(app.clientId), "0oaLegacy0000000001", "the client id the consumer already uses");
        // As Okta has it (the mock answers like an Exchange-registered web app), not as a new app would be declared.
        assert.equal(await valueOf(app.tokenEndpointAuthMethod), "client_secret_basic");
        await stack.settle();
        const okta = named("legacy-app");
        assert.equal(okta.importId, "0oaLegacy0000000001");
        assert.deepEqual(okta.ignoreChanges, ["*"], "a web app declared as a service app would fail the import or be replaced");
        assert.equal(okta.retainOnDelete, true);
        assert.equal(okta.protect, true);
        assert.equal(okta.read, false, "imported and managed, not merely read");
        assert.deepEqual(
            childrenOf("legacy").map((r) => r.type),
            ["okta:app/oAuth:OAuth"],
        );
    });
});

describe("IntrospectionClient", () => {
    it("by default authenticates with private_key_jwt: a generated key pair, only its public half on the app, no secret at all", async () => {
        const client = new IntrospectionClient("introspect-key", {
            label: "Introspection (keys)",
            protect: false,
            auth: { method: "private_key_jwt", keyIds: ["2026-11", "2026-12"], keyStore: "tls" },
        });
        assert.equal(client.clientSecret, undefined);
        assert.equal(client.credential.variable, "INTROSPECTION_CLIENT_PRIVATE_KEY");
        assert.ok(
            client.credential.variable === "INTROSPECTION_CLIENT_PRIVATE_KEY" && client.credential.keyId === "2026-12",
            "the gateway signs with the newest key",
        );
        assert.equal(await pulumi.isSecret(client.credential.value), true);
        const pem = await valueOf(client.credential.value);
        await stack.settle();
        const app = named("introspect-key-app");
        assert.equal(app.inputs.tokenEndpointAuthMethod, "private_key_jwt");
        assert.equal(app.inputs.omitSecret, true);
        const jwks = app.inputs.jwks as { kid: string; kty: string; n: string; e: string }[];
        assert.deepEqual(
            jwks.map((k) => k.kid),
            ["2026-11", "2026-12"],
            "both keys trusted during the rotation",
        );
        // The public key on the app is the one the private key the gateway gets belongs to.
        assert.equal(createPublicKey(createPrivateKey(pem)).export({ format: "jwk" }).n, jwks[1].n);
        const keys = childrenOf("introspect-key").filter((r) => r.type === "tls:index/privateKey:PrivateKey");
        assert.deepEqual(
            keys.map((k) => [k.inputs.algorithm, k.inputs.rsaBits]),
            [
                ["RSA", 2048],
                ["RSA", 2048],
            ],
        );
        assert.ok(findInRawInputs(app.rawInputs, "PRIVATE KEY").length === 0, "no private key material on the app");
    });
    it("with its keys in AWS KMS: no private key anywhere, the app trusts each KMS key's public half, the gateway signs with the newest", async () => {
        const client = new IntrospectionClient("introspect-kms", {
            label: "Introspection (KMS)",
            protect: false,
            auth: { method: "private_key_jwt", keyIds: ["2026-11", "2026-12"], keyStore: "awsKms" },
            kmsDeletionWindowInDays: 30,
        });
        assert.equal(client.credential.variable, "INTROSPECTION_CLIENT_KMS_KEY_ARN");
        if (client.credential.variable !== "INTROSPECTION_CLIENT_KMS_KEY_ARN") return;
        assert.equal(client.credential.keyId, "2026-12");
        const signingArn = await valueOf(client.credential.keyArn);
        const allArns = await Promise.all(client.credential.signingKeyArns.map(valueOf));
        await stack.settle();
        const kmsKeys = childrenOf("introspect-kms").flatMap((c) => stack.resources.filter((r) => r.parentUrn === c.urn && r.type === "aws:kms/key:Key"));
        assert.deepEqual(
            kmsKeys.map((k) => [k.inputs.keyUsage, k.inputs.customerMasterKeySpec, k.inputs.deletionWindowInDays, k.inputs.policy]),
            [
                ["SIGN_VERIFY", "RSA_2048", 30, undefined],
                ["SIGN_VERIFY", "RSA_2048", 30, undefined],
            ],
            "RSA signing keys under KMS's default key policy (no principal list to get wrong)",
        );
        assert.deepEqual(
            allArns,
            kmsKeys.map((k) => k.state.arn),
        );
        assert.equal(signingArn, kmsKeys[1].state.arn);
        // The public keys were read by each key's ARN, as the provider reads them.
        const reads = stack.calls.filter((c) => c.token === "aws:kms/getPublicKey:getPublicKey").map((c) => c.inputs.keyId);
        assert.ok(allArns.every((arn) => reads.includes(arn)));
        const app = named("introspect-kms-app");
        const jwks = app.inputs.jwks as { kid: string; n: string }[];
        assert.deepEqual(
            jwks.map((k) => k.kid),
            ["2026-11", "2026-12"],
        );
        assert.equal(jwks[1].n, createPublicKey(kmsGetPublicKey(signingArn).publicKeyPem as string).export({ format: "jwk" }).n);
        assert.deepEqual(
            childrenOf("introspect-kms").filter((r) => r.type === "tls:index/privateKey:PrivateKey"),
            [],
            "no private key is generated, so none is in state",
        );
    });
    it("with client_secret_basic is a dedicated service app whose secret is a secret output", async () => {
        const client = new IntrospectionClient("introspect", {
            label: "Token Introspection Client (unit)",
            protect: false,
            auth: { method: "client_secret_basic" },
        });
        assert.equal(await pulumi.isSecret(client.clientSecret as pulumi.Output<string>), true);
        await valueOf(client.clientId);
        await stack.settle();
        const okta = named("introspect-app");
        assert.equal(named("introspect").type, "okta-api-gateway:okta:IntrospectionClient");
        assert.equal(okta.inputs.type, "service");
        assert.equal(okta.inputs.label, "Token Introspection Client (unit)");
        assert.equal(okta.inputs.tokenEndpointAuthMethod, "client_secret_basic");
        assert.equal(okta.inputs.skipAuthenticationPolicy, true);
        assert.equal(childrenOf("introspect").length, 1, "no group assignment, no policy: it can introspect, never get a token");
    });
});

describe("AccessPolicies", () => {
    it("gives each consumer one policy and one rule with exactly its scopes, priorities 1..n, chained one after another", async () => {
        const server = new AuthorizationServer("pol", { name: "p", audience: "api://p", scopes });
        const grants = [
            { consumer: "a", clientId: "0oaA", scopes: ["myscope"], accessTokenLifetimeMinutes: 60 },
            { consumer: "b", clientId: "0oaB", scopes: ["myscope", "orders:read"], accessTokenLifetimeMinutes: 15 },
            { consumer: "c", clientId: "0oaC", scopes: ["orders:read"], accessTokenLifetimeMinutes: 5 },
        ];
        const policies = new AccessPolicies("acc", { authServerId: server.id, scopes: server.scopes, grants });
        await valueOf(policies.rules[2].id);
        await stack.settle();

        const component = named("acc");
        assert.equal(component.type, "okta-api-gateway:okta:AccessPolicies");
        const children = childrenOf("acc");
        const policyRs = children.filter((r) => r.type === "okta:auth/serverPolicy:ServerPolicy");
        const ruleRs = children.filter((r) => r.type === "okta:auth/serverPolicyRule:ServerPolicyRule");
        assert.equal(policyRs.length, 3);
        assert.equal(ruleRs.length, 3);

        const serverId = named("pol-server").id;
        grants.forEach((g, i) => {
            const policy = named(`acc-${g.consumer}`);
            const rule = named(`acc-${g.consumer}-rule`);
            assert.equal(policy.inputs.priority, i + 1, "policy priorities are contiguous from 1");
            assert.deepEqual(policy.inputs.clientWhitelists, [g.clientId], "assigned to this consumer only, never ALL_CLIENTS");
            assert.equal(policy.inputs.authServerId, serverId);
            assert.ok(typeof policy.inputs.description === "string" && policy.inputs.description.length > 0);

            assert.equal(rule.inputs.policyId, policy.id);
            assert.equal(rule.inputs.priority, 1);
            assert.deepEqual(rule.inputs.grantTypeWhitelists, ["client_credentials"]);
            assert.deepEqual(rule.inputs.scopeWhitelists, g.scopes, "exactly the consumer's scopes");
            assert.deepEqual(rule.inputs.groupWhitelists, ["EVERYONE"]);
            assert.equal(rule.inputs.accessTokenLifetimeMinutes, g.accessTokenLifetimeMinutes);

            for (const s of g.scopes) assert.ok(rule.dependencyUrns.includes(named(`pol-scope-${s}`).urn), `rule ${g.consumer} waits for scope ${s}`);
            if (i > 0) {
                const previousRule = named(`acc-${grants[i - 1].consumer}-rule`);
                assert.ok(rule.dependencyUrns.includes(previousRule.urn), `rule ${g.consumer} waits for the previous rule`);
                assert.ok(policy.dependencyUrns.includes(previousRule.urn), `policy ${g.consumer} waits for the previous rule`);
            }
        });
    });

    it("refuses a grant for a scope it was not given", () => {
        assert.throws(
            () =>
                new AccessPolicies("bad", {
                    authServerId: "x",
                    scopes: {},
                    grants: [{ consumer: "z", clientId: "0oaZ", scopes: ["nope"], accessTokenLifetimeMinutes: 60 }],
                }),
            /z names undeclared scopes: nope/,
        );
    });
});

describe("the mock harness", () => {
    it("was read against the @pulumi/pulumi version package.json pins (it patches that SDK's internals)", () => {
        const pinned = (JSON.parse(readFileSync(path.join(PROJECT_ROOT, "package.json"), "utf8")) as { dependencies: Record<string, string> }).dependencies[
            "@pulumi/pulumi"
        ];
        assert.equal(PULUMI_SDK_VERIFIED, pinned, "an SDK update must re-read the patched internals and move PULUMI_SDK_VERIFIED with it");
    });
    it("answers okta.getDomain as the provider does: by id; a host name ends in Okta's 404, an unknown one is not found", () => {
        assert.equal(oktaGetDomain("OcD1acmelogin0000001").domain, "login.acme.example");
        assert.throws(() => oktaGetDomain("login.acme.example"), /failed to get domain to retrieve DNS records: 404 Not Found/);
        assert.throws(() => oktaGetDomain("nowhere.example"), /failed to find domain by id or name: "nowhere\.example"/);
    });
    it("records every resource with a URN once settled", async () => {
        await stack.settle();
        const missing = stack.resources.filter((r) => !r.urn);
        assert.deepEqual(
            missing.map((r) => r.name),
            [],
        );
        assert.ok(byType("okta:auth/serverPolicyRule:ServerPolicyRule").length >= 3);
    });
});
