// The real policy-gateway/Dockerfile, built and run by a Docker engine with --network host (all
// traffic stays on loopback), answering the MuleSoft walkthrough against the local authorization
// server. Needs a running Docker engine with host networking and the base image (`.ci/run`
// provides both); without them the test is skipped with the reason.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { assertWalkthrough, gatewayEnv, INTROSPECTION_CLIENT, type SampleUpstream, send, startOktaAndUpstream } from "./support/gatewayHarness";
import type { LocalOkta } from "../harness/localOkta";
import { imageAnnotations } from "../components/gatewayImage";
import { PROJECT_ROOT } from "../harness/stackHarness";
import { healthCheckCommand } from "../policy-gateway/src/config/contract";
import { freePort, untilReady } from "../harness/gatewayProcess";

const IMAGE = "okta-api-gateway/policy-gateway:container-test";
const engine = spawnSync("docker", ["info", "--format", "{{.ServerVersion}}"], { encoding: "utf8", timeout: 15_000 });

/**
 * Whether `--network host` reaches this machine's loopback: true on a Linux engine, false on
 * Docker Desktop unless its host networking is enabled (the container would then wait for a
 * gateway it can never reach). Probed for real: a listener on 127.0.0.1 here, fetched from a
 * container of the base image.
 */
function hostNetworkingWorks(): boolean {
    // The listener takes a free port (never a fixed one) and writes it where the probe reads it.
    const portFile = path.join(mkdtempSync(path.join(tmpdir(), "hostnet-")), "port");
    const server = `require("http").createServer((q, s) => s.end("ok")).listen(0, "127.0.0.1", function () { require("fs").writeFileSync(process.argv[1], String(this.address().port)) })`;
    const probe = `fetch("http://127.0.0.1:" + process.argv[1]).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`;
    const script = `"${process.execPath}" -e '${server}' "${portFile}" & pid=$!; sleep 1; docker run --rm --network host node:24-bookworm-slim node -e '${probe}' "$(cat "${portFile}")"; rc=$?; kill $pid; exit $rc`;
    return spawnSync("bash", ["-c", script], { timeout: 60_000 }).status === 0;
}

const skip =
    engine.status !== 0
        ? "no Docker engine is running here (.ci/run installs and starts one)"
        : !hostNetworkingWorks()
          ? "the Docker engine here has no host networking: --network host does not reach this machine's loopback (Docker Desktop: Settings → Resources → Network → Enable host networking)"
          : false;

const docker = (...args: string[]) => execFileSync("docker", args, { encoding: "utf8", timeout: 120_000 }).trim();

describe("the gateway container", { skip }, () => {
    let okta: LocalOkta;
    let upstream: SampleUpstream;
    let container = "";
    let base = "";

    before(async () => {
        // On the local stand-in base image (no registry here), with the annotations the stack passes.
        const labels = imageAnnotations({ GITHUB_SERVER_URL: "https://github.com", GITHUB_REPOSITORY: "acme/okta-api-gateway" });
        docker(
            "build",
            "-q",
            "-t",
            IMAGE,
            ...Object.entries(labels).flatMap(([k, v]) => ["--build-arg", `${k}=${v}`]),
            path.join(PROJECT_ROOT, "policy-gateway"),
        );
        ({ okta, upstream } = await startOktaAndUpstream());
        const [port, adminPort] = [await freePort(), await freePort()];
        const env = gatewayEnv(okta, upstream, { PORT: String(port), ADMIN_PORT: String(adminPort) });
        container = docker("run", "-d", "--network", "host", "--health-interval", "1s", ...Object.entries(env).flatMap(([k, v]) => ["-e", `${k}=${v}`]), IMAGE);
        base = `http://127.0.0.1:${port}`;
        const deadline = Date.now() + 60_000;
        while (docker("inspect", "--format", "{{.State.Health.Status}}", container) !== "healthy") {
            if (Date.now() > deadline) throw new Error(`container not healthy: ${docker("logs", container)}`);
            await new Promise((r) => setTimeout(r, 250));
        }
        await untilReady(`http://127.0.0.1:${adminPort}`, { what: "the container's gateway" });
    });
    after(async () => {
        if (container) spawnSync("docker", ["rm", "-f", container]);
        await upstream?.stop();
        await okta?.stop();
    });

    it("is built from the bundle alone, declares both ports, a HEALTHCHECK and the node user", () => {
        const config = JSON.parse(docker("image", "inspect", "--format", "{{json .Config}}", IMAGE)) as {
            User: string;
            ExposedPorts: Record<string, unknown>;
            Healthcheck: { Test: string[] };
            Cmd: string[];
        };
        assert.equal(config.User, "node");
        assert.deepEqual(Object.keys(config.ExposedPorts).sort(), ["8080/tcp", "9090/tcp"]);
        assert.deepEqual(config.Healthcheck.Test, healthCheckCommand(), "the readiness check the stack's containers and tasks use too");
        assert.deepEqual(config.Cmd, ["node", "/app/gateway.mjs"]);
        assert.equal(docker("run", "--rm", "--entrypoint", "ls", IMAGE, "/app"), "gateway.mjs\nsbom.cdx.json");
    });

    it("carries the OCI annotations (version, revision, source, base image) and its SBOM", () => {
        const labels = JSON.parse(docker("image", "inspect", "--format", "{{json .Config.Labels}}", IMAGE)) as Record<string, string>;
        const expected = imageAnnotations({ GITHUB_SERVER_URL: "https://github.com", GITHUB_REPOSITORY: "acme/okta-api-gateway" });
        assert.equal(labels["org.opencontainers.image.version"], expected.VERSION);
        assert.equal(labels["org.opencontainers.image.revision"], expected.REVISION);
        assert.equal(labels["org.opencontainers.image.source"], "https://github.com/acme/okta-api-gateway");
        assert.equal(labels["org.opencontainers.image.base.name"], "node:24-bookworm-slim");
        const sbom = JSON.parse(docker("run", "--rm", "--entrypoint", "cat", IMAGE, "/app/sbom.cdx.json")) as {
            bomFormat: string;
            components: { name: string }[];
        };
        assert.equal(sbom.bomFormat, "CycloneDX");
        assert.ok(sbom.components.some((c) => c.name === "jose"));
    });

    it("runs as a non-root user and turns healthy", () => {
        assert.equal(docker("exec", container, "node", "-e", "process.stdout.write(String(process.getuid()))"), "1000");
        assert.equal(docker("inspect", "--format", "{{.State.Health.Status}}", container), "healthy");
    });

    it("never turns healthy when its issuer cannot be loaded, so an orchestrator rolls it back", async () => {
        const [port, adminPort, closed] = [await freePort(), await freePort(), await freePort()];
        const env = gatewayEnv(okta, upstream, { PORT: String(port), ADMIN_PORT: String(adminPort), OIDC_ISSUER: `http://127.0.0.1:${closed}/oauth2/wrong` });
        const bad = docker(
            "run",
            "-d",
            "--network",
            "host",
            "--health-interval",
            "1s",
            "--health-start-period",
            "1s",
            "--health-retries",
            "2",
            ...Object.entries(env).flatMap(([k, v]) => ["-e", `${k}=${v}`]),
            IMAGE,
        );
        try {
            const seen = new Set<string>();
            const deadline = Date.now() + 20_000;
            let status = "";
            while (status !== "unhealthy" && Date.now() < deadline) {
                status = docker("inspect", "--format", "{{.State.Health.Status}}", bad);
                seen.add(status);
                await new Promise((r) => setTimeout(r, 250));
            }
            assert.equal(status, "unhealthy");
            assert.ok(!seen.has("healthy"), "never healthy on the way");
            assert.equal((await fetch(`http://127.0.0.1:${adminPort}/healthz`)).status, 200, "alive, just not ready");
        } finally {
            spawnSync("docker", ["rm", "-f", bad]);
        }
    });

    it("answers the MuleSoft walkthrough as the process does", async () => {
        const token = await assertWalkthrough(base, okta, upstream);
        assert.equal((await send(base, "/api/products", { headers: { authorization: "Bearer forged" } })).status, 401);
        const logs = docker("logs", container);
        assert.ok(!logs.includes(token) && !logs.includes(INTROSPECTION_CLIENT.clientSecret), "no token or secret in the container's logs");
    });
});
