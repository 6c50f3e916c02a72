// The rehearsal's walkthrough for a gateway of several APIs (APIS): per API, a consumer it lists
// calls it (200), and a consumer it does not list is refused (403) whatever its token; then a path
// of no API (404). Each step announces its status; the commands are what a person pastes. Pure.
import type { ApiSettings } from "../policy-gateway/src/config/settings";
import { compileRule, requirementFor, type ScopeRequirement } from "../policy-gateway/src/decision/routeRules";
import type { DeclaredClient } from "./declared";

export interface WalkthroughStep {
    /** What the step shows, ending with the status its last command gets. */
    say: string;
    commands: string[];
}

export interface ApisWalkthroughInput {
    apis: readonly ApiSettings[];
    /** Consumers with a client secret (a curl can get their tokens). */
    consumers: readonly DeclaredClient[];
    mayHave: (c: DeclaredClient) => string[];
    /** The scopes a client should ask for to meet a requirement, if it may. */
    scopesFor: (need: ScopeRequirement, mayHave: string[]) => string[] | undefined;
    tokenCommand: (c: DeclaredClient, scope: string) => string;
    gatewayUrl: string;
}

/** A path under an API's prefix that no rule of the walkthrough depends on. */
const samplePath = (prefix: string) => `${prefix === "/" ? "" : prefix}/1`;

export function apisWalkthrough(w: ApisWalkthroughInput): WalkthroughStep[] {
    const steps: WalkthroughStep[] = [];
    const tokens = new Map<string, string>();
    /** The token command once per consumer and scope set, in a shell variable named after the consumer. */
    const tokenFor = (c: DeclaredClient, scopes: string[]): { variable: string; command?: string } => {
        const key = `${c.clientId} ${scopes.join(" ")}`;
        const known = tokens.get(key);
        if (known) return { variable: known };
        const variable = `TOKEN_${tokens.size + 1}`;
        tokens.set(key, variable);
        return { variable, command: `${variable}=$(${w.tokenCommand(c, scopes.join(" "))})` };
    };
    const call = (variable: string, path: string) => `curl -i -H "Authorization: Bearer $${variable}" ${w.gatewayUrl}${path}`;
    for (const api of w.apis) {
        const path = samplePath(api.pathPrefix);
        const need = requirementFor(api.routeRules.map(compileRule), "GET", path, { scopes: api.requiredScopes, match: api.scopeMatch });
        const listed = (c: DeclaredClient) => api.consumers === undefined || api.consumers.includes(c.clientId);
        const caller = w.consumers.find((c) => listed(c) && w.scopesFor(need, w.mayHave(c)));
        if (caller) {
            const t = tokenFor(caller, w.scopesFor(need, w.mayHave(caller)) as string[]);
            steps.push({
                say: `API ${api.name} (${api.pathPrefix}): ${caller.name}, which it lists, calls it: 200`,
                commands: [...(t.command ? [t.command] : []), call(t.variable, path)],
            });
        }
        const outsider = w.consumers.find((c) => !listed(c) && w.mayHave(c).length > 0);
        if (outsider) {
            const t = tokenFor(outsider, w.mayHave(outsider));
            steps.push({
                say: `API ${api.name}: ${outsider.name} is not among its consumers, so it is refused whatever its token: 403`,
                commands: [...(t.command ? [t.command] : []), call(t.variable, path)],
            });
        }
    }
    // A path no API claims: only when no API serves every path.
    if (!w.apis.some((a) => a.pathPrefix === "/" && a.hosts === undefined))
        steps.push({
            say: `A path of no API, answered in the gateway's JSON before any token and never forwarded: 404`,
            commands: [`curl -i ${w.gatewayUrl}/no-such-api/1`],
        });
    return steps;
}
