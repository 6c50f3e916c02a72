// Debian's nginx behind the gateway, routing by its own `location` rules: a string-prefix location
// `/admin` (what serves `/admin`, `/adminx`, `/admin.php` and `/admin%20/x` alike), and `/` for
// the rest. Each answer says which location served it. .ci/tools.sh installs nginx-light.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { freePort } from "../../harness/gatewayProcess";
import { nginxConf } from "../../harness/nginxConf";

export interface NginxUpstream {
    url: string;
    stop(): Promise<void>;
}

export async function startNginxWithLocations(): Promise<NginxUpstream> {
    const dir = mkdtempSync(path.join(tmpdir(), "nginx-upstream-"));
    const port = await freePort();
    writeFileSync(
        path.join(dir, "nginx.conf"),
        nginxConf(
            dir,
            `  server {
    listen 127.0.0.1:${port};
    location /admin { default_type text/plain; return 200 "location /admin\\n"; }
    location / { default_type text/plain; return 200 "location /\\n"; }
  }`,
            64,
        ),
    );
    // Debian puts it in /usr/sbin, which a non-root PATH may lack.
    const bin = existsSync("/usr/sbin/nginx") ? "/usr/sbin/nginx" : "nginx";
    const child: ChildProcess = spawn(bin, ["-c", path.join(dir, "nginx.conf"), "-p", dir], { stdio: "ignore" });
    const url = `http://127.0.0.1:${port}`;
    for (let attempt = 0; ; attempt++) {
        const up = await fetch(`${url}/`).then(
            (r) => r.ok,
            () => false,
        );
        if (up) break;
        if (attempt > 100 || child.exitCode !== null) throw new Error(`nginx did not start (see ${dir}/error.log)`);
        await new Promise((r) => setTimeout(r, 50));
    }
    return {
        url,
        stop: () =>
            new Promise((resolve) => {
                if (child.exitCode !== null) return resolve();
                child.once("exit", () => resolve());
                child.kill("SIGTERM");
            }),
    };
}
