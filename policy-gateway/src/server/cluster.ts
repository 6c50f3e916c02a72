// WORKERS > 1: the primary process forks the workers, which share the traffic port (node:cluster,
// round-robin), and itself introspects for all of them, so each token is introspected at most
// once per cache window for the whole container. It serves the admin port: ready when every
// worker is, metrics merged from all of them (prom-client AggregatorRegistry.aggregate).
import cluster, { type Worker } from "node:cluster";
import type { AddressInfo } from "node:net";
import pino from "pino";
import { AggregatorRegistry, type Registry } from "prom-client";
import { createAdminServer } from "./admin";
import { AuthServerClient } from "../verification/authServerClient";
import type { GatewayConfig } from "../config/load";
import { needsIntrospectionClient } from "../config/settings";
import { buildIntrospection, loadMetadata } from "./discovery";
import { GatewayMetrics } from "../shared/metrics";
import { toWire, type IntrospectAnswer, type IntrospectRequest, type PrimaryChannel } from "../verification/remoteIntrospection";
import { CLIENT_AUTH_REFUSED, type IntrospectionVerifier } from "../verification/verifiers";
import type { Verdict } from "../verification/tokenInfo";
import { ContainerBuckets, type LimitAnswer, type LimitChannel, type LimitRequest } from "../limits/containerBuckets";

/** One registry's metrics as JSON (Registry.getMetricsAsJSON). */
type MetricsJson = Awaited<ReturnType<Registry["getMetricsAsJSON"]>>;
type metric = MetricsJson[number];

type FromWorker = IntrospectRequest | LimitRequest | { t: "ready" } | { t: "listening"; port: number } | { t: "metrics"; id: number; json: metric[] };
type ToWorker = IntrospectAnswer | LimitAnswer | { t: "metrics?"; id: number };

/** In a worker: the channel to the primary (introspection and rate limits), and the worker's side of the metrics exchange. */
export function workerChannel(registry: { getMetricsAsJSON(): Promise<metric[]> }): PrimaryChannel & LimitChannel {
    const listeners: ((a: IntrospectAnswer) => void)[] = [];
    const limitListeners: ((a: LimitAnswer) => void)[] = [];
    process.on("message", (m: ToWorker) => {
        if (m.t === "verdict") for (const l of listeners) l(m);
        else if (m.t === "limitVerdict") for (const l of limitListeners) l(m);
        else if (m.t === "metrics?") void registry.getMetricsAsJSON().then((json) => process.send?.({ t: "metrics", id: m.id, json }));
    });
    return {
        send: (message) => process.send?.(message),
        onAnswer: (listener) => void listeners.push(listener),
        sendLimit: (message) => process.send?.(message),
        onLimitAnswer: (listener) => void limitListeners.push(listener),
    };
}

export async function runPrimary(config: GatewayConfig): Promise<void> {
    const log = pino({ level: config.logLevel, base: { service: "policy-gateway", role: "primary" } });
    const metrics = new GatewayMetrics(undefined);
    const http = new AuthServerClient(config.introspection.timeoutMs, config.introspection.maxConcurrency);
    let introspection: IntrospectionVerifier | undefined;
    let stopping = false;
    const ready = new Set<number>();
    let announced = false;
    const pendingMetrics = new Map<number, { json: metric[][]; left: number; done: (json: metric[][]) => void }>();
    let metricsId = 0;

    if (needsIntrospectionClient(config)) {
        void loadMetadata(config, http, log, () => stopping).then((md) => {
            if (md) {
                introspection = buildIntrospection(config, md, {
                    http,
                    metrics,
                    onClientAuthFailure: (refusal, consecutive) =>
                        log.error({ ...refusal, consecutive, clientId: config.introspectionClient?.id }, CLIENT_AUTH_REFUSED),
                });
            }
        });
    }

    // The container's rate-limit buckets, for every decision a worker makes without the shared
    // store: one set per task, so the task's share is limit ÷ tasks whatever WORKERS is.
    const limits = config.rateLimits;
    const buckets = limits && new ContainerBuckets(limits.plan, limits.store.kind === "shared" ? limits.tasks : 1);
    const onMessage = (worker: Worker) => async (m: FromWorker) => {
        if (m.t === "limit") {
            const answer: LimitAnswer = { t: "limitVerdict", id: m.id, result: buckets?.decide(m.clientId, m.tier, Date.now()) };
            if (worker.isConnected()) worker.send(answer);
            return;
        }
        if (m.t === "ready") ready.add(worker.id);
        else if (m.t === "listening" && !announced) {
            // The workers share one port: the first to listen tells which (PORT=0 picks one).
            announced = true;
            log.info(
                {
                    port: m.port,
                    adminPort: (admin.address() as AddressInfo).port,
                    workers: config.workers,
                    upstreams: [...new Set(config.apis.map((a) => a.upstreamUrl.origin))],
                },
                "listening",
            );
        } else if (m.t === "metrics") {
            const p = pendingMetrics.get(m.id);
            if (!p) return;
            p.json.push(m.json);
            if (--p.left === 0) p.done(p.json);
        } else if (m.t === "introspect") {
            let verdict: Verdict;
            try {
                verdict = introspection
                    ? await introspection.verify(m.token, m.key, { client: m.client })
                    : { kind: "unavailable", reason: "not_ready", retryAfterSeconds: 1 };
            } catch (err) {
                // Nothing a worker asks may take the primary (and so the container) down: the
                // worker gets 503 to answer, and the error is logged.
                log.error({ err: { name: (err as Error).name, message: (err as Error).message } }, "introspection failed in the primary");
                verdict = { kind: "unavailable", reason: "internal_error", retryAfterSeconds: 5 };
            }
            const ttlSeconds = introspection && verdict.kind === "valid" ? introspection.cachedSecondsLeft(m.key) : 0;
            if (worker.isConnected()) worker.send({ t: "verdict", id: m.id, verdict: toWire(verdict), ttlSeconds } satisfies IntrospectAnswer);
        }
    };
    const fork = () => {
        const worker = cluster.fork();
        worker.on("message", onMessage(worker));
        return worker;
    };
    /** Every worker's metrics and the primary's own, merged. */
    const clusterMetrics = async (): Promise<string> => {
        const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && w.isConnected());
        const id = ++metricsId;
        const fromWorkers = await new Promise<metric[][]>((resolve) => {
            if (workers.length === 0) return resolve([]);
            pendingMetrics.set(id, { json: [], left: workers.length, done: resolve });
            for (const w of workers) w.send({ t: "metrics?", id } satisfies ToWorker);
            setTimeout(() => resolve(pendingMetrics.get(id)?.json ?? []), 2_000).unref();
        });
        pendingMetrics.delete(id);
        const merged = AggregatorRegistry.aggregate([...fromWorkers, await metrics.registry.getMetricsAsJSON()]);
        return merged.metrics();
    };
    // A rejection nothing handled would end the primary, and with it every worker (Node's default,
    // --unhandled-rejections=throw): the primary stays up, says it is faulted, and the orchestrator
    // replaces the container on its failed readiness check.
    let faulted = false;
    process.on("unhandledRejection", (reason) => {
        faulted = true;
        log.error({ err: { name: (reason as Error)?.name, message: (reason as Error)?.message } }, "unhandled rejection in the primary: not ready from now on");
    });
    const admin = createAdminServer({ registry: { metrics: clusterMetrics, contentType: metrics.registry.contentType } }, () =>
        stopping
            ? "draining"
            : faulted
              ? "faulted"
              : introspection?.misconfigured
                ? "misconfigured"
                : ready.size === config.workers && (introspection !== undefined || !needsIntrospectionClient(config))
                  ? "ready"
                  : "starting",
    );
    await new Promise<void>((resolve) => admin.listen(config.adminPort, config.host, resolve));

    for (let i = 0; i < config.workers; i++) fork();
    cluster.on("exit", (worker, code, signal) => {
        ready.delete(worker.id);
        if (stopping) {
            if (Object.keys(cluster.workers ?? {}).length === 0) finish();
            return;
        }
        log.error({ worker: worker.id, code, signal }, "worker exited; starting another");
        fork();
    });

    let finished = false;
    const finish = () => {
        if (finished) return;
        finished = true;
        admin.closeAllConnections();
        admin.close();
        void http.close().finally(() => process.exit(0));
    };
    const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        log.info({ signal }, "primary: draining the workers");
        for (const w of Object.values(cluster.workers ?? {})) w?.process.kill("SIGTERM");
        setTimeout(
            () => {
                log.error("drain timed out");
                process.exit(1);
            },
            (config.shutdownGraceSeconds + 2) * 1000,
        ).unref();
    };
    process.on("SIGTERM", () => stop("SIGTERM"));
    process.on("SIGINT", () => stop("SIGINT"));
}

export const isClusterPrimary = () => cluster.isPrimary;
