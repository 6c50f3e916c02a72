// I/O towards the authorization server: its metadata, and RFC 7662 introspection authenticated
// as the introspection client (its secret, its key, or its key in AWS KMS), over kept-alive
// connections with timeouts.
import { Agent, request } from "undici";
import { authenticate, type ClientAuthMethod, type IntrospectionClient, type RemoteSigner } from "./clientAuth";
import { kmsSigner } from "./kmsSigner";
import { secureUrlProblem } from "../shared/urls";

export interface ServerMetadata {
    issuer: string;
    introspection_endpoint?: string;
    jwks_uri?: string;
    token_endpoint?: string;
    introspection_endpoint_auth_methods_supported?: string[];
}

/** Where the metadata is looked for, in order. */
export const METADATA_PATHS = ["oauth-authorization-server", "openid-configuration"] as const;

export type IntrospectionOutcome =
    | { kind: "answer"; body: unknown }
    | { kind: "rateLimited"; headers: Record<string, string | string[] | undefined> }
    /** `signing_refused`: KMS refused to sign the assertion (`detail`: its error, such as AccessDeniedException), a configuration problem. */
    | { kind: "error"; reason: string; detail?: string };

/**
 * What KMS answers when the key or the permission is wrong, not when it is busy or away (AWS KMS
 * API Reference, Sign, "Errors"): each is a configuration problem, like a refused client secret.
 */
const KMS_REFUSALS = new Set([
    "AccessDeniedException",
    "NotFoundException",
    "DisabledException",
    "KMSInvalidStateException",
    "InvalidKeyUsageException",
    "IncorrectKeyException",
    "InvalidGrantTokenException",
    "UnrecognizedClientException",
]);

export class AuthServerClient {
    private readonly agent: Agent;
    /** Signs assertions whose key is in AWS KMS (its SDK loaded on first use). */
    private readonly remoteSigner: RemoteSigner;

    constructor(
        private readonly timeoutMs: number,
        connections: number,
    ) {
        this.remoteSigner = kmsSigner(timeoutMs);
        this.agent = new Agent({
            connections,
            keepAliveTimeout: 30_000,
            headersTimeout: timeoutMs,
            bodyTimeout: timeoutMs,
            connect: { timeout: timeoutMs },
        });
    }

    /**
     * The issuer's metadata: `{issuer}/.well-known/oauth-authorization-server` (RFC 8414, as Okta
     * serves it), or, when that answers 404, `{issuer}/.well-known/openid-configuration` (OpenID
     * Connect Discovery 1.0 §4). Either must name exactly the configured issuer (a trailing slash
     * included), and carry what the validation mode needs.
     */
    async metadata(issuer: string, needs: ("introspection_endpoint" | "jwks_uri")[]): Promise<ServerMetadata> {
        const base = issuer.replace(/\/$/, "");
        let doc: Record<string, unknown> | undefined;
        for (const wellKnown of METADATA_PATHS) {
            const url = `${base}/.well-known/${wellKnown}`;
            const res = await request(url, { dispatcher: this.agent, signal: AbortSignal.timeout(this.timeoutMs) });
            if (res.statusCode === 404 && wellKnown !== METADATA_PATHS[METADATA_PATHS.length - 1]) {
                await res.body.dump();
                continue;
            }
            if (res.statusCode !== 200) {
                await res.body.dump();
                throw new Error(`issuer metadata: HTTP ${res.statusCode} from ${url}`);
            }
            doc = (await res.body.json()) as Record<string, unknown>;
            break;
        }
        if (!doc) throw new Error("issuer metadata: not found");
        if (doc.issuer !== issuer) throw new Error(`issuer metadata: its issuer is ${JSON.stringify(doc.issuer)}, not OIDC_ISSUER ${issuer}`);
        for (const key of needs) {
            const value = doc[key];
            if (typeof value !== "string") throw new Error(`issuer metadata: no ${key}`);
            const problem = secureUrlProblem(value);
            if (problem) throw new Error(`issuer metadata ${key}: ${problem}`);
        }
        return doc as unknown as ServerMetadata;
    }

    async introspect(endpoint: string, client: IntrospectionClient, method: ClientAuthMethod, token: string): Promise<IntrospectionOutcome> {
        let auth: Awaited<ReturnType<typeof authenticate>>;
        try {
            auth = await authenticate(client, method, endpoint, Date.now(), this.remoteSigner);
        } catch (e) {
            const name = (e as { name?: string }).name ?? "Error";
            return KMS_REFUSALS.has(name)
                ? { kind: "error", reason: "signing_refused", detail: name }
                : { kind: "error", reason: "signing_failed", detail: name };
        }
        try {
            const res = await request(endpoint, {
                dispatcher: this.agent,
                method: "POST",
                headers: {
                    ...auth.headers,
                    "content-type": "application/x-www-form-urlencoded",
                    accept: "application/json",
                },
                body: new URLSearchParams({ token, token_type_hint: "access_token", ...auth.form }).toString(),
                signal: AbortSignal.timeout(this.timeoutMs),
            });
            if (res.statusCode === 429) {
                await res.body.dump();
                return { kind: "rateLimited", headers: res.headers };
            }
            if (res.statusCode !== 200) {
                await res.body.dump();
                return { kind: "error", reason: `http_${res.statusCode}` };
            }
            const text = await res.body.text();
            try {
                return { kind: "answer", body: JSON.parse(text) };
            } catch {
                return { kind: "error", reason: "not_json" };
            }
        } catch (e) {
            const err = e as { name?: string; code?: string };
            const timedOut = err.name === "TimeoutError" || err.name === "AbortError" || /TIMEOUT/.test(err.code ?? "");
            return { kind: "error", reason: timedOut ? "timeout" : "unreachable" };
        }
    }

    close(): Promise<void> {
        return this.agent.close();
    }
}
