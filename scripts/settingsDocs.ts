// Writes the docs' tables of the gateway's settings from the gateway's own schema
// (policy-gateway/src/config/settings.ts): every environment variable in docs/gateway.md, and the
// `gateway.<setting>` keys a stack file may set in docs/reference/configuration.md. Each table sits
// between `<!-- generated: … -->` markers; `npm run schema` rewrites them, a test fails when they
// are not current. Adding a setting adds its rows.
import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { STACK_GATEWAY_SETTINGS } from "../components/stackConfig/spec";
import { PROCESS_VARIABLES } from "../policy-gateway/src/config/load";
import { SETTING_NAMES, SETTINGS, type SettingName } from "../policy-gateway/src/config/settings";

const ROOT = path.join(__dirname, "..");
export const GENERATED_DOCS = {
    variables: path.join(ROOT, "docs/gateway.md"),
    stackKeys: path.join(ROOT, "docs/reference/configuration.md"),
} as const;

/** What the stack adds to a setting's meaning (its own checks, what it wires). */
const STACK_NOTES: Partial<Record<SettingName, string>> = {
    upstreamUrl: "; `http://host.docker.internal:3000` reaches the host from the local container",
    tokenValidation: "; `jwt` declares no introspection client (and refuses `introspectionClient`)",
    requiredScopes: "; must be declared scopes",
    routeRules: "; validated by the gateway's own schema at preview, scopes must be declared",
};

/** A setting's default as its table shows it. */
function shownDefault(name: SettingName, style: "variable" | "stackKey"): string {
    const s = SETTINGS[name];
    const parsed = s.schema.safeParse(undefined);
    if (!parsed.success) return s.shownDefault ?? "*required*";
    const value = parsed.data as unknown;
    if (value === undefined || (Array.isArray(value) && value.length === 0))
        return s.shownDefault || (style === "stackKey" && Array.isArray(value) ? "`[]`" : "");
    return `\`${style === "stackKey" && typeof value === "object" ? JSON.stringify(value) : String(value)}\``;
}

export function variablesTable(): string {
    const rows = [
        ...SETTING_NAMES.map((n) => `| \`${SETTINGS[n].variable}\` | ${shownDefault(n, "variable")} | ${SETTINGS[n].doc} |`),
        ...Object.entries(PROCESS_VARIABLES).map(([v, d]) => `| \`${v}\` | ${d.shownDefault} | ${d.doc} |`),
    ];
    return ["| variable | default | meaning |", "|---|---|---|", ...rows].join("\n");
}

export function stackKeysTable(): string {
    const rows = STACK_GATEWAY_SETTINGS.map(
        (n) => `| \`gateway.${n}\` | ${shownDefault(n, "stackKey")} | ${SETTINGS[n].doc} (\`${SETTINGS[n].variable}\`)${STACK_NOTES[n] ?? ""} |`,
    );
    return ["| key | default | meaning |", "|---|---|---|", ...rows].join("\n");
}

/** `text` with the block between the markers named `name` replaced by `table`. */
export function withGenerated(text: string, name: string, table: string, file: string): string {
    const begin = `<!-- generated: ${name} (npm run schema) -->`;
    const end = `<!-- end generated: ${name} -->`;
    const a = text.indexOf(begin);
    const b = text.indexOf(end);
    if (a < 0 || b < a) throw new Error(`${file}: no ${begin} … ${end} block`);
    return `${text.slice(0, a + begin.length)}\n${table}\n${text.slice(b)}`;
}

export function generatedDocs(): Record<keyof typeof GENERATED_DOCS, string> {
    return {
        variables: withGenerated(readFileSync(GENERATED_DOCS.variables, "utf8"), "variables", variablesTable(), GENERATED_DOCS.variables),
        stackKeys: withGenerated(readFileSync(GENERATED_DOCS.stackKeys, "utf8"), "gateway settings", stackKeysTable(), GENERATED_DOCS.stackKeys),
    };
}

if (require.main === module) {
    const docs = generatedDocs();
    for (const key of Object.keys(GENERATED_DOCS) as (keyof typeof GENERATED_DOCS)[]) {
        writeFileSync(GENERATED_DOCS[key], docs[key]);
        process.stdout.write(`wrote ${path.relative(process.cwd(), GENERATED_DOCS[key])}\n`);
    }
}
