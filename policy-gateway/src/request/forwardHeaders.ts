// The headers the upstream receives: hop-by-hop headers dropped, every inbound header in the
// identity namespace dropped (any case, `_` for `-`), the gateway's identity headers added,
// X-Forwarded-* set, and Authorization removed when credentials are hidden. Pure.
//
// X-Forwarded-* from the peer are believed only when the peer is a trusted proxy (TRUST_PROXY):
// behind a load balancer the chain it sent is extended and its X-Forwarded-Proto kept; from any
// other peer they are replaced, so a client cannot tell the API it came from elsewhere or over
// https.
import { queryValues } from "./extractToken";
import { canonicalHeaderName, HOP_BY_HOP_HEADERS, listedInConnection, METHOD_OVERRIDE_HEADERS, PATH_OVERRIDE_HEADERS } from "./headerNames";
import { isMethodOverrideParam, pairName } from "./requestShape";
import { forwardedForAddresses } from "./trustProxy";

export { canonicalHeaderName };

export interface Identity {
    clientId?: string;
    subject?: string;
    scopes: ReadonlySet<string>;
}

// `expect` too: the gateway answers `Expect: 100-continue` itself, once the request is allowed.
const HOP_BY_HOP = new Set([...HOP_BY_HOP_HEADERS, "expect"]);

/**
 * Headers through which a client could tell the API who or where it is, outside X-Forwarded-*
 * (which the gateway sets itself): RFC 7239 Forwarded and the client-IP headers of common proxies
 * and CDNs that frameworks read (Express `trust proxy` reads X-Forwarded-*, Rails X-Real-IP and
 * Client-IP, Spring Forwarded, Laravel/Symfony X-Forwarded-*, many apps True-Client-IP). Dropped
 * whatever the peer, compared by canonical name, so `X_Real_IP` goes too.
 */
const CLIENT_ADDRESS_HEADERS = new Set([
    "forwarded",
    "x-forwarded",
    "x-real-ip",
    "true-client-ip",
    "x-client-ip",
    "client-ip",
    "cf-connecting-ip",
    "fastly-client-ip",
    "x-cluster-client-ip",
    "x-original-forwarded-for",
    "x-originating-ip",
    "x-remote-ip",
    "x-remote-addr",
    "x-proxyuser-ip",
]);

/** A header value the gateway derived from a token: visible ASCII and spaces only. */
function safeValue(value: string): string | undefined {
    return /^[\x20-\x7e]*$/.test(value) && value.length <= 1024 ? value : undefined;
}

/**
 * Each verdict's identity headers, built once: a cached token's verdict is the same object on
 * every request, so its headers are too. Held weakly: they go with the verdict.
 */
const headerSets = new WeakMap<Identity, { prefix: string; headers: Readonly<Record<string, string>> }>();

/** A request forwarded without a verified identity: it gets no identity headers. */
export const NO_IDENTITY: Identity = Object.freeze({ scopes: new Set<string>() });

/** The identity headers of a verified token, under the configured prefix. */
export function identityHeaders(prefix: string, identity: Identity): Readonly<Record<string, string>> {
    const known = headerSets.get(identity);
    if (known?.prefix === prefix) return known.headers;
    const headers = Object.freeze(buildIdentityHeaders(prefix, identity));
    headerSets.set(identity, { prefix, headers });
    return headers;
}

function buildIdentityHeaders(prefix: string, identity: Identity): Record<string, string> {
    const out: Record<string, string> = {};
    const put = (name: string, value: string | undefined) => {
        const v = value === undefined ? undefined : safeValue(value);
        if (v !== undefined) out[`${prefix}${name}`.toLowerCase()] = v;
    };
    put("Client-Id", identity.clientId);
    put("Subject", identity.subject);
    put("Scopes", [...identity.scopes].join(" "));
    return out;
}

export interface ForwardContext {
    identityPrefix: string;
    hideCredentials: boolean;
    identity: Identity;
    /** The address of the connection's peer: the client itself, or the trusted proxy in front. */
    peerIp: string;
    /** The peer is a trusted proxy: its X-Forwarded-For chain, -Proto and -Host are kept. */
    trustedPeer: boolean;
    /** The protocol of the connection to the gateway itself. */
    protocol: "http" | "https";
    host?: string;
    /** Drop method-override headers (METHOD_OVERRIDE=strip): the upstream runs the request line's method. */
    stripMethodOverride: boolean;
    /** The request id the gateway answers and logs with: the upstream gets the same one, never a client's invalid or repeated one. */
    requestId?: string;
}

function joined(value: string | string[] | undefined): string | undefined {
    const v = Array.isArray(value) ? value.join(", ") : value;
    return v?.trim() ? v : undefined;
}

/** What a trusted proxy said the client used; only `http` or `https` is believed. */
function forwardedProto(value: string | string[] | undefined): "http" | "https" | undefined {
    const last = joined(value)?.split(",").at(-1)?.trim().toLowerCase();
    return last === "http" || last === "https" ? last : undefined;
}

export function forwardHeaders(inbound: Record<string, string | string[] | undefined>, ctx: ForwardContext): Record<string, string | string[]> {
    const namespace = canonicalHeaderName(ctx.identityPrefix);
    const listed = listedInConnection(inbound.connection);
    const out: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(inbound)) {
        if (value === undefined) continue;
        const lower = name.toLowerCase();
        // `X_Foo`: servers that fold `_` into `-` (WSGI, Rack, PHP) would read it as `X-Foo`; like
        // nginx (underscores_in_headers off), a header with an underscore is not forwarded. Past
        // this line a name is its own canonical form (canonicalHeaderName).
        if (lower.includes("_")) continue;
        if (HOP_BY_HOP.has(lower) || listed.has(lower)) continue;
        if (lower.startsWith(namespace)) continue; // spoofed identity
        if (lower === "authorization" && ctx.hideCredentials) continue;
        if (lower === "host" || lower.startsWith("x-forwarded-")) continue; // set below
        if (CLIENT_ADDRESS_HEADERS.has(lower)) continue;
        if ((PATH_OVERRIDE_HEADERS as readonly string[]).includes(lower)) continue;
        if (ctx.stripMethodOverride && (METHOD_OVERRIDE_HEADERS as readonly string[]).includes(lower)) continue;
        out[lower] = value;
    }
    const xff = inbound["x-forwarded-for"];
    const prior = ctx.trustedPeer && xff !== undefined ? forwardedForAddresses(Array.isArray(xff) ? xff : [xff]).join(", ") : "";
    out["x-forwarded-for"] = prior ? `${prior}, ${ctx.peerIp}` : ctx.peerIp;
    out["x-forwarded-proto"] = (ctx.trustedPeer ? forwardedProto(inbound["x-forwarded-proto"]) : undefined) ?? ctx.protocol;
    // The Host the gateway checked, never an X-Forwarded-Host: the load balancer does not send one
    // (ELB User Guide, "HTTP headers and your Application Load Balancer": X-Forwarded-For, -Proto,
    // -Port), so any that arrives is the client's own, including hosts the Host check refuses.
    if (ctx.host) out["x-forwarded-host"] = ctx.host;
    if (ctx.requestId !== undefined) out["x-request-id"] = ctx.requestId;
    Object.assign(out, identityHeaders(ctx.identityPrefix, ctx.identity));
    return out;
}

/**
 * The query string forwarded upstream: every `access_token` parameter removed and, with
 * `stripMethodOverride`, every parameter a framework reads as `_method` (isMethodOverrideParam:
 * also `.method`, `%20_method`, `_method%00`, which PHP registers as `_method`); the rest untouched.
 */
export function forwardQuery(query: string, stripMethodOverride = false): string {
    if (query === "") return "";
    return query
        .split("&")
        .filter((pair) => queryValues(pair, "access_token").length === 0 && !(stripMethodOverride && isMethodOverrideParam(pairName(pair))))
        .join("&");
}
