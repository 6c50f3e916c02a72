// stack-config.schema.json: generated from the zod schemas the program validates with, current in
// the repository, and a real JSON Schema validator (ajv) accepts the committed stack files with it
// and refuses what the program refuses key by key.
import Ajv2020 from "ajv/dist/2020";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { parse as parseYaml } from "yaml";
import { PROJECT_ROOT, projectName } from "../harness/stackHarness";
import { OUTPUTS_SCHEMA_FILE, SCHEMA_FILE, stackFileSchema, stackOutputsJsonSchema } from "../scripts/stackSchema";

const project = projectName();
const schema = JSON.parse(readFileSync(SCHEMA_FILE, "utf8")) as object;
const validate = new Ajv2020({ allErrors: true, strict: false }).compile(schema);
const stackDoc = (stack: string) => parseYaml(readFileSync(path.join(PROJECT_ROOT, `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> };

describe("the stack-file JSON Schema", () => {
    it("is current: `npm run schema` regenerates exactly the committed file", () => {
        assert.equal(readFileSync(SCHEMA_FILE, "utf8"), stackFileSchema(project), "run `npm run schema` and commit stack-config.schema.json");
    });

    it("has a sibling for the stack's outputs, current too (the programs check their outputs against it)", () => {
        assert.equal(readFileSync(OUTPUTS_SCHEMA_FILE, "utf8"), stackOutputsJsonSchema(project), "run `npm run schema` and commit stack-outputs.schema.json");
    });

    it("is named on the first line of every stack file, for editor completion", () => {
        for (const stack of ["dev", "prod"]) {
            const first = readFileSync(path.join(PROJECT_ROOT, `Pulumi.${stack}.yaml`), "utf8").split("\n")[0];
            assert.equal(first, "# yaml-language-server: $schema=./stack-config.schema.json");
        }
    });

    it("accepts the committed stack files", () => {
        for (const stack of ["dev", "prod"]) assert.ok(validate(stackDoc(stack)), `${stack}: ${JSON.stringify(validate.errors)}`);
    });

    it("refuses a misspelt project key, an unknown nested key and a wrong value", () => {
        const misspelt = stackDoc("dev");
        misspelt.config[`${project}:gatway`] = misspelt.config[`${project}:gateway`];
        assert.equal(validate(misspelt), false);
        const nested = stackDoc("dev");
        (nested.config[`${project}:gateway`] as Record<string, unknown>).tokenValidaton = "jwt";
        assert.equal(validate(nested), false);
        assert.ok(
            validate.errors?.some(
                (e) => e.keyword === "additionalProperties" && (e.params as { additionalProperty: string }).additionalProperty === "tokenValidaton",
            ),
        );
        const wrong = stackDoc("dev");
        (wrong.config[`${project}:gateway`] as Record<string, unknown>).target = "kubernetes";
        assert.equal(validate(wrong), false);
        // Other providers' namespaces are theirs.
        const aws = stackDoc("dev");
        aws.config["aws:region"] = "eu-west-1";
        assert.ok(validate(aws), JSON.stringify(validate.errors));
    });
});
