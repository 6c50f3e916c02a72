// The one API every framework in the parity suite serves, each in its own idiom, and what its
// handlers record. A reading is what a framework ran for a request: the handler, the method it ran
// as, and the id it was handed (`orders.read GET id=42`). The route rules the gateway is given
// protect four of the handlers; the suite asserts no token without `admin` ever reaches them.

export interface ParityUpstream {
    name: string;
    url: string;
    /** The readings of every handler the framework ran, in order. */
    ran(): Promise<string[]>;
    stop(): Promise<void>;
}

/** The API, as a rule author reads it: what each handler serves. */
export const ROUTES = {
    settings: "GET /settings",
    "orders.read": "GET /orders/:id",
    "orders.write": "POST /orders/:id",
    "orders.delete": "DELETE /orders/:id",
    reports: "GET /reports (or /reports/)",
    "admin.users": "GET /admin/users",
} as const;

export type Handler = keyof typeof ROUTES;

/**
 * The rules an operator writes for this API, as docs/how-to/add-a-route-rule.md maps routes onto rules:
 * settings, the reports folder, admin and deleting an order need `admin`.
 */
export const PARITY_RULES = [
    { path: "/settings", scopes: ["admin"] },
    { path: "/orders/*", methods: ["DELETE"], scopes: ["admin"] },
    { path: "/reports/**", scopes: ["admin"] },
    { path: "/admin/**", scopes: ["admin"] },
];

export const PROTECTED: ReadonlySet<Handler> = new Set<Handler>(["settings", "orders.delete", "reports", "admin.users"]);

/** The API's routes, as the Node.js routers (express, fastify, koa, Hono) declare them. */
export const NODE_ROUTES: readonly (readonly ["get" | "post" | "delete", string, Handler])[] = [
    ["get", "/settings", "settings"],
    ["get", "/orders/:id", "orders.read"],
    ["post", "/orders/:id", "orders.write"],
    ["delete", "/orders/:id", "orders.delete"],
    ["get", "/reports", "reports"],
    ["get", "/admin/users", "admin.users"],
];

/** The handler the orders route runs for a method, as each framework dispatches it. */
export function ordersHandler(method: string): Handler | undefined {
    return ({ GET: "orders.read", HEAD: "orders.read", POST: "orders.write", DELETE: "orders.delete" } as Record<string, Handler>)[method.toUpperCase()];
}

export function reading(handler: Handler, method: string, id?: string): string {
    return id === undefined ? `${handler} ${method}` : `${handler} ${method} id=${id}`;
}

export function handlerOf(reading: string): Handler {
    return reading.split(" ")[0] as Handler;
}
