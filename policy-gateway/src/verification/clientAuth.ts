// How the gateway authenticates to the introspection endpoint (RFC 7662 §2.1 leaves it to the
// server; Okta supports these): client_secret_basic (RFC 6749 §2.3.1), client_secret_post, or
// private_key_jwt (RFC 7523 §2.2, OpenID Connect Core §9): a short-lived assertion signed with the
// client's private key, so no shared secret exists at all. The key may live in AWS KMS, which signs
// the assertion and never hands the key out.
import { createPrivateKey, randomUUID, type KeyObject } from "node:crypto";
import { base64url, SignJWT } from "jose";

export const CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt"] as const;
export type ClientAuthMethod = (typeof CLIENT_AUTH_METHODS)[number];

export type ClientCredentials =
    | { kind: "secret"; secret: string }
    | { kind: "key"; key: KeyObject; alg: "RS256" | "ES256"; kid?: string }
    /** An RSA key in AWS KMS (INTROSPECTION_CLIENT_KMS_KEY_ARN): signs RS256, by a call to KMS. */
    | { kind: "kms"; keyArn: string; alg: "RS256"; kid?: string };

/** Signs a JWS signing input with a key held elsewhere (AWS KMS), and returns the raw signature. */
export type RemoteSigner = (keyArn: string, signingInput: Uint8Array) => Promise<Uint8Array>;

export interface IntrospectionClient {
    id: string;
    credentials: ClientCredentials;
    /** Set explicitly (INTROSPECTION_AUTH_METHOD); otherwise chosen from the credentials and the server's metadata. */
    method?: ClientAuthMethod;
}

/** The smallest RSA key that signs RS256 (RFC 7518 §3.3: "A key of size 2048 bits or larger MUST be used"). */
export const MIN_RSA_BITS = 2048;

/**
 * A private key from PEM (PKCS#8 or PKCS#1/SEC1) or a JWK's JSON: an RSA key signs RS256, a P-256
 * key ES256 (what Okta accepts for private_key_jwt). Throws a message naming `variable`.
 */
export function parsePrivateKey(text: string, variable: string, kid?: string): Extract<ClientCredentials, { kind: "key" }> {
    let key: KeyObject;
    let jwkKid: string | undefined;
    try {
        if (text.trim().startsWith("{")) {
            const jwk = JSON.parse(text) as { kid?: string };
            jwkKid = jwk.kid;
            key = createPrivateKey({ key: jwk as never, format: "jwk" });
        } else key = createPrivateKey(text);
    } catch {
        throw new Error(`${variable}: is not a private key (expected a PEM private key or a private JWK)`);
    }
    const type = key.asymmetricKeyType;
    const curve = key.asymmetricKeyDetails?.namedCurve;
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    // jose signs RS256 only with 2048 bits or more (checkKeyLength: "RS256 requires key
    // modulusLength to be 2048 bits or larger"): a smaller key would pass here and fail every
    // introspection, so it is refused at start.
    if (type === "rsa" && bits < MIN_RSA_BITS)
        throw new Error(
            `${variable}: is a ${bits}-bit RSA key; RS256 needs at least ${MIN_RSA_BITS} bits (openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048)`,
        );
    if (type === "rsa") return { kind: "key", key, alg: "RS256", kid: kid ?? jwkKid };
    if (type === "ec" && (curve === "prime256v1" || curve === "P-256")) return { kind: "key", key, alg: "ES256", kid: kid ?? jwkKid };
    throw new Error(`${variable}: must be an RSA or P-256 EC private key (got ${type}${curve ? ` ${curve}` : ""})`);
}

/**
 * The method to use: the configured one, else the one the credentials imply (a key:
 * private_key_jwt; a secret: client_secret_basic, or client_secret_post when the server
 * advertises only that). Pure.
 */
export function chooseMethod(client: IntrospectionClient, advertised: readonly string[] | undefined): ClientAuthMethod {
    if (client.method) return client.method;
    if (client.credentials.kind !== "secret") return "private_key_jwt";
    if (advertised && !advertised.includes("client_secret_basic") && advertised.includes("client_secret_post")) return "client_secret_post";
    return "client_secret_basic";
}

/** RFC 7523 §3: iss = sub = the client id, aud = the endpoint, a short exp and a unique jti. Pure but for the jti. */
export function assertionClaims(clientId: string, endpoint: string, now: number) {
    const iat = Math.floor(now / 1000);
    return { iss: clientId, sub: clientId, aud: endpoint, iat, exp: iat + 60, jti: randomUUID() };
}

/**
 * A compact JWS (RFC 7515 §7.1) whose signature a remote key makes: the signing input is
 * BASE64URL(header) "." BASE64URL(claims), the same bytes jose would sign.
 */
export async function remotelySignedJwt(
    header: Record<string, string>,
    claims: object,
    sign: (signingInput: Uint8Array) => Promise<Uint8Array>,
): Promise<string> {
    const signingInput = `${base64url.encode(JSON.stringify(header))}.${base64url.encode(JSON.stringify(claims))}`;
    return `${signingInput}.${base64url.encode(await sign(new TextEncoder().encode(signingInput)))}`;
}

/** The headers and form fields that authenticate one introspection request. */
export async function authenticate(
    client: IntrospectionClient,
    method: ClientAuthMethod,
    endpoint: string,
    now = Date.now(),
    remoteSigner?: RemoteSigner,
): Promise<{ headers: Record<string, string>; form: Record<string, string> }> {
    const c = client.credentials;
    if (method === "private_key_jwt") {
        if (c.kind === "secret") throw new Error("private_key_jwt needs INTROSPECTION_CLIENT_PRIVATE_KEY or INTROSPECTION_CLIENT_KMS_KEY_ARN");
        const header = { alg: c.alg, ...(c.kid ? { kid: c.kid } : {}), typ: "JWT" };
        const claims = assertionClaims(client.id, endpoint, now);
        let assertion: string;
        if (c.kind === "kms") {
            if (!remoteSigner) throw new Error("INTROSPECTION_CLIENT_KMS_KEY_ARN: no KMS signer in this process");
            assertion = await remotelySignedJwt(header, claims, (input) => remoteSigner(c.keyArn, input));
        } else assertion = await new SignJWT(claims).setProtectedHeader(header).sign(c.key);
        return {
            headers: {},
            form: { client_id: client.id, client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", client_assertion: assertion },
        };
    }
    if (c.kind !== "secret") throw new Error(`${method} needs INTROSPECTION_CLIENT_SECRET`);
    if (method === "client_secret_post") return { headers: {}, form: { client_id: client.id, client_secret: c.secret } };
    // RFC 6749 §2.3.1: both parts form-urlencoded before base64.
    const basic = Buffer.from(`${encodeURIComponent(client.id)}:${encodeURIComponent(c.secret)}`).toString("base64");
    return { headers: { authorization: `Basic ${basic}` }, form: {} };
}
