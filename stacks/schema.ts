import { z } from "zod";

/**
 * The stack configuration, one zod object per config key of the `slipway` namespace
 * (`slipway:app`, `slipway:release`, ...). No Pulumi import: the loader (`load.ts`) reads
 * `pulumi.Config` and hands plain values here; tests call the schema directly.
 *
 * Environment rules (prod stricter than dev) are refinements in `rules.ts`, applied by `releaseConfigSchema`,
 * so a bad prod config fails in preview, before anything is built.
 */

/** `name[:tag]@sha256:<64 hex>` or `name[:tag]` (the latter only where the environment allows it). */
const imageRef = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._\-/:]*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/, {
    message: "expected an image reference like python:3.11-slim-bullseye@sha256:<64 hex>",
  });

/** Docker-style sizes: `2GB`, `1.5GiB`, `500MB`, or bytes. */
export const sizeString = z.string().regex(/^\d+(\.\d+)?\s*([KMGT]i?B|B)?$/i, {
  message: "expected a size like 2GB, 1.5GiB or 500MB",
});

const envName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: "expected an environment variable name" });
const absolutePath = z.string().regex(/^\//, { message: "expected an absolute path" });
const pythonModule = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/, {
  message: "expected a Python module name like opentelemetry.exporter",
});
/** A release tag: Docker's tag grammar. */
export const tagName = z
  .string()
  .regex(/^[\w][\w.-]{0,127}$/, { message: "expected a Docker tag like v1.4.2" });
const digest = z.string().regex(/^sha256:[a-f0-9]{64}$/, { message: "expected sha256:<64 hex>" });

export const appSchema = z.strictObject({
  /** App and repository name (DOCR repository, App Platform app and service name). */
  name: z.string().regex(/^[a-z][a-z0-9-]{1,30}[a-z0-9]$/, {
    message: "expected 3-32 lowercase letters, digits and dashes, starting with a letter",
  }),
  /** Build context directory, relative to the project. */
  context: z.string().min(1),
  /** Dockerfile path, relative to the project. Default: `<context>/Dockerfile`. */
  dockerfile: z.string().min(1).optional(),
  /** Port the app listens on inside the container. */
  port: z.number().int().min(1).max(65535),
  /** Health endpoint path, e.g. `/web/health`. */
  healthPath: z.string().regex(/^\//, { message: "expected a path starting with /" }),
  /** Build targets (Dockerfile stage names). */
  targets: z
    .strictObject({
      builder: z.string().min(1).default("builder"),
      runtime: z.string().min(1).default("runtime"),
    })
    .default({ builder: "builder", runtime: "runtime" }),
  /** Extra build args (the base image digest is passed as `BASE_IMAGE` always). */
  buildArgs: z.record(z.string(), z.string()).default({}),
  /** Command that prints the app version inside the runtime image, e.g. `odoo --version`. */
  versionCommand: z.string().min(1).optional(),
  /** Text the version command must print, e.g. `Odoo Server 16.0`. */
  expectVersion: z.string().min(1).optional(),
  /** Paths that must exist in the runtime image (e.g. `/mnt/extra-addons`). */
  requiredPaths: z.array(absolutePath).default([]),
  /** Python modules that must import in the runtime image. */
  requiredImports: z.array(pythonModule).default([]),
  /** The runtime image must not run as root. Default true. */
  nonRoot: z.boolean().default(true),
  /** Seconds the smoke boot may take to answer its health path. */
  bootTimeout: z.number().positive().max(600).default(60),
});

export const releaseSchema = z.strictObject({
  /** The version tag this release pushes (never `latest`). */
  version: tagName,
  /** Rollback: a tag or digest already in the registry. When set, nothing is built, tested, scanned or pushed. */
  pin: z.union([tagName, digest]).optional(),
  /** In rollback mode, also move `latest` to the pinned digest. Default true. */
  repointLatest: z.boolean().default(true),
  /** Also push `latest` on a normal release. Default true. */
  tagLatest: z.boolean().default(true),
});

export const testsSchema = z.strictObject({
  /** Whether the test gate runs. prod requires it. */
  enabled: z.boolean().default(true),
  /** The test command, run inside the builder image. */
  command: z.string().min(1),
  /** Coverage floor in percent. */
  coverageMin: z.number().min(0).max(100).default(75),
  /** Extra environment for the tests (e.g. POSTGRES_HOST). */
  env: z.record(envName, z.string()).default({}),
  /** Docker network the test container joins (e.g. one with a database). */
  network: z.string().min(1).optional(),
});

export const smokeSchema = z.strictObject({
  /** Maximum runtime image size. */
  maxSize: sizeString.default("2GB"),
  /** Boot the image and check its health before pushing. Default true. */
  boot: z.boolean().default(true),
});

export const severity = z.enum(["UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL"]);

export const scanSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** Severities that block. */
  severity: z.array(severity).min(1).default(["HIGH", "CRITICAL"]),
  /** Trivy allowlist file (.trivyignore or .trivyignore.yaml), relative to the project. */
  allowlist: z.string().min(1).optional(),
  /** Keep only findings with a fix available. */
  ignoreUnfixed: z.boolean().default(false),
  /** Every allowlist entry must carry a statement and an expiry. */
  requireStatement: z.boolean().default(false),
  /** Trivy container image, pinned by digest, used when no `trivy` binary is on PATH. */
  trivyImage: imageRef.optional(),
  /** Scan a pre-made Trivy JSON report instead of running Trivy (CI that scans in its own step). */
  report: z.string().min(1).optional(),
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
  /** Registry host for the local target, e.g. `127.0.0.1:5000`. */
  server: z.string().min(1).optional(),
  /** Hours the write credentials minted for a release stay valid. */
  credentialHours: z.number().int().min(1).max(720).default(1),
  /** Registry layer cache for builds (`cacheFrom`/`cacheTo`). */
  cache: z.boolean().default(true),
});

export const alertsSchema = z.strictObject({
  emails: z.array(z.email()).default([]),
  /** Slack destinations; the webhook URLs themselves are secrets under `slipway:secrets` (`slack.<channel>`). */
  slackChannels: z.array(z.string().min(1)).default([]),
  /** CPU / memory utilisation percent that raises an alert. */
  cpuPercent: z.number().min(1).max(100).default(80),
  memPercent: z.number().min(1).max(100).default(80),
  /** Restarts in the window that raise an alert. */
  restarts: z.number().int().min(1).default(3),
});

export const deploySchema = z.strictObject({
  target: z.enum(["app-platform", "local"]),
  /** App Platform region slug. */
  region: z
    .string()
    .regex(/^[a-z]{3}\d?$/, { message: "expected a region slug like fra or nyc" })
    .default("fra"),
  instanceCount: z.number().int().min(1).max(250).default(1),
  instanceSizeSlug: z.string().min(1).default("apps-s-1vcpu-1gb"),
  /** Plain environment variables for the app. */
  env: z.record(envName, z.string()).default({}),
  /** Names of secret environment variables; values come from `pulumi config set --secret --path secrets.<NAME>`. */
  secretEnv: z.array(envName).default([]),
  /** Managed database to bind (App Platform), by cluster name. */
  database: z
    .strictObject({
      clusterName: z.string().min(1),
      engine: z.enum(["PG", "MYSQL", "REDIS"]).default("PG"),
      dbName: z.string().min(1).optional(),
      dbUser: z.string().min(1).optional(),
    })
    .optional(),
  /** Command for a PRE_DEPLOY job on the new image (e.g. an Odoo module upgrade). */
  preDeployCommand: z.string().min(1).optional(),
  alerts: alertsSchema.default({
    emails: [],
    slackChannels: [],
    cpuPercent: 80,
    memPercent: 80,
    restarts: 3,
  }),
  /** Health check thresholds, seconds / counts, as App Platform takes them. */
  healthCheck: z
    .strictObject({
      initialDelaySeconds: z.number().int().min(0).max(3600).default(20),
      periodSeconds: z.number().int().min(1).max(300).default(10),
      timeoutSeconds: z.number().int().min(1).max(120).default(5),
      failureThreshold: z.number().int().min(1).max(50).default(6),
      successThreshold: z.number().int().min(1).max(50).default(1),
    })
    .default({
      initialDelaySeconds: 20,
      periodSeconds: 10,
      timeoutSeconds: 5,
      failureThreshold: 6,
      successThreshold: 1,
    }),
  /** Post-deploy verification budget, seconds. */
  verifyTimeout: z.number().positive().max(3600).default(300),
  /** Local target: loopback port the container is published on. */
  localPort: z.number().int().min(1024).max(65535).default(18069),
});

export const environmentSchema = z.enum(["dev", "prod", "local"]);

/** The whole config, before environment rules. */
export const baseConfigSchema = z.strictObject({
  environment: environmentSchema,
  app: appSchema,
  baseImage: imageRef,
  release: releaseSchema,
  tests: testsSchema,
  smoke: smokeSchema.default({ maxSize: "2GB", boot: true }),
  scan: scanSchema.default({
    enabled: true,
    severity: ["HIGH", "CRITICAL"],
    ignoreUnfixed: false,
    requireStatement: false,
  }),
  registry: registrySchema,
  deploy: deploySchema,
});

export type ReleaseConfig = z.output<typeof baseConfigSchema>;
export type Environment = z.output<typeof environmentSchema>;
export type Severity = z.output<typeof severity>;
