// `consumers`: one entry per consuming system, each parsed on its own, with the rules across its
// own fields (adoption, keys, names) and the scopes it names. Pure.
import type { z } from "zod";
import { duplicateNames, duplicates, parseKey, valueAt } from "./problems";
import { consumerSchema, PRIVATE_JWK_MEMBERS } from "./schema";
import type { ScopeReferenceCheck } from "./server";
import type { ConsumerSpec } from "./spec";

export type RawConsumer = z.infer<typeof consumerSchema>;

/**
 * Each consumer parsed on its own; `consumerIndex[i]` is the position in the stack file of
 * `consumers[i]`, for problems found later. Group assignments and private key material are
 * reported with their reasons.
 */
export function parseConsumers(consumersRaw: unknown, k: (key: string) => string, problems: string[]): { consumers: RawConsumer[]; consumerIndex: number[] } {
    const consumers: RawConsumer[] = [];
    const consumerIndex: number[] = [];
    if (!Array.isArray(consumersRaw) || consumersRaw.length === 0) {
        problems.push(`${k("consumers")}: is required: a list of at least one consuming system ({name, scopes})`);
    } else {
        consumersRaw.forEach((c, i) => {
            if (c !== null && typeof c === "object" && "groups" in c) {
                // Reported with its reason rather than as an unknown key, then left out of the parse.
                problems.push(
                    `${k("consumers")}[${i}].groups: is not supported: group assignments restrict nothing for the client credentials grant, ` +
                        "which has no user; only the access policy's client list decides which app gets a token. Remove the key " +
                        "(the next pulumi up deletes the assignments, which changes no access).",
                );
                const { groups: _ignored, ...rest } = c as Record<string, unknown>;
                c = rest;
            }
            const jwks = valueAt(c, ["jwks", "keys"]);
            if (Array.isArray(jwks)) {
                jwks.forEach((key, j) => {
                    const leaked = PRIVATE_JWK_MEMBERS.filter((m) => key !== null && typeof key === "object" && m in key);
                    if (leaked.length)
                        problems.push(
                            `${k("consumers")}[${i}].jwks.keys[${j}]: holds private key material (${leaked.join(", ")}); give the public key only, and rotate this key`,
                        );
                });
            }
            const parsed = parseKey(consumerSchema, `${k("consumers")}[${i}]`, c, problems);
            if (parsed) {
                consumers.push(parsed);
                consumerIndex.push(i);
            }
        });
    }
    return { consumers, consumerIndex };
}

/** The rules across a consumer's fields and across consumers, on the parsed entries (and the raw list for names and scopes). */
export function consumerProblems(raw: unknown, consumers: RawConsumer[], index: number[], key: string, checkScopes: ScopeReferenceCheck): string[] {
    const problems: string[] = [];
    if (Array.isArray(raw)) raw.forEach((c, i) => problems.push(...checkScopes(valueAt(c, ["scopes"]), `${key}[${i}].scopes`)));
    for (const [name, at] of duplicateNames(raw))
        problems.push(`${key}[${at[1]}].name: "${name}" is also the name of consumers[${at[0]}]; names must be unique`);
    consumers.forEach((c, i) => {
        if (c.existingAppId === undefined) return;
        for (const only of ["jwks", "jwksUri", "label", "allowReplacement"] as const) {
            if (c[only] !== undefined)
                problems.push(
                    `${key}[${index[i]}].${only}: applies only to an app this stack creates; an adopted app (existingAppId) keeps its own settings in Okta`,
                );
        }
    });
    for (const [id, at] of duplicates(consumers.map((c) => c.existingAppId ?? ""))) {
        if (id) problems.push(`${key}[${index[at[1]]}].existingAppId: ${id} is also adopted by consumers[${index[at[0]]}]; one app belongs to one consumer`);
    }
    consumers.forEach((c, i) => {
        if (c.jwks && c.jwksUri) problems.push(`${key}[${index[i]}].jwksUri: set jwks or jwksUri, not both`);
        c.jwks?.keys.forEach((jwk, j) => {
            const at = `${key}[${index[i]}].jwks.keys[${j}]`;
            // Inline, the provider sends an EC key's kty, x, y and kid, never its crv
            // (terraform-provider-okta resource_okta_app_oauth.go, buildAppOAuthV6: "NO crv"):
            // Okta would hold a key without its curve. A JWKS Okta fetches keeps every member.
            if (jwk.kty === "EC") {
                problems.push(
                    `${at}.kty: an EC key given inline reaches Okta without its curve (the provider sends kty, x, y and kid only); ` +
                        "give an RSA key here, or publish your keys and set jwksUri instead of jwks",
                );
                return;
            }
            for (const m of ["n", "e"] as const) if (!jwk[m]) problems.push(`${at}.${m}: is required for an RSA key`);
        });
    });
    return problems;
}

/** The consumers with their defaults. */
export function consumerSpecs(consumers: RawConsumer[], ctx: { stack: string; defaultLifetime: number }): ConsumerSpec[] {
    return consumers.map((c) => ({
        name: c.name,
        label: c.label ?? `${c.name} (${ctx.stack})`,
        description: c.description ?? `Client credentials for ${c.name}`,
        scopes: c.scopes,
        accessTokenLifetimeMinutes: c.accessTokenLifetimeMinutes ?? ctx.defaultLifetime,
        jwks: c.jwks?.keys.map(({ kid, kty, n, e, x, y }) => ({ kid, kty, n, e, x, y })),
        jwksUri: c.jwksUri,
        allowReplacement: c.allowReplacement ?? false,
        existingAppId: c.existingAppId,
        readers: c.readers ?? [],
        tier: c.tier,
    }));
}
