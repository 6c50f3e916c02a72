// Bundles the gateway into one file, policy-gateway/dist/gateway.mjs, that runs with `node` alone,
// and writes its SBOM beside it, dist/sbom.cdx.json (CycloneDX 1.5): exactly the npm packages the
// bundle contains (from esbuild's metafile, not the whole lock file) and the pinned base image.
import { build } from "esbuild";
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = fileURLToPath(new URL(".", import.meta.url));
const root = path.resolve(here, "..");
const version = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")).version;
const result = await build({
    entryPoints: [`${here}src/server/main.ts`],
    outfile: `${here}dist/gateway.mjs`,
    bundle: true,
    platform: "node",
    target: "node24",
    format: "esm",
    legalComments: "none",
    metafile: true,
    // build_info's version label.
    define: { __GATEWAY_VERSION__: JSON.stringify(version) },
    logLevel: "warning",
    // Some bundled CommonJS dependencies call require() at run time.
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
});

/** The package each bundled file belongs to: the innermost node_modules/<name> (or <@scope/name>) of its path. */
function packageDirOf(input) {
    const parts = input.split("/");
    const at = parts.lastIndexOf("node_modules");
    if (at < 0) return undefined;
    const name = parts[at + 1]?.startsWith("@") ? `${parts[at + 1]}/${parts[at + 2]}` : parts[at + 1];
    return parts.slice(0, at + 1).join("/") + "/" + name;
}

const packages = new Map();
for (const input of Object.keys(result.metafile.inputs)) {
    const dir = packageDirOf(input);
    if (!dir || packages.has(dir)) continue;
    const manifest = JSON.parse(readFileSync(path.resolve(root, dir, "package.json"), "utf8"));
    packages.set(dir, manifest);
}
const baseImage = /^FROM\s+(\S+)\s*$/m.exec(readFileSync(path.join(here, "base-image", "Dockerfile"), "utf8"))?.[1] ?? "unknown";
const [baseName, baseDigest] = baseImage.split("@");
const components = [...packages.values()]
    .map((m) => ({
        type: "library",
        "bom-ref": `pkg:npm/${m.name}@${m.version}`,
        name: m.name,
        version: m.version,
        purl: `pkg:npm/${m.name.replace(/^@/, "%40")}@${m.version}`,
        ...(typeof m.license === "string" ? { licenses: [{ expression: m.license }] } : {}),
    }))
    .sort((a, b) => a["bom-ref"].localeCompare(b["bom-ref"]));
components.push({
    type: "container",
    "bom-ref": baseImage,
    name: baseName,
    version: baseDigest ?? "",
    description: "the base image (policy-gateway/base-image/Dockerfile)",
});
// No serial number or timestamp: the same sources give the same bytes, so the image's build
// context (and its tag) changes only when what it contains does.
const sbom = {
    bomFormat: "CycloneDX",
    specVersion: "1.5",
    version: 1,
    metadata: { component: { type: "application", "bom-ref": "policy-gateway", name: "policy-gateway", version } },
    components,
    dependencies: [{ ref: "policy-gateway", dependsOn: components.map((c) => c["bom-ref"]) }],
};
writeFileSync(`${here}dist/sbom.cdx.json`, `${JSON.stringify(sbom, null, 2)}\n`);
