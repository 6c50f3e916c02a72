// Token verdict caches, keyed by a SHA-256 of the token (never the token itself), bounded in
// entries so that a flood of random tokens cannot grow memory; and single-flight coalescing, so
// concurrent requests with one uncached token share one call to the authorization server.
import { hash } from "node:crypto";
import { LRUCache } from "lru-cache";
import type { TokenInfo } from "./tokenInfo";

export function tokenKey(token: string): string {
    // One-shot hash (Node >= 20.12): no Hash object per request, same digest as createHash.
    return hash("sha256", token, "base64url");
}

export type CacheHit = { hit: "positive"; info: TokenInfo } | { hit: "negative" } | undefined;

/**
 * How long the server's "inactive" is remembered for the back-off path: as long as any access
 * token can live (an Okta access policy rule allows at most one day, 1440 minutes), so a token
 * the server once refused is never accepted on its local check alone while it is still unexpired.
 */
export const REFUSAL_MEMORY_SECONDS = 24 * 3600;

export class DecisionCache {
    private readonly positive: LRUCache<string, TokenInfo>;
    private readonly negative: LRUCache<string, true>;
    private readonly negativeEnabled: boolean;
    /** Tokens the server called inactive; independent of the negative cache, which may be off or short. */
    private readonly refused: LRUCache<string, true>;

    constructor(opts: { maxEntries: number; negativeMaxEntries: number; negativeTtlSeconds: number }) {
        this.positive = new LRUCache({ max: opts.maxEntries, ttlAutopurge: false, allowStale: false });
        this.negative = new LRUCache({ max: opts.negativeMaxEntries, ttl: Math.max(1, opts.negativeTtlSeconds) * 1000, allowStale: false });
        this.negativeEnabled = opts.negativeTtlSeconds > 0;
        this.refused = new LRUCache({ max: opts.negativeMaxEntries, ttl: REFUSAL_MEMORY_SECONDS * 1000, allowStale: false });
    }

    /** The server said this token is not active (revoked, expired, unknown): remembered for REFUSAL_MEMORY_SECONDS, bounded in entries. */
    rememberRefusal(key: string): void {
        this.refused.set(key, true);
        this.positive.delete(key);
    }

    /** Whether the server once refused this token: no back-off path may accept it then. */
    wasRefused(key: string): boolean {
        return this.refused.has(key);
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

    get sizes(): { positive: number; negative: number; refused: number } {
        return { positive: this.positive.size, negative: this.negative.size, refused: this.refused.size };
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
