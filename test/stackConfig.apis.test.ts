// Stack configuration of several APIs behind one gateway (gateway.apis): examples/Pulumi.two-apis.yaml
// as committed, and broken one thing at a time, through the validator the program uses.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { parse as parseYaml } from "yaml";
import { StackConfigError } from "../components/stackConfig/index";
import { PROJECT_ROOT } from "../harness/stackHarness";
import { assertProblem, load, project, type StackDoc } from "./support/stackConfigHarness";

const twoApis = (): StackDoc => parseYaml(readFileSync(path.join(PROJECT_ROOT, "examples/Pulumi.two-apis.yaml"), "utf8")) as StackDoc;
const gw = (d: StackDoc) => d.config[`${project}:gateway`] as Record<string, unknown> & { apis?: Record<string, unknown>[] };
const apisOf = (d: StackDoc) => gw(d).apis as Record<string, unknown>[];
const consumersOf = (d: StackDoc) => d.config[`${project}:consumers`] as Record<string, unknown>[];

function problemsOf(mutate: (doc: StackDoc) => void): string[] {
    const doc = twoApis();
    mutate(doc);
    try {
        load(doc);
    } catch (e) {
        assert.ok(e instanceof StackConfigError, String(e));
        return e.problems;
    }
    return assert.fail("the configuration was accepted");
}

describe("stack configuration: several APIs behind one gateway", () => {
    it("reads the committed two-API example: each API with its route, upstream, scopes and consumers", () => {
        const apis = load(twoApis()).gateway?.settings.apis;
        assert.deepEqual(
            apis?.map((a) => [a.name, a.pathPrefix, a.stripPrefix, a.upstreamUrl, a.requiredScopes, a.consumers]),
            [
                ["products", "/api/products", false, "http://host.docker.internal:3000", ["products:read"], undefined],
                ["orders", "/api/orders", true, "http://host.docker.internal:3001", ["orders:read"], ["inventory-sync"]],
            ],
        );
    });
    it("refuses a consumer granted a scope of an API that does not list it: its access policy would open that API's scope", () => {
        assertProblem(
            problemsOf((d) => (consumersOf(d)[0].scopes = ["products:read", "orders:read"])),
            `${project}:consumers[0].scopes[1]`,
            /"orders:read" is a scope of API orders, which does not list products-web in okta-api-gateway:gateway\.apis\[1\]\.consumers/,
        );
    });
    it("refuses a scope two APIs require: each API's scopes are its own", () => {
        assertProblem(
            problemsOf((d) => (apisOf(d)[1].requiredScopes = ["products:read"])),
            `${project}:gateway.apis[1]`,
            /scope "products:read" is also required by okta-api-gateway:gateway\.apis\[0\] \(products\)/,
        );
    });
    it("names an API's consumer that is not declared, with the name it may have meant", () => {
        assertProblem(
            problemsOf((d) => (apisOf(d)[1].consumers = ["inventory-synk"])),
            `${project}:gateway.apis[1].consumers[0]`,
            /"inventory-synk" is not the name of a consumer in okta-api-gateway:consumers \(did you mean "inventory-sync"\?\)/,
        );
    });
    it("refuses scopes the server does not declare, and the gateway's own refusals, by their stack keys", () => {
        const problems = problemsOf((d) => {
            apisOf(d)[0].routeRules = [{ path: "/api/products/**", scopes: ["ghost"] }];
            gw(d).requiredScopes = ["products:read"];
        });
        assertProblem(problems, `${project}:gateway.apis[0].routeRules[0].scopes[0]`, /"ghost" is not a scope declared/);
        assertProblem(
            problems,
            `${project}:gateway.requiredScopes`,
            /applies to the one-API shorthand only: with okta-api-gateway:gateway\.apis, set it on each API/,
        );
        assertProblem(
            problemsOf((d) => (apisOf(d)[1].pathPrefix = "/api/products")),
            `${project}:gateway.apis[1].pathPrefix`,
            /is also the route of API \[0\] \(products\)/,
        );
    });
    it("requires an upstream: gateway.upstreamUrl, or gateway.apis", () => {
        assertProblem(
            problemsOf((d) => delete gw(d).apis),
            `${project}:gateway.upstreamUrl`,
            /is required \(the API behind the gateway\), or declare okta-api-gateway:gateway\.apis/,
        );
    });
});
