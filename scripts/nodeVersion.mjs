// The Node.js version the project needs, from package.json's `engines.node` (`>=24 <25`), and a
// message that says how to get it. Plain JavaScript, so it runs on any Node.js, before tsx.
import { readFileSync } from "node:fs";

/** Why `version` (such as `20.20.2`) does not satisfy `engines` (`>=24 <25`); undefined when it does. Pure. */
export function nodeVersionProblem(version, engines) {
    const major = Number(version.replace(/^v/, "").split(".")[0]);
    const min = Number(/>=\s*(\d+)/.exec(engines)?.[1] ?? 0);
    const below = Number(/<\s*(\d+)/.exec(engines)?.[1] ?? Infinity);
    if (major >= min && major < below) return undefined;
    return (
        `okta-api-gateway needs Node.js ${min} (package.json engines: "${engines}"); this is Node.js v${version.replace(/^v/, "")}.\n` +
        `  nvm:  nvm install     (reads .nvmrc)\n` +
        `  fnm:  fnm use --install-if-missing\n` +
        `  Linux x64 without either:  source .ci/node24.sh   (Node.js ${min} from the npm registry, first on PATH)`
    );
}

export function requiredEngines(packageJsonUrl = new URL("../package.json", import.meta.url)) {
    return JSON.parse(readFileSync(packageJsonUrl, "utf8")).engines.node;
}

/** Exits 1 with the message when this Node.js is not the one package.json asks for. */
export function exitUnlessSupportedNode() {
    const problem = nodeVersionProblem(process.versions.node, requiredEngines());
    if (problem) {
        process.stderr.write(problem + "\n");
        process.exit(1);
    }
}

// Run as a script (the first step of the npm scripts).
if (import.meta.url === `file://${process.argv[1]}`) exitUnlessSupportedNode();
