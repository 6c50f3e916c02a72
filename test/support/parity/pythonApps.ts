// The parity API on Flask, Django and FastAPI (test/support/parity/parity_app.py), run by Debian's
// python3 with Debian's python3-flask, python3-django, python3-fastapi and python3-uvicorn
// (.ci/tools.sh installs them). /usr/bin/python3 is named: a pyenv or venv python3 earlier on PATH
// does not see Debian's packages.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { freePort } from "../../../harness/gatewayProcess";
import { reading, type Handler, type ParityUpstream } from "./api";

const PYTHON = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
const NAMES = { flask: "Flask (Werkzeug)", django: "Django", fastapi: "FastAPI (Starlette, uvicorn)" } as const;

export async function startPythonApp(framework: keyof typeof NAMES): Promise<ParityUpstream> {
    const dir = mkdtempSync(path.join(tmpdir(), `parity-${framework}-`));
    const log = path.join(dir, "ran.jsonl");
    writeFileSync(log, "");
    const port = await freePort();
    const child = spawn(PYTHON, [path.join(__dirname, "parity_app.py"), framework, String(port), log], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr?.on("data", (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
    const url = `http://127.0.0.1:${port}`;
    for (let attempt = 0; ; attempt++) {
        const up = await fetch(`${url}/__ready`).then(
            () => true,
            () => false,
        );
        if (up) break;
        if (attempt > 200 || child.exitCode !== null) throw new Error(`${framework} did not start: ${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
    }
    return {
        name: NAMES[framework],
        url,
        ran: async () =>
            (await readFile(log, "utf8"))
                .split("\n")
                .filter(Boolean)
                .map((line) => {
                    const r = JSON.parse(line) as { handler: Handler; method: string; id: string | null };
                    return reading(r.handler, r.method, r.id ?? undefined);
                }),
        stop: () =>
            new Promise((resolve) => {
                if (child.exitCode !== null) return resolve();
                child.once("exit", () => resolve());
                child.kill("SIGTERM");
            }),
    };
}
