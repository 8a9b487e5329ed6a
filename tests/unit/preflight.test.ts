import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeFailure, dockerBinary, runDocker } from "../../gates/docker";
import { preflightResult, readDockerInfo } from "../../gates/preflight";
import { GateError } from "../../gates/result";
import { runGate, scriptedDocker, ScriptedDocker } from "./helpers/scriptedDocker";

// Captured on this kind of machine (fields trimmed): `docker info --format '{{json .}}'`.
function infoJson(rootDir: string): string {
  return JSON.stringify({
    ID: "HFJO:X7HP:VOKL:FONQ:CF37:V67V:EH2S:SPKU:DFVE:XBQY:GWPT:WL2Y",
    Driver: "overlay2",
    DockerRootDir: rootDir,
    ServerVersion: "20.10.24+dfsg1",
    OperatingSystem: "Debian GNU/Linux 12 (bookworm)",
    ClientInfo: { Debug: false, Version: "28.2.2", Context: "default" },
  });
}
/** Debian's 20.10 client with no daemon: exit 0, the error inside the JSON. */
const INFO_SERVER_ERRORS =
  '{"ServerErrors":["Cannot connect to the Docker daemon at unix:///nonexistent.sock. Is the docker daemon running?"],"ClientInfo":{"Debug":false,"Context":"default","Plugins":[],"Warnings":null}}\n';
/** Client 28 with no daemon: exit 1, an empty server section on stdout, the error on stderr. */
const INFO_EMPTY_SERVER =
  '{"ID":"","Containers":0,"Driver":"","ServerVersion":"","DockerRootDir":""}\n';

const GB = 1e9;

describe("preflight (pure)", () => {
  it("reads a healthy docker info", () => {
    assert.deepEqual(readDockerInfo(0, infoJson("/var/lib/docker"), ""), {
      ok: true,
      serverVersion: "20.10.24+dfsg1",
      rootDir: "/var/lib/docker",
    });
  });

  it("treats ServerErrors as unavailable even when the CLI exits 0 (Debian's 20.10 client)", () => {
    const probe = readDockerInfo(0, INFO_SERVER_ERRORS, "");
    assert.equal(probe.ok, false);
    assert.match(probe.problem ?? "", /^Cannot connect to the Docker daemon/);
  });

  it("treats a failing docker info, garbage, or no server version as unavailable", () => {
    const down = readDockerInfo(
      1,
      INFO_EMPTY_SERVER,
      "Cannot connect to the Docker daemon at unix:///x.sock.\n",
    );
    assert.equal(down.ok, false);
    assert.equal(
      down.problem,
      "docker info exited 1: Cannot connect to the Docker daemon at unix:///x.sock.",
    );
    assert.equal(readDockerInfo(0, "not json", "").ok, false);
    assert.equal(
      readDockerInfo(0, INFO_EMPTY_SERVER, "").problem,
      "docker info reported no server",
    );
  });

  const docker = { ok: true, serverVersion: "20.10.24", rootDir: "/var/lib/docker" };
  const min = { bytes: 10 * GB, text: "10GB" };

  it("passes with Docker up and enough free disk, with the figures", () => {
    const r = preflightResult(
      docker,
      {
        path: "/var/lib/docker",
        source: "Docker root dir",
        freeBytes: 83.6 * GB,
        totalBytes: 270 * GB,
      },
      min,
    );
    assert.equal(r.verdict, "pass");
    assert.equal(
      r.summary,
      "Docker 20.10.24 answers; 83.6 GB free at /var/lib/docker (Docker root dir), ≥ the 10GB needed",
    );
    assert.equal(r.figures.freeBytes, 83.6 * GB);
    assert.equal(r.figures.minFreeBytes, 10 * GB);
    assert.equal(r.figures.dockerAvailable, true);
  });

  it("blocks with DISK_SPACE_LOW and the figures when free space is below the minimum", () => {
    const r = preflightResult(
      docker,
      { path: "/var/lib/docker", source: "Docker root dir", freeBytes: 7.5 * GB },
      min,
    );
    assert.equal(r.code, "DISK_SPACE_LOW");
    assert.equal(r.summary, "7.5 GB free at /var/lib/docker, need at least 10GB (10 GB)");
    assert.ok(r.details.includes("short by 2.5 GB"));
  });

  it("blocks with DISK_SPACE_LOW when the disk cannot be measured (fail closed)", () => {
    const r = preflightResult(
      docker,
      { path: "/nope", source: "--path", problem: "ENOENT: no such file or directory" },
      min,
    );
    assert.equal(r.code, "DISK_SPACE_LOW");
    assert.match(r.summary, /^cannot measure free disk at \/nope: ENOENT/);
  });

  it("blocks with DOCKER_UNAVAILABLE first, and still reports the disk", () => {
    const r = preflightResult(
      { ok: false, problem: "Cannot connect to the Docker daemon" },
      { path: "/w", source: "cwd", freeBytes: 1 * GB },
      min,
    );
    assert.equal(r.code, "DOCKER_UNAVAILABLE");
    assert.equal(r.summary, "Docker is unavailable: Cannot connect to the Docker daemon");
    assert.match(r.details.join("\n"), /disk: 1 GB free at \/w \(cwd\), below the 10GB needed/);
  });
});

describe("preflight gate CLI with a scripted docker", () => {
  let docker: ScriptedDocker;
  let dir: string;
  beforeEach(() => {
    docker = scriptedDocker();
    dir = mkdtempSync(join(tmpdir(), "slipway-preflight-"));
  });
  afterEach(() => {
    docker.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it("measures Docker's root dir by default and passes with a small minimum", async () => {
    docker.setRules([{ when: ["info"], stdout: infoJson(dir) }]);
    const r = await runGate(["preflight", "--min-free", "1MB"], docker.env);
    assert.equal(r.code, 0, r.stdout);
    assert.deepEqual(docker.calls(), [["info", "--format", "{{json .}}"]]);
    const figures = r.json?.figures as Record<string, unknown>;
    assert.equal(figures.diskPath, dir);
    assert.equal(figures.minFreeBytes, 1_000_000);
    assert.ok((figures.freeBytes as number) > 1_000_000);
    assert.match(r.stdout, /\(Docker root dir\)/);
  });

  it("blocks with DISK_SPACE_LOW against an impossible minimum, at --path", async () => {
    docker.setRules([{ when: ["info"], stdout: infoJson("/var/lib/docker") }]);
    const r = await runGate(["preflight", "--min-free", "1000TB", "--path", dir], docker.env);
    assert.equal(r.code, 1);
    assert.match(
      r.stdout,
      new RegExp(`^DISK_SPACE_LOW: .* free at ${dir}, need at least 1000TB \\(1000 TB\\)`),
    );
    assert.match(r.stdout, /what to do: Free space/);
  });

  it("falls back to the working directory when Docker's root dir is not on this machine", async () => {
    docker.setRules([{ when: ["info"], stdout: infoJson("/nonexistent/remote-docker-root") }]);
    const r = await runGate(["preflight", "--min-free", "1B"], docker.env);
    assert.equal(r.code, 0);
    assert.equal((r.json?.figures as Record<string, unknown>).diskPath, process.cwd());
    assert.match(r.stdout, /Docker root dir \/nonexistent\/remote-docker-root not readable here/);
  });

  it("blocks with DOCKER_UNAVAILABLE when docker info reports ServerErrors", async () => {
    docker.setRules([{ when: ["info"], stdout: INFO_SERVER_ERRORS }]);
    const r = await runGate(["preflight", "--min-free", "1B"], docker.env);
    assert.equal(r.code, 1);
    assert.match(
      r.stdout,
      /^DOCKER_UNAVAILABLE: Docker is unavailable: Cannot connect to the Docker daemon at unix:\/\/\/nonexistent\.sock/,
    );
  });

  it("blocks with DOCKER_UNAVAILABLE when the CLI says the daemon is down", async () => {
    docker.setRules([
      {
        when: ["info"],
        exit: 1,
        stdout: INFO_EMPTY_SERVER,
        stderr:
          "Cannot connect to the Docker daemon at unix:///x.sock. Is the docker daemon running?\n",
      },
    ]);
    const r = await runGate(["preflight"], docker.env);
    assert.equal(r.code, 1);
    assert.match(
      r.stdout,
      /^DOCKER_UNAVAILABLE: Docker is unavailable: the Docker engine does not answer: Cannot connect to the Docker daemon at unix:\/\/\/x\.sock/,
    );
    assert.match(r.stdout, /\(from `docker info`\) start Docker/);
  });

  it("blocks with DOCKER_UNAVAILABLE when the docker binary is missing, naming SLIPWAY_DOCKER", async () => {
    const r = await runGate(["preflight"], {
      PATH: process.env.PATH,
      SLIPWAY_DOCKER: join(dir, "no-docker"),
    });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^DOCKER_UNAVAILABLE: Docker is unavailable: cannot run the Docker CLI/);
    assert.match(r.stdout, /set SLIPWAY_DOCKER/);
  });

  it("exits 2 (usage) on a bad --min-free", async () => {
    const r = await runGate(["preflight", "--min-free", "lots"], docker.env);
    assert.equal(r.code, 2);
    assert.deepEqual(docker.calls(), []);
  });
});

describe("docker CLI wrapper", () => {
  let docker: ScriptedDocker;
  beforeEach(() => {
    docker = scriptedDocker();
  });
  afterEach(() => docker.cleanup());

  it("runs SLIPWAY_DOCKER, else `docker`", () => {
    assert.equal(dockerBinary({ SLIPWAY_DOCKER: "/usr/bin/docker" }), "/usr/bin/docker");
    assert.equal(dockerBinary({ SLIPWAY_DOCKER: "" }), "docker");
    assert.equal(dockerBinary({}), "docker");
  });

  it("returns a non-zero exit as a result, with both streams", async () => {
    docker.setRules([
      { when: ["image"], exit: 1, stdout: "[]\n", stderr: "Error: No such image: x\n" },
    ]);
    const r = await runDocker(["image", "inspect", "x"], { env: docker.env });
    assert.deepEqual(
      [r.exitCode, r.stdout, r.stderr, r.timedOut],
      [1, "[]\n", "Error: No such image: x\n", false],
    );
    assert.match(r.output, /\[\]/);
    assert.match(r.output, /No such image/);
    assert.equal(describeFailure(r), "docker image inspect exited 1: Error: No such image: x");
  });

  it("kills the CLI after the timeout and says so", async () => {
    docker.setRules([{ when: ["run"], sleepMs: 5000 }]);
    const r = await runDocker(["run", "x"], { env: docker.env, timeoutMs: 200 });
    assert.equal(r.timedOut, true);
    assert.equal(r.exitCode, null);
    assert.ok(r.durationMs < 2000);
    assert.match(describeFailure(r), /^docker run x did not finish within 0\.\d s$/);
  });

  it("keeps the tail of an output longer than maxChars", async () => {
    docker.setRules([{ when: ["logs"], stdout: `${"a".repeat(5000)}THE END` }]);
    const r = await runDocker(["logs", "c"], { env: docker.env, maxChars: 100 });
    assert.equal(r.truncated, true);
    assert.equal(r.stdout.length, 100);
    assert.ok(r.stdout.endsWith("THE END"));
  });

  it("does not mistake a container's own mention of the daemon for an unreachable engine", async () => {
    docker.setRules([
      {
        when: ["run"],
        exit: 1,
        stderr:
          "FAILED tests/test_docker.py\nCannot connect to the Docker daemon at unix:///var/run/docker.sock\n",
      },
    ]);
    const r = await runDocker(["run", "x"], { env: docker.env });
    assert.equal(r.exitCode, 1);
  });

  it("throws DOCKER_UNAVAILABLE when the engine does not answer", async () => {
    docker.setRules([
      {
        when: ["ps"],
        exit: 1,
        stderr:
          "error during connect: Get http://x/v1.41/containers/json: dial tcp: no such host\n",
      },
    ]);
    await assert.rejects(runDocker(["ps"], { env: docker.env }), (err: unknown) => {
      assert.ok(err instanceof GateError);
      assert.equal(err.code, "DOCKER_UNAVAILABLE");
      assert.match(err.message, /^the Docker engine does not answer: error during connect/);
      return true;
    });
  });
});
