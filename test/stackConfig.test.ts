// Stack configuration: every rule of components/stackConfig/, through the same reader the
// program uses, starting from the real Pulumi.dev.yaml and breaking one thing at a time. The
// gateway's keys: stackConfig.gateway.test.ts; adoption and credential delivery:
// stackConfig.adoption.test.ts.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { parse as parseYaml } from "yaml";
import { OKTA_ENVIRONMENT_VARIABLES, StackConfigError } from "../components/stackConfig/index";
import { PROJECT_ROOT, STAND_IN_SECRETS } from "../harness/stackHarness";
import { assertProblem, consumers, devDoc, load, problemsOf, project, server, type StackDoc, withoutGateway } from "./support/stackConfigHarness";

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
        assert.equal(prod.production, true, "prod is a production stack");
        assert.equal(load(devDoc()).production, false);
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
        delete s.accessTokenLifetimeMinutes;
        delete doc.config[`${project}:introspectionClient`];
        const cfg = load(doc);
        assert.ok(cfg.authorizationServer.kind === "create");
        assert.equal(cfg.authorizationServer.name, `${project}-dev`);
        assert.equal(cfg.authorizationServer.issuerMode, "ORG_URL");
        assert.equal(cfg.consumers[0].accessTokenLifetimeMinutes, 60);
        assert.equal(cfg.consumers[1].accessTokenLifetimeMinutes, 15, "a consumer's own lifetime wins");
        assert.equal(cfg.introspectionClient?.label, "Token Introspection Client (dev)");
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

    it("requires a custom domain, named and by its id, with CUSTOM_URL, and only then", () => {
        const noDomain = problemsOf((d) => (server(d).issuerMode = "CUSTOM_URL"));
        assertProblem(noDomain, `${project}:authorizationServer.customDomain`, /is required with issuerMode CUSTOM_URL: the org's verified custom domain/);
        assertProblem(
            noDomain,
            `${project}:authorizationServer.customDomainId`,
            /is required with issuerMode CUSTOM_URL: the Okta id of the custom domain .*the provider cannot read a domain by its name/,
        );
        assertProblem(
            problemsOf((d) => Object.assign(server(d), { issuerMode: "CUSTOM_URL", customDomain: "login.acme.example", customDomainId: "login.acme.example" })),
            `${project}:authorizationServer.customDomainId`,
            /must be the custom domain's Okta id .*not its host name/,
        );
        assertProblem(
            problemsOf((d) => (server(d).customDomainId = "OcD1acmelogin0000001")),
            `${project}:authorizationServer.customDomainId`,
            /applies only with issuerMode CUSTOM_URL/,
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
        Object.assign(server(doc), { issuerMode: "CUSTOM_URL", customDomain: "login.acme.example", customDomainId: "OcD1acmelogin0000001" });
        doc.config["okta:scopes"] = ["okta.apps.manage", "okta.authorizationServers.manage", "okta.domains.read"];
        const cfg = load(doc);
        assert.ok(cfg.authorizationServer.kind === "create");
        assert.deepEqual(cfg.authorizationServer.customDomain, { id: "OcD1acmelogin0000001", name: "login.acme.example" });
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

    it("refuses what Okta would ignore or refuse in a claim: a GROUPS claim without its filter type, alwaysIncludeInToken false", () => {
        assertProblem(
            problemsOf((d) => (server(d).claims = [{ name: "teams", value: "api-", valueType: "GROUPS" }])),
            `${project}:authorizationServer.claims[0].groupFilterType`,
            /is required with valueType GROUPS/,
        );
        assertProblem(
            problemsOf((d) => (server(d).claims = [{ name: "team", value: "app.profile.team", groupFilterType: "EQUALS" }])),
            `${project}:authorizationServer.claims[0].groupFilterType`,
            /applies only with valueType GROUPS/,
        );
        assertProblem(
            problemsOf((d) => (server(d).claims = [{ name: "team", value: "app.profile.team", alwaysIncludeInToken: false }])),
            `${project}:authorizationServer.claims[0].alwaysIncludeInToken`,
            /can only be true: access-token claims are always included/,
        );
        const doc = devDoc();
        server(doc).claims = [{ name: "teams", value: "api-", valueType: "GROUPS", groupFilterType: "STARTS_WITH" }];
        assert.equal(load(doc).claims[0].groupFilterType, "STARTS_WITH");
    });

    it("refuses issuerMode DYNAMIC with a gateway, which accepts exactly one issuer", () => {
        assertProblem(
            problemsOf((d) => (server(d).issuerMode = "DYNAMIC")),
            `${project}:authorizationServer.issuerMode`,
            /DYNAMIC gives each token the issuer of the domain it was requested on, but the gateway accepts exactly one issuer/,
        );
        const okta = withoutGateway(devDoc());
        server(okta).issuerMode = "DYNAMIC";
        assert.ok(load(okta).authorizationServer.kind === "create", "without a gateway the stack does not pin the issuer");
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
        assert.deepEqual(load(doc).introspectionClient?.auth, { method: "private_key_jwt", keyIds: ["1"] });
        doc.config[`${project}:introspectionClient`] = { keyIds: ["2026-11", "2026-12"] };
        assert.deepEqual(load(doc).introspectionClient?.auth, { method: "private_key_jwt", keyIds: ["2026-11", "2026-12"] });
        doc.config[`${project}:introspectionClient`] = { authMethod: "client_secret_basic" };
        assert.deepEqual(load(doc).introspectionClient?.auth, { method: "client_secret_basic" });
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
        assertProblem(problems, `${project}:consumers[1].jwks.keys[0].n`, /required for an RSA key/);
    });

    it("refuses an inline EC key, which the provider sends without its curve, and takes a published JWKS (jwksUri) instead", () => {
        const ec = { kid: "k-ec", kty: "EC", crv: "P-256", x: "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", y: "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0" };
        assertProblem(
            problemsOf((d) => (consumers(d)[2].jwks = { keys: [ec] })),
            `${project}:consumers[2].jwks.keys[0].kty`,
            /an EC key given inline reaches Okta without its curve .*set jwksUri instead of jwks/,
        );
        const doc = devDoc();
        delete consumers(doc)[2].jwks;
        consumers(doc)[2].jwksUri = "https://reporting.acme.example/.well-known/jwks.json";
        const c = load(doc).consumers[2];
        assert.equal(c.jwksUri, "https://reporting.acme.example/.well-known/jwks.json");
        assert.equal(c.jwks, undefined);
        assertProblem(
            problemsOf((d) => (consumers(d)[2].jwksUri = "https://reporting.acme.example/jwks.json")),
            `${project}:consumers[2].jwksUri`,
            /set jwks or jwksUri, not both/,
        );
        assertProblem(
            problemsOf((d) => {
                delete consumers(d)[2].jwks;
                consumers(d)[2].jwksUri = "http://reporting.acme.example/jwks.json";
            }),
            `${project}:consumers[2].jwksUri`,
            /https URL/,
        );
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

    it("checks the provider's scopes against what the run does: manage to update, read to preview, domains with a custom domain", () => {
        const readOnly = ["okta.apps.read", "okta.authorizationServers.read"];
        const withScopes = (scopes: string[]) => (d: StackDoc) => (d.config["okta:scopes"] = scopes);
        // A read-only credential previews, and is refused for `up` before Okta answers 403 halfway through.
        const preview = devDoc();
        withScopes(readOnly)(preview);
        assert.doesNotThrow(() => load(preview, { operation: "preview" }));
        assertProblem(
            problemsOf(withScopes(readOnly)),
            "okta:scopes",
            /`pulumi up` needs okta\.apps\.manage and okta\.authorizationServers\.manage.*only reads: a preview credential/,
        );
        // One manage scope short is named, without calling it a preview credential.
        const oneShort = problemsOf(withScopes(["okta.apps.manage", "okta.authorizationServers.read"]));
        assertProblem(oneShort, "okta:scopes", /needs okta\.authorizationServers\.manage \(/);
        assert.ok(!oneShort.some((p) => /preview credential/.test(p)));
        // A preview that cannot read an area is named too.
        assertProblem(
            problemsOf(withScopes(["okta.apps.read"]), { operation: "preview" }),
            "okta:scopes",
            /`pulumi preview` reads apps and authorization servers: add okta\.authorizationServers\.read/,
        );
        // A custom-domain issuer reads the domain at every run.
        const customDomain = (d: StackDoc) => {
            Object.assign(server(d), { issuerMode: "CUSTOM_URL", customDomain: "login.acme.example", customDomainId: "OcD1acmelogin0000001" });
        };
        assertProblem(problemsOf(customDomain), "okta:scopes", /add okta\.domains\.read: with issuerMode CUSTOM_URL/);
        assertProblem(
            problemsOf((d) => (customDomain(d), withScopes(readOnly)(d)), { operation: "preview" }),
            "okta:scopes",
            /okta\.domains\.read/,
        );
        const complete = devDoc();
        customDomain(complete);
        withScopes(["okta.apps.manage", "okta.authorizationServers.manage", "okta.domains.read"])(complete);
        assert.doesNotThrow(() => load(complete));
        // From the provider's environment variable, the variable is named.
        const fromEnv = devDoc();
        delete fromEnv.config["okta:scopes"];
        assertProblem(
            (() => {
                try {
                    load(fromEnv, { env: { OKTA_API_SCOPES: readOnly.join(",") } });
                } catch (e) {
                    return (e as StackConfigError).problems;
                }
                return [];
            })(),
            "environment variable OKTA_API_SCOPES",
            /only reads/,
        );
        // An SSWS token has no scopes of its own: nothing to check.
        const ssws = devDoc();
        for (const key of ["okta:clientId", "okta:privateKeyId", "okta:scopes"]) delete ssws.config[key];
        assert.doesNotThrow(() => load(ssws, { secrets: { "okta:apiToken": "00stand-in" } }));
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

    it("previews production only behind reviewers, and updates it behind its own", () => {
        const workflow = (name: string) =>
            parseYaml(readFileSync(path.join(PROJECT_ROOT, ".github", "workflows", name), "utf8")) as {
                jobs: Record<string, { environment?: string; strategy?: { matrix?: { include?: { stack: string; environment: string }[] } } }>;
            };
        const preview = workflow("pull-request.yml").jobs.preview;
        // The expression GitHub evaluates per matrix entry: prod → production-preview.
        assert.equal(preview.environment, "${{ matrix.stack == 'prod' && 'production-preview' || 'development' }}");
        const up = workflow("deploy.yml").jobs.up;
        assert.equal(up.environment, "${{ matrix.environment }}");
        assert.deepEqual(up.strategy?.matrix?.include, [{ stack: "prod", environment: "production" }]);
    });

    it("never puts a secret value in an error", () => {
        const secret = "super-secret-token-value";
        const problems = problemsOf((d) => delete d.config["okta:orgName"], { secrets: { ...STAND_IN_SECRETS, "okta:apiToken": secret } });
        assert.ok(!problems.join("\n").includes(secret));
    });
});

describe("secrets in plain text in the stack file", () => {
    const PEM = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----";
    const TOKEN = "00Ab1cD2eF3gH4iJ5kL6mN7oP8qR9sT0uV1wX2yZ3a";

    it("refuses okta:privateKey pasted as a PEM, naming the key and the file, with the command that stores it as a secret, never the value", () => {
        // As a paste does it: the key in the file, not among the secret keys (the stand-in removed).
        const problems = problemsOf((d) => (d.config["okta:privateKey"] = PEM), { secrets: {} });
        assertProblem(
            problems,
            "okta:privateKey",
            /a PEM private key in plain text in Pulumi\.dev\.yaml.*`pulumi config set --secret okta:privateKey`.*fn::secret/,
        );
        assert.ok(!problems.join("\n").includes("MIIEvQ"), "the key is never echoed");
        assert.ok(
            !problems.some((p) => /only one way of authenticating|no credentials/.test(p)),
            `no second error about the credential:\n${problems.join("\n")}`,
        );
    });

    it("refuses an Okta API token in plain text, and any provider key the Okta or AWS provider keeps secret", () => {
        const problems = problemsOf(
            (d) => {
                delete d.config["okta:clientId"];
                delete d.config["okta:scopes"];
                d.config["okta:apiToken"] = TOKEN;
                d.config["aws:secretKey"] = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
            },
            { secrets: {} },
        );
        assertProblem(problems, "okta:apiToken", /holds an Okta API token in plain text/);
        assertProblem(problems, "aws:secretKey", /holds a credential the aws provider keeps secret in plain text/);
        assert.ok(!problems.join("\n").includes(TOKEN) && !problems.join("\n").includes("wJalrX"));
    });

    it("finds a private key or an API token pasted into any other value", () => {
        const problems = problemsOf((d) => {
            consumers(d)[0].description = `token ${TOKEN} for tests`;
            (d.config[`${project}:gateway`] as Record<string, unknown>).upstreamUrl = PEM;
        });
        assertProblem(problems, `${project}:consumers`, /holds an Okta API token in plain text/);
        assertProblem(problems, `${project}:gateway`, /holds a PEM private key in plain text/);
    });

    it("accepts the same values stored as secrets, and client ids that merely start with 0", () => {
        load(devDoc(), { secrets: { "okta:privateKey": PEM } });
        const doc = devDoc();
        consumers(doc)[0].description = "client 0oa8products0web01 and 00 other words";
        load(doc);
    });
});

describe("problems a person can act on", () => {
    it("names the stack file, each consumer by its name, the value given, and the key, scope or tier meant, at every level", () => {
        const doc = devDoc();
        doc.config["okta:orgname"] = "dev-123456";
        consumers(doc)[1].scopes = "products:read";
        consumers(doc)[0].scopes = ["myscope", "products:raed"];
        consumers(doc)[2].tier = "bach";
        consumers(doc)[2].scoeps = ["products:read"];
        server(doc).audiance = "api://x";
        let message = "";
        try {
            load(doc);
        } catch (e) {
            message = (e as Error).message;
        }
        assert.match(message, /^Invalid stack configuration in Pulumi\.dev\.yaml \(\d+ problems\)/);
        assert.match(message, /okta:orgname: not a setting of the Okta provider, which ignores it \(did you mean okta:orgName\?\)/);
        assert.match(message, /consumers\[1\] \(inventory-sync\)\.scopes: expected a list \(e\.g\. \[a, b\]\), got the text "products:read"/);
        assert.match(message, /consumers\[0\] \(products-web\)\.scopes\[1\]: "products:raed" is not a scope declared .* \(did you mean "products:read"\?\)/);
        assert.match(message, /consumers\[2\] \(reporting\): unknown key 'scoeps' \(did you mean 'scopes'\?\)/);
        assert.match(message, /authorizationServer: unknown key 'audiance' \(did you mean 'audience'\?\)/);
    });

    it("offers the tier meant, echoes a bad URL (its password masked), and reports a misspelt nested key once, without its consequences", () => {
        assertProblem(
            problemsOf((d) => (consumers(d)[2].tier = "bach")),
            `${project}:consumers[2].tier`,
            /"bach" is not one of the declared tiers \(standard, batch\) \(did you mean "batch"\?\)/,
        );
        const url = problemsOf((d) => ((d.config[`${project}:gateway`] as Record<string, unknown>).upstreamUrl = "ftp://svc:hunter2@api.internal"));
        assert.ok(
            url.some((p) => p.includes('(got "ftp://***@api.internal")')),
            url.join("\n"),
        );
        assert.ok(!url.join("\n").includes("hunter2"));
        const tier = problemsOf(
            (d) =>
                ((d.config[`${project}:gateway`] as Record<string, Record<string, unknown>>).rateLimits.tiers = {
                    standard: { perSecnd: 5 },
                    batch: { perSecond: 1 },
                }),
        );
        assert.deepEqual(
            tier.filter((p) => p.includes("tiers.standard")),
            [`${project}:gateway.rateLimits.tiers.standard: unknown key 'perSecnd' (did you mean 'perSecond'?)`],
        );
    });
});

describe("consumer names as metric labels", () => {
    it("refuses a consumer named 'unknown', the label of every undeclared client, at its name", () => {
        assertProblem(
            problemsOf((d) => (consumers(d)[1].name = "unknown")),
            `${project}:consumers[1].name`,
            /'unknown' is the label of every undeclared client/,
        );
    });
});
