// `npm test`'s runner: finds the test files itself (Node.js 20's runner does not expand globs, and
// would report "Could not find test/**/*.test.ts" as if there were no tests), then runs them with
// tsx. `npm test -- test/stackConfig.test.ts …` runs only those files.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { exitUnlessSupportedNode } from "./nodeVersion.mjs";

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
exitUnlessSupportedNode(); // also when run on its own, not through npm test
const chosen = process.argv.slice(2);
const files = chosen.length
    ? chosen
    : readdirSync(path.join(root, "test"), { recursive: true })
          .map(String)
          .filter((f) => f.endsWith(".test.ts"))
          .sort()
          .map((f) => path.join("test", f));
if (files.length === 0) {
    process.stderr.write("no test files found under test/\n");
    process.exit(1);
}
const run = spawnSync(process.execPath, ["--import", "tsx", "--test", "--test-reporter=spec", ...files], { cwd: root, stdio: "inherit" });
process.exit(run.status ?? 1);
