// Makes sure policy-gateway/dist/gateway.mjs is built from the current sources before an image is
// built from it, and names the bundle by its content.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";

export const GATEWAY_DIR = path.resolve(__dirname, "..", "policy-gateway");

/** Stale when missing or older than any input. Pure. */
export function bundleIsStale(bundleMtimeMs: number | undefined, inputMtimesMs: number[]): boolean {
    return bundleMtimeMs === undefined || inputMtimesMs.some((m) => m > bundleMtimeMs);
}

/** What the bundle and its SBOM are made from: every source file (the layers are folders), the build script, the lock file, the base image pin. */
export function inputsOf(gatewayDir: string): string[] {
    const src = path.join(gatewayDir, "src");
    return [
        ...readdirSync(src, { recursive: true, encoding: "utf8" })
            .filter((f) => f.endsWith(".ts"))
            .map((f) => path.join(src, f)),
        path.join(gatewayDir, "build.mjs"),
        path.join(gatewayDir, "..", "package-lock.json"),
        path.join(gatewayDir, "base-image", "Dockerfile"),
    ].filter(existsSync);
}

/** Rebuilds the bundle if stale; returns its path and SHA-256. */
export function ensureGatewayBundle(gatewayDir = GATEWAY_DIR): { file: string; sha256: string; rebuilt: boolean } {
    const file = path.join(gatewayDir, "dist", "gateway.mjs");
    // The older of the two outputs: a missing SBOM rebuilds too.
    const sbom = path.join(gatewayDir, "dist", "sbom.cdx.json");
    const bundleMtime = existsSync(file) && existsSync(sbom) ? Math.min(statSync(file).mtimeMs, statSync(sbom).mtimeMs) : undefined;
    const stale = bundleIsStale(
        bundleMtime,
        inputsOf(gatewayDir).map((f) => statSync(f).mtimeMs),
    );
    if (stale) execFileSync(process.execPath, [path.join(gatewayDir, "build.mjs")], { stdio: ["ignore", "ignore", "inherit"] });
    return { file, sha256: createHash("sha256").update(readFileSync(file)).digest("hex"), rebuilt: stale };
}

/**
 * A digest of every file under the build context directory: relative name, permission bits and
 * content, in a stable order. A superset of what the docker provider hashes (it skips what
 * `.dockerignore` excludes), so whenever the provider sees a changed context, so does this.
 */
export function buildContextDigest(contextDir: string): string {
    const files: string[] = [];
    const walk = (dir: string) => {
        for (const entry of readdirSync(dir, { withFileTypes: true })) {
            const full = path.join(dir, entry.name);
            if (entry.isDirectory()) walk(full);
            else files.push(full);
        }
    };
    walk(contextDir);
    const h = createHash("sha256");
    for (const file of files.map((f) => path.relative(contextDir, f).split(path.sep).join("/")).sort()) {
        const full = path.join(contextDir, file);
        const mode = (statSync(full).mode & 0o7777).toString(8);
        h.update(`${file}\0${mode}\0`)
            .update(createHash("sha256").update(readFileSync(full)).digest())
            .update("\0");
    }
    return h.digest("hex");
}
