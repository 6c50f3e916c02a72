// `authorizationServer`: adopted (existingId) or created, never a mix; its scopes and claims, and
// the checker every other key uses for the scopes it names. Pure.
import { z } from "zod";
import { didYouMean } from "../../policy-gateway/src/shared/didYouMean";
import { duplicateNames, duplicates, isStringArray, valueAt } from "./problems";
import { scopeSchema, type serverSchema } from "./schema";
import { TOKEN_LIFETIME_MINUTES, type AuthorizationServerSpec, type ClaimSpec, type ScopeSpec } from "./spec";

type RawServer = z.infer<typeof serverSchema>;

/** The authorization server's rules: adopted (existingId) or created, never a mix. */
export function serverProblems(server: z.infer<typeof serverSchema>, k: (key: string) => string, hasGateway: boolean): string[] {
    const problems: string[] = [];
    const at = (key: string) => `${k("authorizationServer")}.${key}`;
    if (server.existingId !== undefined) {
        for (const only of ["name", "description", "audience", "issuerMode", "customDomain", "customDomainId"] as const) {
            if (server[only] !== undefined) problems.push(`${at(only)}: applies only to a server this stack creates; remove it, or remove existingId`);
        }
        // Okta evaluates policies by priority and falls through to the next one when no rule
        // matches; an active "Default Policy" (ALL_CLIENTS, any scope) below ours still grants
        // every app of the org any scope. The provider's okta.auth.getServerPolicy exposes no
        // status (terraform-provider-okta data_source_okta_auth_server_policy.go), so the
        // program cannot check it: the user confirms it, once it is done.
        // It is stated either way: false is the migration phase (this stack's policies sit above the
        // Default Policy, which still serves whatever they do not cover), true the end state.
        if (server.defaultPolicyDeactivated === undefined) {
            problems.push(
                `${at("defaultPolicyDeactivated")}: must be set to adopt server ${server.existingId}: true once its "Default Policy" is deactivated (or deleted), ` +
                    "because it lets ALL_CLIENTS ask for any scope and defeats each consumer's least-privilege policy " +
                    `(Okta Admin Console → Security → API → Authorization Servers → ${server.existingId} → Access Policies); ` +
                    "false only while migrating, when every app of the org can still get any scope (the program warns on every run)",
            );
        }
    } else {
        // The gateway compares the issuer exactly (RFC 8414 §3.3, RFC 9207); with DYNAMIC, Okta puts
        // in `iss` whichever domain the token was requested on (org or custom), so tokens from one
        // of them would be refused. One issuer: ORG_URL or CUSTOM_URL.
        if (server.issuerMode === "DYNAMIC" && hasGateway)
            problems.push(
                `${at("issuerMode")}: DYNAMIC gives each token the issuer of the domain it was requested on, but the gateway accepts exactly one issuer; ` +
                    "use ORG_URL, or CUSTOM_URL with customDomain and customDomainId",
            );
        if (server.defaultPolicyDeactivated !== undefined)
            problems.push(`${at("defaultPolicyDeactivated")}: applies only with existingId; a server this stack creates has no default policy`);
        if (server.audience === undefined)
            problems.push(`${at("audience")}: is required (the API's audience, e.g. api://products), unless existingId names an existing server`);
        // CUSTOM_URL needs a custom domain configured and verified in the org, or Okta refuses
        // the server (terraform-provider-okta issue 756); the program checks it with okta.getDomain.
        if (server.issuerMode === "CUSTOM_URL" && server.customDomain === undefined) {
            problems.push(
                `${at("customDomain")}: is required with issuerMode CUSTOM_URL: the org's verified custom domain (Okta Admin Console → Customizations → Domain), such as login.acme.example`,
            );
        }
        if (server.issuerMode === "CUSTOM_URL" && server.customDomainId === undefined) {
            problems.push(
                `${at("customDomainId")}: is required with issuerMode CUSTOM_URL: the Okta id of ${server.customDomain ?? "the custom domain"} ` +
                    "(GET /api/v1/domains lists each domain's id and name), by which the preview reads it; the provider cannot read a domain by its name",
            );
        }
        for (const only of ["customDomain", "customDomainId"] as const)
            if (server.issuerMode !== "CUSTOM_URL" && server[only] !== undefined) problems.push(`${at(only)}: applies only with issuerMode CUSTOM_URL`);
    }
    (server.claims ?? []).forEach((c, i) => {
        const at = `${k("authorizationServer")}.claims[${i}].groupFilterType`;
        if (c.valueType === "GROUPS" && c.groupFilterType === undefined)
            problems.push(`${at}: is required with valueType GROUPS: how value matches group names (STARTS_WITH, EQUALS, CONTAINS or REGEX)`);
        if (c.valueType !== "GROUPS" && c.groupFilterType !== undefined) problems.push(`${at}: applies only with valueType GROUPS`);
    });
    return problems;
}

/** The server to create or adopt, with the defaults a created one gets. */
export function serverSpec(server: RawServer, ctx: { project: string; stack: string }): AuthorizationServerSpec {
    return server.existingId !== undefined
        ? { kind: "existing", id: server.existingId, defaultPolicyDeactivated: server.defaultPolicyDeactivated === true }
        : {
              kind: "create",
              name: server.name ?? `${ctx.project}-${ctx.stack}`,
              description: server.description ?? `API access for ${ctx.project} (${ctx.stack}), managed by Pulumi`,
              audience: server.audience as string,
              issuerMode: server.issuerMode ?? "ORG_URL",
              customDomain: server.customDomain && server.customDomainId ? { id: server.customDomainId, name: server.customDomain } : undefined,
          };
}

export function scopeSpecs(server: RawServer): ScopeSpec[] {
    return server.scopes.map((s) => ({
        name: s.name,
        description: s.description ?? s.name,
        displayName: s.displayName,
        default: s.default ?? false,
        existingId: s.existingId,
    }));
}

export function claimSpecs(server: RawServer): ClaimSpec[] {
    return (server.claims ?? []).map((c) => ({
        name: c.name,
        value: c.value,
        valueType: c.valueType ?? "EXPRESSION",
        groupFilterType: c.groupFilterType,
        scopes: c.scopes,
        alwaysIncludeInToken: c.alwaysIncludeInToken ?? true,
    }));
}

/** The default access-token lifetime of the server's consumers. */
export const defaultLifetimeOf = (server: RawServer): number => server.accessTokenLifetimeMinutes ?? TOKEN_LIFETIME_MINUTES.default;

/** Checks a list of scope names against the declared ones; a function each key's module calls with its own key. */
export type ScopeReferenceCheck = (scopes: unknown, at: string) => string[];

/**
 * The declared scopes, checked on the raw values (so that a mistake elsewhere in an entry does not
 * hide a wrong scope or a duplicate name in the same run), and the checker for the scopes other
 * keys name.
 */
export function scopeDeclarations(rawServer: unknown, serverKey: string): { problems: string[]; check: ScopeReferenceCheck } {
    const problems: string[] = [];
    const declaredScopes = z.array(scopeSchema).safeParse(valueAt(rawServer, ["scopes"]));
    const declared = new Set(declaredScopes.success ? declaredScopes.data.map((s) => s.name) : []);
    const declaredList = [...declared].join(", ");
    const check: ScopeReferenceCheck = (scopes, at) => {
        if (!declaredScopes.success || !isStringArray(scopes)) return []; // already reported
        const found = scopes.flatMap((s, j) =>
            declared.has(s)
                ? []
                : [`${at}[${j}]: "${s}" is not a scope declared in ${serverKey}.scopes (declared: ${declaredList})${didYouMean(s, [...declared], '"')}`],
        );
        for (const [name] of duplicates(scopes)) found.push(`${at}: "${name}" is listed more than once`);
        return found;
    };
    for (const [name, at] of duplicateNames(valueAt(rawServer, ["scopes"])))
        problems.push(`${serverKey}.scopes[${at[1]}].name: "${name}" is declared more than once (also at scopes[${at[0]}])`);
    const rawClaims = valueAt(rawServer, ["claims"]);
    if (Array.isArray(rawClaims)) rawClaims.forEach((c, i) => problems.push(...check(valueAt(c, ["scopes"]), `${serverKey}.claims[${i}].scopes`)));
    return { problems, check };
}

/** Scopes of a server this stack creates cannot be adopted: an existing scope is imported by `<server id>/<scope id>`. */
export function scopeAdoptionProblems(server: RawServer, serverKey: string): string[] {
    return server.scopes.flatMap((s, i) =>
        s.existingId !== undefined && server.existingId === undefined
            ? [
                  `${serverKey}.scopes[${i}].existingId: applies only to a server this stack adopts (authorizationServer.existingId); a server this stack creates has no scopes yet`,
              ]
            : [],
    );
}
