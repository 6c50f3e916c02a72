// Prometheus metrics, on a registry of the gateway's own (several gateways may share a process in
// tests). Names follow Prometheus conventions under the `policy_gateway_` prefix; every label has
// a bounded set of values (outcomes, reasons, the declared consumers' names), never a client id or a path.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

const P = "policy_gateway_";

/** Live values the gauges read at scrape time. */
export interface MetricSources {
    inFlight(): number;
    breakerStates(): ("closed" | "open" | "half-open")[];
    introspectionLoad(): { active: number; queued: number };
    cacheSizes(): { positive: number; negative: number };
}

/** Seconds, from a cached decision (about a millisecond) to a slow upload. */
const REQUEST_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const BREAKER_STATE = { closed: 0, "half-open": 1, open: 2 } as const;

/** The `consumer` label of a request: the declared name of its verified client, else `unknown`, so the values are bounded by the declared consumers. Pure. */
export function consumerLabel(names: ReadonlyMap<string, string>, clientId: string | undefined): string {
    return (clientId !== undefined && names.get(clientId)) || UNKNOWN_CONSUMER;
}

export const UNKNOWN_CONSUMER = "unknown";

/**
 * Every decision a request's line and metrics can carry (`outcome`): a closed list, so that what is
 * labelled by it stays bounded (the AWS target's CloudWatch metric filters count on it).
 */
export const OUTCOMES = [
    "allowed",
    "preflight",
    "no_token",
    "bad_request",
    "no_api",
    "invalid_token",
    "insufficient_scope",
    "not_a_consumer",
    "rate_limited",
    "concurrency_limited",
    "throttled",
    "unavailable",
    "not_ready",
    "upstream_busy",
    "client_closed",
] as const;
export type Outcome = (typeof OUTCOMES)[number];

export class GatewayMetrics {
    readonly registry = new Registry();
    readonly decisions = new Counter({
        name: `${P}decisions_total`,
        help: "Requests by decision: allowed, preflight, no_token, bad_request, invalid_token, insufficient_scope, rate_limited, throttled, unavailable, not_ready",
        labelNames: ["outcome"] as const,
        registers: [this.registry],
    });
    readonly requestDuration = new Histogram({
        name: `${P}request_duration_seconds`,
        help: "Time from the request's arrival to the end of its answer, by decision",
        labelNames: ["outcome"] as const,
        buckets: REQUEST_BUCKETS,
        registers: [this.registry],
    });
    readonly upstreamDuration = new Histogram({
        name: `${P}upstream_duration_seconds`,
        help: "Time from forwarding a request to the upstream's response headers",
        buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
        registers: [this.registry],
    });
    readonly cache = new Counter({
        name: `${P}token_cache_lookups_total`,
        help: "Token verdict cache lookups by result: positive_hit, negative_hit, miss",
        labelNames: ["result"] as const,
        registers: [this.registry],
    });
    readonly introspectionDuration = new Histogram({
        name: `${P}introspection_duration_seconds`,
        help: "Latency of introspection calls to the authorization server, by outcome",
        labelNames: ["outcome"] as const,
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
        registers: [this.registry],
    });
    readonly introspectionErrors = new Counter({
        name: `${P}introspection_errors_total`,
        help: "Introspections that gave no verdict, by reason: timeout, unreachable, http_<status>, not_json, rate_limited, circuit_open, overloaded, client_throttled, accepted_on_local_check",
        labelNames: ["reason"] as const,
        registers: [this.registry],
    });
    readonly jwksErrors = new Counter({
        name: `${P}jwks_errors_total`,
        help: "Local JWT checks that could not run, by reason: jwks_unavailable, unknown_key_cooling_down (an unknown kid while refetches of the JWKS cool down)",
        labelNames: ["reason"] as const,
        registers: [this.registry],
    });
    readonly coalesced = new Counter({
        name: `${P}coalesced_waits_total`,
        help: "Requests that waited on another request's verification of the same token instead of calling the server",
        registers: [this.registry],
    });
    readonly upstreamErrors = new Counter({
        name: `${P}upstream_errors_total`,
        help: "Upstream failures by kind: bad_gateway, timeout",
        labelNames: ["kind"] as const,
        registers: [this.registry],
    });

    readonly rateLimitDecisions = new Counter({
        name: `${P}rate_limit_decisions_total`,
        help: "Requests of rate-limited consumers, by tier, outcome (allowed, limited) and store (shared; fallback: the store was unavailable and this process decided on its share; local: no shared store)",
        labelNames: ["tier", "outcome", "store"] as const,
        registers: [this.registry],
    });
    readonly rateLimitStoreErrors = new Counter({
        name: `${P}rate_limit_store_errors_total`,
        help: "Rate-limit checks the shared store could not answer (each then decided by the fallback), by reason: timeout, unavailable",
        labelNames: ["reason"] as const,
        registers: [this.registry],
    });
    readonly rateLimitStoreUp = new Gauge({
        name: `${P}rate_limit_store_up`,
        help: "1 while the shared rate-limit store answers, 0 while the fallback decides (or no shared store is configured)",
        registers: [this.registry],
        aggregator: "min",
    });

    readonly consumerRequests = new Counter({
        name: `${P}consumer_requests_total`,
        help: "Requests by API (its declared name; `none` for a request that reached no API), consumer (its declared name, from CONSUMER_NAMES; `unknown` for any other client and for requests without a verified token) and decision",
        labelNames: ["api", "consumer", "outcome"] as const,
        registers: [this.registry],
    });
    readonly consumerDuration = new Histogram({
        name: `${P}consumer_request_duration_seconds`,
        help: "Time from the request's arrival to the end of its answer, by API and consumer",
        labelNames: ["api", "consumer"] as const,
        buckets: REQUEST_BUCKETS,
        registers: [this.registry],
    });

    private readonly decisionChildren = new Map<string, { inc(): void }>();
    /** api → consumer → outcome → child, and api → consumer → child: no key is built per request. */
    private readonly consumerChildren = new Map<string, Map<string, Map<string, { inc(): void }>>>();
    private readonly consumerDurationChildren = new Map<string, Map<string, { observe(v: number): void }>>();
    private readonly durationChildren = new Map<string, { observe(v: number): void }>();
    private readonly cacheChildren = new Map<string, { inc(): void }>();
    private readonly rateLimitChildren = new Map<string, { inc(): void }>();

    constructor(sources?: MetricSources, build: { version: string } = { version: "0.0.0" }) {
        collectDefaultMetrics({ register: this.registry });
        // `aggregator`: how the primary of several workers merges their values (prom-client AggregatorRegistry).
        new Gauge({
            name: `${P}build_info`,
            help: "The running build: version and Node.js version",
            labelNames: ["version", "node"] as const,
            registers: [this.registry],
            aggregator: "first",
        }).set({ version: build.version, node: process.versions.node }, 1);
        // The primary of several workers decides nothing: its own value would drag the workers' minimum to 0.
        if (!sources) {
            this.registry.removeSingleMetric(`${P}rate_limit_store_up`);
            return;
        }
        new Gauge({
            name: `${P}requests_in_flight`,
            help: "Requests being answered now",
            registers: [this.registry],
            collect() {
                this.set(sources.inFlight());
            },
        });
        new Gauge({
            name: `${P}circuit_breaker_state`,
            help: "The authorization server circuit breaker: 0 closed, 1 half-open, 2 open (the worst when there are several)",
            registers: [this.registry],
            aggregator: "max",
            collect() {
                this.set(Math.max(0, ...sources.breakerStates().map((s) => BREAKER_STATE[s])));
            },
        });
        new Gauge({
            name: `${P}introspections_in_flight`,
            help: "Introspection calls under way",
            registers: [this.registry],
            collect() {
                this.set(sources.introspectionLoad().active);
            },
        });
        new Gauge({
            name: `${P}introspection_queue_depth`,
            help: "Introspections waiting for a free slot (INTROSPECTION_MAX_CONCURRENCY)",
            registers: [this.registry],
            collect() {
                this.set(sources.introspectionLoad().queued);
            },
        });
        new Gauge({
            name: `${P}token_cache_entries`,
            help: "Entries in the token verdict caches",
            labelNames: ["cache"] as const,
            registers: [this.registry],
            collect() {
                const sizes = sources.cacheSizes();
                this.set({ cache: "positive" }, sizes.positive);
                this.set({ cache: "negative" }, sizes.negative);
            },
        });
    }

    /** Counts a decision and its duration; label children are bound once, not hashed per request. */
    decided(outcome: Outcome, seconds?: number): void {
        let child = this.decisionChildren.get(outcome);
        if (!child) this.decisionChildren.set(outcome, (child = this.decisions.labels(outcome)));
        child.inc();
        if (seconds === undefined) return;
        let duration = this.durationChildren.get(outcome);
        if (!duration) this.durationChildren.set(outcome, (duration = this.requestDuration.labels(outcome)));
        duration.observe(seconds);
    }

    /**
     * Counts a request under its API's and its consumer's names (bounded: the declared APIs and
     * `none`, the declared consumers and `unknown`); children bound once.
     */
    consumerDecided(api: string, consumer: string, outcome: Outcome, seconds: number): void {
        let byConsumer = this.consumerChildren.get(api);
        if (!byConsumer) this.consumerChildren.set(api, (byConsumer = new Map()));
        let byOutcome = byConsumer.get(consumer);
        if (!byOutcome) byConsumer.set(consumer, (byOutcome = new Map()));
        let child = byOutcome.get(outcome);
        if (!child) byOutcome.set(outcome, (child = this.consumerRequests.labels(api, consumer, outcome)));
        child.inc();
        let durations = this.consumerDurationChildren.get(api);
        if (!durations) this.consumerDurationChildren.set(api, (durations = new Map()));
        let duration = durations.get(consumer);
        if (!duration) durations.set(consumer, (duration = this.consumerDuration.labels(api, consumer)));
        duration.observe(seconds);
    }

    /** Counts a rate-limit decision; children bound once per label set. */
    rateLimited(tier: string, outcome: "allowed" | "limited", store: string): void {
        const key = `${tier}|${outcome}|${store}`;
        let child = this.rateLimitChildren.get(key);
        if (!child) this.rateLimitChildren.set(key, (child = this.rateLimitDecisions.labels(tier, outcome, store)));
        child.inc();
    }

    cacheLookup(result: "positive_hit" | "negative_hit" | "miss"): void {
        let child = this.cacheChildren.get(result);
        if (!child) this.cacheChildren.set(result, (child = this.cache.labels(result)));
        child.inc();
    }
}
