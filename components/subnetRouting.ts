// Whether the configured subnets can carry what the AWS target puts in them: an internet-facing
// load balancer needs subnets routed to an internet gateway (public subnets), and tasks need a
// way out to ECR, Secrets Manager and Okta: a NAT gateway (private subnets), or an internet
// gateway together with public addresses (assignPublicIp). A load balancer its clients cannot
// reach, or tasks that can never start, are otherwise found only after `pulumi up`.
// ("Public and private subnets", Amazon VPC User Guide; "Amazon ECS task networking for Fargate":
// a task in a public subnet needs a public IP to pull images.)
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** Where a subnet's default route (0.0.0.0/0) leads. */
export type DefaultRoute = "internet-gateway" | "nat-gateway" | "other" | "none";

export function defaultRouteOf(
    routes: {
        cidrBlock?: string;
        gatewayId?: string;
        natGatewayId?: string;
        transitGatewayId?: string;
        networkInterfaceId?: string;
        vpcPeeringConnectionId?: string;
        instanceId?: string;
    }[],
): DefaultRoute {
    const route = routes.find((r) => r.cidrBlock === "0.0.0.0/0");
    if (!route) return "none";
    if (route.gatewayId?.startsWith("igw-")) return "internet-gateway";
    if (route.natGatewayId) return "nat-gateway";
    return "other"; // a transit gateway, a firewall appliance…: egress the network team provides
}

export interface RoutingSettings {
    internal: boolean;
    assignPublicIp: boolean;
    /** The rate-limit store is Multi-AZ (production with a shared store): its subnets, the tasks', must span two zones. */
    multiAzStore?: boolean;
}

/**
 * Problems with the subnets' Availability Zones, each naming the key to change. Pure.
 * An Application Load Balancer needs subnets in at least two zones (Elastic Load Balancing API
 * Reference, CreateLoadBalancer `Subnets`: "[Application Load Balancers] You must specify subnets
 * from at least two Availability Zones"); a Multi-AZ ElastiCache replication group places its
 * replica in another zone than its primary, so its subnet group (the task subnets) must span two
 * (ElastiCache User Guide, "Minimizing downtime with Multi-AZ").
 */
export function zoneProblems(at: string, s: RoutingSettings, loadBalancer: Record<string, string>, tasks: Record<string, string>): string[] {
    const problems: string[] = [];
    const zones = (m: Record<string, string>) => [...new Set(Object.values(m))].sort();
    const lb = zones(loadBalancer);
    if (lb.length < 2)
        problems.push(
            `${at}.loadBalancerSubnetIds: ${Object.keys(loadBalancer).join(", ")} lie in ${lb.join(", ") || "no zone"} only; a load balancer needs subnets in at least two Availability Zones`,
        );
    const t = zones(tasks);
    if (s.multiAzStore && t.length < 2)
        problems.push(
            `${at}.taskSubnetIds: ${Object.keys(tasks).join(", ")} lie in ${t.join(", ") || "no zone"} only; the production rate-limit store is Multi-AZ and lives in these subnets, so they must span at least two Availability Zones`,
        );
    return problems;
}

/** Each subnet's Availability Zone (DescribeSubnets). */
async function zonesOf(subnetIds: string[], opts: pulumi.InvokeOptions): Promise<Record<string, string>> {
    const entries = await Promise.all(subnetIds.map(async (id) => [id, (await aws.ec2.getSubnet({ id }, opts)).availabilityZone] as const));
    return Object.fromEntries(entries);
}

/** Problems with the subnets' routing, each naming the key to change. Pure. */
export function routingProblems(at: string, s: RoutingSettings, loadBalancer: Record<string, DefaultRoute>, tasks: Record<string, DefaultRoute>): string[] {
    const problems: string[] = [];
    if (!s.internal) {
        const unreachable = Object.entries(loadBalancer)
            .filter(([, r]) => r !== "internet-gateway")
            .map(([id]) => id);
        if (unreachable.length) {
            problems.push(
                `${at}.loadBalancerSubnetIds: ${unreachable.join(", ")} ha${unreachable.length > 1 ? "ve" : "s"} no default route to an internet gateway, ` +
                    "so an internet-facing load balancer there is unreachable; use public subnets, or set internal: true for clients inside your network",
            );
        }
    }
    for (const [id, route] of Object.entries(tasks)) {
        if (route === "internet-gateway" && !s.assignPublicIp) {
            problems.push(
                `${at}.taskSubnetIds: ${id} is a public subnet (default route to an internet gateway) and the tasks get no public address (assignPublicIp: false), ` +
                    "so they cannot pull the image, read the secret or reach Okta; use private subnets with a NAT gateway, or set assignPublicIp: true",
            );
        }
        if (route === "none") {
            problems.push(
                `${at}.taskSubnetIds: ${id} has no default route, so the tasks cannot reach Okta (nor ECR without VPC endpoints); use private subnets with a NAT gateway`,
            );
        }
    }
    return problems;
}

/**
 * The default route of each subnet, from its route table: the one associated with it, or the
 * VPC's main route table for a subnet with no explicit association (DescribeRouteTables
 * filters `association.subnet-id` and `association.main`).
 */
async function defaultRoutes(vpcId: string, subnetIds: string[], opts: pulumi.InvokeOptions): Promise<Record<string, DefaultRoute>> {
    const entries = await Promise.all(
        subnetIds.map(async (subnetId) => {
            const explicit = await aws.ec2.getRouteTables({ vpcId, filters: [{ name: "association.subnet-id", values: [subnetId] }] }, opts);
            const table = explicit.ids.length
                ? await aws.ec2.getRouteTable({ routeTableId: explicit.ids[0] }, opts)
                : await aws.ec2.getRouteTable({ vpcId, filters: [{ name: "association.main", values: ["true"] }] }, opts);
            return [subnetId, defaultRouteOf(table.routes)] as const;
        }),
    );
    return Object.fromEntries(entries);
}

/**
 * The subnet lists, released only once their routing fits the settings: the load balancer and
 * the service take their subnets from here, so a misrouted network stops the preview with the
 * problem and the key, before either is written.
 */
export function checkedSubnets(
    at: string,
    s: RoutingSettings,
    vpcId: pulumi.Output<string>,
    loadBalancerSubnetIds: pulumi.Output<string[]>,
    taskSubnetIds: pulumi.Output<string[]>,
    opts: pulumi.InvokeOptions,
): { loadBalancerSubnetIds: pulumi.Output<string[]>; taskSubnetIds: pulumi.Output<string[]> } {
    const checked = pulumi.all([vpcId, loadBalancerSubnetIds, taskSubnetIds]).apply(async ([vpc, lb, tasks]) => {
        const [lbRoutes, taskRoutes, lbZones, taskZones] = await Promise.all([
            defaultRoutes(vpc, lb, opts),
            defaultRoutes(vpc, tasks, opts),
            zonesOf(lb, opts),
            zonesOf(tasks, opts),
        ]);
        const problems = [...routingProblems(at, s, lbRoutes, taskRoutes), ...zoneProblems(at, s, lbZones, taskZones)];
        if (problems.length) throw new Error(`The gateway's subnets cannot work as configured:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
        return { lb, tasks };
    });
    return { loadBalancerSubnetIds: checked.apply((c) => c.lb), taskSubnetIds: checked.apply((c) => c.tasks) };
}
