// `node --import tsx scripts/previewStackFile.ts <stack> --environment <project>/<stack>-preview`:
// rewrites the CI checkout's Pulumi.<stack>.yaml so that the pull-request preview authenticates to
// Okta with a read-only credential. A stack file imports one ESC environment, which `preview` and
// `up` both open; the admin key (okta.apps.manage, okta.authorizationServers.manage) must reach
// only the reviewed `up`. So the preview's copy of the file imports the preview environment
// instead, and leaves the provider's credential keys to it: a key in the stack file wins over the
// same key from an environment's pulumiConfig (Pulumi ESC docs, reserved properties, "Outputs":
// "pulumiConfig resolves against explicit stack configuration: there, the explicit stack value
// wins"), so the admin app's okta:clientId/okta:privateKeyId/okta:scopes are removed, not
// overridden. The program then refuses
// `pulumi up` with scopes that only read (components/stackConfig/okta.ts, oktaScopeProblems).
// Never run it on a checkout you commit from. It prints key names, never a value.
import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { isMap, isSeq, parseDocument } from "yaml";
import { PROJECT_ROOT } from "../harness/stackHarness";

/** The Okta provider's credential keys: all come from the preview environment (or the variables the provider reads). */
export const PREVIEW_CREDENTIAL_KEYS = ["okta:clientId", "okta:privateKeyId", "okta:scopes", "okta:privateKey", "okta:apiToken", "okta:accessToken"] as const;

/** An ESC environment reference as a stack file's `environment:` takes it: `<project>/<env>` (or a bare `<env>` of the default project). */
const ESC_ENVIRONMENT = /^(?:[A-Za-z0-9][A-Za-z0-9._-]*\/)?[A-Za-z0-9][A-Za-z0-9._-]*$/;

export interface PreviewStackFile {
    text: string;
    /** The environments the stack imports for `up`, now not imported. */
    replaced: string[];
    /** The credential keys removed from the file, left to the preview environment. */
    removed: string[];
}

/**
 * The stack file as the read-only preview runs it: `environment` replaced by `previewEnvironment`
 * (or removed, when the credentials come from the provider's environment variables instead), and
 * the provider's credential keys removed. Everything else (comments included) is kept. Pure.
 */
export function previewStackFile(text: string, previewEnvironment: string | undefined, file = "the stack file"): PreviewStackFile {
    const doc = parseDocument(text);
    if (doc.errors.length > 0) throw new Error(`${file}: is not valid YAML: ${doc.errors[0].message}`);
    if (!isMap(doc.contents)) throw new Error(`${file}: is not a stack file (a YAML map with config:)`);
    const imported = doc.get("environment");
    const replaced = isSeq(imported) ? imported.items.map((item) => String((item as { value?: unknown }).value ?? item)) : [];
    if (previewEnvironment !== undefined) {
        if (!ESC_ENVIRONMENT.test(previewEnvironment))
            throw new Error(`--environment: "${previewEnvironment}" is not an ESC environment name such as okta-api-gateway/prod-preview`);
        if (replaced.includes(previewEnvironment))
            throw new Error(
                `--environment: ${previewEnvironment} is the environment \`pulumi up\` opens (${file} imports it); the preview needs its own, holding a read-only credential`,
            );
        doc.set("environment", doc.createNode([previewEnvironment]));
    } else doc.delete("environment");
    const config = doc.get("config");
    const removed: string[] = [];
    if (isMap(config))
        for (const key of PREVIEW_CREDENTIAL_KEYS)
            if (config.has(key)) {
                config.delete(key);
                removed.push(key);
            }
    return { text: doc.toString(), replaced, removed };
}

if (require.main === module) {
    const stack = process.argv[2];
    const at = process.argv.indexOf("--environment");
    const environment = at > 0 ? process.argv[at + 1] : undefined;
    if (!stack || stack.startsWith("-") || (at > 0 && !environment)) {
        process.stderr.write("usage: node --import tsx scripts/previewStackFile.ts <stack> [--environment <project>/<stack>-preview]\n");
        process.exit(2);
    }
    const file = path.join(PROJECT_ROOT, `Pulumi.${stack}.yaml`);
    try {
        const result = previewStackFile(readFileSync(file, "utf8"), environment, path.basename(file));
        writeFileSync(file, result.text);
        process.stderr.write(
            `${path.basename(file)}: imports ${environment ?? "no environment"} instead of ${result.replaced.join(", ") || "none"}; ` +
                `${result.removed.join(", ") || "no credential key"} left to it (or to the provider's OKTA_* variables)\n`,
        );
    } catch (e) {
        process.stderr.write(`${(e as Error).message}\n`);
        process.exit(1);
    }
}
