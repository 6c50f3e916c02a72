// Checks on the request's shape that decide whether the gateway and the upstream read the same
// request: the Host header, method overrides and what makes an OPTIONS a real CORS preflight.
// Pure: each takes the raw header list (`rawHeaders`: every name and value as received, repeats
// included) rather than Node's folded `headers`, which keeps only the first of some duplicates.
import { canonicalHeaderName, METHOD_OVERRIDE_HEADERS, METHOD_OVERRIDE_PARAM, PATH_OVERRIDE_HEADERS } from "./headerNames";

/**
 * What the gateway does with method overrides (X-HTTP-Method-Override and kin, `?_method=`):
 * `strip` removes them, so the upstream runs the request line's method, the one the rules were
 * checked for; `evaluate` forwards them and requires the scopes of every method named.
 */
export const METHOD_OVERRIDE_MODES = ["strip", "evaluate"] as const;
export type MethodOverrideMode = (typeof METHOD_OVERRIDE_MODES)[number];

/** Values of every header whose canonical name (lower case, `_` as `-`) is `name`. */
export function rawHeaderValues(rawHeaders: readonly string[], name: string): string[] {
    const out: string[] = [];
    for (let i = 0; i < rawHeaders.length; i += 2) if (canonicalHeaderName(rawHeaders[i]) === name) out.push(rawHeaders[i + 1]);
    return out;
}

/** The transfer codings a request names, in order, lower-cased (every Transfer-Encoding field, RFC 9112 §6.1). */
export function transferCodings(rawHeaders: readonly string[]): string[] {
    return rawHeaderValues(rawHeaders, "transfer-encoding")
        .flatMap((v) => v.split(","))
        .map((c) => c.trim().toLowerCase())
        .filter(Boolean);
}

/** RFC 3986 host (reg-name, IPv4 or IP-literal) with an optional port: RFC 9110 §7.2 Host. */
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})*)(?::\d{0,5})?$/;

/**
 * RFC 9112 §3.2: a server MUST answer 400 to a request with more than one Host header, or with
 * a Host whose value is invalid. (HTTP/1.1 without Host is refused by Node's parser already.)
 */
export function hostProblem(rawHeaders: readonly string[]): string | undefined {
    const hosts = rawHeaderValues(rawHeaders, "host");
    if (hosts.length > 1) return "more than one Host header";
    if (hosts.length === 1 && !HOST.test(hosts[0])) return "invalid Host header";
    return undefined;
}

/**
 * A query or form component decoded as the servers behind the gateway decode it: `+` is a space,
 * each valid `%XX` one byte, anything else kept as it is (PHP's php_url_decode, WHATWG
 * application/x-www-form-urlencoded). Bytes become latin1 characters, so no sequence is refused:
 * a strict UTF-8 decode would skip `_method%00%ff`, which PHP reads as `_method`.
 */
export function formDecode(component: string): string {
    return component.replace(/\+/g, " ").replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/**
 * The name under which PHP registers a request parameter (php-src main/php_variables.c,
 * php_register_variable_ex): a NUL ends it, leading spaces are dropped, ` ` and `.` become `_`,
 * and so does a `[` without its `]` (with every ` `, `.` and `[` after it); `name[…]` is the
 * array `name`. So `.method`, `%20_method`, `_method%00x` and `[method` are all `_method` to
 * Symfony and Laravel. Pure.
 */
export function phpParameterName(decoded: string): string {
    const nul = decoded.indexOf("\0");
    const name = (nul === -1 ? decoded : decoded.slice(0, nul)).replace(/^ +/, "");
    const open = name.indexOf("[");
    if (open === -1) return name.replace(/[ .]/g, "_");
    const head = name.slice(0, open).replace(/[ .]/g, "_");
    if (name.indexOf("]", open + 1) !== -1) return head;
    return `${head}_${name.slice(open + 1).replace(/[ .[]/g, "_")}`;
}

/**
 * Whether some framework reads this query or form parameter (its raw, undecoded name) as a
 * method override: `_method` in any case (Rails, Laravel and Symfony, Express's method-override,
 * Hono), after the decoding and the name mangling PHP applies.
 */
export function isMethodOverrideParam(rawName: string): boolean {
    return phpParameterName(formDecode(rawName)).toLowerCase() === METHOD_OVERRIDE_PARAM;
}

/** The raw name of a `name=value` pair. */
export function pairName(pair: string): string {
    const eq = pair.indexOf("=");
    return eq === -1 ? pair : pair.slice(0, eq);
}

/** The values of every parameter of a query (or form body) that is a method override. */
export function overrideParamValues(query: string): string[] {
    if (query === "") return [];
    return query
        .split("&")
        .filter((pair) => isMethodOverrideParam(pairName(pair)))
        .map((pair) => (pair.includes("=") ? formDecode(pair.slice(pair.indexOf("=") + 1)) : ""));
}

/** The methods a request asks the upstream to run instead of its own, upper-cased. */
export function overrideMethods(rawHeaders: readonly string[], query: string): string[] {
    const fromHeaders = METHOD_OVERRIDE_HEADERS.flatMap((h) => rawHeaderValues(rawHeaders, h));
    const fromQuery = overrideParamValues(query);
    return [
        ...new Set(
            [...fromHeaders, ...fromQuery]
                .flatMap((v) => v.split(","))
                .map((m) => m.trim().toUpperCase())
                .filter(Boolean),
        ),
    ];
}

/**
 * A real CORS preflight: OPTIONS with Origin and Access-Control-Request-Method, and nothing a
 * preflight never carries: no body, no credentials, no method override. Anything else is an
 * ordinary OPTIONS request and needs a token like any other.
 */
export function isCorsPreflight(method: string, rawHeaders: readonly string[]): boolean {
    if (method !== "OPTIONS") return false;
    const has = (name: string) => rawHeaderValues(rawHeaders, name).length > 0;
    if (!has("origin") || !has("access-control-request-method")) return false;
    if (has("authorization") || has("cookie") || has("transfer-encoding")) return false;
    if (rawHeaderValues(rawHeaders, "content-length").some((v) => v.trim() !== "0")) return false;
    return !METHOD_OVERRIDE_HEADERS.some(has) && !PATH_OVERRIDE_HEADERS.some(has);
}
