// Which limit applies to which consumer: the tiers (`RATE_LIMITS`, JSON) the stack declares, each
// a set of GCRA policies, and the tier of each client id. Validated once at start; pure.
import { z } from "zod";
import { didYouMean } from "../shared/didYouMean";
import type { RatePolicy } from "./gcra";
import { describeIssue, firstIssue, formatPath } from "../shared/zodIssues";

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
        /** Requests of one consumer in flight (or waiting) at once, per gateway process; default CONSUMER_MAX_IN_FLIGHT. */
        maxInFlight: count(4_096).optional(),
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

/**
 * RATE_LIMITS: the tiers, the tier of each client id, and the tier of every other client. Names are
 * looked up as own members only: a tier called `constructor` or `toString` is no tier unless
 * declared (a prototype lookup once let such a name through, and every limited request got 500).
 */
export const rateLimitsSchema = z
    .strictObject({
        tiers: z
            .record(z.string().regex(TIER_NAME, { message: "tier names must be 1-32 lowercase letters, digits or '-'" }), rateTierSchema)
            .refine((t) => Object.keys(t).length > 0, { message: "must declare at least one tier" }),
        /** client id → tier name. */
        consumers: z.record(z.string().min(1), z.string()).default({}),
        /** The tier of every other client id; absent: other clients are not limited. */
        defaultTier: z.string().optional(),
    })
    .superRefine((plan, ctx) => {
        const declared = Object.keys(plan.tiers);
        const unknown = (tier: string) => `"${tier}" is not one of the declared tiers (${declared.join(", ")})${didYouMean(tier, declared, '"')}`;
        for (const [clientId, tier] of Object.entries(plan.consumers))
            if (!Object.hasOwn(plan.tiers, tier)) ctx.addIssue({ code: "custom", path: ["consumers", clientId], message: unknown(tier) });
        if (plan.defaultTier !== undefined && !Object.hasOwn(plan.tiers, plan.defaultTier))
            ctx.addIssue({ code: "custom", path: ["defaultTier"], message: unknown(plan.defaultTier) });
    });

export type RateLimits = z.output<typeof rateLimitsSchema>;

export interface RateLimitPlan {
    tiers: ReadonlyMap<string, readonly RatePolicy[]>;
    /** The tiers that set their own bound on in-flight requests. */
    maxInFlight: ReadonlyMap<string, number>;
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

/** The plan of validated RATE_LIMITS. */
export function planOf(limits: RateLimits): RateLimitPlan {
    return {
        tiers: new Map(Object.entries(limits.tiers).map(([name, tier]) => [name, tierPolicies(name, tier)])),
        maxInFlight: new Map(
            Object.entries(limits.tiers).flatMap(([name, tier]) => (tier.maxInFlight !== undefined ? [[name, tier.maxInFlight] as const] : [])),
        ),
        consumers: new Map(Object.entries(limits.consumers)),
        defaultTier: limits.defaultTier,
    };
}

/** Parses RATE_LIMITS (already JSON-decoded); throws an Error naming `variable` and the problem. */
export function compileRateLimits(value: unknown, variable: string): RateLimitPlan {
    const parsed = rateLimitsSchema.safeParse(value);
    if (!parsed.success) {
        const issue = firstIssue(parsed.error.issues);
        throw new Error(`${variable}${formatPath(issue.path)}: ${describeIssue(issue, value)}`);
    }
    return planOf(parsed.data);
}

/** The tier that limits a client id, or undefined when it is not limited. */
export function tierOf(plan: RateLimitPlan, clientId: string): string | undefined {
    return limitingTier(plan.consumers.get(clientId), plan.defaultTier);
}

/** The one rule: a consumer's own tier, else the default tier; undefined when neither is set (not limited). */
export function limitingTier(own: string | undefined, defaultTier: string | undefined): string | undefined {
    return own ?? defaultTier;
}

/** A consumer's limit as the gateway enforces it: the tier's name and numbers, or null when it is not limited. */
export function limitOf(limits: Pick<RateLimits, "tiers" | "defaultTier"> | undefined, own: string | undefined): ({ tier: string } & RateTier) | null {
    const name = limitingTier(own, limits?.defaultTier);
    return limits && name !== undefined && Object.hasOwn(limits.tiers, name) ? { tier: name, ...limits.tiers[name] } : null;
}

/** A policy scaled to a share of the limit: what one of `share` processes enforces on its own. */
export function sharePolicy(p: RatePolicy, share: number): RatePolicy {
    return shareOf([p], share).policies[0];
}

/**
 * What one of `share` processes enforces of a tier on its own: each limit divided, so the shares
 * add up to the declared limit over time. A share of a burst below one request is a fraction of
 * time, not a whole request: the process may let one request through once per `periodMs` (its
 * share's interval), at a phase of its own (Buckets picks it at random when it first sees a
 * consumer), so independent processes spread their single requests over the period instead of
 * each passing one at the same moment (4 tasks, a 2/min tier: 4 at once). Pure.
 */
export function shareOf(policies: readonly RatePolicy[], share: number): { policies: RatePolicy[]; periodMs: number[] } {
    if (share <= 1) return { policies: [...policies], periodMs: policies.map(() => 0) };
    const shared = policies.map((p) => ({ ...p, limit: p.limit / share, burst: p.burst / share }));
    return {
        policies: shared.map((p) => ({ ...p, burst: Math.max(1, p.burst) })),
        periodMs: shared.map((p) => (p.burst < 1 ? (p.windowSeconds * 1000) / p.limit : 0)),
    };
}
