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
        // A raw `;` starts a path parameter for Tomcat, Spring and Jetty (`/admin;x` is `/admin`)
        // and is data for the rest; `%3B` is data everywhere and is forwarded so.
        if (raw.includes(";")) return { ok: false, reason: "a ';' path parameter in the path" };
        let segment: string;
        try {
            segment = decodeURIComponent(raw);
        } catch {
            return { ok: false, reason: "malformed percent-encoding in the path" };
        }
        // Backslashes and control characters are read differently by different servers.
        if (/[\\\u0000-\u001f\u007f]/.test(segment)) return { ok: false, reason: "backslash or control character in the path" };
        // `%2e` is a dot segment to nginx and Apache and the name `.` to Express, Flask, Django
        // and Starlette: resolving it would change the resource for some, keeping it for others.
        if ((segment === "." || segment === "..") && raw !== segment) return { ok: false, reason: "an encoded dot segment (%2e) in the path" };
        // A second round of encoding (%2541) is an id that is literally `%41`, forwarded encoded;
        // the rules also match what an upstream that decodes twice reads (twiceDecoded), and what
        // would change a path's structure on a second decoding (%252f, %252e%252e) is refused.
        if (/%[0-9a-f]{2}/i.test(segment) && twiceDecoded(segment) === undefined)
            return { ok: false, reason: "double percent-encoding of a '/', '\\', '.', ';', '%' or control character in the path" };
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

/**
 * A decoded segment decoded once more, as an upstream that decodes twice reads it; undefined when
 * that reading would change the path's structure or is not a reading at all (`%zz`).
 */
export function twiceDecoded(segment: string): string | undefined {
    let again: string;
    try {
        again = decodeURIComponent(segment);
    } catch {
        return /%[0-9a-f]{2}/i.test(segment) ? undefined : segment;
    }
    if (again === "." || again === ".." || /[/\\;%?#\u0000-\u001f\u007f]/.test(again)) return undefined;
    return again;
}

/** The decoded segments of a normalised path, for rule matching. */
export function segmentsOf(normalizedPath: string): string[] {
    return normalizedPath
        .split("/")
        .slice(1)
        .map((s) => decodeURIComponent(s));
}
