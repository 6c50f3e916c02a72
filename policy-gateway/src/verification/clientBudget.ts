// How many introspections of not-yet-cached tokens one client address may cause: a token bucket
// per address (refilled continuously, `perMinute` deep), bounded in addresses by an LRU. Keeps one
// client from spending the authorization server's rate limit (Okta limits /v1/introspect per
// org) that every other client's new tokens need.
import { LRUCache } from "lru-cache";

export interface Bucket {
    tokens: number;
    atMs: number;
}

/** The bucket after `nowMs`, and whether one token could be taken from it. Pure. */
export function takeFromBucket(bucket: Bucket | undefined, nowMs: number, perMinute: number): { bucket: Bucket; allowed: boolean; retryAfterSeconds: number } {
    const ratePerMs = perMinute / 60_000;
    const current = bucket ? Math.min(perMinute, bucket.tokens + (nowMs - bucket.atMs) * ratePerMs) : perMinute;
    if (current >= 1) return { bucket: { tokens: current - 1, atMs: nowMs }, allowed: true, retryAfterSeconds: 0 };
    return { bucket: { tokens: current, atMs: nowMs }, allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - current) / ratePerMs / 1000)) };
}

export class ClientBudget {
    private readonly buckets = new LRUCache<string, Bucket>({ max: 10_000 });

    constructor(
        private readonly perMinute: number,
        private readonly now: () => number = Date.now,
    ) {}

    /** 0 when the client may cause one more introspection now, else the seconds until it may. */
    take(client: string): number {
        if (this.perMinute <= 0) return 0;
        const r = takeFromBucket(this.buckets.get(client), this.now(), this.perMinute);
        this.buckets.set(client, r.bucket);
        return r.retryAfterSeconds;
    }
}
