// A circuit breaker, for the authorization server and for the shared rate-limit store: after
// `threshold` consecutive failures it opens for `resetMs`, then lets one trial call through
// (half-open); the trial's outcome closes it or opens it again. A clock is injected, so every
// transition is tested without waiting.

export type BreakerState = "closed" | "open" | "half-open";

export class CircuitBreaker {
    private failures = 0;
    private openedAt = 0;
    private trialInFlight = false;
    private current: BreakerState = "closed";

    constructor(
        private readonly threshold: number,
        private readonly resetMs: number,
        private readonly now: () => number = Date.now,
    ) {}

    get state(): BreakerState {
        if (this.current === "open" && this.now() - this.openedAt >= this.resetMs) this.current = "half-open";
        return this.current;
    }

    /** Whether a call may go out now. In half-open, only one trial at a time. */
    tryAcquire(): boolean {
        const state = this.state;
        if (state === "closed") return true;
        if (state === "half-open" && !this.trialInFlight) {
            this.trialInFlight = true;
            return true;
        }
        return false;
    }

    success(): void {
        this.failures = 0;
        this.trialInFlight = false;
        this.current = "closed";
    }

    failure(): void {
        this.trialInFlight = false;
        this.failures++;
        if (this.current === "half-open" || this.failures >= this.threshold) {
            this.current = "open";
            this.openedAt = this.now();
        }
    }

    /** Seconds until a trial call will be allowed. */
    retryAfterSeconds(): number {
        if (this.state !== "open") return 1;
        return Math.max(1, Math.ceil((this.resetMs - (this.now() - this.openedAt)) / 1000));
    }
}
