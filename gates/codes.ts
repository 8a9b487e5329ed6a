/**
 * The one error catalog: every failure code of the release procedure (SOP-BUILD-001) plus Slipway's own.
 * Every blocking message starts with one of these codes; `gate codes` prints this table, and a unit test
 * keeps it in step with the codes the gates emit.
 */

/** `error` blocks the release; `warning` is reported and blocks only where a gate is told to be strict. */
export type CodeSeverity = "error" | "warning";

/** Where in the procedure a code is raised (the SOP step, or the Slipway layer). */
export type CodeStep =
  | "1-base"
  | "2-builder"
  | "3-tests"
  | "4-runtime"
  | "5-scan"
  | "6-push"
  | "7-verify"
  | "rollback"
  | "config"
  | "report"
  | "lint"
  | "preflight";

export interface CodeInfo {
  step: CodeStep;
  severity: CodeSeverity;
  /** What happened, in one sentence. */
  meaning: string;
  /** What the person reading it should do next. */
  remedy: string;
}

const catalog = {
  // SOP step 1: base image
  BASE_IMAGE_DRIFT: {
    step: "1-base",
    severity: "warning",
    meaning: "The base image tag now resolves to a different digest than the one pinned.",
    remedy:
      "Review the new base image, then pin the digest the gate names in `baseImage` and release.",
  },
  NETWORK_TIMEOUT: {
    step: "1-base",
    severity: "error",
    meaning: "A registry or the network did not answer within the time allowed.",
    remedy: "Check connectivity to the registry and retry; raise the timeout if the link is slow.",
  },
  DISK_SPACE_LOW: {
    step: "preflight",
    severity: "error",
    meaning: "Less free disk space than the build needs (default 10 GB).",
    remedy: "Free space (`docker system prune`, `docker builder prune`) or build on a larger disk.",
  },
  // SOP step 2: builder stage
  WKHTMLTOPDF_MISMATCH: {
    step: "2-builder",
    severity: "error",
    meaning:
      "wkhtmltopdf in the runtime image is missing or not the configured version (found vs expected).",
    remedy:
      "Install the configured wkhtmltopdf (the SOP pins 0.12.6) in the image, or change `smoke.wkhtmltopdf`.",
  },
  ANTHROPIC_SDK_MISSING: {
    step: "2-builder",
    severity: "error",
    meaning: "The `anthropic` Python package cannot be imported from the image.",
    remedy: "Add `anthropic` to the requirements installed in the image and rebuild.",
  },
  PIP_DEPENDENCY_CONFLICT: {
    step: "2-builder",
    severity: "error",
    meaning:
      "`pip check` found broken requirements in the builder or runtime image (a warning: pip is not in the image).",
    remedy:
      "Pin compatible versions of the packages in pip's lines above and rebuild; install pip in the image to have it checked.",
  },
  // SOP step 3: tests
  TEST_FAILURE: {
    step: "3-tests",
    severity: "error",
    meaning: "One or more tests failed inside the builder image.",
    remedy:
      "Fix the failing tests listed above (run the same command locally), then release again.",
  },
  LOW_COVERAGE: {
    step: "3-tests",
    severity: "error",
    meaning: "Total test coverage is below the configured floor.",
    remedy: "Add tests for the uncovered code, or lower `tests.coverageMin` (prod requires >= 75).",
  },
  SECURITY_VULN: {
    step: "3-tests",
    severity: "error",
    meaning:
      "bandit found issues at or above the threshold in the app's source, or could not analyse it.",
    remedy:
      "Fix each finding listed (test id, file:line), or accept it in the bandit skip list with a statement.",
  },
  IMPORT_ERROR: {
    step: "3-tests",
    severity: "error",
    meaning:
      "A Python module could not be imported (tests failed to collect, or a required import).",
    remedy: "Install the named module in the image (requirements) or fix the import path.",
  },
  NO_TESTS: {
    step: "3-tests",
    severity: "error",
    meaning: "The test command collected no tests.",
    remedy:
      "Check `tests.command` points at the test directory and that test files match pytest's pattern.",
  },
  SERVICE_NOT_READY: {
    step: "3-tests",
    severity: "error",
    meaning:
      "A service the tests or the boot depend on (tests.services / smoke.services) did not start or never became ready.",
    remedy:
      "Read the service's readiness output and log tail above; check its image, env and `ready` command, or raise its readyTimeout.",
  },
  // SOP step 4: runtime stage
  BUILD_FAILURE: {
    step: "4-runtime",
    severity: "error",
    meaning: "The image build failed.",
    remedy: "Read the build log above for the failing Dockerfile instruction and fix it.",
  },
  IMAGE_SIZE_EXCEEDED: {
    step: "4-runtime",
    severity: "error",
    meaning: "The runtime image is larger than the size budget.",
    remedy:
      "Shrink the largest layers listed (multi-stage copy, clean caches) or raise `smoke.maxSize`.",
  },
  MISSING_ADDONS: {
    step: "4-runtime",
    severity: "error",
    meaning: "A path the app needs (e.g. /mnt/extra-addons) is missing from the runtime image.",
    remedy: "COPY the missing path into the runtime stage and rebuild.",
  },
  ENTRYPOINT_ERROR: {
    step: "4-runtime",
    severity: "error",
    meaning: "The image's version command failed or printed an unexpected version.",
    remedy: "Check the entrypoint and the installed application version in the runtime stage.",
  },
  RUNS_AS_ROOT: {
    step: "4-runtime",
    severity: "error",
    meaning: "The runtime image runs as root.",
    remedy: "Add a non-root user and a `USER` instruction to the final stage.",
  },
  // SOP step 5: scan
  SECURITY_HIGH: {
    step: "5-scan",
    severity: "error",
    meaning:
      "The scan found HIGH severity findings (and no CRITICAL ones) at or above the threshold.",
    remedy:
      "Upgrade the packages listed to their fixed versions (rebuild on a newer base), or allowlist with a statement and expiry.",
  },
  SECURITY_CRITICAL: {
    step: "5-scan",
    severity: "error",
    meaning: "The scan found at least one CRITICAL finding.",
    remedy:
      "Upgrade the packages listed to their fixed versions (rebuild on a newer base), or allowlist with a statement and expiry.",
  },
  OUTDATED_BASE_IMAGE: {
    step: "5-scan",
    severity: "warning",
    meaning:
      "The base image's OS has reached end of life or has fixes not yet in the pinned digest.",
    remedy: "Move the pinned base to a current digest (see the base gate) and rebuild.",
  },
  MALWARE_DETECTED: {
    step: "5-scan",
    severity: "error",
    meaning:
      "The scan found malware in the image (the procedure's code; Trivy has no malware scanner).",
    remedy:
      "Remove the infected file from the build context and the image, find how it got there, rebuild.",
  },
  SECRET_DETECTED: {
    step: "5-scan",
    severity: "error",
    meaning:
      "The scan found a credential (a key, token or password: Trivy's secret scanner) baked into the image.",
    remedy:
      "Remove it from the image and the build context (and its git history), rotate it (it is exposed to anyone who pulled the image), rebuild.",
  },
  SCANNER_UNAVAILABLE: {
    step: "5-scan",
    severity: "error",
    meaning:
      "No scanner could run (no `trivy` on PATH, no usable pinned Trivy image), Trivy failed, or the vulnerability scanner was asked for and Trivy has no vulnerability DB.",
    remedy:
      "Install Trivy (or pass `--trivy-image aquasec/trivy@sha256:...` with Docker available); for `vuln`, let Trivy download its DB (`trivy image --download-db-only`) or drop `vuln` from the scanners.",
  },
  SBOM_INVALID: {
    step: "5-scan",
    severity: "error",
    meaning:
      "The SBOM Trivy wrote for the image is not CycloneDX JSON that validates against its schema.",
    remedy:
      "Re-run the scan; if it persists, use a Trivy release whose CycloneDX output validates (the errors name the fields).",
  },
  SCAN_REPORT_INVALID: {
    step: "5-scan",
    severity: "error",
    meaning: "The scan report is unreadable or not a Trivy JSON report (SchemaVersion 2).",
    remedy: "Re-run `trivy image --format json --output <file>` and pass that file.",
  },
  ALLOWLIST_INVALID: {
    step: "5-scan",
    severity: "error",
    meaning:
      "The allowlist file is unreadable, or an entry lacks the statement/expiry the policy requires.",
    remedy:
      "Fix the allowlist (.trivyignore or .trivyignore.yaml); give each entry a statement and expired_at.",
  },
  // SOP step 6: push
  REGISTRY_AUTH_FAILURE: {
    step: "6-push",
    severity: "error",
    meaning: "The registry refused the credentials.",
    remedy:
      "Renew the registry credentials (`doctl registry login`, or re-run `pulumi up` to mint new ones) and retry.",
  },
  PUSH_TIMEOUT: {
    step: "6-push",
    severity: "error",
    meaning: "Pushing to the registry did not finish in time.",
    remedy: "Retry; check the network and the registry's status page.",
  },
  MANIFEST_ERROR: {
    step: "6-push",
    severity: "error",
    meaning: "The registry rejected or returned an invalid manifest.",
    remedy: "Check the image's platform and media types; re-push from a clean build.",
  },
  QUOTA_EXCEEDED: {
    step: "6-push",
    severity: "error",
    meaning: "The registry's storage or repository quota is exhausted.",
    remedy:
      "Run the registry's garbage collection, delete unused tags, or upgrade the registry plan.",
  },
  TAG_IMMUTABLE: {
    step: "6-push",
    severity: "error",
    meaning: "The version tag already exists in the registry with a different image.",
    remedy: "Releases are immutable: bump `release.version` and release again.",
  },
  REGISTRY_UNAVAILABLE: {
    step: "6-push",
    severity: "error",
    meaning: "The registry could not be reached or answered with a server error.",
    remedy: "Check the registry address and its status, then retry. Nothing was changed.",
  },
  // SOP step 7: verify
  CONTAINER_START_FAILURE: {
    step: "7-verify",
    severity: "error",
    meaning: "The container exited or could not start.",
    remedy:
      "Read the exit code and last log lines above; fix the image (often a missing module) and rebuild.",
  },
  HEALTH_CHECK_FAIL: {
    step: "7-verify",
    severity: "error",
    meaning: "The health endpoint did not answer as expected within the time allowed.",
    remedy:
      "Check the app's logs; if the release is bad, roll back: `pulumi config set --path release.pin <tag>` and `pulumi up`.",
  },
  MODULE_LOAD_ERROR: {
    step: "7-verify",
    severity: "error",
    meaning:
      "The app's boot logs show a module/addon that failed to load (the app may still answer health).",
    remedy:
      "Read the module's log line above: install its missing dependency or fix the module, then rebuild.",
  },
  DATABASE_CONNECTION_ERROR: {
    step: "7-verify",
    severity: "error",
    meaning: "The app's logs show it could not reach or log in to its database.",
    remedy:
      "Check that the database runs and is reachable from the app (POSTGRES_HOST/PORT), the credentials (POSTGRES_USER/PASSWORD) and that the database exists.",
  },
  // Rollback
  ROLLBACK_TAG_NOT_FOUND: {
    step: "rollback",
    severity: "error",
    meaning: "The pinned tag or digest does not exist in the registry.",
    remedy: "Pick one of the tags listed and set it: `pulumi config set --path release.pin <tag>`.",
  },
  // Lint and preflight
  DOCKERFILE_SYNTAX: {
    step: "lint",
    severity: "error",
    meaning: "The Dockerfile has a syntax or instruction error.",
    remedy: "Fix the instruction at the line named.",
  },
  BASE_IMAGE_UNPINNED: {
    step: "lint",
    severity: "error",
    meaning: "A base image (FROM) is not pinned by sha256 digest.",
    remedy: "Pin it: `FROM name:tag@sha256:<digest>` (pass the digest as a build arg).",
  },
  BASE_IMAGE_LATEST: {
    step: "lint",
    severity: "warning",
    meaning: "A base image uses the `latest` tag (or no tag).",
    remedy: "Name an explicit version tag and pin its digest.",
  },
  MISSING_STAGE: {
    step: "lint",
    severity: "error",
    meaning: "A build target the pipeline needs is not a stage of the Dockerfile.",
    remedy: "Name the stage (`FROM ... AS <target>`) or change the configured target names.",
  },
  DOCKER_UNAVAILABLE: {
    step: "preflight",
    severity: "error",
    meaning: "The Docker engine does not answer.",
    remedy: "Start Docker (or set DOCKER_HOST) and check `docker info`.",
  },
  REPORT_INPUT_INVALID: {
    step: "report",
    severity: "error",
    meaning: "A file in the release's results directory is not a gate result or release.json.",
    remedy: "Re-run the gate that writes it, or remove the stray file named above.",
  },
  GATE_NOT_RUN: {
    step: "report",
    severity: "error",
    meaning: "A gate the release needs left no result and was not marked disabled.",
    remedy:
      "Read the pipeline log for what stopped the release before it; gates disabled by config are marked with <gate>.skipped or in release.json `skipped`.",
  },
  CONFIG_INVALID: {
    step: "config",
    severity: "error",
    meaning: "The stack configuration is invalid.",
    remedy: "Fix each config key listed with `pulumi config set` and run again.",
  },
  // Registry-side release: promote, evidence
  CANDIDATE_NOT_FOUND: {
    step: "6-push",
    severity: "error",
    meaning: "The candidate digest to promote is not in the repository (never pushed, or pruned).",
    remedy:
      "Re-run the release so the build pushes the candidate again, or pick a digest among the tags listed.",
  },
  EVIDENCE_MISSING: {
    step: "6-push",
    severity: "error",
    meaning:
      "The digest has no release evidence attached (no release report), so nothing proves it passed the gates.",
    remedy:
      "Promote a digest a release gated (`slipway-gate evidence list REPO@DIGEST`), or for a rollback give --override-reason.",
  },
  EVIDENCE_NOT_READY: {
    step: "6-push",
    severity: "error",
    meaning: "The release report attached to the digest says NOT READY: its gates blocked it.",
    remedy:
      "Fetch the report (`slipway-gate evidence fetch REPO@DIGEST --kind report`) and release a fixed build instead.",
  },
} satisfies Record<string, CodeInfo>;

export type ErrorCode = keyof typeof catalog;

/** The catalog, keyed by code. */
export const CODES: Readonly<Record<ErrorCode, CodeInfo>> = catalog;

/** Every code, in catalog order. */
export const ALL_CODES = Object.keys(catalog) as ErrorCode[];

export function isErrorCode(value: string): value is ErrorCode {
  return Object.prototype.hasOwnProperty.call(catalog, value);
}
