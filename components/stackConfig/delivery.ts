// `credentialDelivery`: how each generated client secret (and each consumer's facts) reaches its
// own consumer, and no other. Pure.
import type { z } from "zod";
import type { RawConsumer } from "./consumers";
import { ESC_TEAM, IAM_PRINCIPAL, type credentialDeliverySchema } from "./schema";
import type { CredentialDeliverySpec } from "./spec";

export type RawDelivery = z.infer<typeof credentialDeliverySchema>;

/** A consumer whose client secret this stack generates, so something must carry it to that consumer. */
export function hasSecretToDeliver(c: RawConsumer): boolean {
    return c.jwks === undefined && c.jwksUri === undefined && c.existingAppId === undefined;
}

/**
 * Credential delivery: every secret the stack generates reaches its own consumer's readers only.
 * Without a delivery method no secret would reach anyone, so it is required as soon as one
 * consumer has a secret. Consumers without one (private_key_jwt, adopted apps) may name readers
 * too, who then find the consumer's client id, token URL, scope and limit in its own place.
 */
export function credentialDeliveryProblems(delivery: RawDelivery | undefined, consumers: RawConsumer[], index: number[], k: (key: string) => string): string[] {
    const problems: string[] = [];
    const at = k("credentialDelivery");
    const withSecret = consumers.filter(hasSecretToDeliver).map((c) => c.name);
    if (!delivery) {
        if (withSecret.length) {
            problems.push(
                `${at}: is required because ${withSecret.join(", ")} authenticate${withSecret.length === 1 ? "s" : ""} with a client secret: method esc (one Pulumi ESC environment per consumer) ` +
                    "or awsSecretsManager (one secret per consumer), each readable by that consumer's consumers[].readers only; " +
                    "or give the consumer jwks (private_key_jwt: no secret at all, recommended)",
            );
        }
        consumers.forEach((c, i) => c.readers && problems.push(`${k("consumers")}[${index[i]}].readers: applies only with ${at}`));
        return problems;
    }
    if (delivery.method === "esc" && !delivery.esc)
        problems.push(`${at}.esc.organization: is required with method esc (the Pulumi Cloud organization that holds the environments)`);
    if (delivery.method !== "esc" && delivery.esc) problems.push(`${at}.esc: applies only to method esc`);
    if (delivery.method !== "awsSecretsManager" && delivery.awsSecretsManager)
        problems.push(`${at}.awsSecretsManager: applies only to method awsSecretsManager`);
    consumers.forEach((c, i) => {
        const where = `${k("consumers")}[${index[i]}].readers`;
        if (delivery.method === "stackOutputs") {
            if (c.readers)
                problems.push(`${where}: applies only to methods esc and awsSecretsManager; with stackOutputs whoever may read the stack reads every secret`);
            return;
        }
        // Without a secret (private_key_jwt, adopted) readers are optional: they receive the
        // consumer's facts (client id, token URL, scope, limit) in the same kind of place.
        if (!c.readers && hasSecretToDeliver(c)) {
            problems.push(
                `${where}: is required with ${at}.method ${delivery.method}: who may read ${c.name}'s secret (` +
                    (delivery.method === "esc" ? "Pulumi Cloud team names" : "IAM principal ARNs such as arn:aws:iam::123456789012:role/inventory-sync") +
                    ")",
            );
            return;
        }
        const pattern = delivery.method === "esc" ? ESC_TEAM : IAM_PRINCIPAL;
        (c.readers ?? []).forEach((r, j) => {
            if (!pattern.test(r)) {
                problems.push(
                    `${where}[${j}]: must be ${delivery.method === "esc" ? "a Pulumi Cloud team name" : "an IAM role, user or account-root ARN (arn:aws:iam::<account>:role/<name>)"}, got ${r}`,
                );
            }
        });
    });
    return problems;
}

export function credentialDeliverySpec(
    delivery: RawDelivery | undefined,
    ctx: { project: string; stack: string },
    production: boolean,
): CredentialDeliverySpec {
    switch (delivery?.method) {
        case undefined:
            return { method: "none" };
        case "esc":
            return {
                method: "esc",
                organization: delivery.esc?.organization ?? "",
                project: delivery.esc?.project ?? `${ctx.project}-consumers`,
                apiReaders: delivery.esc?.apiReaders ?? [],
            };
        case "awsSecretsManager":
            return {
                method: "awsSecretsManager",
                namePrefix: delivery.awsSecretsManager?.namePrefix ?? `${ctx.project}/${ctx.stack}/`,
                // A deleted secret's name stays taken for its recovery window, so a dev stack that is
                // destroyed and brought up again could not recreate it (AWS: DeleteSecret,
                // RecoveryWindowInDays / ForceDeleteWithoutRecovery): no window outside production.
                recoveryWindowInDays: delivery.awsSecretsManager?.recoveryWindowInDays ?? (production ? 30 : 0),
            };
        case "stackOutputs":
            return { method: "stackOutputs" };
    }
}
