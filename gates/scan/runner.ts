import { accessSync, constants, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { GateError } from "../result";
import { parseReportBytes, readReportBytes, type ScanReport } from "./report";

/**
 * `scan --image REF`: runs Trivy itself. A `trivy` binary on PATH first; else the Trivy container image
 * given by `--trivy-image` (pinned by digest, so the scanner is as reproducible as the base image), run
 * with the `docker` CLI named by SLIPWAY_DOCKER and the Docker socket mounted so Trivy reads the image from
 * the local daemon. Neither → SCANNER_UNAVAILABLE: no scan, no release.
 */

/** `name[:tag]@sha256:<64 hex>` */
export const PINNED_IMAGE = /^[^\s@]+@sha256:[a-f0-9]{64}$/;

/** Docker volume keeping Trivy's vulnerability DB between runs (it is ~60 MB to download). */
export const TRIVY_CACHE_VOLUME = "slipway-trivy-cache";

export type Scanner =
  { kind: "trivy"; binary: string } | { kind: "docker"; docker: string; image: string };

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `name` on `env.PATH` (or `name` itself when it is a path); undefined when absent or not executable. */
export function findExecutable(name: string, env: NodeJS.ProcessEnv): string | undefined {
  if (name.includes("/")) return isExecutableFile(name) ? name : undefined;
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

const INSTALL_HINT =
  "install Trivy (https://trivy.dev) on PATH, or pass --trivy-image aquasec/trivy:<version>@sha256:<digest> with Docker available";

/** Picks the scanner, or fails closed with SCANNER_UNAVAILABLE. */
export function chooseScanner(env: NodeJS.ProcessEnv, trivyImage: string | undefined): Scanner {
  const trivy = findExecutable("trivy", env);
  if (trivy !== undefined) return { kind: "trivy", binary: trivy };
  if (trivyImage === undefined) {
    throw new GateError(
      "SCANNER_UNAVAILABLE",
      "no `trivy` on PATH and no --trivy-image to run it with Docker",
      [INSTALL_HINT],
    );
  }
  const dockerName = env.SLIPWAY_DOCKER ?? "docker";
  const docker = findExecutable(dockerName, env);
  if (docker === undefined) {
    throw new GateError(
      "SCANNER_UNAVAILABLE",
      `no \`trivy\` on PATH and no Docker CLI (${dockerName}) to run ${trivyImage}`,
      [INSTALL_HINT, "set SLIPWAY_DOCKER to the docker binary if it is not on PATH"],
    );
  }
  return { kind: "docker", docker, image: trivyImage };
}

/** The Trivy arguments: JSON report of every severity (the policy filters), no progress output. */
export function trivyArgs(ref: string, output: string): string[] {
  return ["image", "--format", "json", "--quiet", "--output", output, ref];
}

/** The Docker daemon's socket on this host: DOCKER_HOST when it is a unix socket, else the default. */
export function dockerSocket(env: NodeJS.ProcessEnv): string {
  const host = env.DOCKER_HOST ?? "";
  return host.startsWith("unix://") ? host.slice("unix://".length) : "/var/run/docker.sock";
}

/**
 * `docker run` of the pinned Trivy image. Without `--output` Trivy writes the JSON report to stdout
 * (its logs go to stderr), so no host directory is mounted: a 0700 temp dir is not writable by a
 * user-namespaced or rootless daemon, and opening it up would let another local user swap the report.
 */
export function dockerArgs(image: string, ref: string, env: NodeJS.ProcessEnv): string[] {
  return [
    "run",
    "--rm",
    "-v",
    `${dockerSocket(env)}:/var/run/docker.sock`,
    "-v",
    `${TRIVY_CACHE_VOLUME}:/root/.cache/trivy`,
    image,
    "image",
    "--format",
    "json",
    "--quiet",
    ref,
  ];
}

interface RunOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
  error?: Error;
}

const STDERR_LIMIT = 64 * 1024;

function run(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  keepStdout: boolean,
): Promise<RunOutcome> {
  // Loaded here: `scan --report` never starts a process and should not pay for the module.
  const { spawn } = require("node:child_process") as typeof import("node:child_process");
  return new Promise((resolve) => {
    let stderr = "";
    const chunks: Buffer[] = [];
    const child = spawn(command, args, {
      env,
      stdio: ["ignore", keepStdout ? "pipe" : "ignore", "pipe"],
    });
    child.stdout?.on("data", (chunk: Buffer) => chunks.push(chunk));
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (chunk: string) => {
      stderr = (stderr + chunk).slice(-STDERR_LIMIT);
    });
    const stdout = () => Buffer.concat(chunks);
    child.on("error", (error) =>
      resolve({ code: null, signal: null, stdout: stdout(), stderr, error }),
    );
    child.on("close", (code, signal) => resolve({ code, signal, stdout: stdout(), stderr }));
  });
}

export interface ScanImageOptions {
  env: NodeJS.ProcessEnv;
  trivyImage?: string;
  progress(line: string): void;
}

export interface ScanOutcome {
  report: ScanReport;
  /** The report exactly as Trivy wrote it (`--keep-report`). */
  bytes: Buffer;
}

/** Runs Trivy on an image and reads its report. */
export async function scanImage(ref: string, options: ScanImageOptions): Promise<ScanOutcome> {
  const scanner = chooseScanner(options.env, options.trivyImage);
  const source = `the Trivy report for ${ref}`;
  const dir = mkdtempSync(join(tmpdir(), "slipway-scan-"));
  try {
    const output = join(dir, "report.json");
    const [command, args] =
      scanner.kind === "trivy"
        ? [scanner.binary, trivyArgs(ref, output)]
        : [scanner.docker, dockerArgs(scanner.image, ref, options.env)];
    const label = scanner.kind === "trivy" ? scanner.binary : `${scanner.image} (docker)`;
    options.progress(`scan: running ${command} ${args.join(" ")}`);
    const outcome = await run(command, args, options.env, scanner.kind === "docker");
    if (outcome.error !== undefined) {
      throw new GateError(
        "SCANNER_UNAVAILABLE",
        `could not start ${command}: ${outcome.error.message}`,
        [INSTALL_HINT],
      );
    }
    if (outcome.code !== 0) {
      // `docker run` exits 125 when Docker itself failed (image not pullable, daemon down).
      const how =
        outcome.signal !== null
          ? `was killed by ${outcome.signal}`
          : scanner.kind === "docker" && outcome.code === 125
            ? "could not be started by Docker (exit 125)"
            : `exited with ${outcome.code}`;
      const tail = outcome.stderr.trimEnd().split("\n").slice(-20);
      throw new GateError("SCANNER_UNAVAILABLE", `Trivy (${label}) ${how} scanning ${ref}`, [
        ...tail.filter((l) => l !== ""),
        "read Trivy's message above: the image must exist locally or in a reachable registry, and Trivy must reach its vulnerability DB",
      ]);
    }
    const bytes = scanner.kind === "trivy" ? readReportBytes(output, source) : outcome.stdout;
    return { report: parseReportBytes(bytes, source), bytes };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
