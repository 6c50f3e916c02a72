// The shared rate-limit store: a Redis-compatible server (Valkey on ElastiCache, redis-server
// locally) that every gateway process of a deployment asks, so a limit holds for the deployment
// rather than per process. The GCRA of gcra.ts as a server-side Lua script, atomic on the server
// (EVALSHA: scripts run one at a time, Redis docs "Scripting with Lua" → "Script execution is
// atomic"), on the server's clock (TIME), so the gateways' clocks do not matter. One hash per
// consumer holds a TAT per policy; it expires once every bucket is full.
//
// The requests that arrive in one turn of the event loop are decided by one script call, in
// arrival order (the same consumer twice in a batch is counted twice, in turn): one round trip,
// one command to encode and one script to run for a batch, instead of one each, which is what
// keeps the check affordable under load. The keys of a batch are different hashes, so the store
// must not be in cluster mode (a script's keys must share a slot there): the stack declares a
// replication group with cluster mode off.
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

// KEYS: the consumers' hashes, in arrival order. ARGV, per key: n, then per policy: field,
// interval (µs), burst. Answers 5 integers per key. Mirrors gcra(): refused → nothing written;
// allowed → every TAT advanced. Numbers go back to Redis as strings with %.0f: Lua's tostring
// keeps 14 digits, too few for a µs timestamp.
export const GCRA_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local out = {}
local a = 1
for k = 1, #KEYS do
  local n = tonumber(ARGV[a])
  local fields = {}
  for i = 1, n do fields[i] = ARGV[a + 1 + (i - 1) * 3] end
  local stored = redis.call('HMGET', KEYS[k], unpack(fields))
  local newTats = {}
  local binding, remaining, reset, retry = 0, -1, 0, 0
  for i = 1, n do
    local interval = tonumber(ARGV[a + 2 + (i - 1) * 3])
    local burst = tonumber(ARGV[a + 3 + (i - 1) * 3])
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
  if retry > 0 then
    out[#out + 1] = 0; out[#out + 1] = binding; out[#out + 1] = 0
    out[#out + 1] = math.ceil(reset / 1000); out[#out + 1] = math.ceil(retry / 1000)
  else
    local args, longest = {}, 0
    for i = 1, n do
      args[#args + 1] = fields[i]
      args[#args + 1] = string.format('%.0f', newTats[i])
      if newTats[i] - now > longest then longest = newTats[i] - now end
    end
    redis.call('HSET', KEYS[k], unpack(args))
    redis.call('PEXPIRE', KEYS[k], math.ceil(longest / 1000) + 1)
    out[#out + 1] = 1; out[#out + 1] = binding; out[#out + 1] = remaining
    out[#out + 1] = math.ceil(reset / 1000); out[#out + 1] = 0
  end
  a = a + 1 + n * 3
end
return out
`;

/** Every key's prefix, so a store shared with other software keeps them apart. */
const KEY_PREFIX = "policy-gateway:ratelimit:";

/** The most requests one script call decides; more in one turn go in several calls. */
const MAX_BATCH = 256;

/** The defined command: the number of keys, the keys, then the arguments. */
type GcraCommand = (...numKeysKeysArgs: (string | number)[]) => Promise<number[]>;

interface Pending {
    key: string;
    args: readonly (string | number)[];
    resolve: (a: StoreAnswer) => void;
    reject: (e: unknown) => void;
}

export interface SharedStoreOptions {
    url: string;
    /** A command that takes longer fails (and the limiter falls back) instead of holding the request. */
    timeoutMs: number;
    onError?: (e: Error) => void;
}

export class SharedStore {
    private readonly client: Redis;
    private readonly take: GcraCommand;
    private pending: Pending[] = [];

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
        this.client.defineCommand("gatewayGcra", { lua: GCRA_SCRIPT });
        this.take = (this.client as unknown as { gatewayGcra: GcraCommand }).gatewayGcra.bind(this.client);
    }

    /** The script's arguments for a set of policies: built once per tier, not per request. */
    static scriptArgs(policies: readonly StorePolicy[]): (string | number)[] {
        const args: (string | number)[] = [policies.length];
        for (const p of policies) args.push(p.field, p.intervalUs, p.burst);
        return args;
    }

    /** One request of `key` against the policies whose scriptArgs are `args`; decided with the others of this turn. */
    decide(key: string, args: readonly (string | number)[]): Promise<StoreAnswer> {
        return new Promise((resolve, reject) => {
            if (this.pending.length === 0) setImmediate(() => this.flush());
            this.pending.push({ key: KEY_PREFIX + key, args, resolve, reject });
            // A bounded batch: one script call never holds the store for long.
            if (this.pending.length >= MAX_BATCH) this.flush();
        });
    }

    private flush(): void {
        const batch = this.pending;
        if (batch.length === 0) return;
        this.pending = [];
        const call: (string | number)[] = [batch.length];
        for (const p of batch) call.push(p.key);
        for (const p of batch) for (const a of p.args) call.push(a);
        this.take(...call).then(
            (out) => {
                for (let i = 0; i < batch.length; i++) {
                    const o = i * 5;
                    batch[i].resolve({ allowed: out[o] === 1, binding: out[o + 1], remaining: out[o + 2], resetMs: out[o + 3], retryAfterMs: out[o + 4] });
                }
            },
            (e: unknown) => {
                for (const p of batch) p.reject(e);
            },
        );
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

    async close(): Promise<void> {
        this.client.disconnect(false);
    }
}
