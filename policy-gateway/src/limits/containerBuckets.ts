// GCRA buckets kept in one process, per consumer; and, with WORKERS > 1, kept by the primary for
// the whole container, so the workers of one task never each hold a share of a limit (each would
// let a request through at once: 4 workers, a 1/min tier, 4 requests). The workers ask the primary
// whenever they decide without the shared store (`local` mode, or the store away); a primary that
// does not answer in time leaves the worker to decide on its own share, as before.
import { LRUCache } from "lru-cache";
import { gcra, type GcraResult, type RatePolicy } from "./gcra";
import { shareOf, type RateLimitPlan } from "./rateLimitPlan";
import { PendingCalls } from "../shared/pendingCalls";

/** A process's own GCRA states, per consumer, bounded (an evicted consumer starts afresh). */
export class Buckets {
    private readonly states = new LRUCache<string, number[]>({ max: 100_000 });

    /** `phase`: where in its period a fractional share first lets a request through, in [0, 1). */
    constructor(private readonly phase: () => number = Math.random) {}

    /** `periodMs`: per policy, the period of a share below one request (shareOf), 0 for a whole one. */
    decide(key: string, policies: readonly RatePolicy[], nowMs: number, periodMs: readonly number[] = []): GcraResult {
        const state = this.states.get(key) ?? policies.map((_, i) => nowMs + (periodMs[i] ? this.phase() * periodMs[i] : 0));
        const r = gcra(policies, state, nowMs);
        if (r.allowed) this.states.set(key, r.tats);
        else if (!this.states.has(key)) this.states.set(key, r.tats); // a refused newcomer keeps its phase
        return r;
    }
}

export interface LimitRequest {
    t: "limit";
    id: number;
    clientId: string;
    tier: string;
}
export interface LimitAnswer {
    t: "limitVerdict";
    id: number;
    /** Undefined when the primary does not know the tier. */
    result?: GcraResult;
}

/** A worker's line to the primary's buckets. */
export interface LimitChannel {
    sendLimit(request: LimitRequest): void;
    onLimitAnswer(listener: (answer: LimitAnswer) => void): void;
}

/** In the primary: the container's buckets, each tier shared by the tasks only (`share`). */
export class ContainerBuckets {
    private readonly buckets = new Buckets();
    private readonly tiers: Map<string, ReturnType<typeof shareOf>>;

    constructor(plan: RateLimitPlan, share: number) {
        this.tiers = new Map([...plan.tiers].map(([name, policies]) => [name, shareOf(policies, share)]));
    }

    decide(clientId: string, tier: string, nowMs: number): GcraResult | undefined {
        const t = this.tiers.get(tier);
        return t && this.buckets.decide(clientId, t.policies, nowMs, t.periodMs);
    }
}

/** In a worker: asks the primary; undefined when it did not answer within `timeoutMs`. */
export class RemoteBuckets {
    private readonly calls: PendingCalls<LimitAnswer>;

    constructor(
        private readonly channel: LimitChannel,
        timeoutMs = 250,
    ) {
        this.calls = new PendingCalls(timeoutMs);
        channel.onLimitAnswer((a) => this.calls.settle(a.id, a));
    }

    decide(clientId: string, tier: string): Promise<GcraResult | undefined> {
        return this.calls.call(
            (id) => this.channel.sendLimit({ t: "limit", id, clientId, tier }),
            (a) => a.result,
            () => undefined,
            () => undefined,
        );
    }
}
