import { statfs } from "node:fs/promises";
import { firstLine, runDocker } from "./docker";
import type { Gate, GateContext } from "./gate";
import { block, GateError, GateResult, pass, UsageError } from "./result";
import { formatSize, parseSize } from "./size";
import { stringFlag } from "./testing/flags";

const DEFAULT_MIN_FREE = "10GB";
const INFO_TIMEOUT_MS = 15_000;

export interface DockerProbe {
  ok: boolean;
  serverVersion?: string;
  rootDir?: string;
  /** Why Docker is not usable, when not ok. */
  problem?: string;
  /** What to check, when the wrapper knew (e.g. set SLIPWAY_DOCKER). */
  hints?: string[];
}

export interface DiskProbe {
  path: string;
  /** Why this path was measured: `--path`, `Docker root dir`, or `cwd (...)`. */
  source: string;
  freeBytes?: number;
  totalBytes?: number;
  /** Why the disk could not be measured. */
  problem?: string;
}

/**
 * Reads `docker info --format '{{json .}}'`. Debian's 20.10 client exits 0 with `ServerErrors` when
 * the daemon is down; newer clients exit 1: both mean unavailable.
 */
export function readDockerInfo(
  exitCode: number | null,
  stdout: string,
  stderr: string,
): DockerProbe {
  let info: Record<string, unknown> | undefined;
  try {
    const doc: unknown = JSON.parse(stdout);
    info = typeof doc === "object" && doc !== null ? (doc as Record<string, unknown>) : undefined;
  } catch {
    info = undefined;
  }
  const serverErrors = Array.isArray(info?.ServerErrors) ? info.ServerErrors.map(String) : [];
  if (serverErrors.length > 0) {
    return { ok: false, problem: serverErrors.join("; ") };
  }
  if (exitCode !== 0 || info === undefined) {
    const said = firstLine(stderr);
    return {
      ok: false,
      problem: `docker info exited ${exitCode ?? "(killed)"}${said === "" ? "" : `: ${said}`}`,
    };
  }
  const version = typeof info.ServerVersion === "string" ? info.ServerVersion : "";
  if (version === "") {
    return { ok: false, problem: "docker info reported no server" };
  }
  return {
    ok: true,
    serverVersion: version,
    ...(typeof info.DockerRootDir === "string" && info.DockerRootDir !== ""
      ? { rootDir: info.DockerRootDir }
      : {}),
  };
}

/** The verdict (pure). Docker first: without an engine, nothing else matters. Both problems are listed. */
export function preflightResult(
  docker: DockerProbe,
  disk: DiskProbe,
  minFree: { bytes: number; text: string },
): GateResult {
  const figures: Record<string, string | number | boolean> = {
    dockerAvailable: docker.ok,
    ...(docker.serverVersion === undefined ? {} : { dockerServerVersion: docker.serverVersion }),
    diskPath: disk.path,
    minFreeBytes: minFree.bytes,
    ...(disk.freeBytes === undefined ? {} : { freeBytes: disk.freeBytes }),
    ...(disk.totalBytes === undefined ? {} : { totalBytes: disk.totalBytes }),
  };
  const diskLow = disk.freeBytes !== undefined && disk.freeBytes < minFree.bytes;
  const diskText =
    disk.freeBytes === undefined
      ? `free disk at ${disk.path} unknown: ${disk.problem ?? "not measured"}`
      : `${formatSize(disk.freeBytes)} free at ${disk.path} (${disk.source}), ${diskLow ? "below" : "≥"} the ${minFree.text} needed`;
  const details = [
    `docker: ${docker.ok ? `engine ${docker.serverVersion ?? "?"} answers` : `unavailable: ${docker.problem ?? ""}`}`,
    ...(docker.hints ?? []),
    `disk: ${diskText}`,
  ];
  if (!docker.ok) {
    return block(
      "preflight",
      "DOCKER_UNAVAILABLE",
      `Docker is unavailable: ${docker.problem ?? ""}`,
      { details, figures },
    );
  }
  if (disk.freeBytes === undefined) {
    return block(
      "preflight",
      "DISK_SPACE_LOW",
      `cannot measure free disk at ${disk.path}: ${disk.problem ?? ""}`,
      { details, figures },
    );
  }
  if (diskLow) {
    return block(
      "preflight",
      "DISK_SPACE_LOW",
      `${formatSize(disk.freeBytes)} free at ${disk.path}, need at least ${minFree.text} (${formatSize(minFree.bytes)})`,
      { details: [...details, `short by ${formatSize(minFree.bytes - disk.freeBytes)}`], figures },
    );
  }
  return pass("preflight", `Docker ${docker.serverVersion ?? ""} answers; ${diskText}`, {
    details,
    figures,
  });
}

async function probeDocker(ctx: GateContext): Promise<DockerProbe> {
  try {
    const r = await runDocker(["info", "--format", "{{json .}}"], {
      env: ctx.env,
      timeoutMs: INFO_TIMEOUT_MS,
    });
    if (r.timedOut) {
      return {
        ok: false,
        problem: `docker info did not answer within ${INFO_TIMEOUT_MS / 1000} s`,
      };
    }
    return readDockerInfo(r.exitCode, r.stdout, r.stderr);
  } catch (err) {
    if (err instanceof GateError && err.code === "DOCKER_UNAVAILABLE") {
      return { ok: false, problem: err.message, hints: err.details };
    }
    throw err;
  }
}

async function measure(path: string, source: string): Promise<DiskProbe> {
  try {
    const s = await statfs(path);
    // bavail: blocks available to unprivileged users (what a build may use), not bfree.
    return { path, source, freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize };
  } catch (err) {
    return { path, source, problem: (err as Error).message };
  }
}

/** `preflight`: before a build, Docker answers and the disk has room. */
const gate: Gate = {
  name: "preflight",
  summary: "before a build: Docker reachable, enough free disk",
  usage: [
    `--min-free SIZE   free space needed (default ${DEFAULT_MIN_FREE}; GB = 10^9 bytes, GiB = 2^30)`,
    "--path DIR        where to measure (default: Docker's root dir when on this machine, else cwd)",
  ],
  options: {
    "min-free": { type: "string" },
    path: { type: "string" },
  },
  async run(flags, ctx) {
    const minText = stringFlag(flags, "min-free") ?? DEFAULT_MIN_FREE;
    let minBytes: number;
    try {
      minBytes = parseSize(minText);
    } catch (err) {
      throw new UsageError(`--min-free: ${(err as Error).message}`);
    }
    const docker = await probeDocker(ctx);
    const pathFlag = stringFlag(flags, "path");
    let disk: DiskProbe;
    if (pathFlag !== undefined) {
      disk = await measure(pathFlag, "--path");
    } else if (docker.rootDir !== undefined) {
      disk = await measure(docker.rootDir, "Docker root dir");
      if (disk.freeBytes === undefined) {
        // A remote engine's root dir is not on this machine: measure here, and say so.
        disk = await measure(
          process.cwd(),
          `cwd; Docker root dir ${docker.rootDir} not readable here`,
        );
      }
    } else {
      disk = await measure(process.cwd(), "cwd");
    }
    return preflightResult(docker, disk, { bytes: minBytes, text: minText });
  },
};

export default gate;
