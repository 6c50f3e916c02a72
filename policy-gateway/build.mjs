// Bundles the gateway into one file, policy-gateway/dist/gateway.mjs, that runs with `node` alone.
import { build } from "esbuild";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));
await build({
    entryPoints: [`${here}src/server/main.ts`],
    outfile: `${here}dist/gateway.mjs`,
    bundle: true,
    platform: "node",
    target: "node24",
    format: "esm",
    legalComments: "none",
    // build_info's version label.
    define: { __GATEWAY_VERSION__: JSON.stringify(JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")).version) },
    logLevel: "warning",
    // Some bundled CommonJS dependencies call require() at run time.
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
});
