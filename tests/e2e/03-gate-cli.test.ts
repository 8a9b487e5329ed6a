import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import "./harness/hooks";
import { preflightCommand, releaseReportDir, reportFile } from "../../gates/commands";
import { sh } from "./harness/shell";
import { suite } from "./harness/suite";

/**
 * What every command resource relies on, checked with the real CLI: the command builders name a
 * report directory per release (`.slipway/releases/<version>/`) that nothing else creates, so on a
 * fresh checkout the gate itself must create it when it writes its `--json` result.
 */
describe("the gate CLI as the command resources run it", function () {
  it("writes its --json result into a release report directory that does not exist yet", async function () {
    const reportDir = join(suite.workDir, "fresh-checkout", releaseReportDir("3.0.0"));
    assert.equal(existsSync(reportDir), false);
    const result = await sh(preflightCommand({ reportDir }));
    assert.equal(result.exitCode, 0, result.output);
    assert.match(result.firstLine, /^PASS preflight/);
    const written = JSON.parse(readFileSync(reportFile(reportDir, "preflight"), "utf8"));
    assert.equal(written.gate, "preflight");
    assert.equal(written.verdict, "pass");
  });
});
