// The Generic Cell Rate Algorithm (GCRA, ITU-T I.371; the algorithm of redis-cell and go-redis's
// redis_rate) for several limits at once: a request passes only if every limit allows it, and
// only then is it counted against all of them. One state per limit, the "theoretical arrival
// time" (TAT): the instant the bucket would be empty again. Pure, with the clock passed in; the
// shared store runs the same arithmetic as a server-side script (sharedStore.ts), and the tests
// hold the two to the same answers.

/** One limit: `limit` requests per `windowSeconds`, of which up to `burst` may arrive at once. */
export interface RatePolicy {
    /** The policy's name in the RateLimit headers. */
    name: string;
    limit: number;
    windowSeconds: number;
    burst: number;
}

export interface GcraResult {
    allowed: boolean;
    /** The limit closest to refusing (the one that refused, when refused): what the headers report. */
    binding: number;
    /** Requests the binding limit still allows right now (after this one, when allowed). */
    remaining: number;
    /** Milliseconds until the binding limit is full again. */
    resetMs: number;
    /** Refused: milliseconds until this request would pass. 0 when allowed. */
    retryAfterMs: number;
    /** The TATs to keep: updated when allowed, unchanged when refused. */
    tats: number[];
}

/** Milliseconds between two requests at the policy's steady rate. */
export function emissionIntervalMs(p: RatePolicy): number {
    return (p.windowSeconds * 1000) / p.limit;
}

/** Decides one request at `nowMs` against every policy; `tats[i]` is policy i's TAT (absent: never used). */
export function gcra(policies: readonly RatePolicy[], tats: readonly (number | undefined)[], nowMs: number): GcraResult {
    const next: number[] = [];
    let binding = 0;
    let remaining = Infinity;
    let resetMs = 0;
    let retryAfterMs = 0;
    for (let i = 0; i < policies.length; i++) {
        const interval = emissionIntervalMs(policies[i]);
        const tat = Math.max(tats[i] ?? nowMs, nowMs);
        const newTat = tat + interval;
        // The earliest instant at which this request conforms: `burst` intervals before its new TAT.
        const allowAt = newTat - policies[i].burst * interval;
        const diff = nowMs - allowAt;
        if (diff < 0) {
            // Refused: the longest wait among the refusing limits is what the client must wait.
            if (-diff > retryAfterMs) {
                retryAfterMs = -diff;
                binding = i;
                remaining = 0;
                resetMs = tat - nowMs;
            }
            next.push(tats[i] ?? nowMs);
            continue;
        }
        const left = Math.floor(diff / interval);
        if (retryAfterMs === 0 && left < remaining) {
            binding = i;
            remaining = left;
            resetMs = newTat - nowMs;
        }
        next.push(newTat);
    }
    if (retryAfterMs > 0) return { allowed: false, binding, remaining: 0, resetMs, retryAfterMs, tats: policies.map((_, i) => tats[i] ?? nowMs) };
    return { allowed: true, binding, remaining, resetMs, retryAfterMs: 0, tats: next };
}
