// Unit tests of components/outputs.ts, openApiFragment: what an API team merges into its OpenAPI
// document says what the gateway decides. Pure, without a server.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { openApiFragment } from "../../../components/outputs";

const scopes = ["myscope", "products:read", "products:write", "admin"].map((name) => ({ name, description: name }));
const routes = {
    requiredScopes: ["myscope"],
    scopeMatch: "all" as const,
    routeRules: [
        { path: "/api/products/**", methods: ["POST", "PUT", "PATCH", "DELETE"], scopes: ["products:write"] },
        { path: "/api/products/**", scopes: ["myscope", "products:read"], match: "any" as const },
        { path: "/orders/*", methods: ["DELETE"], scopes: ["admin"] },
        { path: "/admin*", scopes: ["admin"] },
    ],
};
const fragment = openApiFragment("https://org.okta.com/oauth2/aus1/v1/token", scopes as never, routes);
type Operation = { security: Record<string, string[]>[]; responses: Record<string, { $ref: string }> };
const op = (path: string, method: string) => (fragment.paths as Record<string, Record<string, Operation>>)[path][method];

describe("the OpenAPI fragment", () => {
    it("requires the default scopes everywhere, and each rule's scopes on the operations it covers, first rule first", () => {
        assert.deepEqual(fragment.security, [{ okta: ["myscope"] }]);
        assert.deepEqual(op("/api/products", "post").security, [{ okta: ["products:write"] }]);
        assert.deepEqual(op("/api/products", "delete").security, [{ okta: ["products:write"] }]);
        // match any: one alternative per scope (OpenAPI's OR).
        assert.deepEqual(op("/api/products", "get").security, [{ okta: ["myscope"] }, { okta: ["products:read"] }]);
        assert.deepEqual(op("/api/products", "head").security, op("/api/products", "get").security, "HEAD follows GET");
        // A `*` segment is a path parameter; methods the rule does not name need the defaults.
        assert.deepEqual(op("/orders/{param1}", "delete").security, [{ okta: ["admin"] }]);
        assert.deepEqual(op("/orders/{param1}", "get").security, [{ okta: ["myscope"] }]);
    });

    it("lists every rule as the gateway reads it, those no OpenAPI path can express included", () => {
        assert.equal(fragment.paths && "/admin*" in fragment.paths, false);
        assert.deepEqual(
            fragment["x-okta-gateway-route-rules"].map((r) => r.path),
            ["/api/products/**", "/api/products/**", "/orders/*", "/admin*"],
        );
    });

    it("declares the gateway's answers, 429 and 503 with Retry-After, on every operation", () => {
        const responses = fragment.components.responses;
        assert.ok("Retry-After" in responses.TooManyRequests.headers && "RateLimit-Policy" in responses.TooManyRequests.headers);
        assert.ok("Retry-After" in responses.ServiceUnavailable.headers);
        assert.ok("WWW-Authenticate" in responses.Forbidden.headers);
        assert.deepEqual(Object.keys(op("/orders/{param1}", "delete").responses), ["400", "401", "403", "429", "503"]);
        assert.equal(op("/orders/{param1}", "delete").responses["429"].$ref, "#/components/responses/TooManyRequests");
        assert.equal(fragment.components.securitySchemes.okta.flows.clientCredentials.tokenUrl, "https://org.okta.com/oauth2/aus1/v1/token");
    });
});
