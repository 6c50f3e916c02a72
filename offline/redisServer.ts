// A real redis-server on loopback, for the tests and the benchmark of the shared rate-limit store:
// Debian's `redis-server` (installed by .ci/redis.sh), no persistence, stopped and restarted on
// the same port to play a store outage.
import { spawn, type ChildProcess } from "node:child_process";
import { connect } from "node:net";
import { freePort } from "./gatewayProcess";

export interface RedisServer {
    url: string;
    port: number;
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

export async function startRedisServer(): Promise<RedisServer> {
    const port = await freePort();
    let child: ChildProcess | undefined;
    const launch = async () => {
        const started = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
            stdio: ["ignore", "ignore", "pipe"],
        });
        const failed = new Promise<never>((_, reject) =>
            started.once("error", (e: NodeJS.ErrnoException) =>
                reject(
                    new Error(
                        e.code === "ENOENT"
                            ? "redis-server is not installed: `bash .ci/redis.sh` installs Debian's redis-server"
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
    return { url: `redis://127.0.0.1:${port}`, port, kill, restart: launch, stop: kill };
}
