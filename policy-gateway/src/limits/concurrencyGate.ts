// Who may hold the upstream's connections, and for how long one waits for them. The upstream pool
// has a fixed number of connections per process; without a bound, one consumer inside its rate
// limit (slow uploads, slow endpoints) could hold all of them while every other consumer queued
// with no end. So, per process:
// - each consumer has at most `maxInFlight` requests in flight or queued (its tier's
//   `maxInFlight`, else CONSUMER_MAX_IN_FLIGHT): past it, 429, at once;
// - requests beyond the pool's connections wait in one FIFO queue of at most `maxQueue`, each at
//   most `queueTimeoutMs`: past either, 503 with Retry-After, never a request held forever.
// No I/O; the clock is the timers'.

export type Admission =
    | { admitted: true; release(): void }
    | { admitted: false; status: 429 | 503; reason: "consumer_in_flight" | "upstream_queue_full" | "upstream_queue_timeout"; retryAfterSeconds: number };

export interface ConcurrencyGateOptions {
    /** Requests to the upstream at once: the pool's connections. */
    slots: number;
    /** Requests that may wait for a slot. */
    maxQueue: number;
    /** How long one may wait. */
    queueTimeoutMs: number;
    /** A consumer's own bound (in flight and queued); undefined client: only the shared bounds apply. */
    maxInFlightOf(clientId: string): number;
}

interface Waiter {
    grant(): void;
    timer: NodeJS.Timeout;
}

export class ConcurrencyGate {
    private active = 0;
    private readonly queue: Waiter[] = [];
    private readonly perClient = new Map<string, number>();

    constructor(private readonly opts: ConcurrencyGateOptions) {}

    /** In flight and waiting, for the metrics. */
    get sizes(): { active: number; queued: number } {
        return { active: this.active, queued: this.queue.length };
    }

    /** At once when a slot is free or the request is refused; a promise only when it has to wait. */
    admit(clientId?: string): Admission | Promise<Admission> {
        if (clientId !== undefined) {
            const held = this.perClient.get(clientId) ?? 0;
            if (held >= this.opts.maxInFlightOf(clientId)) return { admitted: false, status: 429, reason: "consumer_in_flight", retryAfterSeconds: 1 };
            this.perClient.set(clientId, held + 1);
        }
        const leave = () => {
            if (clientId === undefined) return;
            const held = (this.perClient.get(clientId) ?? 1) - 1;
            if (held <= 0) this.perClient.delete(clientId);
            else this.perClient.set(clientId, held);
        };
        let released = false;
        const release = () => {
            if (released) return;
            released = true;
            leave();
            const next = this.queue.shift();
            if (next) {
                clearTimeout(next.timer);
                next.grant(); // the slot passes on: `active` stays
            } else this.active--;
        };
        if (this.active < this.opts.slots) {
            this.active++;
            return { admitted: true, release };
        }
        if (this.queue.length >= this.opts.maxQueue) {
            leave();
            return { admitted: false, status: 503, reason: "upstream_queue_full", retryAfterSeconds: 1 };
        }
        return new Promise<Admission>((resolve) => {
            const waiter: Waiter = {
                grant: () => resolve({ admitted: true, release }),
                timer: setTimeout(() => {
                    const at = this.queue.indexOf(waiter);
                    if (at !== -1) this.queue.splice(at, 1);
                    leave();
                    resolve({
                        admitted: false,
                        status: 503,
                        reason: "upstream_queue_timeout",
                        retryAfterSeconds: Math.max(1, Math.ceil(this.opts.queueTimeoutMs / 1000)),
                    });
                }, this.opts.queueTimeoutMs),
            };
            this.queue.push(waiter);
        });
    }
}
