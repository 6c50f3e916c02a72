import * as aws from "@pulumi/aws";
import { GatewayTelemetry } from "./gatewayTelemetry";
import { DEFAULT_API } from "../policy-gateway/src/config/settings";
import * as pulumi from "@pulumi/pulumi";
import type { GatewayEnvironment } from "../policy-gateway/src/config/load";
import { ADMIN_PATHS, HEALTH_CHECK, healthCheckCommand, PORTS } from "../policy-gateway/src/config/contract";
import type { IntrospectionCredential } from "./deployGateway";
import { deployedSettings, gatewayEnvironment, type OktaWiring } from "./gatewayEnvironment";
import { GatewayImage } from "./gatewayImage";
import type { AwsGatewaySpec, GatewaySpec } from "./stackConfig/index";
import { checkedSubnets } from "./subnetRouting";

export interface AwsGatewayArgs {
    /**
     * The stack's gateway (target aws): its settings, its `aws` keys, and its per-consumer limits
     * (with store `shared`, the stack declares the ElastiCache (Valkey) store they share).
     */
    gateway: GatewaySpec;
    /** What Okta created: issuer, audience, the introspection client's id, each limited consumer's client id. */
    okta: pulumi.Input<OktaWiring>;
    /** The introspection client's private key or secret (none in jwt mode): only in Secrets Manager, reaching the task through `secrets[].valueFrom`. */
    introspectionCredential?: IntrospectionCredential;
    /** The introspection client's keys in KMS (instead of a private key): the task role may sign with these, and only these. */
    signingKeyArns?: pulumi.Input<string>[];
    /** A production stack: the image repository keeps its images on destroy, the store is Multi-AZ. */
    production: boolean;
    /** Base image for the gateway image, pinned by digest (default: policy-gateway/base-image/Dockerfile's). */
    baseImage?: string;
    /** The declared consumers' names: the values the CloudWatch metrics' `Consumer` dimension can take. */
    consumerNames: string[];
}

const CONTAINER_NAME = "policy-gateway";

/**
 * The trust policy of the tasks' roles: ECS tasks may assume them only for this account and
 * region (confused-deputy prevention with aws:SourceAccount and aws:SourceArn: Amazon ECS
 * Developer Guide, "Amazon ECS task execution IAM role" and "Task IAM role"). Pure.
 */
export function ecsTasksTrust(account: string, partition: string, region: string) {
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Effect: "Allow",
                Principal: { Service: "ecs-tasks.amazonaws.com" },
                Action: "sts:AssumeRole",
                Condition: {
                    StringEquals: { "aws:SourceAccount": account },
                    ArnLike: { "aws:SourceArn": `arn:${partition}:ecs:${region}:${account}:*` },
                },
            },
        ],
    };
}

/**
 * What the execution role may do, and on what: pull this repository's image, write to this log
 * group, read this one secret. In place of the AWS managed AmazonECSTaskExecutionRolePolicy, whose
 * statements name every repository and log group (`Resource: "*"`), and whose ARN is fixed to the
 * `aws` partition. ecr:GetAuthorizationToken takes no resource (it has no resource-level
 * permissions: Amazon ECR User Guide, "Private repository policies"). Pure.
 */
export function executionRolePolicy(w: { repositoryArn: string; logGroupArn: string; secretArn?: string }) {
    return {
        Version: "2012-10-17",
        Statement: [
            { Sid: "EcrLogin", Effect: "Allow", Action: ["ecr:GetAuthorizationToken"], Resource: "*" },
            {
                Sid: "PullsItsImage",
                Effect: "Allow",
                Action: ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"],
                Resource: [w.repositoryArn],
            },
            { Sid: "WritesItsLogs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: [`${w.logGroupArn}:*`] },
            ...(w.secretArn ? [{ Sid: "ReadsItsSecret", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [w.secretArn] }] : []),
        ],
    };
}

/**
 * What the task role may do: sign with the introspection client's KMS keys, with RS256 only
 * (`kms:SigningAlgorithm` condition key, AWS KMS Developer Guide, "AWS KMS condition keys"), and
 * nothing else. Every listed key, not only the newest: during a rotation's rollout the old tasks
 * still sign with the old key. Undefined without keys: the task role may do nothing. Pure.
 */
export function taskRolePolicy(signingKeyArns: string[]) {
    if (signingKeyArns.length === 0) return undefined;
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "SignsIntrospectionAssertions",
                Effect: "Allow",
                Action: ["kms:Sign"],
                Resource: signingKeyArns,
                Condition: { StringEquals: { "kms:SigningAlgorithm": "RSASSA_PKCS1_V1_5_SHA_256" } },
            },
        ],
    };
}

type Parent = { parent: pulumi.Resource };

/**
 * A name that is unique in the account, for what AWS names by a fixed string (the task
 * definition's family, the dashboard): project, stack and component, so that two projects with a
 * `prod` stack in one account never share a family's revisions or overwrite each other's dashboard.
 * Letters, digits, `-` and `_` (what both accept; CloudWatch PutDashboard, ECS RegisterTaskDefinition).
 */
export function accountUniqueName(component: string, project = pulumi.getProject(), stack = pulumi.getStack()): string {
    return `${project}-${stack}-${component}`.replace(/[^A-Za-z0-9_-]/g, "-").slice(0, 255);
}

/**
 * The gateway on ECS Fargate behind an application load balancer, in an existing VPC (or the
 * account's default VPC): image in ECR, secret in Secrets Manager, logs, alarms and a dashboard
 * in CloudWatch, target tracking auto scaling, and a deployment that `pulumi up` waits for and
 * that rolls back when the new tasks never become ready.
 */
export class AwsGateway extends pulumi.ComponentResource {
    public readonly url: pulumi.Output<string>;
    public readonly imageRef: pulumi.Output<string>;
    public readonly dashboardName: pulumi.Output<string>;
    /** API name → its CloudWatch dashboard. */
    public readonly apiDashboards: pulumi.Output<Record<string, string>>;

    constructor(name: string, args: AwsGatewayArgs, opts?: pulumi.ComponentResourceOptions) {
        super("okta-api-gateway:gateway:AwsGateway", name, {}, opts);
        const parent = { parent: this };
        const s = args.gateway.aws;

        const { image, repositoryArn } = gatewayImage(name, args, parent);
        // In production, what holds state or a name others rely on is protected: a destroy or a
        // replacement of any of it is refused until the protection is lifted on purpose.
        const secret = args.introspectionCredential && introspectionSecret(name, args.introspectionCredential, { ...parent, protect: args.production });
        const storeMultiAz = args.production && args.gateway.rateLimits?.store === "shared";
        const net = network(name, { ...s, multiAzStore: storeMultiAz }, parent);
        const lb = loadBalancer(name, s, net, parent, args.production);
        const storeUrl = args.gateway.rateLimits?.store === "shared" ? rateLimitStore(name, s, net, args.production, parent) : undefined;
        // The load balancer's part (the VPC it takes addresses in, the store, the task count) is
        // added to the settings by deployedSettings, as the stack validated them.
        const environment = pulumi.all([args.okta, net.loadBalancerCidrs, storeUrl]).apply(([okta, proxyCidrs, url]): GatewayEnvironment => ({
            ...gatewayEnvironment(deployedSettings(args.gateway, okta, { proxyCidrs, storeUrl: url })),
            // One worker per whole vCPU of the task (Fargate CPU units: 1024 per vCPU), at least one.
            WORKERS: String(Math.max(1, Math.floor(s.cpu / 1024))),
        }));
        const svc = service(
            name,
            s,
            { image: image.taggedRef, repositoryArn, environment, secret, signingKeyArns: args.signingKeyArns ?? [], net, lb, production: args.production },
            parent,
        );
        scaling(name, s, svc, parent);
        const dashboardName = monitoring(name, s, lb, svc, parent);
        // The gateway's own metrics (by API, consumer and outcome), their dashboards and alarms.
        const telemetry = new GatewayTelemetry(
            `${name}-telemetry`,
            {
                logGroupName: svc.logGroup.name,
                namespace: `PolicyGateway/${accountUniqueName(name)}`,
                apis: (args.gateway.settings.apis ?? [{ name: DEFAULT_API }]).map((a) => a.name),
                consumers: args.consumerNames,
                sharedStore: args.gateway.rateLimits?.store === "shared",
                thresholds: s.alarms,
                alarmTopicArn: s.alarmTopicArn,
                dashboardName: (api) => accountUniqueName(`${name}-${api}`),
                region: aws.getRegionOutput({}, parent).region,
            },
            parent,
        );

        this.url = lb.url;
        this.imageRef = image.ref;
        this.dashboardName = dashboardName;
        this.apiDashboards = telemetry.dashboards;
        this.registerOutputs({ url: this.url, imageRef: this.imageRef, dashboardName, apiDashboards: this.apiDashboards });
    }
}

/**
 * The shared rate-limit store: ElastiCache for Valkey, a replication group with cluster mode off
 * (one primary endpoint; the gateway's script touches one key per call), in the tasks' subnets,
 * reachable only from the tasks' security group, TLS in transit (the gateway refuses a non-loopback
 * store without it) and encrypted at rest. Production: a replica in another zone with automatic
 * failover (Multi-AZ); the gateway's fallback covers the failover's seconds. No snapshots: the
 * state is a few seconds of buckets, worthless after a restore. Arguments as in pulumi-aws
 * `elasticache.ReplicationGroup` (engine `valkey`: at-rest encryption on by default; automatic
 * failover needs numCacheClusters ≥ 2).
 */
function rateLimitStore(name: string, s: AwsGatewaySpec, net: NetworkWiring, production: boolean, parent: Parent): pulumi.Output<string> {
    const storeSg = new aws.ec2.SecurityGroup(
        `${name}-ratelimit-sg`,
        { vpcId: net.vpcId, description: "policy-gateway rate-limit store: reachable from the gateway tasks only" },
        parent,
    );
    new aws.vpc.SecurityGroupIngressRule(
        `${name}-ratelimit-from-tasks`,
        { securityGroupId: storeSg.id, ipProtocol: "tcp", fromPort: 6379, toPort: 6379, referencedSecurityGroupId: net.taskSg.id },
        parent,
    );
    const subnets = new aws.elasticache.SubnetGroup(
        `${name}-ratelimit-subnets`,
        { subnetIds: net.taskSubnetIds, description: "policy-gateway rate-limit store" },
        parent,
    );
    const store = new aws.elasticache.ReplicationGroup(
        `${name}-ratelimit`,
        {
            description: "policy-gateway: per-consumer rate limits shared by the gateway tasks",
            engine: "valkey",
            nodeType: s.rateLimitStoreNodeType,
            port: 6379,
            numCacheClusters: production ? 2 : 1,
            automaticFailoverEnabled: production,
            multiAzEnabled: production,
            transitEncryptionEnabled: true,
            atRestEncryptionEnabled: true,
            subnetGroupName: subnets.name,
            securityGroupIds: [storeSg.id],
            snapshotRetentionLimit: 0,
            // Otherwise a change (node type, engine version) waits for the maintenance window while
            // `pulumi up` reports success, and the next preview shows it again (pulumi-aws
            // elasticache.ReplicationGroup, applyImmediately). The gateway's fallback covers the
            // seconds a node restarts.
            applyImmediately: true,
        },
        { ...parent, protect: production },
    );
    return pulumi.interpolate`rediss://${store.primaryEndpointAddress}:6379`;
}

/** ECR (scanned on push, immutable tags, last 20 images), pushed with a short-lived token. */
function gatewayImage(name: string, args: AwsGatewayArgs, parent: Parent): { image: GatewayImage; repositoryArn: pulumi.Output<string> } {
    const repo = new aws.ecr.Repository(
        `${name}-repo`,
        {
            imageScanningConfiguration: { scanOnPush: true },
            imageTagMutability: "IMMUTABLE",
            // `destroy` fails on a repository that holds images unless forced (aws provider
            // ecr/repository.go: force_delete, default false); production keeps its images.
            forceDelete: !args.production,
        },
        { ...parent, protect: args.production },
    );
    new aws.ecr.LifecyclePolicy(
        `${name}-repo-lifecycle`,
        {
            repository: repo.name,
            policy: JSON.stringify({
                rules: [
                    {
                        rulePriority: 1,
                        description: "keep the last 20 images",
                        selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: 20 },
                        action: { type: "expire" },
                    },
                ],
            }),
        },
        parent,
    );
    const token = aws.ecr.getAuthorizationTokenOutput({ registryId: repo.registryId }, parent);
    const image = new GatewayImage(
        `${name}-image`,
        {
            repository: repo.repositoryUrl,
            registry: { server: repo.repositoryUrl, username: token.userName, password: token.password },
            baseImage: args.baseImage,
            platform: args.gateway.aws.cpuArchitecture === "ARM64" ? "linux/arm64" : "linux/amd64",
        },
        parent,
    );
    return { image, repositoryArn: repo.arn };
}

interface SecretWiring {
    secret: aws.secretsmanager.Secret;
    version: aws.secretsmanager.SecretVersion;
    /** The environment variable the task reads it into. */
    variable: string;
}

/** The introspection client's private key (or secret), in Secrets Manager only. */
function introspectionSecret(name: string, credential: { variable: string; value: pulumi.Input<string> }, parent: Parent & { protect: boolean }): SecretWiring {
    const secret = new aws.secretsmanager.Secret(
        `${name}-introspection-secret`,
        { description: `policy-gateway: Okta token introspection client credential (${credential.variable})`, recoveryWindowInDays: 7 },
        parent,
    );
    // The version is not protected: a rotated key or secret is a new version.
    const version = new aws.secretsmanager.SecretVersion(
        `${name}-introspection-secret-version`,
        { secretId: secret.id, secretString: pulumi.secret(credential.value) },
        { parent: parent.parent },
    );
    return { secret, version, variable: credential.variable };
}

interface NetworkWiring {
    vpcId: pulumi.Output<string>;
    /** The load balancer subnets' ranges: the only peers whose X-Forwarded-For is believed. */
    loadBalancerCidrs: pulumi.Output<string[]>;
    loadBalancerSubnetIds: pulumi.Output<string[]>;
    taskSubnetIds: pulumi.Output<string[]>;
    albSg: aws.ec2.SecurityGroup;
    taskSg: aws.ec2.SecurityGroup;
}

/**
 * An existing VPC with its own subnet lists for the load balancer and the tasks, or the default
 * VPC (all public subnets). This component builds no network. Security groups: clients reach the
 * load balancer from the allowed CIDRs only; only the load balancer reaches the tasks.
 */
function network(name: string, s: AwsGatewaySpec & { multiAzStore: boolean }, parent: Parent): NetworkWiring {
    const vpc = aws.ec2.getVpcOutput(s.vpcId ? { id: s.vpcId } : { default: true }, parent);
    const defaultSubnets = s.vpcId ? undefined : aws.ec2.getSubnetsOutput({ filters: [{ name: "vpc-id", values: [vpc.id] }] }, parent).ids;
    const { loadBalancerSubnetIds, taskSubnetIds } = checkedSubnets(
        "okta-api-gateway:gateway.aws",
        s,
        vpc.id,
        s.loadBalancerSubnetIds ? pulumi.output(s.loadBalancerSubnetIds) : (defaultSubnets as pulumi.Output<string[]>),
        s.taskSubnetIds ? pulumi.output(s.taskSubnetIds) : (defaultSubnets as pulumi.Output<string[]>),
        parent,
    );
    // The load balancer's nodes take their addresses in the load balancer's own subnets (ELB User
    // Guide, "Subnets for your Application Load Balancer": it "uses private IP addresses from the
    // subnets you specify"). X-Forwarded-For is believed from those ranges only: trusting the whole
    // VPC believed any in-VPC caller's header, which then set its introspection budget's key and
    // the logged client address.
    const loadBalancerCidrs = loadBalancerSubnetIds.apply(async (ids) => {
        const subnets = await Promise.all(ids.map((id) => aws.ec2.getSubnet({ id }, parent)));
        return [...new Set(subnets.flatMap((subnet) => [subnet.cidrBlock, subnet.ipv6CidrBlock]).filter((c): c is string => Boolean(c)))];
    });

    const albSg = new aws.ec2.SecurityGroup(`${name}-alb-sg`, { vpcId: vpc.id, description: "policy-gateway load balancer" }, parent);
    const taskSg = new aws.ec2.SecurityGroup(
        `${name}-task-sg`,
        { vpcId: vpc.id, description: "policy-gateway tasks: reachable from the load balancer only" },
        parent,
    );
    const clientPorts = usesHttps(s) ? [443, 80] : [80];
    s.allowedCidrs.forEach((cidr, i) =>
        clientPorts.forEach(
            (p) =>
                new aws.vpc.SecurityGroupIngressRule(
                    `${name}-alb-in-${p}-${i}`,
                    { securityGroupId: albSg.id, ipProtocol: "tcp", fromPort: p, toPort: p, cidrIpv4: cidr },
                    parent,
                ),
        ),
    );
    for (const p of [PORTS.traffic, PORTS.admin]) {
        new aws.vpc.SecurityGroupIngressRule(
            `${name}-task-in-${p}`,
            { securityGroupId: taskSg.id, ipProtocol: "tcp", fromPort: p, toPort: p, referencedSecurityGroupId: albSg.id },
            parent,
        );
        new aws.vpc.SecurityGroupEgressRule(
            `${name}-alb-out-${p}`,
            { securityGroupId: albSg.id, ipProtocol: "tcp", fromPort: p, toPort: p, referencedSecurityGroupId: taskSg.id },
            parent,
        );
    }
    // Tasks call Okta, the upstream, ECR and Secrets Manager over HTTPS (and the upstream maybe over HTTP).
    new aws.vpc.SecurityGroupEgressRule(`${name}-task-out`, { securityGroupId: taskSg.id, ipProtocol: "-1", cidrIpv4: "0.0.0.0/0" }, parent);
    return { vpcId: vpc.id, loadBalancerCidrs, loadBalancerSubnetIds, taskSubnetIds, albSg, taskSg };
}

/** HTTPS whenever the gateway has a name of its own (with a given or a requested certificate). */
function usesHttps(s: AwsGatewaySpec): boolean {
    return s.domainName !== undefined;
}

interface LoadBalancerWiring {
    alb: aws.lb.LoadBalancer;
    targetGroup: aws.lb.TargetGroup;
    listener: aws.lb.Listener;
    url: pulumi.Output<string>;
}

/**
 * The application load balancer: internal or internet-facing as configured (an internet-facing
 * one only sees public client addresses), in its own subnets; readiness as the target health
 * check; HTTPS on the gateway's own name, with an alias record in Route 53.
 */
function loadBalancer(name: string, s: AwsGatewaySpec, net: NetworkWiring, parent: Parent, production: boolean): LoadBalancerWiring {
    const alb = new aws.lb.LoadBalancer(
        `${name}-alb`,
        {
            loadBalancerType: "application",
            internal: s.internal,
            securityGroups: [net.albSg.id],
            subnets: net.loadBalancerSubnetIds,
            dropInvalidHeaderFields: true,
        },
        // Its DNS name is what the alias record (or, without a name, every consumer) points at.
        { ...parent, protect: production },
    );
    const targetGroup = new aws.lb.TargetGroup(
        `${name}-tg`,
        {
            port: PORTS.traffic,
            protocol: "HTTP",
            targetType: "ip", // Fargate (awsvpc) tasks register by IP
            vpcId: net.vpcId,
            deregistrationDelay: 30,
            // Readiness: a task whose issuer metadata never loads is never healthy, so it takes no
            // traffic and the deployment circuit breaker rolls the deployment back.
            healthCheck: { path: ADMIN_PATHS.readiness, port: String(PORTS.admin), matcher: "200", interval: 15, healthyThreshold: 2, unhealthyThreshold: 3 },
        },
        parent,
    );

    const certificateArn = s.domainName
        ? s.certificateArn
            ? pulumi.output(s.certificateArn)
            : requestCertificate(name, s.domainName, s.hostedZoneId as string, parent, production)
        : undefined;
    const listener = new aws.lb.Listener(
        `${name}-listener`,
        {
            loadBalancerArn: alb.arn,
            port: certificateArn ? 443 : 80,
            protocol: certificateArn ? "HTTPS" : "HTTP",
            certificateArn,
            sslPolicy: certificateArn ? "ELBSecurityPolicy-TLS13-1-2-2021-06" : undefined,
            defaultActions: [{ type: "forward", targetGroupArn: targetGroup.arn }],
        },
        parent,
    );
    if (certificateArn) {
        new aws.lb.Listener(
            `${name}-http-redirect`,
            {
                loadBalancerArn: alb.arn,
                port: 80,
                protocol: "HTTP",
                defaultActions: [{ type: "redirect", redirect: { port: "443", protocol: "HTTPS", statusCode: "HTTP_301" } }],
            },
            parent,
        );
    }
    if (s.domainName) {
        new aws.route53.Record(
            `${name}-dns`,
            {
                zoneId: s.hostedZoneId as string,
                name: s.domainName,
                type: "A",
                aliases: [{ name: alb.dnsName, zoneId: alb.zoneId, evaluateTargetHealth: true }],
            },
            parent,
        );
    }
    // The load balancer's own *.elb.amazonaws.com name is covered by no certificate of the user's:
    // consumers get the gateway's own name, or (sandbox stacks without one) plain HTTP.
    const url = s.domainName ? pulumi.output(`https://${s.domainName}`) : pulumi.interpolate`http://${alb.dnsName}`;
    return { alb, targetGroup, listener, url };
}

/** An ACM certificate for the gateway's name, validated through a DNS record in the hosted zone. */
function requestCertificate(name: string, domainName: string, zoneId: string, parent: Parent, production: boolean): pulumi.Output<string> {
    const certificate = new aws.acm.Certificate(`${name}-certificate`, { domainName, validationMethod: "DNS" }, { ...parent, protect: production });
    const option = certificate.domainValidationOptions[0];
    const record = new aws.route53.Record(
        `${name}-certificate-validation`,
        {
            zoneId,
            name: option.resourceRecordName,
            type: option.resourceRecordType,
            records: [option.resourceRecordValue],
            ttl: 300,
            allowOverwrite: true,
        },
        parent,
    );
    // Waits until ACM has issued the certificate, so the HTTPS listener never gets a pending one.
    const validation = new aws.acm.CertificateValidation(
        `${name}-certificate-issued`,
        { certificateArn: certificate.arn, validationRecordFqdns: [record.fqdn] },
        parent,
    );
    return validation.certificateArn;
}

interface ServiceWiring {
    cluster: aws.ecs.Cluster;
    service: aws.ecs.Service;
    logGroup: aws.cloudwatch.LogGroup;
}

/** Roles, logs, the Fargate task and the service `pulumi up` waits for. */
function service(
    name: string,
    s: AwsGatewaySpec,
    w: {
        image: pulumi.Output<string>;
        repositoryArn: pulumi.Output<string>;
        environment: pulumi.Output<GatewayEnvironment>;
        secret?: SecretWiring;
        signingKeyArns: pulumi.Input<string>[];
        net: NetworkWiring;
        lb: LoadBalancerWiring;
        /** Production keeps its request logs: the log group is protected. */
        production: boolean;
    },
    parent: Parent,
): ServiceWiring {
    const region = aws.getRegionOutput({}, parent).region;
    const trust = pulumi
        .all([aws.getCallerIdentityOutput({}, parent).accountId, aws.getPartitionOutput({}, parent).partition, region])
        .apply(([account, partition, r]) => JSON.stringify(ecsTasksTrust(account, partition, r)));
    // The execution role pulls the image, writes the logs and reads the one secret (when the
    // gateway introspects with a secret), nothing else; the task role may sign with the
    // introspection client's KMS keys, or do nothing.
    const executionRole = new aws.iam.Role(`${name}-execution-role`, { assumeRolePolicy: trust }, parent);
    const logGroup = new aws.cloudwatch.LogGroup(`${name}-logs`, { retentionInDays: s.logRetentionDays }, { ...parent, protect: w.production });
    new aws.iam.RolePolicy(
        `${name}-execution-role-policy`,
        {
            role: executionRole.id,
            policy: pulumi
                .all([w.repositoryArn, logGroup.arn, w.secret?.secret.arn])
                .apply(([repositoryArn, logGroupArn, secretArn]) => JSON.stringify(executionRolePolicy({ repositoryArn, logGroupArn, secretArn }))),
        },
        parent,
    );
    const taskRole = new aws.iam.Role(`${name}-task-role`, { assumeRolePolicy: trust }, parent);
    if (w.signingKeyArns.length > 0)
        new aws.iam.RolePolicy(
            `${name}-task-role-policy`,
            { role: taskRole.id, policy: pulumi.all(w.signingKeyArns).apply((arns) => JSON.stringify(taskRolePolicy(arns))) },
            parent,
        );

    const cluster = new aws.ecs.Cluster(`${name}-cluster`, { settings: [{ name: "containerInsights", value: "enabled" }] }, parent);
    const [command, ...rest] = healthCheckCommand();
    const taskDefinition = new aws.ecs.TaskDefinition(
        `${name}-task`,
        {
            family: accountUniqueName(name),
            cpu: String(s.cpu),
            memory: String(s.memory),
            networkMode: "awsvpc",
            requiresCompatibilities: ["FARGATE"],
            // Fargate runs Linux tasks on X86_64 or ARM64 (Graviton); the image is built for the same
            // platform (AWS ECS API Reference, RuntimePlatform cpuArchitecture).
            runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: s.cpuArchitecture },
            executionRoleArn: executionRole.arn,
            taskRoleArn: taskRole.arn,
            containerDefinitions: pulumi.jsonStringify([
                {
                    name: CONTAINER_NAME,
                    image: w.image,
                    essential: true,
                    user: "1000",
                    readonlyRootFilesystem: true,
                    portMappings: [
                        { containerPort: PORTS.traffic, protocol: "tcp" },
                        { containerPort: PORTS.admin, protocol: "tcp" },
                    ],
                    environment: w.environment.apply((env) => Object.entries(env).map(([k, value]) => ({ name: k, value }))),
                    secrets: w.secret ? [{ name: w.secret.variable, valueFrom: w.secret.secret.arn }] : [],
                    logConfiguration: {
                        logDriver: "awslogs",
                        options: { "awslogs-group": logGroup.name, "awslogs-region": region, "awslogs-stream-prefix": "gateway" },
                    },
                    healthCheck: {
                        command: [command, ...rest],
                        interval: HEALTH_CHECK.intervalSeconds,
                        timeout: HEALTH_CHECK.timeoutSeconds,
                        retries: HEALTH_CHECK.retries,
                        startPeriod: HEALTH_CHECK.startPeriodSeconds,
                    },
                    stopTimeout: 30,
                },
            ]),
        },
        parent,
    );

    const timeout = `${s.deploymentTimeoutMinutes}m`;
    const svc = new aws.ecs.Service(
        `${name}-service`,
        {
            cluster: cluster.arn,
            taskDefinition: taskDefinition.arn,
            desiredCount: s.minCapacity,
            launchType: "FARGATE",
            networkConfiguration: { subnets: w.net.taskSubnetIds, securityGroups: [w.net.taskSg.id], assignPublicIp: s.assignPublicIp },
            loadBalancers: [{ targetGroupArn: w.lb.targetGroup.arn, containerName: CONTAINER_NAME, containerPort: PORTS.traffic }],
            healthCheckGracePeriodSeconds: 30,
            deploymentCircuitBreaker: { enable: true, rollback: true },
            deploymentMinimumHealthyPercent: 100,
            deploymentMaximumPercent: 200,
            propagateTags: "SERVICE",
            // `pulumi up` waits until the new tasks are running and healthy, and fails (instead of
            // reporting success) when they never are or the circuit breaker rolls back (aws provider
            // ecs/service.go: wait_for_steady_state, default false).
            waitForSteadyState: true,
            // Tasks read secrets only when they start: a new secret version must start new tasks.
            forceNewDeployment: true,
            ...(w.secret ? { triggers: { introspectionSecretVersion: w.secret.version.versionId } } : {}),
        },
        { ...parent, dependsOn: [w.lb.listener], ignoreChanges: ["desiredCount"], customTimeouts: { create: timeout, update: timeout } },
    );
    return { cluster, service: svc, logGroup };
}

/** Target tracking on CPU between the configured bounds. */
function scaling(name: string, s: AwsGatewaySpec, svc: ServiceWiring, parent: Parent): void {
    const target = new aws.appautoscaling.Target(
        `${name}-scaling`,
        {
            minCapacity: s.minCapacity,
            maxCapacity: s.maxCapacity,
            resourceId: pulumi.interpolate`service/${svc.cluster.name}/${svc.service.name}`,
            scalableDimension: "ecs:service:DesiredCount",
            serviceNamespace: "ecs",
        },
        parent,
    );
    new aws.appautoscaling.Policy(
        `${name}-scaling-cpu`,
        {
            policyType: "TargetTrackingScaling",
            resourceId: target.resourceId,
            scalableDimension: target.scalableDimension,
            serviceNamespace: target.serviceNamespace,
            targetTrackingScalingPolicyConfiguration: {
                predefinedMetricSpecification: { predefinedMetricType: "ECSServiceAverageCPUUtilization" },
                targetValue: s.targetCpuPercent,
                scaleInCooldown: 120,
                scaleOutCooldown: 30,
            },
        },
        parent,
    );
}

/**
 * CloudWatch alarms on what consumers feel (5xx answers, unhealthy targets, p99 latency) and on
 * CPU, notifying the configured SNS topic; and a dashboard of the same metrics. Metric names and
 * dimensions: "CloudWatch metrics for your Application Load Balancer" (LoadBalancer and
 * TargetGroup are the ARN suffixes) and "Amazon ECS CloudWatch metrics" (ClusterName, ServiceName).
 */
function monitoring(name: string, s: AwsGatewaySpec, lb: LoadBalancerWiring, svc: ServiceWiring, parent: Parent): pulumi.Output<string> {
    const actions = s.alarmTopicArn ? { alarmActions: [s.alarmTopicArn], okActions: [s.alarmTopicArn] } : {};
    const alb = { LoadBalancer: lb.alb.arnSuffix };
    const ecs = { ClusterName: svc.cluster.name, ServiceName: svc.service.name };
    const common = { treatMissingData: "notBreaching", ...actions };

    new aws.cloudwatch.MetricAlarm(
        `${name}-alarm-5xx`,
        {
            alarmDescription: `policy-gateway: more than ${s.alarms.http5xxPerMinute} 5xx answers a minute (load balancer and gateway), 3 minutes out of 5`,
            comparisonOperator: "GreaterThanThreshold",
            threshold: s.alarms.http5xxPerMinute,
            evaluationPeriods: 5,
            datapointsToAlarm: 3,
            metricQueries: [
                { id: "elb", metric: { namespace: "AWS/ApplicationELB", metricName: "HTTPCode_ELB_5XX_Count", dimensions: alb, period: 60, stat: "Sum" } },
                {
                    id: "target",
                    metric: { namespace: "AWS/ApplicationELB", metricName: "HTTPCode_Target_5XX_Count", dimensions: alb, period: 60, stat: "Sum" },
                },
                { id: "total", expression: "FILL(elb, 0) + FILL(target, 0)", label: "5xx answers", returnData: true },
            ],
            ...common,
        },
        parent,
    );
    new aws.cloudwatch.MetricAlarm(
        `${name}-alarm-unhealthy`,
        {
            alarmDescription: "policy-gateway: a task is not ready (its /readyz fails) for 3 minutes",
            namespace: "AWS/ApplicationELB",
            metricName: "UnHealthyHostCount",
            dimensions: { ...alb, TargetGroup: lb.targetGroup.arnSuffix },
            statistic: "Maximum",
            period: 60,
            evaluationPeriods: 3,
            comparisonOperator: "GreaterThanOrEqualToThreshold",
            threshold: 1,
            ...common,
        },
        parent,
    );
    new aws.cloudwatch.MetricAlarm(
        `${name}-alarm-latency-p99`,
        {
            alarmDescription: `policy-gateway: p99 response time above ${s.alarms.targetResponseTimeP99Seconds} s for 5 minutes`,
            namespace: "AWS/ApplicationELB",
            metricName: "TargetResponseTime",
            dimensions: alb,
            extendedStatistic: "p99",
            period: 60,
            evaluationPeriods: 5,
            comparisonOperator: "GreaterThanThreshold",
            threshold: s.alarms.targetResponseTimeP99Seconds,
            ...common,
        },
        parent,
    );
    new aws.cloudwatch.MetricAlarm(
        `${name}-alarm-cpu`,
        {
            alarmDescription: `policy-gateway: service CPU above ${s.alarms.cpuPercent}% for 5 minutes (scaling is not keeping up, or maxCapacity is reached)`,
            namespace: "AWS/ECS",
            metricName: "CPUUtilization",
            dimensions: ecs,
            statistic: "Average",
            period: 60,
            evaluationPeriods: 5,
            comparisonOperator: "GreaterThanThreshold",
            threshold: s.alarms.cpuPercent,
            ...common,
        },
        parent,
    );

    const region = aws.getRegionOutput({}, parent).region;
    const dashboard = new aws.cloudwatch.Dashboard(
        `${name}-dashboard`,
        {
            dashboardName: accountUniqueName(name),
            dashboardBody: pulumi.jsonStringify({
                widgets: dashboardWidgets({
                    region,
                    loadBalancer: lb.alb.arnSuffix,
                    targetGroup: lb.targetGroup.arnSuffix,
                    cluster: svc.cluster.name,
                    service: svc.service.name,
                }),
            }),
        },
        parent,
    );
    return dashboard.dashboardName;
}

/** The dashboard's widgets: traffic and errors, latency, task health, CPU and memory. */
function dashboardWidgets(d: {
    region: pulumi.Output<string>;
    loadBalancer: pulumi.Output<string>;
    targetGroup: pulumi.Output<string>;
    cluster: pulumi.Output<string>;
    service: pulumi.Output<string>;
}) {
    const widget = (x: number, y: number, title: string, metrics: unknown[][], extra: Record<string, unknown> = {}) => ({
        type: "metric",
        x,
        y,
        width: 12,
        height: 6,
        properties: { title, region: d.region, period: 60, view: "timeSeries", metrics, ...extra },
    });
    const elb = "AWS/ApplicationELB";
    return [
        widget(0, 0, "Requests and 5xx", [
            [elb, "RequestCount", "LoadBalancer", d.loadBalancer, { stat: "Sum" }],
            [elb, "HTTPCode_Target_5XX_Count", "LoadBalancer", d.loadBalancer, { stat: "Sum" }],
            [elb, "HTTPCode_ELB_5XX_Count", "LoadBalancer", d.loadBalancer, { stat: "Sum" }],
            [elb, "HTTPCode_Target_4XX_Count", "LoadBalancer", d.loadBalancer, { stat: "Sum" }],
        ]),
        widget(12, 0, "Response time (s)", [
            [elb, "TargetResponseTime", "LoadBalancer", d.loadBalancer, { stat: "p50" }],
            [elb, "TargetResponseTime", "LoadBalancer", d.loadBalancer, { stat: "p99" }],
        ]),
        widget(0, 6, "Ready tasks", [
            [elb, "HealthyHostCount", "TargetGroup", d.targetGroup, "LoadBalancer", d.loadBalancer, { stat: "Minimum" }],
            [elb, "UnHealthyHostCount", "TargetGroup", d.targetGroup, "LoadBalancer", d.loadBalancer, { stat: "Maximum" }],
        ]),
        widget(12, 6, "Service CPU and memory (%)", [
            ["AWS/ECS", "CPUUtilization", "ClusterName", d.cluster, "ServiceName", d.service, { stat: "Average" }],
            ["AWS/ECS", "MemoryUtilization", "ClusterName", d.cluster, "ServiceName", d.service, { stat: "Average" }],
        ]),
    ];
}
