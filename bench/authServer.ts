// The benchmark's authorization server: the local oidc-provider in a process of its own, so it
// does not share an event loop with the load generator. Prints its issuer; answers "calls" over IPC.
import { startLocalOkta } from "../harness/localOkta";

export const BENCH_CLIENT = { clientId: "0oaBenchClient000001", clientSecret: "bench-client-secret-0123456789abcdef", scopes: ["myscope"] };
export const BENCH_INTROSPECTION = { clientId: "0oaBenchIntrospect01", clientSecret: "bench-introspection-secret-0123456789" };
export const BENCH_AUDIENCE = "api://products";

async function main(): Promise<void> {
    const format = process.argv[2] === "jwt" ? "jwt" : "opaque";
    const okta = await startLocalOkta({
        audience: BENCH_AUDIENCE,
        scopes: ["myscope"],
        clients: [BENCH_CLIENT],
        introspectionClient: BENCH_INTROSPECTION,
        accessTokenFormat: format,
        accessTokenTtlSeconds: 3600,
    });
    process.on("message", (m) => {
        if (m === "calls") process.send?.({ calls: { ...okta.calls } });
    });
    process.stdout.write(JSON.stringify({ issuer: okta.issuer, tokenUrl: okta.tokenUrl }) + "\n");
}
if (require.main === module) void main();
