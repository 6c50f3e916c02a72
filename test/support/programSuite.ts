// The whole program (index.ts) under the mock runtime with one committed stack file. Expectations
// are read from the YAML itself, not from the validator under test.
import * as pulumi from "@pulumi/pulumi";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { loadRAMLSync } from "raml-1-parser";
import Ajv2020 from "ajv/dist/2020";
import { CREDENTIAL_METHODS, stackOutputsSchema } from "../../components/stackOutputs";
import { OUTPUTS_SCHEMA_FILE } from "../../scripts/stackSchema";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { parse as parseYaml } from "yaml";
import { policies } from "../../policy/policies";
import { gatewayDeploymentChecks, type GatewayDoc } from "./gatewayDeploymentSuite";
import { policyPackConfig } from "../../scripts/policyPackConfig";
import { packViolations } from "./policyHarness";
import {
    PROJECT_ROOT,
    findInRawInputs,
    projectName,
    readStackFile,
    runProgram,
    unwrapSecrets,
    valueOf,
    isKnown,
    type ProgramRun,
    type RecordedResource,
} from "../../harness/stackHarness";

/** The part of raml-1-parser's API these tests read (its typings are loose). */
interface RamlApi {
    errors(): { message: string }[];
    securitySchemes(): { type(): string; settings(): { accessTokenUri(): { value(): string }; authorizationGrants(): string[]; scopes(): string[] } }[];
}

interface ConsumerDoc {
    name: string;
    scopes: string[];
    jwks?: unknown;
    allowReplacement?: boolean;
    accessTokenLifetimeMinutes?: number;
    existingAppId?: string;
    readers?: string[];
    tier?: string;
}
interface DeliveryDoc {
    method: "esc" | "awsSecretsManager" | "stackOutputs";
    esc?: { organization: string; project?: string };
}
interface ServerDoc {
    audience?: string;
    issuerMode?: string;
    customDomain?: string;
    customDomainId?: string;
    accessTokenLifetimeMinutes?: number;
    scopes: { name: string; description?: string }[];
    claims?: { name: string }[];
}

/** Every secret output's value, and every value in a plain (non-secret) output, found by walking the exports. */
async function walkOutputs(value: unknown, secrets: string[], plain: string[], inSecret = false): Promise<void> {
    if (pulumi.Output.isInstance(value)) {
        if (!(await isKnown(value))) return; // unknown at preview: no value, secret or not
        const secret = inSecret || (await pulumi.isSecret(value));
        return walkOutputs(await valueOf(value), secrets, plain, secret);
    }
    if (value !== null && typeof value === "object") {
        for (const v of Object.values(value)) await walkOutputs(v, secrets, plain, inSecret);
        return;
    }
    if (typeof value === "string") (inSecret ? secrets : plain).push(value);
}

export function programSuite(stackName: string, preview: boolean): void {
    const project = projectName();
    const doc = parseYaml(readFileSync(path.join(PROJECT_ROOT, `Pulumi.${stackName}.yaml`), "utf8")) as { config: Record<string, unknown> };
    const serverDoc = doc.config[`${project}:authorizationServer`] as ServerDoc;
    const production = doc.config[`${project}:production`] === true;
    const consumerDocs = doc.config[`${project}:consumers`] as ConsumerDoc[];
    const gatewayDoc = doc.config[`${project}:gateway`] as GatewayDoc | undefined;
    const deliveryDoc = doc.config[`${project}:credentialDelivery`] as DeliveryDoc | undefined;
    /** Consumers whose client secret the stack generates: neither private_key_jwt nor adopted. */
    const withSecret = consumerDocs.filter((c) => !c.jwks && !c.existingAppId);
    const adoptedDocs = consumerDocs.filter((c) => c.existingAppId);
    /** The introspection client's key ids (the stack's default is one key, "1"). */
    const introspectionKeyIds = (doc.config[`${project}:introspectionClient`] as { keyIds?: string[] } | undefined)?.keyIds ?? ["1"];
    const orgUrl = `https://${doc.config["okta:orgName"]}.${doc.config["okta:baseUrl"]}`;

    let run: ProgramRun;
    const ofType = (type: string) => run.stack.resources.filter((r) => r.type === type && r.custom);
    const named = (name: string): RecordedResource => {
        const r = run.stack.resources.find((x) => x.name === name);
        assert.ok(r, `no resource named ${name}`);
        return r;
    };
    const out = <T>(name: string) => valueOf(run.outputs[name] as pulumi.Input<T>);

    describe(`the program with Pulumi.${stackName}.yaml (${preview ? "preview" : "update"})`, () => {
        before(async () => {
            run = await runProgram({ stackName, preview });
        });

        it("declares the server, its scopes and claims, one app per consumer plus the introspection client, one policy and rule per consumer", () => {
            assert.equal(ofType("okta:auth/server:Server").length, 1);
            assert.equal(ofType("okta:auth/serverScope:ServerScope").length, serverDoc.scopes.length);
            assert.equal(ofType("okta:auth/serverClaim:ServerClaim").length, serverDoc.claims?.length ?? 0);
            assert.equal(ofType("okta:app/oAuth:OAuth").length, consumerDocs.length + 1);
            // An adopted consumer's app is imported, not created: no new app (and no new client id) for it.
            assert.equal(ofType("okta:app/oAuth:OAuth").filter((a) => a.importId === undefined).length, consumerDocs.length - adoptedDocs.length + 1);
            assert.equal(ofType("okta:auth/serverPolicy:ServerPolicy").length, consumerDocs.length);
            assert.equal(ofType("okta:auth/serverPolicyRule:ServerPolicyRule").length, consumerDocs.length);
            const components = run.stack.resources
                .filter((r) => !r.custom)
                .map((r) => r.type)
                .sort();
            const gatewayComponents = !gatewayDoc
                ? []
                : [
                      "okta-api-gateway:gateway:GatewayImage",
                      ...(gatewayDoc.target === "local"
                          ? ["okta-api-gateway:gateway:LocalGateway"]
                          : ["okta-api-gateway:gateway:AwsGateway", "okta-api-gateway:gateway:GatewayTelemetry"]),
                  ];
            assert.deepEqual(
                components,
                [
                    "okta-api-gateway:okta:AccessPolicies",
                    "okta-api-gateway:okta:AuthorizationServer",
                    ...consumerDocs.map(() => "okta-api-gateway:okta:ConsumerApp"),
                    ...(withSecret.length && deliveryDoc?.method !== "stackOutputs" ? ["okta-api-gateway:delivery:CredentialDelivery"] : []),
                    ...(deliveryDoc && deliveryDoc.method !== "stackOutputs" ? ["okta-api-gateway:delivery:ApiPublication"] : []),
                    "okta-api-gateway:okta:IntrospectionClient",
                    // On AWS, each of the introspection client's keys is a KMS signing key.
                    ...(gatewayDoc?.target === "aws" ? introspectionKeyIds.map(() => "okta-api-gateway:aws:KmsSigningKey") : []),
                    ...gatewayComponents,
                ].sort(),
            );
            for (const r of run.stack.resources.filter((x) => x.custom)) assert.ok(r.parentUrn, `${r.name} is parented to a component`);
        });

        it("reads a CUSTOM_URL server's custom domain by its id, never by its host name (the provider's read 404s on a name)", () => {
            const lookups = run.stack.calls.filter((c) => c.token === "okta:index/getDomain:getDomain").map((c) => String(c.inputs.domainIdOrName));
            if (serverDoc.issuerMode === "CUSTOM_URL") assert.deepEqual(lookups, [serverDoc.customDomainId]);
            else assert.deepEqual(lookups, [], "no custom domain, no lookup");
            assert.ok(!lookups.some((l) => l.includes(".")), "no host name is ever passed as domainIdOrName");
        });

        it("declares the server with the stack's audience, protected exactly in a production stack", () => {
            const server = ofType("okta:auth/server:Server")[0];
            assert.deepEqual(server.inputs.audiences, [serverDoc.audience]);
            assert.equal(server.protect, production);
            assert.deepEqual(
                ofType("okta:auth/serverScope:ServerScope")
                    .map((s) => s.inputs.name)
                    .sort(),
                serverDoc.scopes.map((s) => s.name).sort(),
            );
        });

        it("gives every consumer a client-credentials service app and a rule with only its own scopes", () => {
            const serverId = ofType("okta:auth/server:Server")[0].id;
            consumerDocs.forEach((c, i) => {
                const app = named(`${c.name}-app`);
                if (c.existingAppId) {
                    // Adopted: the app the consumer already uses, imported with its id, its own settings untouched.
                    assert.equal(app.importId, c.existingAppId);
                    assert.equal(app.id, c.existingAppId);
                    assert.deepEqual(app.ignoreChanges, ["*"]);
                    assert.equal(app.retainOnDelete, true);
                } else {
                    assert.equal(app.importId, undefined);
                    assert.equal(app.inputs.type, "service");
                    assert.deepEqual(app.inputs.grantTypes, ["client_credentials"]);
                    assert.deepEqual(app.inputs.responseTypes, ["token"]);
                    assert.equal(app.inputs.tokenEndpointAuthMethod, c.jwks ? "private_key_jwt" : "client_secret_basic");
                }

                const policy = named(`access-${c.name}`);
                assert.equal(policy.inputs.authServerId, serverId);
                assert.deepEqual(policy.inputs.clientWhitelists, [app.id]);
                assert.equal(policy.inputs.priority, i + 1);

                const rule = named(`access-${c.name}-rule`);
                assert.equal(rule.inputs.policyId, policy.id);
                assert.deepEqual(rule.inputs.grantTypeWhitelists, ["client_credentials"]);
                assert.deepEqual(rule.inputs.scopeWhitelists, c.scopes);
                assert.equal(rule.inputs.accessTokenLifetimeMinutes, c.accessTokenLifetimeMinutes ?? serverDoc.accessTokenLifetimeMinutes ?? 60);
                for (const s of c.scopes) assert.ok(rule.dependencyUrns.includes(named(`api-scope-${s}`).urn));
                if (i > 0) assert.ok(rule.dependencyUrns.includes(named(`access-${consumerDocs[i - 1].name}-rule`).urn));
            });
            const priorities = ofType("okta:auth/serverPolicy:ServerPolicy")
                .map((p) => p.inputs.priority)
                .sort();
            assert.deepEqual(
                priorities,
                consumerDocs.map((_, i) => i + 1),
            );
        });

        it("never opens a policy to all clients, and never lets the introspection client get a token", () => {
            const introspectionId = named("introspection-app").id;
            for (const p of ofType("okta:auth/serverPolicy:ServerPolicy")) {
                assert.ok(!(p.inputs.clientWhitelists as string[]).includes("ALL_CLIENTS"));
                assert.ok(!(p.inputs.clientWhitelists as string[]).includes(introspectionId));
            }
            for (const r of ofType("okta:auth/serverPolicyRule:ServerPolicyRule")) assert.ok(!(r.inputs.scopeWhitelists as string[]).includes("*"));
        });

        it("assigns no groups (client credentials has no user) and keeps every app off the sign-on policy path", () => {
            assert.deepEqual(ofType("okta:app/groupAssignment:GroupAssignment"), []);
            assert.ok(!run.stack.calls.some((c) => c.token === "okta:group/getEveryoneGroup:getEveryoneGroup"));
            for (const app of ofType("okta:app/oAuth:OAuth")) assert.equal(app.inputs.skipAuthenticationPolicy, true, app.name);
        });

        it(
            production
                ? "protects the AWS resources that hold state or a name others rely on (repository, logs, load balancer, certificate, store, secrets, key)"
                : "protects no AWS resource outside production",
            () => {
                const kept = [
                    "aws:ecr/repository:Repository",
                    "aws:cloudwatch/logGroup:LogGroup",
                    "aws:lb/loadBalancer:LoadBalancer",
                    "aws:acm/certificate:Certificate",
                    "aws:elasticache/replicationGroup:ReplicationGroup",
                    "aws:secretsmanager/secret:Secret",
                    "aws:kms/key:Key",
                ];
                // The introspection client's signing keys are not: a rotation removes the old one, and KMS
                // keeps a removed key for its deletion window, within which the deletion can be cancelled.
                const signingKey = (r: RecordedResource) => r.type === "aws:kms/key:Key" && r.inputs.keyUsage === "SIGN_VERIFY";
                const aws = run.stack.resources.filter((r) => r.custom && !r.read && r.type.startsWith("aws:"));
                for (const r of aws) assert.equal(r.protect, production && kept.includes(r.type) && !signingKey(r), `${r.type} ${r.name}`);
                for (const r of aws.filter(signingKey)) assert.equal(r.inputs.deletionWindowInDays, production ? 30 : 7, r.name);
            },
        );

        it(
            production
                ? "protects every app, so no plan can replace one (a new client id) unless the consumer allows it"
                : "leaves the apps unprotected in a stack that is not protected",
            () => {
                for (const c of consumerDocs) assert.equal(named(`${c.name}-app`).protect, production && c.allowReplacement !== true, c.name);
                assert.equal(named("introspection-app").protect, production);
            },
        );

        it("exports the server's URLs, audience and scopes", async () => {
            const server = ofType("okta:auth/server:Server")[0];
            const issuer = `${orgUrl}/oauth2/${server.id}`;
            assert.equal(await out("issuer"), issuer);
            assert.equal(await out("authorizationServerId"), server.id);
            assert.equal(await out("metadataUrl"), `${issuer}/.well-known/oauth-authorization-server`);
            assert.equal(await out("tokenUrl"), `${issuer}/v1/token`);
            assert.equal(await out("introspectionUrl"), `${issuer}/v1/introspect`);
            assert.equal(await out("jwksUrl"), `${issuer}/v1/keys`);
            assert.equal(await out("audience"), serverDoc.audience);
            assert.deepEqual(
                await out("scopes"),
                serverDoc.scopes.map((s) => s.name),
            );
        });

        it("exports each consumer's client id, scopes and where its credentials are, and no secret at all", async () => {
            const clients =
                await out<Record<string, { clientId: string; scopes: string[]; adopted: boolean; credentials: { method: string; location?: string } }>>(
                    "consumerClients",
                );
            assert.deepEqual(
                Object.keys(clients),
                consumerDocs.map((c) => c.name),
            );
            for (const c of consumerDocs) {
                assert.equal(clients[c.name].clientId, c.existingAppId ?? named(`${c.name}-app`).id);
                assert.deepEqual(clients[c.name].scopes, c.scopes);
                assert.equal(clients[c.name].adopted, c.existingAppId !== undefined);
                const method = clients[c.name].credentials.method;
                // A consumer with readers is delivered to, with or without a secret (then its facts only).
                if (c.readers && (deliveryDoc?.method === "esc" || deliveryDoc?.method === "awsSecretsManager")) assert.equal(method, deliveryDoc.method);
                else if (c.existingAppId) assert.equal(method, "adopted");
                else if (c.jwks) assert.equal(method, "private_key_jwt");
                else assert.equal(method, deliveryDoc?.method);
            }
            const secretValues: string[] = [];
            await walkOutputs(run.outputs.consumerClients, secretValues, []);
            assert.deepEqual(secretValues, [], "nothing secret in it: every team that reads the stack reads it");
            if (deliveryDoc?.method === "stackOutputs") {
                assert.equal(await pulumi.isSecret(run.outputs.consumerClientSecrets as pulumi.Output<unknown>), true);
            } else {
                assert.equal(run.outputs.consumerClientSecrets, undefined, "no all-secrets map without the explicit opt-in");
            }
            assert.equal(run.outputs.introspectionClientSecret, undefined, "only the gateway needs the introspection credential");
        });

        it("publishes what the API team needs, nothing secret, where it is read without access to the stack", async () => {
            const published = run.outputs.apiPublication as { method: string; location: pulumi.Output<string>; read: pulumi.Output<string> } | undefined;
            if (deliveryDoc?.method !== "esc" && deliveryDoc?.method !== "awsSecretsManager") {
                assert.equal(published, undefined, "with stackOutputs the stack outputs are the only place");
                return;
            }
            const place = named("api-facts-" + (deliveryDoc.method === "esc" ? "esc" : "parameter"));
            const facts = (
                deliveryDoc.method === "esc"
                    ? (parseYaml((unwrapSecrets(place.rawInputs) as { yaml: { text: string } }).yaml.text) as { values: { api: unknown } }).values.api
                    : JSON.parse(String(place.inputs.insecureValue))
            ) as Record<string, unknown>;
            assert.equal(
                findInRawInputs(place.rawInputs, "").some((p) => p.inSecret),
                false,
                "plain text: nothing in it is secret",
            );
            assert.equal(facts.issuer, await out("issuer"));
            assert.equal(facts.jwksUrl, await out("jwksUrl"));
            assert.equal(facts.tokenUrl, await out("tokenUrl"));
            assert.equal(facts.audience, serverDoc.audience);
            assert.deepEqual(facts.openApiSecuritySchemes, await valueOf(run.outputs.openApiSecuritySchemesEntry as pulumi.Output<unknown>));
            assert.equal(facts.ramlSecurityScheme, await out("ramlSecuritySchemeFragment"));
            assert.equal(facts.gatewayUrl, gatewayDoc?.target === "aws" ? await out("gatewayUrl") : undefined);
            const text = JSON.stringify(facts);
            for (const app of ofType("okta:app/oAuth:OAuth"))
                if (typeof app.state.clientSecret === "string") assert.ok(!text.includes(app.state.clientSecret), "no client secret");
            assert.ok(!text.includes("PRIVATE KEY"));
            if (deliveryDoc.method === "esc") {
                const apiReaders = (deliveryDoc as { esc?: { apiReaders?: string[] } }).esc?.apiReaders ?? [];
                const teams = run.stack.resources.filter(
                    (r) => r.type === "pulumiservice:index:TeamEnvironmentPermission" && r.inputs.environment === place.inputs.name,
                );
                assert.deepEqual(
                    teams.map((t) => [t.inputs.team, t.inputs.permission]),
                    apiReaders.map((t) => [t, "read"]),
                );
                assert.equal(await valueOf(published!.location), `${String(place.inputs.organization)}/${String(place.inputs.project)}/api-${stackName}`);
            } else {
                assert.equal(place.inputs.type, "String");
                assert.equal(place.inputs.name, `/${project}/${stackName}/api`);
                assert.match(await valueOf(published!.read), /^aws ssm get-parameter --name \/.+\/api /);
            }
        });

        it("delivers each generated secret to its own consumer's readers, and nowhere else", async () => {
            const secretOf = (name: string) => String(named(`${name}-app`).state.clientSecret);
            const deliveryResources = run.stack.resources.filter(
                (r) => r.custom && /^(pulumiservice:|aws:secretsmanager\/|aws:kms\/)/.test(r.type) && !r.name.startsWith("gateway-"),
            );
            for (const c of withSecret) {
                const secret = secretOf(c.name);
                const places = run.stack.resources.flatMap((r) => findInRawInputs(r.rawInputs, secret).map((p) => ({ ...p, r })));
                const delivered = places.filter((p) => p.r.type !== "okta:app/oAuth:OAuth");
                if (deliveryDoc?.method === "stackOutputs") {
                    assert.deepEqual(delivered, []);
                    continue;
                }
                assert.equal(delivered.length, 1, `${c.name}'s secret is delivered exactly once`);
                assert.ok(delivered[0].inSecret, "inside a Pulumi secret");
                assert.ok(
                    delivered[0].r.name.startsWith(`credentials-${c.name}`),
                    `${c.name}'s secret goes to ${c.name}'s delivery, not ${delivered[0].r.name}`,
                );
                // Its readers, exactly, and no other consumer's.
                if (deliveryDoc?.method === "esc") {
                    const env = named(`credentials-${c.name}`);
                    const text = String((unwrapSecrets(env.rawInputs) as { yaml: { text: string } }).yaml.text);
                    const values = (parseYaml(text) as { values: { okta: { clientId: string; clientSecret: { "fn::secret": string } } } }).values.okta;
                    assert.equal(values.clientId, named(`${c.name}-app`).id);
                    assert.equal(values.clientSecret["fn::secret"], secret, "ESC encrypts a plaintext fn::secret on save");
                    const teams = run.stack.resources.filter(
                        (r) => r.type === "pulumiservice:index:TeamEnvironmentPermission" && r.inputs.environment === env.inputs.name,
                    );
                    assert.deepEqual(teams.map((t) => t.inputs.team).sort(), [...(c.readers ?? [])].sort());
                    for (const t of teams) assert.equal(t.inputs.permission, "open");
                } else {
                    const policy = named(`credentials-${c.name}-policy`);
                    const doc = JSON.parse(String(policy.inputs.policy)) as { Statement: { Principal: { AWS: string[] } }[] };
                    assert.deepEqual(doc.Statement.flatMap((st) => st.Principal.AWS).sort(), [...(c.readers ?? [])].sort());
                    assert.equal(policy.inputs.blockPublicPolicy, true);
                    // Beside the secret, what the team needs: the audience, where to call the API, its limit.
                    const payload = JSON.parse(String(named(`credentials-${c.name}-version`).inputs.secretString)) as Record<string, unknown>;
                    assert.equal(payload.audience, serverDoc.audience);
                    if (gatewayDoc?.target !== "aws") assert.equal(payload.gatewayUrl, undefined, "no gateway other teams reach: nothing published");
                    else if (gatewayDoc.aws?.domainName) assert.equal(payload.gatewayUrl, `https://${gatewayDoc.aws.domainName}`);
                    else assert.match(String(payload.gatewayUrl), /^http:\/\//);
                    const tier = c.tier ?? (gatewayDoc?.rateLimits as { defaultTier?: string } | undefined)?.defaultTier;
                    assert.equal((payload.rateLimit as { tier?: string } | null)?.tier, tier);
                }
                for (const other of withSecret.filter((o) => o.name !== c.name)) {
                    for (const r of deliveryResources.filter((x) => x.name.startsWith(`credentials-${c.name}`))) {
                        assert.deepEqual(findInRawInputs(r.rawInputs, secretOf(other.name)), [], `${other.name}'s secret is not in ${r.name}`);
                    }
                }
            }
        });

        it("delivers to the readers of a consumer without a secret (private_key_jwt, adopted) its facts, and nothing secret", async () => {
            const factsOnly = consumerDocs.filter((c) => (c.jwks || c.existingAppId) && c.readers);
            for (const c of factsOnly) {
                if (deliveryDoc?.method !== "esc" && deliveryDoc?.method !== "awsSecretsManager") continue;
                const place = named(deliveryDoc.method === "esc" ? `credentials-${c.name}` : `credentials-${c.name}-version`);
                // ESC: plain, so the preview shows it (Secrets Manager's SDK makes every secretString secret).
                if (deliveryDoc.method === "esc")
                    assert.equal(
                        findInRawInputs(place.rawInputs, "").some((p) => p.inSecret),
                        false,
                        "plain: nothing in it is secret",
                    );
                const facts = (
                    deliveryDoc.method === "esc"
                        ? (parseYaml((unwrapSecrets(place.rawInputs) as { yaml: { text: string } }).yaml.text) as { values: { okta: Record<string, unknown> } })
                              .values.okta
                        : JSON.parse(String(place.inputs.secretString))
                ) as Record<string, unknown>;
                assert.equal(facts.clientId, c.existingAppId ?? named(`${c.name}-app`).id);
                assert.equal(facts.tokenEndpointAuthMethod, c.jwks ? "private_key_jwt" : facts.tokenEndpointAuthMethod);
                assert.equal(facts.tokenUrl, await out<string>("tokenUrl"));
                assert.equal(facts.scope, c.scopes.join(" "));
                assert.equal("clientSecret" in facts, false);
                const readers =
                    deliveryDoc.method === "esc"
                        ? run.stack.resources
                              .filter(
                                  (r) =>
                                      r.type === "pulumiservice:index:TeamEnvironmentPermission" &&
                                      r.inputs.environment === named(`credentials-${c.name}`).inputs.name,
                              )
                              .map((t) => String(t.inputs.team))
                        : (
                              JSON.parse(String(named(`credentials-${c.name}-policy`).inputs.policy)) as { Statement: { Principal: { AWS: string[] } }[] }
                          ).Statement.flatMap((st) => st.Principal.AWS);
                assert.deepEqual(readers.sort(), [...(c.readers ?? [])].sort());
            }
            // A consumer without a secret and without readers gets nothing delivered.
            for (const c of consumerDocs.filter((x) => (x.jwks || x.existingAppId) && !x.readers))
                assert.equal(
                    run.stack.resources.some((r) => r.name.startsWith(`credentials-${c.name}`)),
                    false,
                );
        });

        it("exports the OpenAPI and RAML 1.0 security schemes, the RAML one valid for a real RAML parser", async () => {
            const tokenUrl = await out<string>("tokenUrl");
            const scheme = await out<{ okta: { type: string; flows: { clientCredentials: { tokenUrl: string; scopes: Record<string, string> } } } }>(
                "openApiSecuritySchemesEntry",
            );
            assert.equal(scheme.okta.type, "oauth2");
            assert.equal(scheme.okta.flows.clientCredentials.tokenUrl, tokenUrl);
            assert.deepEqual(
                Object.keys(scheme.okta.flows.clientCredentials.scopes),
                serverDoc.scopes.map((s) => s.name),
            );

            // As the README says to use it: okta.raml beside the API spec, included as a security scheme.
            const dir = mkdtempSync(path.join(tmpdir(), "raml-"));
            writeFileSync(path.join(dir, "okta.raml"), await out<string>("ramlSecuritySchemeFragment"));
            const firstScope = serverDoc.scopes[0].name;
            writeFileSync(
                path.join(dir, "api.raml"),
                `#%RAML 1.0\ntitle: Products API\nsecuritySchemes:\n  okta: !include okta.raml\nsecuredBy: [ okta: { scopes: [ "${firstScope}" ] } ]\n/api/products:\n  get:\n`,
            );
            const api = loadRAMLSync(path.join(dir, "api.raml"), []) as unknown as RamlApi;
            assert.deepEqual(
                api.errors().map((e) => e.message),
                [],
            );
            const parsed = api.securitySchemes()[0];
            assert.equal(parsed.type(), "OAuth 2.0");
            assert.match(await out<string>("ramlSecuritySchemeFragment"), /\n {4}"?429"?:[\s\S]*Retry-After[\s\S]*\n {4}"?503"?:/, "the 429 and 503 answers");
            assert.equal(parsed.settings().accessTokenUri().value(), tokenUrl);
            assert.deepEqual(parsed.settings().authorizationGrants(), ["client_credentials"]);
            assert.deepEqual(
                parsed.settings().scopes(),
                serverDoc.scopes.map((s) => s.name),
            );
        });

        if (!preview)
            it("exports exactly what the published outputs contract says: the zod schema, the JSON Schema file and the documented credential methods", async () => {
                const values: Record<string, unknown> = {};
                for (const [name, value] of Object.entries(run.outputs)) {
                    const v = await valueOf(pulumi.output(value));
                    if (v !== undefined) values[name] = v;
                }
                const parsed = stackOutputsSchema.safeParse(values);
                assert.ok(parsed.success, JSON.stringify(parsed.error?.issues));
                // URLs are zod's to check above; ajv checks the shape any other language would rely on.
                const validate = new Ajv2020({ allErrors: true, strict: false, validateFormats: false }).compile(
                    JSON.parse(readFileSync(OUTPUTS_SCHEMA_FILE, "utf8")) as object,
                );
                assert.ok(validate(values), JSON.stringify(validate.errors));
                for (const c of Object.values(values.consumerClients as Record<string, { credentials: { method: string } }>))
                    assert.ok((CREDENTIAL_METHODS as readonly string[]).includes(c.credentials.method), c.credentials.method);
            });

        it("keeps every client secret and private key out of every stack output", async () => {
            const secrets: string[] = [];
            const plain: string[] = [];
            for (const value of Object.values(run.outputs)) await walkOutputs(value, secrets, plain);
            const clientSecrets = ofType("okta:app/oAuth:OAuth")
                .map((a) => a.state.clientSecret)
                .filter((s): s is string => typeof s === "string");
            assert.ok(clientSecrets.length >= 1);
            for (const s of clientSecrets) {
                assert.ok(!plain.some((p) => p.includes(s)), "never in a plain output");
                // Only the explicit opt-in puts consumer secrets in an output, and then only as a secret.
                if (deliveryDoc?.method === "stackOutputs" && withSecret.some((c) => named(`${c.name}-app`).state.clientSecret === s))
                    assert.ok(secrets.includes(s));
                else assert.ok(!secrets.some((x) => x.includes(s)), "not in a secret output either: whoever reads the stack could show it");
            }
            // The introspection client has no secret; its private key is in no output, secret or not.
            assert.equal(await valueOf(run.outputs.introspectionAuthMethod as pulumi.Output<string>), "private_key_jwt");
            const privateKeys = ofType("tls:index/privateKey:PrivateKey").map((k) => String(k.state.privateKeyPemPkcs8));
            // On AWS the keys are in KMS, which signs: no private key exists to export.
            assert.ok(gatewayDoc?.target === "aws" ? privateKeys.length === 0 : privateKeys.length >= 1);
            for (const key of privateKeys)
                assert.ok(![...secrets, ...plain].some((v) => v.includes(key.split("\n")[1])), "the private key is exported nowhere");
        });

        it("passes every guardrail policy of the pack, mandatory and advisory, told production by the stack's key as the workflows tell it", async () => {
            const config = policyPackConfig(readStackFile(path.join(PROJECT_ROOT, `Pulumi.${stackName}.yaml`)));
            assert.deepEqual(Object.values(config)[0], { production }, "the workflows pass the stack's production key");
            assert.deepEqual(await packViolations(policies, run.stack.resources, config), []);
        });

        if (gatewayDoc)
            describe(`gateway deployment (target ${gatewayDoc.target})`, () =>
                gatewayDeploymentChecks(() => run, gatewayDoc, production, consumerDocs, preview));
    });
}
