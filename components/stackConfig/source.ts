// Where the raw configuration comes from: the Pulumi engine (or, in tests, a stack file) and the
// environment variables the Okta provider reads; then the program's one entry point.
import * as pulumi from "@pulumi/pulumi";
import { validateStackConfig } from "./validate";
import type { OktaCredential, RawStackConfig, Sourced, StackConfig } from "./spec";

/** Where raw config values come from: the Pulumi engine, or (in tests) a stack file. */
export interface ConfigSource {
    /** The value of `namespace:key` as the engine hands it over: text, JSON text for structured values. */
    get(namespace: string, key: string): string | undefined;
    /** Whether a secret value is set; the value itself is never read by this program. */
    hasSecret(namespace: string, key: string): boolean;
    /** Every key set in a namespace, without the namespace. */
    keys(namespace: string): string[];
    /** Every key set, `namespace:key`. */
    allKeys(): string[];
    /** Whether the engine holds the value as a secret (`secure:` in the stack file, `fn::secret` in ESC). */
    isSecret(namespace: string, key: string): boolean;
}

/**
 * The Pulumi SDK's own test of a secret key: the language host lists the secret keys in
 * PULUMI_CONFIG_SECRET_KEYS (pulumi/pulumi sdk/nodejs/runtime/config.ts, isConfigSecret; the mock
 * runtime's setAllConfig sets the same list). Exported by the SDK at runtime, not in its types.
 */
const isConfigSecret = (pulumi.runtime as unknown as { isConfigSecret(fullKey: string): boolean }).isConfigSecret;

export function pulumiConfigSource(): ConfigSource {
    return {
        get: (ns, key) => new pulumi.Config(ns).get(key),
        hasSecret: (ns, key) => new pulumi.Config(ns).getSecret(key) !== undefined,
        keys: (ns) => keysIn(Object.keys(pulumi.runtime.allConfig()), ns),
        allKeys: () => Object.keys(pulumi.runtime.allConfig()).map((k) => k.replace(/:config:/, ":")),
        isSecret: (ns, key) => isConfigSecret(`${ns}:${key}`),
    };
}

/**
 * Provider keys the providers mark secret: the SDKs wrap them in `pulumi.secret` and list them in
 * `additionalSecretOutputs` (@pulumi/okta provider.js: accessToken, apiToken, privateKey;
 * @pulumi/aws provider.js: accessKey, secretKey, token).
 */
export const PROVIDER_SECRET_KEYS: readonly string[] = ["okta:accessToken", "okta:apiToken", "okta:privateKey", "aws:accessKey", "aws:secretKey", "aws:token"];

/** What makes a plain value a secret by its shape: a PEM private key, or an Okta API (SSWS) token, which is `00` and 40 more characters. */
function secretShape(value: string): string | undefined {
    if (/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(value)) return "a PEM private key";
    if (/(^|[^A-Za-z0-9_-])00[A-Za-z0-9_-]{40}($|[^A-Za-z0-9_-])/.test(value)) return "an Okta API token";
    return undefined;
}

/** Values set in plain text that are secrets: a provider key marked secret, or any value shaped like a private key or an API token. Never the value itself. */
export function plaintextSecrets(source: ConfigSource): { key: string; what: string }[] {
    const found: { key: string; what: string }[] = [];
    for (const full of source.allKeys()) {
        const at = full.indexOf(":");
        const [ns, key] = [full.slice(0, at), full.slice(at + 1)];
        if (source.isSecret(ns, key)) continue;
        const value = source.get(ns, key);
        if (value === undefined) continue;
        const shape = secretShape(value);
        if (PROVIDER_SECRET_KEYS.includes(full)) found.push({ key: full, what: shape ?? `a credential the ${ns} provider keeps secret` });
        else if (shape) found.push({ key: full, what: shape });
    }
    return found;
}

/** The keys of `namespace` among full config keys (`ns:key`; the engine may also send `ns:config:key`). */
export function keysIn(fullKeys: string[], namespace: string): string[] {
    return [...new Set(fullKeys.filter((k) => k.startsWith(`${namespace}:`)).map((k) => k.slice(namespace.length + 1).replace(/^config:/, "")))];
}

/** Structured values come as JSON text; a plain string that is not JSON stays a string. */
function structured(text: string | undefined): unknown {
    if (text === undefined) return undefined;
    try {
        return JSON.parse(text);
    } catch {
        return text;
    }
}

/**
 * The environment variables the Okta provider reads for each `okta:` key (the list the provider's
 * own TestProviderValidate clears, terraform-provider-okta provider_test.go), which this program
 * reads the same way.
 */
export const OKTA_ENVIRONMENT_VARIABLES = {
    orgName: "OKTA_ORG_NAME",
    baseUrl: "OKTA_BASE_URL",
    clientId: "OKTA_API_CLIENT_ID",
    scopes: "OKTA_API_SCOPES",
    privateKey: "OKTA_API_PRIVATE_KEY",
    privateKeyId: "OKTA_API_PRIVATE_KEY_ID",
    apiToken: "OKTA_API_TOKEN",
    accessToken: "OKTA_ACCESS_TOKEN",
} as const;

/** Reads the stack's raw configuration (and the environment variables the Okta provider reads). */
export function readRawStackConfig(source: ConfigSource, project: string, env: NodeJS.ProcessEnv = process.env): RawStackConfig {
    // The config key wins over the provider's environment variable, as in the provider itself.
    const setting = (key: string, variable: string): Sourced<string> | undefined => {
        const fromConfig = source.get("okta", key);
        if (fromConfig !== undefined) return { value: fromConfig, from: `okta:${key}` };
        const fromEnv = env[variable];
        return fromEnv ? { value: fromEnv, from: `environment variable ${variable}` } : undefined;
    };
    const credentials: Sourced<OktaCredential>[] = [];
    for (const credential of ["privateKey", "apiToken", "accessToken"] as const) {
        const variable = OKTA_ENVIRONMENT_VARIABLES[credential];
        if (source.hasSecret("okta", credential)) credentials.push({ value: credential, from: `okta:${credential}` });
        else if (env[variable]) credentials.push({ value: credential, from: `environment variable ${variable}` });
    }
    const scopesText = source.get("okta", "scopes");
    return {
        plaintextSecrets: plaintextSecrets(source),
        oktaKeys: source.keys("okta"),
        projectKeys: source.keys(project),
        production: structured(source.get(project, "production")),
        authorizationServer: structured(source.get(project, "authorizationServer")),
        consumers: structured(source.get(project, "consumers")),
        credentialDelivery: structured(source.get(project, "credentialDelivery")),
        introspectionClient: structured(source.get(project, "introspectionClient")),
        gateway: structured(source.get(project, "gateway")),
        okta: {
            orgName: setting("orgName", OKTA_ENVIRONMENT_VARIABLES.orgName),
            baseUrl: setting("baseUrl", OKTA_ENVIRONMENT_VARIABLES.baseUrl),
            credentials,
            clientId: setting("clientId", OKTA_ENVIRONMENT_VARIABLES.clientId),
            scopes:
                scopesText !== undefined
                    ? { value: structured(scopesText), from: "okta:scopes" }
                    : env[OKTA_ENVIRONMENT_VARIABLES.scopes]
                      ? { value: env[OKTA_ENVIRONMENT_VARIABLES.scopes]?.split(","), from: `environment variable ${OKTA_ENVIRONMENT_VARIABLES.scopes}` }
                      : undefined,
        },
    };
}

/** Reads and validates the running stack's configuration; throws a StackConfigError listing every problem. */
export function loadStackConfig(): StackConfig {
    const project = pulumi.getProject();
    return validateStackConfig(readRawStackConfig(pulumiConfigSource(), project), {
        project,
        stack: pulumi.getStack(),
        operation: pulumi.runtime.isDryRun() ? "preview" : "update",
    });
}
