// A local AWS KMS on loopback, for the tests of the gateway's KMS-signed client assertion: moto's
// server (`moto_server`, the Python moto package on the build machines; .ci/tools.sh checks it),
// which implements CreateKey, GetPublicKey and Sign with real RSA keys and answers an unknown key
// with NotFoundException as KMS does (it does not refuse a disabled key). Its keys are made with the AWS SDK the gateway uses, so what the
// gateway sends is parsed by an implementation of the KMS API that is not ours.
import { CreateKeyCommand, GetPublicKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import { spawn } from "node:child_process";
import { createPublicKey } from "node:crypto";
import { freePort } from "./gatewayProcess";

export interface KmsServer {
    /** What the gateway's AWS SDK needs to reach it instead of AWS (`AWS_ENDPOINT_URL_KMS` and stand-in credentials). */
    environment: Record<string, string>;
    /** A new RSA_2048 SIGN_VERIFY key, as the stack declares it: its ARN and public key (SPKI PEM, as aws.kms.getPublicKey gives it). */
    createSigningKey(): Promise<{ arn: string; publicKeyPem: string }>;
    stop(): Promise<void>;
}

const REGION = "eu-west-1";

export async function startKmsServer(): Promise<KmsServer> {
    const port = await freePort();
    const child = spawn("moto_server", ["-H", "127.0.0.1", "-p", String(port)], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    const spawned = new Promise<void>((resolve, reject) => {
        child.once("error", (e: NodeJS.ErrnoException) =>
            reject(new Error(e.code === "ENOENT" ? "moto_server is not installed: .ci/tools.sh says where it comes from" : `moto_server: ${e.message}`)),
        );
        child.once("spawn", resolve);
    });
    await spawned;
    const endpoint = `http://127.0.0.1:${port}`;
    const environment = {
        AWS_ENDPOINT_URL_KMS: endpoint,
        AWS_ACCESS_KEY_ID: "testing",
        AWS_SECRET_ACCESS_KEY: "testing",
        AWS_REGION: REGION,
    };
    const client = new KMSClient({ region: REGION, endpoint, credentials: { accessKeyId: "testing", secretAccessKey: "testing" } });
    const deadline = Date.now() + 20_000;
    for (;;) {
        if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode}: ${stderr}`);
        try {
            await fetch(`${endpoint}/moto-api/`);
            break;
        } catch {
            if (Date.now() > deadline) throw new Error(`moto_server did not answer on port ${port} within 20 s`);
            await new Promise((r) => setTimeout(r, 100));
        }
    }
    return {
        environment,
        async createSigningKey() {
            const made = await client.send(new CreateKeyCommand({ KeySpec: "RSA_2048", KeyUsage: "SIGN_VERIFY", Description: "policy-gateway test" }));
            const arn = made.KeyMetadata!.Arn!;
            const pub = await client.send(new GetPublicKeyCommand({ KeyId: arn }));
            const publicKeyPem = createPublicKey({ key: Buffer.from(pub.PublicKey!), format: "der", type: "spki" })
                .export({ format: "pem", type: "spki" })
                .toString();
            return { arn, publicKeyPem };
        },
        async stop() {
            client.destroy();
            if (child.exitCode === null) {
                child.kill("SIGTERM");
                await new Promise((r) => child.once("exit", r));
            }
        },
    };
}
