/**
 * The builders of every shell command Slipway's resources run, and of the plain specs of the work a
 * provider does instead of a shell (builds, the local container, pushes).
 *
 * One exported function per command: the components pass their output to `command.local.Command`
 * (`create`), the unit tests check the components pass exactly that, and the e2e suite runs the very
 * same strings on a real Docker engine and registry. Every command runs with the project root as its
 * working directory (`bin/slipway-gate` is relative to it) and writes its machine-readable result to
 * `<reportDir>/<gate>.json`, from which the release report is assembled.
 *
 * Plain functions over plain data: no Pulumi import, no I/O, no clock.
 */
import type { ReleaseInfo } from "./report/release";

/** The gate CLI, relative to the project root (the command resources' `dir`). */
export const GATE_BIN = "bin/slipway-gate";

/** Characters that never need quoting in a POSIX shell word. */
const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/**
 * Quotes one argument for a POSIX shell (`/bin/sh -c`): words made only of safe characters stay as
 * they are (commands stay readable), anything else is wrapped in single quotes, inside which the
 * shell expands nothing; a single quote itself becomes `'\''` (close, escaped quote, reopen). The
 * empty string is `''`.
 */
export function shellQuote(arg: string): string {
  if (SAFE_WORD.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Quotes and joins an argument vector into one shell command line. */
export function shellJoin(argv: readonly string[]): string {
  return argv.map(shellQuote).join(" ");
}

/** The gates the CLI knows (gates/cli.ts); the names are a public contract. */
export type GateName =
  | "preflight"
  | "lint"
  | "base"
  | "test"
  | "smoke"
  | "scan"
  | "tag-guard"
  | "promote"
  | "resolve"
  | "retag"
  | "health"
  | "report"
  | "promote"
  | "prune"
  | "evidence";

/** Where a normal release's gate results go: one directory per version. */
export function releaseReportDir(version: string): string {
  return `.slipway/releases/${version}`;
}

/** Where a rollback's results go (`sha256:...` pins become `sha256-...`: no `:` in directory names). */
export function rollbackReportDir(pin: string): string {
  return `.slipway/rollbacks/${pin.replace(/:/g, "-")}`;
}

/** The JSON result file of one gate. */
export function reportFile(reportDir: string, gate: GateName): string {
  return `${reportDir}/${gate}.json`;
}

/** Every gate command's shared part: where its JSON result goes. */
export interface GateSpecBase {
  /** Directory of the release's gate results, relative to the project root (see `releaseReportDir`). */
  reportDir: string;
}

type Flag = readonly string[];

/** `--name value`, or nothing when the value is absent. */
function opt(name: string, value: string | number | undefined): Flag {
  return value === undefined ? [] : [`--${name}`, String(value)];
}

/** `--name`, or nothing. */
function flag(name: string, on: boolean | undefined): Flag {
  return on === true ? [`--${name}`] : [];
}

/** `--name v1 --name v2 ...` */
function many(name: string, values: readonly string[] | undefined): Flag {
  return (values ?? []).flatMap((v) => [`--${name}`, v]);
}

/** `K=V` pairs in key order, so the same map always renders the same command. */
function pairs(map: Readonly<Record<string, string>> | undefined): string[] {
  return Object.keys(map ?? {})
    .sort()
    .map((k) => `${k}=${(map ?? {})[k]}`);
}

/**
 * One gate's command line. `--print-verdict`: stdout ends with the verdict line the components read
 * (gates/result.ts `parseVerdictLine`): the decision and the digest judged, never the wording.
 */
function gateCommand(gate: GateName, reportDir: string, args: readonly Flag[]): string {
  return shellJoin([
    GATE_BIN,
    gate,
    ...args.flat(),
    "--print-verdict",
    "--json",
    reportFile(reportDir, gate),
  ]);
}

// ---------------------------------------------------------------------------------------------
// Gates

export interface PreflightSpec extends GateSpecBase {
  /** Free disk the build needs (the gate's default: 10GB). */
  minFree?: string;
  /** Directory whose filesystem is checked (the gate's default: Docker's data root). */
  path?: string;
}

/** `preflight`: Docker answers and there is enough free disk, before anything is built. */
export function preflightCommand(spec: PreflightSpec): string {
  return gateCommand("preflight", spec.reportDir, [
    opt("min-free", spec.minFree),
    opt("path", spec.path),
  ]);
}

export interface LintSpec extends GateSpecBase {
  dockerfile: string;
  /** Every FROM must be pinned by digest (after build args are substituted). */
  requireDigest: boolean;
  /** Stages the pipeline builds: each must exist. */
  targets: readonly string[];
  /** Build args as the build passes them (so `FROM ${BASE_IMAGE}` is checked with its value). */
  buildArgs: Readonly<Record<string, string>>;
}

/** `lint`: Dockerfile syntax, pinned bases, the stages the pipeline builds. */
export function lintCommand(spec: LintSpec): string {
  return gateCommand("lint", spec.reportDir, [
    opt("dockerfile", spec.dockerfile),
    flag("require-digest", spec.requireDigest),
    many("target", spec.targets),
    many("build-arg", pairs(spec.buildArgs)),
  ]);
}

export interface BaseDriftSpec extends GateSpecBase {
  /** The pinned base, `name:tag@sha256:...`. */
  ref: string;
  /** What the tag resolves to now, when already known (else the gate asks the registry). */
  current?: string;
  /** Drift blocks instead of warning. */
  strict?: boolean;
}

/** `base`: has the base image's tag moved away from the pinned digest? */
export function baseDriftCommand(spec: BaseDriftSpec): string {
  return gateCommand("base", spec.reportDir, [
    opt("ref", spec.ref),
    opt("current", spec.current),
    flag("strict", spec.strict),
  ]);
}

export interface TestGateSpec extends GateSpecBase {
  /** The builder image (local reference). */
  image: string;
  /** The test command, run by a shell inside the image. */
  command: string;
  coverageMin?: number;
  env?: Readonly<Record<string, string>>;
  network?: string;
  /** Seconds. */
  timeout?: number;
  /** bandit over the app's source, in a second run of the builder image beside the tests. */
  bandit?: TestBanditSpec;
  /** `python3 -m pip check` in the builder image (PIP_DEPENDENCY_CONFLICT; no pip: a warning). */
  pipCheck?: boolean;
  /** Services started for the run on a network of its own (excludes `network`). */
  services?: readonly GateServiceSpec[];
}

/**
 * A service dependency (config `tests.services[]` / `smoke.services[]`), handed to the gate as one
 * `--services JSON` flag; the gate validates it again (gates/services/spec.ts).
 */
export interface GateServiceSpec {
  /** DNS name on the run's network, e.g. `db`. */
  name: string;
  /** Pinned by digest: `repo@sha256:...`. */
  image: string;
  env?: Readonly<Record<string, string>>;
  /** Shell command run inside the service until it exits 0, e.g. `pg_isready -h 127.0.0.1`. */
  ready: string;
  /** Seconds (default 60). */
  readyTimeout?: number;
  /** Environment handed to the app, e.g. `{ POSTGRES_HOST: "db", POSTGRES_PORT: "5432" }`. */
  expose?: Readonly<Record<string, string>>;
  /** Names of variables generated per run, given to the service and the app by name only. */
  credentials?: readonly string[];
}

/** `--services JSON`, keys in a fixed order so that the same config renders the same command. */
function servicesFlag(services: readonly GateServiceSpec[] | undefined): Flag {
  if (services === undefined || services.length === 0) return [];
  const sorted = (map: Readonly<Record<string, string>> | undefined) =>
    Object.fromEntries(
      Object.keys(map ?? {})
        .sort()
        .map((k) => [k, map?.[k] ?? ""]),
    );
  return opt(
    "services",
    JSON.stringify(
      services.map((s) => ({
        name: s.name,
        image: s.image,
        env: sorted(s.env),
        ready: s.ready,
        ...(s.readyTimeout === undefined ? {} : { readyTimeout: s.readyTimeout }),
        expose: sorted(s.expose),
        credentials: [...(s.credentials ?? [])],
      })),
    ),
  );
}

export interface TestBanditSpec {
  /** Paths bandit scans (`bandit -r`), relative to the builder's workdir, e.g. `custom_addons/`. */
  paths: readonly string[];
  /** LOW | MEDIUM | HIGH: findings at or above block (with `confidence`). Default MEDIUM. */
  severity?: string;
  /** LOW | MEDIUM | HIGH. Default MEDIUM. */
  confidence?: string;
  /** A JSON file of accepted findings, each `{ test, file, statement }`. */
  skips?: string;
}

/** `test`: the tests inside the builder image, with a coverage floor. */
export function testGateCommand(spec: TestGateSpec): string {
  return gateCommand("test", spec.reportDir, [
    opt("image", spec.image),
    opt("cmd", spec.command),
    opt("coverage-min", spec.coverageMin),
    many("env", pairs(spec.env)),
    opt("network", spec.network),
    opt("timeout", spec.timeout),
    many("bandit", spec.bandit?.paths),
    opt("bandit-severity", spec.bandit?.severity),
    opt("bandit-confidence", spec.bandit?.confidence),
    opt("bandit-skips", spec.bandit?.skips),
    flag("pip-check", spec.pipCheck),
    servicesFlag(spec.services),
  ]);
}

export interface SmokeBootSpec {
  /** Port the app listens on inside the container. */
  port: number;
  healthPath: string;
  /** Seconds. */
  timeout?: number;
  /** Regexes with a `(?<module>...)` group for a module that failed to load; absent: Odoo 16's lines. */
  moduleErrorPatterns?: readonly string[];
  /** Regexes of a database connection error in the boot's logs; absent: psycopg2/libpq's messages. */
  dbErrorPatterns?: readonly string[];
  /** Services started for the boot on a network of its own. */
  services?: readonly GateServiceSpec[];
}

export interface SmokeGateSpec extends GateSpecBase {
  /** The runtime image (local reference). */
  image: string;
  maxSize?: string;
  versionCommand?: string;
  expectVersion?: string;
  paths?: readonly string[];
  imports?: readonly string[];
  nonRoot?: boolean;
  /** `python3 -m pip check` in the runtime image (PIP_DEPENDENCY_CONFLICT; no pip: a warning). */
  pipCheck?: boolean;
  /** The wkhtmltopdf version the runtime image must hold (WKHTMLTOPDF_MISMATCH), e.g. 0.12.6. */
  wkhtmltopdf?: string;
  /** Boot the image and check its health endpoint; absent: no boot. */
  boot?: SmokeBootSpec;
}

/** `smoke`: the exact runtime image: size, version, paths, imports, user, boot + health. */
export function smokeGateCommand(spec: SmokeGateSpec): string {
  const boot = spec.boot;
  return gateCommand("smoke", spec.reportDir, [
    opt("image", spec.image),
    opt("max-size", spec.maxSize),
    opt("version-cmd", spec.versionCommand),
    opt("expect-version", spec.expectVersion),
    many("path", spec.paths),
    many("import", spec.imports),
    flag("non-root", spec.nonRoot),
    flag("pip-check", spec.pipCheck),
    opt("wkhtmltopdf", spec.wkhtmltopdf),
    boot === undefined
      ? []
      : [
          "--boot",
          ...opt("port", boot.port),
          ...opt("health-path", boot.healthPath),
          ...opt("boot-timeout", boot.timeout),
          ...many("module-error-pattern", boot.moduleErrorPatterns),
          ...many("db-error-pattern", boot.dbErrorPatterns),
          ...servicesFlag(boot.services),
        ],
  ]);
}

/**
 * What the scan reads: the image (Trivy runs, and its raw report may be kept) or a Trivy JSON report
 * made elsewhere (already a file: nothing to keep).
 */
export type ScanSubject =
  | {
      image: string;
      report?: undefined;
      /**
       * Where Trivy's raw JSON report is kept (SOP step 5); in the pipeline `trivyReportFile(reportDir)`,
       * so every release keeps the report the next one can use as its `baseline`.
       */
      keepReport?: string;
      /**
       * Where the CycloneDX SBOM of the scanned image is written (`--sbom`), converted from the same
       * report; in the pipeline `sbomFile(reportDir)`.
       */
      sbom?: string;
      /** The Trivy binary (`--trivy`); absent: SLIPWAY_TRIVY, else `trivy` on PATH. */
      trivy?: string;
      /** What Trivy looks for (`--scanners`); absent: the gate's default, `vuln,secret`. */
      scanners?: readonly ("vuln" | "secret" | "misconfig")[];
      /** Plain-HTTP or self-signed registry (`--insecure`); loopback registries need none. */
      insecure?: boolean;
      /** Trivy downloads nothing (`--offline`): its DBs and checks as they are in its cache. */
      offline?: boolean;
    }
  | {
      report: string;
      image?: undefined;
      keepReport?: undefined;
      sbom?: undefined;
      trivy?: undefined;
      scanners?: undefined;
      insecure?: undefined;
      offline?: undefined;
    };

export type ScanGateSpec = GateSpecBase &
  ScanSubject & {
    /** Trivy image pinned by digest, used when no `trivy` binary is found. */
    trivyImage?: string;
    severity?: readonly string[];
    ignoreUnfixed?: boolean;
    allowlist?: string;
    requireStatement?: boolean;
    /** The base image (the pinned ref the build used): findings are labelled base / app by layer. */
    baseImage?: string;
    /** An earlier release's Trivy report: block only on findings absent from it. */
    baseline?: string;
  };

/** Where a release keeps Trivy's raw JSON report: `<reportDir>/trivy.json`. */
export function trivyReportFile(reportDir: string): string {
  return `${reportDir}/trivy.json`;
}

/** Where a release keeps the CycloneDX SBOM of its image: `<reportDir>/sbom.cdx.json`. */
export function sbomFile(reportDir: string): string {
  return `${reportDir}/sbom.cdx.json`;
}

/** `scan`: Trivy findings → the release policy's verdict. */
export function scanGateCommand(spec: ScanGateSpec): string {
  return gateCommand("scan", spec.reportDir, [
    spec.report !== undefined ? opt("report", spec.report) : opt("image", spec.image),
    opt("trivy", spec.trivy),
    opt("trivy-image", spec.trivyImage),
    opt("scanners", spec.scanners === undefined ? undefined : spec.scanners.join(",")),
    flag("insecure", spec.insecure),
    flag("offline", spec.offline),
    opt("sbom", spec.sbom),
    opt("severity", spec.severity === undefined ? undefined : spec.severity.join(",")),
    flag("ignore-unfixed", spec.ignoreUnfixed),
    opt("allowlist", spec.allowlist),
    flag("require-statement", spec.requireStatement),
    opt("keep-report", spec.keepReport),
    opt("base-image", spec.baseImage),
    opt("baseline", spec.baseline),
  ]);
}

export interface TagGuardSpec extends GateSpecBase {
  /** `HOST/REPO`, e.g. `registry.digitalocean.com/acme/odoo`. */
  repository: string;
  /** The version tag about to be pushed. */
  tag: string;
  /** The local image that would be pushed under it. */
  image: string;
}

/** `tag-guard`: refuse to overwrite a version tag that holds another image (TAG_IMMUTABLE). */
export function tagGuardCommand(spec: TagGuardSpec): string {
  return gateCommand("tag-guard", spec.reportDir, [
    opt("repository", spec.repository),
    opt("tag", spec.tag),
    opt("image", spec.image),
  ]);
}

export interface ResolvePinSpec extends GateSpecBase {
  repository: string;
  /** The rollback pin: a tag or `sha256:...`. */
  ref: string;
  /** Refuse a digest whose evidence is missing or NOT READY, unless `overrideReason` says why. */
  requireEvidence?: boolean;
  /** Why a rollback goes to such a digest anyway (config `release.rollbackReason`): recorded. */
  overrideReason?: string;
}

/**
 * `resolve`: the rollback pin → its manifest digest, printed alone on stdout (the deploy reads it);
 * ROLLBACK_TAG_NOT_FOUND names the tags that exist.
 */
export function resolvePinCommand(spec: ResolvePinSpec): string {
  return gateCommand("resolve", spec.reportDir, [
    opt("repository", spec.repository),
    opt("ref", spec.ref),
    flag("require-evidence", spec.requireEvidence),
    opt("override-reason", spec.overrideReason),
  ]);
}

export interface RetagSpec extends GateSpecBase {
  repository: string;
  digest: string;
  /** Default `latest`. */
  tag?: string;
}

/** `retag`: point a tag (`latest`) at an existing digest, through the registry API. */
export function retagCommand(spec: RetagSpec): string {
  return gateCommand("retag", spec.reportDir, [
    opt("repository", spec.repository),
    opt("digest", spec.digest),
    opt("tag", spec.tag ?? "latest"),
  ]);
}

export interface HealthGateSpec extends GateSpecBase {
  url: string;
  /** Seconds the whole check may take. */
  timeout?: number;
  interval?: number;
  requestTimeout?: number;
  expectStatus?: number;
  expectBody?: string;
}

/** `health`: poll the live URL after the deploy until it answers as expected. */
export function healthGateCommand(spec: HealthGateSpec): string {
  return gateCommand("health", spec.reportDir, [
    opt("url", spec.url),
    opt("timeout", spec.timeout),
    opt("interval", spec.interval),
    opt("request-timeout", spec.requestTimeout),
    opt("expect-status", spec.expectStatus),
    opt("expect-body", spec.expectBody),
  ]);
}

export interface ReportSpec extends GateSpecBase {
  /**
   * What the pipeline knows of the release that no gate reports: the report gate writes it as
   * `<reportDir>/release.json` before assembling the report (image, digest, base, gates disabled by
   * configuration). `expected` and `stages` are not flags: the defaults apply.
   */
  release: Omit<ReleaseInfo, "expected" | "stages">;
  /**
   * The caller ran every gate the release needs and each passed (the pipeline runs the report after
   * the verification, and the push carried every gate's verdict): a needed gate that left no result
   * was not re-run because nothing it checks changed, and is listed so, not as a blocker.
   */
  gated?: boolean;
  /** NOT READY warns (exit 0) instead of blocking: the report informs, the gates decided. */
  advisory?: boolean;
}

/** Where the report gate writes the Markdown report of a release. */
export function reportMarkdownFile(reportDir: string): string {
  return `${reportDir}/report.md`;
}

/**
 * `report`: records release.json and assembles the release report from the gates' results in
 * `reportDir`: `report.md` (people), `report.json` (the report gate's own result), and the one-line
 * JSON summary on stdout (the stack outputs). `gate=reason` pairs of `skipped` in gate order.
 */
export function reportCommand(spec: ReportSpec): string {
  const r = spec.release;
  return gateCommand("report", spec.reportDir, [
    opt("from", spec.reportDir),
    opt("version", r.version),
    opt("mode", r.mode),
    opt("stack", r.stack),
    opt("image", r.image),
    opt("digest", r.digest),
    opt("candidate-digest", r.candidateDigest),
    opt("deployed-digest", r.deployedDigest),
    opt("promoted-from", r.promotedFrom),
    opt("commit", r.commit),
    opt("base", r.baseImage),
    opt("previous", r.previous),
    many("skipped", pairs(r.skipped)),
    flag("gated", spec.gated),
    flag("advisory", spec.advisory),
    ["--print-summary"],
    opt("out", reportMarkdownFile(spec.reportDir)),
  ]);
}

// ---------------------------------------------------------------------------------------------
// Image names

/** The tag prefix of candidates: never a release tag (`prune` deletes only these). */
export const CANDIDATE_PREFIX = "candidate-";

/**
 * The candidate tag of one built stage: `candidate-<version>-<target>`. A build pushes its result under
 * it; from then on everything addresses the image by the digest the registry gave it, and a promotion
 * puts that same manifest under the version tag. A rebuild of the same version moves the candidate tag,
 * never a release tag.
 */
export function candidateTag(version: string, target: string): string {
  return `${CANDIDATE_PREFIX}${version}-${target}`;
}

/** The registry layer cache of one build target: `<repository>:buildcache-<target>`. */
export function cacheRef(repository: string, target: string): string {
  return `${repository}:buildcache-${target}`;
}

/** `<repository>@<digest>`: how every step after a build names the image. */
export function digestRef(repository: string, digest: string): string {
  return `${repository}@${digest}`;
}

// ---------------------------------------------------------------------------------------------
// Builds (done by @pulumi/docker-build; rendered as `docker build` + `docker push` for the e2e suite)

export interface BuildSpecInput {
  /** The release version: part of the candidate tag. */
  version: string;
  /** Build context directory, relative to the project root. */
  context: string;
  /** Dockerfile path, relative to the project root. */
  dockerfile: string;
  /** The Dockerfile stage to build. */
  target: string;
  /** The pinned base reference, passed as the `BASE_IMAGE` build arg. */
  baseRef: string;
  /** Extra build args; `BASE_IMAGE` always comes from `baseRef`. */
  buildArgs?: Readonly<Record<string, string>>;
  /** `HOST/REPO` where candidates (and the layer cache) are pushed. */
  candidateRepository: string;
  /** Export and import a registry layer cache in `candidateRepository`. */
  cache: boolean;
  /** Target platform, e.g. `linux/amd64` for App Platform; absent: the host's. */
  platform?: string;
}

export interface BuildSpec {
  context: string;
  dockerfile: string;
  target: string;
  /** In key order; includes `BASE_IMAGE`. */
  buildArgs: Record<string, string>;
  /** The candidate reference the build pushes: `<candidateRepository>:candidate-<version>-<target>`. */
  candidate: string;
  platform?: string;
  /** Registry cache refs to import layers from. */
  cacheFrom: string[];
  /** Registry cache refs to export layers to (needs a BuildKit builder that can export caches). */
  cacheTo: string[];
}

/** The build of one stage, as plain data. */
export function buildSpec(input: BuildSpecInput): BuildSpec {
  const merged: Record<string, string> = { ...(input.buildArgs ?? {}), BASE_IMAGE: input.baseRef };
  const buildArgs: Record<string, string> = {};
  for (const key of Object.keys(merged).sort()) buildArgs[key] = merged[key];
  const cache = input.cache ? [cacheRef(input.candidateRepository, input.target)] : [];
  return {
    context: input.context,
    dockerfile: input.dockerfile,
    target: input.target,
    buildArgs,
    candidate: `${input.candidateRepository}:${candidateTag(input.version, input.target)}`,
    ...(input.platform === undefined ? {} : { platform: input.platform }),
    cacheFrom: cache,
    cacheTo: cache,
  };
}

/**
 * The `docker build` + `docker push` equivalent of a build spec (BuildKit, so only the stages the
 * target needs are built), as docker-build's `Image` with `push: true` does it: the candidate ends up
 * in the registry, and `docker push` prints its manifest digest. The classic `docker build` has no
 * `--cache-to`: registry cache export is left to buildx.
 */
export function dockerBuildCommand(spec: BuildSpec, docker = "docker"): string {
  const build = shellJoin([
    docker,
    "build",
    "--file",
    spec.dockerfile,
    "--target",
    spec.target,
    ...opt("platform", spec.platform),
    ...many("build-arg", pairs(spec.buildArgs)),
    "--tag",
    spec.candidate,
    ...many("cache-from", spec.cacheFrom),
    spec.context,
  ]);
  return `DOCKER_BUILDKIT=1 ${build} && ${shellJoin([docker, "push", spec.candidate])}`;
}

/** The manifest digest `docker push` printed (`<tag>: digest: sha256:... size: N`), if any. */
export function pushedDigest(output: string): string | undefined {
  return /: digest: (sha256:[a-f0-9]{64}) size: \d+/.exec(output)?.[1];
}

// ---------------------------------------------------------------------------------------------
// The local target's container (done by docker.Container; rendered as `docker run` for the e2e)

export interface LocalContainerSpecInput {
  /** Container name. */
  name: string;
  /** `HOST/REPO` the release was pushed to. */
  repository: string;
  /** The release digest: the container runs `<repository>@<digest>`, never a tag. */
  digest: string;
  /** Port the app listens on inside the container. */
  port: number;
  /** Loopback port it is published on. */
  localPort: number;
  healthPath: string;
  /** Plain environment. */
  env?: Readonly<Record<string, string>>;
  /** Names of secret variables: their values come from the caller's environment, never the command line. */
  secretEnv?: readonly string[];
  healthcheck?: Partial<Omit<LocalHealthcheck, "command">>;
}

export interface LocalHealthcheck {
  /** A shell command run inside the container (`CMD-SHELL`). */
  command: string;
  intervalSeconds: number;
  timeoutSeconds: number;
  retries: number;
  startPeriodSeconds: number;
}

export interface LocalContainerSpec {
  name: string;
  /** `<repository>@<digest>`. */
  image: string;
  /** Published on loopback only: `127.0.0.1:<localPort>:<port>`. */
  publish: { ip: "127.0.0.1"; hostPort: number; containerPort: number };
  env: Record<string, string>;
  secretEnv: string[];
  restart: "unless-stopped";
  healthcheck: LocalHealthcheck;
}

/**
 * The in-container probe of the health endpoint: Python's urllib (the images Slipway releases are
 * Python apps), else curl, else wget; whichever the image has.
 */
export function healthProbe(port: number, healthPath: string): string {
  const url = `http://127.0.0.1:${port}${healthPath}`;
  const python = `import urllib.request; urllib.request.urlopen(${JSON.stringify(url)}, timeout=4)`;
  return [
    `python3 -c ${shellQuote(python)} 2>/dev/null`,
    `curl -fsS -o /dev/null ${shellQuote(url)}`,
    `wget -q -O /dev/null ${shellQuote(url)}`,
  ].join(" || ");
}

/** The local target's container, as plain data. */
export function localContainerSpec(input: LocalContainerSpecInput): LocalContainerSpec {
  const env: Record<string, string> = {};
  for (const key of Object.keys(input.env ?? {}).sort()) env[key] = (input.env ?? {})[key];
  return {
    name: input.name,
    image: `${input.repository}@${input.digest}`,
    publish: { ip: "127.0.0.1", hostPort: input.localPort, containerPort: input.port },
    env,
    secretEnv: [...(input.secretEnv ?? [])].sort(),
    restart: "unless-stopped",
    healthcheck: {
      command: healthProbe(input.port, input.healthPath),
      intervalSeconds: input.healthcheck?.intervalSeconds ?? 10,
      timeoutSeconds: input.healthcheck?.timeoutSeconds ?? 5,
      retries: input.healthcheck?.retries ?? 6,
      startPeriodSeconds: input.healthcheck?.startPeriodSeconds ?? 20,
    },
  };
}

/**
 * The `docker run -d` equivalent of the local container. Secret variables are passed by name
 * (`--env NAME`): Docker copies them from the caller's environment, so no secret is on a command line.
 */
export function dockerRunCommand(spec: LocalContainerSpec, docker = "docker"): string {
  const hc = spec.healthcheck;
  const p = spec.publish;
  return shellJoin([
    docker,
    "run",
    "-d",
    "--name",
    spec.name,
    "--restart",
    spec.restart,
    "--publish",
    `${p.ip}:${p.hostPort}:${p.containerPort}`,
    ...many("env", pairs(spec.env)),
    ...many("env", spec.secretEnv),
    "--health-cmd",
    hc.command,
    "--health-interval",
    `${hc.intervalSeconds}s`,
    "--health-timeout",
    `${hc.timeoutSeconds}s`,
    "--health-retries",
    String(hc.retries),
    "--health-start-period",
    `${hc.startPeriodSeconds}s`,
    spec.image,
  ]);
}

// ---------------------------------------------------------------------------------------------
// Registry-side release: promote, prune, evidence

export interface PromoteSpec extends GateSpecBase {
  /** `HOST/REPO`, e.g. `registry.digitalocean.com/acme/odoo`. */
  repository: string;
  /** The gated candidate's manifest digest (`sha256:...`). */
  digest: string;
  /** The release tag: immutable once it holds a digest. */
  version: string;
  /** Also point `latest` at the digest (after the version tag). */
  latest?: boolean;
  /**
   * Refuse a digest without a READY release report attached: for promoting a digest another stack
   * released (the gates did not run here).
   */
  requireEvidence?: boolean;
  /**
   * The source stack's release report verdict (`READY` / `NOT READY`, its `releaseReport` output), for
   * a promotion from another stack: anything but READY is refused (EVIDENCE_NOT_READY).
   */
  sourceVerdict?: string;
  /** Budget of the whole promotion in seconds (the gate's default: 600, the SOP's push timeout). */
  timeoutSeconds?: number;
}

/**
 * `promote`: the candidate's exact manifest under `:<version>`, then `:latest`, registry-side (no
 * layer moves). The released digest is the verdict line's value: the deploy reads it. Replaces
 * `tag-guard` + `docker push` + `retag latest` in the release path.
 */
export function promoteCommand(spec: PromoteSpec): string {
  return gateCommand("promote", spec.reportDir, [
    opt("repository", spec.repository),
    opt("digest", spec.digest),
    opt("version", spec.version),
    flag("latest", spec.latest),
    flag("require-evidence", spec.requireEvidence),
    opt("source-verdict", spec.sourceVerdict),
    opt("timeout", spec.timeoutSeconds),
  ]);
}

export interface PruneSpec extends GateSpecBase {
  repository: string;
  /** Candidate manifests to keep, newest first. */
  keep: number;
  /** Digests never deleted (the stacks' deployed digests), on top of every non-candidate tag's. */
  protect?: readonly string[];
  /** Report only. */
  dryRun?: boolean;
  timeoutSeconds?: number;
}

/**
 * `prune`: delete `candidate-*` manifests beyond the newest `keep`; a digest any release, `latest`,
 * cache or evidence tag points at, or a protected one, is never deleted. On DOCR it needs env
 * DIGITALOCEAN_TOKEN (the delete goes through the DigitalOcean API).
 */
export function pruneCommand(spec: PruneSpec): string {
  return gateCommand("prune", spec.reportDir, [
    opt("repository", spec.repository),
    opt("keep", spec.keep),
    many("protect", spec.protect),
    flag("dry-run", spec.dryRun),
    opt("timeout", spec.timeoutSeconds),
  ]);
}

export interface EvidenceAttachSpec extends GateSpecBase {
  repository: string;
  /** The release manifest the evidence is bound to. */
  digest: string;
  /**
   * Files by kind (`sbom`, `trivy`, `gates`, `tests`, `coverage`, `report`), paths relative to the
   * project root; a kind with several files (the report's JSON and Markdown) is one artifact.
   */
  files: Readonly<Partial<Record<string, readonly string[]>>>;
  /**
   * Files attached when present (`--file-if-exists`): results of gates that ran on this machine (a
   * resumed `up` on a fresh runner has only its own). Same shape as `files`.
   */
  filesIfExist?: Readonly<Partial<Record<string, readonly string[]>>>;
  timeoutSeconds?: number;
}

/**
 * `evidence attach`: each kind of evidence as an OCI artifact whose `subject` is the release
 * manifest (referrers API, or the `sha256-<hex>.<kind>` tag fallback). Result in
 * `<reportDir>/evidence.json`; kinds in key order, so the same spec renders the same command.
 */
export function evidenceAttachCommand(spec: EvidenceAttachSpec): string {
  const pairsOf = (files: Readonly<Partial<Record<string, readonly string[]>>>) =>
    Object.keys(files)
      .sort()
      .flatMap((kind) => (files[kind] ?? []).map((path) => `${kind}=${path}`));
  return shellJoin([
    GATE_BIN,
    "evidence",
    "attach",
    ...opt("repository", spec.repository),
    ...opt("digest", spec.digest),
    ...many("file", pairsOf(spec.files)),
    ...many("file-if-exists", pairsOf(spec.filesIfExist ?? {})),
    ...opt("timeout", spec.timeoutSeconds),
    "--print-verdict",
    "--json",
    reportFile(spec.reportDir, "evidence"),
  ]);
}
