// Shared by the stack configuration tests: the real Pulumi.dev.yaml, broken one thing at a time,
// through the same reader and validator the program uses.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { readRawStackConfig, StackConfigError, validateStackConfig, type StackConfig } from "../../components/stackConfig/index";
import type { StackOperation } from "../../components/stackConfig/okta";
import { configSourceFromMap, PROJECT_ROOT, projectName, STAND_IN_SECRETS } from "../../harness/stackHarness";

export const project = projectName();
export type StackDoc = { config: Record<string, unknown> };
export type Consumer = Record<string, unknown>;

export function devDoc(): StackDoc {
    return parseYaml(readFileSync(path.join(PROJECT_ROOT, "Pulumi.dev.yaml"), "utf8")) as StackDoc;
}
export function server(doc: StackDoc) {
    return doc.config[`${project}:authorizationServer`] as Record<string, unknown>;
}
export function consumers(doc: StackDoc) {
    return doc.config[`${project}:consumers`] as Consumer[];
}

/** Serialises a stack document to the engine's flat map and validates it, as the program does. */
/** The dev stack without its gateway (Okta only): the consumers' tiers go with it, as the gateway enforces them. */
export function withoutGateway(doc: StackDoc): StackDoc {
    delete doc.config[`${project}:gateway`];
    for (const c of consumers(doc)) delete c.tier;
    return doc;
}

export function load(doc: StackDoc, opts: { secrets?: Record<string, string>; env?: NodeJS.ProcessEnv; operation?: StackOperation } = {}): StackConfig {
    const secrets = opts.secrets ?? STAND_IN_SECRETS;
    const map: Record<string, string> = { ...secrets };
    for (const [k, v] of Object.entries(doc.config)) if (v !== undefined) map[k] = typeof v === "string" ? v : JSON.stringify(v);
    const raw = readRawStackConfig(configSourceFromMap(map, Object.keys(secrets)), project, opts.env ?? {});
    return validateStackConfig(raw, { project, stack: "dev", operation: opts.operation ?? "update" });
}

/** Breaks a copy of Pulumi.dev.yaml and returns the problems reported. */
export function problemsOf(mutate: (doc: StackDoc) => void, opts?: Parameters<typeof load>[1]): string[] {
    const doc = devDoc();
    mutate(doc);
    try {
        load(doc, opts);
    } catch (e) {
        assert.ok(e instanceof StackConfigError, `expected a StackConfigError, got ${String(e)}`);
        assert.match(e.message, /nothing was declared/);
        return e.problems;
    }
    assert.fail("the configuration was accepted");
}

/** A problem's key path without the consumer's name the problem adds (`consumers[1] (inventory-sync).scopes`). */
const withoutConsumerName = (problem: string) => problem.replace(/^([^\s:]+:consumers\[\d+\]) \([^)]*\)/, "$1");

export function assertProblem(problems: string[], key: string, what: RegExp) {
    const hit = problems.find((p) => withoutConsumerName(p).startsWith(`${key}: `) && what.test(p));
    assert.ok(hit, `no problem for ${key} matching ${what}; got:\n${problems.join("\n")}`);
}
