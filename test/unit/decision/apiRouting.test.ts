// Unit tests of policy-gateway/src/decision/apiRouting.ts: which API behind the gateway a request is for. Pure, without a server.
import fc from "fast-check";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { hostName, prefixSegments, selectApi, upstreamPath, type ApiRoute } from "../../../policy-gateway/src/decision/apiRouting";
import { normalizePath } from "../../../policy-gateway/src/request/normalizePath";

const route = (name: string, pathPrefix: string, hosts?: string[]): ApiRoute => ({
    name,
    prefix: prefixSegments(pathPrefix),
    ...(hosts ? { hosts: new Set(hosts) } : {}),
});
const pathOf = (target: string) => {
    const n = normalizePath(target);
    assert.ok(n.ok, target);
    return n.path;
};
const chosen = (apis: ApiRoute[], host: string | undefined, target: string) => {
    const s = selectApi(apis, host, pathOf(target));
    return s.kind === "api" ? s.api.name : s.kind;
};

describe("API routing", () => {
    const apis = [
        route("products", "/products"),
        route("orders", "/orders"),
        route("orders-admin", "/orders/admin"),
        route("partner-orders", "/orders", ["partner.acme.example"]),
    ];

    it("takes the longest prefix that begins the path, on segment boundaries only", () => {
        assert.equal(chosen(apis, "gw.example", "/products"), "products");
        assert.equal(chosen(apis, "gw.example", "/products/42?x=1"), "products");
        assert.equal(chosen(apis, "gw.example", "/orders/7"), "orders");
        assert.equal(chosen(apis, "gw.example", "/orders/admin/refunds"), "orders-admin");
        assert.equal(chosen(apis, "gw.example", "/orders/administrators"), "orders");
        assert.equal(chosen(apis, "gw.example", "/products-internal/1"), "none");
        assert.equal(chosen(apis, "gw.example", "/"), "none");
    });
    it("prefers an API that names the request's host, whatever its port, case or trailing dot", () => {
        for (const host of ["partner.acme.example", "PARTNER.acme.example:8443", "partner.acme.example."])
            assert.equal(chosen(apis, host, "/orders/7"), "partner-orders", host);
        // The host-specific API is preferred even over a longer prefix on any host.
        assert.equal(chosen(apis, "partner.acme.example", "/orders/admin/x"), "partner-orders");
        assert.equal(chosen(apis, undefined, "/orders/7"), "orders");
        assert.equal(hostName("[::1]:8080"), "[::1]");
    });
    it("compares prefixes as route rules compare paths: case, compatibility forms and a trailing slash reach the same API", () => {
        // An upstream that routes case-insensitively serves /ORDERS/admin as /orders/admin: the
        // request must be held to that API's rules, not to another API's.
        for (const target of ["/ORDERS/Admin/x", "/orders/admin/", "/ｏｒｄｅｒｓ/admin/x", "/orders/ADMIN"])
            assert.equal(chosen(apis, "gw.example", target), "orders-admin", target);
    });
    it("refuses a path whose second decoding reads as another API", () => {
        const s = selectApi([route("public", "/"), route("admin", "/admin")], "gw.example", pathOf("/%2561dmin/users"));
        assert.deepEqual(s, { kind: "ambiguous", names: ["public", "admin"] });
        assert.equal(chosen([route("public", "/"), route("admin", "/admin")], "gw.example", "/%2561bout"), "public");
    });
    it("sends every path to the one-API shorthand", () => {
        fc.assert(
            fc.property(fc.webPath(), fc.option(fc.domain(), { nil: undefined }), (p, host) => {
                const n = normalizePath(p.startsWith("/") ? p : `/${p}`);
                if (!n.ok) return;
                assert.equal(selectApi([route("default", "/")], host, n.path).kind, "api");
            }),
        );
    });
    it("strips the prefix by segments when the API asks, and never otherwise", () => {
        const orders = route("orders", "/orders");
        assert.equal(upstreamPath("/orders/7/items", orders, true), "/7/items");
        assert.equal(upstreamPath("/orders", orders, true), "/");
        assert.equal(upstreamPath("/orders/", orders, true), "/");
        assert.equal(upstreamPath("/ORDERS/7", orders, true), "/7");
        assert.equal(upstreamPath("/%EF%BD%8F%EF%BD%92%EF%BD%84%EF%BD%85%EF%BD%92%EF%BD%93/7", orders, true), "/7"); // fullwidth, longer in bytes
        assert.equal(upstreamPath("/orders/7", orders, false), "/orders/7");
        assert.equal(upstreamPath("/x", route("all", "/"), true), "/x");
    });
});
