// Header names the gateway treats specially, compared in one canonical form. Pure.

/** `X-Auth-Client_Id`, `x-auth-client-id`, `X_AUTH_CLIENT_ID` all land on `x-auth-client-id`. */
export function canonicalHeaderName(name: string): string {
    return name.toLowerCase().replace(/_/g, "-");
}

/**
 * Headers some frameworks read to run another method than the request line's (Express's
 * method-override, Rails, Laravel, Spring's HiddenHttpMethodFilter, ASP.NET): the request says
 * POST, the API executes DELETE.
 */
export const METHOD_OVERRIDE_HEADERS = ["x-http-method-override", "x-http-method", "x-method-override"] as const;
/** The query parameter that does the same (`?_method=DELETE`). */
export const METHOD_OVERRIDE_PARAM = "_method";
/** Headers IIS (URL Rewrite) and Symfony read as the request's real path. */
export const PATH_OVERRIDE_HEADERS = ["x-original-url", "x-rewrite-url"] as const;
/** The request headers a CORS preflight carries (Fetch standard, CORS-preflight request). */
export const PREFLIGHT_HEADERS = [
    "origin",
    "access-control-request-method",
    "access-control-request-headers",
    "access-control-request-private-network",
] as const;

/**
 * The hop-by-hop fields an intermediary removes in both directions (RFC 9110 §7.6.1, and the
 * legacy Keep-Alive and Proxy-Connection), besides those its Connection header lists.
 */
export const HOP_BY_HOP_HEADERS: ReadonlySet<string> = new Set([
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
]);

const NOTHING_LISTED: ReadonlySet<string> = new Set();
/** The last Connection value seen and its names: nearly every request and answer says `keep-alive`. */
let lastListed: { value: string; names: ReadonlySet<string> } = { value: "", names: NOTHING_LISTED };

/** The field names a Connection header lists (RFC 9110 §7.6.1), lower-cased. */
export function listedInConnection(connection: string | string[] | undefined): ReadonlySet<string> {
    if (connection === undefined) return NOTHING_LISTED;
    if (typeof connection === "string" && connection === lastListed.value) return lastListed.names;
    const names = namesIn(connection);
    if (typeof connection === "string") lastListed = { value: connection, names };
    return names;
}

function namesIn(connection: string | string[]): ReadonlySet<string> {
    return new Set(
        (Array.isArray(connection) ? connection.join(",") : connection)
            .split(",")
            .map((s) => s.trim().toLowerCase())
            .filter(Boolean),
    );
}
