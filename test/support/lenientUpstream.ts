// A stand-in API that routes the way lenient frameworks do, so that a test can see which handler
// a request forwarded by the gateway would really execute:
// - paths compared case-insensitively with per-character upper-casing (ASP.NET's
//   OrdinalIgnoreCase: `ı` → `I`, `ſ` → `S`), a trailing slash optional (Express and Rails'
//   non-strict routing);
// - `:param` segments (Express), matching one non-empty segment;
// - method overrides honoured as Express's method-override middleware, Rails and Laravel do:
//   X-HTTP-Method-Override, X-HTTP-Method, X-Method-Override, or `?_method=` on a POST;
// - X-Original-URL / X-Rewrite-URL taken as the real path, as IIS URL Rewrite and Symfony do.
// It records every handler it executed.
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface Executed {
    method: string;
    route: string;
    headers: IncomingHttpHeaders;
}

export interface LenientUpstream {
    url: string;
    executed: Executed[];
    stop(): Promise<void>;
}

const fold = (s: string) => s.toUpperCase();

function routeMatches(route: string, path: string): boolean {
    const want = route.split("/").filter(Boolean);
    const got = path
        .split("/")
        .filter(Boolean)
        .map((s) => decodeURIComponent(s));
    return want.length === got.length && want.every((w, i) => (w.startsWith(":") ? got[i] !== "" : fold(w) === fold(got[i])));
}

export async function startLenientUpstream(routes: { method: string; route: string }[]): Promise<LenientUpstream> {
    const upstream: LenientUpstream = { url: "", executed: [], stop: async () => {} };
    const server: Server = createServer((req, res) => {
        req.resume();
        req.on("end", () => {
            const url = new URL(req.url ?? "/", "http://upstream");
            const header = (name: string) => {
                const v = req.headers[name];
                return Array.isArray(v) ? v[0] : v;
            };
            let method = req.method ?? "GET";
            if (method === "POST") {
                const override =
                    header("x-http-method-override") ?? header("x-http-method") ?? header("x-method-override") ?? url.searchParams.get("_method") ?? undefined;
                if (override) method = override.toUpperCase();
            }
            const path = header("x-original-url") ?? header("x-rewrite-url") ?? url.pathname;
            const hit = routes.find((r) => r.method === method && routeMatches(r.route, path));
            if (!hit) return void res.writeHead(404, { "content-type": "application/json" }).end('{"error":"not_found"}\n');
            upstream.executed.push({ method, route: hit.route, headers: req.headers });
            res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ executed: `${method} ${hit.route}` }) + "\n");
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    upstream.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    upstream.stop = () => new Promise((resolve) => server.close(() => resolve()));
    return upstream;
}
