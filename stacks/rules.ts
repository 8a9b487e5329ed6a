import { isLoopbackHost, parseImageRef } from "../gates/imageRef";
import { baseConfigSchema, ENVIRONMENTS, Environment, ReleaseConfig } from "./schema";
import {
  APP_PLATFORM_REGIONS,
  DEPRECATED_INSTANCE_SIZES,
  ENGINES_WITH_DB_FIELDS,
  INSTANCE_SIZES,
  isAppPlatformRegion,
  isDeprecatedInstanceSize,
  isInstanceSize,
  regionOfDatacenter,
  SINGLE_INSTANCE_SIZES,
} from "./digitalocean";
import { formatProblems, PathSegment, Problem, valueAt } from "./errors";

/**
 * The rules that depend on the environment or on several keys, as zod refinements over the base schema.
 * Each rule is a plain object (id, the environments it binds, the keys it reads, a check), so
 * that tests and docs/config.md can name every one of them.
 *
 * A rule runs when the keys it reads are themselves valid, even if other keys are not: one failed
 * `pulumi preview` lists every problem it can, not just the first layer of them. (zod skips refinements
 * after any issue by default; `releaseConfigSchema` asks it not to, each rule names the keys it reads
 * in `needs`, and schema.ts avoids the few issues that zod treats as "stop everything", such as
 * `.int()`'s.)
 */

/** A top-level config key (`app`, `scan`, ...). */
export type Section = keyof ReleaseConfig;

/** What a rule reads: a top-level key, or a dotted path under one (`deploy.alerts`). */
export type Need<K extends Section> = K | `${K}.${string}`;

/** Reports a problem at a path of the config (`["scan", "severity"]`). */
export type Report = (path: readonly PathSegment[], message: string) => void;

export interface Rule {
  /** Stable id: tests and docs/config.md name rules by it. */
  id: string;
  /** Environments the rule binds. */
  environments: readonly Environment[];
  /** What the check reads (`deploy.alerts`): it runs only when all of them parsed cleanly. */
  needs: readonly string[];
  check(config: ReleaseConfig, report: Report): void;
}

function rule<K extends Section>(definition: {
  id: string;
  environments?: readonly Environment[];
  needs: readonly Need<K>[];
  check: (config: Pick<ReleaseConfig, K>, report: Report) => void;
}): Rule {
  return {
    id: definition.id,
    environments: definition.environments ?? ENVIRONMENTS,
    needs: definition.needs,
    check: definition.check,
  };
}

const PROD: readonly Environment[] = ["prod"];
const LOCAL: readonly Environment[] = ["local"];

/** The only registry host of DigitalOcean Container Registry. */
export const DOCR_HOST = "registry.digitalocean.com";

/** Severities prod must block on (SOP-BUILD-001 step 5: HIGH and CRITICAL fail). */
const PROD_SEVERITIES = ["HIGH", "CRITICAL"] as const;

/** Coverage floor prod may not go under (SOP-BUILD-001 step 3). */
export const PROD_COVERAGE_MIN = 75;

/** Reports every repeated entry of a list, at the repeat's index. */
function noDuplicates(list: readonly string[], path: readonly PathSegment[], report: Report): void {
  const seen = new Set<string>();
  list.forEach((item, index) => {
    if (seen.has(item)) report([...path, index], `"${item}" is listed twice`);
    seen.add(item);
  });
}

/**
 * Every rule, in the order docs/config.md lists them: first those that bind every environment, then
 * prod's, then local's. (dev has no rules of its own: it is the permissive one.)
 */
export const RULES: readonly Rule[] = [
  // ---- every environment ----------------------------------------------------------------------
  /**
   * `latest` is a pointer Slipway moves, never a version: a release under that name would overwrite
   * whatever `latest` held and leave nothing to roll back to.
   */
  rule({
    id: "version-not-latest",
    needs: ["release.version"],
    check: ({ release }, report) => {
      if (release.version === "latest") {
        report(
          ["release", "version"],
          "`latest` is never a version (a release never overwrites): set an explicit version, e.g. pulumi config set --path release.version v1.4.2",
        );
      }
    },
  }),
  /** A rollback names a release that cannot move under it: a version tag or a digest, not `latest`. */
  rule({
    id: "pin-not-latest",
    needs: ["release.pin"],
    check: ({ release }, report) => {
      if (release.pin === "latest") {
        report(
          ["release", "pin"],
          "cannot pin `latest` (it moves): pin an earlier version tag or a digest, e.g. pulumi config set --path release.pin v1.4.1",
        );
      }
    },
  }),
  /**
   * A pin equal to `release.version` rolls back to the release this stack would make anyway: that is
   * a mistake (a pin typed into the version, or a version bumped without removing the pin).
   */
  rule({
    id: "pin-differs-from-version",
    needs: ["release.pin", "release.version"],
    check: ({ release }, report) => {
      if (release.pin !== undefined && release.pin === release.version) {
        report(
          ["release", "pin"],
          `equals release.version ("${release.version}"): to release it, remove the pin (pulumi config rm --path release.pin); to roll back, pin an earlier version`,
        );
      }
    },
  }),
  /** The expected version text is checked against the version command's output: no command, no check. */
  rule({
    id: "expect-version-needs-command",
    needs: ["app.expectVersion", "app.versionCommand"],
    check: ({ app }, report) => {
      if (app.expectVersion !== undefined && app.versionCommand === undefined) {
        report(
          ["app", "expectVersion"],
          "needs app.versionCommand (the command whose output must contain it), e.g. pulumi config set --path app.versionCommand 'odoo --version'",
        );
      }
    },
  }),
  /** Slipway passes the pinned `baseImage` as the `BASE_IMAGE` build arg; a second value would fight it. */
  rule({
    id: "base-image-arg-reserved",
    needs: ["app.buildArgs"],
    check: ({ app }, report) => {
      if (Object.prototype.hasOwnProperty.call(app.buildArgs, "BASE_IMAGE")) {
        report(
          ["app", "buildArgs", "BASE_IMAGE"],
          "is set by Slipway from slipway:baseImage (pinned): remove it and set slipway:baseImage instead",
        );
      }
    },
  }),
  /** One name, one value: a secret env name also set in plain `deploy.env` would leak or shadow it. */
  rule({
    id: "secret-env-not-plain",
    needs: ["deploy.secretEnv", "deploy.env"],
    check: ({ deploy }, report) => {
      deploy.secretEnv.forEach((name, index) => {
        if (Object.prototype.hasOwnProperty.call(deploy.env, name)) {
          report(
            ["deploy", "secretEnv", index],
            `"${name}" is also a plain variable in deploy.env: keep it secret only (pulumi config rm --path deploy.env.${name})`,
          );
        }
      });
    },
  }),
  /** `slack` under `slipway:secrets` holds the Slack webhook URLs; it cannot also be an env name. */
  rule({
    id: "secret-env-not-slack",
    needs: ["deploy.secretEnv"],
    check: ({ deploy }, report) => {
      deploy.secretEnv.forEach((name, index) => {
        if (name === "slack") {
          report(
            ["deploy", "secretEnv", index],
            '"slack" is reserved (secrets.slack holds the Slack webhook URLs): name the variable otherwise',
          );
        }
      });
    },
  }),
  /** A repeated entry in a list is a typo or a merge left-over; it is never what was meant. */
  ...(
    [
      "app.requiredPaths",
      "app.requiredImports",
      "scan.severity",
      "deploy.secretEnv",
      "deploy.alerts.emails",
      "deploy.alerts.slackChannels",
    ] as const
  ).map((dotted) =>
    rule({
      id: "no-duplicates",
      needs: [dotted],
      check: (config, report) => {
        const path = dotted.split(".");
        const list = valueAt(config, path);
        if (Array.isArray(list)) noDuplicates(list.map(String), path, report);
      },
    }),
  ),
  /**
   * `scan.report` means "judge this report, do not run Trivy"; `scan.trivyImage` says how to run Trivy.
   * Both at once is a contradiction: one of them would be silently ignored.
   */
  rule({
    id: "scan-report-or-trivy-image",
    needs: ["scan.report", "scan.trivyImage"],
    check: ({ scan }, report) => {
      if (scan.report !== undefined && scan.trivyImage !== undefined) {
        report(
          ["scan", "trivyImage"],
          "conflicts with scan.report (a report file means Trivy does not run): remove one of them",
        );
      }
    },
  }),
  /**
   * The local target deploys from a registry on this machine: it must be named, and on a loopback host
   * (Docker talks plain HTTP to those, and nothing leaves the machine).
   */
  rule({
    id: "local-target-loopback-registry",
    needs: ["deploy.target", "registry.server"],
    check: ({ deploy, registry }, report) => {
      if (deploy.target !== "local") return;
      if (registry.server === undefined) {
        report(
          ["registry", "server"],
          "missing: deploy.target local needs a local registry, e.g. pulumi config set --path registry.server 127.0.0.1:5000",
        );
      } else if (!isLoopbackHost(registry.server)) {
        report(
          ["registry", "server"],
          `"${registry.server}" is not a loopback host: deploy.target local uses a registry on 127.0.0.1, localhost or [::1]`,
        );
      }
    },
  }),
  /** App Platform pulls from DOCR (`registry.digitalocean.com/<registry.name>`): another host cannot work. */
  rule({
    id: "app-platform-registry-is-docr",
    needs: ["deploy.target", "registry.server"],
    check: ({ deploy, registry }, report) => {
      if (deploy.target !== "app-platform") return;
      if (registry.server !== undefined && registry.server !== DOCR_HOST) {
        report(
          ["registry", "server"],
          `deploy.target app-platform pulls from DOCR (${DOCR_HOST}/<registry.name>): remove registry.server`,
        );
      }
    },
  }),
  /**
   * App Platform has a closed list of regions (digitalocean.ts, from DO's OpenAPI `app_spec.yml`);
   * `fra1` is a datacenter (Droplets, DOCR), which the app spec refuses. The region defaults to `fra`,
   * so an app-platform target always has one.
   */
  rule({
    id: "app-platform-region",
    needs: ["deploy.target", "deploy.region"],
    check: ({ deploy }, report) => {
      if (deploy.target !== "app-platform" || isAppPlatformRegion(deploy.region)) return;
      const region = regionOfDatacenter(deploy.region);
      const hint =
        region === undefined
          ? ""
          : ` ("${deploy.region}" is a datacenter of region ${region}: use ${region})`;
      report(
        ["deploy", "region"],
        `"${deploy.region}" is not an App Platform region${hint}; allowed: ${APP_PLATFORM_REGIONS.join(", ")}`,
      );
    },
  }),
  /** Instance sizes are a closed list (digitalocean.ts, DO's `app_component_instance_base.yml`). */
  rule({
    id: "app-platform-instance-size",
    needs: ["deploy.target", "deploy.instanceSizeSlug"],
    check: ({ deploy }, report) => {
      const slug = deploy.instanceSizeSlug;
      if (deploy.target !== "app-platform") return;
      if (isInstanceSize(slug) || isDeprecatedInstanceSize(slug)) return;
      report(
        ["deploy", "instanceSizeSlug"],
        `"${slug}" is not an App Platform instance size; allowed: ${INSTANCE_SIZES.join(", ")} (legacy, deprecated: ${DEPRECATED_INSTANCE_SIZES.join(", ")})`,
      );
    },
  }),
  /** Some sizes allow one instance only (`single_instance_only` in DO's instance size list). */
  rule({
    id: "app-platform-single-instance",
    needs: ["deploy.target", "deploy.instanceSizeSlug", "deploy.instanceCount"],
    check: ({ deploy }, report) => {
      const slug = deploy.instanceSizeSlug;
      if (deploy.target !== "app-platform" || deploy.instanceCount <= 1) return;
      if (!SINGLE_INSTANCE_SIZES.includes(slug)) return;
      const scalable = INSTANCE_SIZES.filter((size) => !SINGLE_INSTANCE_SIZES.includes(size));
      report(
        ["deploy", "instanceCount"],
        `is ${deploy.instanceCount}, but ${slug} allows one instance only (single-instance sizes: ${SINGLE_INSTANCE_SIZES.join(", ")}): set deploy.instanceCount 1, or a size that scales: ${scalable.join(", ")}`,
      );
    },
  }),
  /**
   * `db_name` and `db_user` configure a MySQL or PostgreSQL database (DO's `app_database_spec.yml`);
   * another engine given them is refused by the API.
   */
  rule({
    id: "database-engine-fields",
    needs: ["deploy.database"],
    check: ({ deploy }, report) => {
      const database = deploy.database;
      if (database === undefined || ENGINES_WITH_DB_FIELDS.includes(database.engine)) return;
      for (const field of ["dbName", "dbUser"] as const) {
        if (database[field] === undefined) continue;
        report(
          ["deploy", "database", field],
          `engine ${database.engine} does not take ${field} (only ${ENGINES_WITH_DB_FIELDS.join(" and ")} do): pulumi config rm --path deploy.database.${field}`,
        );
      }
    },
  }),
  /**
   * Settings that only App Platform acts on would be silently ignored by the local target (one
   * container, no managed database, no alerting): refuse them rather than pretend.
   */
  rule({
    id: "local-target-no-app-platform-settings",
    needs: ["deploy.target", "deploy.database", "deploy.instanceCount", "deploy.alerts"],
    check: ({ deploy }, report) => {
      if (deploy.target !== "local") return;
      const why = "only App Platform acts on it, and deploy.target is local";
      if (deploy.database !== undefined) report(["deploy", "database"], `remove it: ${why}`);
      if (deploy.instanceCount !== 1) {
        report(["deploy", "instanceCount"], "must be 1: the local target runs one container");
      }
      if (deploy.alerts.emails.length > 0) report(["deploy", "alerts", "emails"], `remove: ${why}`);
      if (deploy.alerts.slackChannels.length > 0) {
        report(["deploy", "alerts", "slackChannels"], `remove: ${why}`);
      }
    },
  }),
  /** The local target pushes to the local registry: creating a DOCR registry for it makes no sense. */
  rule({
    id: "local-target-no-app-platform-settings",
    needs: ["deploy.target", "registry.create"],
    check: ({ deploy, registry }, report) => {
      if (deploy.target === "local" && registry.create) {
        report(
          ["registry", "create"],
          "must be false: it creates a DOCR registry, and deploy.target is local",
        );
      }
    },
  }),

  // ---- prod -----------------------------------------------------------------------------------
  /** prod builds on exactly the bytes that were reviewed: a tag alone can move under it. */
  rule({
    id: "prod-base-image-pinned",
    environments: PROD,
    needs: ["baseImage"],
    check: ({ baseImage }, report) => {
      if (parseImageRef(baseImage).digest === undefined) {
        report(
          ["baseImage"],
          `prod requires a base image pinned by digest (${baseImage}@sha256:<64 hex>); the base gate tells you when to move it`,
        );
      }
    },
  }),
  /** The scan gate is what stands between a known CVE and production. */
  rule({
    id: "prod-scan-enabled",
    environments: PROD,
    needs: ["scan.enabled"],
    check: ({ scan }, report) => {
      if (!scan.enabled) {
        report(
          ["scan", "enabled"],
          "prod requires the scan: pulumi config set --path scan.enabled true",
        );
      }
    },
  }),
  /** SOP-BUILD-001 step 5: HIGH and CRITICAL fail a release. Adding MEDIUM or LOW is fine. */
  rule({
    id: "prod-scan-severities",
    environments: PROD,
    needs: ["scan.severity"],
    check: ({ scan }, report) => {
      const missing = PROD_SEVERITIES.filter((s) => !scan.severity.includes(s));
      if (missing.length > 0) {
        report(
          ["scan", "severity"],
          `prod must block on HIGH and CRITICAL; missing ${missing.join(" and ")} (e.g. pulumi config set --path 'scan.severity[${scan.severity.length}]' ${missing[0]})`,
        );
      }
    },
  }),
  /** prod scans the exact image it pushes; a report file was made from some other image. */
  rule({
    id: "prod-scan-no-report",
    environments: PROD,
    needs: ["scan.report"],
    check: ({ scan }, report) => {
      if (scan.report !== undefined) {
        report(
          ["scan", "report"],
          "prod scans the exact image it pushes, not a report file: pulumi config rm --path scan.report",
        );
      }
    },
  }),
  /**
   * Baseline mode lets known findings through (those already in the released image): prod, which
   * otherwise blocks on every HIGH and CRITICAL finding, takes that only when someone chose it
   * explicitly, not because a path was left in the config.
   */
  rule({
    id: "prod-baseline-explicit",
    environments: PROD,
    needs: ["scan.baseline", "scan.allowBaselineInProd"],
    check: ({ scan }, report) => {
      if (scan.baseline !== undefined && !scan.allowBaselineInProd) {
        report(
          ["scan", "baseline"],
          "prod blocks on every finding unless baseline mode is chosen explicitly: pulumi config set --path scan.allowBaselineInProd true (or pulumi config rm --path scan.baseline)",
        );
      }
    },
  }),
  /** In prod every accepted vulnerability carries a reason and an expiry date. */
  rule({
    id: "prod-allowlist-statements",
    environments: PROD,
    needs: ["scan.allowlist", "scan.requireStatement"],
    check: ({ scan }, report) => {
      if (scan.allowlist !== undefined && !scan.requireStatement) {
        report(
          ["scan", "requireStatement"],
          "prod with an allowlist requires a statement and expiry on every entry: pulumi config set --path scan.requireStatement true",
        );
      }
    },
  }),
  /** SOP-BUILD-001 step 3: tests run inside the builder image before anything ships. */
  rule({
    id: "prod-tests-enabled",
    environments: PROD,
    needs: ["tests.enabled"],
    check: ({ tests }, report) => {
      if (!tests.enabled) {
        report(
          ["tests", "enabled"],
          "prod requires the tests: pulumi config set --path tests.enabled true",
        );
      }
    },
  }),
  /** SOP-BUILD-001 step 3: coverage >= 75 %. A higher floor is fine. */
  rule({
    id: "prod-coverage-floor",
    environments: PROD,
    needs: ["tests.coverageMin"],
    check: ({ tests }, report) => {
      if (tests.coverageMin < PROD_COVERAGE_MIN) {
        report(
          ["tests", "coverageMin"],
          `prod requires a coverage floor >= ${PROD_COVERAGE_MIN}, got ${tests.coverageMin}`,
        );
      }
    },
  }),
  /** A failed prod deploy must reach someone: at least one email or Slack destination. */
  rule({
    id: "prod-alert-destination",
    environments: PROD,
    needs: ["deploy.alerts"],
    check: ({ deploy }, report) => {
      const { emails, slackChannels } = deploy.alerts;
      if (emails.length === 0 && slackChannels.length === 0) {
        report(
          ["deploy", "alerts"],
          "prod requires at least one alert destination: pulumi config set --path 'deploy.alerts.emails[0]' ops@example.com (or deploy.alerts.slackChannels)",
        );
      }
    },
  }),
  /** prod is served by App Platform; the local target is a single container on one machine. */
  rule({
    id: "prod-target-app-platform",
    environments: PROD,
    needs: ["deploy.target"],
    check: ({ deploy }, report) => {
      if (deploy.target !== "app-platform") {
        report(
          ["deploy", "target"],
          `prod deploys to App Platform, got "${deploy.target}": pulumi config set --path deploy.target app-platform`,
        );
      }
    },
  }),
  /**
   * A green build is not a releasable image (the build report's FastAPI image died at start): prod boots
   * the exact image and checks its health before pushing.
   */
  rule({
    id: "prod-smoke-boot",
    environments: PROD,
    needs: ["smoke.boot"],
    check: ({ smoke }, report) => {
      if (!smoke.boot) {
        report(
          ["smoke", "boot"],
          "prod boots the image before pushing it: pulumi config set --path smoke.boot true",
        );
      }
    },
  }),
  /**
   * prod releases what dev released and verified: the same digest, promoted (`release.promoteFrom`).
   * Building prod from source (an image nobody tested or verified on dev) needs the explicit switch.
   */
  rule({
    id: "prod-promotes",
    environments: PROD,
    needs: ["release"],
    check: ({ release }, report) => {
      if (release.promoteFrom === undefined && !release.buildFromSource) {
        report(
          ["release", "promoteFrom"],
          "prod promotes the digest dev released and verified: pulumi config set --path release.promoteFrom dev (to build prod from source instead: pulumi config set --path release.buildFromSource true)",
        );
      }
    },
  }),
  /** One or the other: a promoting stack builds nothing. */
  rule({
    id: "promote-or-build",
    needs: ["release"],
    check: ({ release }, report) => {
      if (release.promoteFrom !== undefined && release.buildFromSource) {
        report(
          ["release", "buildFromSource"],
          `is true but release.promoteFrom is "${release.promoteFrom}": a promoting stack builds nothing; remove one (pulumi config rm --path release.buildFromSource)`,
        );
      }
    },
  }),
  /** prod images run as an unprivileged user (the smoke gate checks it). */
  rule({
    id: "prod-non-root",
    environments: PROD,
    needs: ["app.nonRoot"],
    check: ({ app }, report) => {
      if (!app.nonRoot) {
        report(
          ["app", "nonRoot"],
          "prod images must not run as root: add a USER to the runtime stage and set it true",
        );
      }
    },
  }),

  // ---- local ----------------------------------------------------------------------------------
  /** The local environment is the Docker-only loop: nothing deploys to the cloud from it. */
  rule({
    id: "local-target-local",
    environments: LOCAL,
    needs: ["deploy.target"],
    check: ({ deploy }, report) => {
      if (deploy.target !== "local") {
        report(
          ["deploy", "target"],
          `the local environment deploys a local container, got "${deploy.target}": pulumi config set --path deploy.target local`,
        );
      }
    },
  }),
];

/** A zod issue as a refinement sees it (raw: path may be absent). */
interface RawIssue {
  code?: string;
  path?: readonly PropertyKey[];
}

/**
 * Whether a value at `need` (a dotted path) is sound: no issue inside it or at one of its parents.
 * Unknown keys do not count: they leave the object's known keys parsed.
 */
function isSound(need: string, issues: readonly RawIssue[]): boolean {
  const wanted = need.split(".");
  return !issues.some((issue) => {
    if (issue.code === "unrecognized_keys" || issue.path === undefined) return false;
    const path = issue.path.map(String);
    const common = Math.min(path.length, wanted.length);
    return path.slice(0, common).every((segment, i) => segment === wanted[i]);
  });
}

/**
 * Runs every rule that applies to `config.environment` and whose `needs` are sound. `config` may be
 * partial when other keys failed to parse (`issues`): the `needs` of each rule guard what it reads.
 */
export function applyRules(
  config: ReleaseConfig,
  report: Report,
  issues: readonly RawIssue[] = [],
): void {
  const sound = (need: string) =>
    isSound(need, issues) && config[need.split(".")[0] as Section] !== undefined;
  for (const r of RULES) {
    if (!r.needs.every(sound)) continue;
    if (r.environments.length !== ENVIRONMENTS.length) {
      if (!sound("environment") || !r.environments.includes(config.environment)) continue;
    }
    r.check(config, report);
  }
}

/** The base schema with every rule: what the loader parses with. */
export const releaseConfigSchema = baseConfigSchema.superRefine(
  (config, ctx) => {
    if (config === null || typeof config !== "object") return;
    applyRules(
      config,
      (path, message) => ctx.addIssue({ code: "custom", path: [...path], message }),
      ctx.issues,
    );
  },
  { when: () => true },
);

/**
 * What a valid config cannot promise and preview cannot check, as warnings (`slipway:<path>: ...`
 * lines): the loader returns them in `ReleaseSettings.notices`, index.ts logs each with
 * `pulumi.log.warn`. Nothing here fails a preview.
 */
export function configNotices(config: ReleaseConfig): string[] {
  const notices: Problem[] = [];
  const { deploy } = config;
  if (deploy.target !== "app-platform") return [];
  if (deploy.alerts.emails.length > 0) {
    notices.push({
      path: ["deploy", "alerts", "emails"],
      message: `App Platform sends alerts only to members of the DigitalOcean team that owns the app, and refuses other addresses when it applies the alerts (after the build); preview cannot check membership: make sure ${deploy.alerts.emails.join(", ")} ${deploy.alerts.emails.length === 1 ? "is a team member" : "are team members"}`,
    });
  }
  if (isDeprecatedInstanceSize(deploy.instanceSizeSlug)) {
    notices.push({
      path: ["deploy", "instanceSizeSlug"],
      message: `"${deploy.instanceSizeSlug}" is a deprecated legacy size: DigitalOcean asks apps to move to the current sizes (${INSTANCE_SIZES.join(", ")})`,
    });
  }
  return formatProblems(notices);
}
