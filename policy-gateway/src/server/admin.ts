// The admin listener: liveness, readiness and Prometheus metrics, apart from the traffic port.
import { createServer, type Server } from "node:http";
import { ADMIN_PATHS } from "../config/contract";

/** Where /metrics comes from: one gateway's registry, or a primary's merge of its workers'. */
export interface MetricsSource {
    registry: { metrics(): Promise<string>; contentType: string };
}

/** `faulted`: an error nothing handled, in a process that must not exit for it (the primary): replace the container. */
export type Readiness = "starting" | "ready" | "draining" | "misconfigured" | "faulted";

export function createAdminServer(metrics: MetricsSource, state: () => Readiness): Server {
    return createServer((req, res) => {
        const send = (status: number, body: string, type = "application/json") =>
            void res.writeHead(status, { "content-type": type, "cache-control": "no-store" }).end(body);
        if (req.url === ADMIN_PATHS.liveness) return send(200, '{"status":"ok"}\n');
        if (req.url === ADMIN_PATHS.readiness) {
            const s = state();
            return send(s === "ready" ? 200 : 503, `{"status":"${s}"}\n`);
        }
        if (req.url === ADMIN_PATHS.metrics) return void metrics.registry.metrics().then((text) => send(200, text, metrics.registry.contentType));
        send(404, '{"error":"not_found"}\n');
    });
}
