// Token verdict caches, keyed by a SHA-256 of the token (never the token itself), bounded in
// entries so that a flood of random tokens cannot grow memory; and single-flight coalescing, so
// concurrent requests with one uncached token share one call to the authorization server.
import { createHash } from "node:crypto";
import { LRUCache } from "lru-cache";
import type { TokenInfo } from "./tokenInfo";

export function tokenKey(token: string): string {
    return createHash("sha256").update(token).digest("base64url");
}

export type CacheHit = { hit: "positive"; info: TokenInfo } | { hit: "negative" } | undefined;

export class DecisionCache {
    private readonly positive: LRUCache<string, TokenInfo>;
    private readonly negative: LRUCache<string, true>;
    private readonly negativeEnabled: boolean;

    constructor(opts: { maxEntries: number; negativeMaxEntries: number; negativeTtlSeconds: number }) {
        this.positive = new LRUCache({ max: opts.maxEntries, ttlAutopurge: false, allowStale: false });
        this.negative = new LRUCache({ max: opts.negativeMaxEntries, ttl: Math.max(1, opts.negativeTtlSeconds) * 1000, allowStale: false });
        this.negativeEnabled = opts.negativeTtlSeconds > 0;
    }

    get(key: string): CacheHit {
        const info = this.positive.get(key);
        if (info) return { hit: "positive", info };
        if (this.negativeEnabled && this.negative.get(key)) return { hit: "negative" };
        return undefined;
    }

    /** A zero lifetime caches nothing (lru-cache would read 0 as "forever"). */
    setValid(key: string, info: TokenInfo, ttlSeconds: number): void {
        if (ttlSeconds > 0) this.positive.set(key, info, { ttl: ttlSeconds * 1000 });
    }

    /** Seconds a cached valid verdict has left (0 when none): what a worker may cache it for. */
    remainingSeconds(key: string): number {
        return this.positive.has(key) ? Math.max(0, Math.floor(this.positive.getRemainingTTL(key) / 1000)) : 0;
    }

    setInvalid(key: string): void {
        if (this.negativeEnabled) this.negative.set(key, true);
    }

    get sizes(): { positive: number; negative: number } {
        return { positive: this.positive.size, negative: this.negative.size };
    }
}

/** Runs at most one `work(key)` at a time per key; later callers wait for the first one's result. */
export class SingleFlight<T> {
    private readonly inFlight = new Map<string, Promise<T>>();
    /** Callers that waited on another's call: the calls saved. */
    coalesced = 0;

    run(key: string, work: () => Promise<T>): Promise<T> {
        const pending = this.inFlight.get(key);
        if (pending) {
            this.coalesced++;
            return pending;
        }
        const p = work().finally(() => this.inFlight.delete(key));
        this.inFlight.set(key, p);
        return p;
    }

    get size(): number {
        return this.inFlight.size;
    }

    has(key: string): boolean {
        return this.inFlight.has(key);
    }
}
