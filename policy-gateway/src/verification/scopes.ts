// Scope checks. Scopes are whole words: `admin` never matches `superadmin`. Pure.
/** How a list of required scopes is met: every one of them, or any one. */
export const SCOPE_MATCHES = ["all", "any"] as const;
export type ScopeMatch = (typeof SCOPE_MATCHES)[number];

/** Scopes from an introspection `scope` string (space separated) or a JWT `scp` array. */
export function parseScopes(value: unknown): Set<string> {
    if (typeof value === "string") return new Set(value.split(" ").filter((s) => s.length > 0));
    if (Array.isArray(value)) return new Set(value.filter((s): s is string => typeof s === "string" && s.length > 0));
    return new Set();
}

/** REQUIRED_SCOPES: space or comma separated. */
export function parseScopeList(value: string): string[] {
    return [...new Set(value.split(/[\s,]+/).filter((s) => s.length > 0))];
}

/** The required scopes that are missing; empty when the requirement is met. */
export function missingScopes(granted: ReadonlySet<string>, required: readonly string[], match: ScopeMatch): string[] {
    if (required.length === 0) return [];
    if (match === "any") return required.some((s) => granted.has(s)) ? [] : [...required];
    return required.filter((s) => !granted.has(s));
}
