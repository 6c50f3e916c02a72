// Runs the program on a copy of a committed stack file, changed by `mutate`, in a process of its own
// (index.ts declares once per process), and reads back what runStack.ts printed.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { parse as parseYaml, stringify } from "yaml";
import type { GatewaySettings } from "../../policy-gateway/src/config/settings";
import { PROJECT_ROOT } from "../../harness/stackHarness";

export type StackFileDoc = { config: Record<string, unknown> };
export type Entry = Record<string, unknown>;

export interface ReportedResource {
    type: string;
    name: string;
    inputs: Record<string, unknown>;
    protect: boolean;
    read: boolean;
    custom: boolean;
}

export interface StackRun {
    status: number | null;
    stderr: string;
    declared?: number;
    /** With `report`: every resource, the gateway's decoded settings, and the guardrail violations. */
    resources?: ReportedResource[];
    gatewaySettings?: GatewaySettings;
    violations?: string[];
}

export function runStackWith(mutate: (doc: StackFileDoc) => void, opts: { stack?: string; args?: string[]; report?: boolean } = {}): StackRun {
    const stack = opts.stack ?? "dev";
    const doc = parseYaml(readFileSync(path.join(PROJECT_ROOT, `Pulumi.${stack}.yaml`), "utf8")) as StackFileDoc;
    mutate(doc);
    const file = path.join(mkdtempSync(path.join(tmpdir(), "stack-")), `Pulumi.${stack}.yaml`);
    writeFileSync(file, stringify(doc));
    const args = [...(opts.args ?? []), ...(opts.report ? ["--report"] : [])];
    const child = spawnSync(process.execPath, ["--import", "tsx", path.join(PROJECT_ROOT, "test/support/runStack.ts"), stack, file, ...args], {
        cwd: PROJECT_ROOT,
        encoding: "utf8",
        timeout: 90_000,
        maxBuffer: 64 * 1024 * 1024,
    });
    const printed = JSON.parse(child.stdout.trim().split("\n").pop() ?? "{}") as Omit<StackRun, "status" | "stderr">;
    return { status: child.status, stderr: child.stderr, ...printed };
}
