// The headers the upstream receives: hop-by-hop headers dropped, every inbound header in the
// identity namespace dropped (any case, `_` for `-`), the gateway's identity headers added,
// X-Forwarded-* set, and Authorization removed when credentials are hidden. Pure.
import { queryValues } from "./extractToken";

export interface Identity {
    clientId?: string;
    subject?: string;
    scopes: ReadonlySet<string>;
}

const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade", "proxy-connection"]);

/** `X-Auth-Client_Id`, `x-auth-client-id`, `X_AUTH_CLIENT_ID` all land in the namespace `x-auth-`. */
export function canonicalHeaderName(name: string): string {
    return name.toLowerCase().replace(/_/g, "-");
}

/** A header value the gateway derived from a token: visible ASCII and spaces only. */
function safeValue(value: string): string | undefined {
    return /^[\x20-\x7e]*$/.test(value) && value.length <= 1024 ? value : undefined;
}

export function identityHeaders(prefix: string, identity: Identity): Record<string, string> {
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
    clientIp: string;
    protocol: "http" | "https";
    host?: string;
}

export function forwardHeaders(inbound: Record<string, string | string[] | undefined>, ctx: ForwardContext): Record<string, string | string[]> {
    const namespace = canonicalHeaderName(ctx.identityPrefix);
    const listedInConnection = new Set(
        String(inbound.connection ?? "")
            .split(",")
            .map((s) => s.trim().toLowerCase())
            .filter(Boolean),
    );
    const out: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(inbound)) {
        if (value === undefined) continue;
        const lower = name.toLowerCase();
        if (HOP_BY_HOP.has(lower) || listedInConnection.has(lower)) continue;
        if (canonicalHeaderName(lower).startsWith(namespace)) continue; // spoofed identity
        if (lower === "authorization" && ctx.hideCredentials) continue;
        if (lower === "host" || lower.startsWith("x-forwarded-")) continue; // set below
        out[lower] = value;
    }
    const priorFor = inbound["x-forwarded-for"];
    const prior = Array.isArray(priorFor) ? priorFor.join(", ") : priorFor;
    out["x-forwarded-for"] = prior ? `${prior}, ${ctx.clientIp}` : ctx.clientIp;
    out["x-forwarded-proto"] = ctx.protocol;
    if (ctx.host) out["x-forwarded-host"] = ctx.host;
    Object.assign(out, identityHeaders(ctx.identityPrefix, ctx.identity));
    return out;
}

/** The query string forwarded upstream: every `access_token` parameter removed, the rest untouched. */
export function forwardQuery(query: string): string {
    if (query === "") return "";
    return query
        .split("&")
        .filter((pair) => queryValues(pair, "access_token").length === 0)
        .join("&");
}
