// The parity API on the Node.js frameworks users run, in-process on loopback, each with its
// defaults: express 4 and 5 (with method-override reading the header, the query and the body, as
// its README shows), fastify, koa with @koa/router, and Hono (with its built-in methodOverride).
import { serve } from "@hono/node-server";
import Router from "@koa/router";
import express5 from "express";
import express4 from "express4";
import Fastify from "fastify";
import { Hono } from "hono";
import { methodOverride as honoMethodOverride } from "hono/method-override";
import Koa from "koa";
import methodOverride from "method-override";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { NODE_ROUTES, reading, type Handler, type ParityUpstream } from "./api";

function listening(server: Server): Promise<string> {
    return new Promise((resolve) => {
        const done = () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
        if (server.listening) done();
        else server.once("listening", done);
    });
}

async function upstream(name: string, server: Server, ran: string[]): Promise<ParityUpstream> {
    return {
        name,
        url: await listening(server),
        ran: async () => [...ran],
        stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
}

type ExpressFactory = typeof express5;

function expressApp(express: ExpressFactory, ran: string[]) {
    const app = express();
    const record = (handler: Handler) => (req: express5.Request, res: express5.Response) => {
        const id = typeof req.params.id === "string" ? req.params.id : undefined;
        ran.push(reading(handler, req.method, id));
        res.json({ handler });
    };
    app.use(express.urlencoded({ extended: false }));
    app.use(methodOverride("X-HTTP-Method-Override"));
    app.use(methodOverride((req) => (typeof (req as express5.Request).query._method === "string" ? ((req as express5.Request).query._method as string) : "")));
    app.use(
        methodOverride((req) => {
            const body = (req as { body?: Record<string, unknown> }).body;
            return body && typeof body._method === "string" ? body._method : "";
        }),
    );
    for (const [method, path, handler] of NODE_ROUTES) app[method](path, record(handler));
    return app;
}

export async function startExpress5(): Promise<ParityUpstream> {
    const ran: string[] = [];
    return upstream("express 5", expressApp(express5, ran).listen(0, "127.0.0.1"), ran);
}

export async function startExpress4(): Promise<ParityUpstream> {
    const ran: string[] = [];
    // express 4's types are its own (@types/express 4), its API the same for these calls.
    return upstream("express 4", expressApp(express4 as unknown as ExpressFactory, ran).listen(0, "127.0.0.1"), ran);
}

export async function startFastify(): Promise<ParityUpstream> {
    const ran: string[] = [];
    const app = Fastify({ logger: false });
    const record = (handler: Handler) => async (req: { method: string; params: unknown }) => {
        const id = (req.params as { id?: string }).id;
        ran.push(reading(handler, req.method, id));
        return { handler };
    };
    for (const [method, path, handler] of NODE_ROUTES) app[method](path, record(handler));
    // Fastify parses no form bodies without a plugin; an API that takes them accepts them raw.
    app.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string" }, (_req, body, done) => done(null, body));
    await app.listen({ port: 0, host: "127.0.0.1" });
    return {
        name: "fastify",
        url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
        ran: async () => [...ran],
        stop: () => app.close(),
    };
}

export async function startKoa(): Promise<ParityUpstream> {
    const ran: string[] = [];
    const app = new Koa();
    const router = new Router();
    const record = (handler: Handler) => (ctx: Koa.Context) => {
        const id = (ctx as Koa.Context & { params?: Record<string, string> }).params?.id;
        ran.push(reading(handler, ctx.method, id));
        ctx.body = { handler };
    };
    for (const [method, path, handler] of NODE_ROUTES) router[method](path, record(handler));
    app.use(router.routes()).use(router.allowedMethods());
    return upstream("koa + @koa/router", app.listen(0, "127.0.0.1"), ran);
}

export async function startHono(): Promise<ParityUpstream> {
    const ran: string[] = [];
    const app = new Hono();
    app.use("*", honoMethodOverride({ app }));
    const record = (handler: Handler) => (c: { req: { method: string; param(name: string): string | undefined }; json(o: object): Response }) => {
        ran.push(reading(handler, c.req.method, c.req.param("id")));
        return c.json({ handler });
    };
    for (const [method, path, handler] of NODE_ROUTES) app[method](path, record(handler));
    const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }) as Server;
    return upstream("Hono", server, ran);
}
