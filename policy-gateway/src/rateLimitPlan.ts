// Which limit applies to which consumer: the tiers (`RATE_LIMITS`, JSON) the stack declares, each
// a set of GCRA policies, and the tier of each client id. Validated once at start; pure.
import { z } from "zod";
import type { RatePolicy } from "./gcra";

const count = (max: number) => z.number().int().min(1).max(max);

/** One tier, as the stack file and RATE_LIMITS spell it. */
export const rateTierSchema = z
    .strictObject({
        /** Steady requests per second. */
        perSecond: count(100_000).optional(),
        /** Requests that may arrive at once (the bucket); default: perSecond. Needs perSecond. */
        burst: count(1_000_000).optional(),
        /** Requests per minute, on top of perSecond (or alone). */
        perMinute: count(6_000_000).optional(),
    })
    .refine((t) => t.perSecond !== undefined || t.perMinute !== undefined, { message: "must set perSecond, perMinute or both" })
    .refine((t) => t.burst === undefined || t.perSecond !== undefined, { message: "needs perSecond (the rate the burst refills at)", path: ["burst"] })
    .refine((t) => t.perSecond === undefined || t.perMinute === undefined || t.perMinute <= t.perSecond * 60, {
        message: "is above 60 × perSecond, so it could never apply; lower it or drop it",
        path: ["perMinute"],
    });

export type RateTier = z.infer<typeof rateTierSchema>;

/** A tier name: a slug, as it appears in metrics labels and header policy names. */
export const TIER_NAME = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/;

const planSchema = z.strictObject({
    tiers: z.record(z.string(), rateTierSchema),
    /** client id → tier name. */
    consumers: z.record(z.string().min(1), z.string()).default({}),
    /** The tier of every other client id; absent: other clients are not limited. */
    defaultTier: z.string().optional(),
});

export interface RateLimitPlan {
    tiers: ReadonlyMap<string, readonly RatePolicy[]>;
    consumers: ReadonlyMap<string, string>;
    defaultTier?: string;
}

/** The GCRA policies of a tier: a bucket of `burst` refilled at perSecond, and a minute's quota. */
export function tierPolicies(name: string, tier: RateTier): RatePolicy[] {
    const policies: RatePolicy[] = [];
    if (tier.perSecond !== undefined)
        policies.push({ name: `${name}-per-second`, limit: tier.perSecond, windowSeconds: 1, burst: tier.burst ?? tier.perSecond });
    if (tier.perMinute !== undefined) policies.push({ name: `${name}-per-minute`, limit: tier.perMinute, windowSeconds: 60, burst: tier.perMinute });
    return policies;
}

/** Parses RATE_LIMITS (already JSON-decoded); throws an Error naming `variable` and the problem. */
export function compileRateLimits(value: unknown, variable: string): RateLimitPlan {
    const parsed = planSchema.safeParse(value);
    if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new Error(`${variable}: ${issue.path.length ? `${issue.path.join(".")}: ` : ""}${issue.message}`);
    }
    const { tiers, consumers, defaultTier } = parsed.data;
    for (const name of Object.keys(tiers))
        if (!TIER_NAME.test(name)) throw new Error(`${variable}: tiers.${name}: tier names must be 1-32 lowercase letters, digits or '-'`);
    for (const [clientId, tier] of Object.entries(consumers))
        if (!(tier in tiers)) throw new Error(`${variable}: consumers.${clientId}: names tier "${tier}", which tiers does not declare`);
    if (defaultTier !== undefined && !(defaultTier in tiers)) throw new Error(`${variable}: defaultTier: "${defaultTier}" is not one of tiers`);
    return {
        tiers: new Map(Object.entries(tiers).map(([name, tier]) => [name, tierPolicies(name, tier)])),
        consumers: new Map(Object.entries(consumers)),
        defaultTier,
    };
}

/** The tier that limits a client id, or undefined when it is not limited. */
export function tierOf(plan: RateLimitPlan, clientId: string): string | undefined {
    return plan.consumers.get(clientId) ?? plan.defaultTier;
}

/** A policy scaled to a share of the limit: what one of `share` processes enforces on its own. */
export function sharePolicy(p: RatePolicy, share: number): RatePolicy {
    return share <= 1 ? p : { ...p, limit: p.limit / share, burst: Math.max(1, p.burst / share) };
}
