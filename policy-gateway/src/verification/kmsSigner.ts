// I/O towards AWS KMS: signs the introspection client's assertion with a key that never leaves KMS.
// AWS KMS API Reference, Sign: KeyId (a key ARN), Message (up to 4096 bytes), MessageType RAW (KMS
// hashes it), SigningAlgorithm RSASSA_PKCS1_V1_5_SHA_256 (JWS "RS256", RFC 7518 §3.3); the answer's
// Signature is the raw PKCS #1 v1.5 signature, as a JWS carries it. The task's credentials come
// from the SDK's default chain (on ECS, the task role); `AWS_ENDPOINT_URL_KMS` points it elsewhere
// (the SDK's service-specific endpoint variable), as the tests do with a local KMS.
import type { KMSClient } from "@aws-sdk/client-kms";
import type { RemoteSigner } from "./clientAuth";

/** The region of a KMS key ARN, `arn:<partition>:kms:<region>:<account>:key/<id>`: where it signs. Pure. */
export function regionOfKeyArn(keyArn: string): string {
    const region = keyArn.split(":")[3];
    if (!region) throw new Error(`INTROSPECTION_CLIENT_KMS_KEY_ARN: ${keyArn} names no region`);
    return region;
}

/**
 * One KMS client per region, kept for the process; each signature gives up after `timeoutMs`. The
 * SDK is loaded on first use: a gateway without a KMS key never starts it.
 */
export function kmsSigner(timeoutMs: number): RemoteSigner {
    const clients = new Map<string, KMSClient>();
    let sdk: Promise<typeof import("@aws-sdk/client-kms")> | undefined;
    return async (keyArn, signingInput) => {
        const { KMSClient, SignCommand } = await (sdk ??= import("@aws-sdk/client-kms"));
        const region = regionOfKeyArn(keyArn);
        let client = clients.get(region);
        if (!client) {
            client = new KMSClient({ region, maxAttempts: 2 });
            clients.set(region, client);
        }
        const answer = await client.send(
            new SignCommand({ KeyId: keyArn, Message: signingInput, MessageType: "RAW", SigningAlgorithm: "RSASSA_PKCS1_V1_5_SHA_256" }),
            { abortSignal: AbortSignal.timeout(timeoutMs) },
        );
        if (!answer.Signature) throw new Error("KMS Sign answered without a signature");
        return answer.Signature;
    };
}
