// Row 2 of the benchmark: a plain reverse proxy on the gateway's HTTP stack (Fastify +
// @fastify/reply-from, same options) with no token checks: the cost of one proxy hop.
import replyFrom from "@fastify/reply-from";
import Fastify, { type FastifyReply } from "fastify";
import type { AddressInfo } from "node:net";

async function main(): Promise<void> {
    const upstream = process.argv[2];
    const app = Fastify({ logger: false });
    app.removeAllContentTypeParsers();
    app.addContentTypeParser("*", (_req, payload, done) => done(null, payload));
    await app.register(replyFrom, { base: upstream, disableRequestLogging: true, undici: { connections: 256, pipelining: 1, keepAliveTimeout: 30_000 } });
    const handler = (_req: unknown, reply: FastifyReply) => reply.from(undefined, { retryDelay: () => null });
    app.all("/", handler);
    app.all("/*", handler);
    await app.listen({ port: 0, host: "127.0.0.1" });
    process.stdout.write(JSON.stringify({ port: (app.server.address() as AddressInfo).port }) + "\n");
}
void main();
