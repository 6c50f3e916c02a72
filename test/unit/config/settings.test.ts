// The gateway's settings contract: one schema, one codec. What a deployer encodes is exactly what
// the gateway decodes (a property over every setting), each problem names its variable, and the
// docs' tables are the schema's own.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import fc from "fast-check";
import { loadConfig } from "../../../policy-gateway/src/config/load";
import {
    needsIntrospectionClient,
    SETTING_NAMES,
    SETTINGS,
    settingsProblems,
    settingsSchema,
    type GatewaySettings,
    type SettingName,
} from "../../../policy-gateway/src/config/settings";
import { fromEnvironment, toEnvironment } from "../../../policy-gateway/src/config/codec";
import { CLIENT_AUTH_METHODS } from "../../../policy-gateway/src/verification/clientAuth";
import { GENERATED_DOCS, generatedDocs, variablesTable } from "../../../scripts/settingsDocs";

const scope = fc.stringMatching(/^[a-z][a-z0-9:._/-]{0,15}$/);
const tierName = fc.stringMatching(/^[a-z][a-z0-9-]{0,8}[a-z0-9]$/);
const tier = fc
    .record({ perSecond: fc.integer({ min: 1, max: 1000 }), burst: fc.option(fc.integer({ min: 1, max: 5000 }), { nil: undefined }) })
    .chain((t) => fc.record({ perMinute: fc.option(fc.integer({ min: 1, max: t.perSecond * 60 }), { nil: undefined }) }).map((m) => ({ ...t, ...m })))
    .map((t) => Object.fromEntries(Object.entries(t).filter(([, v]) => v !== undefined)));
const rateLimits = fc.dictionary(tierName, tier, { minKeys: 1, maxKeys: 3 }).chain((tiers) => {
    const names = Object.keys(tiers);
    return fc
        .record({
            tiers: fc.constant(tiers),
            consumers: fc.dictionary(fc.stringMatching(/^0oa[A-Za-z0-9]{4,10}$/), fc.constantFrom(...names), { maxKeys: 3 }),
            defaultTier: fc.option(fc.constantFrom(...names), { nil: undefined }),
        })
        .map(({ defaultTier, ...rest }) => (defaultTier === undefined ? rest : { ...rest, defaultTier }));
});
const routeRule = fc.record(
    {
        path: fc.array(fc.stringMatching(/^[a-z][a-z0-9-]{0,6}$/), { minLength: 0, maxLength: 3 }).map((s) => `/${s.join("/")}/**`),
        methods: fc.uniqueArray(fc.constantFrom("GET", "POST", "PUT", "DELETE"), { minLength: 1, maxLength: 3 }),
        scopes: fc.array(scope, { maxLength: 2 }),
        match: fc.constantFrom("all" as const, "any" as const),
    },
    { requiredKeys: ["path", "scopes"] },
);

/** An arbitrary for every setting: enums and bounds from the schema itself, the rest by hand. A new setting without one fails the first test. */
const ARBITRARIES: Partial<Record<SettingName, fc.Arbitrary<unknown>>> = {
    upstreamUrl: fc.constantFrom("http://127.0.0.1:3000", "https://api.internal.example/base", "http://host.docker.internal:8000"),
    issuer: fc.constantFrom("https://acme.okta.com/oauth2/aus1", "https://login.acme.example/oauth2/default/", "http://127.0.0.1:9000/oauth2/aus9"),
    audience: fc.constantFrom("api://products", "https://api.acme.example"),
    introspectionClientId: fc.option(fc.stringMatching(/^0oa[A-Za-z0-9]{4,16}$/), { nil: undefined }),
    introspectionAuthMethod: fc.option(fc.constantFrom(...CLIENT_AUTH_METHODS), { nil: undefined }),
    introspectionClientKeyId: fc.option(fc.stringMatching(/^[a-z0-9-]{1,12}$/), { nil: undefined }),
    introspectionClientKmsKeyArn: fc.option(
        fc.constantFrom(
            "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "arn:aws-us-gov:kms:us-gov-west-1:123456789012:key/mrk-0a1b2c",
        ),
        { nil: undefined },
    ),
    requiredScopes: fc.uniqueArray(scope, { maxLength: 3 }),
    routeRules: fc.array(routeRule, { maxLength: 3 }),
    apis: fc.option(
        fc
            .uniqueArray(
                fc.record(
                    {
                        name: fc.constantFrom("products", "orders", "billing-v2"),
                        pathPrefix: fc.constantFrom("/", "/orders", "/api/v1/products"),
                        hosts: fc.option(fc.uniqueArray(fc.constantFrom("api.acme.example", "orders.acme.example"), { minLength: 1, maxLength: 2 }), {
                            nil: undefined,
                        }),
                        stripPrefix: fc.boolean(),
                        upstreamUrl: fc.constantFrom("http://127.0.0.1:3001", "https://orders.internal.example/v1"),
                        requiredScopes: fc.uniqueArray(scope, { maxLength: 2 }),
                        scopeMatch: fc.constantFrom("all", "any"),
                        routeRules: fc.array(routeRule, { maxLength: 2 }),
                        corsAllowedOrigins: fc.option(fc.constant(["https://app.example"]), { nil: undefined }),
                        consumers: fc.option(fc.uniqueArray(fc.stringMatching(/^0oa[A-Za-z0-9]{4,16}$/), { minLength: 1, maxLength: 2 }), { nil: undefined }),
                    },
                    { requiredKeys: ["name", "upstreamUrl"] },
                ),
                { minLength: 1, maxLength: 3, selector: (a) => a.name },
            )
            .filter((apis) => new Set(apis.map((a) => `${a.pathPrefix}|${a.hosts?.join(",")}`)).size === apis.length),
        { nil: undefined },
    ),
    host: fc.constantFrom("0.0.0.0", "127.0.0.1", "::"),
    identityHeaderPrefix: fc.constantFrom("X-Auth-", "X-Consumer-"),
    trustProxy: fc.constantFrom("false", "1", "10.0.0.0/16,10.1.0.0/16"),
    rateLimits: fc.option(rateLimits, { nil: undefined }),
    consumerNames: fc.option(
        fc.dictionary(fc.stringMatching(/^0oa[A-Za-z0-9]{4,16}$/), fc.constantFrom("products-web", "billing-export", "reporting"), { maxKeys: 3 }),
        {
            nil: undefined,
        },
    ),
    rateLimitStoreUrl: fc.option(fc.constantFrom("rediss://store.example:6379", "redis://127.0.0.1:6379"), { nil: undefined }),
    corsPreflightPassthrough: fc.constant(false), // true is refused: the CORS policy replaced it
    corsAllowedOrigins: fc.uniqueArray(fc.constantFrom("https://app.example", "http://localhost:3000", "https://shop.acme.example:8443"), { maxLength: 2 }),
    corsAllowedMethods: fc.uniqueArray(fc.constantFrom("GET", "POST", "DELETE"), { minLength: 1, maxLength: 3 }),
    corsAllowedHeaders: fc.uniqueArray(fc.constantFrom("authorization", "content-type", "X-Trace-Id"), { minLength: 1, maxLength: 3 }),
    corsExposedHeaders: fc.uniqueArray(fc.constantFrom("RateLimit", "X-Request-Id"), { minLength: 1, maxLength: 2 }),
};

/** The arbitrary of a setting whose schema says everything: an enum, a bounded integer or a boolean. */
function fromSchema(name: SettingName): fc.Arbitrary<unknown> | undefined {
    const json = settingsSchema.shape[name].toJSONSchema() as { enum?: string[]; type?: string; minimum?: number; maximum?: number };
    if (json.enum) return fc.constantFrom(...json.enum);
    if (json.type === "integer") return fc.integer({ min: json.minimum ?? 0, max: json.maximum ?? 1_000_000 });
    if (json.type === "boolean") return fc.boolean();
    return undefined;
}

const settings: fc.Arbitrary<GatewaySettings> = fc
    .record(
        Object.fromEntries(SETTING_NAMES.map((n) => [n, ARBITRARIES[n] ?? (fromSchema(n) as fc.Arbitrary<unknown>)])) as Record<
            SettingName,
            fc.Arbitrary<unknown>
        >,
    )
    .map((raw) => settingsSchema.safeParse(Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined))))
    .filter((p) => p.success)
    .map((p) => (p as { data: GatewaySettings }).data)
    // Only combinations the rules across settings accept: the gateway would run with these.
    .filter((s) => settingsProblems(s, (n) => n).length === 0);

describe("the gateway's settings", () => {
    it("has an arbitrary for every setting, so the round trip covers all of them", () => {
        assert.deepEqual(
            SETTING_NAMES.filter((n) => !ARBITRARIES[n] && !fromSchema(n)),
            [],
        );
    });

    it("decodes exactly what was encoded, for any valid settings (property)", () => {
        fc.assert(
            fc.property(settings, (s) => {
                const decoded = fromEnvironment(toEnvironment(s));
                assert.ok(decoded.ok, decoded.ok ? "" : decoded.problems.join("\n"));
                assert.deepEqual(decoded.settings, s);
            }),
            { numRuns: 400 },
        );
    });

    it("encodes every setting under its one variable, and no variable twice", () => {
        const variables = SETTING_NAMES.map((n) => SETTINGS[n].variable);
        assert.equal(new Set(variables).size, variables.length);
        const env = toEnvironment(settingsSchema.parse({ upstreamUrl: "http://127.0.0.1:3000", issuer: "http://127.0.0.1:9/x", audience: "a" }));
        assert.deepEqual(
            Object.keys(env).filter((v) => !variables.includes(v as never)),
            [],
        );
        assert.equal(env.TOKEN_VALIDATION, "introspection", "defaults are written out: the task definition shows what runs");
    });

    it("names every wrong variable at once, and the cross-setting rule in the gateway's own terms", () => {
        const d = fromEnvironment({ UPSTREAM_URL: "ftp://x", AUDIENCE: "a", PORT: "eighty", HIDE_CREDENTIALS: "yes", CACHE_MAX_TTL_SECONDS: "3601" });
        assert.ok(!d.ok);
        const problems = d.ok ? [] : d.problems;
        for (const v of ["UPSTREAM_URL", "OIDC_ISSUER", "PORT", "HIDE_CREDENTIALS", "CACHE_MAX_TTL_SECONDS"])
            assert.ok(
                problems.some((p) => p.startsWith(`${v}: `)),
                `${v} in\n${problems.join("\n")}`,
            );
        const base = { UPSTREAM_URL: "http://127.0.0.1:3000", OIDC_ISSUER: "http://127.0.0.1:9/x", AUDIENCE: "a", INTROSPECTION_CLIENT_ID: "0oa1" };
        assert.deepEqual(fromEnvironment({ ...base, RATE_LIMIT_STORE: "shared" }), {
            ok: false,
            problems: ["RATE_LIMITS: is required with RATE_LIMIT_STORE=shared or RATE_LIMIT_STORE_URL (the tiers and who is in them)"],
        });
    });

    it("knows in one place which validation modes need an introspection client", () => {
        assert.deepEqual(
            (["introspection", "hybrid", "jwt"] as const).map((tokenValidation) => needsIntrospectionClient({ tokenValidation })),
            [true, true, false],
        );
        const base = { UPSTREAM_URL: "http://127.0.0.1:3000", OIDC_ISSUER: "http://127.0.0.1:9/x", AUDIENCE: "a" };
        assert.equal(loadConfig({ ...base, TOKEN_VALIDATION: "jwt" }).introspectionClient, undefined);
        assert.throws(() => loadConfig({ ...base, TOKEN_VALIDATION: "hybrid" }), /INTROSPECTION_CLIENT_ID: is required with TOKEN_VALIDATION=hybrid/);
    });

    it("is what the docs' tables say: generated from the schema, current in the repository", () => {
        const docs = generatedDocs();
        for (const key of Object.keys(GENERATED_DOCS) as (keyof typeof GENERATED_DOCS)[])
            assert.equal(readFileSync(GENERATED_DOCS[key], "utf8"), docs[key], `run \`npm run schema\` and commit ${GENERATED_DOCS[key]}`);
        const table = variablesTable();
        for (const n of SETTING_NAMES) assert.match(table, new RegExp(`^\\| \`${SETTINGS[n].variable}\` \\|`, "m"));
    });
});
