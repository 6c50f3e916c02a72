// A real OAuth 2.0 authorization server (the certified `oidc-provider`) on loopback, laid out like
// an Okta custom authorization server: issuer `http://127.0.0.1:{port}/oauth2/{id}`, endpoints
// /v1/token, /v1/introspect, /v1/revoke, /v1/keys, metadata at both well-known paths, RS256 JWT
// access tokens carrying Okta's `scp` array and `cid`. Each client may get only the scopes its
// access rule allows, as in Okta. Shared by the gateway's tests, the benchmark and the rehearsal.
//
// The wrapper around it only counts calls and injects faults (outage, slowness, 429); every token
// comes from oidc-provider, and every introspection answer too, except for its own JWT access
// tokens, which it refuses to introspect or revoke and Okta does not (see the middleware below).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT, type JWK, type JWTHeaderParameters, type JWTPayload } from "jose";

export type LocalOktaClient = {
    clientId: string;
    /** The scopes this client's access rule allows (Okta's scopeWhitelists). */
    scopes: string[];
} & (
    | { clientSecret: string; authMethod?: "client_secret_basic" }
    /** Registered as Okta registers it: no secret, its public keys, assertions signed with one of them. */
    | { authMethod: "private_key_jwt"; jwks: { keys: JWK[] } }
);

export interface LocalOktaOptions {
    authServerId?: string;
    audience: string;
    /** Every scope the server declares. */
    scopes: string[];
    clients: LocalOktaClient[];
    /**
     * The client allowed to call /v1/introspect, registered with one authentication method, which
     * oidc-provider enforces as Okta does (client_secret_basic unless said; private_key_jwt with
     * its public keys). Absent for a stack whose gateway checks JWTs locally (no introspection client).
     */
    introspectionClient?: {
        clientId: string;
        clientSecret?: string;
        authMethod?: "client_secret_basic" | "client_secret_post" | "private_key_jwt";
        jwks?: { keys: JWK[] };
    };
    accessTokenTtlSeconds?: number;
    /**
     * `opaque` (default): tokens oidc-provider introspects and revokes itself. `jwt`: RS256 JWTs
     * with Okta's claims, introspected and revoked as Okta does (see the middleware below).
     */
    accessTokenFormat?: "opaque" | "jwt";
    /**
     * Decides each token request as Okta's access policies would (see declaredOkta.ts): the scopes
     * granted and the token lifetime, or undefined to refuse. Without it, a client gets any subset
     * of its `scopes`.
     */
    authorize?: (clientId: string, requestedScopes: string[]) => { scopes: string[]; ttlSeconds: number } | undefined;
    port?: number;
    host?: string;
    /**
     * The rehearsal's outage switch: `POST <awayPath>?seconds=N` takes the server away (connections
     * closed unanswered) for N seconds, then back, so that a person can see the gateway's 503.
     */
    awayPath?: string;
}

export type Fault =
    | { kind: "none" }
    /** Connections are accepted and closed without an answer. */
    | { kind: "down" }
    /** Every answer is held back this long. */
    | { kind: "slow"; delayMs: number }
    /** Introspection answers with this status and body (e.g. 429 with Retry-After, 500, not JSON). */
    | { kind: "introspectionStatus"; status: number; headers?: Record<string, string>; body?: string };

export interface LocalOkta {
    issuer: string;
    tokenUrl: string;
    introspectionUrl: string;
    revocationUrl: string;
    jwksUrl: string;
    metadataUrl: string;
    /** Calls received, by endpoint: token, introspect, revoke, keys, metadata. */
    calls: Record<string, number>;
    setFault(fault: Fault): void;
    /** Client credentials grant, as a consumer would call it. Resolves the HTTP status and JSON body. */
    requestToken(client: { clientId: string; clientSecret: string }, scope: string): Promise<{ status: number; body: Record<string, unknown> }>;
    /** A token, or a failed assertion. */
    token(client: { clientId: string; clientSecret: string }, scope: string): Promise<string>;
    revoke(client: { clientId: string; clientSecret: string }, token: string): Promise<number>;
    /** The public signing key (for tests that must forge with it). */
    publicJwk: JWK;
    /**
     * Signs arbitrary claims with this server's real signing key (RS256, its kid): for attack tests
     * that need a correctly signed token carrying wrong claims (expired, wrong issuer…).
     */
    forge(claims: JWTPayload, header?: Partial<JWTHeaderParameters>): Promise<string>;
    /** Stops listening (state is kept), as when the server goes down; `start` listens again on the same port. */
    stopListening(): Promise<void>;
    startListening(): Promise<void>;
    stop(): Promise<void>;
}

/**
 * Storage for oidc-provider's own memory adapter without its development cap: the default store is
 * an LRU of 1,000 entries, which would forget live tokens under any real load. Entries expire as
 * the provider asks (maxAge), never by eviction.
 */
class UnboundedStore {
    private readonly entries = new Map<string, { value: unknown; expiry: number }>();
    get(key: string): unknown {
        const entry = this.entries.get(key);
        if (!entry) return undefined;
        if (entry.expiry <= Date.now()) {
            this.entries.delete(key);
            return undefined;
        }
        return entry.value;
    }
    set(key: string, value: unknown, { maxAge }: { maxAge?: number } = {}): void {
        this.entries.set(key, { value, expiry: typeof maxAge === "number" ? Date.now() + maxAge : Number.POSITIVE_INFINITY });
    }
    delete(key: string): void {
        this.entries.delete(key);
    }
}

const ENDPOINTS = { token: "/v1/token", introspect: "/v1/introspect", revoke: "/v1/revoke", keys: "/v1/keys" } as const;

function basic(client: { clientId: string; clientSecret: string }): string {
    return "Basic " + Buffer.from(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`).toString("base64");
}

export async function startLocalOkta(opts: LocalOktaOptions): Promise<LocalOkta> {
    const { default: Provider, errors } = await import("oidc-provider");
    // oidc-provider's own adapter (no exports map restricts the path), with a store that does not evict.
    const { default: MemoryAdapter } = (await import("oidc-provider/lib/adapters/memory_adapter.js" as string)) as {
        default: new (model: string, store: UnboundedStore) => object;
    };
    const store = new UnboundedStore();
    const authServerId = opts.authServerId ?? "ausLocal0000000000001";
    const prefix = `/oauth2/${authServerId}`;
    const ttl = opts.accessTokenTtlSeconds ?? 3600;

    const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
    const kid = `local-${Date.now().toString(36)}`;
    const signingJwk = { ...(await exportJWK(privateKey)), kid, alg: "RS256", use: "sig" };
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: "RS256", use: "sig" };

    const calls: Record<string, number> = { token: 0, introspect: 0, revoke: 0, keys: 0, metadata: 0 };
    let fault: Fault = { kind: "none" };
    let callback: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;

    const server: Server = createServer((req, res) => {
        const url = req.url ?? "/";
        if (opts.awayPath && req.method === "POST" && url.split("?")[0] === opts.awayPath) {
            const seconds = Math.min(300, Math.max(1, Number(new URLSearchParams(url.split("?")[1] ?? "").get("seconds")) || 20));
            fault = { kind: "down" };
            setTimeout(() => (fault = { kind: "none" }), seconds * 1000).unref();
            res.writeHead(200, { "content-type": "text/plain" }).end(`away for ${seconds} s\n`);
            return;
        }
        if (!url.startsWith(prefix + "/")) {
            res.writeHead(404).end();
            return;
        }
        let rest = url.slice(prefix.length);
        const pathOnly = rest.split("?")[0];
        const endpoint = (Object.keys(ENDPOINTS) as (keyof typeof ENDPOINTS)[]).find((k) => ENDPOINTS[k] === pathOnly);
        if (endpoint) calls[endpoint]++;
        if (pathOnly.startsWith("/.well-known/")) calls.metadata++;
        // Okta serves the RFC 8414 path too; oidc-provider serves the same document at the OIDC path.
        if (pathOnly === "/.well-known/oauth-authorization-server") rest = "/.well-known/openid-configuration";

        if (fault.kind === "down") {
            req.socket.destroy();
            return;
        }
        if (fault.kind === "introspectionStatus" && endpoint === "introspect") {
            req.resume();
            res.writeHead(fault.status, { "content-type": "application/json", ...fault.headers }).end(fault.body ?? "");
            return;
        }
        // oidc-provider accepts client_secret_basic and client_secret_post for either registration
        // (shared/client_auth.js); Okta holds a client to the one it is registered with: a client
        // registered for client_secret_post that sends Basic is refused, as there.
        if (endpoint === "introspect" && opts.introspectionClient?.authMethod === "client_secret_post" && /^basic /i.test(req.headers.authorization ?? "")) {
            req.resume();
            res.writeHead(401, { "content-type": "application/json", "www-authenticate": 'Basic realm="introspection"' }).end(
                '{"error":"invalid_client","error_description":"client authentication method mismatch"}',
            );
            return;
        }
        const forward = () => {
            (req as IncomingMessage & { originalUrl?: string }).originalUrl = prefix + rest; // tells it where it is mounted
            req.url = rest;
            callback?.(req, res);
        };
        if (fault.kind === "slow") setTimeout(forward, fault.delayMs);
        else forward();
    });
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", resolve);
    });
    const port = (server.address() as AddressInfo).port;
    const issuer = `http://${opts.host ?? "127.0.0.1"}:${port}${prefix}`;

    // Without an authorize hook, each client may have any subset of its `scopes`.
    const allowedScopes = new Map(opts.clients.map((c) => [c.clientId, new Set(c.scopes)]));
    const authorize =
        opts.authorize ??
        ((clientId: string, requested: string[]) => {
            const allowed = allowedScopes.get(clientId);
            return allowed && requested.every((s) => allowed.has(s)) ? { scopes: requested, ttlSeconds: ttl } : undefined;
        });
    const provider = new Provider(issuer, {
        clients: [
            ...opts.clients.map((c) => ({
                client_id: c.clientId,
                ...(c.authMethod === "private_key_jwt"
                    ? { jwks: c.jwks, token_endpoint_auth_method: "private_key_jwt" as const }
                    : { client_secret: c.clientSecret, token_endpoint_auth_method: "client_secret_basic" as const }),
                grant_types: ["client_credentials"],
                response_types: [],
                redirect_uris: [],
                scope: c.scopes.join(" "),
            })),
            ...(opts.introspectionClient
                ? [
                      {
                          client_id: opts.introspectionClient.clientId,
                          ...(opts.introspectionClient.clientSecret ? { client_secret: opts.introspectionClient.clientSecret } : {}),
                          ...(opts.introspectionClient.jwks ? { jwks: opts.introspectionClient.jwks } : {}),
                          grant_types: [],
                          response_types: [],
                          redirect_uris: [],
                          token_endpoint_auth_method: opts.introspectionClient.authMethod ?? ("client_secret_basic" as const),
                      },
                  ]
                : []),
        ],
        jwks: { keys: [signingJwk] },
        ttl: { ClientCredentials: ttl },
        adapter: (model: string) => new MemoryAdapter(model, store) as never,
        scopes: opts.scopes,
        routes: {
            token: ENDPOINTS.token,
            introspection: ENDPOINTS.introspect,
            revocation: ENDPOINTS.revoke,
            jwks: ENDPOINTS.keys,
            authorization: "/v1/authorize",
            userinfo: "/v1/userinfo",
            end_session: "/v1/logout",
        },
        features: {
            devInteractions: { enabled: false },
            clientCredentials: { enabled: true },
            revocation: { enabled: true },
            introspection: {
                enabled: true,
                // As in Okta: the dedicated introspection client may introspect any token of this server.
                allowedPolicy: async (_ctx, client) => client.clientId === opts.introspectionClient?.clientId,
            },
            resourceIndicators: {
                enabled: true,
                defaultResource: async () => opts.audience,
                useGrantedResource: async () => true,
                getResourceServerInfo: async (ctx, resource, client) => {
                    if (resource !== opts.audience) throw new errors.InvalidTarget();
                    const requested = String(ctx.oidc.params?.scope ?? "")
                        .split(" ")
                        .filter(Boolean);
                    const decision = authorize(client.clientId, requested);
                    if (!decision) throw new errors.AccessDenied("Policy evaluation failed for this request, please check the policy configurations.");
                    return {
                        scope: decision.scopes.join(" "),
                        audience: opts.audience,
                        accessTokenTTL: decision.ttlSeconds,
                        accessTokenFormat: opts.accessTokenFormat ?? "opaque",
                        ...(opts.accessTokenFormat === "jwt" ? { jwt: { sign: { alg: "RS256" as const } } } : {}),
                    };
                },
            },
        },
        // Okta's access-token claims: scopes as the `scp` array, the client id as `cid`.
        extraTokenClaims: async (_ctx, token) => {
            const t = token as { scope?: string; clientId?: string };
            return { scp: t.scope ? t.scope.split(" ") : [], cid: t.clientId, ver: 1 };
        },
    });
    provider.on("server_error", () => {});

    // Okta introspects and revokes the JWT access tokens it issues; oidc-provider refuses to
    // (shared/reject_structured_tokens.js, which runs after client authentication). So: the JWTs
    // it issues are remembered by jti as it issues them, and when it refuses one at introspection
    // or revocation, the client having been authenticated by oidc-provider itself, the answer is
    // given from that record, for a token whose signature is this server's. Opaque tokens are
    // untouched: oidc-provider answers for them.
    // Only what the JWT cannot say is kept: who it was issued to, and whether it was revoked. (The
    // model's exp is not set yet when a structured token is emitted; the claims come from the JWT.)
    const issuedJwts = new Map<string, { clientId: string; revoked: boolean }>();
    // Emitted by BaseModel#save for a token it does not store (lib/models/base_model.js); not in the typings.
    (provider as unknown as { on(event: string, listener: (token: { jti: string; clientId: string }) => void): void }).on(
        "client_credentials.issued",
        (token) => {
            issuedJwts.set(token.jti, { clientId: token.clientId, revoked: false });
        },
    );
    const publicKeyForJwts = await importJWK(publicJwk, "RS256");
    provider.use(async (ctx, next) => {
        await next();
        const oidc = (ctx as unknown as { oidc?: { route?: string; client?: { clientId: string }; params?: { token?: string } } }).oidc;
        const body = ctx.body as { error?: string } | undefined;
        if (!oidc?.client || body?.error !== "unsupported_token_type" || (oidc.route !== "introspection" && oidc.route !== "revocation")) return;
        let claims: JWTPayload | undefined;
        try {
            claims = (await jwtVerify(String(oidc.params?.token ?? ""), publicKeyForJwts, { issuer })).payload;
        } catch {
            claims = undefined; // not one of this server's tokens, or expired
        }
        const record = claims?.jti ? issuedJwts.get(claims.jti) : undefined;
        ctx.status = 200;
        if (oidc.route === "revocation") {
            // RFC 7009 §2.1: only the client the token was issued to may revoke it; otherwise 200, no effect.
            if (record && record.clientId === oidc.client.clientId) record.revoked = true;
            ctx.body = "";
            return;
        }
        ctx.body =
            claims && record && !record.revoked
                ? {
                      active: true,
                      scope: Array.isArray(claims.scp) ? claims.scp.join(" ") : "",
                      client_id: record.clientId,
                      token_type: "Bearer",
                      exp: claims.exp,
                      iat: claims.iat,
                      iss: issuer,
                      aud: claims.aud,
                      sub: claims.sub,
                      jti: claims.jti,
                      cid: record.clientId,
                  }
                : { active: false };
    });
    callback = provider.callback();

    const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
    const post = async (path: string, auth: string, body: string) => {
        const res = await fetch(`${issuer}${path}`, {
            method: "POST",
            headers: { authorization: auth, "content-type": "application/x-www-form-urlencoded" },
            body,
        });
        const text = await res.text();
        return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
    };

    const local: LocalOkta = {
        issuer,
        tokenUrl: `${issuer}${ENDPOINTS.token}`,
        introspectionUrl: `${issuer}${ENDPOINTS.introspect}`,
        revocationUrl: `${issuer}${ENDPOINTS.revoke}`,
        jwksUrl: `${issuer}${ENDPOINTS.keys}`,
        metadataUrl: `${issuer}/.well-known/oauth-authorization-server`,
        calls,
        publicJwk,
        setFault(f) {
            fault = f;
        },
        forge: (claims, header) => new SignJWT(claims).setProtectedHeader({ alg: "RS256", kid, ...header }).sign(privateKey),
        stopListening: () =>
            new Promise<void>((resolve) => {
                server.closeAllConnections();
                server.close(() => resolve());
            }),
        startListening: () => new Promise<void>((resolve) => server.listen(port, opts.host ?? "127.0.0.1", resolve)),
        requestToken: (client, scope) => post(ENDPOINTS.token, basic(client), form({ grant_type: "client_credentials", scope })),
        async token(client, scope) {
            const r = await local.requestToken(client, scope);
            if (r.status !== 200 || typeof r.body.access_token !== "string") {
                throw new Error(`token request for ${client.clientId} (${scope}) failed: ${r.status} ${String(r.body.error)}`);
            }
            return r.body.access_token;
        },
        async revoke(client, token) {
            return (await post(ENDPOINTS.revoke, basic(client), form({ token, token_type_hint: "access_token" }))).status;
        },
        stop: () =>
            new Promise<void>((resolve) => {
                server.closeAllConnections();
                server.close(() => resolve());
            }),
    };
    return local;
}
