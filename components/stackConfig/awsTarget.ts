// `gateway.aws`: the AWS target's keys, defaulted first, then checked on the values that will
// deploy (a rule that re-guessed a default once let `cpu: 2048` through with the 1024 MiB the task
// was then declared with, a pair Fargate refuses). Pure.
import type { z } from "zod";
import { fargateMemoryChoices, FARGATE_TASK_SIZES, isPrivateCidr, type gatewaySchema } from "./schema";
import type { AwsGatewaySpec } from "./spec";

type RawAwsGateway = NonNullable<z.infer<typeof gatewaySchema>["aws"]>;

const DEFAULT_CPU = 512;

/** The task's memory when none is given: the smallest Fargate allows with its CPU, and at least 1 GiB. */
export function defaultMemory(cpu: number): number {
    return Math.max(1024, FARGATE_TASK_SIZES[cpu]?.min ?? 1024);
}

/** The AWS target's settings with their defaults. */
export function awsGatewaySpec(aws: Partial<RawAwsGateway>): AwsGatewaySpec {
    const allowedCidrs = aws.allowedCidrs ?? ["0.0.0.0/0"];
    const cpu = aws.cpu ?? DEFAULT_CPU;
    return {
        vpcId: aws.vpcId,
        loadBalancerSubnetIds: aws.loadBalancerSubnetIds,
        taskSubnetIds: aws.taskSubnetIds,
        internal: aws.internal ?? allowedCidrs.every(isPrivateCidr),
        domainName: aws.domainName,
        hostedZoneId: aws.hostedZoneId,
        certificateArn: aws.certificateArn,
        allowedCidrs,
        // The default VPC has public subnets only: tasks there need a public address to reach ECR,
        // Secrets Manager and Okta. In a VPC of yours, private task subnets reach them through NAT.
        assignPublicIp: aws.assignPublicIp ?? aws.vpcId === undefined,
        deploymentTimeoutMinutes: aws.deploymentTimeoutMinutes ?? 20,
        alarmTopicArn: aws.alarmTopicArn,
        alarms: {
            targetResponseTimeP99Seconds: aws.alarms?.targetResponseTimeP99Seconds ?? 1,
            http5xxPerMinute: aws.alarms?.http5xxPerMinute ?? 10,
            cpuPercent: aws.alarms?.cpuPercent ?? 85,
            // docs/operations.md, "Alarms and runbook", says why each default.
            unauthorizedPercent: aws.alarms?.unauthorizedPercent ?? 20,
            forbiddenPercent: aws.alarms?.forbiddenPercent ?? 10,
            tooManyRequestsPercent: aws.alarms?.tooManyRequestsPercent ?? 10,
            minRequestsPerMinute: aws.alarms?.minRequestsPerMinute ?? 20,
            introspectionErrorsPerMinute: aws.alarms?.introspectionErrorsPerMinute ?? 5,
            authorizationServer429sPerMinute: aws.alarms?.authorizationServer429sPerMinute ?? 1,
        },
        minCapacity: aws.minCapacity ?? 2,
        maxCapacity: aws.maxCapacity ?? 6,
        targetCpuPercent: aws.targetCpuPercent ?? 60,
        cpu,
        memory: aws.memory ?? defaultMemory(cpu),
        cpuArchitecture: aws.cpuArchitecture ?? "X86_64",
        rateLimitStoreNodeType: aws.rateLimitStoreNodeType ?? "cache.t4g.micro",
        logRetentionDays: aws.logRetentionDays ?? 30,
    };
}

/** Rules across the AWS target's keys, on the defaulted spec; each problem names the key to change. */
export function awsGatewayProblems(spec: AwsGatewaySpec, at: string): string[] {
    const problems: string[] = [];
    const inVpc = spec.vpcId !== undefined;
    for (const list of ["loadBalancerSubnetIds", "taskSubnetIds"] as const) {
        if (inVpc && !spec[list])
            problems.push(
                `${at}.${list}: is required with vpcId (${list === "loadBalancerSubnetIds" ? "public subnets for an internet-facing load balancer, private ones for an internal one" : "private subnets with a NAT gateway or VPC endpoints, or public ones with assignPublicIp"})`,
            );
        if (!inVpc && spec[list]) problems.push(`${at}.vpcId: is required with ${list}`);
    }
    // An internet-facing load balancer sees its clients by their public addresses: allowing only
    // private ranges would let nobody in (AWS: "Internet-facing and internal Application Load
    // Balancers", Elastic Load Balancing User Guide).
    if (!spec.internal && spec.allowedCidrs.every(isPrivateCidr)) {
        problems.push(
            `${at}.internal: false makes the load balancer internet-facing, but allowedCidrs lists only private ranges, which an internet-facing load balancer never sees; set internal: true (the default for private ranges) or allow the clients' public addresses`,
        );
    }
    if (spec.hostedZoneId && !spec.domainName) problems.push(`${at}.domainName: is required with hostedZoneId (the name the alias record gets)`);
    if (spec.domainName && !spec.hostedZoneId)
        problems.push(
            `${at}.hostedZoneId: is required with domainName: the Route 53 zone that holds ${spec.domainName} (its alias record, and the certificate's DNS validation when no certificateArn is given)`,
        );
    if (spec.certificateArn && !spec.domainName)
        problems.push(
            `${at}.domainName: is required with certificateArn: the load balancer's own *.elb.amazonaws.com name is covered by no certificate of yours`,
        );
    if (spec.minCapacity > spec.maxCapacity)
        problems.push(
            `${at}.minCapacity: ${spec.minCapacity} must not exceed maxCapacity (${spec.maxCapacity}${spec.maxCapacity === 6 ? ", the default" : ""})`,
        );
    const choices = fargateMemoryChoices(spec.cpu);
    if (choices.length && !choices.includes(spec.memory)) {
        const size = FARGATE_TASK_SIZES[spec.cpu];
        problems.push(
            `${at}.memory: ${spec.memory} MiB is not valid with ${spec.cpu} CPU units on Fargate, which allows ` +
                (choices.length <= 8 ? choices.join(", ") : `${size.min} to ${size.max} in steps of ${size.step}`) +
                " MiB; set memory to one of them (or leave it out for the smallest)",
        );
    }
    return problems;
}
