// HTTP done right, with the clients users have (curl, Node's fetch, undici, raw sockets):
// Expect: 100-continue, large streamed bodies, connection-scoped headers, absolute-form targets,
// pipelining, RFC 6750 challenges and caching, the gateway's own answers for what the parser
// refuses, and one log line per request, also when the client leaves early.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { createServer, type Server } from "node:http";
import { connect, type AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { Agent, request } from "undici";
import { CLIENTS, startGatewayUnderTest, type GatewayUnderTest } from "../support/gatewayHarness";

interface Seen {
    method: string;
    url: string;
    bytes: number;
    sha256: string;
    expect?: string;
    requestId?: string | string[];
}

/** An upstream that hashes every body it receives and, on /close, answers with Connection: close. */
async function startHashingUpstream(): Promise<{ url: string; seen: Seen[]; stop(): Promise<void> }> {
    const seen: Seen[] = [];
    const server: Server = createServer((req, res) => {
        const hash = createHash("sha256");
        let bytes = 0;
        req.on("data", (c: Buffer) => {
            bytes += c.length;
            hash.update(c);
        });
        req.on("end", () => {
            seen.push({
                method: req.method ?? "",
                url: req.url ?? "",
                bytes,
                sha256: hash.digest("hex"),
                expect: req.headers.expect,
                requestId: req.headers["x-request-id"],
            });
            const headers: Record<string, string> = { "content-type": "application/json", "keep-alive": "timeout=5", "x-upstream-only": "1" };
            if (req.url?.startsWith("/close")) Object.assign(headers, { connection: "close, x-upstream-only" });
            if (req.url?.startsWith("/public")) headers["cache-control"] = "public, max-age=60";
            res.writeHead(200, headers).end(JSON.stringify({ bytes }));
        });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, stop: () => new Promise((r) => server.close(() => r())) };
}

/** Writes raw bytes and collects everything the gateway answers until it closes or goes quiet. */
function rawExchange(port: number, text: string, quietMs = 400): Promise<{ data: string; closedByServer: boolean }> {
    return new Promise((resolve) => {
        const socket = connect(port, "127.0.0.1");
        let data = "";
        let closedByServer = false;
        let timer = setTimeout(() => socket.destroy(), quietMs);
        socket.on("data", (c) => {
            data += c.toString("latin1");
            clearTimeout(timer);
            timer = setTimeout(() => socket.destroy(), quietMs);
        });
        socket.on("end", () => (closedByServer = true));
        socket.on("close", () => {
            clearTimeout(timer);
            resolve({ data, closedByServer });
        });
        socket.on("error", () => {});
        socket.write(text);
    });
}
const statuses = (data: string) => [...data.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));

const hasCurl = spawnSync("curl", ["--version"]).status === 0;

/** Runs curl without blocking the event loop (the gateway under test lives in this process). */
function curl(args: string[], input: Buffer): Promise<{ stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
        const child = spawn("curl", args, { stdio: ["pipe", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
        child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
        child.on("error", reject);
        child.on("close", () => resolve({ stdout, stderr }));
        child.stdin.on("error", () => {}); // curl may stop reading a body it will not send
        child.stdin.end(input);
    });
}

describe("HTTP, as standard clients use it", () => {
    let g: GatewayUnderTest;
    let up: Awaited<ReturnType<typeof startHashingUpstream>>;
    let token: string;
    let port: number;
    before(async () => {
        up = await startHashingUpstream();
        g = await startGatewayUnderTest({ env: { UPSTREAM_URL: up.url } });
        token = await g.okta.token(CLIENTS.productsWeb, "myscope");
        port = Number(new URL(g.url).port);
    });
    after(async () => {
        await g.stop();
        await up.stop();
    });

    it(
        "uploads with curl -T (Expect: 100-continue): the body arrives whole, and the 100 comes only for an allowed request",
        { skip: hasCurl ? false : "curl is not installed" },
        async () => {
            const body = Buffer.alloc(300_000, "x");
            const file = path.join(mkdtempSync(path.join(tmpdir(), "upload-")), "body.bin");
            writeFileSync(file, body);
            // curl sends Expect: 100-continue by itself for an upload of this size.
            const ok = await curl(
                ["-sS", "-o", "/dev/null", "-w", "%{http_code} %{size_upload}", "-T", file, "-H", `Authorization: Bearer ${token}`, `${g.url}/upload`],
                Buffer.alloc(0),
            );
            assert.equal(ok.stdout, "200 300000", ok.stderr);
            const seen = up.seen.at(-1)!;
            assert.deepEqual(
                [seen.method, seen.bytes, seen.sha256, seen.expect],
                ["PUT", body.length, createHash("sha256").update(body).digest("hex"), undefined],
            );
            const before = up.seen.length;
            const forged = await curl(
                ["-sS", "-o", "/dev/null", "-w", "%{http_code} %{size_upload}", "-T", file, "-H", "Authorization: Bearer forged-token", `${g.url}/upload`],
                Buffer.alloc(0),
            );
            assert.equal(forged.stdout, "401 0", "refused before the body was sent: nothing uploaded");
            assert.equal(up.seen.length, before);
        },
    );

    it("streams a 2 MiB POST from Node's fetch to the upstream intact", async () => {
        const body = Buffer.alloc(2 * 1024 * 1024);
        for (let i = 0; i < body.length; i++) body[i] = (i * 31) & 0xff;
        const r = await fetch(`${g.url}/big`, {
            method: "POST",
            headers: { authorization: `Bearer ${token}`, "content-type": "application/octet-stream" },
            body,
        });
        assert.equal(r.status, 200);
        assert.deepEqual(await r.json(), { bytes: body.length });
        assert.equal(up.seen.at(-1)!.sha256, createHash("sha256").update(body).digest("hex"));
    });

    it("keeps connection-scoped headers of the upstream's answer out of the client's (RFC 9110 §7.6.1), and the client's connection open", async () => {
        const agent = new Agent({ connections: 1 });
        try {
            const first = await request(`${g.url}/close`, { dispatcher: agent, headers: { authorization: `Bearer ${token}` } });
            await first.body.text();
            assert.equal(first.statusCode, 200);
            assert.equal(first.headers["x-upstream-only"], undefined, "the field the upstream's Connection listed is removed");
            assert.notEqual(String(first.headers.connection ?? "").toLowerCase(), "close", "the upstream's Connection: close is not the client's");
            const second = await request(`${g.url}/again`, { dispatcher: agent, headers: { authorization: `Bearer ${token}` } });
            await second.body.text();
            assert.equal(second.statusCode, 200, "the same client connection still carries requests");
        } finally {
            await agent.close();
        }
    });

    it("honours the client's Connection: close", async () => {
        const r = await rawExchange(port, `GET /a HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\n\r\n`);
        assert.deepEqual(statuses(r.data), [200]);
        assert.match(r.data, /\r\nconnection: close\r\n/i);
        assert.equal(r.closedByServer, true);
    });

    it("accepts an absolute-form request target (RFC 9112 §3.2.2)", async () => {
        const r = await rawExchange(
            port,
            `GET http://gw.example/abs?x=1 HTTP/1.1\r\nHost: gw.example\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\n\r\n`,
        );
        assert.deepEqual(statuses(r.data), [200]);
        assert.equal(up.seen.at(-1)!.url, "/abs?x=1");
    });

    it("answers pipelined requests in order, refusing a forged token in the middle without disturbing the others", async () => {
        const before = up.seen.length;
        const req = (path: string, t: string, last = false) =>
            `GET ${path} HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer ${t}\r\n${last ? "Connection: close\r\n" : ""}\r\n`;
        const r = await rawExchange(port, req("/p1", token) + req("/p2", "forged-token") + req("/p3", token, true), 800);
        assert.deepEqual(statuses(r.data), [200, 401, 200]);
        assert.deepEqual(
            up.seen.slice(before).map((s) => s.url),
            ["/p1", "/p3"],
        );
    });

    it("challenges every refusal with WWW-Authenticate (RFC 6750 §3), keeping MuleSoft's 400 body", async () => {
        const none = await fetch(`${g.url}/a`);
        assert.equal(none.status, 400);
        assert.equal(none.headers.get("www-authenticate"), "Bearer");
        assert.deepEqual(await none.json(), { error: "Access token was not provided" });
        const malformed = await fetch(`${g.url}/a`, { headers: { authorization: "Basic YTpi" } });
        assert.equal(malformed.status, 400);
        assert.equal(malformed.headers.get("www-authenticate"), 'Bearer error="invalid_request"');
    });

    it("marks a 2xx answer private when the token came in the query (RFC 6750 §2.3)", async () => {
        const q = await fetch(`${g.url}/public?access_token=${token}`);
        assert.equal(q.status, 200);
        assert.equal(q.headers.get("cache-control"), "private, max-age=60");
        const h = await fetch(`${g.url}/public`, { headers: { authorization: `Bearer ${token}` } });
        assert.equal(h.headers.get("cache-control"), "public, max-age=60", "untouched for a header token");
    });

    it("answers what the parser refuses, and methods it does not forward, in its own JSON with a request id, echoing nothing", async () => {
        const bad = await rawExchange(port, "BREW /pot HTTP/1.1\r\nHost: gw\r\n\r\n");
        assert.deepEqual(statuses(bad.data), [400]);
        assert.match(bad.data, /\r\nx-request-id: [0-9a-f-]{36}\r\n/i);
        assert.match(bad.data, /\{"error":"invalid_request"\}$/);
        const trace = await rawExchange(port, "TRACE /<script>alert(1)</script> HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n");
        assert.deepEqual(statuses(trace.data), [405]);
        assert.match(trace.data, /\r\nx-request-id: /i);
        assert.ok(!trace.data.includes("<script>"), "the target is never echoed");
        const lines = g.logs
            .join("")
            .trim()
            .split("\n")
            .map((l) => JSON.parse(l) as Record<string, unknown>);
        assert.ok(
            lines.some((l) => l.msg === "request" && l.status === 400 && l.reason === "HPE_INVALID_METHOD"),
            "the parser's refusal is logged",
        );
        assert.ok(lines.some((l) => l.msg === "request" && l.status === 405));
    });

    it("refuses a transfer coding it does not decode (gzip, chunked) with 501 in its JSON, and closes: the API never gets gzip bytes as a plain body", async () => {
        const before = up.seen.length;
        const body = "5\r\nhello\r\n0\r\n\r\n";
        for (const coding of ["gzip, chunked", "gzip,chunked", "deflate, chunked"]) {
            const r = await rawExchange(
                port,
                `POST /api/products HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer ${token}\r\nTransfer-Encoding: ${coding}\r\n\r\n${body}`,
            );
            assert.deepEqual(statuses(r.data), [501], coding);
            assert.match(r.data, /\{"error":"not_implemented","error_description":"only the chunked transfer coding is accepted"\}$/);
            assert.match(r.data, /\r\nx-request-id: /i);
            assert.ok(r.closedByServer, "the connection ends with the answer");
        }
        const split = await rawExchange(
            port,
            `POST /api/products HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer ${token}\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n${body}`,
        );
        assert.deepEqual(statuses(split.data), [501], "in two fields too");
        assert.equal(up.seen.length, before, "nothing reached the API");
        const chunked = await rawExchange(
            port,
            `POST /api/products HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer ${token}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${body}`,
        );
        assert.deepEqual(statuses(chunked.data), [200], "the control: chunked alone");
        assert.equal(up.seen.at(-1)?.bytes, 5);
    });

    it("gives the API the request id it answers and logs with: the client's when it is one valid id, else a new one", async () => {
        const ask = async (ids: string[]) => {
            const r = await rawExchange(
                port,
                `GET /api/products HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer ${token}\r\n${ids.map((id) => `X-Request-Id: ${id}\r\n`).join("")}Connection: close\r\n\r\n`,
            );
            const answered = /\r\nx-request-id: ([^\r]+)\r\n/i.exec(r.data)?.[1];
            return { answered, forwarded: up.seen.at(-1)?.requestId };
        };
        const valid = await ask(["client-id-1"]);
        assert.deepEqual([valid.answered, valid.forwarded], ["client-id-1", "client-id-1"]);
        for (const ids of [["a", "b"], ["has space"], ["<script>"], ["x".repeat(200)]]) {
            const r = await ask(ids);
            assert.match(r.answered ?? "", /^[0-9a-f-]{36}$/, ids.join("|"));
            assert.equal(r.forwarded, r.answered, `${ids.join("|")}: the upstream gets the id the gateway logged`);
        }
    });

    it("answers CONNECT 405 and an unsupported Expect 417, each in its JSON with a request id and a log line, never a silent close or Node's bare answer", async () => {
        const before = up.seen.length;
        const connectReq = await rawExchange(port, "CONNECT api.example:443 HTTP/1.1\r\nHost: api.example:443\r\n\r\n");
        assert.deepEqual(statuses(connectReq.data), [405]);
        assert.match(connectReq.data, /\r\nallow: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS\r\n/i);
        assert.match(connectReq.data, /\r\nx-request-id: [0-9a-f-]{36}\r\n/i);
        assert.match(connectReq.data, /\{"error":"method_not_allowed"\}$/);
        const expect = await rawExchange(
            port,
            `POST /api/products HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer ${token}\r\nExpect: something-else\r\nContent-Length: 3\r\n\r\nabc`,
        );
        assert.deepEqual(statuses(expect.data), [417]);
        assert.match(expect.data, /\r\nx-request-id: /i);
        assert.match(expect.data, /"error":"expectation_failed"/);
        assert.equal(up.seen.length, before, "nothing reached the API");
        const lines = g.logs
            .join("")
            .trim()
            .split("\n")
            .map((l) => JSON.parse(l) as Record<string, unknown>);
        assert.ok(lines.some((l) => l.msg === "request" && l.status === 405 && l.reason === "method CONNECT"));
        assert.ok(lines.some((l) => l.msg === "request" && l.status === 417));
    });

    it("answers a Connection: close request followed by a stray byte with its own answer, not a 400 for a request the API executed", async () => {
        const before = up.seen.length;
        const r = await rawExchange(port, `GET /api/products HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\n\r\nX`);
        assert.equal(up.seen.length, before + 1, "the API executed it");
        assert.deepEqual(statuses(r.data), [200], "so the client is told its answer");
        assert.ok(r.closedByServer);
    });

    it("logs a request whose client hangs up before the answer, as 499", async () => {
        const slow = createServer((_req, res) => setTimeout(() => res.writeHead(200).end("late"), 600));
        await new Promise<void>((r) => slow.listen(0, "127.0.0.1", r));
        const g2 = await startGatewayUnderTest({ env: { UPSTREAM_URL: `http://127.0.0.1:${(slow.address() as AddressInfo).port}` } });
        try {
            const t2 = await g2.okta.token(CLIENTS.productsWeb, "myscope");
            await rawExchange(
                Number(new URL(g2.url).port),
                `GET /slow HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer ${t2}\r\nX-Request-Id: gone-early\r\n\r\n`,
                150,
            );
            await new Promise((r) => setTimeout(r, 200));
            const line = g2.logs
                .join("")
                .trim()
                .split("\n")
                .map((l) => JSON.parse(l) as Record<string, unknown>)
                .find((l) => l.reqId === "gone-early");
            assert.ok(line, "one log line for it");
            assert.equal(line.status, 499);
            assert.equal(line.outcome, "client_closed");
        } finally {
            await g2.stop();
            await new Promise((r) => slow.close(r));
        }
    });
});
