// How a zod issue reads in a problem list, for the gateway (`RATE_LIMITS: tiers.gold.burst: …`)
// and the stack (`okta-api-gateway:gateway.rateLimits.tiers.gold.burst: …`) alike. Pure.
import type { z } from "zod";

/** `[0].path`, `.tiers.gold`: a path inside a value, as the problem names it. */
export function formatPath(path: readonly PropertyKey[]): string {
    return path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("");
}

/** The value at `path` inside `root`, or undefined when the path does not exist (own members only). */
export function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
    let v: unknown = root;
    for (const p of path) {
        if (v === null || typeof v !== "object" || !Object.hasOwn(v, p)) return undefined;
        v = (v as Record<PropertyKey, unknown>)[p];
    }
    return v;
}

/** The issue's message: an unknown key named as such, a missing value as "is required". */
export function describeIssue(issue: z.core.$ZodIssue, input: unknown): string {
    if (issue.code === "unrecognized_keys") return `unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `'${k}'`).join(", ")}`;
    if (issue.code === "invalid_type" && valueAt(input, issue.path) === undefined) return `is required (expected ${issue.expected})`;
    // A record's key: the key's own problem, not zod's "Invalid key in record".
    if (issue.code === "invalid_key" && issue.issues[0]) return issue.issues[0].message;
    return issue.message;
}

/** The issue to show when only one is: an unknown key first (it usually explains the others), else the first. */
export function firstIssue(issues: readonly z.core.$ZodIssue[]): z.core.$ZodIssue {
    return issues.find((i) => i.code === "unrecognized_keys") ?? issues[0];
}
