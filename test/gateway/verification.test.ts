// Verification rules without a server: what an introspection answer means, how long a verdict is
// cached, how 429s and failures are backed off, and the bounds that protect memory and Okta.
import fc from "fast-check";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { CircuitBreaker } from "../../policy-gateway/src/shared/circuitBreaker";
import { DecisionCache, SingleFlight, tokenKey } from "../../policy-gateway/src/verification/decisionCache";
import { Limiter } from "../../policy-gateway/src/verification/limiter";
import { classifyIntrospection, positiveTtlSeconds, retryAfterSeconds, type Verdict } from "../../policy-gateway/src/verification/tokenInfo";
import { HybridVerifier, isCanonicalCompactJws, LocalThenIntrospection, type TokenVerifier } from "../../policy-gateway/src/verification/verifiers";
import { ClientBudget, takeFromBucket } from "../../policy-gateway/src/verification/clientBudget";
import { RemoteIntrospection, type IntrospectAnswer, type PrimaryChannel } from "../../policy-gateway/src/verification/remoteIntrospection";
import { GatewayMetrics } from "../../policy-gateway/src/shared/metrics";

const expect = { issuer: "https://acme.okta.com/oauth2/aus1", audience: "api://products", nowSeconds: 1_000_000, clockSkewSeconds: 30 };
const active = {
    active: true,
    iss: expect.issuer,
    aud: "api://products",
    exp: 1_000_600,
    scope: "myscope products:read",
    client_id: "0oa1",
    sub: "0oa1",
    token_type: "Bearer",
};

describe("introspection answers", () => {
    it("accepts an active answer for this issuer and audience, with its identity and scopes", () => {
        const v = classifyIntrospection(active, expect);
        assert.equal(v.kind, "valid");
        assert.ok(v.kind === "valid");
        assert.equal(v.info.clientId, "0oa1");
        assert.deepEqual([...v.info.scopes], ["myscope", "products:read"]);
        assert.equal(v.info.exp, 1_000_600);
        assert.equal(classifyIntrospection({ ...active, aud: ["api://x", "api://products"] }, expect).kind, "valid");
        assert.equal(classifyIntrospection({ ...active, scope: undefined, scp: ["a"] }, expect).kind, "valid");
    });
    for (const [name, body] of [
        ['active: "true" as a string', { ...active, active: "true" }],
        ["active missing", { ...active, active: undefined }],
        ["active: false", { active: false }],
        ["wrong issuer", { ...active, iss: "https://acme.okta.com" }],
        ["no issuer", { ...active, iss: undefined }],
        ["wrong audience", { ...active, aud: "api://other" }],
        ["no audience", { ...active, aud: undefined }],
        ["expired", { ...active, exp: 999_000 }],
        ["not yet valid", { ...active, nbf: 1_000_100 }],
        ["a refresh token", { ...active, token_type: "refresh_token" }],
        ["an array", [active]],
        ["null", null],
        ["a string", "active"],
    ] as const) {
        it(`refuses ${name}`, () => assert.equal(classifyIntrospection(body, expect).kind, "invalid"));
    }
    it("accepts an answer without exp, which is then cached only for the revocation window", () => {
        const v = classifyIntrospection({ ...active, exp: undefined }, expect);
        assert.ok(v.kind === "valid");
        assert.equal(positiveTtlSeconds(v.info.exp, expect.nowSeconds, 60), 60);
    });
    it("caches until exp, never past CACHE_MAX_TTL_SECONDS, never an expired token", () => {
        assert.equal(positiveTtlSeconds(1_000_010, 1_000_000, 60), 10);
        assert.equal(positiveTtlSeconds(1_003_600, 1_000_000, 60), 60);
        assert.equal(positiveTtlSeconds(999_999, 1_000_000, 60), 0);
        assert.equal(positiveTtlSeconds(1_003_600, 1_000_000, 0), 0, "0 disables the cache");
    });
});

describe("429 back-off", () => {
    const now = Date.parse("2026-11-27T12:00:00Z");
    it("reads Retry-After in seconds or as a date, and Okta's X-Rate-Limit-Reset", () => {
        assert.equal(retryAfterSeconds({ "retry-after": "7" }, now), 7);
        assert.equal(retryAfterSeconds({ "retry-after": new Date(now + 12_000).toUTCString() }, now), 12);
        assert.equal(retryAfterSeconds({ "x-rate-limit-reset": String(now / 1000 + 20) }, now), 20);
    });
    it("waits at least 1 and at most 300 seconds, 1 when nothing usable is given", () => {
        assert.equal(retryAfterSeconds({}, now), 1);
        assert.equal(retryAfterSeconds({ "retry-after": "soon" }, now), 1);
        assert.equal(retryAfterSeconds({ "retry-after": "0" }, now), 1);
        assert.equal(retryAfterSeconds({ "retry-after": "86400" }, now), 300);
        assert.equal(retryAfterSeconds({ "x-rate-limit-reset": String(now / 1000 - 5) }, now), 1);
    });
});

describe("circuit breaker", () => {
    it("opens after the threshold of consecutive failures, lets one trial through after the reset, and closes on success", () => {
        let t = 0;
        const b = new CircuitBreaker(3, 10_000, () => t);
        b.failure();
        b.failure();
        b.success(); // a success resets the count
        b.failure();
        b.failure();
        assert.equal(b.state, "closed");
        b.failure();
        assert.equal(b.state, "open");
        assert.equal(b.tryAcquire(), false);
        assert.equal(b.retryAfterSeconds(), 10);
        t = 9_999;
        assert.equal(b.tryAcquire(), false);
        t = 10_000;
        assert.equal(b.state, "half-open");
        assert.equal(b.tryAcquire(), true, "one trial");
        assert.equal(b.tryAcquire(), false, "only one");
        b.success();
        assert.equal(b.state, "closed");
        assert.equal(b.tryAcquire(), true);
    });
    it("reopens when the trial fails", () => {
        let t = 0;
        const b = new CircuitBreaker(1, 1_000, () => t);
        b.failure();
        t = 1_000;
        assert.equal(b.tryAcquire(), true);
        b.failure();
        assert.equal(b.state, "open");
        assert.equal(b.tryAcquire(), false);
    });
});

describe("token caches", () => {
    it("keys by a SHA-256 of the token, never the token", () => {
        const token = "secret-token-value";
        assert.equal(tokenKey(token).length, 43);
        assert.ok(!tokenKey(token).includes(token));
    });
    it("stay bounded under a flood of random tokens", () => {
        const cache = new DecisionCache({ maxEntries: 1_000, negativeMaxEntries: 500, negativeTtlSeconds: 10 });
        for (let i = 0; i < 50_000; i++) {
            const key = tokenKey(randomBytes(16).toString("hex"));
            cache.setInvalid(key);
            cache.rememberRefusal(key);
        }
        for (let i = 0; i < 5_000; i++) cache.setValid(tokenKey(`t${i}`), { scopes: new Set() }, 60);
        assert.deepEqual(cache.sizes, { positive: 1_000, negative: 500, refused: 500 });
    });
    it("expire entries by their own lifetime, and never store a zero lifetime", async () => {
        const cache = new DecisionCache({ maxEntries: 10, negativeMaxEntries: 10, negativeTtlSeconds: 10 });
        cache.setValid("a", { scopes: new Set(["x"]) }, 0);
        assert.equal(cache.get("a"), undefined, "0 would mean forever in lru-cache");
        cache.setValid("b", { scopes: new Set(["x"]) }, 0.05);
        assert.equal(cache.get("b")?.hit, "positive");
        await new Promise((r) => setTimeout(r, 80));
        assert.equal(cache.get("b"), undefined);
        cache.setInvalid("c");
        assert.equal(cache.get("c")?.hit, "negative");
    });
    it("a disabled negative cache remembers nothing, but the server's refusals are remembered for the back-off all the same", () => {
        const cache = new DecisionCache({ maxEntries: 10, negativeMaxEntries: 10, negativeTtlSeconds: 0 });
        cache.setInvalid("c");
        assert.equal(cache.get("c"), undefined);
        cache.setValid("d", { scopes: new Set(["x"]) }, 60);
        cache.rememberRefusal("d");
        assert.equal(cache.wasRefused("d"), true);
        assert.equal(cache.get("d"), undefined, "a refusal replaces a valid verdict held for it");
    });
});

describe("coalescing and the concurrency cap", () => {
    it("runs one call per key at a time and gives every waiter its result", async () => {
        const flight = new SingleFlight<number>();
        let calls = 0;
        let release: (v: number) => void = () => {};
        const work = () => {
            calls++;
            return new Promise<number>((r) => (release = r));
        };
        const all = Promise.all(Array.from({ length: 100 }, () => flight.run("k", work)));
        release(42);
        assert.deepEqual(new Set(await all), new Set([42]));
        assert.equal(calls, 1);
        assert.equal(flight.coalesced, 99);
        assert.equal(flight.size, 0);
        await flight.run("k", async () => 1);
        assert.equal(calls, 1, "a finished key starts afresh");
    });
    it("never runs more than the cap at once, and refuses past the queue", async () => {
        const limiter = new Limiter(2, 3);
        const releases = (await Promise.all([limiter.acquire(), limiter.acquire()])) as (() => void)[];
        assert.deepEqual(limiter.load, { active: 2, queued: 0 });
        const queued = [limiter.acquire(), limiter.acquire(), limiter.acquire()];
        await new Promise((r) => setImmediate(r));
        assert.deepEqual(limiter.load, { active: 2, queued: 3 });
        assert.equal(await limiter.acquire(), undefined, "queue full: refused at once");
        releases[0]();
        releases[0](); // a second release is ignored
        const next = await queued[0];
        assert.ok(next);
        assert.deepEqual(limiter.load, { active: 2, queued: 2 }, "the slot passed straight to the next waiter");
        next();
        releases[1]();
        for (const q of queued.slice(1)) (await q)?.();
        assert.deepEqual(limiter.load, { active: 0, queued: 0 });
    });
});

describe("hybrid verification", () => {
    /** A verifier that always gives one verdict and counts how often it was asked. */
    const counting = (verdict: Verdict): TokenVerifier & { calls: number } => {
        const v: TokenVerifier & { calls: number } = {
            calls: 0,
            verify: async () => {
                v.calls++;
                return verdict;
            },
        };
        return v;
    };
    const valid: Verdict = { kind: "valid", info: { clientId: "jwt", scopes: new Set(["a"]) } };
    /** A verifier whose verdicts are cached: it answers at once. */
    const cached = (verdict: Verdict): TokenVerifier => ({ verify: () => verdict });
    it("answers at once when both checks answer at once (cached verdicts), and waits for either that does not", async () => {
        const introspected: Verdict = { kind: "valid", info: { clientId: "introspected", scopes: new Set(["b"]) } };
        const both = new LocalThenIntrospection(cached(valid), cached(introspected), "introspection").verify("t");
        assert.ok(!(both instanceof Promise));
        assert.equal(both.kind === "valid" && both.info.clientId, "introspected");
        const refused = new HybridVerifier(cached({ kind: "invalid", reason: "cached" }), counting(valid)).verify("t");
        assert.deepEqual(refused, { kind: "invalid", reason: "cached" }, "refused locally at once, never introspected");
        const later = new HybridVerifier(cached(valid), counting(introspected)).verify("t");
        assert.ok(later instanceof Promise);
        assert.equal((await later).kind, "valid");
        const localLater = new LocalThenIntrospection(counting(valid), cached(introspected), "introspection").verify("t");
        assert.ok(localLater instanceof Promise);
        const v = await localLater;
        assert.equal(v.kind === "valid" && v.info.clientId, "introspected");
    });
    it("never introspects a token that fails local JWT checks", async () => {
        const jwt = counting({ kind: "invalid", reason: "bad signature" });
        const introspection = counting(valid);
        assert.equal((await new HybridVerifier(jwt, introspection).verify("t")).kind, "invalid");
        assert.equal(introspection.calls, 0);
    });
    it("refuses a locally valid token that introspection says is revoked, and fails closed when it cannot ask", async () => {
        assert.equal((await new HybridVerifier(counting(valid), counting({ kind: "invalid", reason: "inactive" })).verify("t")).kind, "invalid");
        assert.equal(
            (await new HybridVerifier(counting(valid), counting({ kind: "unavailable", reason: "timeout", retryAfterSeconds: 1 })).verify("t")).kind,
            "unavailable",
        );
    });
    it("uses the JWT's claims when both agree", async () => {
        const v = await new HybridVerifier(counting(valid), counting({ kind: "valid", info: { clientId: "other", scopes: new Set() } })).verify("t");
        assert.ok(v.kind === "valid" && v.info.clientId === "jwt");
    });
    it("accepts a locally verified token while the server rate-limits us, and only then", async () => {
        const limited: Verdict = { kind: "unavailable", reason: "rate_limited", retryAfterSeconds: 30 };
        assert.equal((await new HybridVerifier(counting(valid), counting(limited)).verify("t")).kind, "valid");
        assert.equal(
            (await new HybridVerifier(counting({ kind: "unavailable", reason: "jwks_unavailable", retryAfterSeconds: 5 }), counting(limited)).verify("t")).kind,
            "unavailable",
            "not without the local check",
        );
        assert.equal(
            (await new HybridVerifier(counting(valid), counting({ kind: "unavailable", reason: "circuit_open", retryAfterSeconds: 5 })).verify("t")).kind,
            "unavailable",
            "an outage still fails closed",
        );
    });
    it("asks the server when the local check cannot run (JWKS unreachable)", async () => {
        const introspection = counting(valid);
        assert.equal(
            (await new HybridVerifier(counting({ kind: "unavailable", reason: "jwks_unavailable", retryAfterSeconds: 5 }), introspection).verify("t")).kind,
            "valid",
        );
        assert.equal(introspection.calls, 1);
    });
    it("takes introspection's identity when it is the introspection mode's pre-check", async () => {
        const v = await new LocalThenIntrospection(
            counting(valid),
            counting({ kind: "valid", info: { clientId: "introspected", scopes: new Set(["b"]) } }),
            "introspection",
        ).verify("t");
        assert.ok(v.kind === "valid" && v.info.clientId === "introspected");
    });
});

describe("the per-client introspection budget", () => {
    it("lets a client cause perMinute introspections at once, then one every 60/perMinute seconds", () => {
        let t = 0;
        const budget = new ClientBudget(3, () => t);
        assert.deepEqual([budget.take("a"), budget.take("a"), budget.take("a")], [0, 0, 0]);
        assert.equal(budget.take("a"), 20, "the next in 20 s");
        assert.equal(budget.take("b"), 0, "another client has its own budget");
        t += 20_000;
        assert.equal(budget.take("a"), 0);
        assert.equal(new ClientBudget(0).take("a"), 0, "0 means no limit");
    });
    it("never holds more than perMinute, however long a client was idle (property)", () => {
        fc.assert(
            fc.property(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 0, max: 10_000_000 }), (perMinute, idleMs) => {
                const r = takeFromBucket({ tokens: 0, atMs: 0 }, idleMs, perMinute);
                assert.ok(r.bucket.tokens <= perMinute);
                assert.equal(r.allowed, r.retryAfterSeconds === 0);
            }),
        );
    });
});

describe("a worker asking the primary", () => {
    const newCache = () => new DecisionCache({ maxEntries: 10, negativeMaxEntries: 10, negativeTtlSeconds: 10 });
    it("answers 503 (primary_timeout) when the primary does not answer in time, instead of holding the request forever", async () => {
        const silent: PrimaryChannel = { send: () => {}, onAnswer: () => {} };
        const remote = new RemoteIntrospection(silent, newCache(), new GatewayMetrics(), 50);
        const started = Date.now();
        const verdict = await remote.verify("t");
        assert.deepEqual(verdict, { kind: "unavailable", reason: "primary_timeout", retryAfterSeconds: 1 });
        assert.ok(Date.now() - started < 1_000);
    });
    it("answers 503 at once when the channel to the primary is closed", async () => {
        const closed: PrimaryChannel = {
            send: () => {
                throw new Error("ERR_IPC_CHANNEL_CLOSED");
            },
            onAnswer: () => {},
        };
        const verdict = await new RemoteIntrospection(closed, newCache(), new GatewayMetrics(), 60_000).verify("t");
        assert.equal(verdict.kind === "unavailable" && verdict.reason, "primary_unreachable");
    });
    it("takes the primary's answer when it comes in time, and caches it", async () => {
        let listener: ((a: IntrospectAnswer) => void) | undefined;
        const channel: PrimaryChannel = {
            send: (m) => setTimeout(() => listener?.({ t: "verdict", id: m.id, verdict: { kind: "invalid", reason: "inactive" }, ttlSeconds: 0 }), 5),
            onAnswer: (l) => (listener = l),
        };
        const cache = newCache();
        const verdict = await new RemoteIntrospection(channel, cache, new GatewayMetrics(), 1_000).verify("t");
        assert.equal(verdict.kind, "invalid");
        assert.equal(cache.get(tokenKey("t"))?.hit, "negative");
    });
    it("answers a cached verdict at once, without a promise or a turn of the event loop, and asks the primary nothing", () => {
        let asked = 0;
        const channel: PrimaryChannel = { send: () => void asked++, onAnswer: () => {} };
        const cache = newCache();
        const info = { clientId: "0oa1", scopes: new Set(["a"]) };
        cache.setValid(tokenKey("good"), info, 60);
        cache.setInvalid(tokenKey("bad"));
        const remote = new RemoteIntrospection(channel, cache, new GatewayMetrics(), 1_000);
        assert.deepEqual(remote.verify("good"), { kind: "valid", info });
        assert.deepEqual(remote.verify("bad"), { kind: "invalid", reason: "cached" });
        assert.equal(asked, 0);
        assert.ok(remote.verify("unknown") instanceof Promise, "a token not in the cache is asked for");
    });
});

describe("one spelling per JWT", () => {
    const b64 = (bytes: Buffer) => bytes.toString("base64url");
    it("accepts the canonical compact form only: no padding, zero pad bits, three segments", () => {
        const header = b64(Buffer.from('{"alg":"RS256","kid":"k"}'));
        const payload = b64(Buffer.from('{"sub":"a"}')); // 11 bytes: 15 characters, 2 stray bits
        const signature = b64(randomBytes(256));
        assert.equal(isCanonicalCompactJws(`${header}.${payload}.${signature}`), true);
        assert.equal(isCanonicalCompactJws(`${header}.${payload}=.${signature}`), false, "padding");
        // The same bytes with a pad bit set: decodes identically, spelled differently.
        const last = payload.at(-1) as string;
        const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        const twin = payload.slice(0, -1) + alphabet[alphabet.indexOf(last) | 1];
        assert.deepEqual(Buffer.from(twin, "base64url"), Buffer.from(payload, "base64url"));
        assert.equal(isCanonicalCompactJws(`${header}.${twin}.${signature}`), false, "a set pad bit");
        for (const bad of [
            `${header}.${payload}`,
            `${header}.${payload}.`,
            `${header}.${payload}.${signature}.x`,
            `${header}.pay+load.${signature}`,
            `${header}.a.${signature}`,
        ])
            assert.equal(isCanonicalCompactJws(bad), false, bad);
    });
    it("accepts every canonical encoding of any bytes, and no other spelling of them (property)", () => {
        fc.assert(
            fc.property(fc.uint8Array({ minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 3 }), (bytes, bit) => {
                const seg = Buffer.from(bytes).toString("base64url");
                const ok = isCanonicalCompactJws(`${seg}.${seg}.${seg}`);
                const stray = seg.length % 4 === 2 ? 4 : seg.length % 4 === 3 ? 2 : 0;
                if (stray === 0 || bit >= 1 << stray) return ok;
                const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
                const twin = seg.slice(0, -1) + alphabet[alphabet.indexOf(seg.at(-1) as string) | bit];
                return ok && !isCanonicalCompactJws(`${seg}.${twin}.${seg}`);
            }),
        );
    });
});
