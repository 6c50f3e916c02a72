// The upstream's connections, shared: one consumer inside its rate limit (slow uploads, slow
// endpoints) cannot hold every connection, and nobody waits for one without end.
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { ConcurrencyGate, type Admission } from "../../policy-gateway/src/limits/concurrencyGate";
import { CLIENTS, send, startGatewayUnderTest, type GatewayUnderTest } from "../support/gatewayHarness";

const admitted = (a: Admission) => {
    assert.ok(a.admitted, JSON.stringify(a));
    return a;
};

describe("the concurrency gate", () => {
    const gate = (o: Partial<ConstructorParameters<typeof ConcurrencyGate>[0]> = {}) =>
        new ConcurrencyGate({ slots: 2, maxQueue: 2, queueTimeoutMs: 1_000, maxInFlightOf: () => 3, ...o });

    it("holds each consumer to its bound, in flight and waiting together, with 429 at once", async () => {
        const g = gate({ slots: 10 });
        const held = [admitted(await g.admit("a")), admitted(await g.admit("a")), admitted(await g.admit("a"))];
        assert.deepEqual(await g.admit("a"), { admitted: false, status: 429, reason: "consumer_in_flight", retryAfterSeconds: 1 });
        assert.ok((await g.admit("b")).admitted, "another consumer is not held back");
        held[0].release();
        held[0].release(); // twice: counted once
        assert.ok((await g.admit("a")).admitted);
        assert.equal((await g.admit("a")).admitted, false);
    });

    it("queues past the slots in order, hands each freed slot to the first waiter, and refuses a full queue with 503", async () => {
        const g = gate({ maxInFlightOf: () => 100 });
        const first = admitted(await g.admit("a"));
        admitted(await g.admit("b"));
        const order: string[] = [];
        const c = Promise.resolve(g.admit("c")).then((a) => (order.push("c"), a));
        const d = Promise.resolve(g.admit("d")).then((a) => (order.push("d"), a));
        assert.deepEqual(await g.admit("e"), { admitted: false, status: 503, reason: "upstream_queue_full", retryAfterSeconds: 1 });
        assert.deepEqual(g.sizes, { active: 2, queued: 2 });
        first.release();
        assert.ok((await c).admitted);
        assert.deepEqual(order, ["c"]);
        assert.deepEqual(g.sizes, { active: 2, queued: 1 });
        admitted(await c).release();
        assert.ok((await d).admitted);
    });

    it("answers a waiter 503 with Retry-After once the queue timeout passes, and frees its place", async () => {
        const g = gate({ slots: 1, queueTimeoutMs: 50, maxInFlightOf: () => 1 });
        admitted(await g.admit("a"));
        const started = Date.now();
        assert.deepEqual(await g.admit("b"), { admitted: false, status: 503, reason: "upstream_queue_timeout", retryAfterSeconds: 1 });
        assert.ok(Date.now() - started >= 45);
        assert.deepEqual(g.sizes, { active: 1, queued: 0 });
        // b's own bound was given back with its place in the queue.
        const again = g.admit("b");
        assert.deepEqual(g.sizes, { active: 1, queued: 1 });
        assert.equal((await again).admitted, false);
    });
});

/** Starts a POST with a body that never finishes arriving: the upstream holds its connection. */
function slowUpload(port: number, token: string): Promise<{ socket: Socket; status: () => number }> {
    return new Promise((resolve) => {
        const socket = connect(port, "127.0.0.1", () => {
            socket.write(
                `POST /api/products HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer ${token}\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\n\r\nfirst bytes`,
            );
            setTimeout(() => resolve({ socket, status: () => Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0) }), 100);
        });
        let data = "";
        socket.on("data", (c) => (data += c.toString("latin1")));
        socket.on("error", () => {});
    });
}

describe("a slow-uploading consumer beside a normal one", () => {
    let g: GatewayUnderTest;
    const uploads: Socket[] = [];
    before(async () => {
        g = await startGatewayUnderTest({ env: { UPSTREAM_MAX_CONNECTIONS: "4", CONSUMER_MAX_IN_FLIGHT: "3", UPSTREAM_QUEUE_TIMEOUT_MS: "300" } });
    });
    after(async () => {
        for (const s of uploads) s.destroy();
        await g.stop();
    });

    it("holds the slow consumer to its bound (429) while another consumer is served, and a full pool answers 503, not a wait without end", async () => {
        const port = Number(new URL(g.url).port);
        const slow = await g.okta.token(CLIENTS.productsWeb, "myscope");
        const normal = await g.okta.token(CLIENTS.admin, "myscope");
        const started = [];
        for (let i = 0; i < 5; i++) started.push(await slowUpload(port, slow));
        uploads.push(...started.map((u) => u.socket));
        await new Promise((r) => setTimeout(r, 200));
        const statuses = started.map((u) => u.status());
        assert.deepEqual(
            statuses.filter((s) => s === 429).length,
            2,
            `three uploads hold connections, the other two are refused at once: ${statuses.join(",")}`,
        );
        const t0 = Date.now();
        const r = await send(g.url, "/api/products", { headers: { authorization: `Bearer ${normal}` } });
        assert.equal(r.status, 200, "the other consumer gets the connection left");
        assert.ok(Date.now() - t0 < 1_000);
        // The last connection held by a second slow upload of the other consumer: the pool is full, and the next request waits only so long.
        const held = await slowUpload(port, normal);
        uploads.push(held.socket);
        const busy = await send(g.url, "/api/products", { headers: { authorization: `Bearer ${normal}` } });
        assert.equal(busy.status, 503);
        assert.equal(busy.headers["retry-after"], "1");
        assert.match(busy.body, /"error":"temporarily_unavailable"/);
        const lines = g.logs
            .join("")
            .trim()
            .split("\n")
            .map((l) => JSON.parse(l) as Record<string, unknown>);
        assert.ok(lines.some((l) => l.outcome === "concurrency_limited" && l.reason === "consumer_in_flight"));
        assert.ok(lines.some((l) => l.outcome === "upstream_busy" && l.reason === "upstream_queue_timeout"));
    });
});
