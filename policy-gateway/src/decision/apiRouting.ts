// Which API behind the gateway a request is for: by its host (when an API names hosts) and the
// longest path prefix that begins its path, on segment boundaries. Decided before any token or
// rule, so a request that reaches no API is never forwarded anywhere. Pure.
//
// The prefix is compared the way route rules compare paths (routeRules.ts: folded case and
// compatibility forms, every reading of a twice-encoded segment): two APIs may share one upstream
// (a `/admin` API for one consumer, `/` for the rest), and a router that matches `/ADMIN` or
// decodes `/%2561dmin` twice must not receive the admin API's request under the other API's rules.
import { foldSegment, pathReadings } from "./routeRules";

export interface ApiRoute {
    name: string;
    /** Host names (lower case, no port); absent: any host. */
    hosts?: ReadonlySet<string>;
    /** The prefix's folded segments; empty: every path. */
    prefix: readonly string[];
}

export type ApiSelection<A extends ApiRoute> = { kind: "api"; api: A } | { kind: "none" } | { kind: "ambiguous"; names: string[] };

/** A declared prefix (`/orders/v1`) as the folded segments it is matched by. */
export function prefixSegments(pathPrefix: string): string[] {
    return pathPrefix
        .split("/")
        .filter((s) => s !== "")
        .map(foldSegment);
}

/** The host a request addressed, as APIs name hosts: lower case, without the port or a trailing dot. */
export function hostName(authority: string | undefined): string | undefined {
    if (authority === undefined) return undefined;
    const a = authority.trim().toLowerCase();
    const host = a.startsWith("[") ? a.slice(0, a.indexOf("]") + 1) : a.replace(/:\d*$/, "");
    return host.replace(/\.$/, "") || undefined;
}

function startsWith(segments: readonly string[], prefix: readonly string[]): boolean {
    if (prefix.length > segments.length) return false;
    for (let i = 0; i < prefix.length; i++) if (segments[i] !== prefix[i]) return false;
    return true;
}

/** The API for folded path segments: an API naming this host before one for any host, then the longest prefix. */
function selectFor<A extends ApiRoute>(apis: readonly A[], host: string | undefined, segments: readonly string[]): A | undefined {
    let best: A | undefined;
    for (const api of apis) {
        if (api.hosts !== undefined && (host === undefined || !api.hosts.has(host))) continue;
        if (!startsWith(segments, api.prefix)) continue;
        if (
            best === undefined ||
            (api.hosts !== undefined && best.hosts === undefined) ||
            ((api.hosts !== undefined) === (best.hosts !== undefined) && api.prefix.length > best.prefix.length)
        )
            best = api;
    }
    return best;
}

/**
 * The API a request is for. Every reading of its path must lead to the same API: a path whose
 * second decoding reads as another API's (`/%256frders` on a gateway with an `/orders` API) is
 * `ambiguous`, refused rather than sent under the rules of either.
 */
export function selectApi<A extends ApiRoute>(apis: readonly A[], authority: string | undefined, normalizedPath: string): ApiSelection<A> {
    const host = hostName(authority);
    if (apis.length === 1 && apis[0].prefix.length === 0 && apis[0].hosts === undefined) return { kind: "api", api: apis[0] }; // the one-API shorthand
    const chosen = pathReadings(normalizedPath).map((segments) => selectFor(apis, host, segments));
    const names = [...new Set(chosen.map((a) => a?.name ?? ""))];
    if (names.length > 1) return { kind: "ambiguous", names: names.map((n) => n || "none") };
    return chosen[0] ? { kind: "api", api: chosen[0] } : { kind: "none" };
}

/**
 * The path the API's upstream receives: the client's, or without the API's prefix when it strips
 * it (`/orders/7` → `/7`, `/orders` → `/`). By segments, not characters: the prefix matched a
 * folded spelling (`/ORDERS/7`), which may differ in length from the declared one.
 */
export function upstreamPath(normalizedPath: string, api: Pick<ApiRoute, "prefix">, stripPrefix: boolean): string {
    if (!stripPrefix || api.prefix.length === 0) return normalizedPath;
    return (
        "/" +
        normalizedPath
            .split("/")
            .slice(1 + api.prefix.length)
            .join("/")
    );
}
