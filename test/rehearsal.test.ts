// `npm start`: the offline rehearsal of the whole stack, run as a person would, and its pure parts.
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo, type Server } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { parse as parseYaml, stringify } from "yaml";
import { evaluateAccessPolicies, possibleScopes, type DeclaredPolicy } from "../harness/declared";
import { PROJECT_ROOT } from "../harness/stackHarness";

describe("Okta's access policy evaluation, as the rehearsal applies it", () => {
    const rule = (priority: number, scopes: string[], lifetimeMinutes = 60, grantTypes = ["client_credentials"]) => ({
        priority,
        scopes,
        lifetimeMinutes,
        grantTypes,
    });
    const policies: DeclaredPolicy[] = [
        { name: "a", priority: 1, clients: ["0oaA"], rules: [rule(1, ["read"], 15), rule(2, ["read", "write"], 30)] },
        { name: "all", priority: 2, clients: ["ALL_CLIENTS"], rules: [rule(1, ["public"], 5)] },
        { name: "b", priority: 3, clients: ["0oaB"], rules: [rule(1, ["*"], 10, ["authorization_code"])] },
    ];
    it("takes the first rule, by priority, that covers every requested scope", () => {
        assert.deepEqual(evaluateAccessPolicies(policies, "0oaA", "client_credentials", ["read"]), { scopes: ["read"], lifetimeMinutes: 15 });
        assert.deepEqual(evaluateAccessPolicies(policies, "0oaA", "client_credentials", ["read", "write"]), { scopes: ["read", "write"], lifetimeMinutes: 30 });
    });
    it("moves on to the next policy, and applies ALL_CLIENTS policies to everyone", () => {
        assert.deepEqual(evaluateAccessPolicies(policies, "0oaA", "client_credentials", ["public"]), { scopes: ["public"], lifetimeMinutes: 5 });
        assert.deepEqual(evaluateAccessPolicies(policies, "0oaZ", "client_credentials", ["public"]), { scopes: ["public"], lifetimeMinutes: 5 });
    });
    it("refuses when no rule matches the grant type and every scope", () => {
        assert.equal(evaluateAccessPolicies(policies, "0oaA", "client_credentials", ["read", "admin"]), undefined);
        assert.equal(evaluateAccessPolicies(policies, "0oaB", "client_credentials", ["read"]), undefined, "its * rule is for another grant type");
        assert.equal(evaluateAccessPolicies(policies, "0oaB", "authorization_code", ["read"])?.lifetimeMinutes, 10);
    });
    it("lists what a client may ever ask for", () => {
        assert.deepEqual(possibleScopes(policies, "0oaA", ["read", "write", "public", "admin"]), ["read", "write", "public"]);
        assert.deepEqual(possibleScopes(policies, "0oaB", ["read", "admin"]), ["read", "admin"]);
    });
});

interface Rehearsal {
    child: ChildProcess;
    stdout: () => string;
    stderr: () => string;
    exited: Promise<number | null>;
    /** The ports it was told to use: free ones, never the defaults a developer's machine may have taken. */
    ports: RehearsalPorts;
}

interface RehearsalPorts {
    gateway: number;
    admin: number;
    okta: number;
    upstream: number;
}

/** Four free loopback ports, held open together so that no two are the same. */
async function freeRehearsalPorts(): Promise<RehearsalPorts> {
    const servers = [createServer(), createServer(), createServer(), createServer()];
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve))));
    const [gateway, admin, okta, upstream] = servers.map((s) => (s.address() as AddressInfo).port);
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    return { gateway, admin, okta, upstream };
}

const portArgs = (p: RehearsalPorts) => [
    "--port",
    String(p.gateway),
    "--admin-port",
    String(p.admin),
    "--okta-port",
    String(p.okta),
    "--upstream-port",
    String(p.upstream),
];

/** `npm start` with `args`, on free ports (`npm test` must pass with 3000, 8080, 8090 and 9090 taken). */
async function startRehearsal(args: string[], env: NodeJS.ProcessEnv = {}, ports?: RehearsalPorts): Promise<Rehearsal> {
    const chosen = ports ?? (await freeRehearsalPorts());
    return spawnRehearsal([...args, ...portArgs(chosen)], env, chosen);
}

function spawnRehearsal(args: string[], env: NodeJS.ProcessEnv, ports: RehearsalPorts): Rehearsal {
    const child = spawn(process.execPath, ["--import", "tsx", path.join(PROJECT_ROOT, "offline/main.ts"), ...args], {
        cwd: PROJECT_ROOT,
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    return { child, stdout: () => stdout, stderr: () => stderr, exited, ports };
}

const portsOf = (r: Rehearsal) => [r.ports.gateway, r.ports.admin, r.ports.okta, r.ports.upstream];

async function untilRunning(r: Rehearsal): Promise<void> {
    const deadline = Date.now() + 60_000;
    while (!r.stdout().includes("Running until Ctrl-C.")) {
        if (r.child.exitCode !== null) throw new Error(`rehearsal exited ${r.child.exitCode}: ${r.stderr()}`);
        if (Date.now() > deadline) throw new Error(`rehearsal did not start: ${r.stderr()}`);
        await new Promise((res) => setTimeout(res, 100));
    }
}

async function stop(r: Rehearsal): Promise<number | null> {
    r.child.kill("SIGINT");
    return r.exited;
}

async function listening(port: number): Promise<boolean> {
    const server: Server = createServer();
    return new Promise((resolve) => {
        server.once("error", () => resolve(true));
        server.listen(port, "127.0.0.1", () => server.close(() => resolve(false)));
    });
}

function tempStack(mutate: (config: Record<string, unknown>) => void): string {
    const doc = parseYaml(readFileSync(path.join(PROJECT_ROOT, "Pulumi.dev.yaml"), "utf8")) as { config: Record<string, unknown> };
    mutate(doc.config);
    const file = path.join(mkdtempSync(path.join(tmpdir(), "rehearse-")), "Pulumi.dev.yaml");
    writeFileSync(file, stringify(doc));
    return file;
}

/** Replays the printed walkthrough exactly as printed and checks each status it announces. */
function replaysWalkthrough(r: Rehearsal): void {
    const commands = r
        .stdout()
        .split("\n")
        .filter((l) => l.startsWith("$ "))
        .map((l) => l.slice(2));
    // With introspection or hybrid, an outage of the authorization server ends the walkthrough (3 more commands).
    const outage = r.stdout().includes("The authorization server away for 20 s");
    assert.equal(commands.length, outage ? 14 : 11, r.stdout());
    // Replayed exactly as printed, in one shell so that $TOKEN carries over.
    const script = commands.map((c, i) => `printf '\\n@@%d\\n' ${i}; ${c}`).join("\n");
    const replay = spawnSync("bash", ["-c", script], { encoding: "utf8", timeout: 30_000 });
    const steps = replay.stdout.split(/\n@@\d+\n/).slice(1);
    assert.equal(steps.length, outage ? 14 : 11, replay.stdout + replay.stderr);
    const status = (s: string) => Number(/^HTTP\/1\.1 (\d{3})/m.exec(s)?.[1]);
    const metadata = JSON.parse(steps[0]) as { issuer: string; token_endpoint: string };
    assert.match(metadata.issuer, new RegExp(`^http://127\\.0\\.0\\.1:${r.ports.okta}/oauth2/aus[A-Za-z0-9]+$`));
    assert.equal(metadata.token_endpoint, `${metadata.issuer}/v1/token`);
    assert.equal(status(steps[2]), 400);
    assert.match(steps[2], /\{"error":"Access token was not provided"\}/);
    assert.equal(status(steps[3]), 200, steps[3]);
    assert.match(steps[3], /"products"/, "the sample Products API answered");
    assert.equal(status(steps[4]), 200);
    // The walkthrough's writes (POST /api/products) are protected by Pulumi.dev.yaml's route rule:
    // a token without products:write is refused, one with it gets through.
    assert.equal(status(steps[5]), 403, steps[5]);
    assert.match(steps[5], /insufficient_scope/);
    assert.match(steps[5], /scope="products:write"/);
    assert.equal(status(steps[7]), 200, steps[7]);
    // reporting (private_key_jwt) signs a client assertion with its stand-in key and is served.
    assert.match(r.stdout(), /\d+\. A token for reporting by private_key_jwt/);
    assert.equal(status(steps[9]), 200, steps[9]);
    // The stack's tier for products-web (standard: a bucket of 10, 5/s): the loop spends it, then
    // the gateway refuses with the declared policy and when to retry.
    const [codes, refused] = [steps[10].split("\n")[0].trim().split(" "), steps[10]];
    // 200s until the bucket is spent (10, less what the walkthrough spent, plus what refilled meanwhile), then the 429.
    assert.ok(codes.length >= 6 && codes.slice(0, -1).every((c) => c === "200") && codes.at(-1) === "429", codes.join(" "));
    assert.equal(status(refused), 429, refused);
    assert.match(refused, /^retry-after: [1-9]\d*\r?$/im);
    assert.match(refused, /^ratelimit-policy: "standard-per-second";q=10;w=2, "standard-per-minute";q=120;w=60\r?$/im);
    assert.match(refused, /^ratelimit: "standard-per-second";r=0;t=\d+\r?$/im);
    if (outage) {
        assert.match(steps[12], /^away for 20 s/);
        assert.equal(status(steps[13]), 503, steps[13]);
        assert.match(steps[13], /^retry-after: [1-9]\d*\r?$/im);
        assert.match(steps[13], /"error":"temporarily_unavailable"/);
    }
}

/** Rehearses, replays the printed walkthrough, and stops with Ctrl-C, which must exit 0. */
async function rehearseAndReplay(args: string[], env: NodeJS.ProcessEnv = {}, alsoCheck: (r: Rehearsal) => void = () => {}): Promise<Rehearsal> {
    const r = await startRehearsal(args, env);
    try {
        await untilRunning(r);
        alsoCheck(r);
        replaysWalkthrough(r);
    } finally {
        assert.equal(await stop(r), 0);
    }
    return r;
}

describe("npm start", () => {
    it("rehearses Pulumi.dev.yaml: the printed walkthrough replays with the statuses it announces, and Ctrl-C stops everything", async () => {
        const r = await rehearseAndReplay(["--stack", "dev"]);
        for (const port of portsOf(r)) assert.equal(await listening(port), false, `port ${port} still in use after Ctrl-C`);
    });

    for (const validation of ["jwt", "hybrid"] as const) {
        it(`rehearses gateway.tokenValidation=${validation} with the JWT access tokens Okta issues: the walkthrough replays with the same statuses`, async () => {
            const file = tempStack((config) => {
                (config["okta-api-gateway:gateway"] as Record<string, unknown>).tokenValidation = validation;
                // jwt introspects nothing: the stack declares no introspection client, and refuses its key.
                if (validation === "jwt") delete config["okta-api-gateway:introspectionClient"];
            });
            await rehearseAndReplay(["--stack", "dev", "--stack-file", file], {}, (r) => assert.match(r.stdout(), new RegExp(`${validation} validation`)));
        });
    }

    it("rehearses Pulumi.prod.yaml (AWS target): a stand-in for the KMS signing key, and the declared limits held exactly, not a task's fallback share", async () => {
        const r = await startRehearsal(["--stack", "prod"]);
        try {
            await untilRunning(r);
            const out = r.stdout();
            assert.match(out, /AWS KMS signs; here a stand-in key, rehearsal-introspection-client, which the app trusts too/);
            assert.match(out, /Rate limits \(held exactly by this one gateway; deployed, its 8 tasks share them through the store/);
            assert.match(out, /\n {2}standard {2}"standard-per-second";q=100;w=2, "standard-per-minute";q=2000;w=60 {2}products-web\n/);
            assert.match(out, /\n {2}batch {2}"batch-per-second";q=400;w=2 {2}inventory-sync\n/);
            const commands = out
                .split("\n")
                .filter((l) => l.startsWith("$ "))
                .map((l) => l.slice(2));
            const pick = (start: string) => commands.find((c) => c.startsWith(start))!;
            const script = [
                pick("TOKEN="),
                `curl -s -o /dev/null -w '%{http_code}\\n' -H "Authorization: Bearer $TOKEN" http://127.0.0.1:${r.ports.gateway}/api/products`,
                pick("node -e"),
            ].join("\n");
            const replay = spawnSync("bash", ["-c", script], { encoding: "utf8", timeout: 30_000 });
            const [bearer, counts, ...fields] = replay.stdout.trim().split("\n");
            assert.equal(bearer, "200", `the introspection client signs with the stand-in: ${replay.stdout}${replay.stderr}`);
            const allowed = Number(/200 x(\d+)/.exec(counts)?.[1] ?? 0);
            const refused = Number(/429 x(\d+)/.exec(counts)?.[1] ?? 0);
            // A burst of 100, plus what 50/s refills while the requests run; before, a task's share was 13.
            assert.ok(allowed >= 100 && allowed < 150 && refused > 0, counts);
            assert.ok(fields.includes(`ratelimit-policy: "standard-per-second";q=100;w=2, "standard-per-minute";q=2000;w=60`), fields.join("\n"));
        } finally {
            assert.equal(await stop(r), 0);
        }
    });

    it("rehearses two APIs behind one gateway (examples/Pulumi.two-apis.yaml): each step gets the status it announces, and each consumer reaches exactly the APIs it is declared for", async () => {
        const file = path.join(PROJECT_ROOT, "examples/Pulumi.two-apis.yaml");
        const r = await startRehearsal(["--stack-file", file]);
        try {
            await untilRunning(r);
            const out = r.stdout();
            assert.match(out, /Rehearsal of stack "two-apis"/);
            // The printed walkthrough, replayed as printed in one shell; every step that announces a status gets it.
            const steps = out.split("\n").reduce<{ say: string; commands: string[] }[]>((acc, line) => {
                if (/^\d+\. /.test(line)) acc.push({ say: line, commands: [] });
                else if (line.startsWith("$ ")) acc.at(-1)?.commands.push(line.slice(2));
                return acc;
            }, []);
            const commands = steps.flatMap((st, i) => st.commands.map((c) => ({ step: i, c })));
            const script = commands.map(({ c }, i) => `printf '\\n@@%d\\n' ${i}; ${c}`).join("\n");
            const replay = spawnSync("bash", ["-c", script], { encoding: "utf8", timeout: 30_000 });
            const outputs = replay.stdout.split(/\n@@\d+\n/).slice(1);
            const announced = steps.flatMap((st, i) => {
                const m = /: (\d{3})$/.exec(st.say);
                return m ? [{ say: st.say, status: Number(m[1]), last: commands.findLastIndex((c) => c.step === i) }] : [];
            });
            assert.deepEqual(
                announced.map((a) => a.status),
                [200, 200, 403, 404],
                out,
            );
            for (const a of announced) assert.equal(Number(/^HTTP\/1\.1 (\d{3})/m.exec(outputs[a.last])?.[1]), a.status, `${a.say}\n${outputs[a.last]}`);

            // Every consumer with a secret against every API, expected from the stack file itself.
            const doc = parseYaml(readFileSync(file, "utf8")) as { config: Record<string, unknown> };
            const declared = doc.config["okta-api-gateway:consumers"] as { name: string; scopes: string[] }[];
            const apis = (
                doc.config["okta-api-gateway:gateway"] as { apis: { name: string; pathPrefix: string; requiredScopes: string[]; consumers?: string[] }[] }
            ).apis;
            const tokenUrl = /token endpoint +(\S+)/.exec(out)?.[1];
            let checked = 0;
            for (const line of out.split("\n")) {
                const c = /^ {2}(\S+) {2}client_id=(\S+) {2}client_secret=(\S+) {2}scopes=(\S+)/.exec(line);
                if (!c) continue;
                const [, name, id, secret, scopes] = c;
                for (const api of apis) {
                    const expected =
                        (api.consumers ?? declared.map((d) => d.name)).includes(name) && api.requiredScopes.every((s) => scopes.split(",").includes(s))
                            ? 200
                            : 403;
                    const call = spawnSync(
                        "bash",
                        [
                            "-c",
                            `T=$(curl -s -u '${id}:${secret}' -d grant_type=client_credentials -d 'scope=${scopes.replaceAll(",", " ")}' ${tokenUrl} | node -pe 'JSON.parse(require("fs").readFileSync(0, "utf8")).access_token'); ` +
                                `curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $T" http://127.0.0.1:${r.ports.gateway}${api.pathPrefix}/7`,
                        ],
                        { encoding: "utf8", timeout: 15_000 },
                    );
                    assert.equal(Number(call.stdout), expected, `${name} on API ${api.name}`);
                    checked++;
                }
            }
            assert.equal(checked, 4, "products-web and inventory-sync, on both APIs");
        } finally {
            assert.equal(await stop(r), 0);
        }
    });

    it("--plan lists what `pulumi up` would create, by component, with key inputs and secrets masked, the outputs and what each team receives, and starts nothing", async () => {
        for (const stack of ["dev", "prod"]) {
            const r = await startRehearsal(["--stack", stack, "--plan"]);
            assert.equal(await r.exited, 0, r.stderr());
            const out = r.stdout();
            assert.match(out, new RegExp(`^Plan of stack "${stack}" \\(Pulumi\\.${stack}\\.yaml\\), offline: \\d+ to create, \\d+ to import, \\d+ read\\n`));
            assert.match(out, /\n {2}okta-api-gateway:okta:ConsumerApp {2}inventory-sync\n {4}create okta:app\/oAuth:OAuth {2}inventory-sync-app/);
            assert.match(out, /create okta:auth\/serverPolicyRule:ServerPolicyRule {2}access-inventory-sync-rule/);
            assert.match(out, /\nOutputs \(`pulumi stack output`; secrets masked\):\n[\s\S]* {2}tokenUrl {2}"https:\/\/[^"]+\/v1\/token"/);
            assert.match(out, /\nWhat each team receives from `pulumi up` \(secrets masked\):\n {2}products-web /);
            assert.doesNotMatch(out, /BEGIN [A-Z ]*PRIVATE KEY|Running until Ctrl-C/);
            if (stack === "dev") {
                assert.match(
                    out,
                    /create docker:index\/container:Container {2}gateway-container\n.*envs=\[secret\]/,
                    "the container's environment holds the key: masked",
                );
                assert.match(out, / {2}gatewayUrl {2}\(not set on this target\)\n[\s\S]* {2}localGatewayUrl {2}"http:\/\/localhost:8080"/);
            } else assert.match(out, /create aws:ecs\/service:Service/);
            for (const port of portsOf(r)) assert.equal(await listening(port), false, "nothing started");
        }
    });

    it("loads each consumer's declared scopes: removing one from the stack file refuses the token for it", async () => {
        const file = tempStack((config) => {
            const consumers = config["okta-api-gateway:consumers"] as { name: string; scopes: string[] }[];
            consumers[0].scopes = ["products:read"]; // products-web loses myscope
        });
        const r = await startRehearsal(["--stack", "dev", "--stack-file", file]);
        try {
            await untilRunning(r);
            const line = r
                .stdout()
                .split("\n")
                .find((l) => l.trim().startsWith("products-web "));
            const [, id, secret] = /client_id=(\S+)\s+client_secret=(\S+)/.exec(line ?? "") ?? [];
            const tokenUrl = /token endpoint\s+(\S+)/.exec(r.stdout())?.[1];
            assert.ok(id && secret && tokenUrl, r.stdout());
            const ask = (scope: string) =>
                fetch(tokenUrl, {
                    method: "POST",
                    headers: {
                        authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString("base64")}`,
                        "content-type": "application/x-www-form-urlencoded",
                    },
                    body: `grant_type=client_credentials&scope=${encodeURIComponent(scope)}`,
                });
            const refused = await ask("myscope");
            assert.equal(refused.status, 400);
            assert.match(((await refused.json()) as { error: string }).error, /invalid_scope|access_denied/);
            assert.equal((await ask("products:read")).status, 200, "the scope it kept still works");
            // GET /api/products takes myscope or products:read (match any): the walkthrough uses the one it kept.
            assert.match(r.stdout(), /2\. A token for products-web, client credentials grant, scope=products:read/);
        } finally {
            assert.equal(await stop(r), 0);
        }
    });

    it("registers a private_key_jwt consumer as Okta does (no secret; its declared keys and a stand-in key), and removes the stand-in key and the log at Ctrl-C", async () => {
        const r = await startRehearsal(["--stack", "dev"]);
        let keyFile = "";
        let logFile = "";
        try {
            await untilRunning(r);
            const out = r.stdout();
            const line = out.split("\n").find((l) => l.trim().startsWith("reporting "));
            const [, id, file] =
                /client_id=(\S+)\s+private_key_jwt with the stand-in key (\S+\.pem) \(kid rehearsal-reporting; its declared public keys are registered too\)/.exec(
                    line ?? "",
                ) ?? [];
            assert.ok(id && file, out);
            keyFile = file;
            logFile = /gateway log\s+(\S+)/.exec(out)?.[1] ?? "";
            assert.equal(statSync(keyFile).mode & 0o777, 0o600, "the stand-in private key is readable by this user only");
            const tokenUrl = /token endpoint\s+(\S+)/.exec(out)?.[1] ?? "";
            // client_secret_basic is refused: the app has no secret, as in Okta.
            const basic = await fetch(tokenUrl, {
                method: "POST",
                headers: {
                    authorization: `Basic ${Buffer.from(`${id}:a-guessed-secret`).toString("base64")}`,
                    "content-type": "application/x-www-form-urlencoded",
                },
                body: "grant_type=client_credentials&scope=products%3Aread",
            });
            const refusal = (await basic.json()) as { error: string };
            assert.equal(refusal.error, "invalid_client", `${basic.status} ${JSON.stringify(refusal)}`);
            // The printed command, as printed, gets a token; an assertion for another audience does not.
            const command = out
                .split("\n")
                .find((l) => l.startsWith("$ SIGNED="))!
                .slice("$ SIGNED=$(".length, -1);
            const got = spawnSync("bash", ["-c", command], { encoding: "utf8", timeout: 15_000 });
            assert.equal(got.status, 0, got.stderr);
            assert.match(got.stdout.trim(), /^[\w-]+\.[\w-]+\.[\w-]+$/);
            // Signed with a key the app does not list: refused.
            const otherKey = path.join(mkdtempSync(path.join(tmpdir(), "other-key-")), "other.pem");
            writeFileSync(otherKey, generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" }));
            const forged = spawnSync("bash", ["-c", command.replace(keyFile, otherKey)], { encoding: "utf8", timeout: 15_000 });
            assert.notEqual(forged.status, 0);
            assert.match(forged.stderr, /invalid_client/);
        } finally {
            assert.equal(await stop(r), 0);
        }
        assert.match(r.stdout(), /Stopped: the gateway, the sample API and the local authorization server\.\n$/);
        assert.equal(existsSync(keyFile), false, "the stand-in key is removed");
        assert.equal(existsSync(logFile), false, "the gateway's log is removed after a clean stop");
    });

    it("shows the adopted consumer and what each team receives, with no secret but the stand-ins for curl", async () => {
        const r = await startRehearsal(["--stack", "dev"]);
        try {
            await untilRunning(r);
            const out = r.stdout();
            assert.match(out, /products-web {2}client_id=0oa8products0web01 .*\(adopted app: a stand-in for the secret it already has\)/);
            const received = out.slice(out.indexOf("What each team receives"), out.indexOf("1. The authorization server"));
            assert.match(received, /products-web {2}keeps its app and client id 0oa8products0web01, and the secret it already has: nothing is delivered/);
            assert.match(received, /inventory-sync {2}ESC environment acme\/products-api-consumers\/inventory-sync-dev .*OKTA_CLIENT_SECRET=\*{8}/);
            assert.match(
                received,
                /reporting {2}ESC environment acme\/products-api-consumers\/reporting-dev \(`esc env open [^`]+`\): OKTA_CLIENT_ID=\S+ \(private_key_jwt: no secret\) OKTA_SCOPE="products:read"/,
            );
            const secrets = [...out.matchAll(/client_secret=(\S{32,})/g)].map((m) => m[1]);
            assert.equal(secrets.length, 2);
            for (const secret of secrets) assert.ok(!received.includes(secret), "masked in what the teams receive");
        } finally {
            assert.equal(await stop(r), 0);
        }
    });

    it("runs with the default ports 3000, 8080, 8090 and 9090 taken by other processes, as on many developers' machines", async () => {
        const blockers = await Promise.all(
            [3000, 8080, 8090, 9090].map(
                (port) =>
                    new Promise<Server | undefined>((resolve) => {
                        const s = createServer();
                        // Already taken by something else on this machine: taken either way.
                        s.once("error", () => resolve(undefined));
                        s.listen(port, "127.0.0.1", () => resolve(s));
                    }),
            ),
        );
        try {
            await rehearseAndReplay(["--stack", "dev"]);
        } finally {
            await Promise.all(blockers.map((b) => b && new Promise((r) => b.close(r))));
        }
    });

    it("stops with every taken port named at once, on 127.0.0.1 or [::1] (where curl's localhost goes first), and nothing running", async () => {
        // Ports of the test's own choosing: the gateway's taken on 127.0.0.1, the authorization server's on [::1] only.
        const ports = await freeRehearsalPorts();
        const v4 = createServer();
        const v6 = createServer();
        await new Promise<void>((resolve) => v4.listen(ports.gateway, "127.0.0.1", resolve));
        const hasV6 = await new Promise<boolean>((resolve) => {
            v6.once("error", () => resolve(false));
            v6.listen({ port: ports.okta, host: "::1", ipv6Only: true }, () => resolve(true));
        });
        try {
            const r = await startRehearsal(["--stack", "dev"], {}, ports);
            assert.equal(await r.exited, 1);
            assert.match(r.stderr(), new RegExp(`port ${ports.gateway} \\(the gateway\\) is in use on 127\\.0\\.0\\.1; stop what uses it, or pass --port`));
            if (hasV6) {
                assert.match(r.stderr(), /2 ports are taken/);
                assert.match(
                    r.stderr(),
                    new RegExp(`port ${ports.okta} \\(the local authorization server\\) is in use on ::1; stop what uses it, or pass --okta-port`),
                );
            }
            for (const port of [ports.admin, ports.upstream]) assert.equal(await listening(port), false, `port ${port} left in use`);
        } finally {
            await new Promise((r) => v4.close(r));
            if (hasV6) await new Promise((r) => v6.close(r));
        }
    });

    it("moves every port by flag, without touching the stack file, and keeps the gateway's log out of the walkthrough", async () => {
        const r = await startRehearsal(["--stack", "dev"]);
        const { gateway, admin, okta, upstream } = r.ports;
        try {
            await untilRunning(r);
            const out = r.stdout();
            assert.match(out, new RegExp(`gateway {15}http://127\\.0\\.0\\.1:${gateway} {2}\\(admin http://127\\.0\\.0\\.1:${admin}`));
            assert.match(out, new RegExp(`upstream {14}http://127\\.0\\.0\\.1:${upstream}`));
            assert.match(out, new RegExp(`authorization server {2}http://127\\.0\\.0\\.1:${okta}/`));
            assert.doesNotMatch(out, /"level"|\[gateway\] \{/, "no JSON log lines among the walkthrough");
            const logFile = /gateway log {11}(\S+)/.exec(out)?.[1];
            assert.ok(logFile, out);
            const answer = await fetch(`http://127.0.0.1:${gateway}/api/products`);
            assert.equal(answer.status, 400);
            // docs/how-to/troubleshoot.md: a token the server never issued gives the 401.
            const unknown = await fetch(`http://127.0.0.1:${gateway}/api/products`, { headers: { authorization: "Bearer x" } });
            assert.equal(unknown.status, 401);
            assert.equal(unknown.headers.get("www-authenticate"), 'Bearer error="invalid_token"');
            const deadline = Date.now() + 5_000;
            while (!readFileSync(logFile, "utf8").includes('"status":400') && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100));
            assert.match(readFileSync(logFile, "utf8"), /"status":400/, "the gateway logs to the printed file");
        } finally {
            assert.equal(await stop(r), 0);
        }
    });

    it("rehearses an apiToken stack, and ignores the OKTA_* variables of the shell (it is offline)", async () => {
        const file = tempStack((config) => {
            for (const k of ["okta:clientId", "okta:privateKeyId", "okta:scopes"]) delete config[k];
            config["okta:apiToken"] = { secure: "AAABAJx1c2VkLWJ5LXRoZS1yZWhlYXJzYWwtdGVzdA==" };
        });
        await rehearseAndReplay(["--stack", "dev", "--stack-file", file], { OKTA_API_TOKEN: "00from-the-shell", OKTA_ORG_NAME: "someone-elses-org" }, (r) =>
            assert.match(r.stdout(), /ignored {15}OKTA_ORG_NAME, OKTA_API_TOKEN from this shell/),
        );
    });

    it("answers --help with its options, and an unknown option or a YAML mistake in one line, without a stack trace", async () => {
        const help = await startRehearsal(["--help"]);
        assert.equal(await help.exited, 0);
        for (const flag of ["--stack NAME", "--stack-file PATH", "--port N", "--admin-port N", "--upstream-port N", "--okta-port N", "--help"])
            assert.ok(help.stdout().includes(flag), flag);
        const unknown = await startRehearsal(["--prot", "1"]);
        assert.equal(await unknown.exited, 1);
        assert.match(unknown.stderr(), /^rehearsal: Unknown option '--prot'.*\(npm start -- --help lists the options\)\n$/);
        const dir = mkdtempSync(path.join(tmpdir(), "yaml-"));
        const broken = path.join(dir, "Pulumi.dev.yaml");
        writeFileSync(broken, "config:\n  okta:orgName: dev-1\n  okta:baseUrl: [okta.com\n");
        const bad = await startRehearsal(["--stack-file", broken]);
        assert.equal(await bad.exited, 1);
        assert.match(bad.stderr(), /^rehearsal: Pulumi\.dev\.yaml:\d+:\d+: [^\n]+\n$/);
        const badPort = spawnRehearsal(["--port", "99999"], {}, await freeRehearsalPorts());
        assert.equal(await badPort.exited, 1);
        assert.match(badPort.stderr(), /--port: must be a port number from 1 to 65535, got 99999/);
    });

    it("names a stack file that does not exist, and the stacks that do", async () => {
        const r = await startRehearsal(["--stack", "staging"]);
        assert.equal(await r.exited, 1);
        assert.match(r.stderr(), /no stack file .*Pulumi\.staging\.yaml \(stacks here: dev, prod\)/);
    });

    it("stops on an invalid config with the key named, before anything starts", async () => {
        const file = tempStack((config) => ((config["okta-api-gateway:authorizationServer"] as Record<string, unknown>).audience = "not a uri"));
        const r = await startRehearsal(["--stack", "dev", "--stack-file", file]);
        assert.equal(await r.exited, 1);
        assert.match(r.stderr(), /okta-api-gateway:authorizationServer\.audience: must be an absolute URI/);
        for (const port of portsOf(r)) assert.equal(await listening(port), false);
    });

    it("refuses an Okta credential pasted into the stack file in plain text, naming the key and the secret way, without echoing it or blaming two auth methods", async () => {
        const token = "00Zz9yY8xX7wW6vV5uU4tT3sS2rR1qQ0pP9oO8nN7m";
        const file = tempStack((config) => (config["okta:apiToken"] = token));
        const r = await startRehearsal(["--stack", "dev", "--stack-file", file]);
        assert.equal(await r.exited, 1);
        assert.match(
            r.stderr(),
            /okta:apiToken: holds an Okta API token in plain text in Pulumi\.dev\.yaml \(or in an ESC environment it imports, without fn::secret\).*`pulumi config set --secret okta:apiToken`/,
        );
        assert.doesNotMatch(r.stderr(), /only one way of authenticating/);
        assert.ok(!r.stderr().includes(token) && !r.stdout().includes(token), "the token is never printed");
    });
});
