// Per-consumer rate limits, keyed by the verified client id: the tier's GCRA policies decided by
// the shared store when there is one, else by this process alone.
//
// When the shared store cannot answer (down, unreachable, slower than RATE_LIMIT_STORE_TIMEOUT_MS),
// each task enforces its share of the limit on its own (limit ÷ tasks; its workers share one set
// of buckets in the primary, containerBuckets.ts) and counts and logs the change. Why fail open to a share, not closed and not wide open: the store protects the
// API, it is not the API; refusing every request while a cache node fails over would turn a
// store outage into an outage of the API for every consumer, and dropping the limits would let
// the one batch job the limits exist for take the API down while the store is away. With traffic
// spread across tasks by the load balancer, the shares add up to the declared limit; a consumer
// whose traffic lands unevenly gets somewhat less. A share of a burst below one request is a
// fraction of time (rateLimitPlan.ts, shareOf): one request per period at a phase of the task's
// own. What no share can promise without the store: that two independent tasks never pick
// nearby phases, so a tier whose burst is below the number of tasks can see up to one request
// per task close together, while over its period the sum stays the declared limit. A circuit breaker keeps
// a dead store from costing each request a timeout: after a failure, requests go straight to the
// fallback for a second, then one request tries the store again.
import type { Logger } from "pino";
import { CircuitBreaker } from "../shared/circuitBreaker";
import { emissionIntervalMs, type RatePolicy } from "./gcra";
import { Buckets, type RemoteBuckets } from "./containerBuckets";
import type { GatewayMetrics } from "../shared/metrics";
import { shareOf, tierOf, type RateLimitPlan } from "./rateLimitPlan";
import { rateLimitPolicyField, type LimitState } from "./rateLimitHeaders";
import { SharedStore } from "./sharedStore";

/** Which store decided: the shared one, the per-process fallback, or `local` (no shared store configured). */
export type LimitSource = "shared" | "fallback" | "local";

export interface RateDecision extends LimitState {
    allowed: boolean;
    tier: string;
    source: LimitSource;
}

export interface ConsumerRateLimiterOptions {
    plan: RateLimitPlan;
    store?: SharedStore;
    /** How many processes split the limit when each decides alone (tasks × workers, or workers in `local` mode). */
    share: number;
    /** A worker of several: the primary keeps the container's buckets (share: the tasks only). */
    container?: RemoteBuckets;
    log: Logger;
    metrics: GatewayMetrics;
    now?: () => number;
}

interface Tier {
    full: readonly RatePolicy[];
    shared: readonly RatePolicy[];
    periodMs: readonly number[];
    storeArgs: readonly (string | number)[];
    policyField: string;
}

export class ConsumerRateLimiter {
    private readonly local = new Buckets();
    private readonly breaker = new CircuitBreaker(1, 1_000);
    /** Per tier, computed once: the declared policies, this process's share of them, the store's arguments, the RateLimit-Policy value. */
    private readonly tiers = new Map<string, Tier>();
    private storeUp = true;
    private readonly now: () => number;

    constructor(private readonly opts: ConsumerRateLimiterOptions) {
        this.now = opts.now ?? Date.now;
        for (const [name, policies] of opts.plan.tiers) {
            const share = shareOf(policies, opts.share);
            this.tiers.set(name, {
                full: policies,
                shared: share.policies,
                periodMs: share.periodMs,
                // The field names carry the policy's numbers: a tier changed by a deployment starts afresh.
                storeArgs: SharedStore.scriptArgs(
                    policies.map((p) => ({ field: `${p.limit}/${p.windowSeconds}s/${p.burst}`, intervalUs: emissionIntervalMs(p) * 1000, burst: p.burst })),
                ),
                policyField: rateLimitPolicyField(policies),
            });
        }
        opts.metrics.rateLimitStoreUp.set(opts.store ? 1 : 0);
    }

    /** The decision for one request of `clientId`, or undefined when its client has no limit. */
    async take(clientId: string): Promise<RateDecision | undefined> {
        const tier = tierOf(this.opts.plan, clientId);
        if (tier === undefined) return undefined;
        const t = this.tiers.get(tier) as Tier;
        const decision = await this.decide(clientId, tier, t);
        this.opts.metrics.rateLimited(tier, decision.allowed ? "allowed" : "limited", decision.source);
        return decision;
    }

    private async decide(clientId: string, tier: string, t: Tier): Promise<RateDecision> {
        const store = this.opts.store;
        if (store && this.breaker.tryAcquire()) {
            try {
                const a = await store.decide(clientId, t.storeArgs);
                this.breaker.success();
                if (!this.storeUp) this.storeRecovered();
                return { ...a, policies: t.full, policyField: t.policyField, tier, source: "shared" };
            } catch (e) {
                this.breaker.failure();
                this.storeFailed(e);
            }
        }
        // WORKERS > 1: the primary's buckets for the whole container; on its own share only when it does not answer.
        const r = (await this.opts.container?.decide(clientId, tier)) ?? this.local.decide(clientId, t.shared, this.now(), t.periodMs);
        // The headers describe the declared limit; what remains is this process's share of it.
        return { ...r, policies: t.full, policyField: t.policyField, tier, source: store ? "fallback" : "local" };
    }

    private storeFailed(e: unknown): void {
        const message = e instanceof Error ? e.message : String(e);
        this.opts.metrics.rateLimitStoreErrors.inc({ reason: /timed out/i.test(message) ? "timeout" : "unavailable" });
        if (!this.storeUp) return;
        this.storeUp = false;
        this.opts.metrics.rateLimitStoreUp.set(0);
        this.opts.log.warn(
            { err: message, share: this.opts.share },
            "rate-limit store unavailable: each task now enforces its share of every limit (limit ÷ RATE_LIMIT_TASKS) until it is back",
        );
    }

    private storeRecovered(): void {
        this.storeUp = true;
        this.opts.metrics.rateLimitStoreUp.set(1);
        this.opts.log.info("rate-limit store reachable again: limits are shared across the deployment again");
    }

    /** Waits (at most `timeoutMs`) for the shared store's connection, so the first requests need no fallback. */
    async connected(timeoutMs: number): Promise<void> {
        await this.opts.store?.connected(timeoutMs);
    }

    async close(): Promise<void> {
        await this.opts.store?.close();
    }
}
