// A second floor: the minimal proxy on undici's handler API (Pool.dispatch) instead of request():
// no Readable for the upstream's body, no promise; chunks go straight to the client with
// backpressure (pause/resume). What the gateway's data path would cost on the leanest undici API.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Pool } from "undici";

async function main(): Promise<void> {
    const upstream = new Pool(process.argv[2], { connections: 256, pipelining: 1, keepAliveTimeout: 30_000 });
    const server = createServer((req, res) => {
        const hasBody = req.headers["content-length"] !== undefined || req.headers["transfer-encoding"] !== undefined;
        const { host: _host, connection: _c, "keep-alive": _k, "transfer-encoding": _te, ...headers } = req.headers;
        upstream.dispatch(
            {
                path: req.url ?? "/",
                method: req.method ?? "GET",
                headers: headers as Record<string, string>,
                body: hasBody && req.method !== "GET" && req.method !== "HEAD" ? req : undefined,
            },
            {
                onRequestStart() {},
                onResponseStart(controller, statusCode, h) {
                    const { connection: _uc, "keep-alive": _uk, "transfer-encoding": _ute, ...out } = h;
                    res.writeHead(statusCode, out as Record<string, string>);
                    res.on("drain", () => controller.resume());
                },
                onResponseData(controller, chunk) {
                    if (!res.write(chunk)) controller.pause();
                },
                onResponseEnd() {
                    res.end();
                },
                onResponseError() {
                    if (!res.headersSent) res.writeHead(502).end();
                    else res.destroy();
                },
            },
        );
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    process.stdout.write(JSON.stringify({ port: (server.address() as AddressInfo).port }) + "\n");
}
void main();
