// What every key's module shares: parsing a key with its schema into problems that name the key,
// and the small list helpers the rules use. Pure.
import type { z } from "zod";
import { describeIssue as issueText, formatPath, valueAt } from "../../policy-gateway/src/shared/zodIssues";

export { formatPath, valueAt };

/** A key's module: the problems it found, and its part of the spec when it has none. */
export interface KeyResult<T> {
    problems: string[];
    spec?: T;
}

/** A value as a problem may echo it: short, and a URL's user and password masked. */
function echoed(value: string): string {
    const masked = value.replace(/(\/\/)[^/@\s]*@/, "$1***@");
    return JSON.stringify(masked.length > 80 ? `${masked.slice(0, 77)}...` : masked);
}

/** One issue of a key's schema, as a problem naming the key and the path inside it, and the value given when it is text. */
export function describeIssue(key: string, issue: z.core.$ZodIssue, raw: unknown, schema?: z.ZodType): string {
    const where = key + formatPath(issue.path);
    const hint =
        issue.code === "unrecognized_keys" && issue.keys.includes("subnetIds") ? " (subnetIds is split into loadBalancerSubnetIds and taskSubnetIds)" : "";
    const text = issueText(issue, raw, schema);
    const value = valueAt(raw, issue.path);
    const got =
        issue.code !== "invalid_type" && issue.code !== "unrecognized_keys" && typeof value === "string" && !text.includes(value)
            ? ` (got ${echoed(value)})`
            : "";
    return `${where}: ${text}${got}${hint}`;
}

/** The key parsed with its schema (defaults applied), or undefined with each issue in `problems`. */
export function parseKey<T>(schema: z.ZodType<T>, key: string, raw: unknown, problems: string[]): T | undefined {
    const result = schema.safeParse(raw);
    if (result.success) return result.data;
    // An unknown key explains the rest of its object's issues (`perSecnd` is also why "must set
    // perSecond"): those are left out, so that one mistake reads as one problem.
    const unknownAt = new Set(result.error.issues.filter((i) => i.code === "unrecognized_keys").map((i) => formatPath(i.path)));
    for (const issue of result.error.issues)
        if (issue.code === "unrecognized_keys" || !unknownAt.has(formatPath(issue.path))) problems.push(describeIssue(key, issue, raw, schema));
    return undefined;
}

/** Names given more than once in a raw list of `{name}` entries, whatever else is wrong with them. */
export function duplicateNames(entries: unknown): Map<string, number[]> {
    if (!Array.isArray(entries)) return new Map();
    const names = entries.map((e) => valueAt(e, ["name"]));
    return new Map([...duplicates(names.map((n) => (typeof n === "string" ? n : "")))].filter(([n]) => n !== ""));
}

export function isStringArray(v: unknown): v is string[] {
    return Array.isArray(v) && v.every((x) => typeof x === "string");
}

export function duplicates(values: string[]): Map<string, number[]> {
    const seen = new Map<string, number[]>();
    values.forEach((v, i) => seen.set(v, [...(seen.get(v) ?? []), i]));
    return new Map([...seen].filter(([, at]) => at.length > 1));
}

export { editDistance } from "../../policy-gateway/src/shared/didYouMean";
