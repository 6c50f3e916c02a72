// Route rules: which scopes a request needs, by method and normalised path. The first rule whose
// method and path match decides; unmatched requests need the default scopes. Pure.
import { segmentsOf } from "./normalizePath";

export type ScopeMatch = "all" | "any";

export interface RouteRule {
    path: string;
    methods?: string[];
    scopes: string[];
    match?: ScopeMatch;
}

export interface CompiledRule {
    /** Lower-cased literal segments, `*` (one segment) or a final `**` (any rest, even none). */
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
        const pattern = r.path.split("/").slice(1).filter((s, j, all) => s !== "" || j === all.length - 1);
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
            pattern: pattern.map((s) => s.toLowerCase()),
            methods,
            scopes: r.scopes as string[],
            match: (r.match as ScopeMatch | undefined) ?? "all",
            source: r as unknown as RouteRule,
        };
    });
}

/** Path segments match case-insensitively: an upstream that ignores case must not dodge a rule. */
export function matchesPattern(pattern: readonly string[], segments: readonly string[]): boolean {
    for (let i = 0; i < pattern.length; i++) {
        const p = pattern[i];
        if (p === "**") return true;
        if (i >= segments.length) return false;
        if (p === "*") {
            if (segments[i] === "") return false;
            continue;
        }
        if (p !== segments[i].toLowerCase()) return false;
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
        const segments = segmentsOf(normalizedPath);
        const m = method.toUpperCase();
        for (const rule of rules) {
            if (rule.methods && !rule.methods.has(m)) continue;
            if (matchesPattern(rule.pattern, segments)) return { scopes: rule.scopes, match: rule.match, rule };
        }
    }
    return { scopes: defaults.scopes, match: defaults.match };
}
