// Prometheus metrics, on a registry of the gateway's own (several gateways may share a process in tests).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export class GatewayMetrics {
    readonly registry = new Registry();
    readonly decisions = new Counter({
        name: "gateway_decisions_total",
        help: "Requests by decision: allowed, no_token, bad_request, invalid_token, insufficient_scope, unavailable, not_ready",
        labelNames: ["outcome"] as const,
        registers: [this.registry],
    });
    readonly cache = new Counter({
        name: "gateway_token_cache_total",
        help: "Token verdict cache lookups by result: positive_hit, negative_hit, miss",
        labelNames: ["result"] as const,
        registers: [this.registry],
    });
    readonly introspectionDuration = new Histogram({
        name: "gateway_introspection_duration_seconds",
        help: "Latency of introspection calls to the authorization server, by outcome",
        labelNames: ["outcome"] as const,
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
        registers: [this.registry],
    });
    readonly introspectionErrors = new Counter({
        name: "gateway_introspection_errors_total",
        help: "Introspection calls that gave no verdict, by reason: timeout, unreachable, http_<status>, not_json, rate_limited, circuit_open, overloaded",
        labelNames: ["reason"] as const,
        registers: [this.registry],
    });
    readonly coalesced = new Counter({
        name: "gateway_coalesced_waits_total",
        help: "Requests that waited on another request's verification of the same token instead of calling the server",
        registers: [this.registry],
    });
    readonly upstreamErrors = new Counter({
        name: "gateway_upstream_errors_total",
        help: "Upstream failures by kind: bad_gateway, timeout",
        labelNames: ["kind"] as const,
        registers: [this.registry],
    });
    readonly cacheEntries = new Gauge({
        name: "gateway_token_cache_entries",
        help: "Entries in the token verdict caches",
        labelNames: ["cache"] as const,
        registers: [this.registry],
    });

    private readonly decisionChildren = new Map<string, { inc(): void }>();
    private readonly cacheChildren = new Map<string, { inc(): void }>();

    constructor() {
        collectDefaultMetrics({ register: this.registry });
    }

    /** Counts a decision; label children are bound once, not hashed on every request. */
    decided(outcome: string): void {
        let child = this.decisionChildren.get(outcome);
        if (!child) this.decisionChildren.set(outcome, (child = this.decisions.labels(outcome)));
        child.inc();
    }

    cacheLookup(result: "positive_hit" | "negative_hit" | "miss"): void {
        let child = this.cacheChildren.get(result);
        if (!child) this.cacheChildren.set(result, (child = this.cache.labels(result)));
        child.inc();
    }
}
