// A concurrency cap with a bounded queue, for the calls the gateway makes to the authorization
// server: past the queue, callers are refused at once instead of piling up.
/** A concurrency cap with a bounded queue: past the queue, callers are refused at once. */
export class Limiter {
    private active = 0;
    private readonly queue: (() => void)[] = [];

    constructor(
        private readonly maxConcurrency: number,
        private readonly maxQueue: number,
    ) {}

    /** Resolves a release function, or undefined when the queue is full. */
    async acquire(): Promise<(() => void) | undefined> {
        if (this.active < this.maxConcurrency) {
            this.active++;
            return this.releaser();
        }
        if (this.queue.length >= this.maxQueue) return undefined;
        // The releasing caller hands its slot over directly, so no newcomer can slip in between.
        await new Promise<void>((resolve) => this.queue.push(resolve));
        return this.releaser();
    }

    private releaser(): () => void {
        let released = false;
        return () => {
            if (released) return;
            released = true;
            const next = this.queue.shift();
            if (next) next();
            else this.active--;
        };
    }

    get load(): { active: number; queued: number } {
        return { active: this.active, queued: this.queue.length };
    }
}
