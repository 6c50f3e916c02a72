// `node --import tsx bench/ab.ts <before.mjs> [after.mjs]`: a change to the gateway measured
// against the build before it, in one run. The 1-worker gateway as deployed (introspection, a
// cached token, LOG_LEVEL=info) from each bundle (after: policy-gateway/dist/gateway.mjs by
// default), and the minimal Node proxy, in the data path bench's alternated wrk rounds
// (BENCH_ROUNDS, BENCH_ROUND_SECONDS). AB_ENV adds settings to both gateways, as JSON
// (`{"TOKEN_VALIDATION":"jwt"}`). Keep the before bundle with
// `cp policy-gateway/dist/gateway.mjs /tmp/gateway-before.mjs` before the change's `npm run build`.
import * as path from "node:path";
import { alternated, ROUND_SECONDS, shown, summarise, WRK_CONNECTIONS, type Subject } from "./dataPath";
import { startBackends, startChild, startGateway, stop, tsx } from "./harness";

async function main(): Promise<void> {
    const [before, after = path.join(__dirname, "..", "policy-gateway", "dist", "gateway.mjs")] = process.argv.slice(2);
    if (!before) throw new Error("usage: bench/ab.ts <before.mjs> [after.mjs]");
    const env = process.env.AB_ENV ? (JSON.parse(process.env.AB_ENV) as Record<string, string>) : {};
    const jwt = env.TOKEN_VALIDATION === "jwt" || env.TOKEN_VALIDATION === "hybrid";
    const { upstream, upstreamUrl, auth, token } = await startBackends(jwt ? "jwt" : "opaque");
    const headers = { authorization: `Bearer ${token}` };
    const floor = await startChild<{ port: number }>(...tsx("plainProxy.ts", upstreamUrl));
    const gateways = [
        { name: `before (${before})`, ...(await startGateway(auth.info.issuer, upstreamUrl, { LOG_LEVEL: "info", ...env }, before)) },
        { name: `after (${after})`, ...(await startGateway(auth.info.issuer, upstreamUrl, { LOG_LEVEL: "info", ...env }, after)) },
    ];
    const subjects: Subject[] = [
        { name: "minimal Node proxy", url: `http://127.0.0.1:${floor.info.port}`, pids: [floor.child.pid] },
        ...gateways.map((g) => ({ name: g.name, url: `${g.url}/api/products`, headers, pids: [g.child.pid] })),
    ];
    const measured = await alternated(subjects, { connections: WRK_CONNECTIONS, seconds: ROUND_SECONDS });
    const rows = subjects.map((s, i) => summarise(s.name, measured[i]));
    for (const r of rows)
        process.stdout.write(
            `${r.name}: ${shown(r.rps)} req/s, ${Math.round((r.rps.median / rows[0].rps.median) * 100) / 100} of the floor, ${r.cpuUsPerRequest ? shown(r.cpuUsPerRequest) : "?"} CPU µs per request\n`,
        );
    for (const c of [...gateways.map((g) => g.child), floor.child, upstream.child, auth.child]) await stop(c);
    process.exit(0);
}
void main();
