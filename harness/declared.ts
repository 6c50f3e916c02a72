// What the stack declared, read back from the resources the mock runtime recorded: the Okta
// authorization server, its clients and access policies, and the gateway's environment. Pure:
// the rehearsal loads exactly this into the local authorization server and the gateway.
import type { JWK } from "jose";
import type { GatewaySettings } from "../policy-gateway/src/config/settings";
import { fromEnvironment } from "../policy-gateway/src/config/codec";
import type { RecordedResource } from "./stackHarness";

export interface DeclaredRule {
    priority: number;
    grantTypes: string[];
    /** Scope names, or `*` for any. */
    scopes: string[];
    lifetimeMinutes: number;
}

export interface DeclaredPolicy {
    name: string;
    priority: number;
    /** Client ids, or `ALL_CLIENTS`. */
    clients: string[];
    rules: DeclaredRule[];
}

export interface DeclaredClient {
    /** The consumer's name from the stack config (the ConsumerApp component's name). */
    name: string;
    clientId: string;
    clientSecret?: string;
    /** An existing app the stack imported: its consumer keeps the secret it has, which Okta never returns. */
    adopted: boolean;
    /** As the app is registered: `private_key_jwt` with the public keys declared (`jwks`) or published (`jwksUri`). */
    authMethod: "client_secret_basic" | "private_key_jwt";
    jwks?: JWK[];
    jwksUri?: string;
}

export interface DeclaredOkta {
    authServerId: string;
    audience: string;
    scopes: string[];
    consumers: DeclaredClient[];
    /** As the app is registered: its method, and its secret or public keys; absent when the gateway checks JWTs locally. */
    introspectionClient?: { clientId: string; clientSecret?: string; authMethod: "client_secret_basic" | "private_key_jwt"; jwks?: { keys: JWK[] } };
    policies: DeclaredPolicy[];
}

export interface DeclaredGateway {
    target: "local" | "aws";
    /** The environment the container (or task) gets, secret included. */
    env: Record<string, string>;
    /** The settings that environment holds, decoded by the gateway's own codec. */
    settings: GatewaySettings;
    /** Host ports: published by the local container, the container ports otherwise. */
    port: number;
    adminPort: number;
}

function only(resources: RecordedResource[], type: string): RecordedResource {
    const found = resources.filter((r) => r.custom && r.type === type);
    if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
    return found[0];
}

function parentName(resources: RecordedResource[], r: RecordedResource): { type: string; name: string } | undefined {
    const parent = resources.find((p) => p.urn === r.parentUrn);
    return parent && { type: parent.type, name: parent.name };
}

/** An app's public keys as Okta holds them: RSA keys for RS256 signatures (the provider's `jwks` carries kid, kty, e, n). */
const registeredKeys = (jwks: JWK[]): JWK[] => jwks.map((k) => ({ ...k, alg: "RS256", use: "sig" }));

export function declaredOkta(resources: RecordedResource[]): DeclaredOkta {
    const server = only(resources, "okta:auth/server:Server");
    const apps = resources.filter((r) => r.type === "okta:app/oAuth:OAuth");
    const client = (r: RecordedResource): DeclaredClient => ({
        name: parentName(resources, r)?.name ?? r.name,
        clientId: String(r.state.clientId ?? r.id),
        clientSecret: typeof r.state.clientSecret === "string" ? r.state.clientSecret : undefined,
        adopted: r.importId !== undefined,
        authMethod: r.inputs.tokenEndpointAuthMethod === "private_key_jwt" ? "private_key_jwt" : "client_secret_basic",
        ...(Array.isArray(r.inputs.jwks) ? { jwks: registeredKeys(r.inputs.jwks as JWK[]) } : {}),
        ...(typeof r.inputs.jwksUri === "string" ? { jwksUri: r.inputs.jwksUri } : {}),
    });
    const consumers = apps.filter((a) => parentName(resources, a)?.type === "okta-api-gateway:okta:ConsumerApp").map(client);
    const introspection = apps.find((a) => parentName(resources, a)?.type === "okta-api-gateway:okta:IntrospectionClient");

    const rules = resources.filter((r) => r.type === "okta:auth/serverPolicyRule:ServerPolicyRule");
    const policies = resources
        .filter((r) => r.type === "okta:auth/serverPolicy:ServerPolicy")
        .map((p) => ({
            name: String(p.inputs.name),
            priority: Number(p.inputs.priority),
            clients: (p.inputs.clientWhitelists as string[]) ?? [],
            rules: rules
                .filter((r) => r.inputs.policyId === p.id)
                .map((r) => ({
                    priority: Number(r.inputs.priority),
                    grantTypes: (r.inputs.grantTypeWhitelists as string[]) ?? [],
                    scopes: (r.inputs.scopeWhitelists as string[]) ?? [],
                    lifetimeMinutes: Number(r.inputs.accessTokenLifetimeMinutes ?? 60),
                }))
                .sort((a, b) => a.priority - b.priority),
        }))
        .sort((a, b) => a.priority - b.priority);

    return {
        authServerId: server.id,
        audience: (server.inputs.audiences as string[] | undefined)?.[0] ?? (server.state.audiences as string[])[0],
        scopes: resources.filter((r) => r.type === "okta:auth/serverScope:ServerScope").map((s) => String(s.inputs.name)),
        consumers,
        introspectionClient: introspection && {
            clientId: client(introspection).clientId,
            ...(client(introspection).clientSecret ? { clientSecret: client(introspection).clientSecret } : {}),
            authMethod: introspection.inputs.tokenEndpointAuthMethod === "private_key_jwt" ? "private_key_jwt" : "client_secret_basic",
            ...(Array.isArray(introspection.inputs.jwks) ? { jwks: { keys: registeredKeys(introspection.inputs.jwks as JWK[]) } } : {}),
        },
        policies,
    };
}

/**
 * Okta's evaluation of a token request: policies by priority, then their rules by priority; the
 * first rule of a policy assigned to the client that allows the grant type and covers every
 * requested scope decides. No match: the request is refused.
 */
export function evaluateAccessPolicies(
    policies: readonly DeclaredPolicy[],
    clientId: string,
    grantType: string,
    requested: readonly string[],
): { scopes: string[]; lifetimeMinutes: number } | undefined {
    for (const policy of policies) {
        if (!policy.clients.includes(clientId) && !policy.clients.includes("ALL_CLIENTS")) continue;
        for (const rule of policy.rules) {
            if (!rule.grantTypes.includes(grantType)) continue;
            if (!rule.scopes.includes("*") && !requested.every((s) => rule.scopes.includes(s))) continue;
            return { scopes: [...requested], lifetimeMinutes: rule.lifetimeMinutes };
        }
    }
    return undefined;
}

/** Every scope some rule could grant this client: the most it may ever ask for. */
export function possibleScopes(policies: readonly DeclaredPolicy[], clientId: string, allScopes: readonly string[]): string[] {
    const out = new Set<string>();
    for (const p of policies) {
        if (!p.clients.includes(clientId) && !p.clients.includes("ALL_CLIENTS")) continue;
        for (const r of p.rules) for (const s of r.scopes.includes("*") ? allScopes : r.scopes) out.add(s);
    }
    return allScopes.filter((s) => out.has(s));
}

export function declaredGateway(resources: RecordedResource[]): DeclaredGateway | undefined {
    const container = resources.find((r) => r.type === "docker:index/container:Container");
    if (container) {
        const env = Object.fromEntries((container.inputs.envs as string[]).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
        const ports = container.inputs.ports as { internal: number; external: number }[];
        const published = (internal: number) => ports.find((p) => Number(p.internal) === internal)?.external ?? internal;
        const settings = decoded(env);
        return { target: "local", env, settings, port: published(settings.port), adminPort: published(settings.adminPort) };
    }
    const task = resources.find((r) => r.type === "aws:ecs/taskDefinition:TaskDefinition");
    if (task) {
        const def = (
            JSON.parse(task.inputs.containerDefinitions as string) as {
                environment: { name: string; value: string }[];
                secrets: { name: string; valueFrom: string }[];
            }[]
        )[0];
        const env = Object.fromEntries(def.environment.map((e) => [e.name, e.value]));
        for (const s of def.secrets) {
            const secret = resources.find((r) => r.type === "aws:secretsmanager/secret:Secret" && r.state.arn === s.valueFrom);
            const version = resources.find((r) => r.type === "aws:secretsmanager/secretVersion:SecretVersion" && r.inputs.secretId === secret?.id);
            if (version) env[s.name] = String(version.inputs.secretString);
        }
        const settings = decoded(env);
        return { target: "aws", env, settings, port: settings.port, adminPort: settings.adminPort };
    }
    return undefined;
}

/** The declared environment as the gateway reads it: the same codec, the same defaults, the same refusals. */
function decoded(env: Record<string, string>): GatewaySettings {
    const d = fromEnvironment(env);
    if (!d.ok) throw new Error(`the declared gateway environment would not start the gateway:\n  - ${d.problems.join("\n  - ")}`);
    return d.settings;
}
