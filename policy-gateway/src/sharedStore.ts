// The shared rate-limit store: a Redis-compatible server (Valkey on ElastiCache, redis-server
// locally) that every gateway process of a deployment asks, so a limit holds for the deployment
// rather than per process. One round trip per request: the GCRA of gcra.ts as a server-side Lua
// script, atomic on the server (EVALSHA: scripts run one at a time, Redis docs "Scripting with
// Lua" → "Script execution is atomic"), on the server's clock (TIME), so the gateways' clocks do
// not matter. One hash per consumer holds a TAT per policy; it expires once every bucket is full.
import { Redis } from "ioredis";

/** What the script answers, in milliseconds; the same shape as gcra()'s result, minus the TATs. */
export interface StoreAnswer {
    allowed: boolean;
    binding: number;
    remaining: number;
    resetMs: number;
    retryAfterMs: number;
}

/** A policy as the script needs it: its field in the hash, its interval (µs) and burst. */
export interface StorePolicy {
    field: string;
    intervalUs: number;
    burst: number;
}

// ARGV: n, then per policy: field, interval (µs), burst. Mirrors gcra(): refused → nothing
// written; allowed → every TAT advanced. Numbers go back to Redis as strings with %.0f: Lua's
// tostring keeps 14 digits, too few for a µs timestamp.
export const GCRA_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local n = tonumber(ARGV[1])
local fields = {}
for i = 1, n do fields[i] = ARGV[2 + (i - 1) * 3] end
local stored = redis.call('HMGET', KEYS[1], unpack(fields))
local newTats = {}
local binding, remaining, reset, retry = 0, -1, 0, 0
for i = 1, n do
  local interval = tonumber(ARGV[3 + (i - 1) * 3])
  local burst = tonumber(ARGV[4 + (i - 1) * 3])
  local tat = math.max(tonumber(stored[i]) or now, now)
  local newTat = tat + interval
  local diff = now - (newTat - burst * interval)
  if diff < 0 then
    if -diff > retry then retry = -diff; binding = i - 1; remaining = 0; reset = tat - now end
  else
    local left = math.floor(diff / interval)
    if retry == 0 and (remaining < 0 or left < remaining) then binding = i - 1; remaining = left; reset = newTat - now end
  end
  newTats[i] = newTat
end
if retry > 0 then return {0, binding, 0, math.ceil(reset / 1000), math.ceil(retry / 1000)} end
local args, longest = {}, 0
for i = 1, n do
  args[#args + 1] = fields[i]
  args[#args + 1] = string.format('%.0f', newTats[i])
  if newTats[i] - now > longest then longest = newTats[i] - now end
end
redis.call('HSET', KEYS[1], unpack(args))
redis.call('PEXPIRE', KEYS[1], math.ceil(longest / 1000) + 1)
return {1, binding, remaining, math.ceil(reset / 1000), 0}
`;

type GcraCommand = (key: string, ...args: (string | number)[]) => Promise<[number, number, number, number, number]>;

export interface SharedStoreOptions {
    url: string;
    /** A command that takes longer fails (and the limiter falls back) instead of holding the request. */
    timeoutMs: number;
    /** Prefix of every key, so a store shared with other software keeps them apart. */
    keyPrefix?: string;
    onError?: (e: Error) => void;
}

export class SharedStore {
    private readonly client: Redis;
    private readonly take: GcraCommand;
    private readonly prefix: string;

    constructor(opts: SharedStoreOptions) {
        // ioredis: fail fast rather than queue while disconnected (enableOfflineQueue false,
        // maxRetriesPerRequest 0), bound each command (commandTimeout), and keep reconnecting in
        // the background, at most a second apart, so the store is used again once it is back.
        // `rediss://` URLs connect over TLS (ElastiCache in-transit encryption).
        this.client = new Redis(opts.url, {
            enableOfflineQueue: false,
            maxRetriesPerRequest: 0,
            commandTimeout: opts.timeoutMs,
            connectTimeout: Math.max(1_000, opts.timeoutMs),
            retryStrategy: (times) => Math.min(times * 100, 1_000),
            lazyConnect: false,
        });
        this.client.on("error", (e: Error) => opts.onError?.(e));
        // defineCommand: EVALSHA, with EVAL once when the server does not have the script yet.
        this.client.defineCommand("gatewayGcra", { numberOfKeys: 1, lua: GCRA_SCRIPT });
        this.take = (this.client as unknown as { gatewayGcra: GcraCommand }).gatewayGcra.bind(this.client);
        this.prefix = opts.keyPrefix ?? "policy-gateway:ratelimit:";
    }

    async decide(key: string, policies: readonly StorePolicy[]): Promise<StoreAnswer> {
        const args: (string | number)[] = [policies.length];
        for (const p of policies) args.push(p.field, p.intervalUs, p.burst);
        const [allowed, binding, remaining, resetMs, retryAfterMs] = await this.take(this.prefix + key, ...args);
        return { allowed: allowed === 1, binding, remaining, resetMs, retryAfterMs };
    }

    /** Resolves once connected, or false after `timeoutMs`: callers fall back meanwhile, so this only avoids a needless fallback at start. */
    async connected(timeoutMs: number): Promise<boolean> {
        if (this.client.status === "ready") return true;
        return new Promise((resolve) => {
            const timer = setTimeout(() => {
                this.client.off("ready", onReady);
                resolve(false);
            }, timeoutMs);
            const onReady = () => {
                clearTimeout(timer);
                resolve(true);
            };
            this.client.once("ready", onReady);
        });
    }

    /** Whether the connection is up now (a command may still time out). */
    get isReady(): boolean {
        return this.client.status === "ready";
    }

    async close(): Promise<void> {
        this.client.disconnect(false);
    }
}
