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

/** One issue of a key's schema, as a problem naming the key and the path inside it. */
export function describeIssue(key: string, issue: z.core.$ZodIssue, raw: unknown): string {
    const where = key + formatPath(issue.path);
    const hint =
        issue.code === "unrecognized_keys" && issue.keys.includes("subnetIds") ? " (subnetIds is split into loadBalancerSubnetIds and taskSubnetIds)" : "";
    return `${where}: ${issueText(issue, raw)}${hint}`;
}

/** The key parsed with its schema (defaults applied), or undefined with each issue in `problems`. */
export function parseKey<T>(schema: z.ZodType<T>, key: string, raw: unknown, problems: string[]): T | undefined {
    const result = schema.safeParse(raw);
    if (result.success) return result.data;
    for (const issue of result.error.issues) problems.push(describeIssue(key, issue, raw));
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

/** Levenshtein distance, for "did you mean" on a misspelt key. */
export function editDistance(a: string, b: string): number {
    let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        const row = [i];
        for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
        prev = row;
    }
    return prev[b.length];
}
