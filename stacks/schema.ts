import { z } from "zod";
import { parseImageRef } from "../gates/imageRef";
import { SUPPORTED_DATABASE_ENGINES } from "./digitalocean";

/**
 * The stack configuration, one zod object per config key of the `slipway` namespace
 * (`slipway:app`, `slipway:release`, ...). No Pulumi import: the loader (`load.ts`) reads
 * `pulumi.Config` and hands plain values here; tests call the schema directly.
 *
 * This file holds what each key may hold on its own (types, formats, ranges, defaults). Rules that
 * depend on the environment or on several keys (prod stricter than dev, "this needs that") are
 * refinements in `rules.ts`, applied by `releaseConfigSchema`, so a bad prod config fails in preview,
 * before anything is built.
 *
 * Every default lives here and only here (Pulumi.yaml declares none), and docs/config.md lists them.
 * Objects that are absent default to their fields' defaults (`prefault({})`: the default goes through
 * the schema, so there is no second copy of the inner defaults to keep in step).
 */

/**
 * `pulumi config set --path` stores an integer as a number and `true`/`false` as booleans (only
 * top-level keys are always strings): `--path release.version 2` gives the number 2. Where the schema
 * wants text, such a scalar is taken as its text.
 */
function asText(value: unknown): unknown {
  return typeof value === "number" || typeof value === "boolean" ? String(value) : value;
}

/**
 * The other way round: `--path tests.coverageMin 75.5` stores the string "75.5" (only integers
 * become numbers). Where the schema wants a number, a string that is exactly a decimal number is
 * taken as that number; anything else is left for the schema to reject.
 */
function asNumber(value: unknown): unknown {
  return typeof value === "string" && /^-?\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : value;
}

/** A text field that also accepts what the CLI turns into numbers or booleans. */
function text<T extends z.ZodType>(schema: T) {
  return z.preprocess(asText, schema);
}

/** A number field that also accepts a decimal written as a CLI string. */
function num<T extends z.ZodType>(schema: T) {
  return z.preprocess(asNumber, schema);
}

/**
 * A whole number. zod's own `.int()` marks its issue "stop here" (`continue: false`), and zod then skips
 * every later refinement of the whole config, so the environment rules (rules.ts) would stay silent
 * until the number is fixed. This check reports the same issue without stopping anything.
 */
function wholeNumber() {
  return z.number().check((payload) => {
    if (!Number.isInteger(payload.value)) {
      payload.issues.push({ code: "invalid_type", expected: "int", input: payload.value });
    }
  });
}

const IMAGE_EXAMPLE = "python:3.11-slim-bullseye@sha256:<64 hex>";

/**
 * An image reference, parsed with the gates' own parser (`gates/imageRef.ts`), so the config accepts
 * exactly the references the gates and Docker accept. `pinned`: a digest is required (the reference
 * always means the same bytes).
 */
function imageRef(pinned: boolean) {
  return z.string().superRefine((value, ctx) => {
    let digest: string | undefined;
    try {
      digest = parseImageRef(value).digest;
    } catch (error) {
      ctx.addIssue({
        code: "custom",
        message: `expected an image reference like ${IMAGE_EXAMPLE} (${(error as Error).message})`,
      });
      return;
    }
    if (pinned && digest === undefined) {
      ctx.addIssue({
        code: "custom",
        message: `must be pinned by digest (${value}@sha256:<64 hex>), got "${value}"`,
      });
    }
  });
}

/** Docker-style sizes: `2GB`, `1.5GiB`, `500MB`, or bytes. */
export const sizeString = z.string().regex(/^\d+(\.\d+)?\s*([KMGT]i?B|B)?$/i, {
  message: "expected a size like 2GB, 1.5GiB or 500MB",
});

const envName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: "expected an environment variable name" });
const absolutePath = z.string().regex(/^\//, { message: "expected an absolute path" });
/**
 * A path inside the project (build context, Dockerfile, allowlist, report). Absolute paths are
 * refused: the same stack file must work on every machine and in CI.
 */
const projectPath = z
  .string()
  .min(1)
  .regex(/^[^/]/, { message: "expected a path relative to the project directory" });
const pythonModule = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/, {
  message: "expected a Python module name like opentelemetry.exporter",
});
/** A release tag: Docker's tag grammar. */
export const tagName = z
  .string()
  .regex(/^[\w][\w.-]{0,127}$/, { message: "expected a Docker tag like v1.4.2" });
/** A tag or a digest (a rollback pin). */
const tagOrDigest = z.string().regex(/^(?:[\w][\w.-]{0,127}|sha256:[a-f0-9]{64})$/, {
  message: "expected a tag like v1.4.2 or a digest sha256:<64 hex>",
});
/** `host[:port]` without a scheme or path, as Docker names registries. */
const registryHost = z
  .string()
  .regex(
    /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:]+\])(?::\d{1,5})?$/,
    { message: "expected a registry host like 127.0.0.1:5000 (no scheme, no path)" },
  );

export const appSchema = z.strictObject({
  /** App and repository name (DOCR repository, App Platform app and service name). */
  name: z.string().regex(/^[a-z][a-z0-9-]{1,30}[a-z0-9]$/, {
    message: "expected 3-32 lowercase letters, digits and dashes, starting with a letter",
  }),
  /** Build context directory, relative to the project. */
  context: projectPath,
  /** Dockerfile path, relative to the project. Default: `<context>/Dockerfile`. */
  dockerfile: projectPath.optional(),
  /** Port the app listens on inside the container. */
  port: num(wholeNumber().min(1).max(65535)),
  /** Health endpoint path, e.g. `/web/health`. */
  healthPath: z.string().regex(/^\/\S*$/, { message: "expected a path starting with /" }),
  /**
   * The buildx builder the builds use (`docker buildx create --name ...`; a `docker-container` driver:
   * docker-build does not support Docker's default `docker` driver). Default: docker-build's choice.
   */
  builder: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, { message: "expected a buildx builder name" })
    .optional(),
  /** Build targets (Dockerfile stage names). */
  targets: z
    .strictObject({
      builder: z.string().min(1).default("builder"),
      runtime: z.string().min(1).default("runtime"),
    })
    .prefault({}),
  /** Extra build args (the base image is passed as `BASE_IMAGE` always; see rules.ts). */
  buildArgs: z.record(envName, text(z.string())).default({}),
  /** Command that prints the app version inside the runtime image, e.g. `odoo --version`. */
  versionCommand: z.string().min(1).optional(),
  /** Text the version command must print, e.g. `Odoo Server 16.0`. Needs `versionCommand`. */
  expectVersion: text(z.string().min(1)).optional(),
  /** Paths that must exist in the runtime image (e.g. `/mnt/extra-addons`). */
  requiredPaths: z.array(absolutePath).default([]),
  /** Python modules that must import in the runtime image. */
  requiredImports: z.array(pythonModule).default([]),
  /** The runtime image must not run as root. Default true; prod keeps it true. */
  nonRoot: z.boolean().default(true),
  /** Seconds the smoke boot may take to answer its health path. */
  bootTimeout: num(z.number().positive().max(600)).default(60),
});

export const releaseSchema = z.strictObject({
  /** The version tag this release pushes (never `latest`: see rules.ts). */
  version: text(tagName),
  /** Rollback: a tag or digest already in the registry. When set, nothing is built, tested, scanned or pushed. */
  pin: text(tagOrDigest).optional(),
  /** In rollback mode, also move `latest` to the pinned digest. Default true. */
  repointLatest: z.boolean().default(true),
  /** Also point `latest` at the release (normal and promotion mode). Default true. */
  tagLatest: z.boolean().default(true),
  /**
   * Promotion mode: the stack whose released, verified digest this stack promotes (`dev`, or
   * `<org>/<project>/<stack>`), read with a StackReference. Nothing is built or tested: the digest is
   * re-scanned, its report must be READY, and it is promoted under `version`, deployed and verified.
   */
  promoteFrom: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+)?$/, {
      message: "expected a stack name like dev, or <organization>/<project>/<stack>",
    })
    .optional(),
  /**
   * Rollback mode: why the pin may be a digest whose evidence is missing or NOT READY (an emergency
   * rollback to a release made before evidence existed, or one that was never verified). Recorded in
   * the report. Default: such a pin is refused before anything changes.
   */
  rollbackReason: z.string().min(10, { message: "say why, in a sentence" }).optional(),
  /** prod's explicit switch to build from source instead of promoting (rule `prod-promotes`). */
  buildFromSource: z.boolean().default(false),
  /**
   * The git commit the release is built from (CI: `$GITHUB_SHA`), exported as `sourceCommit` so a
   * promoting stack's workflow can check it promotes the commit it was asked to.
   */
  commit: text(
    z.string().regex(/^[0-9a-f]{7,64}$/, { message: "expected a git commit hash" }),
  ).optional(),
});

/**
 * A service the tests or the boot depend on (a database, a cache), started per run by the gate on a
 * network of the run's own and removed afterwards (gates/services).
 */
export const serviceSchema = z.strictObject({
  /** DNS name on the run's network, e.g. `db`: the app reaches the service by that name. */
  name: z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, { message: "expected a lowercase DNS label" }),
  /** The service image, pinned by digest. */
  image: imageRef(true),
  /** Plain environment of the service (nothing secret: use `credentials`). */
  env: z.record(envName, text(z.string())).default({}),
  /** Shell command run inside the service until it exits 0, e.g. `pg_isready -h 127.0.0.1`. */
  ready: z.string().min(1),
  /** Seconds to wait for `ready`. Default 60. */
  readyTimeout: num(z.number().positive().max(3600)).optional(),
  /** Environment handed to the app, e.g. `{ POSTGRES_HOST: db, POSTGRES_PORT: "5432" }`. */
  expose: z.record(envName, text(z.string())).default({}),
  /** Variables generated per run and given to the service and the app by name, e.g. POSTGRES_PASSWORD. */
  credentials: z.array(envName).default([]),
});

const banditLevel = z.enum(["LOW", "MEDIUM", "HIGH"]);

export const testsSchema = z
  .strictObject({
    /** Whether the test gate runs. prod requires it. */
    enabled: z.boolean().default(true),
    /** The test command, run inside the builder image. */
    command: z.string().min(1),
    /** Coverage floor in percent. prod requires >= 75. */
    coverageMin: num(z.number().min(0).max(100)).default(75),
    /** Extra environment for the tests (e.g. POSTGRES_HOST). */
    env: z.record(envName, text(z.string())).default({}),
    /** Docker network the test container joins (e.g. one with a database). Excludes `services`. */
    network: z.string().min(1).optional(),
    /** Services started for each test run on a network of its own (e.g. PostgreSQL). */
    services: z.array(serviceSchema).optional(),
    /** bandit over the app's source in the builder image (SECURITY_VULN). Absent: no bandit. */
    bandit: z
      .strictObject({
        /** Paths scanned (`bandit -r`), relative to the builder's workdir, e.g. `custom_addons/`. */
        paths: z.array(z.string().min(1)).min(1),
        /** Findings of this severity or above block (with `confidence`). Default MEDIUM. */
        severity: banditLevel.default("MEDIUM"),
        /** Findings of this confidence or above block. Default MEDIUM. */
        confidence: banditLevel.default("MEDIUM"),
        /** Accepted findings, a JSON file of `{ test, file, statement }` entries. */
        skips: projectPath.optional(),
      })
      .optional(),
    /** `python3 -m pip check` in the builder image (PIP_DEPENDENCY_CONFLICT). Default false. */
    pipCheck: z.boolean().optional(),
  })
  .refine((t) => t.network === undefined || (t.services ?? []).length === 0, {
    message: "network and services exclude each other: services bring a network of the run's own",
    path: ["services"],
  });

export const smokeSchema = z.strictObject({
  /** Maximum runtime image size. */
  maxSize: sizeString.default("2GB"),
  /** Boot the image and check its health before pushing. Default true; prod keeps it true. */
  boot: z.boolean().default(true),
  /** Services started for the boot on a network of its own (e.g. the app's database). */
  services: z.array(serviceSchema).optional(),
  /** `python3 -m pip check` in the runtime image (PIP_DEPENDENCY_CONFLICT). Default false. */
  pipCheck: z.boolean().optional(),
  /** The wkhtmltopdf version the runtime image must hold, e.g. 0.12.6 (WKHTMLTOPDF_MISMATCH). */
  wkhtmltopdf: z
    .string()
    .regex(/^\d+(\.\d+)*$/, { message: "expected a version such as 0.12.6" })
    .optional(),
  /** Regexes with a `(?<module>...)` group: a module that failed to load. Default: Odoo 16's lines. */
  moduleErrorPatterns: z
    .array(
      z.string().refine((p) => p.includes("(?<module>") && isRegExp(p), {
        message: "expected a regular expression with a (?<module>...) group",
      }),
    )
    .optional(),
  /** Regexes of a database connection error in the boot's logs. Default: psycopg2/libpq's messages. */
  dbErrorPatterns: z
    .array(z.string().refine(isRegExp, { message: "expected a regular expression" }))
    .optional(),
});

function isRegExp(source: string): boolean {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}

export const severity = z.enum(["UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL"]);

export const scanSchema = z.strictObject({
  /** Whether the scan gate runs. prod requires it. */
  enabled: z.boolean().default(true),
  /** Severities that block. prod requires HIGH and CRITICAL among them. */
  severity: z.array(severity).min(1).default(["HIGH", "CRITICAL"]),
  /** Trivy allowlist file (.trivyignore or .trivyignore.yaml), relative to the project. */
  allowlist: projectPath.optional(),
  /** Keep only findings with a fix available. */
  ignoreUnfixed: z.boolean().default(false),
  /** Every allowlist entry must carry a statement and an expiry. prod requires it with an allowlist. */
  requireStatement: z.boolean().default(false),
  /** Trivy container image, pinned by digest, used when no `trivy` binary is on PATH. */
  trivyImage: imageRef(true).optional(),
  /** Trivy's scanners (`vuln` needs its vulnerability DB, which Trivy downloads unless `offline`). */
  scanners: z
    .array(z.enum(["vuln", "secret", "misconfig"]))
    .min(1)
    .default(["vuln", "secret"]),
  /** Scan without updating Trivy's DBs (an air-gapped runner); `vuln` then needs a DB already cached. */
  offline: z.boolean().default(false),
  /** Write the release's CycloneDX SBOM (`sbom.cdx.json`), from the same Trivy pass. Default true. */
  sbom: z.boolean().default(true),
  /** Path of a Trivy binary (else env SLIPWAY_TRIVY, else `trivy` on PATH, else `trivyImage`). */
  trivy: z.string().min(1).optional(),
  /**
   * Judge a pre-made Trivy JSON report instead of running Trivy (machines where Trivy cannot run).
   * Not in prod, which scans the exact image it pushes.
   */
  report: projectPath.optional(),
  /**
   * Baseline mode: the currently released image's Trivy report, relative to the project (every
   * release keeps its own as `.slipway/releases/<version>/trivy.json`). Only findings absent from it
   * block; the others are listed as carried over. prod needs `allowBaselineInProd` as well.
   */
  baseline: projectPath.optional(),
  /** prod's explicit switch for `baseline` (prod otherwise blocks on every finding). Default false. */
  allowBaselineInProd: z.boolean().default(false),
});

export const registrySchema = z.strictObject({
  /** DOCR registry name (one per account: created when missing, adopted when it exists), or ignored for local. */
  name: z
    .string()
    .regex(/^[a-z0-9-]{1,63}$/, { message: "expected lowercase letters, digits and dashes" }),
  /** Create the registry (true) or adopt the account's existing one (false). Default false: adopt. */
  create: z.boolean().default(false),
  /** DOCR subscription tier when created. */
  subscriptionTier: z.enum(["starter", "basic", "professional"]).default("basic"),
  /** Registry host for the local target, e.g. `127.0.0.1:5000` (a loopback host: see rules.ts). */
  server: registryHost.optional(),
  /** Registry layer cache for builds (`cacheFrom`/`cacheTo`). */
  cache: z.boolean().default(true),
});

export const alertsSchema = z.strictObject({
  emails: z.array(z.email({ message: "expected an email address" })).default([]),
  /**
   * Slack channel names, without `#`; the webhook URLs themselves are secrets under
   * `slipway:secrets` (`secrets.slack.<channel>`).
   */
  slackChannels: z
    .array(
      z.string().regex(/^[a-z0-9][a-z0-9_-]{0,79}$/, {
        message: "expected a Slack channel name without # (lowercase letters, digits, - and _)",
      }),
    )
    .default([]),
  /** CPU / memory utilisation percent that raises an alert. */
  cpuPercent: num(z.number().min(1).max(100)).default(80),
  memPercent: num(z.number().min(1).max(100)).default(80),
  /** Restarts in the window that raise an alert. */
  restarts: num(wholeNumber().min(1)).default(3),
});

export const deploySchema = z.strictObject({
  target: z.enum(["app-platform", "local"]),
  /**
   * App Platform region slug (`fra`, `nyc`, ...). Default `fra`. The closed list is checked with an
   * App Platform target (rules.ts `app-platform-region`, list in digitalocean.ts).
   */
  region: z.string().min(1).default("fra"),
  /** Instances of the service. Sizes that allow one only: rules.ts `app-platform-single-instance`. */
  instanceCount: num(wholeNumber().min(1).max(250)).default(1),
  /** App Platform instance size (closed list: rules.ts `app-platform-instance-size`, digitalocean.ts). */
  instanceSizeSlug: z.string().min(1).default("apps-s-1vcpu-1gb"),
  /** Plain environment variables for the app. */
  env: z.record(envName, text(z.string())).default({}),
  /** Names of secret environment variables; values come from `pulumi config set --secret --path secrets.<NAME>`. */
  secretEnv: z.array(envName).default([]),
  /** Managed database to bind (App Platform), by cluster name. */
  database: z
    .strictObject({
      clusterName: z.string().min(1),
      engine: z.enum(SUPPORTED_DATABASE_ENGINES).default("PG"),
      /** PG and MYSQL only (rules.ts `database-engine-fields`). */
      dbName: z.string().min(1).optional(),
      /** PG and MYSQL only (rules.ts `database-engine-fields`). */
      dbUser: z.string().min(1).optional(),
    })
    .optional(),
  /** Command for a PRE_DEPLOY job on the new image (e.g. an Odoo module upgrade). */
  preDeployCommand: z.string().min(1).optional(),
  alerts: alertsSchema.prefault({}),
  /** Health check thresholds, seconds / counts, as App Platform takes them. */
  healthCheck: z
    .strictObject({
      initialDelaySeconds: num(wholeNumber().min(0).max(3600)).default(20),
      periodSeconds: num(wholeNumber().min(1).max(300)).default(10),
      timeoutSeconds: num(wholeNumber().min(1).max(120)).default(5),
      failureThreshold: num(wholeNumber().min(1).max(50)).default(6),
      successThreshold: num(wholeNumber().min(1).max(50)).default(1),
    })
    .prefault({}),
  /** Post-deploy verification budget, seconds. */
  verifyTimeout: num(z.number().positive().max(3600)).default(300),
  /**
   * What the verification's response body must name besides answering 200: `version` (the released
   * version tag) or `digest` (the released digest), so a deploy that left the old release running
   * fails with HEALTH_CHECK_FAIL saying what answered. Default: status only.
   */
  verifyBody: z.enum(["version", "digest"]).optional(),
  /** Path the verification polls. Default: `app.healthPath`. */
  verifyPath: z
    .string()
    .regex(/^\/\S*$/, { message: "expected a path starting with /" })
    .optional(),
  /** Local target: loopback port the container is published on. */
  localPort: num(wholeNumber().min(1024).max(65535)).default(18069),
});

export const environmentSchema = z.enum(["dev", "prod", "local"]);

/** The whole config, before environment rules. */
export const baseConfigSchema = z.strictObject({
  environment: environmentSchema,
  app: appSchema,
  baseImage: imageRef(false),
  release: releaseSchema,
  tests: testsSchema,
  smoke: smokeSchema.prefault({}),
  scan: scanSchema.prefault({}),
  registry: registrySchema,
  deploy: deploySchema,
});

export type ReleaseConfig = z.output<typeof baseConfigSchema>;
export type Environment = z.output<typeof environmentSchema>;
export type Severity = z.output<typeof severity>;

/** The environments, in the order the docs list them. */
export const ENVIRONMENTS: readonly Environment[] = environmentSchema.options;

export function isEnvironment(value: string): value is Environment {
  return (ENVIRONMENTS as readonly string[]).includes(value);
}
