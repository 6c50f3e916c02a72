// Route rules: which scopes a request needs, by method and normalised path. The first rule whose
// method and path match decides; unmatched requests need the default scopes. Pure.
//
// A rule must cover every spelling the upstream's router may take for the same route, so rules
// are matched on a folded form of the path: without a trailing slash (Express, Rails and ASP.NET
// route `/settings/` to `/settings`), and case-folded the way the most lenient routers compare
// (NFKC, then upper, then lower case: `/ſettings`, `/SETTINGS`, `/admın` and fullwidth letters
// all meet `/settings` and `/admin`, as under .NET's OrdinalIgnoreCase or Java's
// equalsIgnoreCase). Folding only ever makes a rule apply to more spellings, never fewer. The
// upstream receives the normalised path itself (trailing slash kept: some APIs tell the two apart).
import { segmentsOf } from "./normalizePath";

export type ScopeMatch = "all" | "any";

export interface RouteRule {
    path: string;
    methods?: string[];
    scopes: string[];
    match?: ScopeMatch;
}

export interface CompiledRule {
    /** Folded literal segments, `*` (one segment) or a final `**` (any rest, even none). */
    pattern: string[];
    methods?: ReadonlySet<string>;
    scopes: string[];
    match: ScopeMatch;
    source: RouteRule;
}

export interface ScopeRequirement {
    scopes: string[];
    match: ScopeMatch;
    rule?: CompiledRule;
}

const METHOD = /^[A-Z]+$/;

/** Validates and compiles ROUTE_RULES; throws an Error naming the rule and field at fault. */
export function compileRules(input: unknown, source = "ROUTE_RULES"): CompiledRule[] {
    if (!Array.isArray(input)) throw new Error(`${source}: must be a JSON array of {path, methods?, scopes, match?}`);
    return input.map((rule: unknown, i) => {
        const at = `${source}[${i}]`;
        if (rule === null || typeof rule !== "object") throw new Error(`${at}: must be an object`);
        const r = rule as Record<string, unknown>;
        const unknownKeys = Object.keys(r).filter((k) => !["path", "methods", "scopes", "match"].includes(k));
        if (unknownKeys.length) throw new Error(`${at}: unknown key ${unknownKeys.map((k) => `'${k}'`).join(", ")}`);
        if (typeof r.path !== "string" || !r.path.startsWith("/")) throw new Error(`${at}.path: must be a path starting with '/'`);
        const pattern = r.path
            .split("/")
            .slice(1)
            .filter((s) => s !== ""); // `/reports/` is `/reports`
        pattern.forEach((seg, j) => {
            if (seg === "**" && j !== pattern.length - 1) throw new Error(`${at}.path: '**' may only end a path`);
            if (seg === "." || seg === ".." || seg.includes("%")) throw new Error(`${at}.path: must be normalised (no '.', '..' or percent-encoding)`);
            if (seg !== "*" && seg !== "**" && seg.includes("*")) throw new Error(`${at}.path: '*' must be a whole segment`);
        });
        let methods: Set<string> | undefined;
        if (r.methods !== undefined) {
            if (!Array.isArray(r.methods) || r.methods.length === 0 || !r.methods.every((m) => typeof m === "string" && METHOD.test(m.toUpperCase()))) {
                throw new Error(`${at}.methods: must be a non-empty list of HTTP methods`);
            }
            methods = new Set(r.methods.map((m: string) => m.toUpperCase()));
            if (methods.has("GET")) methods.add("HEAD"); // HEAD is GET without a body: same protection
        }
        if (!Array.isArray(r.scopes) || !r.scopes.every((s) => typeof s === "string" && s.length > 0 && !/\s/.test(s))) {
            throw new Error(`${at}.scopes: must be a list of scope names (may be empty)`);
        }
        if (r.match !== undefined && r.match !== "all" && r.match !== "any") throw new Error(`${at}.match: must be "all" or "any"`);
        return {
            pattern: pattern.map((s) => (s === "*" || s === "**" ? s : foldSegment(s))),
            methods,
            scopes: r.scopes as string[],
            match: (r.match as ScopeMatch | undefined) ?? "all",
            source: r as unknown as RouteRule,
        };
    });
}

/** A segment as the most lenient router compares it: compatibility-normalised, case-folded. */
export function foldSegment(segment: string): string {
    return segment.normalize("NFKC").toUpperCase().toLowerCase();
}

/** The segments rules are matched against: decoded, folded, without a trailing empty segment. */
export function matchSegments(normalizedPath: string): string[] {
    const segments = segmentsOf(normalizedPath).map(foldSegment);
    if (segments.length > 0 && segments[segments.length - 1] === "") segments.pop();
    return segments;
}

/** Matches folded segments (matchSegments) against a compiled pattern. */
export function matchesPattern(pattern: readonly string[], segments: readonly string[]): boolean {
    for (let i = 0; i < pattern.length; i++) {
        const p = pattern[i];
        if (p === "**") return true;
        if (i >= segments.length) return false;
        if (p === "*") {
            if (segments[i] === "") return false;
            continue;
        }
        if (p !== segments[i]) return false;
    }
    return pattern.length === segments.length;
}

export function requirementFor(
    rules: readonly CompiledRule[],
    method: string,
    normalizedPath: string,
    defaults: { scopes: string[]; match: ScopeMatch },
): ScopeRequirement {
    if (rules.length > 0) {
        const segments = matchSegments(normalizedPath);
        const m = method.toUpperCase();
        for (const rule of rules) {
            if (rule.methods && !rule.methods.has(m)) continue;
            if (matchesPattern(rule.pattern, segments)) return { scopes: rule.scopes, match: rule.match, rule };
        }
    }
    return { scopes: defaults.scopes, match: defaults.match };
}

/**
 * The requirements a request must meet: one per method the upstream may run for it (the request
 * line's, plus any method override the gateway forwards).
 */
export function requirementsFor(
    rules: readonly CompiledRule[],
    methods: readonly string[],
    normalizedPath: string,
    defaults: { scopes: string[]; match: ScopeMatch },
): ScopeRequirement[] {
    return [...new Set(methods.map((m) => m.toUpperCase()))].map((m) => requirementFor(rules, m, normalizedPath, defaults));
}
