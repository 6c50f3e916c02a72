// `gateway`: parse (the gateway's own schemas and defaults, plus the target's keys), default (what
// the stack decides: the store by target, host ports, the AWS target), check (the stack's own rules
// on the defaulted values, then the gateway's own rules on the very settings that will deploy,
// with placeholders for what only `pulumi up` knows), emit. Pure.
import type { z } from "zod";
import { deployedSettings } from "../gatewayEnvironment";
import { checkSettings, needsIntrospectionClient, type SettingName } from "../../policy-gateway/src/config/settings";
import { PORTS } from "../../policy-gateway/src/config/contract";
import { awsGatewayProblems, awsGatewaySpec } from "./awsTarget";
import type { RawConsumer } from "./consumers";
import { formatPath, type KeyResult } from "./problems";
import type { gatewaySchema } from "./schema";
import type { ScopeReferenceCheck } from "./server";
import { STACK_GATEWAY_SETTINGS, type GatewaySpec } from "./spec";
import { didYouMean } from "../../policy-gateway/src/shared/didYouMean";

export type RawGateway = z.infer<typeof gatewaySchema>;

export interface GatewayKeyContext {
    /** `<project>:<key>`. */
    k: (key: string) => string;
    production: boolean;
    consumers: RawConsumer[];
    /** The position in the stack file of each parsed consumer. */
    consumerIndex: number[];
    checkScopes: ScopeReferenceCheck;
    /** The org's URL, for a placeholder issuer of the right shape. */
    orgUrl?: string;
}

/** The consumer a placeholder client id stands for: `consumers[2]` is the stack file's third consumer. */
const placeholderClientId = (index: number) => `consumers[${index}]`;

/** The defaulted spec of a parsed `gateway` key. */
function gatewaySpec(gateway: RawGateway): GatewaySpec {
    const settings = Object.fromEntries(STACK_GATEWAY_SETTINGS.map((n) => [n, gateway[n]])) as GatewaySpec["settings"];
    return {
        target: gateway.target,
        settings,
        rateLimits: gateway.rateLimits && {
            tiers: gateway.rateLimits.tiers,
            defaultTier: gateway.rateLimits.defaultTier,
            // One container locally; on AWS several tasks, which only a shared store holds to one limit.
            store: gateway.rateLimits.store ?? (gateway.target === "aws" ? "shared" : "local"),
        },
        local: { port: gateway.local?.port ?? PORTS.traffic, adminPort: gateway.local?.adminPort ?? PORTS.admin },
        aws: awsGatewaySpec(gateway.aws ?? {}),
    };
}

/** Whether the stack declares an introspection client: for a gateway that introspects, or for MuleSoft's policy without a gateway. */
export function stackNeedsIntrospectionClient(gateway: Pick<GatewaySpec, "settings"> | undefined): boolean {
    return gateway === undefined || needsIntrospectionClient(gateway.settings);
}

/** The scopes an API's own requirements name: its required scopes and its rules'. */
export function scopesOfApi(api: { requiredScopes: string[]; routeRules: { scopes: string[] }[] }): Set<string> {
    return new Set([...api.requiredScopes, ...api.routeRules.flatMap((r) => r.scopes)]);
}

/**
 * `gateway.apis`, against the rest of the stack file: each API's scopes declared in the server and
 * its own (a scope of two APIs would let a consumer of one call the other), its consumers declared,
 * and no consumer granted a scope of an API that does not list it: the access policy grants
 * exactly the scopes of the APIs a consumer is declared for.
 */
function apiProblems(apis: GatewaySpec["settings"]["apis"], ctx: GatewayKeyContext, gw: string): string[] {
    if (apis === undefined) return [];
    const problems: string[] = [];
    const names = ctx.consumers.map((c) => c.name);
    const owner = new Map<string, number>();
    apis.forEach((api, i) => {
        const at = `${gw}.apis[${i}]`;
        problems.push(...ctx.checkScopes(api.requiredScopes, `${at}.requiredScopes`));
        api.routeRules.forEach((r, j) => problems.push(...ctx.checkScopes(r.scopes, `${at}.routeRules[${j}].scopes`)));
        api.consumers?.forEach((name, j) => {
            if (!names.includes(name))
                problems.push(`${at}.consumers[${j}]: "${name}" is not the name of a consumer in ${ctx.k("consumers")}${didYouMean(name, names, '"')}`);
        });
        for (const scope of scopesOfApi(api)) {
            const other = owner.get(scope);
            if (other === undefined) owner.set(scope, i);
            else if (other !== i)
                problems.push(
                    `${at}: scope "${scope}" is also required by ${gw}.apis[${other}] (${apis[other].name}): each API's scopes are its own, or a consumer granted it for one API could call the other; declare a scope per API`,
                );
        }
    });
    ctx.consumers.forEach((c, i) => {
        c.scopes.forEach((scope, j) => {
            const api = owner.get(scope);
            if (api === undefined) return;
            const allowed = apis[api].consumers;
            if (allowed !== undefined && !allowed.includes(c.name))
                problems.push(
                    `${ctx.k("consumers")}[${ctx.consumerIndex[i]}].scopes[${j}]: "${scope}" is a scope of API ${apis[api].name}, which does not list ${c.name} in ${gw}.apis[${api}].consumers: add it there, or drop the scope`,
                );
        });
    });
    return problems;
}

export function gatewayKey(gateway: RawGateway | undefined, ctx: GatewayKeyContext): KeyResult<GatewaySpec> {
    const gw = ctx.k("gateway");
    const tierOwners = ctx.consumers.flatMap((c, i) =>
        c.tier === undefined ? [] : [{ tier: c.tier, index: ctx.consumerIndex[i], at: `${ctx.k("consumers")}[${ctx.consumerIndex[i]}]` }],
    );
    if (!gateway) {
        // The gateway is what enforces the tiers.
        return { problems: tierOwners.map((o) => `${o.at}.tier: needs gateway.rateLimits (the tiers it can name)`) };
    }
    const spec = gatewaySpec(gateway);
    const problems: string[] = [];

    // The stack's own rules, on the defaulted values.
    problems.push(...ctx.checkScopes(spec.settings.requiredScopes, `${gw}.requiredScopes`));
    spec.settings.routeRules.forEach((r, i) => problems.push(...ctx.checkScopes(r.scopes, `${gw}.routeRules[${i}].scopes`)));
    problems.push(...apiProblems(spec.settings.apis, ctx, gw));
    if (spec.target === "aws" && gateway.local) problems.push(`${gw}.local: applies only to target local`);
    if (spec.target === "local" && gateway.aws) problems.push(`${gw}.aws: applies only to target aws`);
    if (spec.target === "local" && spec.local.port === spec.local.adminPort) {
        // Reported on the key that was set: the other one took its default.
        const onPort = gateway.local?.port !== undefined && gateway.local.adminPort === undefined;
        problems.push(
            onPort
                ? `${gw}.local.port: ${spec.local.port} is also the admin port (local.adminPort, ${gateway.local?.adminPort === undefined ? "by default " : ""}${spec.local.adminPort}); the two must differ`
                : `${gw}.local.adminPort: ${spec.local.adminPort} is also the gateway's port (local.port, ${gateway.local?.port === undefined ? "by default " : ""}${spec.local.port}); the two must differ`,
        );
    }
    if (spec.target === "aws") problems.push(...awsGatewayProblems(spec.aws, `${gw}.aws`));
    if (!spec.rateLimits) {
        problems.push(...tierOwners.map((o) => `${o.at}.tier: needs gateway.rateLimits (the tiers it can name)`));
        if (gateway.aws?.rateLimitStoreNodeType) problems.push(`${gw}.aws.rateLimitStoreNodeType: applies only with ${gw}.rateLimits.store shared`);
    } else {
        if (spec.target === "local" && spec.rateLimits.store === "shared")
            problems.push(`${gw}.rateLimits.store: shared applies only to target aws (the local target runs one container: use local)`);
        if (spec.rateLimits.store !== "shared" && gateway.aws?.rateLimitStoreNodeType)
            problems.push(`${gw}.aws.rateLimitStoreNodeType: applies only with ${gw}.rateLimits.store shared`);
    }
    // A production stack's outputs are what other teams consume; a local gateway runs on whichever
    // machine ran `pulumi up` last, and no consumer can reach it.
    if (ctx.production && spec.target === "local")
        problems.push(
            `${gw}.target: local cannot serve a production stack (${ctx.k("production")}: true): the container runs on the machine that ran pulumi up, which no consumer reaches; use aws, or leave gateway out and rehearse locally with npm start`,
        );
    if (ctx.production && spec.target === "aws" && !spec.aws.domainName)
        problems.push(
            `${gw}.aws.domainName: is required in a production stack (${ctx.k("production")}: true): consumers call the gateway over HTTPS on a name its certificate covers`,
        );

    // The gateway's own rules, on the settings that will deploy. Placeholders stand for what only
    // `pulumi up` knows (ids, the store's address), each of the shape the real value will have.
    const keyOf = (setting: SettingName, path: readonly PropertyKey[] = []): string => {
        switch (setting) {
            case "rateLimits":
                return path[0] === "consumers"
                    ? `${ctx.k("consumers")}${String(path[1]).slice("consumers".length)}.tier`
                    : `${gw}.rateLimits${formatPath(path)}`;
            case "consumerNames":
                return path[0] === undefined ? ctx.k("consumers") : `${ctx.k("consumers")}${String(path[0]).slice("consumers".length)}.name`;
            case "rateLimitStore":
            case "rateLimitStoreUrl":
                return `${gw}.rateLimits.store`;
            case "rateLimitTasks":
                return `${gw}.aws.maxCapacity`;
            case "trustProxy":
                return `${gw}.aws`;
            case "issuer":
            case "audience":
                return `${ctx.k("authorizationServer")}`;
            case "introspectionClientId":
                return ctx.k("introspectionClient");
            case "port":
            case "adminPort":
                return `${gw}.target`;
            default:
                return `${gw}.${setting}${formatPath(path)}`;
        }
    };
    const input = deployedSettings(
        spec,
        {
            issuer: `${ctx.orgUrl ?? "https://okta.invalid"}/oauth2/ausPlaceholder`,
            audience: "api://placeholder",
            introspectionClientId: stackNeedsIntrospectionClient(spec) ? "0oaPlaceholder" : undefined,
            consumerTiers: Object.fromEntries(tierOwners.map((o) => [placeholderClientId(o.index), o.tier])),
            consumerNames: Object.fromEntries(ctx.consumers.flatMap((c, i) => (typeof c.name === "string" ? [[placeholderClientId(i), c.name] as const] : []))),
        },
        // The AWS target declares a store (and so has its address) only for a shared store.
        { proxyCidrs: ["10.0.0.0/24"], storeUrl: spec.rateLimits?.store === "shared" ? "rediss://rate-limit-store.invalid:6379" : undefined },
    );
    const checked = checkSettings(input, keyOf);
    if (!checked.ok) problems.push(...checked.problems);
    return problems.length ? { problems } : { problems, spec };
}
