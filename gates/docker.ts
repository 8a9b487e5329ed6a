import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GateError } from "./result";

/**
 * The one way gates run the Docker CLI.
 *
 * - The binary is env `SLIPWAY_DOCKER` (default `docker`): the e2e suite points it at Debian's
 *   `/usr/bin/docker`, unit tests at a fake script that prints canned output.
 * - No shell: arguments go to the binary as they are, so image refs, commands and paths need no quoting.
 * - A non-zero exit is a result, not an exception: each gate maps exit codes to its own error codes.
 *   Only "there is no Docker to talk to" throws: a missing binary, or an engine that does not answer
 *   (the CLI's "Cannot connect to the Docker daemon" and friends as the first line of stderr, whatever
 *   the exit code, so that `docker run`'s 125 is never mistaken for a broken image)
 *   → GateError DOCKER_UNAVAILABLE. (`docker info --format '{{json .}}'` from Debian's 20.10 client exits
 *   0 with `ServerErrors` instead: the preflight gate checks that field itself.)
 * - A timeout kills the CLI process (SIGKILL) and returns `timedOut: true`. Killing the client does not
 *   stop a container it started: callers that run containers name them and `docker rm -f` them.
 *
 * `spawn` rather than `execFile` (both shell-free) so stdout and stderr can also be kept interleaved in
 * arrival order (`output`), which is what a person reading the tail of a test run expects.
 */

export interface DockerOptions {
  /** Environment of the CLI process and where `SLIPWAY_DOCKER` is read. Default: `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Kill the CLI after this many milliseconds. Default 60 000. */
  timeoutMs?: number;
  /**
   * Keep at most this many characters per stream (the last ones: tails matter most).
   * Default 16 MiB, far above what `inspect`/`history` print.
   */
  maxChars?: number;
}

export interface DockerResult {
  /** The argv after the binary, as run. */
  args: string[];
  /** The CLI's exit code; `null` when it was killed (see `timedOut`). */
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr interleaved in arrival order. */
  output: string;
  timedOut: boolean;
  /** True when a stream exceeded `maxChars` and its head was dropped. */
  truncated: boolean;
  durationMs: number;
}

const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_MAX_CHARS = 16 * 1024 * 1024;

/**
 * What the Docker CLI prints when there is no engine to talk to (socket missing, daemon down, no
 * permission on the socket, DOCKER_HOST unreachable).
 */
const ENGINE_UNREACHABLE = [
  /Cannot connect to the Docker daemon/i,
  /Is the docker daemon running/i,
  /error during connect/i,
  /permission denied while trying to connect to the Docker daemon/i,
];

/** The Docker CLI binary gates run: env `SLIPWAY_DOCKER`, else `docker` from PATH. */
export function dockerBinary(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env.SLIPWAY_DOCKER;
  return configured !== undefined && configured !== "" ? configured : "docker";
}

/** True when the CLI's output says the engine cannot be reached. */
export function engineUnreachable(text: string): boolean {
  return ENGINE_UNREACHABLE.some((pattern) => pattern.test(text));
}

/** Appends to a bounded buffer, keeping the tail. */
class Tail {
  text = "";
  truncated = false;
  constructor(private readonly max: number) {}
  push(chunk: string): void {
    this.text += chunk;
    if (this.text.length > this.max) {
      this.text = this.text.slice(this.text.length - this.max);
      this.truncated = true;
    }
  }
}

/**
 * Runs `<docker> ...args` and resolves with what it printed and its exit code.
 * Throws GateError DOCKER_UNAVAILABLE when the binary is missing or the engine does not answer.
 */
export function runDocker(
  args: readonly string[],
  options: DockerOptions = {},
): Promise<DockerResult> {
  const env = options.env ?? process.env;
  const binary = dockerBinary(env);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const max = options.maxChars ?? DEFAULT_MAX_CHARS;
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(binary, [...args], { env, stdio: ["ignore", "pipe", "pipe"] });
    const stdout = new Tail(max);
    const stderr = new Tail(max);
    const output = new Tail(max);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.stdout.setEncoding("utf8");
    child.stderr.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      stdout.push(chunk);
      output.push(chunk);
    });
    child.stderr.on("data", (chunk: string) => {
      stderr.push(chunk);
      output.push(chunk);
    });
    child.on("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        new GateError(
          "DOCKER_UNAVAILABLE",
          `cannot run the Docker CLI "${binary}": ${err.message}`,
          [
            err.code === "ENOENT"
              ? `"${binary}" was not found: install the Docker CLI or set SLIPWAY_DOCKER to its path.`
              : `check that "${binary}" is an executable Docker CLI (SLIPWAY_DOCKER).`,
          ],
        ),
      );
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      const result: DockerResult = {
        args: [...args],
        exitCode: timedOut ? null : code,
        stdout: stdout.text,
        stderr: stderr.text,
        output: output.text,
        timedOut,
        truncated: stdout.truncated || stderr.truncated,
        durationMs: Date.now() - started,
      };
      // Only the first line: a test container's own stderr may mention Docker further down.
      if (result.exitCode !== 0 && engineUnreachable(firstLine(result.stderr))) {
        reject(
          new GateError(
            "DOCKER_UNAVAILABLE",
            `the Docker engine does not answer: ${firstLine(result.stderr)}`,
            [
              `(from \`docker ${args[0] ?? ""}\`) start Docker, or point DOCKER_HOST / the docker context at a running engine.`,
            ],
          ),
        );
        return;
      }
      resolve(result);
    });
  });
}

/** The first non-empty line of a text, trimmed (for one-line error messages). */
export function firstLine(text: string): string {
  return (
    text
      .split("\n")
      .map((line) => line.trim())
      .find((line) => line !== "") ?? ""
  );
}

/**
 * One line describing a failed CLI run, for messages: `docker image inspect x exited 1: No such image`.
 * The binary is shown as `docker` whatever SLIPWAY_DOCKER says.
 */
export function describeFailure(result: DockerResult): string {
  const what = `docker ${result.args.slice(0, 2).join(" ")}`;
  if (result.timedOut) {
    return `${what} did not finish within ${(result.durationMs / 1000).toFixed(1)} s`;
  }
  const said = firstLine(result.stderr);
  return `${what} exited ${result.exitCode ?? "?"}${said === "" ? "" : `: ${said}`}`;
}

/** Pulling a candidate may take a while on a cold runner (a few hundred MB). */
const PULL_TIMEOUT_MS = 10 * 60_000;

/**
 * Makes sure the engine has `image` before a gate runs it: a reference pinned by digest
 * (`REPO@sha256:...`, the candidates every gate judges) is pulled from its registry when the engine
 * lacks it, so a fresh runner judges exactly the bytes the build pushed; anything else must already be
 * here (a tag could name other bytes than were built). Returns how the image got here, for the
 * progress line; a failed pull is CONTAINER_START_FAILURE naming the registry's answer.
 */
export async function ensureImage(
  image: string,
  env: NodeJS.ProcessEnv,
  progress: (line: string) => void,
): Promise<"present" | "pulled"> {
  const inspected = await runDocker(["image", "inspect", "--format", "{{.Id}}", image], {
    env,
    timeoutMs: 30_000,
  });
  if (inspected.exitCode === 0) return "present";
  if (!/@sha256:[a-f0-9]{64}$/.test(image)) {
    throw new GateError("CONTAINER_START_FAILURE", `image ${image} is not on this Docker engine`, [
      describeFailure(inspected),
      "only an image pinned by digest (REPO@sha256:...) is pulled: build it here, or name it by digest.",
    ]);
  }
  progress(`pulling ${image} (not on this engine)`);
  // The pipeline's registry credentials (SLIPWAY_REGISTRY_AUTH, a Docker config.json) reach the CLI
  // as a config directory of the pull's own, never on its command line.
  const auth = env.SLIPWAY_REGISTRY_AUTH;
  const configDir =
    auth === undefined || auth.trim() === ""
      ? undefined
      : await mkdtemp(join(tmpdir(), "slipway-pull-"));
  if (configDir !== undefined) {
    await writeFile(join(configDir, "config.json"), auth ?? "", { mode: 0o600 });
  }
  const pulled = await runDocker(["pull", image], {
    env: configDir === undefined ? env : { ...env, DOCKER_CONFIG: configDir },
    timeoutMs: PULL_TIMEOUT_MS,
  }).finally(() =>
    configDir === undefined ? undefined : rm(configDir, { recursive: true, force: true }),
  );
  if (pulled.exitCode !== 0) {
    throw new GateError("CONTAINER_START_FAILURE", `cannot pull ${image}`, [
      describeFailure(pulled),
      "the candidate must be in its registry: check the registry and its credentials (docker login).",
    ]);
  }
  return "pulled";
}
