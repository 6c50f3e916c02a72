import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { GATEWAY_ADMIN_PORT, GATEWAY_PORT } from "./gatewayEnvironment";
import { GatewayImage } from "./gatewayImage";
import type { GatewaySpec } from "./stackConfig";

export interface AwsGatewayArgs {
    /** Non-secret environment (see gatewayEnvironment). */
    environment: pulumi.Input<Record<string, string>>;
    /** Goes only into Secrets Manager, and reaches the task through `secrets[].valueFrom`. */
    introspectionClientSecret: pulumi.Input<string>;
    settings: GatewaySpec["aws"];
}

/** The ECS task execution role's trust policy. */
const ECS_TASKS_TRUST = JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: "ecs-tasks.amazonaws.com" }, Action: "sts:AssumeRole" }],
});

/**
 * The gateway on ECS Fargate behind an application load balancer, in an existing VPC (or the
 * account's default VPC): image in ECR, secret in Secrets Manager, logs in CloudWatch, target
 * tracking auto scaling, and a deployment circuit breaker that rolls back.
 */
export class AwsGateway extends pulumi.ComponentResource {
    public readonly url: pulumi.Output<string>;
    public readonly imageRef: pulumi.Output<string>;

    constructor(name: string, args: AwsGatewayArgs, opts?: pulumi.ComponentResourceOptions) {
        super("okta-api-gateway:gateway:AwsGateway", name, {}, opts);
        const s = args.settings;
        const parent = { parent: this };

        // --- Image: ECR (scanned on push, immutable tags), pushed with a short-lived token.
        const repo = new aws.ecr.Repository(`${name}-repo`, { imageScanningConfiguration: { scanOnPush: true }, imageTagMutability: "IMMUTABLE" }, parent);
        new aws.ecr.LifecyclePolicy(`${name}-repo-lifecycle`, {
            repository: repo.name,
            policy: JSON.stringify({ rules: [{ rulePriority: 1, description: "keep the last 20 images", selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: 20 }, action: { type: "expire" } }] }),
        }, parent);
        const token = aws.ecr.getAuthorizationTokenOutput({ registryId: repo.registryId }, parent);
        const image = new GatewayImage(`${name}-image`, {
            repository: repo.repositoryUrl,
            registry: { server: repo.repositoryUrl, username: token.userName, password: token.password },
        }, parent);

        // --- The introspection client secret, in Secrets Manager only.
        const secret = new aws.secretsmanager.Secret(`${name}-introspection-secret`, { description: "policy-gateway: Okta token introspection client secret", recoveryWindowInDays: 7 }, parent);
        const secretVersion = new aws.secretsmanager.SecretVersion(`${name}-introspection-secret-version`, { secretId: secret.id, secretString: pulumi.secret(args.introspectionClientSecret) }, parent);

        // --- Network: an existing VPC and subnets, or the default VPC. This component builds none.
        const vpcId = s.vpcId ? pulumi.output(s.vpcId) : aws.ec2.getVpcOutput({ default: true }, parent).id;
        const subnetIds = s.subnetIds ? pulumi.output(s.subnetIds) : aws.ec2.getSubnetsOutput({ filters: [{ name: "vpc-id", values: [vpcId] }] }, parent).ids;

        const albSg = new aws.ec2.SecurityGroup(`${name}-alb-sg`, { vpcId, description: "policy-gateway load balancer" }, parent);
        const taskSg = new aws.ec2.SecurityGroup(`${name}-task-sg`, { vpcId, description: "policy-gateway tasks: reachable from the load balancer only" }, parent);
        const listenerPort = s.certificateArn ? 443 : 80;
        const clientPorts = s.certificateArn ? [443, 80] : [80];
        s.allowedCidrs.forEach((cidr, i) =>
            clientPorts.forEach((p) =>
                new aws.vpc.SecurityGroupIngressRule(`${name}-alb-in-${p}-${i}`, { securityGroupId: albSg.id, ipProtocol: "tcp", fromPort: p, toPort: p, cidrIpv4: cidr }, parent),
            ),
        );
        for (const p of [GATEWAY_PORT, GATEWAY_ADMIN_PORT]) {
            new aws.vpc.SecurityGroupIngressRule(`${name}-task-in-${p}`, { securityGroupId: taskSg.id, ipProtocol: "tcp", fromPort: p, toPort: p, referencedSecurityGroupId: albSg.id }, parent);
            new aws.vpc.SecurityGroupEgressRule(`${name}-alb-out-${p}`, { securityGroupId: albSg.id, ipProtocol: "tcp", fromPort: p, toPort: p, referencedSecurityGroupId: taskSg.id }, parent);
        }
        // Tasks call Okta, the upstream, ECR and Secrets Manager over HTTPS (and the upstream maybe over HTTP).
        new aws.vpc.SecurityGroupEgressRule(`${name}-task-out`, { securityGroupId: taskSg.id, ipProtocol: "-1", cidrIpv4: "0.0.0.0/0" }, parent);

        // --- Load balancer: HTTPS when a certificate is configured (and HTTP redirects to it).
        const alb = new aws.lb.LoadBalancer(`${name}-alb`, { loadBalancerType: "application", securityGroups: [albSg.id], subnets: subnetIds, dropInvalidHeaderFields: true }, parent);
        const targetGroup = new aws.lb.TargetGroup(`${name}-tg`, {
            port: GATEWAY_PORT,
            protocol: "HTTP",
            targetType: "ip",
            vpcId,
            deregistrationDelay: 30,
            healthCheck: { path: "/healthz", port: String(GATEWAY_ADMIN_PORT), matcher: "200", interval: 15, healthyThreshold: 2, unhealthyThreshold: 3 },
        }, parent);
        const listener = new aws.lb.Listener(`${name}-listener`, {
            loadBalancerArn: alb.arn,
            port: listenerPort,
            protocol: s.certificateArn ? "HTTPS" : "HTTP",
            certificateArn: s.certificateArn,
            sslPolicy: s.certificateArn ? "ELBSecurityPolicy-TLS13-1-2-2021-06" : undefined,
            defaultActions: [{ type: "forward", targetGroupArn: targetGroup.arn }],
        }, parent);
        if (s.certificateArn) {
            new aws.lb.Listener(`${name}-http-redirect`, {
                loadBalancerArn: alb.arn,
                port: 80,
                protocol: "HTTP",
                defaultActions: [{ type: "redirect", redirect: { port: "443", protocol: "HTTPS", statusCode: "HTTP_301" } }],
            }, parent);
        }

        // --- Roles: the execution role may read this one secret and nothing else; the task role may do nothing.
        const executionRole = new aws.iam.Role(`${name}-execution-role`, { assumeRolePolicy: ECS_TASKS_TRUST }, parent);
        new aws.iam.RolePolicyAttachment(`${name}-execution-role-ecs`, { role: executionRole.name, policyArn: aws.iam.ManagedPolicy.AmazonECSTaskExecutionRolePolicy }, parent);
        new aws.iam.RolePolicy(`${name}-execution-role-secret`, {
            role: executionRole.id,
            policy: pulumi.jsonStringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [secret.arn] }] }),
        }, parent);
        const taskRole = new aws.iam.Role(`${name}-task-role`, { assumeRolePolicy: ECS_TASKS_TRUST }, parent);

        const logGroup = new aws.cloudwatch.LogGroup(`${name}-logs`, { retentionInDays: s.logRetentionDays }, parent);
        const region = aws.getRegionOutput({}, parent).region;

        const cluster = new aws.ecs.Cluster(`${name}-cluster`, { settings: [{ name: "containerInsights", value: "enabled" }] }, parent);
        const taskDefinition = new aws.ecs.TaskDefinition(`${name}-task`, {
            family: `${name}-${pulumi.getStack()}`,
            cpu: String(s.cpu),
            memory: String(s.memory),
            networkMode: "awsvpc",
            requiresCompatibilities: ["FARGATE"],
            runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: "X86_64" },
            executionRoleArn: executionRole.arn,
            taskRoleArn: taskRole.arn,
            containerDefinitions: pulumi.jsonStringify([
                {
                    name: "policy-gateway",
                    image: image.ref,
                    essential: true,
                    user: "1000",
                    readonlyRootFilesystem: true,
                    portMappings: [{ containerPort: GATEWAY_PORT, protocol: "tcp" }, { containerPort: GATEWAY_ADMIN_PORT, protocol: "tcp" }],
                    environment: pulumi.output(args.environment).apply((env) => Object.entries(env).map(([name, value]) => ({ name, value }))),
                    secrets: [{ name: "INTROSPECTION_CLIENT_SECRET", valueFrom: secret.arn }],
                    logConfiguration: { logDriver: "awslogs", options: { "awslogs-group": logGroup.name, "awslogs-region": region, "awslogs-stream-prefix": "gateway" } },
                    healthCheck: {
                        command: ["CMD", "node", "-e", `fetch('http://127.0.0.1:${GATEWAY_ADMIN_PORT}/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))`],
                        interval: 10,
                        timeout: 3,
                        retries: 3,
                        startPeriod: 15,
                    },
                    stopTimeout: 30,
                },
            ]),
        }, parent);

        const service = new aws.ecs.Service(`${name}-service`, {
            cluster: cluster.arn,
            taskDefinition: taskDefinition.arn,
            desiredCount: s.minCapacity,
            launchType: "FARGATE",
            networkConfiguration: { subnets: subnetIds, securityGroups: [taskSg.id], assignPublicIp: s.assignPublicIp },
            loadBalancers: [{ targetGroupArn: targetGroup.arn, containerName: "policy-gateway", containerPort: GATEWAY_PORT }],
            healthCheckGracePeriodSeconds: 30,
            deploymentCircuitBreaker: { enable: true, rollback: true },
            deploymentMinimumHealthyPercent: 100,
            deploymentMaximumPercent: 200,
            propagateTags: "SERVICE",
            // Tasks read secrets only when they start: a new secret version must start new tasks.
            forceNewDeployment: true,
            triggers: { introspectionSecretVersion: secretVersion.versionId },
        }, { parent: this, dependsOn: [listener], ignoreChanges: ["desiredCount"] });

        const scaling = new aws.appautoscaling.Target(`${name}-scaling`, {
            minCapacity: s.minCapacity,
            maxCapacity: s.maxCapacity,
            resourceId: pulumi.interpolate`service/${cluster.name}/${service.name}`,
            scalableDimension: "ecs:service:DesiredCount",
            serviceNamespace: "ecs",
        }, parent);
        new aws.appautoscaling.Policy(`${name}-scaling-cpu`, {
            policyType: "TargetTrackingScaling",
            resourceId: scaling.resourceId,
            scalableDimension: scaling.scalableDimension,
            serviceNamespace: scaling.serviceNamespace,
            targetTrackingScalingPolicyConfiguration: {
                predefinedMetricSpecification: { predefinedMetricType: "ECSServiceAverageCPUUtilization" },
                targetValue: s.targetCpuPercent,
                scaleInCooldown: 120,
                scaleOutCooldown: 30,
            },
        }, parent);

        this.url = pulumi.interpolate`${s.certificateArn ? "https" : "http"}://${alb.dnsName}`;
        this.imageRef = image.ref;
        this.registerOutputs({ url: this.url, imageRef: this.imageRef });
    }
}
