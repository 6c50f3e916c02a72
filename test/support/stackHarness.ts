// Runs Pulumi declarations under the SDK's mock runtime and records every resource with its
// resolved inputs, parent, dependencies and `protect` flag. Shared by the tests and the offline
// rehearsal, so both see exactly what `pulumi up` would be asked to create.
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import type { ConfigSource } from "../../components/stackConfig";

export const PROJECT_ROOT = path.resolve(__dirname, "..", "..");

export interface RecordedResource {
    type: string;
    name: string;
    /** False for component resources. */
    custom: boolean;
    inputs: Record<string, unknown>;
    /** What the mock "provider" returned: the inputs plus computed outputs (ids, issuer, secrets). */
    state: Record<string, unknown>;
    id: string;
    urn: string;
    /** True for resources read with `.get()`, which Pulumi never manages. */
    read: boolean;
    parentUrn?: string;
    dependencyUrns: string[];
    protect: boolean;
}

export interface MockedStack {
    resources: RecordedResource[];
    calls: { token: string; inputs: Record<string, unknown> }[];
    /** Waits until every declaration made so far has been registered. */
    settle(): Promise<void>;
}

// Internals of the pinned @pulumi/pulumi (see package.json): the mock monitor the SDK installs,
// and the SDK's own wait for its outstanding registrations.
interface RegisterRequest {
    getType(): string;
    getName(): string;
    getParent(): string;
    getDependenciesList(): string[];
    getProtect?(): boolean | undefined; // absent on reads
}
interface RegisterResponse {
    getUrn(): string;
}
type MonitorMethod = (req: RegisterRequest, cb: (err: unknown, resp?: RegisterResponse) => void) => void;
interface MonitorLike {
    registerResource: MonitorMethod;
    readResource: MonitorMethod;
}
const sdkState = require("@pulumi/pulumi/runtime/state") as { getStore(): { settings: { monitor: MonitorLike } } };
const sdkSettings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };

/** A short, stable, Okta-looking id: the same declarations give the same ids on every run. */
export function fakeOktaId(prefix: string, seed: string, length = 20): string {
    const digest = createHash("sha256").update(seed).digest("base64").replace(/[^A-Za-z0-9]/g, "");
    return (prefix + digest).slice(0, length);
}

/** Computed outputs a real Okta org would return, derived from the inputs. */
function oktaState(type: string, name: string, inputs: Record<string, unknown>, orgUrl: string, readId?: string) {
    switch (type) {
        case "okta:auth/server:Server": {
            const id = readId ?? fakeOktaId("aus", name);
            const audiences = (inputs.audiences as string[] | undefined) ?? ["api://default"];
            return { id, state: { ...inputs, audiences, issuer: `${orgUrl}/oauth2/${id}`, kid: fakeOktaId("k", id, 12), status: "ACTIVE" } };
        }
        case "okta:app/oAuth:OAuth": {
            const id = fakeOktaId("0oa", name);
            const hasSecret = inputs.omitSecret !== true && inputs.tokenEndpointAuthMethod !== "private_key_jwt";
            return { id, state: { ...inputs, clientId: id, ...(hasSecret ? { clientSecret: fakeOktaId("", `secret:${name}`, 40) } : {}) } };
        }
        default:
            return { id: fakeOktaId("", `${type}:${name}`, 20), state: { ...inputs } };
    }
}

export interface MockedStackOptions {
    project: string;
    stack: string;
    config: Record<string, string>;
    secretKeys?: string[];
    preview?: boolean;
}

/** Installs the mock runtime for one stack. Call once per process, before declaring resources. */
export async function startMockedStack(opts: MockedStackOptions): Promise<MockedStack> {
    const orgName = opts.config["okta:orgName"] ?? "example";
    const orgUrl = `https://${orgName}.${opts.config["okta:baseUrl"] ?? "okta.com"}`;
    const resources: RecordedResource[] = [];
    const calls: MockedStack["calls"] = [];
    const meta = new Map<string, { parentUrn?: string; dependencyUrns: string[]; protect: boolean }>();

    pulumi.runtime.setAllConfig(opts.config, opts.secretKeys ?? []);
    await pulumi.runtime.setMocks(
        {
            newResource(args) {
                const inputs = (args.inputs ?? {}) as Record<string, unknown>;
                const readId = args.id || undefined; // the SDK sends "" for "not a read"
                const { id, state } = args.custom === false ? { id: "", state: {} } : oktaState(args.type, args.name, inputs, orgUrl, readId);
                const key = `${args.type}::${args.name}`;
                resources.push({
                    type: args.type,
                    name: args.name,
                    custom: args.custom !== false,
                    inputs,
                    state,
                    id,
                    urn: "",
                    read: readId !== undefined,
                    dependencyUrns: [],
                    protect: false,
                    ...meta.get(key),
                });
                return { id: id || undefined, state };
            },
            call(args) {
                calls.push({ token: args.token, inputs: args.inputs as Record<string, unknown> });
                if (args.token === "okta:group/getEveryoneGroup:getEveryoneGroup") {
                    return { id: "00gEveryone000000000", name: "Everyone", description: "All users in your organization" };
                }
                throw new Error(`no mock for call ${args.token}`);
            },
        },
        opts.project,
        opts.stack,
        opts.preview ?? false,
    );

    // Record what the mock's newResource is not told: parent, dependencies, protect, URN.
    const monitor = sdkState.getStore().settings.monitor;
    for (const method of ["registerResource", "readResource"] as const) {
        const original = monitor[method].bind(monitor);
        monitor[method] = (req, cb) => {
            meta.set(`${req.getType()}::${req.getName()}`, {
                parentUrn: req.getParent() || undefined,
                dependencyUrns: req.getDependenciesList(),
                protect: req.getProtect?.() === true,
            });
            original(req, (err, resp) => {
                const recorded = resources.find((r) => r.type === req.getType() && r.name === req.getName());
                if (recorded && resp) recorded.urn = resp.getUrn();
                cb(err, resp);
            });
        };
    }

    return {
        resources,
        calls,
        settle: () => sdkSettings.waitForRPCs(),
    };
}

// ---- Stack files --------------------------------------------------------------------------

/** The project name from Pulumi.yaml. */
export function projectName(root = PROJECT_ROOT): string {
    const doc = parseYaml(readFileSync(path.join(root, "Pulumi.yaml"), "utf8")) as { name: string };
    return doc.name;
}

/**
 * Reads a `Pulumi.<stack>.yaml` into the flat `namespace:key → string` map the engine hands the
 * program. Encrypted (`secure:`) values cannot be decrypted here and are left out: tests supply
 * their own stand-ins, as `pulumi config set --secret` would.
 */
export function readStackFile(file: string): Record<string, string> {
    const doc = parseYaml(readFileSync(file, "utf8")) as { config?: Record<string, unknown> } | null;
    const out: Record<string, string> = {};
    for (const [key, value] of Object.entries(doc?.config ?? {})) {
        if (value !== null && typeof value === "object" && "secure" in value) continue;
        out[key] = typeof value === "string" ? value : JSON.stringify(value);
    }
    return out;
}

/** Stand-ins for the secrets a real stack sets with `pulumi config set --secret`. Test-only values. */
export const STAND_IN_SECRETS: Record<string, string> = {
    "okta:privateKey": "-----BEGIN PRIVATE KEY-----\nstand-in-for-tests-only\n-----END PRIVATE KEY-----",
};

/** Resolves an Output (or plain value) to its value. Never call on an unknown value in preview. */
export function valueOf<T>(o: pulumi.Input<T>): Promise<pulumi.Unwrap<T>> {
    return new Promise((resolve) => pulumi.output(o).apply((v) => resolve(v)));
}

export interface ProgramRun {
    stack: MockedStack;
    outputs: Record<string, unknown>;
}

/**
 * Runs index.ts under the mock runtime with a stack file's config, as `pulumi up` (or
 * `pulumi preview`) would, and returns the recorded resources and the module's exports.
 */
export async function runProgram(opts: {
    stackName: string;
    stackFile?: string;
    preview?: boolean;
    extraConfig?: Record<string, string>;
    secrets?: Record<string, string>;
}): Promise<ProgramRun> {
    const file = opts.stackFile ?? path.join(PROJECT_ROOT, `Pulumi.${opts.stackName}.yaml`);
    const secrets = opts.secrets ?? STAND_IN_SECRETS;
    const stack = await startMockedStack({
        project: projectName(),
        stack: opts.stackName,
        config: { ...readStackFile(file), ...opts.extraConfig, ...secrets },
        secretKeys: Object.keys(secrets),
        preview: opts.preview,
    });
    const outputs = (await import(path.join(PROJECT_ROOT, "index.ts"))) as Record<string, unknown>;
    await stack.settle();
    return { stack, outputs };
}

/** A ConfigSource over a flat config map, as the engine would serve it. */
export function configSourceFromMap(config: Record<string, string>, secretKeys: string[] = []): ConfigSource {
    return {
        get: (ns, key) => (secretKeys.includes(`${ns}:${key}`) ? undefined : config[`${ns}:${key}`]),
        hasSecret: (ns, key) => secretKeys.includes(`${ns}:${key}`) && config[`${ns}:${key}`] !== undefined,
    };
}
