// What `pulumi preview` would list, offline: the resources a stack declares, by component, each
// with its key inputs (secrets masked, as Pulumi shows them), and the stack's outputs. Pure: the
// rehearsal's `--plan` prints it from the resources the mock runtime recorded.
import { isSecretWrapper, type RecordedResource } from "./stackHarness";

const MASK = "[secret]";
const MAX_INPUTS = 6;

/** A value as one short line: secrets masked, long text cut, nested objects summarised. */
export function shortValue(raw: unknown, depth = 0): string | undefined {
    if (isSecretWrapper(raw)) return MASK;
    if (raw === null || raw === undefined) return undefined;
    if (typeof raw === "string") return raw.length > 60 ? JSON.stringify(`${raw.slice(0, 57)}...`) : /^[\w:/.@*-]+$/.test(raw) ? raw : JSON.stringify(raw);
    if (typeof raw === "number" || typeof raw === "boolean") return String(raw);
    if (Array.isArray(raw)) {
        if (depth > 0) return `[${raw.length}]`;
        const items = raw.map((v) => shortValue(v, depth + 1) ?? "null");
        const text = `[${items.join(", ")}]`;
        return text.length > 80 ? `[${raw.length} items]` : text;
    }
    if (typeof raw === "object") return depth > 0 ? "{…}" : `{${Object.keys(raw).length} keys}`;
    return undefined;
}

/** The inputs worth a line: set, short, secrets masked; a name first. */
function keyInputs(raw: unknown): string {
    if (raw === null || typeof raw !== "object") return "";
    const entries = Object.entries(raw as Record<string, unknown>)
        .filter(([k]) => !k.startsWith("__"))
        .map(([k, v]) => [k, shortValue(v)] as const)
        .filter((e): e is readonly [string, string] => e[1] !== undefined && !e[1].startsWith("{"));
    entries.sort(([a], [b]) => Number(b === "name") - Number(a === "name"));
    const shown = entries.slice(0, MAX_INPUTS).map(([k, v]) => `${k}=${v}`);
    return shown.join("  ") + (entries.length > MAX_INPUTS ? `  (+${entries.length - MAX_INPUTS} more)` : "");
}

function verb(r: RecordedResource): string {
    if (r.read) return "read  ";
    if (r.importId !== undefined) return "import";
    return "create";
}

/** The plan, as lines: each component with the resources under it, indented by depth. */
export function planLines(resources: readonly RecordedResource[]): string[] {
    const children = new Map<string | undefined, RecordedResource[]>();
    const urns = new Set(resources.map((r) => r.urn));
    for (const r of resources) {
        const parent = r.parentUrn && urns.has(r.parentUrn) ? r.parentUrn : undefined;
        children.set(parent, [...(children.get(parent) ?? []), r]);
    }
    const lines: string[] = [];
    const walk = (parent: string | undefined, depth: number) => {
        for (const r of children.get(parent) ?? []) {
            const pad = "  ".repeat(depth + 1);
            if (!r.custom) lines.push(`${pad}${r.type}  ${r.name}`);
            else {
                const notes = [
                    r.importId !== undefined ? `adopts ${r.importId}` : "",
                    r.protect ? "protected" : "",
                    r.retainOnDelete ? "kept on destroy" : "",
                ].filter(Boolean);
                lines.push(`${pad}${verb(r)} ${r.type}  ${r.name}${notes.length ? `  (${notes.join(", ")})` : ""}`);
                const inputs = keyInputs(r.rawInputs);
                if (inputs) lines.push(`${pad}    ${inputs}`);
            }
            walk(r.urn, depth + 1);
        }
    };
    walk(undefined, 0);
    return lines;
}
