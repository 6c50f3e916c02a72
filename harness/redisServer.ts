// A real redis-server on loopback, for the tests and the benchmark of the shared rate-limit store:
// Debian's `redis-server` (installed by .ci/tools.sh; built with TLS), no persistence, stopped and
// restarted on the same port to play a store outage. With `tls`, it also listens with TLS on a port
// of its own, with a certificate for 127.0.0.1 made by openssl, as ElastiCache's in-transit
// encryption does: `url` is then `rediss://`, and `caFile` is what a client must trust.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { connect } from "node:net";
import { freePort } from "./gatewayProcess";

export interface RedisServer {
    url: string;
    port: number;
    /** With `tls`: the certificate (PEM) the server presents, self-signed. */
    caFile?: string;
    /** Kills the server (SIGKILL: a crash, not a clean shutdown); its data is gone. */
    kill(): Promise<void>;
    /** Starts it again on the same port. */
    restart(): Promise<void>;
    stop(): Promise<void>;
}

function ping(port: number): Promise<boolean> {
    return new Promise((resolve) => {
        const socket = connect({ host: "127.0.0.1", port }, () => socket.write("PING\r\n"));
        socket.setTimeout(500, () => (socket.destroy(), resolve(false)));
        socket.once("data", (d) => (socket.destroy(), resolve(d.toString().startsWith("+PONG"))));
        socket.once("error", () => resolve(false));
    });
}

/** A self-signed certificate for 127.0.0.1, by openssl, in a new temporary directory. */
function loopbackCertificate(): { cert: string; key: string } {
    const dir = mkdtempSync(path.join(tmpdir(), "redis-tls-"));
    const [cert, key] = [path.join(dir, "cert.pem"), path.join(dir, "key.pem")];
    const made = spawnSync(
        "openssl",
        [
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            key,
            "-out",
            cert,
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        { encoding: "utf8" },
    );
    if (made.status !== 0) throw new Error(`openssl could not make a certificate: ${made.stderr}`);
    return { cert, key };
}

export async function startRedisServer(opts: { tls?: boolean } = {}): Promise<RedisServer> {
    const port = await freePort();
    const tls = opts.tls ? { port: await freePort(), ...loopbackCertificate() } : undefined;
    const tlsArgs = tls ? ["--tls-port", String(tls.port), "--tls-cert-file", tls.cert, "--tls-key-file", tls.key, "--tls-auth-clients", "no"] : [];
    let child: ChildProcess | undefined;
    const launch = async () => {
        const started = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", ...tlsArgs], {
            stdio: ["ignore", "ignore", "pipe"],
        });
        const failed = new Promise<never>((_, reject) =>
            started.once("error", (e: NodeJS.ErrnoException) =>
                reject(
                    new Error(
                        e.code === "ENOENT"
                            ? "redis-server is not installed: `bash .ci/tools.sh` installs Debian's redis-server"
                            : `redis-server: ${e.message}`,
                    ),
                ),
            ),
        );
        const deadline = Date.now() + 10_000;
        const up = (async () => {
            while (!(await ping(port))) {
                if (started.exitCode !== null) throw new Error(`redis-server exited with ${started.exitCode} on port ${port}`);
                if (Date.now() > deadline) throw new Error(`redis-server did not answer on port ${port} within 10 s`);
                await new Promise((r) => setTimeout(r, 20));
            }
        })();
        await Promise.race([up, failed]);
        child = started;
    };
    const kill = async () => {
        const c = child;
        child = undefined;
        if (!c || c.exitCode !== null) return;
        await new Promise<void>((resolve) => {
            c.once("exit", () => resolve());
            c.kill("SIGKILL");
        });
    };
    await launch();
    return {
        url: tls ? `rediss://127.0.0.1:${tls.port}` : `redis://127.0.0.1:${port}`,
        port: tls ? tls.port : port,
        caFile: tls?.cert,
        kill,
        restart: launch,
        stop: kill,
    };
}
