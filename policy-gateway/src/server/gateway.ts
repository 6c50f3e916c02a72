// The gateway: a reverse proxy on node:http that forwards, through an undici pool, only requests
// carrying a valid access token with the scopes their route needs. What to do with a request is
// decided by `authorize` (pure); this file wires it to HTTP, the verifier and the upstream:
// streaming both ways with backpressure, `Expect: 100-continue` answered only once the token and
// scopes are checked, every answer in the gateway's own JSON with an `x-request-id`, and exactly
// one log line per request, also for those whose client went away.
import { randomUUID } from "node:crypto";
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import pino, { type Logger } from "pino";
import { Pool, type Dispatcher } from "undici";

type DispatchController = Dispatcher.DispatchController;
import { createAdminServer } from "./admin";
import { AuthServerClient } from "../verification/authServerClient";
import {
    bodyOverrideRefusal,
    conclude,
    DRAINING,
    ENCODED_FORM,
    FORWARDED_METHODS,
    prepare,
    rateLimited,
    upstreamBusy,
    type Answer,
    type Forward,
} from "../decision/authorize";
import { FormOverrideInspector, formKindOf, OverrideInBody } from "../request/formBody";
import { corsEnabled, responseCorsFields, type CorsPolicy } from "../decision/cors";
import type { GatewayApi, GatewayConfig } from "../config/load";
import { NO_API } from "../config/settings";
import { upstreamPath } from "../decision/apiRouting";
import { ConsumerRateLimiter } from "../limits/consumerRateLimiter";
import { ConcurrencyGate } from "../limits/concurrencyGate";
import { RemoteBuckets, type LimitChannel } from "../limits/containerBuckets";
import { tierOf } from "../limits/rateLimitPlan";
import { buildVerification, loadMetadata, type Verification } from "./discovery";
import { headerValues } from "../request/extractToken";
import { forwardHeaders, forwardQuery, NO_IDENTITY } from "../request/forwardHeaders";
import { consumerLabel, GatewayMetrics, UNKNOWN_CONSUMER, type Outcome } from "../shared/metrics";
import { rateLimitHeaders } from "../limits/rateLimitHeaders";
import { responseHeaders } from "../request/responseHeaders";
import type { PrimaryChannel } from "../verification/remoteIntrospection";
import { CLIENT_AUTH_REFUSED, type OnClientAuthFailure } from "../verification/verifiers";
import { SharedStore } from "../limits/sharedStore";
import { clientAddress, trustedPeerPredicate } from "../request/trustProxy";

export interface Gateway {
    /** Starts both listeners and begins loading the issuer's metadata; resolves the bound ports. */
    start(): Promise<{ port: number; adminPort: number }>;
    /** Ready once the issuer's metadata is loaded, until draining starts. */
    readonly ready: boolean;
    /** Stops accepting, drains in-flight requests, closes connections. */
    close(): Promise<void>;
    readonly metrics: GatewayMetrics;
}

/** The build's version, stamped into the bundle by build.mjs (build_info). */
declare const __GATEWAY_VERSION__: string | undefined;
const VERSION = typeof __GATEWAY_VERSION__ === "string" ? __GATEWAY_VERSION__ : "dev";

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/**
 * The client's X-Request-Id when it sent exactly one valid one (Node joins repeats with ", ",
 * which the pattern refuses), else a new one; the answer, the log line and the upstream all get it.
 */
function requestIdOf(given: string | string[] | undefined): string {
    return typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID();
}

/** A Content-Encoding other than `identity` (RFC 9110 §8.4). */
function contentCoded(value: string | string[] | undefined): boolean {
    const codings = (Array.isArray(value) ? value.join(",") : (value ?? ""))
        .split(",")
        .map((c) => c.trim().toLowerCase())
        .filter(Boolean);
    return codings.some((c) => c !== "identity");
}

function sendJson(res: ServerResponse, status: number, body: Record<string, string>, headers: Record<string, string> = {}): void {
    if (status === 204) return void res.writeHead(204, { "cache-control": "no-store", ...headers }).end(); // no content, no length
    const text = JSON.stringify(body);
    res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store", "content-length": Buffer.byteLength(text), ...headers }).end(text);
}

/** undici's timeout errors: the upstream was too slow (504); anything else: it failed (502). */
function upstreamFailure(e: unknown): "timeout" | "bad_gateway" {
    const code = (e as { code?: string }).code ?? "";
    return /TIMEOUT/.test(code) ? "timeout" : "bad_gateway";
}

/** The per-consumer limiter, when RATE_LIMITS is set: on the shared store, or this process alone. */
function consumerRateLimiter(config: GatewayConfig, opts: GatewayOptions, log: Logger, metrics: GatewayMetrics): ConsumerRateLimiter | undefined {
    const limits = config.rateLimits;
    if (!limits) return undefined;
    const store =
        limits.store.kind === "shared"
            ? new SharedStore({
                  url: limits.store.url,
                  timeoutMs: limits.store.timeoutMs,
                  // Connection errors repeat while the store is away; the limiter logs the change once.
                  onError: (e) => log.debug({ err: e.message }, "rate-limit store connection error"),
              })
            : undefined;
    // A worker of several asks the primary, which keeps the container's buckets; only when the
    // primary does not answer does it decide alone, on its share of the task's part.
    const processes = (opts.primary ? config.workers : 1) * (store ? limits.tasks : 1);
    const container = opts.limits ? new RemoteBuckets(opts.limits) : undefined;
    return new ConsumerRateLimiter({ plan: limits.plan, store, share: processes, container, log, metrics });
}

export interface GatewayOptions {
    logger?: Logger;
    /** A worker of several (WORKERS > 1): introspection goes through the primary, which serves the admin port. */
    primary?: PrimaryChannel;
    /** A worker of several: rate limits decided without the shared store are the primary's, for the whole container. */
    limits?: LimitChannel;
    /** Called once the issuer's metadata is loaded and the gateway is ready. */
    onReady?: () => void;
}

export function createGateway(config: GatewayConfig, opts: GatewayOptions = {}): Gateway {
    // Buffered: one write per ~4 KiB of log lines instead of one syscall per request; flushed on close.
    const destination = opts.logger ? undefined : pino.destination({ dest: 1, sync: false, minLength: 4096 });
    const log = opts.logger ?? pino({ level: config.logLevel, base: { service: "policy-gateway", pid: process.pid } }, destination);
    // A quiet gateway's lines still appear within a second.
    const flusher = destination && setInterval(() => destination.flush(), 1000).unref();

    let verification: Verification | undefined;
    let draining = false;
    let stopped = false;
    let inFlight = 0;
    const metrics = new GatewayMetrics(
        {
            inFlight: () => inFlight,
            breakerStates: () => verification?.breakers.map((b) => b.state) ?? [],
            introspectionLoad: () =>
                (verification?.limiters ?? []).reduce((a, l) => ({ active: a.active + l.load.active, queued: a.queued + l.load.queued }), {
                    active: 0,
                    queued: 0,
                }),
            cacheSizes: () =>
                (verification?.caches ?? []).reduce((a, c) => ({ positive: a.positive + c.sizes.positive, negative: a.negative + c.sizes.negative }), {
                    positive: 0,
                    negative: 0,
                }),
        },
        { version: VERSION },
    );
    const http = new AuthServerClient(config.introspection.timeoutMs, config.introspection.maxConcurrency);
    const isTrustedPeer = trustedPeerPredicate(config.trustProxy);
    const logging = () => log.isLevelEnabled("info");
    const rateLimiter = consumerRateLimiter(config, opts, log, metrics);
    // One pool per upstream origin (APIs on one origin share its connections). Its connections are
    // shared fairly: no consumer holds more than its bound, and nobody waits for a connection
    // without end (limits/concurrencyGate.ts).
    const concurrency = config.upstreamConcurrency;
    const maxInFlightOf = (clientId: string | undefined) => {
        const tier = config.rateLimits && clientId !== undefined ? tierOf(config.rateLimits.plan, clientId) : undefined;
        return (tier !== undefined ? config.rateLimits?.plan.maxInFlight.get(tier) : undefined) ?? concurrency.consumerMaxInFlight;
    };
    const origins = new Map<string, { pool: Pool; gate: ConcurrencyGate }>();
    for (const api of config.apis) {
        const origin = api.upstreamUrl.origin;
        if (origins.has(origin)) continue;
        origins.set(origin, {
            // Never a retry on the client's behalf: undici's request() sends once; errors are answered.
            pool: new Pool(origin, {
                connections: concurrency.maxConnections,
                pipelining: 1,
                keepAliveTimeout: 30_000,
                headersTimeout: config.upstreamTimeoutMs,
                bodyTimeout: config.upstreamTimeoutMs,
                connectTimeout: Math.min(config.upstreamTimeoutMs, 10_000),
            }),
            gate: new ConcurrencyGate({
                slots: concurrency.maxConnections,
                maxQueue: concurrency.maxQueue,
                queueTimeoutMs: concurrency.queueTimeoutMs,
                maxInFlightOf,
            }),
        });
    }
    // Looked up by API, not by origin: URL's origin getter builds a new string on every call.
    const upstreamOf = new Map(config.apis.map((a) => [a, origins.get(a.upstreamUrl.origin) as { pool: Pool; gate: ConcurrencyGate }]));
    const basePathOf = new Map(config.apis.map((a) => [a, a.upstreamUrl.pathname.replace(/\/+$/, "")]));
    const apiByName = new Map(config.apis.map((a) => [a.name, a]));
    // A gateway of one API answers even a request refused before routing with that API's CORS fields.
    const onlyApi = config.apis.length === 1 ? config.apis[0] : undefined;

    async function handle(req: IncomingMessage, res: ServerResponse, expectsContinue: boolean): Promise<void> {
        const started = performance.now();
        const socket = req.socket;
        answering.set(socket, (answering.get(socket) ?? 0) + 1);
        const reqId = requestIdOf(req.headers["x-request-id"]);
        res.setHeader("x-request-id", reqId);
        const peer = req.socket.remoteAddress ?? "";
        const client = clientAddress(peer, headerValues(req.rawHeaders, "x-forwarded-for"), config.trustProxy, isTrustedPeer);
        // The per-request log line is built only when it will be written.
        const entry: Record<string, unknown> | undefined = logging() ? { reqId, method: req.method, clientIp: client } : undefined;
        let outcome: Outcome = "bad_request";
        /** The API the request was for, once routed: the metrics' and the log's `api`. */
        let api: GatewayApi | undefined;
        /** The verified client, for the per-consumer metrics: named when declared, else `unknown`. */
        let verifiedClient: string | undefined;
        /** The upstream connection this request holds, once admitted (ConcurrencyGate). */
        let releaseConnection: (() => void) | undefined;
        inFlight++;
        // One listener for all that ends with the answer: the connection slot, the socket's count, the log line.
        res.once("close", () => {
            inFlight--;
            releaseConnection?.();
            const left = (answering.get(socket) ?? 1) - 1;
            answering.set(socket, left);
            if (left === 0 && endAfterAnswers.has(socket)) socket.destroySoon();
            const finished = res.writableFinished;
            // A client that went away before its answer was complete: 499, as nginx logs it.
            const status = finished ? res.statusCode : 499;
            const seconds = (performance.now() - started) / 1000;
            const decided = finished ? outcome : "client_closed";
            const consumer = consumerLabel(config.consumerNames, verifiedClient);
            const apiName = api?.name ?? NO_API;
            metrics.decided(decided, seconds);
            metrics.consumerDecided(apiName, consumer, decided, seconds);
            if (entry) {
                // Completed in place, not copied: the entry is this request's own.
                entry.api = apiName;
                entry.consumer = consumer;
                entry.outcome = decided;
                entry.status = status;
                entry.ms = Math.round(seconds * 10_000) / 10;
                log.info(entry, "request");
            }
        });

        const answer = (a: Answer) => {
            outcome = a.outcome;
            if (a.api !== undefined) api = apiByName.get(a.api);
            if (entry && a.reason) entry.reason = a.reason;
            // Refused before its body was asked for: the client may still send it, so the
            // connection ends with the answer. Otherwise the body is read and dropped, so the
            // connection can carry the next request.
            const closing = expectsContinue || draining ? { ...a.headers, connection: "close" } : a.headers;
            // A page of an allowed origin can read the gateway's own answers (401, 403, 429) too.
            const headers = a.outcome === "preflight" ? closing : { ...closing, ...corsFieldsFor(req, (api ?? onlyApi)?.cors) };
            if (!expectsContinue) req.resume();
            sendJson(res, a.status, a.body, headers);
        };

        if (draining) return answer(DRAINING);
        const decision = prepare({ method: req.method ?? "", target: req.url ?? "", rawHeaders: req.rawHeaders }, config, verification !== undefined);
        if (decision.kind === "answer") return answer(decision);
        api = decision.api;
        if (entry) Object.assign(entry, { path: decision.path, token: decision.key.slice(0, 10) });
        const verifying = (verification as Verification).verifier.verify(decision.token, decision.key, { client });
        const verdict = verifying instanceof Promise ? await verifying : verifying; // a cached verdict costs no turn of the event loop
        if (verdict.kind === "valid") {
            verifiedClient = verdict.info.clientId;
            if (entry) entry.clientId = verdict.info.clientId;
        }
        const concluded = conclude(decision, verdict);
        if (concluded.kind === "answer") return answer(concluded);
        // Limits apply only once the token and its scopes are checked: a request with a bad token
        // never spends a consumer's budget. Keyed by the verified client id (Okta's `cid`).
        let limitHeaders: Record<string, string> | undefined;
        const clientId = concluded.identity?.clientId ?? concluded.identity?.subject;
        if (rateLimiter && clientId) {
            const limit = await rateLimiter.take(clientId);
            if (limit) {
                // Which store decided: `fallback` lines are the signal that the shared store is away (a CloudWatch metric on AWS).
                if (entry) Object.assign(entry, { tier: limit.tier, limitStore: limit.source });
                if (!limit.allowed) return answer(rateLimited(limit));
                limitHeaders = rateLimitHeaders(limit);
            }
        }
        // A form body that is compressed cannot be read for `_method` fields as it passes: refused
        // before `100 Continue`, so it is never uploaded.
        if (req.method !== "GET" && req.method !== "HEAD" && formKindOf(req.headers["content-type"]) && contentCoded(req.headers["content-encoding"]))
            return answer(ENCODED_FORM);
        // A connection to the upstream, within the consumer's bound and a bounded wait; before
        // `100 Continue`, so a refused client never uploads its body.
        const { pool, gate } = upstreamOf.get(concluded.api) as { pool: Pool; gate: ConcurrencyGate };
        const admitting = gate.admit(clientId);
        const admission = admitting instanceof Promise ? await admitting : admitting; // a free slot costs no turn of the event loop
        if (!admission.admitted) return answer(upstreamBusy(admission));
        if (res.destroyed) return admission.release(); // the client left while it waited
        releaseConnection = admission.release;
        outcome = concluded.outcome;
        if (expectsContinue) res.writeContinue();
        forward(req, res, concluded, pool, peer, limitHeaders, reqId, answer);
    }

    function forward(
        req: IncomingMessage,
        res: ServerResponse,
        d: Forward<GatewayApi>,
        upstream: Pool,
        peer: string,
        limitHeaders: Record<string, string> | undefined,
        requestId: string,
        refuse: (a: Answer) => void,
    ): void {
        const method = req.method ?? "GET";
        const stripMethodOverride = config.methodOverride === "strip";
        const query = forwardQuery(d.query, stripMethodOverride);
        const headers = forwardHeaders(req.headers, {
            identityPrefix: config.identityHeaderPrefix,
            hideCredentials: config.hideCredentials,
            identity: d.identity ?? NO_IDENTITY,
            peerIp: peer,
            trustedPeer: isTrustedPeer(peer),
            protocol: (req.socket as { encrypted?: boolean }).encrypted ? "https" : "http",
            host: d.host,
            stripMethodOverride,
            requestId,
        });
        // A body only where the request frames one; GET and HEAD never carry one upstream.
        const framed = req.headers["transfer-encoding"] !== undefined || Number(req.headers["content-length"] ?? 0) > 0;
        const hasBody = framed && method !== "GET" && method !== "HEAD";
        if (!hasBody) {
            req.resume();
            delete headers["content-length"];
        }
        // A form body is read for `_method` fields as it passes (request/formBody.ts).
        const form = hasBody ? formKindOf(req.headers["content-type"]) : undefined;
        let inspector: FormOverrideInspector | undefined;
        let bodyRefusal: OverrideInBody | undefined;
        if (form) {
            const scopes = d.identity?.scopes ?? new Set<string>();
            inspector = new FormOverrideInspector(form, req.headers, (m) => bodyOverrideRefusal(config.methodOverride, d.api, m, d.path, scopes) === undefined);
            inspector.once("error", (e) => void (e instanceof OverrideInBody && (bodyRefusal = e)));
            req.pipe(inspector);
        }
        const sent = performance.now();
        // undici's handler API, not request(): the upstream's answer goes to the client chunk by
        // chunk as undici parses it, with no Readable and no promise per request in between
        // (what bench/plainDispatch.ts measures against the request() floor). Backpressure: the
        // upstream connection pauses while the client's socket is full. Never a retry on the
        // client's behalf: dispatch sends once; errors are answered.
        let controller: DispatchController | undefined;
        let started = false;
        const clientGone = () => {
            if (!res.writableFinished) controller?.abort(new Error("the client closed the connection"));
        };
        res.once("close", clientGone);
        try {
            upstream.dispatch(
                {
                    path: basePathOf.get(d.api) + upstreamPath(d.path, d.api, d.api.stripPrefix) + (query ? `?${query}` : ""),
                    method: method as Dispatcher.HttpMethod,
                    headers,
                    body: inspector ?? (hasBody ? req : undefined),
                },
                {
                    onRequestStart(c) {
                        controller = c;
                        if (res.destroyed) c.abort(new Error("the client closed the connection"));
                    },
                    onResponseStart(c, statusCode, upstreamHeaders) {
                        started = true;
                        metrics.upstreamDuration.observe((performance.now() - sent) / 1000);
                        const answerHeaders = responseHeaders(upstreamHeaders, { tokenInQuery: d.tokenInQuery, status: statusCode });
                        // With a CORS policy the gateway owns CORS: the API's own Access-Control-* fields give way to the policy's.
                        if (corsEnabled(d.api.cors)) {
                            for (const name of Object.keys(answerHeaders)) if (name.startsWith("access-control-")) delete answerHeaders[name];
                            Object.assign(answerHeaders, corsFieldsFor(req, d.api.cors));
                        }
                        // The gateway's limit is the one the consumer is held to: its fields replace the upstream's.
                        res.writeHead(statusCode, limitHeaders ? Object.assign(answerHeaders, limitHeaders) : answerHeaders);
                    },
                    onResponseData(c, chunk) {
                        if (!res.write(chunk)) {
                            c.pause();
                            res.once("drain", () => c.resume());
                        }
                    },
                    onResponseEnd() {
                        res.end();
                    },
                    onResponseError(_c, e) {
                        failedUpstream(e);
                    },
                },
            );
        } catch (e) {
            failedUpstream(e); // what undici refuses before sending (an invalid path or header): 502, as a failed send
        }

        function failedUpstream(e: unknown): void {
            if (started) {
                // The upstream broke off mid-answer: the client's answer cannot be completed, so its
                // connection is closed rather than left with a truncated body.
                if (!res.destroyed) metrics.upstreamErrors.inc({ kind: upstreamFailure(e) });
                return void res.destroy();
            }
            if (bodyRefusal) {
                // Refused mid-body: the upstream got part of it and was cut off; the rest of the
                // client's body is never read, so the connection ends with the answer.
                const a = bodyOverrideRefusal(config.methodOverride, d.api, bodyRefusal.method, d.path, d.identity?.scopes ?? new Set());
                if (a && !res.headersSent) refuse({ ...a, headers: { ...a.headers, connection: "close" }, reason: bodyRefusal.reason });
                return;
            }
            if (res.destroyed) return; // the client went away: logged as 499
            const kind = upstreamFailure(e);
            metrics.upstreamErrors.inc({ kind });
            if (!res.headersSent) sendJson(res, kind === "timeout" ? 504 : 502, { error: kind === "timeout" ? "upstream_timeout" : "bad_gateway" });
        }
    }

    /** The CORS fields of an answer to this request's Origin, when the policy allows it. */
    const corsFieldsFor = (req: IncomingMessage, cors: CorsPolicy | undefined): Record<string, string> => {
        if (!cors || !corsEnabled(cors)) return {};
        const origin = req.headers.origin;
        return responseCorsFields(cors, Array.isArray(origin) ? origin[0] : origin);
    };
    /** Requests of each connection still being answered, and connections to close once they are. */
    const answering = new WeakMap<Socket, number>();
    const endAfterAnswers = new WeakSet<Socket>();
    const server: Server = createServer();
    server.on("request", (req: IncomingMessage, res: ServerResponse) => void handle(req, res, false).catch((e: unknown) => failed(res, e)));
    // Node hands requests with `Expect: 100-continue` here instead: the 100 is sent only once the
    // request is allowed, so a client with a forged token never uploads its body.
    server.on("checkContinue", (req: IncomingMessage, res: ServerResponse) => void handle(req, res, true).catch((e: unknown) => failed(res, e)));
    // What the HTTP parser refuses (bad syntax, CR/LF in a header, Content-Length with
    // Transfer-Encoding, an unknown method, too large a header block) is answered in the
    // gateway's own format too, with a request id and a log line.
    server.on("clientError", (err: NodeJS.ErrnoException, socket: Socket) => {
        if (err.code === "ECONNRESET" || !socket.writable) return void socket.destroy();
        // Bytes the parser refuses after a request still being answered (a stray byte after a
        // `Connection: close` request): the answer under way is the client's, not a 400 for a
        // request the API may already have executed. The connection ends once it is sent.
        if ((answering.get(socket) ?? 0) > 0) return void endAfterAnswers.add(socket);
        const status = err.code === "HPE_HEADER_OVERFLOW" ? 431 : err.code === "HPE_URI_TOO_LONG" ? 414 : 400;
        answerRaw(socket, status, { error: status === 431 ? "request_header_fields_too_large" : "invalid_request" }, err.code);
    });
    // CONNECT has no listener of its own in Node but this one (without it Node closes the socket
    // with no answer); the gateway forwards no tunnels: 405, as for any method it does not forward.
    server.on("connect", (_req: IncomingMessage, socket: Socket) => {
        answerRaw(socket, 405, { error: "method_not_allowed" }, "method CONNECT", { allow: FORWARDED_METHODS.join(", ") });
    });
    // An Expect other than 100-continue (RFC 9110 §10.1.1: a server MAY answer 417 to one it does
    // not support): in the gateway's JSON, with a request id and a log line, not Node's bare 417.
    server.on("checkExpectation", (req: IncomingMessage, res: ServerResponse) => {
        const reqId = requestIdOf(undefined);
        req.resume();
        sendJson(
            res,
            417,
            { error: "expectation_failed", error_description: "only Expect: 100-continue is supported" },
            { "x-request-id": reqId, connection: "close" },
        );
        refusedBeforeRouting();
        if (logging())
            log.info({ reqId, method: req.method, api: NO_API, consumer: UNKNOWN_CONSUMER, outcome: "bad_request", status: 417, reason: "expect" }, "request");
    });

    /** An answer written straight to the socket (no request object exists), closing it: JSON, a request id, a log line. */
    function answerRaw(socket: Socket, status: number, body: Record<string, string>, reason: string | undefined, extra: Record<string, string> = {}): void {
        const reqId = randomUUID();
        const text = JSON.stringify(body);
        const headers = Object.entries(extra)
            .map(([k, v]) => `${k}: ${v}\r\n`)
            .join("");
        socket.end(
            `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json\r\ncache-control: no-store\r\nx-request-id: ${reqId}\r\n${headers}` +
                `content-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`,
        );
        refusedBeforeRouting();
        if (logging()) log.info({ reqId, api: NO_API, consumer: UNKNOWN_CONSUMER, outcome: "bad_request", status, reason }, "request");
    }

    /** Counted as every request is, under no API and no consumer: the log lines' and the metrics' labels are always there. */
    function refusedBeforeRouting(): void {
        metrics.decided("bad_request", 0);
        metrics.consumerDecided(NO_API, UNKNOWN_CONSUMER, "bad_request", 0);
    }

    function failed(res: ServerResponse, e: unknown): void {
        log.error({ err: e instanceof Error ? e.message : String(e) }, "request failed");
        if (!res.headersSent) sendJson(res, 500, { error: "server_error" });
        else res.destroy();
    }

    // Not ready while the introspection endpoint keeps refusing the client's credentials: a rollout
    // with wrong credentials stops instead of answering 503 to every request.
    const misconfigured = () => verification?.introspections.some((v) => v.misconfigured) ?? false;
    const admin = opts.primary
        ? undefined
        : createAdminServer(metrics, () => (draining ? "draining" : !verification ? "starting" : misconfigured() ? "misconfigured" : "ready"));
    const onClientAuthFailure: OnClientAuthFailure = (refusal, consecutive) =>
        log.error({ ...refusal, consecutive, clientId: config.introspectionClient?.id, method: verification?.introspectionAuth }, CLIENT_AUTH_REFUSED);

    return {
        metrics,
        get ready() {
            return verification !== undefined && !draining && !misconfigured();
        },
        async start() {
            await new Promise<void>((resolve) => server.listen(config.port, config.host, resolve));
            if (admin) await new Promise<void>((resolve) => admin.listen(config.adminPort, config.host, resolve));
            const storeConnected = rateLimiter?.connected(2_000);
            void loadMetadata(config, http, log, () => stopped).then(async (md) => {
                if (!md) return;
                // Ready once the rate-limit store is connected too, or 2 s have passed (the fallback decides meanwhile).
                await storeConnected;
                if (stopped) return;
                verification = buildVerification(config, md, { http, metrics, primary: opts.primary, onClientAuthFailure, hint: (m) => log.warn(m) });
                log.info(
                    { issuer: config.issuer, tokenValidation: config.tokenValidation, introspectionAuth: verification.introspectionAuth },
                    "issuer metadata loaded; ready",
                );
                destination?.flush();
                opts.onReady?.();
            });
            const port = (server.address() as AddressInfo).port;
            const adminPort = admin ? (admin.address() as AddressInfo).port : config.adminPort;
            log.info({ port, adminPort, upstreams: [...origins.keys()] }, opts.primary ? "worker listening" : "listening");
            destination?.flush();
            return { port, adminPort };
        },
        async close() {
            draining = true;
            stopped = true;
            const closed = new Promise<void>((resolve) => server.close(() => resolve()));
            server.closeIdleConnections();
            // In-flight requests finish (the caller bounds the wait: SHUTDOWN_GRACE_SECONDS).
            while (inFlight > 0) await new Promise((r) => setTimeout(r, 20));
            server.closeAllConnections();
            await closed;
            if (admin) {
                await new Promise<void>((resolve) => {
                    admin.closeAllConnections();
                    admin.close(() => resolve());
                });
            }
            await Promise.all([http.close(), ...[...origins.values()].map((o) => o.pool.close()), rateLimiter?.close()]);
            if (flusher) clearInterval(flusher);
            destination?.flushSync();
        },
    };
}
