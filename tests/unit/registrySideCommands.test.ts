import assert from "node:assert/strict";
import { evidenceAttachCommand, promoteCommand, pruneCommand } from "../../gates/commands";

const DIGEST = `sha256:${"ab".repeat(32)}`;
const REPORT_DIR = ".slipway/releases/v1.4.3";

describe("registry-side release command builders", () => {
  it("promoteCommand: candidate digest → version (+ latest), result in promote.json", () => {
    assert.equal(
      promoteCommand({
        reportDir: REPORT_DIR,
        repository: "registry.digitalocean.com/acme/odoo",
        digest: DIGEST,
        version: "v1.4.3",
        latest: true,
        timeoutSeconds: 600,
      }),
      `bin/slipway-gate promote --repository registry.digitalocean.com/acme/odoo --digest ${DIGEST} --version v1.4.3 --latest --timeout 600 --print-verdict --json ${REPORT_DIR}/promote.json`,
    );
  });

  it("promoteCommand: --require-evidence only when asked, no --latest when not", () => {
    const command = promoteCommand({
      reportDir: REPORT_DIR,
      repository: "r/app",
      digest: DIGEST,
      version: "v2",
      requireEvidence: true,
    });
    assert.match(command, / --version v2 --require-evidence --print-verdict --json /);
    assert.doesNotMatch(command, /--latest/);
  });

  it("pruneCommand: keep, each protected digest, dry run", () => {
    assert.equal(
      pruneCommand({
        reportDir: REPORT_DIR,
        repository: "r/app",
        keep: 5,
        protect: [DIGEST, DIGEST.replace("ab", "cd")],
        dryRun: true,
      }),
      `bin/slipway-gate prune --repository r/app --keep 5 --protect ${DIGEST} --protect ${DIGEST.replace("ab", "cd")} --dry-run --print-verdict --json ${REPORT_DIR}/prune.json`,
    );
  });

  it("evidenceAttachCommand: one --file per path, kinds in key order, quoted paths", () => {
    assert.equal(
      evidenceAttachCommand({
        reportDir: REPORT_DIR,
        repository: "r/app",
        digest: DIGEST,
        files: {
          report: [`${REPORT_DIR}/report.json`, `${REPORT_DIR}/report.md`],
          sbom: ["out dir/sbom.cdx.json"],
        },
      }),
      `bin/slipway-gate evidence attach --repository r/app --digest ${DIGEST} --file report=${REPORT_DIR}/report.json --file report=${REPORT_DIR}/report.md --file 'sbom=out dir/sbom.cdx.json' --print-verdict --json ${REPORT_DIR}/evidence.json`,
    );
  });
});
