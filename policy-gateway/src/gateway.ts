// The gateway: a Fastify reverse proxy to one upstream that forwards only requests carrying a
// valid access token with the scopes their route needs. Decisions are the pure functions of the
// modules it imports; this file wires them to HTTP, the authorization server and the upstream.
import replyFrom from "@fastify/reply-from";
import Fastify, { type FastifyReply, type FastifyRequest } from "fastify";
import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import pino, { type Logger } from "pino";
import { AuthServerClient } from "./authServerClient";
import { CircuitBreaker } from "./circuitBreaker";
import type { GatewayConfig } from "./config";
import { DecisionCache, Limiter, tokenKey } from "./decisionCache";
import { extractToken, headerValues, NO_TOKEN_ERROR, queryValues } from "./extractToken";
import { forwardHeaders, forwardQuery } from "./forwardHeaders";
import { GatewayMetrics } from "./metrics";
import { normalizePath } from "./normalizePath";
import { isCorsPreflight, hostProblem, overrideMethods } from "./requestShape";
import { requirementsFor } from "./routeRules";
import { missingScopes } from "./scopes";
import type { TokenInfo } from "./tokenInfo";
import { ADMIN_PATHS } from "./settings";
import { trustedPeerPredicate } from "./trustProxy";
import { ClientBudget } from "./clientBudget";
import { IntrospectionVerifier, JwtVerifier, LocalThenIntrospection, type TokenVerifier } from "./verifiers";

export interface Gateway {
    /** Starts both listeners and begins loading the issuer's metadata; resolves the bound ports. */
    start(): Promise<{ port: number; adminPort: number }>;
    /** Ready once the issuer's metadata is loaded, until draining starts. */
    readonly ready: boolean;
    /** Stops accepting, drains in-flight requests, closes connections. */
    close(): Promise<void>;
    readonly metrics: GatewayMetrics;
}

const ALL_METHODS = ["DELETE", "GET", "HEAD", "PATCH", "POST", "PUT", "OPTIONS"] as const;

function json(reply: FastifyReply, status: number, body: Record<string, string>, headers: Record<string, string> = {}) {
    return reply.code(status).headers({ "cache-control": "no-store", ...headers }).type("application/json").send(JSON.stringify(body));
}

export function createGateway(config: GatewayConfig, opts: { logger?: Logger } = {}): Gateway {
    // Buffered: one write per ~4 KiB of log lines instead of one syscall per request; flushed on close.
    const destination = opts.logger ? undefined : pino.destination({ dest: 1, sync: false, minLength: 4096 });
    const log = opts.logger ?? pino({ level: config.logLevel, base: { service: "policy-gateway" } }, destination);
    // A quiet gateway's lines still appear within a second.
    const flusher = destination && setInterval(() => destination.flush(), 1000).unref();
    const metrics = new GatewayMetrics();
    const http = new AuthServerClient(config.introspection.timeoutMs, config.introspection.maxConcurrency);
    const cacheOptions = { maxEntries: config.cache.maxEntries, negativeMaxEntries: config.cache.negativeMaxEntries, negativeTtlSeconds: config.cache.negativeTtlSeconds };
    const common = { issuer: config.issuer, audience: config.audience, clockSkewSeconds: config.clockSkewSeconds, maxTtlSeconds: config.cache.maxTtlSeconds, metrics };

    let verifier: TokenVerifier | undefined;
    let metadataLoaded = false;
    let draining = false;
    let stopped = false;
    const caches: DecisionCache[] = [];

    const newCache = () => {
        const c = new DecisionCache(cacheOptions);
        caches.push(c);
        return c;
    };

    async function loadMetadata(): Promise<void> {
        // introspection mode checks tokens locally first unless INTROSPECTION_PRECHECK=off: it needs the JWKS too.
        const precheck = config.validation === "introspection" && config.introspectionPrecheck === "jwt";
        const needs: ("introspection_endpoint" | "jwks_uri")[] =
            config.validation === "jwt" ? ["jwks_uri"] : config.validation === "introspection" && !precheck ? ["introspection_endpoint"] : ["introspection_endpoint", "jwks_uri"];
        let delayMs = 250;
        while (!stopped) {
            try {
                const md = await http.metadata(config.issuer, needs);
                const introspection = () =>
                    new IntrospectionVerifier({
                        ...common,
                        cache: newCache(),
                        endpoint: md.introspection_endpoint as string,
                        client: config.introspectionClient as { id: string; secret: string },
                        http,
                        breaker: new CircuitBreaker(config.breaker.failureThreshold, config.breaker.resetSeconds * 1000),
                        limiter: new Limiter(config.introspection.maxConcurrency, config.introspection.maxQueue),
                        clientBudget: config.introspectionsPerClientPerMinute > 0 ? new ClientBudget(config.introspectionsPerClientPerMinute) : undefined,
                    });
                const jwt = () => new JwtVerifier({ ...common, cache: newCache(), jwksUri: md.jwks_uri as string });
                verifier =
                    config.validation === "jwt"
                        ? jwt()
                        : config.validation === "hybrid"
                          ? new LocalThenIntrospection(jwt(), introspection(), "local", metrics)
                          : precheck
                            ? new LocalThenIntrospection(jwt(), introspection(), "introspection", metrics)
                            : introspection();
                metadataLoaded = true;
                log.info({ issuer: config.issuer, validation: config.validation }, "issuer metadata loaded; ready");
                destination?.flush();
                return;
            } catch (e) {
                log.warn({ err: (e as Error).message, retryInMs: delayMs }, "issuer metadata not loaded yet");
                await new Promise((r) => setTimeout(r, delayMs).unref());
                delayMs = Math.min(delayMs * 2, 30_000);
            }
        }
    }

    const isTrustedPeer = trustedPeerPredicate(config.trustProxy);
    const app = Fastify({
        // request.ip (logged) is the client's address as the trusted proxy in front reports it;
        // proxy-addr asks about each hop, from the socket's peer outwards.
        trustProxy: config.trustProxy === false ? false : (address: string, hop: number) => (typeof config.trustProxy === "number" ? hop < config.trustProxy : isTrustedPeer(address)),
        logger: false, // the gateway logs its own line per request, without query strings or headers
        genReqId: (req) => {
            const given = req.headers["x-request-id"];
            return typeof given === "string" && /^[A-Za-z0-9._-]{1,128}$/.test(given) ? given : randomUUID();
        },
        return503OnClosing: true,
        forceCloseConnections: "idle",
        // Malformed URLs and the like never reach the handler: answer in the gateway's own format.
        frameworkErrors: (_err, _req, reply) => {
            metrics.decided("bad_request");
            void json(reply, 400, { error: "invalid_request" });
        },
    });
    // Bodies are streamed to the upstream untouched, never parsed here.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser("*", (_req, payload, done) => done(null, payload));

    const basePath = config.upstreamUrl.pathname.replace(/\/+$/, "");
    void app.register(replyFrom, {
        base: config.upstreamUrl.origin,
        disableRequestLogging: true,
        undici: {
            connections: 256,
            pipelining: 1,
            keepAliveTimeout: 30_000,
            headersTimeout: config.upstreamTimeoutMs,
            bodyTimeout: config.upstreamTimeoutMs,
            connectTimeout: Math.min(config.upstreamTimeoutMs, 10_000),
        },
    });

    async function handle(request: FastifyRequest, reply: FastifyReply) {
        const raw = request.raw;
        // The per-request log line is built only when it will be written.
        const logging = log.isLevelEnabled("info");
        const started = logging ? performance.now() : 0;
        const entry: Record<string, unknown> | undefined = logging ? { reqId: request.id, method: raw.method, clientIp: request.ip } : undefined;
        const done = (outcome: string, extra?: Record<string, unknown>) => {
            metrics.decided(outcome);
            if (entry) Object.assign(entry, extra, { outcome });
        };
        reply.header("x-request-id", request.id);
        try {
            // RFC 9112 §3.2: one Host, and a valid one; the upstream and its logs read it.
            const badHost = hostProblem(raw.rawHeaders);
            if (badHost) {
                done("bad_request", { reason: badHost });
                return json(reply, 400, { error: "invalid_request", error_description: badHost });
            }
            if (!metadataLoaded || !verifier) {
                done("not_ready");
                return json(reply, 503, { error: "temporarily_unavailable" }, { "retry-after": "1" });
            }
            const target = normalizePath(raw.url ?? "");
            if (!target.ok) {
                done("bad_request", { reason: target.reason });
                return json(reply, 400, { error: "invalid_request", error_description: target.reason });
            }
            if (entry) entry.path = target.path;

            // Only a real preflight (no body, no credentials, no override) goes without a token,
            // with nothing but its CORS headers.
            if (config.corsPreflightPassthrough && isCorsPreflight(raw.method ?? "", raw.rawHeaders)) {
                done("preflight");
                return forward(request, reply, target, undefined, true);
            }

            const extraction = extractToken(headerValues(raw.rawHeaders, "authorization"), queryValues(target.query, "access_token"));
            if (!extraction.ok) {
                done(extraction.body.error === NO_TOKEN_ERROR ? "no_token" : "bad_request");
                return json(reply, extraction.status, extraction.body);
            }
            // One SHA-256 per request: the cache key, whose prefix is also the log's token reference.
            const key = tokenKey(extraction.token);
            if (entry) entry.token = key.slice(0, 10);

            const verdict = await verifier.verify(extraction.token, key, { client: request.ip });
            if (verdict.kind === "throttled") {
                done("throttled");
                return json(reply, 429, { error: "too_many_requests", error_description: "too many new tokens from this client address" }, { "retry-after": String(verdict.retryAfterSeconds) });
            }
            if (verdict.kind === "unavailable") {
                done("unavailable", { reason: verdict.reason });
                return json(reply, 503, { error: "temporarily_unavailable", error_description: "the access token cannot be verified right now" }, { "retry-after": String(verdict.retryAfterSeconds) });
            }
            if (verdict.kind === "invalid") {
                done("invalid_token", { reason: verdict.reason });
                return json(reply, 401, { error: "invalid_token" }, { "www-authenticate": 'Bearer error="invalid_token"' });
            }
            if (entry) entry.clientId = verdict.info.clientId;
            // The methods the upstream may run: the request line's, and with METHOD_OVERRIDE=evaluate
            // every override it carries (with `strip` the overrides are removed before forwarding).
            const methods = config.methodOverride === "evaluate" ? [raw.method ?? "GET", ...overrideMethods(raw.rawHeaders, target.query)] : [raw.method ?? "GET"];
            const defaults = { scopes: config.requiredScopes, match: config.scopeMatch };
            const unmet = requirementsFor(config.routeRules, methods, target.path, defaults).find((need) => missingScopes(verdict.info.scopes, need.scopes, need.match).length > 0);
            if (unmet) {
                done("insufficient_scope");
                const scope = unmet.scopes.join(" ");
                return json(reply, 403, { error: "insufficient_scope", scope }, { "www-authenticate": `Bearer error="insufficient_scope", scope="${scope}"` });
            }
            done("allowed");
            return forward(request, reply, target, verdict.info);
        } finally {
            if (entry) {
                reply.raw.once("finish", () => {
                    log.info({ ...entry, status: reply.raw.statusCode, ms: Math.round((performance.now() - started) * 10) / 10 }, "request");
                });
            }
        }
    }

    function forward(request: FastifyRequest, reply: FastifyReply, target: { path: string; query: string }, identity: TokenInfo | undefined, preflight = false) {
        const socket = request.raw.socket as { encrypted?: boolean };
        const stripMethodOverride = config.methodOverride === "strip";
        const query = forwardQuery(target.query, stripMethodOverride);
        return reply.from(basePath + target.path, {
            // Exactly this query: reply-from would otherwise re-append the original one, token and all.
            queryString: () => query,
            // Never replay a request on the client's behalf (reply-from retries 503s by default).
            retryDelay: () => null,
            rewriteRequestHeaders: (_req, headers) =>
                forwardHeaders(headers, {
                    identityPrefix: config.identityHeaderPrefix,
                    hideCredentials: config.hideCredentials,
                    identity: identity ?? { scopes: new Set() },
                    peerIp: request.raw.socket.remoteAddress ?? "",
                    trustedPeer: isTrustedPeer(request.raw.socket.remoteAddress),
                    protocol: socket.encrypted ? "https" : "http",
                    host: request.headers.host,
                    stripMethodOverride,
                    preflight,
                }),
            onError: (r, { error }) => {
                const code = (error as { code?: string }).code ?? "";
                const timeout = /TIMEOUT/.test(code);
                metrics.upstreamErrors.inc({ kind: timeout ? "timeout" : "bad_gateway" });
                void json(r as FastifyReply, timeout ? 504 : 502, { error: timeout ? "upstream_timeout" : "bad_gateway" });
            },
        });
    }

    app.route({ method: [...ALL_METHODS], url: "/", handler: handle });
    app.route({ method: [...ALL_METHODS], url: "/*", handler: handle });

    const admin: Server = createServer((req, res) => {
        const send = (status: number, body: string, type = "application/json") => void res.writeHead(status, { "content-type": type, "cache-control": "no-store" }).end(body);
        if (req.url === ADMIN_PATHS.liveness) send(200, '{"status":"ok"}');
        else if (req.url === ADMIN_PATHS.readiness) send(metadataLoaded && !draining ? 200 : 503, `{"status":"${metadataLoaded && !draining ? "ready" : draining ? "draining" : "starting"}"}`);
        else if (req.url === ADMIN_PATHS.metrics) {
            const sizes = caches.reduce((a, c) => ({ positive: a.positive + c.sizes.positive, negative: a.negative + c.sizes.negative }), { positive: 0, negative: 0 });
            metrics.cacheEntries.set({ cache: "positive" }, sizes.positive);
            metrics.cacheEntries.set({ cache: "negative" }, sizes.negative);
            void metrics.registry.metrics().then((text) => send(200, text, metrics.registry.contentType));
        } else send(404, '{"error":"not_found"}');
    });

    return {
        metrics,
        get ready() {
            return metadataLoaded && !draining;
        },
        async start() {
            await app.listen({ port: config.port, host: config.host });
            await new Promise<void>((resolve) => admin.listen(config.adminPort, config.host, resolve));
            void loadMetadata();
            const port = (app.server.address() as AddressInfo).port;
            const adminPort = (admin.address() as AddressInfo).port;
            log.info({ port, adminPort, upstream: config.upstreamUrl.origin }, "listening");
            destination?.flush();
            return { port, adminPort };
        },
        async close() {
            draining = true;
            stopped = true;
            await app.close(); // waits for in-flight requests
            await new Promise<void>((resolve) => {
                admin.closeAllConnections();
                admin.close(() => resolve());
            });
            await http.close();
            if (flusher) clearInterval(flusher);
            destination?.flushSync();
        },
    };
}
