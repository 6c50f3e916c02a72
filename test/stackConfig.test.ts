// Stack configuration: every rule of components/stackConfig/, through the same reader the
// program uses, starting from the real Pulumi.dev.yaml and breaking one thing at a time.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { parse as parseYaml } from "yaml";
import { OKTA_ENVIRONMENT_VARIABLES, readRawStackConfig, StackConfigError, validateStackConfig, type StackConfig } from "../components/stackConfig";
import { configSourceFromMap, PROJECT_ROOT, projectName, STAND_IN_SECRETS } from "../offline/stackHarness";

const project = projectName();
type StackDoc = { config: Record<string, unknown> };
type Consumer = Record<string, unknown>;

function devDoc(): StackDoc {
    return parseYaml(readFileSync(path.join(PROJECT_ROOT, "Pulumi.dev.yaml"), "utf8")) as StackDoc;
}
function server(doc: StackDoc) {
    return doc.config[`${project}:authorizationServer`] as Record<string, unknown>;
}
function consumers(doc: StackDoc) {
    return doc.config[`${project}:consumers`] as Consumer[];
}

/** Serialises a stack document to the engine's flat map and validates it, as the program does. */
function load(doc: StackDoc, opts: { secrets?: Record<string, string>; env?: NodeJS.ProcessEnv } = {}): StackConfig {
    const secrets = opts.secrets ?? STAND_IN_SECRETS;
    const map: Record<string, string> = { ...secrets };
    for (const [k, v] of Object.entries(doc.config)) if (v !== undefined) map[k] = typeof v === "string" ? v : JSON.stringify(v);
    const raw = readRawStackConfig(configSourceFromMap(map, Object.keys(secrets)), project, opts.env ?? {});
    return validateStackConfig(raw, { project, stack: "dev" });
}

/** Breaks a copy of Pulumi.dev.yaml and returns the problems reported. */
function problemsOf(mutate: (doc: StackDoc) => void, opts?: Parameters<typeof load>[1]): string[] {
    const doc = devDoc();
    mutate(doc);
    try {
        load(doc, opts);
    } catch (e) {
        assert.ok(e instanceof StackConfigError, `expected a StackConfigError, got ${String(e)}`);
        assert.match(e.message, /nothing was declared/);
        return e.problems;
    }
    assert.fail("the configuration was accepted");
}

function assertProblem(problems: string[], key: string, what: RegExp) {
    const hit = problems.find((p) => p.startsWith(`${key}: `) && what.test(p));
    assert.ok(hit, `no problem for ${key} matching ${what}; got:\n${problems.join("\n")}`);
}

describe("stack configuration", () => {
    it("accepts Pulumi.dev.yaml and Pulumi.prod.yaml as committed", () => {
        const dev = load(devDoc());
        assert.equal(dev.authorizationServer.kind, "create");
        assert.deepEqual(
            dev.consumers.map((c) => c.name),
            ["products-web", "inventory-sync", "reporting"],
        );
        assert.ok(
            dev.scopes.some((s) => s.name === "myscope"),
            "the walkthrough's scope is declared",
        );
        const prod = load(parseYaml(readFileSync(path.join(PROJECT_ROOT, "Pulumi.prod.yaml"), "utf8")) as StackDoc);
        assert.ok(prod.authorizationServer.kind === "create" && prod.authorizationServer.protect, "prod protects its server");
        assert.ok(
            prod.consumers.some((c) => c.jwks),
            "prod shows a private_key_jwt consumer",
        );
    });

    it("applies documented defaults", () => {
        const doc = devDoc();
        const s = server(doc);
        delete s.name;
        delete s.issuerMode;
        delete s.protect;
        delete s.accessTokenLifetimeMinutes;
        delete doc.config[`${project}:introspectionClient`];
        const cfg = load(doc);
        assert.ok(cfg.authorizationServer.kind === "create");
        assert.equal(cfg.authorizationServer.name, `${project}-dev`);
        assert.equal(cfg.authorizationServer.issuerMode, "ORG_URL");
        assert.equal(cfg.authorizationServer.protect, false);
        assert.equal(cfg.consumers[0].accessTokenLifetimeMinutes, 60);
        assert.equal(cfg.consumers[1].accessTokenLifetimeMinutes, 15, "a consumer's own lifetime wins");
        assert.equal(cfg.introspectionClient.label, "Token Introspection Client (dev)");
        assert.equal(cfg.okta.orgUrl, "https://dev-123456.okta.com");
    });

    it("refuses a consumer asking for a scope the server does not declare", () => {
        const problems = problemsOf((d) => (consumers(d)[1].scopes = ["products:read", "products:delete"]));
        assertProblem(
            problems,
            `${project}:consumers[1].scopes[1]`,
            /"products:delete" is not a scope declared in okta-api-gateway:authorizationServer\.scopes \(declared: myscope, products:read, products:write\)/,
        );
    });

    it("refuses two consumers with the same name", () => {
        const problems = problemsOf((d) => (consumers(d)[2].name = "products-web"));
        assertProblem(problems, `${project}:consumers[2].name`, /"products-web" is also the name of consumers\[0\]; names must be unique/);
    });

    for (const [value, what] of [
        [4, /at least 5/],
        [1441, /at most 1440/],
        [30.5, /whole number/],
        ["60", /whole number/],
    ] as const) {
        it(`refuses a token lifetime of ${JSON.stringify(value)} minutes`, () => {
            assertProblem(
                problemsOf((d) => (consumers(d)[0].accessTokenLifetimeMinutes = value)),
                `${project}:consumers[0].accessTokenLifetimeMinutes`,
                what,
            );
            assertProblem(
                problemsOf((d) => (server(d).accessTokenLifetimeMinutes = value)),
                `${project}:authorizationServer.accessTokenLifetimeMinutes`,
                what,
            );
        });
    }

    for (const bad of ["products api", "products", "https://", "api://products with space", ""]) {
        it(`refuses the malformed audience ${JSON.stringify(bad)}`, () => {
            assertProblem(
                problemsOf((d) => (server(d).audience = bad)),
                `${project}:authorizationServer.audience`,
                /absolute URI/,
            );
        });
    }

    it("requires an audience unless an existing server is named", () => {
        assertProblem(
            problemsOf((d) => delete server(d).audience),
            `${project}:authorizationServer.audience`,
            /is required/,
        );
    });

    it("adopts an existing server by id, and refuses settings that would be ignored", () => {
        const doc = devDoc();
        const s = server(doc);
        for (const k of ["name", "description", "audience", "issuerMode", "protect"]) delete s[k];
        s.existingId = "default";
        s.defaultPolicyDeactivated = true;
        assert.deepEqual(load(doc).authorizationServer, { kind: "existing", id: "default", defaultPolicyDeactivated: true });
        const problems = problemsOf((d) => (server(d).existingId = "default"));
        for (const k of ["name", "description", "audience", "issuerMode", "protect"]) {
            assertProblem(problems, `${project}:authorizationServer.${k}`, /applies only to a server this stack creates/);
        }
    });

    it("adopts an existing server only once the user states whether its ALL_CLIENTS Default Policy is deactivated (false: migrating)", () => {
        const adopt = (d: StackDoc) => {
            const s = server(d);
            for (const k of ["name", "description", "audience", "issuerMode", "protect"]) delete s[k];
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

    it("requires a custom domain with CUSTOM_URL, and only then", () => {
        assertProblem(
            problemsOf((d) => (server(d).issuerMode = "CUSTOM_URL")),
            `${project}:authorizationServer.customDomain`,
            /is required with issuerMode CUSTOM_URL: the org's verified custom domain/,
        );
        assertProblem(
            problemsOf((d) => (server(d).customDomain = "login.acme.example")),
            `${project}:authorizationServer.customDomain`,
            /applies only with issuerMode CUSTOM_URL/,
        );
        assertProblem(
            problemsOf((d) => Object.assign(server(d), { issuerMode: "CUSTOM_URL", customDomain: "https://login.acme.example/" })),
            `${project}:authorizationServer.customDomain`,
            /DNS host name/,
        );
        const doc = devDoc();
        Object.assign(server(doc), { issuerMode: "CUSTOM_URL", customDomain: "login.acme.example" });
        const cfg = load(doc);
        assert.ok(cfg.authorizationServer.kind === "create" && cfg.authorizationServer.customDomain === "login.acme.example");
    });

    it("refuses claim names Okta reserves", () => {
        for (const name of ["cid", "uid", "groups", "scp", "iss", "jti", "sub", "aud"]) {
            assertProblem(
                problemsOf((d) => (server(d).claims = [{ name, value: '"x"' }])),
                `${project}:authorizationServer.claims[0].name`,
                /is reserved by Okta and would be refused at pulumi up/,
            );
        }
        assert.doesNotThrow(() => {
            const doc = devDoc();
            server(doc).claims = [{ name: "team", value: "app.profile.team" }];
            load(doc);
        });
    });

    it("refuses unknown keys in the project's namespace, suggesting the one meant", () => {
        const problems = problemsOf((d) => {
            d.config[`${project}:gatway`] = { target: "local" };
            d.config[`${project}:whatever`] = 1;
        });
        assertProblem(problems, `${project}:gatway`, new RegExp(`unknown key \\(did you mean ${project}:gateway\\?\\)`));
        assertProblem(
            problems,
            `${project}:whatever`,
            /unknown key; this project reads .*:authorizationServer, .*:consumers, .*:introspectionClient, .*:gateway/,
        );
    });

    it("refuses group assignments, saying why they restrict nothing for client credentials", () => {
        const problems = problemsOf((d) => (consumers(d)[1].groups = ["00g1abcdefghijklmnop"]));
        assertProblem(
            problems,
            `${project}:consumers[1].groups`,
            /is not supported: group assignments restrict nothing for the client credentials grant, which has no user/,
        );
        assert.equal(problems.length, 1, "reported once, with its reason, not also as an unknown key");
    });

    it("gives the introspection client private_key_jwt by default, rotated through keyIds (two during the overlap, then one)", () => {
        const doc = devDoc();
        assert.deepEqual(load(doc).introspectionClient.auth, { method: "private_key_jwt", keyIds: ["1"] });
        doc.config[`${project}:introspectionClient`] = { keyIds: ["2026-11", "2026-12"] };
        assert.deepEqual(load(doc).introspectionClient.auth, { method: "private_key_jwt", keyIds: ["2026-11", "2026-12"] });
        doc.config[`${project}:introspectionClient`] = { authMethod: "client_secret_basic" };
        assert.deepEqual(load(doc).introspectionClient.auth, { method: "client_secret_basic" });
        assertProblem(
            problemsOf((d) => (d.config[`${project}:introspectionClient`] = { keyIds: ["a", "b", "c"] })),
            `${project}:introspectionClient.keyIds`,
            /at most two keys/,
        );
        assertProblem(
            problemsOf((d) => (d.config[`${project}:introspectionClient`] = { keyIds: ["a", "a"] })),
            `${project}:introspectionClient.keyIds`,
            /must differ/,
        );
        assertProblem(
            problemsOf((d) => (d.config[`${project}:introspectionClient`] = { authMethod: "client_secret_basic", keyIds: ["a"] })),
            `${project}:introspectionClient.keyIds`,
            /only to authMethod private_key_jwt/,
        );
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
        assert.equal(cfg.protect, false);
        server(doc).protect = true;
        delete doc.config[`${project}:gateway`]; // a production stack's gateway is on AWS, or elsewhere
        assert.equal(load(doc).protect, true, "authorizationServer.protect makes the stack a production stack");
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
        assert.deepEqual(load(noSecrets).credentialDelivery, { method: "none" });

        assertProblem(
            problemsOf((d) => delete consumers(d)[1].readers),
            `${project}:consumers[1].readers`,
            /is required with okta-api-gateway:credentialDelivery.method esc: who may read inventory-sync's secret \(Pulumi Cloud team names\)/,
        );
        assertProblem(
            problemsOf((d) => (consumers(d)[2].readers = ["x"])),
            `${project}:consumers[2].readers`,
            /reporting has none to deliver \(private_key_jwt\)/,
        );
        assertProblem(
            problemsOf((d) => (consumers(d)[0].readers = ["x"])),
            `${project}:consumers[0].readers`,
            /an adopted app keeps its own secret/,
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
        assert.deepEqual(load(doc).credentialDelivery, { method: "esc", organization: "acme", project: `${project}-consumers` });
        doc.config[`${project}:credentialDelivery`] = { method: "awsSecretsManager" };
        consumers(doc)[1].readers = ["arn:aws:iam::210987654321:role/inventory-sync"];
        assert.deepEqual(load(doc).credentialDelivery, { method: "awsSecretsManager", namePrefix: `${project}/dev/`, recoveryWindowInDays: 0 });
        server(doc).protect = true;
        delete doc.config[`${project}:gateway`];
        assert.equal((load(doc).credentialDelivery as { recoveryWindowInDays: number }).recoveryWindowInDays, 30);
    });

    it("refuses a local gateway in a production stack: no consumer reaches a laptop", () => {
        assertProblem(
            problemsOf((d) => (server(d).protect = true)),
            `${project}:gateway.target`,
            /local cannot serve a production stack .*use aws/,
        );
    });

    it("refuses scopes Okta reserves, wildcards and duplicates", () => {
        const problems = problemsOf((d) => (server(d).scopes = [{ name: "openid" }, { name: "*" }, { name: "okta.users.read" }, { name: "a" }, { name: "a" }]));
        assertProblem(problems, `${project}:authorizationServer.scopes[0].name`, /reserved by Okta/);
        assertProblem(problems, `${project}:authorizationServer.scopes[1].name`, /letters, digits/);
        assertProblem(problems, `${project}:authorizationServer.scopes[2].name`, /reserved by Okta/);
        assertProblem(problems, `${project}:authorizationServer.scopes[4].name`, /"a" is declared more than once/);
    });

    it("names unknown keys, so a typo is not silently ignored", () => {
        const problems = problemsOf((d) => {
            consumers(d)[0].scope = ["myscope"];
            server(d).audiences = ["api://x"];
        });
        assertProblem(problems, `${project}:consumers[0]`, /unknown key 'scope'/);
        assertProblem(problems, `${project}:authorizationServer`, /unknown key 'audiences'/);
    });

    it("requires consumers, each with at least one scope", () => {
        assertProblem(
            problemsOf((d) => delete d.config[`${project}:consumers`]),
            `${project}:consumers`,
            /is required/,
        );
        assertProblem(
            problemsOf((d) => (consumers(d)[0].scopes = [])),
            `${project}:consumers[0].scopes`,
            /at least one scope/,
        );
        assertProblem(
            problemsOf((d) => delete consumers(d)[0].scopes),
            `${project}:consumers[0].scopes`,
            /is required/,
        );
        assertProblem(
            problemsOf((d) => (consumers(d)[0].name = "Products Web")),
            `${project}:consumers[0].name`,
            /lowercase/,
        );
    });

    it("refuses private key material in a consumer's JWKS, and incomplete public keys", () => {
        const problems = problemsOf((d) => {
            consumers(d)[0].jwks = { keys: [{ kid: "k1", kty: "RSA", e: "AQAB", n: "abc", d: "private" }] };
            consumers(d)[1].jwks = { keys: [{ kid: "k2", kty: "RSA", e: "AQAB" }] };
        });
        assertProblem(problems, `${project}:consumers[0].jwks.keys[0]`, /private key material \(d\)/);
        assertProblem(problems, `${project}:consumers[1].jwks.keys[0].n`, /required for a RSA key/);
    });

    it("checks the Okta provider settings and credentials", () => {
        assertProblem(
            problemsOf((d) => delete d.config["okta:orgName"]),
            "okta:orgName",
            /is required/,
        );
        assertProblem(
            problemsOf((d) => (d.config["okta:orgName"] = "https://dev-1.okta.com")),
            "okta:orgName",
            /subdomain only/,
        );
        assertProblem(
            problemsOf((d) => (d.config["okta:baseUrl"] = "https://okta.com/")),
            "okta:baseUrl",
            /domain/,
        );
        assertProblem(
            problemsOf(() => {}, { secrets: {} }),
            "okta:privateKey",
            /no credentials.*--secret okta:privateKey.*okta:accessToken.*OKTA_ACCESS_TOKEN/,
        );
        assertProblem(
            problemsOf(() => {}, { secrets: { ...STAND_IN_SECRETS, "okta:apiToken": "x" } }),
            "okta:privateKey and okta:apiToken",
            /only one/,
        );
        assertProblem(
            problemsOf((d) => delete d.config["okta:scopes"]),
            "okta:scopes",
            /is required with okta:privateKey/,
        );
        // The provider's own environment variables count as set.
        const doc = devDoc();
        delete doc.config["okta:orgName"];
        assert.equal(load(doc, { secrets: {}, env: { OKTA_ORG_NAME: "dev-9", OKTA_API_TOKEN: "x" } }).okta.orgName, "dev-9");
    });

    it("accepts the provider's accessToken, from config or OKTA_ACCESS_TOKEN", () => {
        const withoutKeyOptions = (d: StackDoc) => {
            delete d.config["okta:clientId"];
            delete d.config["okta:privateKeyId"];
            delete d.config["okta:scopes"];
        };
        const doc = devDoc();
        withoutKeyOptions(doc);
        assert.doesNotThrow(() => load(doc, { secrets: { "okta:accessToken": "eyJ.stand-in" } }));
        assert.doesNotThrow(() => load(doc, { secrets: {}, env: { OKTA_ACCESS_TOKEN: "eyJ.stand-in" } }));
    });

    it("names the environment variable a problem comes from, not a key the user never set", () => {
        // An SSWS token left exported in the shell, while the stack uses its private key.
        const clash = problemsOf(() => {}, { env: { OKTA_API_TOKEN: "00stand-in" } });
        assertProblem(clash, "okta:privateKey and environment variable OKTA_API_TOKEN", /set only one way .*; unset OKTA_API_TOKEN in this shell/);
        assert.ok(!clash.some((p) => p.includes("00stand-in")), "never the value");
        const doc = devDoc();
        delete doc.config["okta:orgName"];
        const env = { OKTA_ORG_NAME: "https://dev-1.okta.com" };
        let problems: string[] = [];
        try {
            load(doc, { env });
        } catch (e) {
            problems = (e as StackConfigError).problems;
        }
        assertProblem(problems, "environment variable OKTA_ORG_NAME", /subdomain only/);
    });

    it("reports every problem at once, across keys", () => {
        const problems = problemsOf((d) => {
            delete d.config["okta:orgName"];
            server(d).audience = "not a uri";
            consumers(d)[0].accessTokenLifetimeMinutes = 2000;
            consumers(d)[1].scopes = ["nope"];
            consumers(d)[2].name = "products-web";
        });
        assert.equal(problems.length, 5, problems.join("\n"));
    });

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
            const doc = devDoc();
            delete doc.config[`${project}:gateway`];
            assert.equal(load(doc).gateway, undefined);
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

    it("is what the CI workflows can run: credentials from each stack's ESC environment, or from variables the provider reads", () => {
        for (const stack of ["dev", "prod"]) {
            const doc = parseYaml(readFileSync(path.join(PROJECT_ROOT, `Pulumi.${stack}.yaml`), "utf8")) as { environment?: string[] };
            assert.deepEqual(doc.environment, [`${project}/${stack}`], `Pulumi.${stack}.yaml imports its ESC environment`);
        }
        for (const workflow of ["pull-request.yml", "deploy.yml"]) {
            const text = readFileSync(path.join(PROJECT_ROOT, ".github", "workflows", workflow), "utf8");
            const names = [...text.matchAll(/^\s+(OKTA_[A-Z_]+):/gm)].map((m) => m[1]);
            assert.ok(names.length > 0, `${workflow} passes the Okta credentials`);
            for (const n of names)
                assert.ok((Object.values(OKTA_ENVIRONMENT_VARIABLES) as string[]).includes(n), `${workflow}: ${n} is a variable the provider reads`);
        }
    });

    it("never puts a secret value in an error", () => {
        const secret = "super-secret-token-value";
        const problems = problemsOf((d) => delete d.config["okta:orgName"], { secrets: { ...STAND_IN_SECRETS, "okta:apiToken": secret } });
        assert.ok(!problems.join("\n").includes(secret));
    });
});
