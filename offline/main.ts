// `npm start [-- --stack NAME] [--stack-file PATH] [--port N] …` (`--help`): rehearses the whole stack
// offline from its own declarations. index.ts runs under Pulumi's mock runtime with the stack's
// config; what it declared is loaded into a local authorization server (oidc-provider laid out
// like Okta); the gateway bundle starts with the environment the declared container (or task)
// gets, in front of a sample Products API; and the MuleSoft walkthrough is printed as commands.
import { spawn, type ChildProcess } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { createWriteStream, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { createServer } from "node:net";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { ensureGatewayBundle } from "../components/gatewayBundle";
import { compileRule, requirementFor, type ScopeRequirement } from "../policy-gateway/src/decision/routeRules";
import { planOf, tierOf, type RateLimits } from "../policy-gateway/src/limits/rateLimitPlan";
import { rateLimitPolicyField } from "../policy-gateway/src/limits/rateLimitHeaders";
import { StackConfigError } from "../components/stackConfig/index";
import { declaredGateway, declaredOkta, evaluateAccessPolicies, possibleScopes, type DeclaredClient } from "../harness/declared";
import { startLocalOkta, type LocalOkta } from "../harness/localOkta";
import { startSampleUpstream, type SampleUpstream } from "../harness/sampleUpstream";
import { parse as parseYaml, YAMLParseError } from "yaml";
import { OKTA_ENVIRONMENT_VARIABLES } from "../components/stackConfig/index";
import { untilReady } from "../harness/gatewayProcess";
import { privateKeyJwtTokenCommand } from "../harness/clientAssertion";
import type { JWK } from "jose";
import { fakeOktaId, PROJECT_ROOT, runProgram, standInSecretsFor, valueOf, type RecordedResource } from "../harness/stackHarness";
import { planLines } from "../harness/plan";
import { apisWalkthrough } from "../harness/apisWalkthrough";
import * as pulumi from "@pulumi/pulumi";

const LOOPBACK = "127.0.0.1";
/** The local authorization server's outage switch, for the walkthrough's 503. */
const AWAY_PATH = "/__rehearsal/away";
const DEFAULT_OKTA_PORT = 8090;
const DEFAULT_UPSTREAM_PORT = 3000;

class RehearsalError extends Error {}

function out(line = ""): void {
    process.stdout.write(line + "\n");
}

/** Why a port cannot be ours on one loopback address, or undefined when it is free there (or the address does not exist here). */
async function portProblem(port: number, host: string): Promise<string | undefined> {
    const server = createServer();
    return new Promise((resolve) => {
        server.once("error", (e: NodeJS.ErrnoException) =>
            resolve(e.code === "EADDRINUSE" ? `in use on ${host}` : e.code === "EADDRNOTAVAIL" || e.code === "EAFNOSUPPORT" ? undefined : e.message),
        );
        server.listen({ port, host, ipv6Only: host === "::1" }, () => server.close(() => resolve(undefined)));
    });
}

/**
 * Every port the rehearsal needs, checked before anything starts, on 127.0.0.1 and on [::1]: a
 * process there takes `localhost` from curl (which tries ::1 first) although 127.0.0.1 is free.
 * All the clashes at once, each with the flag that moves it.
 */
async function assertPortsFree(ports: { port: number; what: string; flag: string }[]): Promise<void> {
    const clashes: string[] = [];
    for (const p of ports) {
        const found = (await Promise.all([LOOPBACK, "::1"].map((host) => portProblem(p.port, host)))).filter((x): x is string => x !== undefined);
        if (found.length) clashes.push(`port ${p.port} (${p.what}) is ${found.join(" and ")}; stop what uses it, or pass ${p.flag}`);
    }
    if (clashes.length === 1) throw new RehearsalError(clashes[0]);
    if (clashes.length > 1) throw new RehearsalError(`${clashes.length} ports are taken:\n${clashes.map((c) => `  - ${c}`).join("\n")}`);
}

const HELP = `npm start [-- options]: rehearse a stack offline, from its own declarations

  --stack NAME          the stack whose Pulumi.<NAME>.yaml to rehearse (default: dev)
  --stack-file PATH     rehearse this stack file instead (its stack: NAME of Pulumi.NAME.yaml, else --stack)
  --port N              the gateway's port (default: the stack's gateway.local.port, or its container port)
  --admin-port N        the gateway's admin port (/healthz, /readyz, /metrics)
  --upstream-port N     the sample Products API's port (default: the port of a local gateway.upstreamUrl, else 3000)
  --okta-port N         the local authorization server's port (default: ${DEFAULT_OKTA_PORT})
  --plan                list what \`pulumi up\` would create, by component, with key inputs (secrets
                        masked), the stack's outputs and what each team receives; start nothing
  -h, --help            this text

Nothing reaches Okta, AWS or Pulumi Cloud: the stack's Okta credential and any OKTA_* variable in
the shell are replaced by stand-ins. The gateway's own log goes to a file whose path is printed.
`;

function portOption(values: Record<string, unknown>, name: string): number | undefined {
    const v = values[name];
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw new RehearsalError(`--${name}: must be a port number from 1 to 65535, got ${String(v)}`);
    return n;
}

/** A stack file's YAML, or a one-line error with its file, line and column. */
function checkStackFileYaml(file: string): void {
    try {
        parseYaml(readFileSync(file, "utf8"));
    } catch (e) {
        if (!(e instanceof YAMLParseError)) throw e;
        const at = e.linePos?.[0];
        throw new RehearsalError(
            `${path.basename(file)}${at ? `:${at.line}:${at.col}` : ""}: ${e.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "")}`,
        );
    }
}

function stackFileFor(stack: string, file: string | undefined): string {
    const resolved = path.resolve(file ?? path.join(PROJECT_ROOT, `Pulumi.${stack}.yaml`));
    if (!existsSync(resolved)) {
        const stacks = readdirSync(PROJECT_ROOT)
            .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
            .filter(Boolean);
        throw new RehearsalError(`no stack file ${resolved} (stacks here: ${stacks.join(", ")})`);
    }
    return resolved;
}

/** The sample upstream listens where the declared UPSTREAM_URL points when that is this machine. */
function upstreamPort(declared: string | undefined): number {
    if (!declared || !URL.canParse(declared)) return DEFAULT_UPSTREAM_PORT;
    const u = new URL(declared);
    const local = ["host.docker.internal", "localhost", "127.0.0.1"].includes(u.hostname);
    return local && u.port ? Number(u.port) : DEFAULT_UPSTREAM_PORT;
}

/** What one consumer finds in the stack's `consumerClients` output. */
interface ConsumerOutput {
    clientId: string;
    tokenEndpointAuthMethod: string;
    scopes: string[];
    adopted: boolean;
    credentials: { method: string; location?: string; read?: string };
}

/** What a team receives, as a line per consumer; secrets masked (they are stand-ins here anyway). Pure. */
function deliveryLines(clients: Record<string, ConsumerOutput>): string[] {
    return Object.entries(clients).map(([name, c]) => {
        const secret = c.adopted
            ? " (adopted: it keeps the secret it has)"
            : c.tokenEndpointAuthMethod === "client_secret_basic"
              ? " OKTA_CLIENT_SECRET=********"
              : ` (${c.tokenEndpointAuthMethod}: no secret)`;
        const what = c.credentials.location
            ? `${c.credentials.method === "esc" ? "ESC environment" : "Secrets Manager secret"} ${c.credentials.location} (\`${c.credentials.read}\`): ` +
              `OKTA_CLIENT_ID=${c.clientId}${secret} OKTA_SCOPE="${c.scopes.join(" ")}"`
            : c.adopted
              ? `keeps its app and client id ${c.clientId}, and the secret it already has: nothing is delivered (name readers to deliver its client id and token URL)`
              : c.credentials.method === "private_key_jwt"
                ? `client id ${c.clientId}; signs its token requests with its own private key: nothing secret is delivered (name readers to deliver its client id and token URL)`
                : `client id ${c.clientId}; its secret is in the stack output consumerClientSecrets (credentialDelivery.method stackOutputs)`;
        return `  ${name}  ${what}`;
    });
}

/** `--plan`: what `pulumi preview` would show, and what `pulumi stack output` and each team would get, offline. */
async function printPlan(
    stackName: string,
    stackFile: string,
    resources: RecordedResource[],
    outputs: Record<string, unknown>,
    consumerOutputs: Record<string, ConsumerOutput>,
): Promise<void> {
    const custom = resources.filter((r) => r.custom);
    const count = (v: string) =>
        custom.filter((r) => (v === "read" ? r.read : v === "import" ? r.importId !== undefined : !r.read && r.importId === undefined)).length;
    out(
        `Plan of stack "${stackName}" (${path.basename(stackFile)}), offline: ${count("create")} to create, ${count("import")} to import, ${count("read")} read`,
    );
    for (const line of planLines(resources)) out(line);
    out();
    out(`Outputs (\`pulumi stack output\`; secrets masked):`);
    for (const [name, value] of Object.entries(outputs)) {
        if (typeof value === "function") continue;
        const output = pulumi.output(value);
        const secret = await pulumi.isSecret(output);
        const shown = secret ? "[secret]" : (JSON.stringify(await valueOf(output)) ?? "(not set on this target)");
        out(`  ${name}  ${shown.length > 160 ? `${shown.slice(0, 157)}...` : shown}`);
    }
    out();
    out(`What each team receives from \`pulumi up\` (secrets masked):`);
    for (const line of deliveryLines(consumerOutputs)) out(line);
}

/** The scopes a client should ask for to meet a requirement, if its policies allow it. Pure. */
function scopesFor(requirement: ScopeRequirement, mayHave: string[]): string[] | undefined {
    if (requirement.scopes.length === 0) return mayHave.slice(0, 1);
    if (requirement.match === "any") {
        const one = requirement.scopes.find((s) => mayHave.includes(s));
        return one ? [one] : undefined;
    }
    return requirement.scopes.every((s) => mayHave.includes(s)) ? requirement.scopes : undefined;
}

/**
 * A stand-in key pair for each private_key_jwt consumer: its team keeps the real private key, so
 * the rehearsal makes one, registers its public half beside the declared keys, and writes the
 * private half (PKCS #8 PEM, readable by this user only) where the printed command reads it.
 */
function standInKeys(consumers: readonly DeclaredClient[], dir: string): Map<string, StandInKey> {
    const keys = new Map<string, StandInKey>();
    for (const c of consumers) if (c.authMethod === "private_key_jwt") keys.set(c.clientId, standInKey(c.name, dir));
    return keys;
}

interface StandInKey {
    file: string;
    kid: string;
    /** The public half, as the app registers it. */
    jwk: JWK;
    pem: string;
}

function standInKey(name: string, dir: string): StandInKey {
    const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const kid = `rehearsal-${name}`;
    const file = path.join(dir, `${name}.pem`);
    const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    writeFileSync(file, pem, { mode: 0o600 });
    return { file, kid, pem, jwk: { ...(publicKey.export({ format: "jwk" }) as JWK), kid, alg: "RS256", use: "sig" } };
}

/**
 * The gateway of the AWS target signs its introspection assertions in AWS KMS, which the offline
 * rehearsal cannot reach: it signs with a stand-in key pair instead, which the local server's
 * introspection app trusts beside the declared keys. Undefined when the gateway holds no KMS key.
 */
function kmsStandIn(env: Record<string, string>, dir: string): { env: Record<string, string>; key: StandInKey } | undefined {
    if (!env.INTROSPECTION_CLIENT_KMS_KEY_ARN) return undefined;
    const key = standInKey("introspection-client", dir);
    return { env: { INTROSPECTION_CLIENT_PRIVATE_KEY: key.pem, INTROSPECTION_CLIENT_KEY_ID: key.kid }, key };
}

/** How the gateway's introspection client authenticates: its method, and with a key, which key signs and which keys the app trusts (a rotation shows both). */
function introspectionKeys(client: NonNullable<ReturnType<typeof declaredOkta>["introspectionClient"]>, env: Record<string, string>): string {
    if (client.authMethod !== "private_key_jwt") return client.authMethod;
    const trusted = (client.jwks?.keys ?? []).map((k) => k.kid ?? "?");
    const signing = env.INTROSPECTION_CLIENT_KEY_ID;
    return `private_key_jwt, signing with key ${signing ?? "(the only one)"}; the app trusts key${trusted.length === 1 ? "" : "s"} ${trusted.join(", ")}`;
}

const basicCurl = (c: DeclaredClient, scope: string, tokenUrl: string) =>
    `curl -s -u '${c.clientId}:${c.clientSecret}' -d grant_type=client_credentials -d 'scope=${scope}' ${tokenUrl} | node -pe 'JSON.parse(require("fs").readFileSync(0, "utf8")).access_token'`;

async function main(): Promise<void> {
    let values: Record<string, string | boolean | undefined>;
    try {
        ({ values } = parseArgs({
            options: {
                stack: { type: "string" },
                "stack-file": { type: "string" },
                port: { type: "string" },
                "admin-port": { type: "string" },
                "upstream-port": { type: "string" },
                "okta-port": { type: "string" },
                plan: { type: "boolean" },
                help: { type: "boolean", short: "h" },
            },
            allowPositionals: false,
        }));
    } catch (e) {
        throw new RehearsalError(`${(e as Error).message.split("\n")[0]} (npm start -- --help lists the options)`);
    }
    if (values.help) {
        process.stdout.write(HELP);
        return;
    }
    // A stack file's name says its stack (Pulumi.<stack>.yaml), as the Pulumi CLI reads it; else dev.
    const fileStack = typeof values["stack-file"] === "string" ? /^Pulumi\.(.+)\.yaml$/.exec(path.basename(values["stack-file"]))?.[1] : undefined;
    const stackName = (values.stack as string | undefined) ?? fileStack ?? "dev";
    const stackFile = stackFileFor(stackName, values["stack-file"] as string | undefined);
    checkStackFileYaml(stackFile);
    const oktaPort = portOption(values, "okta-port") ?? DEFAULT_OKTA_PORT;

    // Offline: the provider's environment variables of this shell are not the stack's, and would
    // clash with the stand-in credential ("set only one way of authenticating").
    const ignored = Object.values(OKTA_ENVIRONMENT_VARIABLES).filter((v) => process.env[v] !== undefined);
    for (const v of ignored) delete process.env[v];

    // 1. The stack's real declarations, under the mock runtime.
    const run = await runProgram({ stackName, stackFile, secrets: standInSecretsFor(stackFile) });
    const resources = run.stack.resources;
    const okta = declaredOkta(resources);
    // An adopted app's consumer keeps the secret it has (Okta never returns it): the rehearsal
    // gives the local server a stand-in for it, so the walkthrough can use that consumer too.
    for (const c of okta.consumers) if (c.adopted && !c.clientSecret) c.clientSecret = fakeOktaId("", `existing-secret:${c.clientId}`, 40);
    const consumerOutputs = await valueOf(run.outputs.consumerClients as Record<string, ConsumerOutput>);
    if (values.plan) {
        await printPlan(stackName, stackFile, resources, run.outputs, consumerOutputs);
        return;
    }
    const declaredGw = declaredGateway(resources);
    const portOverride = portOption(values, "port");
    const adminOverride = portOption(values, "admin-port");
    const gateway = declaredGw && { ...declaredGw, port: portOverride ?? declaredGw.port, adminPort: adminOverride ?? declaredGw.adminPort };

    // Every port is checked before anything starts, so a clash leaves nothing running.
    if (gateway && gateway.port === gateway.adminPort)
        throw new RehearsalError(`--port and --admin-port: the gateway's two ports must differ (both ${gateway.port})`);
    const upPort = portOption(values, "upstream-port") ?? upstreamPort(gateway?.settings.upstreamUrl);
    await assertPortsFree([
        ...(gateway
            ? [
                  { port: gateway.port, what: "the gateway", flag: "--port" },
                  { port: gateway.adminPort, what: "the gateway's admin endpoints", flag: "--admin-port" },
              ]
            : []),
        { port: upPort, what: "the sample upstream API", flag: "--upstream-port" },
        { port: oktaPort, what: "the local authorization server", flag: "--okta-port" },
    ]);

    const started: { okta?: LocalOkta; upstream?: SampleUpstream; apiUpstreams: SampleUpstream[]; gateway?: ChildProcess } = { apiUpstreams: [] };
    let gatewayLog: string | undefined;
    const keyDir = mkdtempSync(path.join(tmpdir(), "okta-api-gateway-rehearsal-keys-"));
    let stopping = false;
    const stopAll = async (code: number) => {
        if (stopping) return;
        stopping = true;
        if (started.gateway && started.gateway.exitCode === null) {
            const exited = new Promise((r) => started.gateway?.once("exit", r));
            started.gateway.kill("SIGTERM");
            await exited;
        }
        await started.upstream?.stop();
        for (const u of started.apiUpstreams) await u.stop();
        await started.okta?.stop();
        // The stand-in keys go with the run; the gateway's log stays only when it explains a failure.
        rmSync(keyDir, { recursive: true, force: true });
        if (code === 0 && gatewayLog) rmSync(gatewayLog, { force: true });
        if (code === 0) process.stdout.write("Stopped: the gateway, the sample API and the local authorization server.\n");
        process.exit(code);
    };
    process.on("SIGINT", () => void stopAll(0));
    process.on("SIGTERM", () => void stopAll(0));

    try {
        // 2. The authorization server, loaded with exactly what was declared.
        // What the declared gateway runs with, as the gateway itself decodes it (declaredGateway); without a gateway, introspection as MuleSoft's policy does.
        const validation = gateway?.settings.tokenValidation ?? "introspection";
        const keys = standInKeys(okta.consumers, keyDir);
        const kms = gateway && kmsStandIn(gateway.env, keyDir);
        const introspectionClient = okta.introspectionClient && {
            ...okta.introspectionClient,
            ...(kms ? { jwks: { keys: [...(okta.introspectionClient.jwks?.keys ?? []), kms.key.jwk] } } : {}),
        };
        started.okta = await startLocalOkta({
            authServerId: okta.authServerId,
            audience: okta.audience,
            scopes: okta.scopes,
            clients: okta.consumers.map((c) => {
                const scopes = possibleScopes(okta.policies, c.clientId, okta.scopes);
                const key = keys.get(c.clientId);
                return key
                    ? { clientId: c.clientId, scopes, authMethod: "private_key_jwt" as const, jwks: { keys: [...(c.jwks ?? []), key.jwk] } }
                    : { clientId: c.clientId, scopes, clientSecret: c.clientSecret ?? "" };
            }),
            introspectionClient,
            // As Okta's custom authorization servers do: JWT access tokens, which it also introspects.
            accessTokenFormat: "jwt",
            authorize: (clientId, requested) => {
                const decision = evaluateAccessPolicies(okta.policies, clientId, "client_credentials", requested);
                return decision && { scopes: decision.scopes, ttlSeconds: decision.lifetimeMinutes * 60 };
            },
            port: oktaPort,
            awayPath: AWAY_PATH,
        });
        const issuer = started.okta.issuer;

        // 3. The sample upstream and the gateway bundle with the declared environment.
        started.upstream = await startSampleUpstream(upPort);
        // Several APIs: the first on the sample upstream above, each other one on a sample of its own (a free port).
        const declaredApis = gateway?.settings.apis;
        for (const _ of (declaredApis ?? []).slice(1)) started.apiUpstreams.push(await startSampleUpstream());
        const apiUpstreamUrls = [started.upstream.url, ...started.apiUpstreams.map((u) => u.url)];
        if (gateway) {
            const bundle = ensureGatewayBundle();
            const env: Record<string, string> = {
                ...offlineEnvironment(gateway.env, kms?.env),
                OIDC_ISSUER: issuer,
                ...(declaredApis
                    ? {
                          // Each API's upstream replaced by its sample, its base path kept.
                          APIS: JSON.stringify(
                              declaredApis.map((a, i) => ({ ...a, upstreamUrl: apiUpstreamUrls[i] + new URL(a.upstreamUrl).pathname.replace(/\/$/, "") })),
                          ),
                      }
                    : { UPSTREAM_URL: started.upstream.url }),
                PORT: String(gateway.port),
                ADMIN_PORT: String(gateway.adminPort),
                HOST: LOOPBACK,
                TOKEN_VALIDATION: validation,
            };
            // The gateway's JSON log lines go to a file, so that the walkthrough stays readable.
            gatewayLog = path.join(tmpdir(), `okta-api-gateway-rehearsal-${process.pid}.log`);
            const log = createWriteStream(gatewayLog);
            const child = spawn(process.execPath, [bundle.file], { env: { PATH: process.env.PATH ?? "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
            started.gateway = child;
            child.stdout.pipe(log);
            child.stderr.pipe(log);
            child.once("exit", (code) => {
                if (!stopping) {
                    process.stderr.write(`rehearsal: the gateway exited (${code}); stopping (its log: ${gatewayLog})\n`);
                    void stopAll(1);
                }
            });
            await untilReady(`http://${LOOPBACK}:${gateway.adminPort}`, { timeoutMs: 15_000 }).catch((e: Error) => {
                throw new RehearsalError(`${e.message} (its log: ${gatewayLog})`);
            });
        }

        // 4. The walkthrough, as commands a person can paste.
        const gw = gateway && `http://${LOOPBACK}:${gateway.port}`;
        const rules = (gateway?.settings.routeRules ?? []).map(compileRule);
        const defaults = { scopes: gateway?.settings.requiredScopes ?? [], match: gateway?.settings.scopeMatch ?? "all" };
        const readNeeds = requirementFor(rules, "GET", "/api/products", defaults);
        const writeNeeds = requirementFor(rules, "POST", "/api/products", defaults);
        const mayHave = (c: DeclaredClient) => possibleScopes(okta.policies, c.clientId, okta.scopes);
        const withSecret = okta.consumers.filter((c) => c.clientSecret);
        const first = withSecret.find((c) => scopesFor(readNeeds, mayHave(c)));
        const firstScopes = first && (scopesFor(readNeeds, mayHave(first)) as string[]);
        const writer = withSecret.find((c) => c !== first && scopesFor(writeNeeds, mayHave(c)));
        const firstCannotWrite = firstScopes && writeNeeds.scopes.length > 0 && !scopesFor(writeNeeds, firstScopes);
        const lacking = withSecret.find((c) => !scopesFor(readNeeds, mayHave(c)) && mayHave(c).length);
        const post = (token: string) =>
            `curl -i -X POST -H "Authorization: Bearer $${token}" -H 'content-type: application/json' -d '{"name":"Gadget"}' ${gw}/api/products`;

        out(`Rehearsal of stack "${stackName}" (${path.basename(stackFile)}): ${resources.filter((r) => r.custom).length} resources declared, run offline.`);
        out(`  authorization server  ${issuer}`);
        out(`  token endpoint        ${started.okta.tokenUrl}`);
        if (gateway)
            out(
                `  gateway               ${gw}  (admin http://${LOOPBACK}:${gateway.adminPort}; ${gateway.target} target, ${validation} validation${okta.introspectionClient ? `; introspection client authenticates with ${introspectionKeys(okta.introspectionClient, gateway.env)}${kms ? ` (deployed, AWS KMS signs; here a stand-in key, ${kms.key.kid}, which the app trusts too)` : ""}` : ""})`,
            );
        if (declaredApis)
            declaredApis.forEach((a, i) =>
                out(`  API ${a.name.padEnd(18)}${gw}${a.pathPrefix === "/" ? "" : a.pathPrefix}  → ${apiUpstreamUrls[i]}  (a sample API)`),
            );
        else out(`  upstream              ${started.upstream.url}  (a sample Products API)`);
        if (gatewayLog) out(`  gateway log           ${gatewayLog}  (tail -f it to watch each decision)`);
        if (ignored.length) out(`  ignored               ${ignored.join(", ")} from this shell: the rehearsal is offline and uses a stand-in credential`);
        out(`Consumers, with the rehearsal's stand-in credentials (not real ones):`);
        for (const c of okta.consumers) {
            const key = keys.get(c.clientId);
            const credential = key
                ? `private_key_jwt with the stand-in key ${key.file} (kid ${key.kid}; its declared public keys are registered too)`
                : `client_secret=${c.clientSecret}`;
            const note = c.adopted ? "  (adopted app: a stand-in for the secret it already has)" : "";
            out(`  ${c.name}  client_id=${c.clientId}  ${credential}  scopes=${mayHave(c).join(",")}${note}`);
        }
        for (const line of rateLimitLines(gateway?.settings.rateLimits, okta.consumers, gateway?.env)) out(line);
        out(`What each team receives from \`pulumi up\` (stack output consumerClients; secrets masked):`);
        for (const line of deliveryLines(consumerOutputs)) out(line);
        out();
        let step = 0;
        const say = (what: string) => out(`${++step}. ${what}`);
        say(`The authorization server's metadata:`);
        out(`$ curl -s ${started.okta.metadataUrl}`);
        if (gw && declaredApis) {
            for (const s of apisWalkthrough({
                apis: declaredApis,
                consumers: withSecret,
                mayHave,
                scopesFor,
                tokenCommand: (c, scope) => basicCurl(c, scope, started.okta?.tokenUrl ?? ""),
                gatewayUrl: gw,
            })) {
                say(s.say);
                for (const c of s.commands) out(`$ ${c}`);
            }
        } else if (!first || !firstScopes) {
            out(`(no consumer with a client secret may ask for ${readNeeds.scopes.join(readNeeds.match === "any" ? " or " : " ")}: nothing more to show)`);
        } else {
            say(`A token for ${first.name}, client credentials grant, scope=${firstScopes.join(" ")}:`);
            out(`$ TOKEN=$(${basicCurl(first, firstScopes.join(" "), started.okta.tokenUrl)})`);
            if (gw) {
                say(`No token: 400 "Access token was not provided":`);
                out(`$ curl -i ${gw}/api/products`);
                say(`The token as a Bearer header: 200`);
                out(`$ curl -i -H "Authorization: Bearer $TOKEN" ${gw}/api/products`);
                say(`The token as the access_token query parameter: 200`);
                out(`$ curl -i "${gw}/api/products?access_token=$TOKEN"`);
                if (firstCannotWrite) {
                    say(
                        `A write with that token: 403, the route rule for writes needs ${writeNeeds.scopes.join(writeNeeds.match === "any" ? " or " : " ")} (instead of requiredScopes)`,
                    );
                    out(`$ ${post("TOKEN")}`);
                    if (writer) {
                        const its = scopesFor(writeNeeds, mayHave(writer)) as string[];
                        say(`A token for ${writer.name}, which may write: 200`);
                        out(`$ WRITER=$(${basicCurl(writer, its.join(" "), started.okta.tokenUrl)})`);
                        out(`$ ${post("WRITER")}`);
                    }
                } else if (lacking) {
                    say(`A token for ${lacking.name}, which may not have ${readNeeds.scopes.join(" ")}: 403`);
                    out(`$ OTHER=$(${basicCurl(lacking, mayHave(lacking).join(" "), started.okta.tokenUrl)})`);
                    out(`$ curl -i -H "Authorization: Bearer $OTHER" ${gw}/api/products`);
                }
                const signer = okta.consumers.find((c) => keys.has(c.clientId) && scopesFor(readNeeds, mayHave(c)));
                if (signer) {
                    const key = keys.get(signer.clientId)!;
                    const its = scopesFor(readNeeds, mayHave(signer)) as string[];
                    say(
                        `A token for ${signer.name} by private_key_jwt (the recommended method: no secret exists): a client assertion signed with its key, then a call: 200`,
                    );
                    out(
                        `$ SIGNED=$(${privateKeyJwtTokenCommand({ keyFile: key.file, clientId: signer.clientId, tokenUrl: started.okta.tokenUrl, scope: its.join(" "), kid: key.kid })})`,
                    );
                    out(`$ curl -i -H "Authorization: Bearer $SIGNED" ${gw}/api/products`);
                }
                const limit = rateLimitStep(gateway?.settings.rateLimits, first.clientId, `${gw}/api/products`);
                if (limit) {
                    say(`${first.name}'s rate limit, ${limit.describe}: past it, 429 with Retry-After and the RateLimit fields`);
                    out(`$ ${limit.command}`);
                }
                // With jwt the gateway needs nothing from the server for a token (its keys are cached): no 503 to show.
                if (validation !== "jwt") {
                    say(
                        `The authorization server away for 20 s: a token the gateway has not verified yet gets 503 with Retry-After (it fails closed; tokens it holds a verdict for still pass)`,
                    );
                    out(`$ FRESH=$(${basicCurl(first, firstScopes.join(" "), started.okta.tokenUrl)})`);
                    out(`$ curl -s -X POST 'http://${LOOPBACK}:${oktaPort}${AWAY_PATH}?seconds=20'`);
                    out(`$ curl -i -H "Authorization: Bearer $FRESH" ${gw}/api/products`);
                }
            }
        }
        out();
        out(`Running until Ctrl-C.`);
    } catch (e) {
        process.stderr.write(`rehearsal: ${(e as Error).message}\n`);
        await stopAll(1);
    }
}

/**
 * The declared environment, as the one offline gateway can run it. It holds the declared limits
 * itself, exactly: a stack whose tasks share them through a store (the AWS target) would otherwise
 * run on the share a task keeps when the store is down (limit ÷ RATE_LIMIT_TASKS), 13 of a
 * declared burst of 100. And it signs with the stand-in key instead of AWS KMS, when given one.
 */
function offlineEnvironment(declared: Record<string, string>, signingKey: Record<string, string> | undefined): Record<string, string> {
    const { RATE_LIMIT_STORE_URL: _store, INTROSPECTION_CLIENT_KMS_KEY_ARN: kmsKeyArn, ...env } = declared;
    return {
        ...env,
        ...(env.RATE_LIMITS ? { RATE_LIMIT_STORE: "local", RATE_LIMIT_TASKS: "1" } : {}),
        ...(signingKey ?? (kmsKeyArn ? { INTROSPECTION_CLIENT_KMS_KEY_ARN: kmsKeyArn } : {})),
    };
}

/** The declared tiers with their numbers, who each one limits, and how the rehearsal holds them. */
function rateLimitLines(limits: RateLimits | undefined, consumers: readonly DeclaredClient[], env: Record<string, string> | undefined): string[] {
    if (!limits) return [];
    const plan = planOf(limits);
    const tasks = Number(env?.RATE_LIMIT_TASKS ?? 1);
    const how =
        env?.RATE_LIMIT_STORE === "shared"
            ? `held exactly by this one gateway; deployed, its ${tasks} tasks share them through the store, and each holds 1/${tasks} while the store is down`
            : "held exactly by this one gateway, as by each deployed container";
    return [
        `Rate limits (${how}):`,
        ...[...plan.tiers].map(([tier, policies]) => {
            const who = consumers.filter((c) => tierOf(plan, c.clientId) === tier).map((c) => c.name);
            return `  ${tier}  ${rateLimitPolicyField(policies)}  ${who.length ? who.join(", ") : "(no consumer)"}`;
        }),
    ];
}

/**
 * The walkthrough's rate-limit step for a consumer: its tier, and one command that calls until the
 * first refusal, printing each status, then that refusal's headers (its own, not a later call's,
 * which the bucket may have refilled for). Undefined when the consumer is not limited, or its
 * limit is too high to show with a loop of curls.
 */
function rateLimitStep(rateLimits: RateLimits | undefined, clientId: string, url: string): { describe: string; command: string } | undefined {
    if (!rateLimits) return undefined;
    const plan = planOf(rateLimits);
    const tier = tierOf(plan, clientId);
    const policies = tier === undefined ? undefined : plan.tiers.get(tier);
    if (!tier || !policies) return undefined;
    const describe = `tier ${tier} (${rateLimitPolicyField(policies)})`;
    // A loop of curls (about 50 a second) outruns a bucket refilled at up to 10/s; it stops at the
    // first 429, and its bound leaves room for the refill while curl runs.
    if (policies.every((p) => p.limit / p.windowSeconds <= 10)) {
        const requests = Math.min(...policies.map((p) => Math.ceil(p.burst * 3) + 10));
        return {
            describe,
            command:
                `for i in $(seq 1 ${requests}); do h=$(curl -s -D - -o /dev/null -H "Authorization: Bearer $TOKEN" ${url}); ` +
                `s=$(echo "$h" | head -1 | cut -d' ' -f2); printf '%s ' "$s"; ` +
                `if [ "$s" = 429 ]; then echo; echo "$h" | grep -iE '^(HTTP/|retry-after|ratelimit)'; break; fi; done`,
        };
    }
    // A faster tier: a burst and a half of requests from 16 keep-alive connections (fewer than the
    // consumer's in-flight bound), counted by status, then the first 429's fields.
    const burst = Math.min(...policies.map((p) => p.burst));
    const requests = Math.ceil(burst * 1.5) + 10;
    const program =
        `const [u,t,n]=process.argv.slice(1);let i=0,first;const c={};` +
        `const w=async()=>{while(i++<n){const r=await fetch(u,{headers:{authorization:"Bearer "+t}});await r.arrayBuffer();c[r.status]=(c[r.status]||0)+1;if(r.status===429&&!first)first=r}};` +
        `Promise.all(Array.from({length:16},w)).then(()=>{console.log(Object.entries(c).map(([s,k])=>s+" x"+k).join(", "));` +
        `if(first)for(const h of["retry-after","ratelimit-policy","ratelimit"])console.log(h+": "+first.headers.get(h))})`;
    return { describe, command: `node -e '${program}' ${url} "$TOKEN" ${requests}` };
}

main().catch((e: unknown) => {
    const message = e instanceof StackConfigError || e instanceof RehearsalError ? e.message : e instanceof Error ? (e.stack ?? e.message) : String(e);
    process.stderr.write(`rehearsal: ${message}\n`);
    process.exit(1);
});
