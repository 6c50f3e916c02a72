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
import { z } from "zod";
import { segmentsOf, twiceDecoded } from "../request/normalizePath";
import { SCOPE_MATCHES, type ScopeMatch } from "../verification/scopes";
import { describeIssue, firstIssue, formatPath } from "../shared/zodIssues";

export type { ScopeMatch };

export type RouteRule = z.infer<typeof routeRuleSchema>;

export interface CompiledRule {
    /** Folded literal segments, `*` (one segment) or a final `**` (any rest, even none). */
    pattern: string[];
    /**
     * A last segment written `name*`: a string prefix, as an nginx `location /admin` is: the
     * segment after `pattern` starts with it (folded), and anything may follow (`/adminx`,
     * `/admin.php`, `/admin/users`).
     */
    prefix?: string;
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

/** A rule's path: normalised, `*` whole segments only, `**` only at the end. */
const rulePath = z
    .string({ message: "must be a path starting with '/'" })
    .refine((p) => p.startsWith("/"), { message: "must be a path starting with '/'", abort: true })
    .superRefine((path, ctx) => {
        const segments = patternOf(path);
        segments.forEach((seg, j) => {
            if (seg === "**" && j !== segments.length - 1) ctx.addIssue({ code: "custom", message: "'**' may only end a path" });
            else if (seg === "." || seg === ".." || seg.includes("%"))
                ctx.addIssue({ code: "custom", message: "must be normalised (no '.', '..' or percent-encoding)" });
            else if (seg !== "*" && seg !== "**" && seg.includes("*") && !(j === segments.length - 1 && isPrefixSegment(seg) && !path.endsWith("/")))
                ctx.addIssue({ code: "custom", message: "'*' must be a whole segment, or end the last one (a string prefix such as /admin*)" });
        });
    });

/** One route rule, as ROUTE_RULES and the stack's gateway.routeRules spell it. */
export const routeRuleSchema = z.strictObject({
    path: rulePath,
    methods: z
        .array(z.string(), { message: "must be a non-empty list of HTTP methods" })
        .refine((m) => m.length > 0 && m.every((x) => METHOD.test(x.toUpperCase())), { message: "must be a non-empty list of HTTP methods" })
        .optional(),
    scopes: z
        .array(z.string(), { message: "must be a list of scope names (may be empty)" })
        .refine((s) => s.every((x) => x.length > 0 && !/\s/.test(x)), { message: "must be a list of scope names (may be empty)" }),
    match: z.enum(SCOPE_MATCHES, { message: 'must be "all" or "any"' }).optional(),
});

export const routeRulesSchema = z.array(routeRuleSchema, { message: "must be a JSON array of {path, methods?, scopes, match?}" });

/** `admin*`: a literal followed by one final `*`. */
function isPrefixSegment(segment: string): boolean {
    return /^[^*]+\*$/.test(segment);
}

/** A rule path's segments: `/reports/` is `/reports`. */
function patternOf(path: string): string[] {
    return path
        .split("/")
        .slice(1)
        .filter((s) => s !== "");
}

/** Compiles one validated rule. */
export function compileRule(rule: RouteRule): CompiledRule {
    let methods: Set<string> | undefined;
    if (rule.methods !== undefined) {
        methods = new Set(rule.methods.map((m) => m.toUpperCase()));
        if (methods.has("GET")) methods.add("HEAD"); // HEAD is GET without a body: same protection
    }
    const segments = patternOf(rule.path);
    const last = segments.at(-1);
    const prefix = last !== undefined && isPrefixSegment(last) ? foldSegment(last.slice(0, -1)) : undefined;
    return {
        pattern: (prefix === undefined ? segments : segments.slice(0, -1)).map((s) => (s === "*" || s === "**" ? s : foldSegment(s))),
        ...(prefix !== undefined ? { prefix } : {}),
        methods,
        scopes: rule.scopes,
        match: rule.match ?? "all",
        source: rule,
    };
}

/** Validates and compiles ROUTE_RULES; throws an Error naming the rule and field at fault. */
export function compileRules(input: unknown, source = "ROUTE_RULES"): CompiledRule[] {
    const parsed = routeRulesSchema.safeParse(input);
    if (!parsed.success) {
        const issue = firstIssue(parsed.error.issues);
        throw new Error(`${source}${formatPath(issue.path)}: ${describeIssue(issue, input)}`);
    }
    return parsed.data.map(compileRule);
}

/** A segment as the most lenient router compares it: compatibility-normalised, case-folded. */
export function foldSegment(segment: string): string {
    return segment.normalize("NFKC").toUpperCase().toLowerCase();
}

/** The segments rules are matched against: decoded, folded, without a trailing empty segment. */
export function matchSegments(normalizedPath: string): string[] {
    return folded(segmentsOf(normalizedPath));
}

function folded(decoded: readonly string[]): string[] {
    const segments = decoded.map(foldSegment);
    if (segments.length > 0 && segments[segments.length - 1] === "") segments.pop();
    return segments;
}

/**
 * Every reading of the path the rules must cover: decoded once (what the upstream is sent), and,
 * when a segment is still percent-encoded (`/%2561dmin`), decoded twice, as an upstream that
 * decodes again reads it (`/admin`). normalizePath refused the encodings a second decoding would
 * turn into structure, so both readings have the same segments.
 */
export function pathReadings(normalizedPath: string): string[][] {
    const once = segmentsOf(normalizedPath);
    if (!once.some((s) => /%[0-9a-f]{2}/i.test(s))) return [folded(once)];
    return [folded(once), folded(once.map((s) => twiceDecoded(s) ?? s))];
}

/** Matches folded segments (matchSegments) against a compiled pattern, and its string prefix when it has one. */
export function matchesPattern(pattern: readonly string[], segments: readonly string[], prefix?: string): boolean {
    if (prefix !== undefined) {
        const at = pattern.length;
        return segments.length > at && segments[at].startsWith(prefix) && matchesPattern(pattern, segments.slice(0, at));
    }
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
    return requirementForSegments(rules, method, matchSegments(normalizedPath), defaults);
}

function requirementForSegments(
    rules: readonly CompiledRule[],
    method: string,
    segments: readonly string[],
    defaults: { scopes: string[]; match: ScopeMatch },
): ScopeRequirement {
    const m = method.toUpperCase();
    for (const rule of rules) {
        if (rule.methods && !rule.methods.has(m)) continue;
        if (matchesPattern(rule.pattern, segments, rule.prefix)) return { scopes: rule.scopes, match: rule.match, rule };
    }
    return { scopes: defaults.scopes, match: defaults.match };
}

/**
 * The requirements a request must meet: one per method the upstream may run for it (the request
 * line's, plus any method override the gateway forwards) and per reading of its path (pathReadings).
 */
export function requirementsFor(
    rules: readonly CompiledRule[],
    methods: readonly string[],
    normalizedPath: string,
    defaults: { scopes: string[]; match: ScopeMatch },
): ScopeRequirement[] {
    if (rules.length === 0) return [{ scopes: defaults.scopes, match: defaults.match }];
    const readings = pathReadings(normalizedPath);
    return [...new Set(methods.map((m) => m.toUpperCase()))].flatMap((m) => readings.map((segments) => requirementForSegments(rules, m, segments, defaults)));
}
