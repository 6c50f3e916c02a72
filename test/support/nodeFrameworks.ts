// Real Node.js frameworks behind the gateway, with their own method-override middleware on, as an
// API that serves HTML forms has it: express 5 with method-override reading `req.body._method`
// (express.urlencoded), and Hono with its built-in methodOverride (form field `_method`, urlencoded
// and multipart). Each records the method its router dispatched.
import { serve } from "@hono/node-server";
import express from "express";
import { Hono } from "hono";
import { methodOverride } from "hono/method-override";
import methodOverrideMiddleware from "method-override";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";

export interface FrameworkUpstream {
    name: string;
    url: string;
    /** `<METHOD> <path>` of every handler the framework ran. */
    ran: string[];
    stop(): Promise<void>;
}

const close = (server: Server) => () => new Promise<void>((resolve) => server.close(() => resolve()));

export async function startExpressWithMethodOverride(): Promise<FrameworkUpstream> {
    const ran: string[] = [];
    const app = express();
    app.use(express.urlencoded({ extended: false }));
    // method-override's documented body getter (README, "override using a body value").
    app.use(
        methodOverrideMiddleware((req) => {
            const body = (req as { body?: Record<string, unknown> }).body;
            if (body && typeof body === "object" && "_method" in body) {
                const method = body._method;
                delete body._method;
                return typeof method === "string" ? method : "";
            }
            return ""; // no override
        }),
    );
    app.all("/orders/:id", (req, res) => {
        ran.push(`${req.method} /orders/:id`);
        res.json({ ran: req.method });
    });
    const server = await new Promise<Server>((resolve) => {
        const s = app.listen(0, "127.0.0.1", () => resolve(s));
    });
    return { name: "express 5 + method-override", url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, ran, stop: close(server) };
}

export async function startHonoWithMethodOverride(): Promise<FrameworkUpstream> {
    const ran: string[] = [];
    const app = new Hono();
    app.use("/orders/*", methodOverride({ app }));
    for (const method of ["get", "post", "put", "patch", "delete", "options"] as const)
        app[method]("/orders/:id", (c) => {
            ran.push(`${c.req.method} /orders/:id`);
            return c.json({ ran: c.req.method });
        });
    const server = await new Promise<Server>((resolve) => {
        const s = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s as Server));
    });
    return { name: "Hono methodOverride", url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, ran, stop: close(server) };
}
