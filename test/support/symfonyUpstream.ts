// A real PHP API behind the gateway: PHP's built-in server (Debian's php-cli) running a front
// controller on Symfony HttpFoundation (Debian's php-symfony-http-foundation), with method-parameter
// override on, as Laravel turns it on for every request. It answers the method Symfony's
// Request::getMethod() decided (what a Symfony or Laravel router dispatches on), and records it.
// .ci/tools.sh installs both packages.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { freePort } from "../../harness/gatewayProcess";

const HTTP_FOUNDATION = "/usr/share/php/Symfony/Component/HttpFoundation/autoload.php";

const FRONT_CONTROLLER = `<?php
require '${HTTP_FOUNDATION}';
use Symfony\\Component\\HttpFoundation\\Request;
use Symfony\\Component\\HttpFoundation\\JsonResponse;
Request::enableHttpMethodParameterOverride();
$request = Request::createFromGlobals();
try {
    $method = $request->getMethod();
} catch (\\Throwable $e) {
    (new JsonResponse(['error' => get_class($e)], 400))->send();
    return true;
}
$seen = ['method' => $method, 'requestMethod' => $request->getRealMethod(), 'path' => $request->getPathInfo(), 'query' => $request->query->all(), 'form' => $request->request->all()];
file_put_contents(getenv('EXECUTED_LOG'), json_encode($seen) . "\\n", FILE_APPEND | LOCK_EX);
(new JsonResponse($seen))->send();
return true;
`;

export interface SymfonyExecuted {
    /** The method Symfony decided (after any override): what the router dispatches on. */
    method: string;
    requestMethod: string;
    path: string;
    query: Record<string, unknown>;
    form: Record<string, unknown>;
}

export interface SymfonyUpstream {
    url: string;
    /** Every request the front controller ran, in order. */
    executed(): Promise<SymfonyExecuted[]>;
    stop(): Promise<void>;
}

export async function startSymfonyUpstream(): Promise<SymfonyUpstream> {
    const dir = mkdtempSync(path.join(tmpdir(), "symfony-upstream-"));
    const router = path.join(dir, "index.php");
    const log = path.join(dir, "executed.jsonl");
    writeFileSync(router, FRONT_CONTROLLER);
    writeFileSync(log, "");
    const port = await freePort();
    const child: ChildProcess = spawn("php", ["-S", `127.0.0.1:${port}`, router], {
        env: { ...process.env, EXECUTED_LOG: log, PHP_CLI_SERVER_WORKERS: "1" },
        stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr?.on("data", (c: Buffer) => (stderr += c.toString()));
    const url = `http://127.0.0.1:${port}`;
    for (let attempt = 0; ; attempt++) {
        try {
            await fetch(`${url}/__ready`);
            break;
        } catch {
            if (attempt > 100 || child.exitCode !== null) throw new Error(`php -S did not start: ${stderr}`);
            await new Promise((r) => setTimeout(r, 50));
        }
    }
    const { readFile } = await import("node:fs/promises");
    return {
        url,
        executed: async () =>
            (await readFile(log, "utf8"))
                .split("\n")
                .filter(Boolean)
                .map((line) => JSON.parse(line) as SymfonyExecuted)
                .filter((e) => e.path !== "/__ready"),
        stop: () =>
            new Promise((resolve) => {
                if (child.exitCode !== null) return resolve();
                child.once("exit", () => resolve());
                child.kill("SIGTERM");
            }),
    };
}
