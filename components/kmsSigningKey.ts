import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface KmsSigningKeyArgs {
    /** What the key signs, for the console and CloudTrail readers. */
    description: string;
    /** Days a removed key waits before KMS deletes it (7 to 30); within them a deletion can be cancelled. */
    deletionWindowInDays: number;
}

/**
 * An RSA key in AWS KMS that signs and never leaves KMS: `keyUsage: SIGN_VERIFY`,
 * `customerMasterKeySpec: RSA_2048` (pulumi-aws kms.Key; AWS KMS Developer Guide, "RSA key specs
 * for signing and verification": RSASSA_PKCS1_V1_5_SHA_256, JWS "RS256"). No key policy is given,
 * so KMS applies its default one (the account may delegate to IAM: "Default key policy"), and what
 * may sign with it is said by the task role's own policy, which names this key alone. Automatic
 * rotation does not exist for asymmetric keys: a rotation is a second key, listed beside the first.
 *
 * Its public half is read back with aws.kms.getPublicKey by the key's ARN (terraform-provider-aws
 * internal/service/kms/public_key_data_source.go: GetPublicKey with the `key_id` given, and
 * `public_key_pem` the DER SubjectPublicKeyInfo as a "PUBLIC KEY" PEM block).
 */
export class KmsSigningKey extends pulumi.ComponentResource {
    public readonly keyArn: pulumi.Output<string>;
    /** SPKI PEM of the public key: what the Okta app's JWKS lists. */
    public readonly publicKeyPem: pulumi.Output<string>;

    constructor(name: string, args: KmsSigningKeyArgs, opts?: pulumi.ComponentResourceOptions) {
        super("okta-api-gateway:aws:KmsSigningKey", name, {}, opts);
        const key = new aws.kms.Key(
            `${name}-kms`,
            {
                description: args.description,
                keyUsage: "SIGN_VERIFY",
                customerMasterKeySpec: "RSA_2048",
                deletionWindowInDays: args.deletionWindowInDays,
            },
            { parent: this },
        );
        this.keyArn = key.arn;
        this.publicKeyPem = aws.kms.getPublicKeyOutput({ keyId: key.arn }, { parent: this }).publicKeyPem;
        this.registerOutputs({ keyArn: this.keyArn, publicKeyPem: this.publicKeyPem });
    }
}
