// The documentation as a reader clicks through it: every relative link of README.md and docs/
// reaches a file, and every #anchor a heading of it; every how-to is one click from the README.
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { spawn, spawnSync } from "node:child_process";
import { createPrivateKey, createPublicKey } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { PROJECT_ROOT } from "../harness/stackHarness";
import { PRIVATE_KEY_JWT_TOKEN_JS } from "../harness/clientAssertion";
import { startLocalOkta } from "../harness/localOkta";
import { decodeJwt, type JWK } from "jose";
import { parse as parseYaml } from "yaml";
import { compileRules, requirementFor } from "../policy-gateway/src/decision/routeRules";
import { consumers, devDoc, load, project } from "./support/stackConfigHarness";

const docs = [
    "README.md",
    ...readdirSync(path.join(PROJECT_ROOT, "docs"), { recursive: true })
        .map((f) => path.join("docs", String(f)))
        .filter((f) => f.endsWith(".md")),
];

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function anchorsOf(file: string): Set<string> {
    const text = readFileSync(path.join(PROJECT_ROOT, file), "utf8").replace(/```[\s\S]*?```/g, "");
    return new Set(
        [...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) =>
            m[1]
                .trim()
                .toLowerCase()
                .replace(/[^\p{L}\p{N} _-]/gu, "")
                .replace(/ /g, "-"),
        ),
    );
}

function linksOf(file: string): string[] {
    const text = readFileSync(path.join(PROJECT_ROOT, file), "utf8").replace(/```[\s\S]*?```/g, "");
    return [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]).filter((l) => !/^[a-z]+:/.test(l));
}

/** Every key path of this project's config, from the stack-file JSON Schema: `["gateway", "aws", "domainName"]`. */
function configKeyPaths(): string[][] {
    const schema = JSON.parse(readFileSync(path.join(PROJECT_ROOT, "stack-config.schema.json"), "utf8")) as {
        properties: { config: { properties: Record<string, unknown> } };
    };
    type Node = { type?: string; properties?: Record<string, Node>; items?: Node };
    const paths: string[][] = [];
    const walk = (node: Node, at: string[]) => {
        paths.push(at);
        if (node.type === "object" && node.properties) for (const [k, v] of Object.entries(node.properties)) walk(v, [...at, k]);
        if (node.type === "array" && node.items) walk(node.items, at);
    };
    for (const [key, node] of Object.entries(schema.properties.config.properties))
        if (key.startsWith("okta-api-gateway:")) walk(node as Node, [key.split(":")[1]]);
    return paths;
}

describe("the documentation", () => {
    it("documents every config key the schema knows and every stack output the program exports", () => {
        const reference = readFileSync(path.join(PROJECT_ROOT, "docs/reference/configuration.md"), "utf8");
        const undocumented = configKeyPaths().filter((p) => !new RegExp(`\\b${p[p.length - 1]}\\b`).test(reference));
        assert.deepEqual(
            undocumented.map((p) => p.join(".")),
            [],
            "add them to docs/reference/configuration.md",
        );
        const outputs = readFileSync(path.join(PROJECT_ROOT, "docs/reference/outputs.md"), "utf8");
        const exported = [...readFileSync(path.join(PROJECT_ROOT, "index.ts"), "utf8").matchAll(/^export const (\w+)/gm)].map((m) => m[1]);
        assert.ok(exported.length >= 15);
        assert.deepEqual(
            exported.filter((name) => !outputs.includes(`\`${name}\``)),
            [],
            "add them to docs/reference/outputs.md",
        );
    });

    it("has no broken relative link or anchor", () => {
        const broken: string[] = [];
        for (const file of docs) {
            for (const link of linksOf(file)) {
                const [target, anchor] = link.split("#");
                const resolved = target ? path.normalize(path.join(path.dirname(file), target)) : file;
                if (!existsSync(path.join(PROJECT_ROOT, resolved))) broken.push(`${file}: ${link} (no ${resolved})`);
                else if (anchor && resolved.endsWith(".md") && !anchorsOf(resolved).has(anchor)) broken.push(`${file}: ${link} (no heading #${anchor})`);
            }
        }
        assert.deepEqual(broken, []);
    });

    it("puts every how-to and reference one click from the README", () => {
        const fromReadme = new Set(linksOf("README.md").map((l) => path.normalize(l.split("#")[0])));
        const pages = docs.filter((f) => f.startsWith("docs"));
        assert.ok(pages.length >= 10);
        for (const page of pages) assert.ok(fromReadme.has(page), `${page} is not linked from README.md`);
    });

    it("onboarding: the documented key commands make a pair whose public JWK the stack accepts for private_key_jwt", () => {
        const guide = readFileSync(path.join(PROJECT_ROOT, "docs/how-to/add-a-consumer.md"), "utf8");
        const block = [...guide.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]).find((b) => b.includes("openssl genpkey"));
        assert.ok(block, "the guide shows how to make the key pair");
        const dir = mkdtempSync(path.join(tmpdir(), "onboarding-"));
        const run = spawnSync("bash", ["-euo", "pipefail", "-c", block.replace(/^ {3}/gm, "")], { cwd: dir, encoding: "utf8" });
        assert.equal(run.status, 0, run.stderr);
        const jwk = JSON.parse(run.stdout.trim().split("\n").pop() ?? "") as { kid: string; kty: "RSA"; e: string; n: string };
        // The public half of the key the team keeps, and nothing private.
        const pub = createPublicKey(createPrivateKey(readFileSync(path.join(dir, "billing-export.pem")))).export({ format: "jwk" });
        assert.deepEqual(jwk, { kid: "billing-export-2026", kty: "RSA", e: pub.e, n: pub.n });
        // The guide's stack entry, with the key just made in place of its "…", added to dev's consumers
        // as the pull request does: a new name, not one the stack file already has.
        const entryBlock = /```yaml\n([\s\S]*?)```/.exec(guide)?.[1] ?? "";
        const [entry] = parseYaml(entryBlock.replace(/^ {3}/gm, "")) as Record<string, unknown>[];
        entry.jwks = { keys: [jwk] };
        const doc = devDoc();
        assert.ok(!consumers(doc).some((c) => c.name === entry.name), `${String(entry.name)} is already a consumer of Pulumi.dev.yaml`);
        consumers(doc).push(entry);
        const added = load(doc).consumers.find((c) => c.name === entry.name);
        assert.deepEqual(added?.jwks?.[0]?.n, jwk.n, "accepted as the consumer's public key");
        assert.equal(added?.tier, "batch", "with the tier the guide shows");
    });

    it("onboarding: the documented private_key_jwt command, with the key the documented commands made, gets a token Okta's way, and the rehearsal prints the same program", async () => {
        const guide = readFileSync(path.join(PROJECT_ROOT, "docs/how-to/add-a-consumer.md"), "utf8");
        const blocks = [...guide.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1].replace(/^ {3}/gm, ""));
        const keyBlock = blocks.find((b) => b.includes("openssl genpkey"))!;
        const tokenLine = blocks
            .find((b) => b.includes("client_assertion_type"))
            ?.split("\n")
            .find((l) => l.startsWith("TOKEN="));
        assert.ok(tokenLine, "the guide shows the token command");
        assert.ok(tokenLine.includes(`node -e '${PRIVATE_KEY_JWT_TOKEN_JS}'`), "the guide's program is the one the rehearsal prints");
        const dir = mkdtempSync(path.join(tmpdir(), "onboarding-token-"));
        const made = spawnSync("bash", ["-euo", "pipefail", "-c", keyBlock], { cwd: dir, encoding: "utf8" });
        assert.equal(made.status, 0, made.stderr);
        const jwk = JSON.parse(made.stdout.trim().split("\n").pop() ?? "") as JWK;
        const okta = await startLocalOkta({
            audience: "api://products",
            scopes: ["products:read"],
            clients: [
                {
                    clientId: "0oaBillingExport0pkjwt",
                    scopes: ["products:read"],
                    authMethod: "private_key_jwt",
                    jwks: { keys: [{ ...jwk, alg: "RS256", use: "sig" }] },
                },
            ],
            accessTokenFormat: "jwt",
        });
        try {
            // Asynchronously: the authorization server answers from this process.
            const run = (env: Record<string, string>) =>
                new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
                    const child = spawn("bash", ["-euo", "pipefail", "-c", `${tokenLine}\nprintf '%s' "$TOKEN"`], {
                        cwd: dir,
                        env: { ...process.env, OKTA_CLIENT_ID: "0oaBillingExport0pkjwt", OKTA_TOKEN_URL: okta.tokenUrl, OKTA_SCOPE: "products:read", ...env },
                    });
                    let stdout = "";
                    let stderr = "";
                    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
                    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
                    child.on("close", (status) => resolve({ status, stdout, stderr }));
                });
            const got = await run({});
            assert.equal(got.status, 0, got.stderr);
            const claims = decodeJwt(got.stdout);
            assert.equal(claims.cid, "0oaBillingExport0pkjwt");
            assert.equal(claims.scp && (claims.scp as string[]).join(" "), "products:read");
            // Another client id in the same assertion: refused (iss/sub must name the registered client).
            const wrong = await run({ OKTA_CLIENT_ID: "0oaSomeoneElse000001" });
            assert.notEqual(wrong.status, 0);
        } finally {
            await okta.stop();
        }
    });

    it("route rules: the documented example is what the stack accepts, and a matching rule replaces requiredScopes", () => {
        const guide = readFileSync(path.join(PROJECT_ROOT, "docs/how-to/add-a-route-rule.md"), "utf8");
        const block = /```yaml\n([\s\S]*?)```/.exec(guide)?.[1];
        assert.ok(block);
        const gateway = (parseYaml(block) as Record<string, { requiredScopes: string[]; routeRules: unknown[] }>)[`${project}:gateway`];
        const doc = devDoc();
        Object.assign(doc.config[`${project}:gateway`] as object, gateway);
        const cfg = load(doc);
        const rules = compileRules(cfg.gateway?.settings.routeRules);
        const defaults = { scopes: gateway.requiredScopes, match: "all" as const };
        assert.deepEqual(requirementFor(rules, "POST", "/api/products", defaults).scopes, ["products:write"], "replaces requiredScopes, does not add myscope");
        const read = requirementFor(rules, "GET", "/API/Products/", defaults);
        assert.deepEqual([read.scopes, read.match], [["myscope", "products:read"], "any"]);
        assert.deepEqual(requirementFor(rules, "GET", "/health", defaults).scopes, ["myscope"], "no rule: requiredScopes");
    });

    it("migration: the inventory's jq filters read Okta's list answers as the guide says", () => {
        // Okta's answers in the shape of its Management API models (okta-sdk-nodejs jsdocs 7.0.0:
        // AuthorizationServer {id, name, issuer, audiences}, OAuth2Scope {id, name, system},
        // AuthorizationServerPolicy {id, name, status, conditions.clients.include},
        // OpenIdConnectApplication settings.oauthClient.grant_types and
        // credentials.oauthClient.token_endpoint_auth_method). Each filter is run as the guide prints it.
        const answers: [RegExp, unknown[]][] = [
            [
                /authorizationServers\/\$AS\/scopes/,
                [
                    { id: "scp1", name: "myscope", system: false },
                    { id: "scp0", name: "openid", system: true },
                ],
            ],
            [
                /authorizationServers\/\$AS\/policies/,
                [
                    { id: "00p2", name: "products-web", status: "ACTIVE", conditions: { clients: { include: ["0oa1"] } } },
                    { id: "00p1", name: "Default Policy", status: "ACTIVE", conditions: { clients: { include: ["ALL_CLIENTS"] } } },
                ],
            ],
            [/authorizationServers \|/, [{ id: "aus1", name: "Products", issuer: "https://acme.okta.com/oauth2/aus1", audiences: ["api://products"] }]],
            [
                /\/api\/v1\/apps/,
                [
                    {
                        id: "0oa1",
                        label: "Products API",
                        settings: { oauthClient: { grant_types: ["client_credentials"] } },
                        credentials: { oauthClient: { token_endpoint_auth_method: "client_secret_basic" } },
                    },
                    {
                        id: "0oa9",
                        label: "Portal",
                        settings: { oauthClient: { grant_types: ["authorization_code"] } },
                        credentials: { oauthClient: { token_endpoint_auth_method: "client_secret_basic" } },
                    },
                    { id: "0oa8", label: "Bookmark", settings: {} },
                ],
            ],
        ];
        const guide = readFileSync(path.join(PROJECT_ROOT, "docs/how-to/migrate-from-mulesoft.md"), "utf8");
        const outputs = guide
            .split("\n")
            .filter((line) => /curl .*\| jq -r '/.test(line))
            .map((line) => {
                const answer = answers.find(([url]) => url.test(line));
                assert.ok(answer, `no Okta answer for ${line}`);
                const filter = /\| jq -r '([^']*)'/.exec(line)?.[1] ?? "";
                const run = spawnSync("jq", ["-r", filter], { input: JSON.stringify(answer[1]), encoding: "utf8" });
                assert.equal(run.status, 0, `${filter}: ${run.stderr}`);
                return run.stdout.trim();
            });
        assert.deepEqual(outputs, [
            "aus1\tProducts\thttps://acme.okta.com/oauth2/aus1\tapi://products",
            "scp1\tmyscope",
            "00p2\tproducts-web\tACTIVE\t0oa1\n00p1\tDefault Policy\tACTIVE\tALL_CLIENTS",
            "0oa1\tProducts API\tclient_secret_basic",
            "00p1",
        ]);
    });

    it("deploying: the custom-domain lookup prints each domain's id, name and state from Okta's list answer", () => {
        // Okta's GET /api/v1/domains answer (okta-sdk-nodejs 7.0.0 DomainListResponse {domains: DomainResponse[]},
        // DomainResponse {id, domain, validationStatus, certificateSourceType, dnsRecords}).
        const answer = {
            domains: [
                {
                    id: "OcD1acmelogin0000001",
                    domain: "login.acme.example",
                    validationStatus: "VERIFIED",
                    certificateSourceType: "OKTA_MANAGED",
                    dnsRecords: [],
                },
                {
                    id: "OcD1staging000000001",
                    domain: "login.staging.acme.example",
                    validationStatus: "NOT_STARTED",
                    certificateSourceType: "MANUAL",
                    dnsRecords: [],
                },
            ],
        };
        const guide = readFileSync(path.join(PROJECT_ROOT, "docs/deploying.md"), "utf8");
        const line = guide.split("\n").find((l) => /curl .*\/api\/v1\/domains" \| jq -r '/.test(l));
        assert.ok(line, "the guide shows how to find the domain's id");
        const filter = /\| jq -r '([^']*)'/.exec(line)?.[1] ?? "";
        const run = spawnSync("jq", ["-r", filter], { input: JSON.stringify(answer), encoding: "utf8" });
        assert.equal(run.status, 0, run.stderr);
        assert.equal(run.stdout.trim(), "OcD1acmelogin0000001 login.acme.example VERIFIED\nOcD1staging000000001 login.staging.acme.example NOT_STARTED");
    });

    it("migration: the documented adoption stack file is accepted, in the migration phase", () => {
        const guide = readFileSync(path.join(PROJECT_ROOT, "docs/how-to/migrate-from-mulesoft.md"), "utf8");
        const block = /```yaml\n([\s\S]*?)```/.exec(guide)?.[1];
        assert.ok(block);
        const doc = devDoc();
        Object.assign(doc.config, parseYaml(block) as object);
        delete doc.config[`${project}:credentialDelivery`]; // adopted consumers keep their own secrets
        Object.assign(doc.config[`${project}:gateway`] as object, { requiredScopes: ["myscope"], routeRules: [] });
        const cfg = load(doc);
        assert.deepEqual(cfg.authorizationServer, { kind: "existing", id: "aus1a2b3c4d5e6f7g8h9", defaultPolicyDeactivated: false });
        assert.equal(cfg.scopes[0].existingId, "scp1a2b3c4d5e6f7g8h9");
        assert.deepEqual(
            cfg.consumers.map((c) => [c.name, c.existingAppId]),
            [["products-web", "0oa1a2b3c4d5e6f7g8h9"]],
        );
        assert.deepEqual(cfg.credentialDelivery, { method: "none" }, "nothing to deliver: the consumer keeps its secret");
    });
});
