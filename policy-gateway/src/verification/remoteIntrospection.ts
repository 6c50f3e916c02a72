// Introspection across worker processes (WORKERS > 1): each worker keeps its own cache, and on a
// miss asks the primary process, which introspects at most once per token per cache window for
// the whole container (its own cache and single-flight) and says how long the verdict may be
// cached. The worker then caches it no longer than that, so the revocation window holds.
import { SingleFlight, tokenKey, type DecisionCache } from "./decisionCache";
import type { GatewayMetrics } from "../shared/metrics";
import type { TokenInfo, Verdict } from "./tokenInfo";
import { fromCache, type TokenVerifier, type VerdictOrPromise, type VerifyContext } from "./verifiers";
import { PendingCalls } from "../shared/pendingCalls";

/** A verdict as it crosses the process boundary (Sets do not survive structured cloning as JSON). */
export type WireVerdict = Exclude<Verdict, { kind: "valid" }> | { kind: "valid"; info: Omit<TokenInfo, "scopes"> & { scopes: string[] } };

export interface IntrospectRequest {
    t: "introspect";
    id: number;
    token: string;
    key: string;
    client?: string;
}
export interface IntrospectAnswer {
    t: "verdict";
    id: number;
    verdict: WireVerdict;
    /** How long the primary keeps a valid verdict: the most a worker may cache it. */
    ttlSeconds: number;
}

export function toWire(v: Verdict): WireVerdict {
    return v.kind === "valid" ? { kind: "valid", info: { ...v.info, scopes: [...v.info.scopes] } } : v;
}
export function fromWire(v: WireVerdict): Verdict {
    return v.kind === "valid" ? { kind: "valid", info: { ...v.info, scopes: new Set(v.info.scopes) } } : v;
}

/** The channel to the primary: `process.send` in a cluster worker. */
export interface PrimaryChannel {
    send(message: IntrospectRequest): void;
    onAnswer(listener: (answer: IntrospectAnswer) => void): void;
}

export class RemoteIntrospection implements TokenVerifier {
    private readonly flight = new SingleFlight<Verdict>();
    private readonly calls: PendingCalls<IntrospectAnswer>;

    constructor(
        private readonly channel: PrimaryChannel,
        private readonly cache: DecisionCache,
        private readonly metrics: GatewayMetrics,
        /** How long a worker waits for the primary's answer: a primary that never answers costs a 503, not a request held forever. */
        timeoutMs = 5_000,
    ) {
        this.calls = new PendingCalls(timeoutMs);
        channel.onAnswer((a) => this.calls.settle(a.id, a));
    }

    verify(token: string, key = tokenKey(token), ctx: VerifyContext = {}): VerdictOrPromise {
        return fromCache(this.cache, this.metrics, key) ?? this.flight.run(key, () => this.ask(token, key, ctx));
    }

    private ask(token: string, key: string, ctx: VerifyContext): Promise<Verdict> {
        return this.calls.call<Verdict>(
            (id) => this.channel.send({ t: "introspect", id, token, key, client: ctx.client }),
            (a) => {
                const verdict = fromWire(a.verdict);
                if (verdict.kind === "valid") this.cache.setValid(key, verdict.info, a.ttlSeconds);
                else if (verdict.kind === "invalid") this.cache.setInvalid(key);
                return verdict;
            },
            () => {
                this.metrics.introspectionErrors.inc({ reason: "primary_timeout" });
                return { kind: "unavailable", reason: "primary_timeout", retryAfterSeconds: 1 };
            },
            () => ({ kind: "unavailable", reason: "primary_unreachable", retryAfterSeconds: 1 }),
        );
    }
}
