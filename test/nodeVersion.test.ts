// `npm start`, `npm test`, `npm run bench`: on the wrong Node.js they stop at once and say what is
// needed and how to get it, instead of failing later in ways that look like something else.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { describe, it } from "node:test";
import { nodeVersionProblem, requiredEngines } from "../scripts/nodeVersion.mjs";
import { PROJECT_ROOT } from "../harness/stackHarness";

describe("the Node.js version check", () => {
    it("accepts the engines range and refuses what lies outside it, saying how to get the right one", () => {
        assert.equal(requiredEngines(), ">=24 <25");
        assert.equal(nodeVersionProblem("24.21.0", ">=24 <25"), undefined);
        assert.equal(nodeVersionProblem("v24.0.0", ">=24 <25"), undefined);
        for (const v of ["20.20.2", "22.11.0", "25.0.0"]) {
            const problem = nodeVersionProblem(v, ">=24 <25") ?? "";
            assert.match(problem, new RegExp(`needs Node\\.js 24 \\(package\\.json engines: ">=24 <25"\\); this is Node\\.js v${v.replace(/\./g, "\\.")}`));
            assert.match(problem, /nvm install {5}\(reads \.nvmrc\)/);
            assert.match(problem, /fnm use --install-if-missing/);
        }
    });

    it("runs as the first step of the npm scripts and exits 1 with the message on another Node.js", () => {
        const script = path.join(PROJECT_ROOT, "scripts/nodeVersion.mjs");
        const here = spawnSync(process.execPath, [script], { encoding: "utf8" });
        assert.equal(here.status, 0, here.stderr);
        // The machine's own Node.js (20 on the build machines) is what a new user runs first.
        const system = spawnSync("/usr/bin/node", ["--version"], { encoding: "utf8" });
        if (system.status === 0 && !system.stdout.startsWith("v24.")) {
            const there = spawnSync("/usr/bin/node", [script], { encoding: "utf8" });
            assert.equal(there.status, 1);
            assert.match(there.stderr, /needs Node\.js 24/);
        }
    });
});
