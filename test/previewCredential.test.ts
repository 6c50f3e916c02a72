// Pull-request previews authenticate to Okta with a credential that only reads: the workflow
// rewrites its copy of the stack file to import the preview environment, and the program previews
// with it but refuses `pulumi up`.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { parse as parseYaml } from "yaml";
import { PROJECT_ROOT } from "../harness/stackHarness";
import { PREVIEW_CREDENTIAL_KEYS, previewStackFile } from "../scripts/previewStackFile";
import { runStackWith, type StackFileDoc } from "./support/stackRun";

const prodFile = path.join(PROJECT_ROOT, "Pulumi.prod.yaml");
const prodText = readFileSync(prodFile, "utf8");

/** What okta-api-gateway/prod-preview holds under pulumiConfig (its okta:privateKey is the harness's stand-in secret). */
const PREVIEW_ENVIRONMENT_CONFIG = {
    "okta:clientId": "0oapreviewer000000009",
    "okta:privateKeyId": "previewer-key-prod",
    "okta:scopes": ["okta.apps.read", "okta.authorizationServers.read", "okta.domains.read"],
};

/** The stack file as the preview job runs it, with the preview environment's values merged in as the CLI would. */
function asPreviewed(d: StackFileDoc): void {
    const rewritten = parseYaml(previewStackFile(prodText, "okta-api-gateway/prod-preview").text) as StackFileDoc;
    d.config = { ...rewritten.config, ...PREVIEW_ENVIRONMENT_CONFIG };
}

describe("the read-only preview credential", () => {
    it("imports the preview environment instead of the admin one, and leaves the provider's credential keys to it", () => {
        const result = previewStackFile(prodText, "okta-api-gateway/prod-preview", "Pulumi.prod.yaml");
        const before = parseYaml(prodText) as { environment: string[]; config: Record<string, unknown> };
        const after = parseYaml(result.text) as { environment: string[]; config: Record<string, unknown> };
        assert.deepEqual(after.environment, ["okta-api-gateway/prod-preview"]);
        assert.deepEqual(result.replaced, ["okta-api-gateway/prod"]);
        assert.deepEqual(result.removed, ["okta:clientId", "okta:privateKeyId", "okta:scopes"]);
        // Everything else is the stack's own: the preview shows what `up` would do with the same file.
        const kept = Object.fromEntries(Object.entries(before.config).filter(([k]) => !(PREVIEW_CREDENTIAL_KEYS as readonly string[]).includes(k)));
        assert.deepEqual(after.config, kept);
        assert.match(result.text, /# Production: server and apps never deleted/, "comments kept");
        // Without ESC, the environment import goes and the provider's OKTA_API_* variables apply.
        assert.equal((parseYaml(previewStackFile(prodText, undefined).text) as { environment?: unknown }).environment, undefined);
    });

    it("refuses to preview with the environment `up` opens, or with a name ESC would not take", () => {
        assert.throws(
            () => previewStackFile(prodText, "okta-api-gateway/prod", "Pulumi.prod.yaml"),
            /--environment: okta-api-gateway\/prod is the environment `pulumi up` opens/,
        );
        assert.throws(() => previewStackFile(prodText, "okta api gateway/prod preview"), /--environment: .* is not an ESC environment name/);
        assert.throws(() => previewStackFile("- a list\n", "okta-api-gateway/prod-preview", "Pulumi.x.yaml"), /Pulumi\.x\.yaml: is not a stack file/);
    });

    it("previews prod with reads only, and `pulumi up` with the same credential stops before declaring anything", () => {
        const preview = runStackWith(asPreviewed, { stack: "prod", args: ["--preview"] });
        assert.equal(preview.status, 0, preview.stderr);
        assert.ok((preview.declared ?? 0) > 20);
        const up = runStackWith(asPreviewed, { stack: "prod" });
        assert.equal(up.status, 1);
        assert.equal(up.declared, 0, "nothing half-created");
        assert.match(up.stderr, /okta:scopes: `pulumi up` needs okta\.apps\.manage and okta\.authorizationServers\.manage .*only reads: a preview credential/);
    });

    it("is what the pull-request workflow runs, before the preview", () => {
        const workflow = parseYaml(readFileSync(path.join(PROJECT_ROOT, ".github", "workflows", "pull-request.yml"), "utf8")) as {
            jobs: { preview: { steps: { run?: string; uses?: string }[] } };
        };
        const steps = workflow.jobs.preview.steps;
        const rewrite = steps.findIndex((s) => s.run?.startsWith("node --import tsx scripts/previewStackFile.ts ${{ matrix.stack }} --environment "));
        const preview = steps.findIndex((s) => s.uses?.startsWith("pulumi/actions@"));
        assert.ok(rewrite >= 0 && rewrite < preview, "the stack file is rewritten before pulumi preview");
        assert.match(steps[rewrite].run ?? "", /--environment okta-api-gateway\/\$\{\{ matrix\.stack \}\}-preview$/);
        // Each stack's `up` environment is not the preview's.
        for (const stack of ["dev", "prod"]) {
            const doc = parseYaml(readFileSync(path.join(PROJECT_ROOT, `Pulumi.${stack}.yaml`), "utf8")) as { environment: string[] };
            assert.ok(!doc.environment.includes(`okta-api-gateway/${stack}-preview`));
        }
    });
});
