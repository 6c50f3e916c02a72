import * as okta from "@pulumi/okta";
import * as pulumi from "@pulumi/pulumi";
import type { ClaimSpec, ScopeSpec } from "./stackConfig/index";

export interface AuthorizationServerArgs {
    /** Adopt an existing server (e.g. Okta's `default`) by id instead of creating one. */
    existingServerId?: string;
    /** Required when creating a server. */
    name?: string;
    description?: string;
    audience?: string;
    issuerMode?: "ORG_URL" | "CUSTOM_URL" | "DYNAMIC";
    /** With CUSTOM_URL: the org's custom domain, which must be verified in the org: read by its id, named for messages. */
    customDomain?: { id: string; name: string };
    /** Protects the server from `pulumi destroy` and replacement: on in production. */
    protect?: boolean;
    scopes: ScopeSpec[];
    claims?: ClaimSpec[];
}

/** The URLs of an Okta custom authorization server, all derived from its issuer. */
export interface AuthorizationServerEndpoints {
    metadataUrl: string;
    authorizeUrl: string;
    tokenUrl: string;
    introspectionUrl: string;
    revocationUrl: string;
    jwksUrl: string;
}

export function endpointsOf(issuer: string): AuthorizationServerEndpoints {
    const base = issuer.replace(/\/+$/, "");
    return {
        metadataUrl: `${base}/.well-known/oauth-authorization-server`,
        authorizeUrl: `${base}/v1/authorize`,
        tokenUrl: `${base}/v1/token`,
        introspectionUrl: `${base}/v1/introspect`,
        revocationUrl: `${base}/v1/revoke`,
        jwksUrl: `${base}/v1/keys`,
    };
}

/** Okta domain validation states in which the domain serves traffic (Okta Domains API, `validationStatus`). */
const USABLE_DOMAIN_STATES = ["VERIFIED", "COMPLETED"];

/**
 * `CUSTOM_URL` only works with a custom domain configured and verified in the org; otherwise
 * Okta refuses the server at `pulumi up` (terraform-provider-okta issue 756). The domain is read
 * with the provider's okta.getDomain, so a missing, wrong or unverified domain stops the preview
 * with a message that says which, before the server is written.
 *
 * By its id, never its name: the data source finds a domain by id or name in the list, but then
 * fetches `GET /api/v1/domains/{input}` with the input string as it was given
 * (terraform-provider-okta okta/services/idaas/data_source_okta_domain.go, dataSourceDomainRead:
 * `GetCustomDomain(ctx, domainID)`), which for a host name is a 404, and every preview fails.
 * The name is checked against what Okta returns for the id, so a wrong id is caught too.
 */
function verifiedCustomDomain(domain: { id: string; name: string } | undefined, parent: pulumi.Resource): pulumi.Output<string> {
    if (!domain) throw new Error("AuthorizationServer: issuerMode CUSTOM_URL needs customDomain and customDomainId (authorizationServer)");
    return okta.getDomainOutput({ domainIdOrName: domain.id }, { parent }).apply((d) => {
        const problem = customDomainProblem(domain, d);
        if (problem) throw new Error(problem);
        return "CUSTOM_URL";
    });
}

/** Why the domain Okta returned for the configured id cannot carry the issuer; undefined when it can. Pure. */
export function customDomainProblem(configured: { id: string; name: string }, found: { domain: string; validationStatus: string }): string | undefined {
    if (found.domain.toLowerCase() !== configured.name.toLowerCase())
        return (
            `authorizationServer.customDomainId: ${configured.id} is the custom domain ${found.domain} in the Okta org, not customDomain ${configured.name}; ` +
            "set the id of the domain you mean (GET /api/v1/domains lists each domain's id and name)"
        );
    if (USABLE_DOMAIN_STATES.includes(found.validationStatus)) return undefined;
    return (
        `authorizationServer.customDomain: ${configured.name} is ${found.validationStatus} in the Okta org; issuerMode CUSTOM_URL needs a verified custom domain ` +
        "(Okta Admin Console → Customizations → Domain: add the DNS records it lists and verify)"
    );
}

/**
 * An Okta custom authorization server (API Access Management) with its custom scopes and
 * access-token claims. Access policies are a separate component, because they need the apps.
 */
export class AuthorizationServer extends pulumi.ComponentResource {
    public readonly id: pulumi.Output<string>;
    public readonly issuer: pulumi.Output<string>;
    public readonly audience: pulumi.Output<string>;
    public readonly endpoints: pulumi.Output<AuthorizationServerEndpoints>;
    /** The scope resources by name, so that rules can depend on the scopes they whitelist. */
    public readonly scopes: Record<string, okta.auth.ServerScope>;

    constructor(name: string, args: AuthorizationServerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("okta-api-gateway:okta:AuthorizationServer", name, {}, opts);

        let server: okta.auth.Server;
        if (args.existingServerId !== undefined) {
            // Read, never managed: this stack adds scopes and policies to it but cannot delete it.
            server = okta.auth.Server.get(`${name}-server`, args.existingServerId, undefined, { parent: this });
        } else {
            if (!args.name || !args.audience) throw new Error(`AuthorizationServer ${name}: name and audience are required to create a server`);
            server = new okta.auth.Server(
                `${name}-server`,
                {
                    name: args.name,
                    description: args.description ?? args.name,
                    audiences: [args.audience],
                    issuerMode: args.issuerMode === "CUSTOM_URL" ? verifiedCustomDomain(args.customDomain, this) : (args.issuerMode ?? "ORG_URL"),
                    credentialsRotationMode: "AUTO",
                    status: "ACTIVE",
                },
                { parent: this, protect: args.protect ?? false },
            );
        }
        this.id = server.id;
        this.issuer = server.issuer;
        this.audience = server.audiences.apply((a) => a[0]);
        this.endpoints = server.issuer.apply(endpointsOf);

        this.scopes = {};
        for (const scope of args.scopes) {
            if (scope.existingId !== undefined && args.existingServerId === undefined)
                throw new Error(`AuthorizationServer ${name}: scope ${scope.name} can only be adopted on an adopted server`);
            this.scopes[scope.name] = new okta.auth.ServerScope(
                `${name}-scope-${scope.name}`,
                {
                    authServerId: server.id,
                    name: scope.name,
                    description: scope.description,
                    displayName: scope.displayName,
                    // Machine-to-machine: there is no user to ask for consent.
                    consent: "IMPLICIT",
                    metadataPublish: "ALL_CLIENTS",
                    default: scope.default,
                },
                scope.existingId === undefined
                    ? { parent: this }
                    : {
                          parent: this,
                          // An existing scope of the adopted server, which consumers already ask
                          // for: imported by `<auth server id>/<scope id>` (terraform-provider-okta
                          // docs/resources/auth_server_scope.md, "Import"), its Okta settings left
                          // as they are, and left in Okta by `pulumi destroy` (see adoptServiceApp).
                          import: `${args.existingServerId}/${scope.existingId}`,
                          ignoreChanges: ["*"],
                          retainOnDelete: true,
                      },
            );
        }

        for (const claim of args.claims ?? []) {
            new okta.auth.ServerClaim(
                `${name}-claim-${claim.name}`,
                {
                    authServerId: server.id,
                    name: claim.name,
                    claimType: "RESOURCE", // RESOURCE = access token
                    valueType: claim.valueType,
                    groupFilterType: claim.groupFilterType,
                    value: claim.value,
                    scopes: claim.scopes,
                    alwaysIncludeInToken: claim.alwaysIncludeInToken,
                },
                // Claim scopes are plain strings: without dependsOn Okta may see them before the scope exists.
                { parent: this, dependsOn: (claim.scopes ?? []).map((s) => this.scopes[s]) },
            );
        }

        this.registerOutputs({ id: this.id, issuer: this.issuer, audience: this.audience, endpoints: this.endpoints });
    }
}
