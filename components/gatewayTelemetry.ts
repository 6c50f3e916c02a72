// The gateway's own metrics in CloudWatch on the AWS target, from the one JSON line it writes per
// request (already in the task's log group through the awslogs driver): metric filters by API,
// consumer and outcome, a dashboard per API, and the alarms an API owner acts on, each to the
// stack's SNS topic. No sidecar and no change to the task: the request line carries `api`,
// `consumer`, `outcome`, `reason`, `limitStore` and `ms` (policy-gateway/src/server/gateway.ts).
//
// Metric filters (CloudWatch Logs API Reference, PutMetricFilter and MetricTransformation; pulumi-aws
// `cloudwatch.LogMetricFilter`): at most three dimensions, each a `$.field` of a JSON pattern; a
// transformation with dimensions takes no default value ("dimensions and default value are
// mutually exclusive"); and CloudWatch Logs disables a filter that yields 1,000 dimension values
// within an hour. So each filter's dimension values are bounded by what the stack declares (the
// APIs plus `none`, the consumers plus `unknown`, the gateway's closed list of outcomes), the
// bound is computed here, and a filter whose bound passes the limit is not declared (a warning
// says so; the same numbers stay in Prometheus and Logs Insights).
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { OUTCOMES, type Outcome } from "../policy-gateway/src/shared/metrics";

/** CloudWatch Logs disables a metric filter whose dimensions take 1,000 different values within an hour. */
export const METRIC_FILTER_DIMENSION_LIMIT = 1000;
/** Alarms on metric math may read at most 10 metrics (CloudWatch User Guide, "Alarms based on metric math expressions"). */
const ALARM_METRICS_LIMIT = 10;

export interface MetricFilterSpec {
    /** The metric's name, and the filter's within the log group. */
    metric: string;
    pattern: string;
    /** `1` to count lines, or a `$.field` to publish its value. */
    value: string;
    unit: "Count" | "Milliseconds";
    dimensions?: Record<string, string>;
    defaultValue?: string;
    /** The most dimension value combinations this filter can yield, from the declarations. */
    bound: number;
}

/** The outcomes counted as one status, for the alarms on surges relative to traffic. */
export const SURGE_OUTCOMES = {
    unauthorized: ["invalid_token"],
    forbidden: ["insufficient_scope", "not_a_consumer"],
    tooManyRequests: ["rate_limited", "concurrency_limited", "throttled"],
} as const satisfies Record<string, readonly Outcome[]>;

/** The refusals a consumer can cause and act on (a 401 has no verified consumer: always `unknown`). */
const CONSUMER_REFUSALS: readonly Outcome[] = [...SURGE_OUTCOMES.forbidden, "rate_limited", "concurrency_limited"];

const REQUEST_LINE = `$.msg = "request"`;
const anyOf = (field: string, values: readonly string[]) => `(${values.map((v) => `$.${field} = "${v}"`).join(" || ")})`;

/** Every metric filter on the request lines, with its bound; those past the limit are `skipped`. Pure. */
export function metricFilters(d: { apis: readonly string[]; consumers: readonly string[]; sharedStore: boolean }): {
    filters: MetricFilterSpec[];
    skipped: MetricFilterSpec[];
} {
    const apis = d.apis.length + 1; // and `none`
    const consumers = d.consumers.length + 1; // and `unknown`
    const count = { value: "1", unit: "Count" as const };
    const all: MetricFilterSpec[] = [
        { metric: "Requests", pattern: `{ ${REQUEST_LINE} }`, ...count, dimensions: { Api: "$.api" }, bound: apis },
        { metric: "Answers", pattern: `{ ${REQUEST_LINE} }`, ...count, dimensions: { Api: "$.api", Outcome: "$.outcome" }, bound: apis * OUTCOMES.length },
        { metric: "Latency", pattern: `{ ${REQUEST_LINE} }`, value: "$.ms", unit: "Milliseconds", dimensions: { Api: "$.api" }, bound: apis },
        { metric: "ConsumerRequests", pattern: `{ ${REQUEST_LINE} }`, ...count, dimensions: { Api: "$.api", Consumer: "$.consumer" }, bound: apis * consumers },
        {
            metric: "ConsumerRefusals",
            pattern: `{ ${REQUEST_LINE} && ${anyOf("outcome", CONSUMER_REFUSALS)} }`,
            ...count,
            dimensions: { Api: "$.api", Consumer: "$.consumer", Outcome: "$.outcome" },
            bound: apis * consumers * CONSUMER_REFUSALS.length,
        },
        {
            metric: "ConsumerLatency",
            pattern: `{ ${REQUEST_LINE} }`,
            value: "$.ms",
            unit: "Milliseconds",
            dimensions: { Api: "$.api", Consumer: "$.consumer" },
            bound: apis * consumers,
        },
        // Without dimensions, with a default of 0: the alarms see a quiet minute as 0, not as missing.
        { metric: "IntrospectionErrors", pattern: `{ ${REQUEST_LINE} && $.outcome = "unavailable" }`, ...count, defaultValue: "0", bound: 1 },
        {
            metric: "AuthorizationServer429s",
            pattern: `{ ${REQUEST_LINE} && $.outcome = "unavailable" && $.reason = "rate_limited" }`,
            ...count,
            defaultValue: "0",
            bound: 1,
        },
        ...(d.sharedStore
            ? [{ metric: "RateLimitFallbacks", pattern: `{ ${REQUEST_LINE} && $.limitStore = "fallback" }`, ...count, defaultValue: "0", bound: 1 }]
            : []),
    ];
    return { filters: all.filter((f) => f.bound <= METRIC_FILTER_DIMENSION_LIMIT), skipped: all.filter((f) => f.bound > METRIC_FILTER_DIMENSION_LIMIT) };
}

export interface AlarmThresholds {
    /** An API's 401s, as a percentage of its requests. */
    unauthorizedPercent: number;
    forbiddenPercent: number;
    tooManyRequestsPercent: number;
    /** Below this many requests a minute, an API's percentages raise no alarm. */
    minRequestsPerMinute: number;
    introspectionErrorsPerMinute: number;
    authorizationServer429sPerMinute: number;
}

type Query = {
    id: string;
    metric?: { metricName: string; dimensions?: Record<string, string>; stat: "Sum" };
    expression?: string;
    label?: string;
    returnData?: boolean;
};

export interface AlarmSpec {
    /** Unique among the gateway's alarms: the resource name's suffix. */
    key: string;
    description: string;
    threshold: number;
    comparison: "GreaterThanThreshold" | "GreaterThanOrEqualToThreshold";
    evaluationPeriods: number;
    datapointsToAlarm: number;
    queries: Query[];
    /** The runbook entry in docs/operations.md. */
    runbook: string;
}

const sum = (id: string, metricName: string, dimensions?: Record<string, string>): Query => ({
    id,
    metric: { metricName, ...(dimensions ? { dimensions } : {}), stat: "Sum" },
    returnData: false,
});

/** The alarms, per API and for the gateway, as metric queries on the filters' metrics. Pure. */
export function alarmSpecs(d: { apis: readonly string[]; sharedStore: boolean; thresholds: AlarmThresholds; runbook: string }): AlarmSpec[] {
    const t = d.thresholds;
    const surge = (api: string, kind: keyof typeof SURGE_OUTCOMES, percent: number, status: string, why: string): AlarmSpec => {
        const outcomes = SURGE_OUTCOMES[kind];
        const parts = outcomes.map((o, i) => sum(`o${i}`, "Answers", { Api: api, Outcome: o }));
        const refused = parts.map((p) => `FILL(${p.id}, 0)`).join(" + ");
        return {
            key: `${api}-${status}`,
            description: `policy-gateway API ${api}: ${status} answers above ${percent}% of its requests (at least ${t.minRequestsPerMinute} a minute), 3 minutes out of 5: ${why}. Runbook: ${d.runbook}#alarm-${status}`,
            threshold: percent,
            comparison: "GreaterThanThreshold",
            evaluationPeriods: 5,
            datapointsToAlarm: 3,
            queries: [
                sum("total", "Requests", { Api: api }),
                ...parts,
                {
                    id: "share",
                    // A quiet API's few refusals are no surge: below the minimum traffic, 0.
                    expression: `IF(FILL(total, 0) >= ${t.minRequestsPerMinute}, 100 * (${refused}) / total, 0)`,
                    label: `${status} (% of requests)`,
                    returnData: true,
                },
            ],
            runbook: `${d.runbook}#alarm-${status}`,
        };
    };
    const count = (
        key: string,
        metric: string,
        threshold: number,
        comparison: AlarmSpec["comparison"],
        periods: [number, number],
        description: string,
    ): AlarmSpec => ({
        key,
        description: `${description} Runbook: ${d.runbook}#alarm-${key}`,
        threshold,
        comparison,
        evaluationPeriods: periods[0],
        datapointsToAlarm: periods[1],
        queries: [{ ...sum("m", metric), returnData: true }],
        runbook: `${d.runbook}#alarm-${key}`,
    });
    const specs = [
        ...d.apis.flatMap((api) => [
            surge(
                api,
                "unauthorized",
                t.unauthorizedPercent,
                "401",
                "tokens refused as invalid, expired or revoked (a consumer's credential or token handling broke)",
            ),
            surge(
                api,
                "forbidden",
                t.forbiddenPercent,
                "403",
                "tokens without the scope a route needs, or clients the API does not list (a deploy changed scopes, rules or consumers)",
            ),
            surge(
                api,
                "tooManyRequests",
                t.tooManyRequestsPercent,
                "429",
                "consumers past their tier, their in-flight bound, or too many new tokens from one address",
            ),
        ]),
        count(
            "introspection-errors",
            "IntrospectionErrors",
            t.introspectionErrorsPerMinute,
            "GreaterThanThreshold",
            [5, 3],
            `policy-gateway: more than ${t.introspectionErrorsPerMinute} requests a minute answered 503 because their token could not be verified (authorization server unreachable, slow, failing or rate-limiting), 3 minutes out of 5.`,
        ),
        count(
            "authorization-server-429",
            "AuthorizationServer429s",
            t.authorizationServer429sPerMinute,
            "GreaterThanOrEqualToThreshold",
            [3, 2],
            `policy-gateway: the authorization server rate-limits introspection (Okta 429): at least ${t.authorizationServer429sPerMinute} request a minute answered 503 while the gateway backs off, 2 minutes out of 3.`,
        ),
        ...(d.sharedStore
            ? [
                  count(
                      "rate-limit-store",
                      "RateLimitFallbacks",
                      1,
                      "GreaterThanOrEqualToThreshold",
                      [3, 2],
                      "policy-gateway: the shared rate-limit store is not answering; each task holds its share of every limit (limit ÷ maxCapacity), 2 minutes out of 3.",
                  ),
              ]
            : []),
    ];
    for (const s of specs)
        if (s.queries.filter((q) => q.metric).length > ALARM_METRICS_LIMIT) throw new Error(`alarm ${s.key}: more than ${ALARM_METRICS_LIMIT} metrics`);
    return specs;
}

/** Widgets of one API's dashboard: its traffic by outcome, its refusal rates, latency, and the same by consumer. Pure. */
export function apiDashboardWidgets<R>(d: { api: string; namespace: string; region: R; thresholds: AlarmThresholds; declared: readonly string[] }) {
    const search = (dims: string, metric: string, stat: string, extra = "") =>
        `SEARCH('{${d.namespace},${dims}} MetricName="${metric}" Api="${d.api}"${extra}', '${stat}', 60)`;
    const widget = (x: number, y: number, title: string, metrics: unknown[][], extra: Record<string, unknown> = {}) => ({
        type: "metric",
        x,
        y,
        width: 12,
        height: 6,
        properties: { title, region: d.region, period: 60, view: "timeSeries", stacked: false, metrics, ...extra },
    });
    const shares = (Object.keys(SURGE_OUTCOMES) as (keyof typeof SURGE_OUTCOMES)[]).flatMap((kind, k) => {
        const ids = SURGE_OUTCOMES[kind].map((o, i) => {
            const id = `r${k}${i}`;
            return { id, row: [d.namespace, "Answers", "Api", d.api, "Outcome", o, { id, stat: "Sum", visible: false }] };
        });
        return [
            ...ids.map((x) => x.row),
            [{ expression: `100 * (${ids.map((x) => `FILL(${x.id}, 0)`).join(" + ")}) / total`, label: `${["401", "403", "429"][k]} %`, id: `share${k}` }],
        ];
    });
    return [
        widget(0, 0, `${d.api}: requests by outcome`, [[{ expression: search("Api,Outcome", "Answers", "Sum"), id: "byOutcome" }]]),
        widget(
            12,
            0,
            `${d.api}: 401, 403 and 429 (% of requests)`,
            [[d.namespace, "Requests", "Api", d.api, { id: "total", stat: "Sum", visible: false }], ...shares],
            {
                yAxis: { left: { min: 0, max: 100 } },
                annotations: {
                    horizontal: [
                        { label: "401 alarm", value: d.thresholds.unauthorizedPercent },
                        { label: "403 alarm", value: d.thresholds.forbiddenPercent },
                        { label: "429 alarm", value: d.thresholds.tooManyRequestsPercent },
                    ],
                },
            },
        ),
        widget(0, 6, `${d.api}: time in the gateway and the API (ms)`, [
            [d.namespace, "Latency", "Api", d.api, { stat: "p50" }],
            [d.namespace, "Latency", "Api", d.api, { stat: "p99" }],
        ]),
        // Per consumer: only the metrics the filters' bound let the stack declare.
        ...[
            { metric: "ConsumerRequests", title: "requests by consumer", dims: "Api,Consumer", stat: "Sum" },
            { metric: "ConsumerRefusals", title: "403 and 429 by consumer", dims: "Api,Consumer,Outcome", stat: "Sum" },
            { metric: "ConsumerLatency", title: "p99 by consumer (ms)", dims: "Api,Consumer", stat: "p99" },
        ]
            .filter((w) => d.declared.includes(w.metric))
            .map((w, i) =>
                widget(((i + 1) % 2) * 12, 6 + Math.ceil(i / 2) * 6, `${d.api}: ${w.title}`, [[{ expression: search(w.dims, w.metric, w.stat), id: `c${i}` }]]),
            ),
    ];
}

export interface GatewayTelemetryArgs {
    /** The task's log group, where the gateway's request lines are. */
    logGroupName: pulumi.Input<string>;
    /** The metrics' namespace: one per gateway, so that two stacks in one account never mix. */
    namespace: string;
    /** The declared APIs' names (`default` for a gateway of one API). */
    apis: readonly string[];
    /** The declared consumers' names. */
    consumers: readonly string[];
    /** The rate limits live in the shared store: its outage is alarmed on. */
    sharedStore: boolean;
    thresholds: AlarmThresholds;
    /** The SNS topic the alarms notify (and say OK to). */
    alarmTopicArn?: string;
    /** Dashboard names, each unique in the account. */
    dashboardName: (api: string) => string;
    region: pulumi.Input<string>;
}

/** Where the runbook entries live: docs/operations.md, as the repository publishes it. */
export const RUNBOOK = "docs/operations.md";

/**
 * The request lines as CloudWatch metrics, a dashboard per API and the alarms on them: metric
 * filters on the log group (values bounded by the declarations), then MetricAlarms on metric
 * math over them, notifying the stack's topic.
 */
export class GatewayTelemetry extends pulumi.ComponentResource {
    /** API name → its dashboard's name. */
    public readonly dashboards: pulumi.Output<Record<string, string>>;
    /** The metric filters declared (their metric names). */
    public readonly metrics: string[];

    constructor(name: string, args: GatewayTelemetryArgs, opts?: pulumi.ComponentResourceOptions) {
        super("okta-api-gateway:gateway:GatewayTelemetry", name, {}, opts);
        const parent = { parent: this };
        const { filters, skipped } = metricFilters({ apis: args.apis, consumers: args.consumers, sharedStore: args.sharedStore });
        for (const f of skipped)
            void pulumi.log.warn(
                `CloudWatch metric ${f.metric} is not declared: its dimensions could take ${f.bound} values (${args.apis.length} APIs, ${args.consumers.length} consumers), and CloudWatch Logs disables a metric filter past ${METRIC_FILTER_DIMENSION_LIMIT}; read it from the gateway's /metrics (Prometheus) or with Logs Insights (docs/operations.md)`,
                this,
            );
        const declared = filters.map(
            (f) =>
                new aws.cloudwatch.LogMetricFilter(
                    `${name}-${f.metric}`,
                    {
                        name: f.metric,
                        logGroupName: args.logGroupName,
                        pattern: f.pattern,
                        metricTransformation: {
                            name: f.metric,
                            namespace: args.namespace,
                            value: f.value,
                            unit: f.unit,
                            ...(f.dimensions ? { dimensions: f.dimensions } : {}),
                            ...(f.defaultValue !== undefined ? { defaultValue: f.defaultValue } : {}),
                        },
                    },
                    parent,
                ),
        );
        const actions = args.alarmTopicArn ? { alarmActions: [args.alarmTopicArn], okActions: [args.alarmTopicArn] } : {};
        for (const a of alarmSpecs({ apis: args.apis, sharedStore: args.sharedStore, thresholds: args.thresholds, runbook: RUNBOOK }))
            new aws.cloudwatch.MetricAlarm(
                `${name}-alarm-${a.key}`,
                {
                    alarmDescription: a.description,
                    comparisonOperator: a.comparison,
                    threshold: a.threshold,
                    evaluationPeriods: a.evaluationPeriods,
                    datapointsToAlarm: a.datapointsToAlarm,
                    metricQueries: a.queries.map((q) => ({
                        id: q.id,
                        ...(q.expression ? { expression: q.expression, label: q.label } : {}),
                        ...(q.metric ? { metric: { namespace: args.namespace, period: 60, ...q.metric } } : {}),
                        returnData: q.returnData ?? false,
                    })),
                    treatMissingData: "notBreaching",
                    ...actions,
                },
                // A filter must exist before an alarm reads its metric.
                { ...parent, dependsOn: declared },
            );
        const declaredMetrics = filters.map((f) => f.metric);
        const dashboards = args.apis.map(
            (api) =>
                [
                    api,
                    new aws.cloudwatch.Dashboard(
                        `${name}-dashboard-${api}`,
                        {
                            dashboardName: args.dashboardName(api),
                            dashboardBody: pulumi.jsonStringify({
                                widgets: apiDashboardWidgets({
                                    api,
                                    namespace: args.namespace,
                                    region: args.region,
                                    thresholds: args.thresholds,
                                    declared: declaredMetrics,
                                }),
                            }),
                        },
                        parent,
                    ),
                ] as const,
        );
        this.dashboards = pulumi.all(Object.fromEntries(dashboards.map(([api, d]) => [api, d.dashboardName])));
        this.metrics = declaredMetrics;
        this.registerOutputs({ dashboards: this.dashboards });
    }
}
