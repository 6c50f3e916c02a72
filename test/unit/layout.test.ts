// The gateway's sources, grouped by concern in layers: each group imports only from itself and the
// groups before it, so the pure parts never depend on the I/O around them and no import runs back
// up. A new file must go in a group.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { PROJECT_ROOT } from "../../harness/stackHarness";

/** Lowest first: shared helpers, the request as received, token verification, limits, the pure decision, configuration, then the server (I/O). */
const LAYERS = ["shared", "request", "verification", "limits", "decision", "config", "server"] as const;
const SRC = path.join(PROJECT_ROOT, "policy-gateway", "src");

function sources(): string[] {
    return readdirSync(SRC, { recursive: true })
        .map(String)
        .filter((f) => f.endsWith(".ts"));
}

describe("the gateway's layout", () => {
    it("keeps every source in one of the groups", () => {
        assert.deepEqual(
            sources().filter((f) => !(LAYERS as readonly string[]).includes(f.split(path.sep)[0]) || f.split(path.sep).length !== 2),
            [],
        );
    });

    it("imports only from the same group or a group below it", () => {
        const upward: string[] = [];
        for (const file of sources()) {
            const group = file.split(path.sep)[0];
            const text = readFileSync(path.join(SRC, file), "utf8");
            for (const m of text.matchAll(/from "(\.{1,2}\/[^"]+)"/g)) {
                const target = path.relative(SRC, path.resolve(path.dirname(path.join(SRC, file)), m[1]));
                const targetGroup = target.split(path.sep)[0];
                assert.ok(!target.startsWith(".."), `${file} imports ${m[1]}, outside the gateway`);
                if (LAYERS.indexOf(targetGroup as never) > LAYERS.indexOf(group as never)) upward.push(`${file} → ${target}`);
            }
        }
        assert.deepEqual(upward, []);
    });
});
