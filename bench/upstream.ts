// The benchmark's upstream: a fixed JSON answer, keep-alive, nothing recorded. Prints its port.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

const body = JSON.stringify({ products: [{ id: 1, name: "Widget", price: 9.5 }] });
const server = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) }).end(body);
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => process.stdout.write(JSON.stringify({ port: (server.address() as AddressInfo).port }) + "\n"));
