// The parity API on the web servers users put behind a gateway, routing by their own rules:
// Debian's nginx (locations, each answering for its handler) and Debian's Apache httpd (files
// under a DocumentRoot and an AliasMatch, as it serves them). Each writes an access log line per
// request that names the handler it ran. .ci/tools.sh installs nginx-light and apache2-bin.
import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { freePort } from "../../../harness/gatewayProcess";
import { nginxConf } from "../../../harness/nginxConf";
import { ordersHandler, reading, type Handler, type ParityUpstream } from "./api";

async function started(name: string, child: ChildProcess, url: string, errorLog: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
        const up = await fetch(`${url}/__ready`).then(
            () => true,
            () => false,
        );
        if (up) return;
        if (attempt > 100 || child.exitCode !== null) throw new Error(`${name} did not start (see ${errorLog})`);
        await new Promise((r) => setTimeout(r, 50));
    }
}

function stopper(child: ChildProcess): () => Promise<void> {
    return () =>
        new Promise((resolve) => {
            if (child.exitCode !== null) return resolve();
            child.once("exit", () => resolve());
            child.kill("SIGTERM");
        });
}

/**
 * Access logs are written after the answer is sent: the readings of a request just answered are
 * read once a marker request, sent after it, has been logged behind it.
 */
async function loggedReadings(url: string, log: string, parse: (line: string) => string[]): Promise<string[]> {
    const mark = `/__mark/${Date.now()}-${Math.random().toString(36).slice(2)}`;
    await fetch(`${url}${mark}`).then((r) => r.arrayBuffer());
    for (let attempt = 0; attempt < 200; attempt++) {
        const lines = (await readFile(log, "utf8")).split("\n");
        const at = lines.findIndex((line) => line.includes(mark));
        if (at !== -1) return lines.slice(0, at).flatMap(parse);
        await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`${log}: the marker request was never logged`);
}

const sbin = (name: string) => (existsSync(`/usr/sbin/${name}`) ? `/usr/sbin/${name}` : name);

export async function startNginx(): Promise<ParityUpstream> {
    const dir = mkdtempSync(path.join(tmpdir(), "parity-nginx-"));
    const port = await freePort();
    const log = path.join(dir, "parity.log");
    writeFileSync(log, "");
    // Its locations match the normalised, decoded `$uri`; a capture is logged re-escaped.
    const answer = (handler: string) => `set $handler ${handler}; default_type text/plain; return 200 "${handler}\\n";`;
    writeFileSync(
        path.join(dir, "nginx.conf"),
        nginxConf(
            dir,
            `  log_format parity '$handler\t$request_method\t$id\t$request_uri';
  server {
    listen 127.0.0.1:${port};
    access_log ${log} parity;
    set $handler "-"; set $id "-";
    location = /settings { ${answer("settings")} }
    location ~ ^/orders/([^/]+)$ {
      set $id $1; set $handler orders.write;
      if ($request_method ~ ^(GET|HEAD)$) { set $handler orders.read; }
      if ($request_method = DELETE) { set $handler orders.delete; }
      default_type text/plain; return 200 "$handler\\n";
    }
    location /reports/ { ${answer("reports")} }
    location /admin/ { ${answer("admin.users")} }
    location / { return 404; }
  }`,
            64,
        ),
    );
    const child = spawn(sbin("nginx"), ["-c", path.join(dir, "nginx.conf"), "-p", dir], { stdio: "ignore" });
    const url = `http://127.0.0.1:${port}`;
    await started("nginx", child, url, `${dir}/error.log`);
    return {
        name: "nginx",
        url,
        ran: () =>
            loggedReadings(url, log, (line) => {
                const [handler, method, id] = line.split("\t");
                if (!handler || handler === "-") return []; // no location of the API answered
                return [reading(handler as Handler, method, id === "-" ? undefined : decodeURIComponent(id))];
            }),
        stop: stopper(child),
    };
}

const MODULES = "/usr/lib/apache2/modules";

export async function startApache(): Promise<ParityUpstream> {
    const dir = mkdtempSync(path.join(tmpdir(), "parity-apache-"));
    const docs = path.join(dir, "htdocs");
    for (const d of ["admin", "reports"]) mkdirSync(path.join(docs, d), { recursive: true });
    const files: Record<string, Handler> = {
        settings: "settings",
        "admin/users": "admin.users",
        "reports/index.html": "reports",
        "orders-item": "orders.read",
    };
    for (const f of Object.keys(files)) writeFileSync(path.join(docs, f), `${files[f]}\n`);
    const port = await freePort();
    const log = path.join(dir, "parity.log");
    // Started as root, httpd serves as www-data, which must read the DocumentRoot.
    const asRoot = process.getuid?.() === 0;
    if (asRoot) chmodSync(dir, 0o755);
    writeFileSync(
        path.join(dir, "httpd.conf"),
        `ServerRoot "${dir}"
ServerName 127.0.0.1
Listen 127.0.0.1:${port}
PidFile ${dir}/httpd.pid
DefaultRuntimeDir ${dir}
ErrorLog ${dir}/error.log
# One process, one request at a time, no keep-alive: each request is logged before the next is
# read, so a request's log line is never behind the marker that follows it.
LoadModule mpm_event_module ${MODULES}/mod_mpm_event.so
ServerLimit 1
StartServers 1
ThreadLimit 1
ThreadsPerChild 1
MinSpareThreads 1
MaxSpareThreads 1
MaxRequestWorkers 1
KeepAlive Off
LoadModule authz_core_module ${MODULES}/mod_authz_core.so
LoadModule alias_module ${MODULES}/mod_alias.so
LoadModule dir_module ${MODULES}/mod_dir.so
${asRoot ? "User www-data\nGroup www-data" : ""}
DocumentRoot "${docs}"
<Directory "/">
  Require all granted
</Directory>
DirectoryIndex index.html
AliasMatch "^/orders/([^/]+)$" "${docs}/orders-item"
LogFormat "%>s\t%m\t%f\t%U" parity
CustomLog ${log} parity
`,
    );
    writeFileSync(log, "");
    const child = spawn(sbin("apache2"), ["-f", path.join(dir, "httpd.conf"), "-DFOREGROUND"], { stdio: "ignore" });
    const url = `http://127.0.0.1:${port}`;
    await started("apache2", child, url, `${dir}/error.log`);
    return {
        name: "Apache httpd",
        url,
        ran: () =>
            loggedReadings(url, log, (line) => {
                const [status, method, file, uri] = line.split("\t");
                const handler = /^2\d\d$/.test(status ?? "") ? files[path.relative(docs, file)] : undefined;
                if (handler === undefined) return [];
                if (handler !== "orders.read") return [reading(handler, method)];
                return [reading(ordersHandler(method) ?? "orders.write", method, uri.slice("/orders/".length))];
            }),
        stop: stopper(child),
    };
}
