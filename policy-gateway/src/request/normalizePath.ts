// The request path as the upstream will see it: percent-decoded once, dot segments resolved,
// duplicate slashes collapsed. Route rules are matched against this path and this path is what is
// forwarded, so no encoding trick can make the gateway and the upstream disagree. Whatever cannot
// be normalised safely is refused. Pure.

export type NormalizedPath = { ok: true; path: string; query: string } | { ok: false; reason: string };

/** Characters a path segment may carry unencoded (RFC 3986 pchar minus the ones we refuse). */
const SEGMENT_SAFE = /[A-Za-z0-9\-._~!$&'()*+,=:@]/;

function encodeSegment(segment: string): string {
    let out = "";
    for (const ch of segment) out += SEGMENT_SAFE.test(ch) ? ch : encodeURIComponent(ch);
    return out;
}

/**
 * @param target the request target as received (`req.url`): origin-form `/path?query`.
 */
export function normalizePath(target: string): NormalizedPath {
    if (!target.startsWith("/")) return { ok: false, reason: "the request target must be an absolute path" };
    // RFC 9112 §3.2: a request target has no fragment (clients strip it). Forwarded, `#x` would
    // become part of the resource (`/products/42#x`, sent on as `%23x`) or escape a prefix rule.
    if (target.includes("#")) return { ok: false, reason: "a fragment (#…) is not part of a request target" };
    const q = target.indexOf("?");
    const rawPath = q === -1 ? target : target.slice(0, q);
    const query = q === -1 ? "" : target.slice(q + 1);

    const out: string[] = [];
    const rawSegments = rawPath.split("/").slice(1);
    for (let i = 0; i < rawSegments.length; i++) {
        const raw = rawSegments[i];
        if (/%2f|%5c/i.test(raw)) return { ok: false, reason: "encoded slash or backslash in the path" };
        let segment: string;
        try {
            segment = decodeURIComponent(raw);
        } catch {
            return { ok: false, reason: "malformed percent-encoding in the path" };
        }
        // A second round of encoding (%252f) would be decoded again by some upstreams.
        if (/%[0-9a-f]{2}/i.test(segment)) return { ok: false, reason: "double percent-encoding in the path" };
        // Backslashes, path parameters and control characters are read differently by different servers.
        if (/[\\;\u0000-\u001f\u007f]/.test(segment)) return { ok: false, reason: "backslash, ';' or control character in the path" };
        const last = i === rawSegments.length - 1;
        if (segment === "" || segment === ".") {
            if (last) out.push(""); // keep a trailing slash
            continue;
        }
        if (segment === "..") {
            if (out.length === 0) return { ok: false, reason: "the path climbs above the root" };
            out.pop();
            if (last) out.push("");
            continue;
        }
        out.push(segment);
    }
    const path = "/" + out.map(encodeSegment).join("/");
    return { ok: true, path, query };
}

/** The decoded segments of a normalised path, for rule matching. */
export function segmentsOf(normalizedPath: string): string[] {
    return normalizedPath
        .split("/")
        .slice(1)
        .map((s) => decodeURIComponent(s));
}
