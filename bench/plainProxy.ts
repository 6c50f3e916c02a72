// Row 2 of the benchmark: the minimal Node.js proxy, the floor the gateway is measured against:
// node:http forwarding through an undici Pool (the gateway's options), streaming both ways, no
// framework and no checks. What one proxy hop costs on Node itself.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Pool } from "undici";

async function main(): Promise<void> {
    const upstream = new Pool(process.argv[2], { connections: 256, pipelining: 1, keepAliveTimeout: 30_000 });
    const server = createServer((req, res) => {
        const hasBody = req.headers["content-length"] !== undefined || req.headers["transfer-encoding"] !== undefined;
        const { host: _host, connection: _c, "keep-alive": _k, "transfer-encoding": _te, ...headers } = req.headers;
        upstream
            .request({
                path: req.url ?? "/",
                method: req.method ?? "GET",
                headers: headers as Record<string, string>,
                body: hasBody && req.method !== "GET" && req.method !== "HEAD" ? req : undefined,
            })
            .then((r) => {
                const { connection: _uc, "keep-alive": _uk, "transfer-encoding": _ute, ...out } = r.headers;
                res.writeHead(r.statusCode, out as Record<string, string>);
                r.body.on("error", () => res.destroy());
                r.body.pipe(res);
            })
            .catch(() => {
                if (!res.headersSent) res.writeHead(502).end();
                else res.destroy();
            });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    process.once("SIGTERM", () => process.exit(0)); // an orderly exit writes a --cpu-prof profile (bench/profile.ts)
    process.stdout.write(JSON.stringify({ port: (server.address() as AddressInfo).port }) + "\n");
}
void main();
