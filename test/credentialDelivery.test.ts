// CredentialDelivery under the mock runtime with several consumers: each consumer's secret lands
// in its own delivery, readable by its own readers, and in no other consumer's.
import * as pulumi from "@pulumi/pulumi";
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { parse as parseYaml } from "yaml";
import { consumerFacts, CredentialDelivery, deliveryKeyPolicy, escDefinition } from "../components/credentialDelivery";
import { apiEscDefinition } from "../components/apiPublication";
import { apiFacts } from "../components/outputs";
import { endpointsOf } from "../components/authorizationServer";
import { findInRawInputs, MOCK_AWS, startMockedStack, unwrapSecrets, valueOf, type MockedStack } from "../harness/stackHarness";

const CONSUMERS = [
    { consumer: "billing", readers: ["billing-team"], secret: "billing-secret-0123456789abcdefghijklmn", scopes: ["orders:read"] },
    { consumer: "shipping", readers: ["shipping-team", "oncall"], secret: "shipping-secret-0123456789abcdefghijklm", scopes: ["orders:read", "orders:write"] },
    { consumer: "audit", readers: ["audit-team"], secret: "audit-secret-0123456789abcdefghijklmnopq", scopes: ["orders:read"] },
];
const ARNS: Record<string, string[]> = {
    billing: ["arn:aws:iam::111111111111:role/billing"],
    shipping: ["arn:aws:iam::222222222222:role/shipping", "arn:aws:iam::222222222222:user/ops"],
    audit: ["arn:aws:iam::123456789012:role/audit"],
};

let stack: MockedStack;
before(async () => {
    stack = await startMockedStack({ project: "okta-api-gateway", stack: "unit", config: { "okta:orgName": "unit-1", "okta:baseUrl": "okta.com" } });
});

function deliver(name: string, method: ConstructorParameters<typeof CredentialDelivery>[1]["method"], readersOf: (c: (typeof CONSUMERS)[number]) => string[]) {
    return new CredentialDelivery(name, {
        method,
        project: "okta-api-gateway",
        stack: "unit",
        issuer: "https://unit-1.okta.com/oauth2/aus1",
        tokenUrl: "https://unit-1.okta.com/oauth2/aus1/v1/token",
        audience: "api://orders",
        gatewayUrl: "https://orders-api.unit.example",
        consumers: CONSUMERS.map((c) => ({
            consumer: c.consumer,
            readers: readersOf(c),
            clientId: `0oa${c.consumer}`,
            authMethod: "client_secret_basic",
            clientSecret: pulumi.secret(c.secret),
            scopes: c.scopes,
            rateLimit: { tier: "standard", perSecond: 5 },
        })),
    });
}

/** Every recorded resource of a delivery that holds a given secret. */
const holders = (prefix: string, secret: string) => stack.resources.filter((r) => r.name.startsWith(prefix) && findInRawInputs(r.rawInputs, secret).length > 0);

describe("CredentialDelivery", () => {
    it("esc: one environment per consumer holding its own secret only, opened by its own teams only", async () => {
        const delivery = deliver("esc", { method: "esc", organization: "acme", project: "orders-consumers", apiReaders: [] }, (c) => c.readers);
        assert.equal(await valueOf(delivery.locations.shipping.location), "acme/orders-consumers/shipping-unit");
        await stack.settle();
        for (const c of CONSUMERS) {
            const places = holders("esc-", c.secret);
            assert.deepEqual(
                places.map((r) => r.name),
                [`esc-${c.consumer}`],
                `${c.consumer}'s secret is in its own environment only`,
            );
            assert.ok(
                findInRawInputs(places[0].rawInputs, c.secret).every((p) => p.inSecret),
                "and inside a Pulumi secret",
            );
            const text = (unwrapSecrets(places[0].rawInputs) as { yaml: { text: string } }).yaml.text;
            const values = parseYaml(text) as { values: { okta: { clientId: string; scope: string }; environmentVariables: Record<string, string> } };
            assert.equal(values.values.okta.clientId, `0oa${c.consumer}`);
            assert.equal(values.values.okta.scope, c.scopes.join(" "));
            assert.equal(values.values.environmentVariables.OKTA_CLIENT_SECRET, "${okta.clientSecret}");
            const teams = stack.resources.filter(
                (r) => r.type === "pulumiservice:index:TeamEnvironmentPermission" && r.inputs.environment === `${c.consumer}-unit`,
            );
            assert.deepEqual(
                teams.map((t) => [t.inputs.team, t.inputs.permission]),
                c.readers.map((t) => [t, "open"]),
            );
        }
    });

    it("awsSecretsManager: one secret per consumer under a key readers may use only through Secrets Manager, each policy naming its own readers", async () => {
        const delivery = deliver("sm", { method: "awsSecretsManager", namePrefix: "orders/unit/", recoveryWindowInDays: 0 }, (c) => ARNS[c.consumer]);
        assert.match(await valueOf(delivery.locations.billing.location), /^arn:aws:secretsmanager:.*orders\/unit\/billing-0oabilling$/);
        assert.match(await valueOf(delivery.locations.billing.read), /^aws secretsmanager get-secret-value --secret-id arn:aws:secretsmanager:/);
        await stack.settle();
        const key = stack.resources.find((r) => r.name === "sm-key");
        assert.ok(key);
        assert.deepEqual(JSON.parse(String(key.inputs.policy)), deliveryKeyPolicy(MOCK_AWS.account, "aws", MOCK_AWS.region, Object.values(ARNS).flat()));
        for (const c of CONSUMERS) {
            const places = holders("sm-", c.secret);
            assert.deepEqual(
                places.map((r) => r.name),
                [`sm-${c.consumer}-version`],
            );
            const secret = stack.resources.find((r) => r.name === `sm-${c.consumer}`);
            // With its app's client id: a consumer removed and added again (a new app) gets a new name,
            // while the old one is still reserved for its recovery window.
            assert.equal(secret?.inputs.name, `orders/unit/${c.consumer}-0oa${c.consumer}`);
            assert.equal(secret?.inputs.kmsKeyId, key.state.arn, "a customer managed key: the AWS managed one cannot be shared across accounts");
            assert.equal(secret?.inputs.recoveryWindowInDays, 0);
            const policy = JSON.parse(String(stack.resources.find((r) => r.name === `sm-${c.consumer}-policy`)?.inputs.policy)) as {
                Statement: { Principal: { AWS: string[] }; Action: string[] }[];
            };
            assert.deepEqual(
                policy.Statement.map((s) => s.Principal.AWS),
                [ARNS[c.consumer]],
            );
            assert.deepEqual(policy.Statement[0].Action, ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]);
        }
    });

    it("a consumer without a secret (private_key_jwt) that names readers gets its facts in the same kind of place, and nothing secret", async () => {
        const keyHolder = {
            consumer: "ledger",
            readers: ["ledger-team"],
            clientId: "0oaledger",
            authMethod: "private_key_jwt",
            scopes: ["orders:read"],
            rateLimit: null,
        };
        const common = {
            project: "okta-api-gateway",
            stack: "unit",
            issuer: "https://unit-1.okta.com/oauth2/aus1",
            tokenUrl: "https://unit-1.okta.com/oauth2/aus1/v1/token",
            audience: "api://orders",
        };
        const esc = new CredentialDelivery("kj-esc", {
            ...common,
            method: { method: "esc", organization: "acme", project: "orders-consumers", apiReaders: [] },
            consumers: [keyHolder],
        });
        assert.equal(await valueOf(esc.locations.ledger.location), "acme/orders-consumers/ledger-unit");
        const sm = new CredentialDelivery("kj-sm", {
            ...common,
            method: { method: "awsSecretsManager", namePrefix: "orders/unit/", recoveryWindowInDays: 0 },
            consumers: [{ ...keyHolder, readers: ["arn:aws:iam::333333333333:role/ledger"] }],
        });
        assert.match(await valueOf(sm.locations.ledger.read), /^aws secretsmanager get-secret-value --secret-id arn:aws:secretsmanager:/);
        await stack.settle();
        const env = stack.resources.find((r) => r.name === "kj-esc-ledger");
        assert.ok(env);
        assert.equal(findInRawInputs(env.rawInputs, "0oaledger")[0]?.inSecret, false, "plain: the preview shows what the team will read");
        const text = (unwrapSecrets(env.rawInputs) as { yaml: { text: string } }).yaml.text;
        assert.match(text, /^# What ledger needs to get tokens \(no secret/);
        const values = (parseYaml(text) as { values: { okta: Record<string, unknown>; environmentVariables: Record<string, string> } }).values;
        assert.equal(values.okta.clientId, "0oaledger");
        assert.equal(values.okta.tokenEndpointAuthMethod, "private_key_jwt");
        assert.equal(values.okta.tokenUrl, common.tokenUrl);
        assert.equal("clientSecret" in values.okta, false);
        assert.equal("OKTA_CLIENT_SECRET" in values.environmentVariables, false);
        assert.equal(values.environmentVariables.OKTA_CLIENT_ID, "${okta.clientId}");
        assert.deepEqual(
            stack.resources.filter((r) => r.type === "pulumiservice:index:TeamEnvironmentPermission" && r.name.startsWith("kj-esc-")).map((t) => t.inputs.team),
            ["ledger-team"],
        );
        const version = stack.resources.find((r) => r.name === "kj-sm-ledger-version");
        assert.deepEqual(JSON.parse(String(version?.inputs.secretString)), {
            issuer: common.issuer,
            tokenUrl: common.tokenUrl,
            clientId: "0oaledger",
            tokenEndpointAuthMethod: "private_key_jwt",
            scope: "orders:read",
            audience: "api://orders",
            rateLimit: null,
        });
        // Its readers may decrypt it, as any consumer's: the key policy names them.
        const key = stack.resources.find((r) => r.name === "kj-sm-key");
        assert.deepEqual(JSON.parse(String(key?.inputs.policy)).Statement[1].Principal, { AWS: ["arn:aws:iam::333333333333:role/ledger"] });
    });

    it("key policy: the account administers the key; readers decrypt only via Secrets Manager in the stack's region", () => {
        const policy = deliveryKeyPolicy("123456789012", "aws", "eu-west-1", ["arn:aws:iam::1:role/a", "arn:aws:iam::1:role/a"]);
        assert.deepEqual(policy.Statement[0].Principal, { AWS: "arn:aws:iam::123456789012:root" });
        assert.deepEqual(policy.Statement[1].Principal, { AWS: ["arn:aws:iam::1:role/a"] });
        assert.deepEqual(policy.Statement[1].Condition, { StringEquals: { "kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com" } });
        // No reader, no statement: KMS refuses a statement that names no principal.
        assert.deepEqual(
            deliveryKeyPolicy("123456789012", "aws", "eu-west-1", []).Statement.map((st) => st.Sid),
            ["AccountAdministersTheKey"],
        );
    });

    it("the ESC definition names its origin, keeps the secret in fn::secret (which ESC encrypts on save), and carries what the team needs beside it", () => {
        const facts = consumerFacts({
            issuer: "i",
            tokenUrl: "t",
            audience: "api://orders",
            clientId: "c",
            authMethod: "client_secret_basic",
            scopes: ["a", "b"],
            gatewayUrl: "https://orders-api.example",
            rateLimit: { tier: "gold", perSecond: 50 },
        });
        const text = escDefinition({ consumer: "x", facts, clientSecret: "s3cr3t", origin: "p/s" });
        assert.match(text, /^# Okta client credentials of x, written by the Pulumi stack p\/s/);
        const values = (parseYaml(text) as { values: { okta: unknown; environmentVariables: Record<string, string> } }).values;
        assert.deepEqual(values.okta, {
            issuer: "i",
            tokenUrl: "t",
            clientId: "c",
            tokenEndpointAuthMethod: "client_secret_basic",
            clientSecret: { "fn::secret": "s3cr3t" },
            scope: "a b",
            audience: "api://orders",
            gatewayUrl: "https://orders-api.example",
            rateLimit: { tier: "gold", perSecond: 50 },
        });
        assert.equal(values.environmentVariables.OKTA_AUDIENCE, "${okta.audience}");
        assert.equal(values.environmentVariables.API_BASE_URL, "${okta.gatewayUrl}");
        const local = consumerFacts({
            issuer: "i",
            tokenUrl: "t",
            audience: "a",
            clientId: "c",
            authMethod: "client_secret_basic",
            scopes: [],
            rateLimit: null,
        });
        assert.equal("gatewayUrl" in local, false, "no gateway other teams reach: nothing published");
        assert.equal(escDefinition({ consumer: "x", facts: local, clientSecret: "s", origin: "p/s" }).includes("API_BASE_URL"), false);
    });
});

describe("ApiPublication", () => {
    const facts = apiFacts({
        issuer: "https://acme.okta.com/oauth2/aus1",
        endpoints: endpointsOf("https://acme.okta.com/oauth2/aus1"),
        audience: "api://orders",
        scopes: [{ name: "orders:read", description: "Read orders", default: false }],
        gatewayUrl: "https://orders.api.acme.example",
    });
    it("publishes the API's facts as plain ESC values, with the variables a test or a doc build reads", () => {
        const doc = parseYaml(apiEscDefinition(facts, "orders/prod")) as { values: { api: typeof facts; environmentVariables: Record<string, string> } };
        assert.deepEqual(doc.values.api, facts);
        assert.equal(facts.jwksUrl, "https://acme.okta.com/oauth2/aus1/v1/keys");
        assert.deepEqual(doc.values.environmentVariables, {
            OKTA_ISSUER: "${api.issuer}",
            OKTA_JWKS_URL: "${api.jwksUrl}",
            OKTA_TOKEN_URL: "${api.tokenUrl}",
            OKTA_AUDIENCE: "${api.audience}",
            API_BASE_URL: "${api.gatewayUrl}",
        });
        assert.ok(!apiEscDefinition(facts, "orders/prod").includes("fn::secret"), "nothing secret to encrypt");
    });
    it("leaves the gateway's URL out when there is none other teams reach", () => {
        const local = apiFacts({ ...facts, endpoints: endpointsOf(facts.issuer), scopes: [], gatewayUrl: undefined });
        assert.equal("gatewayUrl" in local, false);
        assert.equal(
            "API_BASE_URL" in (parseYaml(apiEscDefinition(local, "o/dev")) as { values: { environmentVariables: object } }).values.environmentVariables,
            false,
        );
    });
});
