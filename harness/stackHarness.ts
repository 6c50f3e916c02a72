// Runs Pulumi declarations under the SDK's mock runtime and records every resource with its
// resolved inputs, parent, dependencies and `protect` flag. Shared by the tests and the offline
// rehearsal, so both see exactly what `pulumi up` would be asked to create.
import * as pulumi from "@pulumi/pulumi";
import { createHash, generateKeyPairSync } from "node:crypto";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { keysIn, type ConfigSource } from "../components/stackConfig/index";
import { onRegistration, waitForRegistrations } from "./pulumiSdk";

export const PROJECT_ROOT = path.resolve(__dirname, "..");

export interface RecordedResource {
    type: string;
    name: string;
    /** False for component resources. */
    custom: boolean;
    inputs: Record<string, unknown>;
    /** What the mock "provider" returned: the inputs plus computed outputs (ids, issuer, secrets). */
    state: Record<string, unknown>;
    id: string;
    urn: string;
    /** True for resources read with `.get()`, which Pulumi never manages. */
    read: boolean;
    /** The `import` option: the id of an existing resource this declaration adopts. */
    importId?: string;
    ignoreChanges: string[];
    retainOnDelete: boolean;
    parentUrn?: string;
    dependencyUrns: string[];
    protect: boolean;
    /** The inputs as serialized to the engine, secret values still wrapped in Pulumi's secret marker. */
    rawInputs: unknown;
}

export interface MockedStack {
    resources: RecordedResource[];
    calls: { token: string; inputs: Record<string, unknown> }[];
    /** Waits until every declaration made so far has been registered. */
    settle(): Promise<void>;
}

/** Pulumi's wire marker for a secret value: `{[SECRET_SIG]: SECRET_SIG_VALUE, value}`. */
export const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const SECRET_SIG_VALUE = "1b47061264138c4ac30d75fd1eb44270";

/** Every place a string occurs in serialized inputs, with whether it sits inside a secret. */
export function findInRawInputs(raw: unknown, needle: string, path = "", inSecret = false): { path: string; inSecret: boolean }[] {
    if (typeof raw === "string") return raw.includes(needle) ? [{ path, inSecret }] : [];
    if (raw === null || typeof raw !== "object") return [];
    const obj = raw as Record<string, unknown>;
    if (isSecretWrapper(obj)) return findInRawInputs(obj.value, needle, path, true);
    return Object.entries(obj).flatMap(([k, v]) => findInRawInputs(v, needle, Array.isArray(obj) ? `${path}[${k}]` : path ? `${path}.${k}` : k, inSecret));
}

export function isSecretWrapper(v: unknown): v is { value: unknown } {
    return v !== null && typeof v === "object" && (v as Record<string, unknown>)[SECRET_SIG] === SECRET_SIG_VALUE;
}

/** The same value with every secret wrapper replaced by what it wraps: what the provider would receive. */
export function unwrapSecrets(v: unknown): unknown {
    if (isSecretWrapper(v)) return unwrapSecrets(v.value);
    if (Array.isArray(v)) return v.map(unwrapSecrets);
    if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwrapSecrets(x)]));
    return v;
}

/** A short, stable, Okta-looking id: the same declarations give the same ids on every run. */
export function fakeOktaId(prefix: string, seed: string, length = 20): string {
    const digest = createHash("sha256")
        .update(seed)
        .digest("base64")
        .replace(/[^A-Za-z0-9]/g, "");
    return (prefix + digest).slice(0, length);
}

export const MOCK_AWS = { account: "123456789012", region: "eu-west-1" };

/** The mock Okta org's custom domains by id, as GET /api/v1/domains lists them. */
export const MOCK_OKTA_DOMAINS: Record<string, { domain: string; validationStatus: string }> = {
    OcD1acmelogin0000001: { domain: "login.acme.example", validationStatus: "VERIFIED" },
    OcD1orderslogin00001: { domain: "login.orders.example", validationStatus: "VERIFIED" },
};

/**
 * okta.getDomain as the provider answers it (terraform-provider-okta
 * okta/services/idaas/data_source_okta_domain.go, dataSourceDomainRead): the list is searched by
 * id or name, then the domain is fetched by the input string itself, so an input that is a name
 * ends in Okta's 404. Only an id works; the mock refuses a name the same way.
 */
export function oktaGetDomain(idOrName: string, validationStatus?: string): Record<string, unknown> {
    const byId = MOCK_OKTA_DOMAINS[idOrName];
    const byName = Object.values(MOCK_OKTA_DOMAINS).some((d) => d.domain.toLowerCase() === idOrName.toLowerCase());
    if (!byId && !byName) throw new Error(`failed to find domain by id or name: "${idOrName}"`);
    if (!byId)
        throw new Error(
            `failed to get domain to retrieve DNS records: 404 Not Found: {"errorCode":"E0000007","errorSummary":"Not found: Resource not found: ${idOrName} (Domain)"}`,
        );
    return {
        id: idOrName,
        domain: byId.domain,
        domainIdOrName: idOrName,
        validationStatus: validationStatus ?? byId.validationStatus,
        certificateSourceType: "OKTA_MANAGED",
        dnsRecords: [],
        publicCertificate: {},
    };
}

/**
 * What the providers refuse, refused here too, so that a mock that says yes cannot hide a failing
 * `pulumi up`: a private_key_jwt app without keys; a KMS key policy with a statement that names no principal
 * (CreateKey: "MalformedPolicyDocumentException: Policy contains a statement with no principal";
 * terraform-aws-modules/terraform-aws-eks pull request 2163); a metric filter with more than three
 * dimensions, or with dimensions and a default value ("Invalid metric transformation: dimensions
 * and default value are mutually exclusive properties", PutMetricFilter; pulumi-aws
 * LogMetricFilterMetricTransformation: "Up to 3 dimensions", "Conflicts with defaultValue"), or
 * dimensions that are not `$.` fields of a JSON pattern ("The specified filter pattern does not
 * support dimensions"); an alarm on metric queries with other than exactly one returnData
 * ("Specify exactly one metricQuery to be true"), a query with both or neither of metric and
 * expression, or a metric query beside the single-metric arguments.
 */
function refuseAsProvidersDo(type: string, inputs: Record<string, unknown>): void {
    // terraform-provider-okta resource_okta_app_oauth.go, validateAppOAuth.
    if (type === "okta:app/oAuth:OAuth" && inputs.tokenEndpointAuthMethod === "private_key_jwt" && !inputs.jwks && !inputs.jwksUri)
        throw new Error("'jwks' or 'jwks_uri' is required when 'token_endpoint_auth_method' is 'private_key_jwt'");
    if (type === "aws:cloudwatch/logMetricFilter:LogMetricFilter") {
        const t = inputs.metricTransformation as { dimensions?: Record<string, string>; defaultValue?: string };
        const dims = Object.values(t.dimensions ?? {});
        if (dims.length > 3) throw new Error("InvalidParameterException: a metric filter can have at most 3 dimensions");
        if (dims.length > 0 && t.defaultValue !== undefined)
            throw new Error("InvalidParameterException: Invalid metric transformation: dimensions and default value are mutually exclusive properties");
        if (dims.length > 0 && (!String(inputs.pattern).trim().startsWith("{") || dims.some((d) => !/^\$\.[A-Za-z0-9_.]+$/.test(d))))
            throw new Error("InvalidParameterException: The specified filter pattern does not support dimensions");
    }
    if (type === "aws:cloudwatch/metricAlarm:MetricAlarm" && Array.isArray(inputs.metricQueries)) {
        const queries = inputs.metricQueries as { metric?: unknown; expression?: string; returnData?: boolean }[];
        if (queries.filter((q) => q.returnData === true).length !== 1) throw new Error("ValidationError: exactly one metric query must have returnData true");
        if (queries.some((q) => (q.metric === undefined) === (q.expression === undefined)))
            throw new Error("ValidationError: each metric query needs exactly one of metric and expression");
        if (queries.length > 20) throw new Error("ValidationError: at most 20 metric queries");
        if (["metricName", "namespace", "statistic", "extendedStatistic", "dimensions", "period"].some((k) => inputs[k] !== undefined))
            throw new Error("ValidationError: metricQueries cannot be combined with metricName, namespace, statistic, dimensions or period");
    }
    if (type === "aws:kms/key:Key" && typeof inputs.policy === "string") {
        const doc = JSON.parse(inputs.policy) as { Statement: { Principal?: { AWS?: string | string[] } }[] };
        for (const st of doc.Statement) {
            const principals = st.Principal?.AWS;
            if (principals === undefined || (Array.isArray(principals) && principals.length === 0))
                throw new Error("creating KMS Key: MalformedPolicyDocumentException: Policy contains a statement with no principal.");
        }
    }
}

/**
 * The KMS keys the mock provider made, by key id and by ARN, as KMS knows them: an asymmetric
 * SIGN_VERIFY key has a real key pair, whose public half GetPublicKey returns.
 */
const MOCK_KMS_KEYS = new Map<string, { arn: string; keyId: string; keyUsage: string; spec: string; publicKeyDer?: Buffer }>();

/**
 * aws.kms.getPublicKey as KMS answers it (terraform-provider-aws
 * internal/service/kms/public_key_data_source.go: GetPublicKey with `key_id` as given): by a key
 * that exists, by id or ARN; an unknown key is KMS's NotFoundException; a symmetric key has no
 * public key (UnsupportedOperationException, AWS KMS API Reference, GetPublicKey).
 */
export function kmsGetPublicKey(keyId: string): Record<string, unknown> {
    const key = MOCK_KMS_KEYS.get(keyId);
    if (!key) throw new Error(`while describing KMS public key (${keyId}): NotFoundException: Key '${keyId}' does not exist`);
    if (!key.publicKeyDer)
        throw new Error(
            `while describing KMS public key (${keyId}): UnsupportedOperationException: ${key.arn} key usage is ENCRYPT_DECRYPT which is not valid for GetPublicKey.`,
        );
    const der = key.publicKeyDer.toString("base64");
    return {
        id: key.arn,
        arn: key.arn,
        keyId,
        customerMasterKeySpec: key.spec,
        keyUsage: key.keyUsage,
        publicKey: der,
        publicKeyPem: `-----BEGIN PUBLIC KEY-----\n${der.match(/.{1,64}/g)!.join("\n")}\n-----END PUBLIC KEY-----\n`,
        signingAlgorithms: [
            "RSASSA_PKCS1_V1_5_SHA_256",
            "RSASSA_PKCS1_V1_5_SHA_384",
            "RSASSA_PKCS1_V1_5_SHA_512",
            "RSASSA_PSS_SHA_256",
            "RSASSA_PSS_SHA_384",
            "RSASSA_PSS_SHA_512",
        ],
        encryptionAlgorithms: [],
    };
}

/** A KMS key as CreateKey makes it: a key id (a UUID), its ARN, and for an RSA signing key a real key pair. */
function kmsKeyState(name: string, inputs: Record<string, unknown>): { id: string; state: Record<string, unknown> } {
    const hex = createHash("sha256").update(`kms:${name}`).digest("hex");
    const keyId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
    const arn = `arn:aws:kms:${MOCK_AWS.region}:${MOCK_AWS.account}:key/${keyId}`;
    const keyUsage = String(inputs.keyUsage ?? "ENCRYPT_DECRYPT");
    const spec = String(inputs.customerMasterKeySpec ?? "SYMMETRIC_DEFAULT");
    const rsaBits = /^RSA_(\d+)$/.exec(spec)?.[1];
    const publicKeyDer =
        keyUsage === "SIGN_VERIFY" && rsaBits
            ? generateKeyPairSync("rsa", { modulusLength: Number(rsaBits) }).publicKey.export({ format: "der", type: "spki" })
            : undefined;
    const known = { arn, keyId, keyUsage, spec, publicKeyDer };
    MOCK_KMS_KEYS.set(keyId, known);
    MOCK_KMS_KEYS.set(arn, known);
    return { id: keyId, state: { ...inputs, arn, keyId, keyUsage, customerMasterKeySpec: spec } };
}

/** Computed outputs the real providers would return, derived from the inputs. */
function providerState(
    type: string,
    name: string,
    inputs: Record<string, unknown>,
    orgUrl: string,
    readId?: string,
    preview = false,
): { id: string; state: Record<string, unknown> } {
    const id = readId ?? fakeOktaId("", `${type}:${name}`, 20);
    refuseAsProvidersDo(type, inputs);
    switch (type) {
        case "okta:auth/server:Server": {
            const serverId = readId ?? fakeOktaId("aus", name);
            const audiences = (inputs.audiences as string[] | undefined) ?? ["api://default"];
            return {
                id: serverId,
                state: { ...inputs, audiences, issuer: `${orgUrl}/oauth2/${serverId}`, kid: fakeOktaId("k", serverId, 12), status: "ACTIVE" },
            };
        }
        case "okta:app/oAuth:OAuth": {
            if (readId) {
                // An adopted app as Okta has it: registered through Anypoint Exchange (a web app that
                // was given the client credentials grant by hand). Okta does not return its secret.
                return {
                    id: readId,
                    state: {
                        ...inputs,
                        clientId: readId,
                        type: "web",
                        grantTypes: ["authorization_code", "client_credentials"],
                        responseTypes: ["code", "token"],
                        tokenEndpointAuthMethod: "client_secret_basic",
                    },
                };
            }
            const appId = fakeOktaId("0oa", name);
            const hasSecret = inputs.omitSecret !== true && inputs.tokenEndpointAuthMethod !== "private_key_jwt";
            return { id: appId, state: { ...inputs, clientId: appId, ...(hasSecret ? { clientSecret: fakeOktaId("", `secret:${name}`, 40) } : {}) } };
        }
        case "docker:index/image:Image": {
            // repoDigest: the registry digest when pushed, the local image id otherwise (@pulumi/docker ≥ 4.4).
            const imageName = String(inputs.imageName);
            const pushed = inputs.skipPush !== true && inputs.registry !== undefined;
            const digest = createHash("sha256")
                .update(`${imageName}\0${JSON.stringify(inputs.build)}`)
                .digest("hex");
            // Unknown at preview: the image is built (and its digest known) only by `up`; the mock
            // has no state, so every preview is one in which the image changes.
            if (preview) return { id, state: { ...inputs } };
            return { id, state: { ...inputs, repoDigest: pushed ? `${imageName.replace(/:[^:/]+$/, "")}@sha256:${digest}` : `sha256:${digest}` } };
        }
        case "tls:index/privateKey:PrivateKey": {
            // A real key pair, as the tls provider generates one (PKCS#1 and PKCS#8 PEM, SPKI public PEM).
            const pair = generateKeyPairSync("rsa", { modulusLength: Number(inputs.rsaBits ?? 2048) });
            return {
                id,
                state: {
                    ...inputs,
                    privateKeyPem: pair.privateKey.export({ format: "pem", type: "pkcs1" }).toString(),
                    privateKeyPemPkcs8: pair.privateKey.export({ format: "pem", type: "pkcs8" }).toString(),
                    publicKeyPem: pair.publicKey.export({ format: "pem", type: "spki" }).toString(),
                },
            };
        }
        case "aws:kms/key:Key":
            return kmsKeyState(name, inputs);
        case "docker:index/network:Network":
        case "docker:index/container:Container":
            return { id, state: { ...inputs } };
    }
    if (type.startsWith("aws:")) {
        const service = type.split(":")[1].split("/")[0];
        const resourceName = (inputs.name as string | undefined) ?? `${name}-${id.slice(0, 7).toLowerCase()}`;
        const arn = `arn:aws:${service}:${MOCK_AWS.region}:${MOCK_AWS.account}:${type.split(":")[2].toLowerCase()}/${resourceName}`;
        const extra: Record<string, unknown> = {};
        if (type === "aws:ecr/repository:Repository")
            Object.assign(extra, {
                registryId: MOCK_AWS.account,
                repositoryUrl: `${MOCK_AWS.account}.dkr.ecr.${MOCK_AWS.region}.amazonaws.com/${resourceName}`,
            });
        if (type === "aws:lb/loadBalancer:LoadBalancer") {
            Object.assign(extra, {
                dnsName: `${inputs.internal === true ? "internal-" : ""}${resourceName}.${MOCK_AWS.region}.elb.amazonaws.com`,
                zoneId: "Z32O12XQLNTSW2",
                arnSuffix: `app/${resourceName}/${id.slice(0, 16).toLowerCase()}`,
            });
        }
        if (type === "aws:lb/targetGroup:TargetGroup") extra.arnSuffix = `targetgroup/${resourceName}/${id.slice(0, 16).toLowerCase()}`;
        if (type === "aws:acm/certificate:Certificate") {
            extra.domainValidationOptions = [
                {
                    domainName: inputs.domainName,
                    resourceRecordName: `_x1.${String(inputs.domainName)}.`,
                    resourceRecordType: "CNAME",
                    resourceRecordValue: "_x2.acm-validations.aws.",
                },
            ];
        }
        if (type === "aws:acm/certificateValidation:CertificateValidation") extra.certificateArn = inputs.certificateArn;
        if (type === "aws:route53/record:Record") extra.fqdn = String(inputs.name).replace(/\.$/, "");
        if (type === "aws:cloudwatch/dashboard:Dashboard") extra.dashboardName = inputs.dashboardName;
        // With TLS, ElastiCache names the primary endpoint master.<group id>.<hash>.<region code>.cache.amazonaws.com.
        if (type === "aws:elasticache/replicationGroup:ReplicationGroup")
            extra.primaryEndpointAddress = `master.${resourceName}.${id.slice(0, 6).toLowerCase()}.euw1.cache.amazonaws.com`;
        if (type === "aws:secretsmanager/secretVersion:SecretVersion") extra.versionId = fakeOktaId("v-", `${name}:${String(inputs.secretString)}`, 24);
        return { id: type === "aws:ec2/securityGroup:SecurityGroup" ? `sg-${id.toLowerCase()}` : id, state: { ...inputs, arn, name: resourceName, ...extra } };
    }
    return { id, state: { ...inputs } };
}

/** Answers of the provider functions (data sources) the program calls. */
function providerCall(token: string, inputs: Record<string, unknown>): Record<string, unknown> {
    switch (token) {
        case "okta:index/getDomain:getDomain":
            return oktaGetDomain(String(inputs.domainIdOrName));
        case "aws:kms/getPublicKey:getPublicKey":
            return kmsGetPublicKey(String(inputs.keyId));
        case "aws:ecr/getAuthorizationToken:getAuthorizationToken":
            return {
                id: MOCK_AWS.region,
                userName: "AWS",
                password: "ecr-token-stand-in-not-a-real-password",
                proxyEndpoint: `https://${inputs.registryId}.dkr.ecr.${MOCK_AWS.region}.amazonaws.com`,
                authorizationToken: "stand-in",
            };
        case "aws:ec2/getVpc:getVpc":
            return inputs.id
                ? {
                      id: inputs.id,
                      default: false,
                      cidrBlock: "10.20.0.0/16",
                      cidrBlockAssociations: [
                          { associationId: "a1", cidrBlock: "10.20.0.0/16", state: "associated" },
                          { associationId: "a2", cidrBlock: "10.21.0.0/16", state: "associated" },
                      ],
                  }
                : {
                      id: "vpc-0default000000001",
                      default: true,
                      cidrBlock: "172.31.0.0/16",
                      cidrBlockAssociations: [{ associationId: "a0", cidrBlock: "172.31.0.0/16", state: "associated" }],
                  };
        case "aws:ec2/getRouteTables:getRouteTables": {
            // One route table per subnet: `rtb-<subnet id>`.
            const filter = (inputs.filters as { name: string; values: string[] }[] | undefined)?.find((f) => f.name === "association.subnet-id");
            return { id: MOCK_AWS.region, ids: filter ? filter.values.map((v) => `rtb-${v}`) : [] };
        }
        case "aws:ec2/getRouteTable:getRouteTable": {
            // The default VPC's subnets, and those named subnet-0ff…, are public; any other subnet is
            // private, behind a NAT gateway.
            const subnet = String(inputs.routeTableId ?? "").replace(/^rtb-/, "");
            const route =
                subnet.includes("default") || subnet.startsWith("subnet-0ff")
                    ? { cidrBlock: "0.0.0.0/0", gatewayId: "igw-0default" }
                    : { cidrBlock: "0.0.0.0/0", natGatewayId: "nat-0private" };
            return {
                id: String(inputs.routeTableId ?? "rtb-main"),
                routeTableId: inputs.routeTableId,
                routes: [{ cidrBlock: "10.0.0.0/8", gatewayId: "local" }, route],
                associations: [],
            };
        }
        case "aws:ec2/getSubnet:getSubnet": {
            // A subnet's zone, from its id: its last hex digit modulo three (0: a, 1: b, 2: c).
            const id = String(inputs.id);
            const zone = "abc"[parseInt(id.slice(-1), 16) % 3];
            // Its range, from the id too: the default VPC's /20s (172.31.0.0/16), or /24s of 10.20.0.0/16.
            const n = parseInt(id.slice(-2), 16) % 16;
            const cidrBlock = id.startsWith("subnet-0default") ? `172.31.${n * 16}.0/20` : `10.20.${n}.0/24`;
            return { id, availabilityZone: `${MOCK_AWS.region}${zone}`, vpcId: "vpc-mock", cidrBlock };
        }
        case "aws:ec2/getSubnets:getSubnets":
            return { id: MOCK_AWS.region, ids: ["subnet-0default00000001", "subnet-0default00000002", "subnet-0default00000003"] };
        case "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                id: MOCK_AWS.account,
                accountId: MOCK_AWS.account,
                arn: `arn:aws:sts::${MOCK_AWS.account}:assumed-role/deployer/pulumi`,
                userId: "AROAEXAMPLE:pulumi",
            };
        case "aws:index/getPartition:getPartition":
            return { id: "aws", partition: "aws", dnsSuffix: "amazonaws.com", reverseDnsPrefix: "com.amazonaws" };
        case "aws:index/getRegion:getRegion":
            return { id: MOCK_AWS.region, region: MOCK_AWS.region, name: MOCK_AWS.region };
    }
    throw new Error(`no mock for call ${token}`);
}

export interface MockedStackOptions {
    project: string;
    stack: string;
    config: Record<string, string>;
    secretKeys?: string[];
    preview?: boolean;
    /** Answers for provider functions that replace the defaults (e.g. an unverified Okta domain). */
    calls?: Record<string, (inputs: Record<string, unknown>) => Record<string, unknown>>;
}

/** Installs the mock runtime for one stack. Call once per process, before declaring resources. */
export async function startMockedStack(opts: MockedStackOptions): Promise<MockedStack> {
    const orgName = opts.config["okta:orgName"] ?? "example";
    const orgUrl = `https://${orgName}.${opts.config["okta:baseUrl"] ?? "okta.com"}`;
    const resources: RecordedResource[] = [];
    const calls: MockedStack["calls"] = [];
    const meta = new Map<
        string,
        {
            parentUrn?: string;
            dependencyUrns: string[];
            protect: boolean;
            rawInputs: unknown;
            read: boolean;
            importId?: string;
            ignoreChanges: string[];
            retainOnDelete: boolean;
        }
    >();

    pulumi.runtime.setAllConfig(opts.config, opts.secretKeys ?? []);
    await pulumi.runtime.setMocks(
        {
            newResource(args) {
                const inputs = unwrapSecrets(args.inputs ?? {}) as Record<string, unknown>;
                const readId = args.id || undefined; // the SDK sends "" for "not a read"
                const { id, state } =
                    args.custom === false ? { id: "", state: {} } : providerState(args.type, args.name, inputs, orgUrl, readId, opts.preview ?? false);
                const key = `${args.type}::${args.name}`;
                resources.push({
                    type: args.type,
                    name: args.name,
                    custom: args.custom !== false,
                    inputs,
                    state,
                    id,
                    urn: "",
                    read: false,
                    dependencyUrns: [],
                    protect: false,
                    ignoreChanges: [],
                    retainOnDelete: false,
                    rawInputs: {},
                    ...meta.get(key),
                });
                return { id: id || undefined, state };
            },
            call(args) {
                calls.push({ token: args.token, inputs: args.inputs as Record<string, unknown> });
                const answer = opts.calls?.[args.token];
                return answer ? answer(args.inputs as Record<string, unknown>) : providerCall(args.token, args.inputs as Record<string, unknown>);
            },
        },
        opts.project,
        opts.stack,
        opts.preview ?? false,
    );

    // Record what the mock's newResource is not told: parent, dependencies, protect, URN.
    onRegistration((req, method, urn) => {
        if (urn === undefined) {
            meta.set(`${req.getType()}::${req.getName()}`, {
                parentUrn: req.getParent() || undefined,
                dependencyUrns: req.getDependenciesList(),
                protect: req.getProtect?.() === true,
                rawInputs: (req.getObject?.() ?? req.getProperties?.())?.toJavaScript() ?? {},
                read: method === "readResource",
                importId: req.getImportid?.() || undefined,
                ignoreChanges: req.getIgnorechangesList?.() ?? [],
                retainOnDelete: req.getRetainondelete?.() === true,
            });
            return;
        }
        const recorded = resources.find((r) => r.type === req.getType() && r.name === req.getName());
        if (recorded) recorded.urn = urn;
    });

    return {
        resources,
        calls,
        settle: waitForRegistrations,
    };
}

// ---- Stack files --------------------------------------------------------------------------

/** The project name from Pulumi.yaml. */
export function projectName(root = PROJECT_ROOT): string {
    const doc = parseYaml(readFileSync(path.join(root, "Pulumi.yaml"), "utf8")) as { name: string };
    return doc.name;
}

/**
 * Reads a `Pulumi.<stack>.yaml` into the flat `namespace:key → string` map the engine hands the
 * program. Encrypted (`secure:`) values cannot be decrypted here and are left out: tests supply
 * their own stand-ins, as `pulumi config set --secret` would.
 */
export function readStackFile(file: string): Record<string, string> {
    const doc = parseYaml(readFileSync(file, "utf8")) as { config?: Record<string, unknown> } | null;
    const out: Record<string, string> = {};
    for (const [key, value] of Object.entries(doc?.config ?? {})) {
        if (value !== null && typeof value === "object" && "secure" in value) continue;
        out[key] = typeof value === "string" ? value : JSON.stringify(value);
    }
    return out;
}

/** Stand-ins for the secrets a real stack sets with `pulumi config set --secret`. Test-only values. */
export const STAND_IN_SECRETS: Record<string, string> = {
    "okta:privateKey": "-----BEGIN PRIVATE KEY-----\nstand-in-for-tests-only\n-----END PRIVATE KEY-----",
};

const STAND_IN_API_TOKEN = "00stand-in-ssws-token-for-the-offline-rehearsal";

/**
 * The stand-in for the Okta credential a stack file uses: the one it holds encrypted
 * (`okta:apiToken: {secure: …}`), else the private key when the file configures its client id and
 * scopes (the value then comes from an ESC environment), else an SSWS token; none when the file
 * holds a credential in plain text.
 */
export function standInSecretsFor(file: string): Record<string, string> {
    const doc = parseYaml(readFileSync(file, "utf8")) as { config?: Record<string, unknown> } | null;
    const config = doc?.config ?? {};
    const secure = (key: string) => {
        const v = config[key];
        return v !== null && typeof v === "object" && "secure" in v;
    };
    // A credential in plain text stays as it is: the program refuses it, naming the key, rather
    // than a stand-in hiding it (or clashing with it as a second credential).
    if (["okta:privateKey", "okta:apiToken", "okta:accessToken"].some((key) => config[key] !== undefined && !secure(key))) return {};
    if (secure("okta:apiToken")) return { "okta:apiToken": STAND_IN_API_TOKEN };
    if (secure("okta:accessToken")) return { "okta:accessToken": STAND_IN_API_TOKEN };
    if (secure("okta:privateKey") || (config["okta:clientId"] !== undefined && config["okta:scopes"] !== undefined)) return STAND_IN_SECRETS;
    return { "okta:apiToken": STAND_IN_API_TOKEN };
}

/**
 * Whether an Output's value is known: false at preview for what only `up` learns (an image's
 * digest). The SDK's Output carries it as the promise `isKnown`, which it does not declare.
 */
export function isKnown(o: pulumi.Output<unknown>): Promise<boolean> {
    return (o as unknown as { isKnown: Promise<boolean> }).isKnown;
}

/** Resolves an Output (or plain value) to its value. Never call on an unknown value in preview. */
export function valueOf<T>(o: pulumi.Input<T>): Promise<pulumi.Unwrap<T>> {
    return new Promise((resolve) => pulumi.output(o).apply((v) => resolve(v)));
}

export interface ProgramRun {
    stack: MockedStack;
    outputs: Record<string, unknown>;
}

/**
 * Runs index.ts under the mock runtime with a stack file's config, as `pulumi up` (or
 * `pulumi preview`) would, and returns the recorded resources and the module's exports.
 */
export async function runProgram(opts: {
    stackName: string;
    stackFile?: string;
    preview?: boolean;
    extraConfig?: Record<string, string>;
    secrets?: Record<string, string>;
    calls?: MockedStackOptions["calls"];
}): Promise<ProgramRun> {
    const file = opts.stackFile ?? path.join(PROJECT_ROOT, `Pulumi.${opts.stackName}.yaml`);
    const secrets = opts.secrets ?? STAND_IN_SECRETS;
    const stack = await startMockedStack({
        project: projectName(),
        stack: opts.stackName,
        config: { ...readStackFile(file), ...opts.extraConfig, ...secrets },
        secretKeys: Object.keys(secrets),
        preview: opts.preview,
        calls: opts.calls,
    });
    const outputs = (await import(path.join(PROJECT_ROOT, "index.ts"))) as Record<string, unknown>;
    await stack.settle();
    return { stack, outputs };
}

/** A ConfigSource over a flat config map, as the engine would serve it. */
export function configSourceFromMap(config: Record<string, string>, secretKeys: string[] = []): ConfigSource {
    return {
        get: (ns, key) => (secretKeys.includes(`${ns}:${key}`) ? undefined : config[`${ns}:${key}`]),
        hasSecret: (ns, key) => config[`${ns}:${key}`] !== undefined,
        keys: (ns) => keysIn(Object.keys(config), ns),
        allKeys: () => Object.keys(config),
        isSecret: (ns, key) => secretKeys.includes(`${ns}:${key}`),
    };
}
