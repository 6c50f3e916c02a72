// The headers the client receives from an upstream answer. Pure.
import { HOP_BY_HOP_HEADERS, listedInConnection } from "./headerNames";
//
// RFC 9110 §7.6.1: an intermediary removes the connection-specific fields it receives
// (Connection, the fields Connection lists, and the hop-by-hop fields) before forwarding: the
// upstream's `Connection: close` ends the gateway's connection to the upstream, not the client's.

export function responseHeaders(
    upstream: Record<string, string | string[] | undefined>,
    opts: { tokenInQuery: boolean; status: number },
): Record<string, string | string[]> {
    const listed = listedInConnection(upstream.connection);
    const out: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(upstream)) {
        if (value === undefined) continue;
        const lower = name.toLowerCase();
        if (HOP_BY_HOP_HEADERS.has(lower) || listed.has(lower)) continue;
        out[lower] = value;
    }
    // RFC 6750 §2.3: a successful answer to a request whose token was in the URI is marked private.
    if (opts.tokenInQuery && opts.status >= 200 && opts.status < 300) out["cache-control"] = privateCacheControl(out["cache-control"]);
    return out;
}

/** The upstream's Cache-Control, made private: `no-store` and `private` stand, `public` goes. */
export function privateCacheControl(value: string | string[] | undefined): string {
    const directives = (Array.isArray(value) ? value.join(",") : (value ?? ""))
        .split(",")
        .map((d) => d.trim())
        .filter(Boolean);
    const names = directives.map((d) => d.split("=")[0].toLowerCase());
    if (names.includes("no-store") || names.includes("private")) return directives.join(", ");
    return ["private", ...directives.filter((_, i) => names[i] !== "public" && names[i] !== "s-maxage")].join(", ");
}
