// A fixed-response "Products API" (the MuleSoft walkthrough's API) that records every request it
// receives: the upstream of the rehearsal, the tests and the benchmark.
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface RecordedRequest {
    method: string;
    url: string;
    headers: IncomingHttpHeaders;
    body: string;
}

export interface SampleUpstream {
    url: string;
    received: RecordedRequest[];
    /** Delay before answering, for timeout tests. */
    delayMs: number;
    /** The status it answers with. */
    status: number;
    /** Requests received, recorded or not. */
    count: number;
    stop(): Promise<void>;
    /** Listens again on the same port after stop(). */
    start(): Promise<void>;
}

/** A fixed-response "Products API" that records every request it receives. */
export async function startSampleUpstream(port = 0, host = "127.0.0.1", opts: { record?: boolean } = {}): Promise<SampleUpstream> {
    const record = opts.record ?? true;
    const upstream: SampleUpstream = { url: "", received: [], delayMs: 0, status: 200, count: 0, stop: async () => {}, start: async () => {} };
    const server: Server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
            upstream.count++;
            if (record) upstream.received.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString() });
            const answer = () => {
                if (res.destroyed) return;
                res.writeHead(upstream.status, { "content-type": "application/json" }).end(
                    JSON.stringify({ products: [{ id: 1, name: "Widget" }], path: req.url }) + "\n",
                );
            };
            if (upstream.delayMs > 0) setTimeout(answer, upstream.delayMs);
            else answer();
        });
    });
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, resolve);
    });
    upstream.url = `http://${host}:${(server.address() as AddressInfo).port}`;
    const bound = (server.address() as AddressInfo).port;
    upstream.stop = () =>
        new Promise<void>((resolve) => {
            server.closeAllConnections();
            server.close(() => resolve());
        });
    upstream.start = () => new Promise<void>((resolve) => server.listen(bound, host, resolve));
    return upstream;
}
