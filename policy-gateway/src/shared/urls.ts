// Which URLs may carry tokens, credentials or limits: https (rediss for the store) anywhere, plain
// http (redis) only on loopback, where local runs and tests live. Pure.

/** Loopback hosts may use http (local runs and tests); everything else must be https. */
export function isLoopbackHost(hostname: string): boolean {
    const h = hostname.replace(/^\[|\]$/g, "");
    return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** Why a URL that carries tokens or credentials is not acceptable; undefined when it is. */
export function secureUrlProblem(value: string): string | undefined {
    if (!URL.canParse(value)) return "must be an absolute URL";
    const u = new URL(value);
    if (u.protocol === "https:") return undefined;
    if (u.protocol === "http:" && isLoopbackHost(u.hostname)) return undefined;
    return "must use https (http is allowed only for loopback addresses)";
}

/** Why a rate-limit store URL is not acceptable: redis:// only on loopback, rediss:// (TLS) anywhere. */
export function storeUrlProblem(value: string): string | undefined {
    if (!URL.canParse(value)) return "must be a redis:// or rediss:// URL";
    const u = new URL(value);
    if (u.protocol === "rediss:") return undefined;
    if (u.protocol === "redis:" && isLoopbackHost(u.hostname)) return undefined;
    return u.protocol === "redis:" ? "must use rediss:// (TLS); redis:// is allowed only for loopback addresses" : "must be a redis:// or rediss:// URL";
}
