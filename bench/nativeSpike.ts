// The native data path spike of docs/design/native-data-path.md, not a product change: nginx
// (Debian's, with its auth_request module) carries the requests, and asks the gateway for a
// verdict only when its own cache has none for this token, method and target. The verdict is the
// gateway's own decision, unchanged: nginx sends the request line and headers (no body) to the
// real gateway bundle, whose upstream is an echo that turns the identity headers the gateway
// would forward into answer headers nginx can read (auth_request_set). One decision
// implementation, two data paths. Also nginx alone, the ceiling.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { nginxConf } from "../harness/nginxConf";
import { freePort } from "../harness/gatewayProcess";
import { children, startGateway, stop } from "./harness";

/** The identity headers the spike carries from the verdict to the API (the gateway's default prefix). */
const IDENTITY = ["client-id", "subject", "scopes"] as const;
/** How long nginx keeps a verdict: the gateway's own cache window for a valid token is longer. */
export const SPIKE_VERDICT_SECONDS = 30;

async function nginxRunning(child: ChildProcess, url: string): Promise<boolean> {
    for (;;) {
        if (child.exitCode !== null) return false;
        const up = await fetch(url).then(
            () => true,
            () => false,
        );
        if (up) return true;
        await new Promise((r) => setTimeout(r, 50));
    }
}

function nginxBinary(): string | undefined {
    const which = spawnSync("sh", ["-c", "command -v nginx || ls /usr/sbin/nginx"], { encoding: "utf8" });
    return which.status === 0 ? which.stdout.trim().split("\n")[0] : undefined;
}

async function runNginx(http: (dir: string, port: number) => string): Promise<{ child: ChildProcess; url: string; version: string } | undefined> {
    const bin = nginxBinary();
    if (!bin) return undefined;
    const dir = mkdtempSync(path.join(os.tmpdir(), "bench-nginx-"));
    const port = await freePort();
    writeFileSync(path.join(dir, "nginx.conf"), nginxConf(dir, http(dir, port)));
    const child = spawn(bin, ["-c", path.join(dir, "nginx.conf"), "-p", dir], { stdio: ["ignore", "ignore", "inherit"] });
    children.push(child);
    const url = `http://127.0.0.1:${port}`;
    if (!(await nginxRunning(child, url))) return undefined;
    const version = spawnSync(bin, ["-v"], { encoding: "utf8" })
        .stderr.trim()
        .replace(/^nginx version: nginx\//, "");
    return { child, url, version };
}

/** nginx with one worker as a plain reverse proxy: no checks, the ceiling of a native data path. */
export function startNginx(upstreamPort: number) {
    return runNginx(
        (_dir, port) => `  upstream api { server 127.0.0.1:${upstreamPort}; keepalive 256; }
  server {
    listen 127.0.0.1:${port};
    location / { proxy_pass http://api; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }`,
    );
}

/** The gateway's upstream in the spike: answers 204 with the identity headers it received, as `x-verdict-*`. */
async function startVerdictEcho(): Promise<{ url: string; close: () => void }> {
    const server = createServer((req, res) => {
        for (const name of IDENTITY) {
            const v = req.headers[`x-auth-${name}`];
            if (typeof v === "string") res.setHeader(`x-verdict-${name}`, v);
        }
        res.writeHead(204).end();
    });
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}

export async function startSpike(
    upstreamPort: number,
    issuer: string,
    /** Off: nginx asks the gateway on every request, as it would for every new target or token. */
    cacheVerdicts = true,
): Promise<{ url: string; pids: (number | undefined)[]; stop: () => Promise<void> } | undefined> {
    const echo = await startVerdictEcho();
    const gateway = await startGateway(issuer, echo.url, { LOG_LEVEL: "info" });
    const decisionPort = Number(new URL(gateway.url).port);
    // In memory where the machine has /dev/shm; writable by nginx's worker, which drops root for `nobody`.
    const verdicts = mkdtempSync(path.join(existsSync("/dev/shm") ? "/dev/shm" : os.tmpdir(), "bench-verdicts-"));
    chmodSync(verdicts, 0o777);
    const nginx = await runNginx((_dir, port) => {
        const carried = IDENTITY.map((h) => `auth_request_set $verdict_${h.replace("-", "_")} $upstream_http_x_verdict_${h.replace("-", "_")};`).join(" ");
        const forwarded = IDENTITY.map((h) => `proxy_set_header X-Auth-${h} $verdict_${h.replace("-", "_")};`).join(" ");
        return `  upstream api { server 127.0.0.1:${upstreamPort}; keepalive 256; }
  upstream decision { server 127.0.0.1:${decisionPort}; keepalive 64; }
  # The verdicts, keyed by method, target and Authorization. (nginx writes a cache key into its
  # cache file: the token would be at rest in the cache directory; see the design note.)
  proxy_cache_path ${verdicts} keys_zone=verdicts:10m max_size=64m inactive=${SPIKE_VERDICT_SECONDS}s use_temp_path=off;
  server {
    listen 127.0.0.1:${port};
    location / {
      auth_request /_verdict;
      ${carried}
      ${forwarded}
      proxy_pass http://api; proxy_http_version 1.1; proxy_set_header Connection "";
    }
    location = /_verdict {
      internal;
      proxy_pass http://decision$request_uri;
      proxy_method $request_method;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_http_version 1.1; proxy_set_header Connection "";
      ${
          cacheVerdicts
              ? `proxy_cache verdicts;
      proxy_cache_key "$request_method $request_uri $http_authorization";
      proxy_cache_valid 200 204 401 403 ${SPIKE_VERDICT_SECONDS}s;
      proxy_ignore_headers Cache-Control Expires Set-Cookie;`
              : ""
      }
    }
  }`;
    });
    const stopAll = async () => {
        if (nginx) await stop(nginx.child);
        await stop(gateway.child);
        echo.close();
        rmSync(verdicts, { recursive: true, force: true });
    };
    if (!nginx) return void (await stopAll());
    return { url: nginx.url, pids: [nginx.child.pid, gateway.child.pid], stop: stopAll };
}
