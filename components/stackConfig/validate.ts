// Validation of the raw configuration as a whole. Each key's module parses its key, applies its
// defaults, checks its rules on the values that will deploy and returns its problems and its part
// of the spec; this function only aggregates. Pure: the same input always gives the same result,
// and every problem is reported at once, naming its config key.
import { consumerProblems, consumerSpecs, parseConsumers } from "./consumers";
import { credentialDeliveryProblems, credentialDeliverySpec } from "./delivery";
import { gatewayKey, stackNeedsIntrospectionClient } from "./gateway";
import { oktaProviderProblems, oktaScopeProblems, type StackOperation } from "./okta";
import { didYouMean } from "../../policy-gateway/src/shared/didYouMean";
import { editDistance, parseKey, valueAt } from "./problems";
import { credentialDeliverySchema, gatewaySchema, introspectionClientSchema, productionSchema, serverSchema } from "./schema";
import { claimSpecs, defaultLifetimeOf, scopeAdoptionProblems, scopeDeclarations, scopeSpecs, serverProblems, serverSpec } from "./server";
import { PROJECT_KEYS, StackConfigError, type RawStackConfig, type StackConfig } from "./spec";

/**
 * The Okta provider's config keys (@pulumi/okta config/vars.d.ts): a key outside them is a
 * misspelling the provider ignores (`okta:orgname`), leaving the one meant unset.
 */
const OKTA_PROVIDER_KEYS = [
    "accessToken",
    "apiToken",
    "backoff",
    "baseUrl",
    "clientId",
    "httpProxy",
    "logLevel",
    "maxApiCapacity",
    "maxRetries",
    "maxWaitSeconds",
    "minWaitSeconds",
    "orgName",
    "parallelism",
    "privateKey",
    "privateKeyId",
    "requestTimeout",
    "scopes",
];

function unknownOktaKeyProblems(oktaKeys: string[]): string[] {
    return oktaKeys
        .filter((key) => !OKTA_PROVIDER_KEYS.includes(key))
        .map(
            (key) => `okta:${key}: not a setting of the Okta provider, which ignores it${didYouMean(key, OKTA_PROVIDER_KEYS).replace(/'([^']+)'/, "okta:$1")}`,
        );
}

/** A consumer named by its name too, not only its place in the list: `consumers[1] (inventory-sync).scopes`. */
function withConsumerName(problem: string, consumersKey: string, rawConsumers: unknown): string {
    if (!problem.startsWith(consumersKey) || !Array.isArray(rawConsumers)) return problem;
    const index = /^\[(\d+)\]/.exec(problem.slice(consumersKey.length));
    if (!index) return problem;
    const name = valueAt(rawConsumers[Number(index[1])], ["name"]);
    const at = consumersKey.length + index[0].length;
    return typeof name === "string" && name ? `${problem.slice(0, at)} (${name})${problem.slice(at)}` : problem;
}

/** Keys of the project's namespace this program does not read, with the one probably meant. */
function unknownKeyProblems(projectKeys: string[], k: (key: string) => string): string[] {
    return projectKeys
        .filter((key) => !(PROJECT_KEYS as readonly string[]).includes(key))
        .map((key) => {
            const near = PROJECT_KEYS.find((known) => editDistance(key.toLowerCase(), known.toLowerCase()) <= 2);
            return `${k(key)}: unknown key${near ? ` (did you mean ${k(near)}?)` : ""}; this project reads ${PROJECT_KEYS.map(k).join(", ")}`;
        });
}

/**
 * `production`: required, never guessed from the stack's name. One key, so that every production
 * difference (protection, Multi-AZ, kept images and secrets, a DNS name, no local target) follows
 * it, for a created server and an adopted one alike.
 */
function productionKey(raw: unknown, k: (key: string) => string, problems: string[]): boolean | undefined {
    if (raw === undefined) {
        problems.push(
            `${k("production")}: is required: true for a stack other teams depend on (its server and apps protected, a Multi-AZ rate-limit store, ` +
                "images and delivered secrets kept on destroy, a DNS name, no local target), false for any other " +
                "(`pulumi config set production true` or `false`)",
        );
        return undefined;
    }
    return parseKey(productionSchema, k("production"), raw, problems);
}

/** `authorizationServer.protect` was the production switch once; it is reported with where it went, then left out of the parse. */
function withoutRetiredKeys(rawServer: unknown, k: (key: string) => string, problems: string[]): unknown {
    if (rawServer === null || typeof rawServer !== "object" || !("protect" in rawServer)) return rawServer;
    problems.push(
        `${k("authorizationServer")}.protect: is replaced by ${k("production")}, which protects the server (created or adopted) and every app, ` +
            "and turns on every other production difference; remove it and set production",
    );
    const { protect: _retired, ...rest } = rawServer as Record<string, unknown>;
    return rest;
}

/** The private-key credential's okta:scopes against what this run does (only once they are a well-formed list). */
function providerScopeProblems(okta: RawStackConfig["okta"], rawServer: unknown, operation: StackOperation): string[] {
    const scopes = okta.scopes?.value;
    if (okta.credentials.length !== 1 || okta.credentials[0].value !== "privateKey") return [];
    if (!Array.isArray(scopes) || !scopes.every((s): s is string => typeof s === "string")) return [];
    const customDomain = rawServer !== null && typeof rawServer === "object" && (rawServer as { issuerMode?: unknown }).issuerMode === "CUSTOM_URL";
    return oktaScopeProblems(scopes, okta.scopes?.from ?? "okta:scopes", { operation, customDomain });
}

/**
 * Validates the raw stack configuration. Pure: the same input always gives the same result,
 * so each rule is unit-tested without a Pulumi engine.
 */
export function validateStackConfig(raw: RawStackConfig, ctx: { project: string; stack: string; operation?: StackOperation }): StackConfig {
    const problems: string[] = [];
    const k = (key: string) => `${ctx.project}:${key}`;

    // --- Secrets in plain text: the stack file is in the repository, read by everyone who reads it.
    for (const s of raw.plaintextSecrets)
        problems.push(
            `${s.key}: holds ${s.what} in plain text in Pulumi.${ctx.stack}.yaml (or in an ESC environment it imports, without fn::secret), ` +
                `where everyone who reads it reads it: remove it, revoke it if it was ever pushed, and set it with \`pulumi config set --secret ${s.key}\` ` +
                `(or in a Pulumi ESC environment the stack imports, as \`fn::secret\`)`,
        );

    // --- Okta provider settings (namespace `okta:`), or the environment variables the provider reads.
    problems.push(...unknownOktaKeyProblems(raw.oktaKeys));
    problems.push(...oktaProviderProblems(raw.okta));
    const orgName = raw.okta.orgName;
    const baseUrl = raw.okta.baseUrl;
    const orgUrl = orgName && baseUrl ? `https://${orgName.value}.${baseUrl.value}` : undefined;

    // --- Keys of this project's namespace: a misspelt key would otherwise be ignored, and on a live
    // stack a missing `gateway` plans the deletion of the whole gateway.
    problems.push(...unknownKeyProblems(raw.projectKeys, k));
    const production = productionKey(raw.production, k, problems);

    // --- Each key parsed on its own, so a mistake in one does not hide those in another.
    const rawServer = withoutRetiredKeys(raw.authorizationServer, k, problems);
    const server = parseKey(serverSchema, k("authorizationServer"), rawServer, problems);
    const introspection = parseKey(introspectionClientSchema.optional(), k("introspectionClient"), raw.introspectionClient, problems);
    const delivery = parseKey(credentialDeliverySchema.optional(), k("credentialDelivery"), raw.credentialDelivery, problems);
    const rawGateway = parseKey(gatewaySchema.optional(), k("gateway"), raw.gateway, problems);
    const { consumers, consumerIndex } = parseConsumers(raw.consumers, k, problems);

    // --- Each key's rules, on its defaulted values.
    const scopes = scopeDeclarations(rawServer, k("authorizationServer"));
    problems.push(...scopes.problems);
    problems.push(...providerScopeProblems(raw.okta, rawServer, ctx.operation ?? "update"));
    if (server) problems.push(...serverProblems(server, k, raw.gateway !== undefined), ...scopeAdoptionProblems(server, k("authorizationServer")));
    problems.push(...consumerProblems(raw.consumers, consumers, consumerIndex, k("consumers"), scopes.check));
    problems.push(...credentialDeliveryProblems(delivery, consumers, consumerIndex, k));
    // A gateway key that did not parse is reported once, not again as every consumer's tier.
    const gateway =
        raw.gateway !== undefined && rawGateway === undefined
            ? undefined
            : gatewayKey(rawGateway, { k, production: production ?? false, consumers, consumerIndex, checkScopes: scopes.check, orgUrl });
    if (gateway) problems.push(...gateway.problems);

    const introspectionNeeded = stackNeedsIntrospectionClient(gateway?.spec ?? (rawGateway && { settings: rawGateway }));
    if (introspection && !introspectionNeeded)
        problems.push(
            `${k("introspectionClient")}: applies only when tokens are introspected (gateway.tokenValidation introspection or hybrid, or no gateway: ` +
                "MuleSoft's policy introspects); with jwt the gateway checks tokens locally and the stack declares no introspection client",
        );
    if (introspection?.authMethod === "client_secret_basic" && introspection.keyIds !== undefined)
        problems.push(`${k("introspectionClient")}.keyIds: applies only to authMethod private_key_jwt`);
    if (introspection?.keyIds && new Set(introspection.keyIds).size !== introspection.keyIds.length)
        problems.push(`${k("introspectionClient")}.keyIds: the ids must differ`);

    if (problems.length > 0 || !server || !orgName || !baseUrl || production === undefined || (raw.gateway !== undefined && !gateway?.spec))
        throw new StackConfigError(
            problems.map((p) => withConsumerName(p, k("consumers"), raw.consumers)),
            `Pulumi.${ctx.stack}.yaml`,
        );

    return {
        project: ctx.project,
        stack: ctx.stack,
        okta: { orgName: orgName.value, baseUrl: baseUrl.value, orgUrl: `https://${orgName.value}.${baseUrl.value}` },
        production,
        authorizationServer: serverSpec(server, ctx),
        scopes: scopeSpecs(server),
        claims: claimSpecs(server),
        consumers: consumerSpecs(consumers, { stack: ctx.stack, defaultLifetime: defaultLifetimeOf(server) }),
        credentialDelivery: credentialDeliverySpec(delivery, ctx, production),
        introspectionClient: introspectionNeeded
            ? {
                  label: introspection?.label ?? `Token Introspection Client (${ctx.stack})`,
                  auth:
                      introspection?.authMethod === "client_secret_basic"
                          ? { method: "client_secret_basic" }
                          : { method: "private_key_jwt", keyIds: introspection?.keyIds ?? ["1"] },
              }
            : undefined,
        gateway: gateway?.spec,
    };
}
