// How a zod issue reads in a problem list, for the gateway (`RATE_LIMITS: tiers.gold.burst: …`)
// and the stack (`okta-api-gateway:gateway.rateLimits.tiers.gold.burst: …`) alike. Pure.
import type { z } from "zod";
import { didYouMean } from "./didYouMean";

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

/** A zod schema as its definition describes it: what walking a path through it needs. */
interface SchemaNode {
    _zod: {
        def: {
            type: string;
            shape?: Record<string, SchemaNode>;
            element?: SchemaNode;
            innerType?: SchemaNode;
            valueType?: SchemaNode;
            in?: SchemaNode;
            options?: SchemaNode[];
        };
    };
}

function unwrapped(node: SchemaNode): SchemaNode {
    let n = node;
    for (let guard = 0; guard < 10; guard++) {
        const def = n._zod.def;
        if (def.innerType) n = def.innerType;
        else if (def.type === "pipe" && def.in) n = def.in;
        else break;
    }
    return n;
}

/** The schemas at one step of a path: an object's member, an array's element, a record's value, each union member's. */
function stepInto(node: SchemaNode, key: PropertyKey): SchemaNode[] {
    const n = unwrapped(node);
    const def = n._zod.def;
    if (def.type === "union") return (def.options ?? []).flatMap((o) => stepInto(o, key));
    if (def.type === "object" && typeof key === "string" && def.shape?.[key]) return [def.shape[key]];
    if (def.type === "array" && typeof key === "number" && def.element) return [def.element];
    if (def.type === "record" && def.valueType) return [def.valueType];
    return [];
}

/** The keys the object schema at `path` knows, for "did you mean" on an unknown key. */
export function knownKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
    let nodes: SchemaNode[] = [schema as unknown as SchemaNode];
    for (const p of path) nodes = nodes.flatMap((n) => stepInto(n, p));
    const objects = nodes.map(unwrapped).flatMap((n) => (n._zod.def.type === "union" ? (n._zod.def.options ?? []).map(unwrapped) : [n]));
    return [...new Set(objects.flatMap((n) => (n._zod.def.type === "object" ? Object.keys(n._zod.def.shape ?? {}) : [])))];
}

/** What a value is, in words: for "expected a list, got the text "a"". */
function shapeOf(value: unknown): string {
    if (value === null) return "null";
    if (Array.isArray(value)) return "a list";
    if (typeof value === "string") return `the text ${JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value)}`;
    if (typeof value === "number") return `the number ${value}`;
    if (typeof value === "boolean") return String(value);
    return typeof value === "object" ? "a mapping of keys to values" : typeof value;
}

const EXPECTED: Record<string, string> = {
    array: "a list (e.g. [a, b])",
    object: "a mapping of keys to values",
    string: "text",
    number: "a number",
    int: "a whole number",
    boolean: "true or false",
};

/**
 * The issue's message: an unknown key named as such (with the known one it probably meant, when
 * the schema is given), a missing value as "is required", a wrong type as the shape expected and
 * the shape given.
 */
export function describeIssue(issue: z.core.$ZodIssue, input: unknown, schema?: z.ZodType): string {
    if (issue.code === "unrecognized_keys") {
        const known = schema ? knownKeysAt(schema, issue.path) : [];
        return `unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `'${k}'${didYouMean(k, known)}`).join(", ")}`;
    }
    if (issue.code === "invalid_type") {
        const value = valueAt(input, issue.path);
        const expected = EXPECTED[issue.expected] ?? issue.expected;
        if (value === undefined) return `is required (expected ${expected})`;
        // A schema's own wording ("must be true or false") is kept; zod's generic one is replaced.
        return issue.message.startsWith("Invalid input") ? `expected ${expected}, got ${shapeOf(value)}` : `${issue.message}, got ${shapeOf(value)}`;
    }
    // A record's key: the key's own problem, not zod's "Invalid key in record".
    if (issue.code === "invalid_key" && issue.issues[0]) return issue.issues[0].message;
    return issue.message;
}

/** The issue to show when only one is: an unknown key first (it usually explains the others), else the first. */
export function firstIssue(issues: readonly z.core.$ZodIssue[]): z.core.$ZodIssue {
    return issues.find((i) => i.code === "unrecognized_keys") ?? issues[0];
}
