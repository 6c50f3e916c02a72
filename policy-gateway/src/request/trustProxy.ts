// Which peers may tell the gateway the client's address and protocol (X-Forwarded-For/-Proto):
// none (the default: a client's own X-Forwarded-* are replaced, never believed), the nearest N
// hops, or peers whose address is in a list of IPs or CIDR ranges (e.g. the VPC of the load
// balancer in front). Pure.
import { BlockList, isIP } from "node:net";
/** Hops or addresses the gateway trusts for X-Forwarded-For/-Proto; off by default. */
export const TRUST_PROXY_MAX_HOPS = 10;

export type TrustProxy = false | number | string[];

/** `TRUST_PROXY`: `false`/unset, a hop count, or a comma-separated list of IPs and CIDR ranges. */
export function parseTrustProxy(value: string | undefined): { ok: true; value: TrustProxy } | { ok: false; problem: string } {
    const text = (value ?? "").trim();
    if (text === "" || text === "false") return { ok: true, value: false };
    if (/^\d+$/.test(text)) {
        const hops = Number(text);
        return hops >= 1 && hops <= TRUST_PROXY_MAX_HOPS
            ? { ok: true, value: hops }
            : { ok: false, problem: `TRUST_PROXY: a hop count must be 1 to ${TRUST_PROXY_MAX_HOPS}` };
    }
    const entries = text.split(",").map((e) => e.trim());
    const bad = entries.filter((e) => {
        const [address, prefix, ...rest] = e.split("/");
        const family = isIP(address);
        if (family === 0 || rest.length > 0) return true;
        if (prefix === undefined) return false;
        return !/^\d{1,3}$/.test(prefix) || Number(prefix) > (family === 4 ? 32 : 128);
    });
    if (bad.length) {
        return {
            ok: false,
            problem: `TRUST_PROXY: ${bad.map((b) => JSON.stringify(b)).join(", ")} is not an IP address or CIDR range (expected false, a hop count, or a list such as 10.0.0.0/16,10.1.0.0/16)`,
        };
    }
    return { ok: true, value: entries };
}

/** `::ffff:10.0.0.1` (an IPv4 peer on a dual-stack socket) is `10.0.0.1`. */
function plainAddress(address: string): string {
    return address.startsWith("::ffff:") && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/** A predicate over the connection's peer address: may it speak for the client? */
export function trustedPeerPredicate(trust: TrustProxy): (peerAddress: string | undefined) => boolean {
    if (trust === false) return () => false;
    if (typeof trust === "number") return (peer) => peer !== undefined; // the nearest hop is trusted
    const list = new BlockList();
    for (const entry of trust) {
        const [address, prefix] = entry.split("/");
        const family = isIP(address) === 4 ? "ipv4" : "ipv6";
        if (prefix === undefined) list.addAddress(address, family);
        else list.addSubnet(address, Number(prefix), family);
    }
    return (peer) => {
        if (peer === undefined) return false;
        const address = plainAddress(peer);
        const family = isIP(address);
        return family !== 0 && list.check(address, family === 4 ? "ipv4" : "ipv6");
    };
}

/**
 * The entries of X-Forwarded-For that are IP addresses, in order. Anything else (a name, `ip:port`,
 * `unknown`, a client's junk) is dropped: it can be neither a client's address nor a budget's key,
 * and is never logged or forwarded.
 */
export function forwardedForAddresses(forwardedFor: readonly string[]): string[] {
    return forwardedFor
        .flatMap((v) => v.split(","))
        .map((a) => a.trim())
        .filter((a) => isIP(a) !== 0);
}

/**
 * The client's address, as proxy-addr (Express, Fastify) derives it: from the connection's peer
 * outwards through X-Forwarded-For, the first address that is not trusted (a hop count trusts
 * that many nearest hops). Without trust it is the peer's address.
 */
export function clientAddress(peer: string, forwardedFor: readonly string[], trust: TrustProxy, isTrusted: (address: string) => boolean): string {
    if (trust === false) return plainAddress(peer);
    const chain = [peer, ...forwardedForAddresses(forwardedFor).reverse()].map(plainAddress);
    for (let hop = 0; hop < chain.length - 1; hop++) {
        const trusted = typeof trust === "number" ? hop < trust : isTrusted(chain[hop]);
        if (!trusted) return chain[hop];
    }
    return chain[chain.length - 1];
}
