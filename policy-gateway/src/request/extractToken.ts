// Where the access token comes from: `Authorization: Bearer <token>` or the `access_token` query
// parameter, exactly one of them, once (MuleSoft's contract). Pure.

/** Tokens longer than this are refused before anything else looks at them. */
export const MAX_TOKEN_LENGTH = 8192;

export type Extraction =
    { ok: true; token: string; source: "header" | "query" } | { ok: false; status: 400; body: { error: string; error_description?: string } };

/** MuleSoft's answer when no token was sent. */
export const NO_TOKEN_ERROR = "Access token was not provided";

/** RFC 6750 b64token. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const BEARER = /^bearer +(\S+)$/i;

const refuse = (description: string): Extraction => ({ ok: false, status: 400, body: { error: "invalid_request", error_description: description } });

/**
 * @param authorizations every `Authorization` header value as received (Node keeps only the first
 *   of duplicates in `req.headers`, so callers pass them from `rawHeaders`)
 * @param queryTokens every `access_token` query parameter value
 */
export function extractToken(authorizations: readonly string[], queryTokens: readonly string[]): Extraction {
    if (authorizations.length > 1) return refuse("more than one Authorization header");
    if (queryTokens.length > 1) return refuse("more than one access_token query parameter");
    const header = authorizations[0];
    const query = queryTokens[0];
    if (header !== undefined && query !== undefined) return refuse("the access token was sent both in the Authorization header and in the query");

    if (header !== undefined) {
        if (header.length > MAX_TOKEN_LENGTH + 16) return refuse("access token too large");
        const m = BEARER.exec(header.trim());
        if (!m) return refuse("the Authorization header must be 'Bearer <token>'");
        return checked(m[1], "header");
    }
    if (query !== undefined) return checked(query, "query");
    return { ok: false, status: 400, body: { error: NO_TOKEN_ERROR } };
}

function checked(token: string, source: "header" | "query"): Extraction {
    if (token.length > MAX_TOKEN_LENGTH) return refuse("access token too large");
    if (token.length === 0 || !B64TOKEN.test(token)) return refuse("malformed access token");
    return { ok: true, token, source };
}

/** All values of one header, case-insensitively, from Node's flat `rawHeaders` list. */
export function headerValues(rawHeaders: readonly string[], name: string): string[] {
    const out: string[] = [];
    for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i].toLowerCase() === name) out.push(rawHeaders[i + 1]);
    return out;
}

/** All values of one query parameter (form-decoded), from the raw query string. */
export function queryValues(query: string, name: string): string[] {
    if (query === "") return [];
    const out: string[] = [];
    for (const pair of query.split("&")) {
        const eq = pair.indexOf("=");
        const rawName = eq === -1 ? pair : pair.slice(0, eq);
        let decodedName: string;
        try {
            decodedName = decodeURIComponent(rawName.replace(/\+/g, " "));
        } catch {
            continue;
        }
        if (decodedName !== name) continue;
        const rawValue = eq === -1 ? "" : pair.slice(eq + 1);
        try {
            out.push(decodeURIComponent(rawValue.replace(/\+/g, " ")));
        } catch {
            out.push(rawValue); // undecodable: extraction refuses it as malformed
        }
    }
    return out;
}
