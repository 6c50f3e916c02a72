// Calls a worker makes to its primary over the IPC channel (introspection, rate limits): each gets
// an id, is settled by the primary's answer with that id, or given up on after a timeout, or at
// once when the channel is closed, so no request waits on a primary without end.

export class PendingCalls<A> {
    private readonly pending = new Map<number, (answer: A) => void>();
    private nextId = 1;

    constructor(private readonly timeoutMs: number) {}

    /** Hands the primary's answer to the call waiting for it (none: it was given up on). */
    settle(id: number, answer: A): void {
        this.pending.get(id)?.(answer);
        this.pending.delete(id);
    }

    /** Sends a call (`send` gets its id); its result is `answered(answer)`, `timedOut()`, or `unreachable()` when sending throws. */
    call<R>(send: (id: number) => void, answered: (answer: A) => R, timedOut: () => R, unreachable: () => R): Promise<R> {
        const id = this.nextId++;
        return new Promise<R>((resolve) => {
            const timer = setTimeout(() => {
                this.pending.delete(id);
                resolve(timedOut());
            }, this.timeoutMs);
            this.pending.set(id, (answer) => {
                clearTimeout(timer);
                resolve(answered(answer));
            });
            try {
                send(id);
            } catch {
                // The primary is gone (its IPC channel closed): answer now, not at the timeout.
                clearTimeout(timer);
                this.pending.delete(id);
                resolve(unreachable());
            }
        });
    }
}
