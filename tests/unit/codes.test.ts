import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { ALL_CODES, CODES } from "../../gates/codes";

/** The failure codes SOP-BUILD-001 names: the catalog must hold every one. */
const PROCEDURE_CODES = [
  "BASE_IMAGE_DRIFT",
  "NETWORK_TIMEOUT",
  "DISK_SPACE_LOW",
  "WKHTMLTOPDF_MISMATCH",
  "ANTHROPIC_SDK_MISSING",
  "PIP_DEPENDENCY_CONFLICT",
  "TEST_FAILURE",
  "LOW_COVERAGE",
  "SECURITY_VULN",
  "IMPORT_ERROR",
  "BUILD_FAILURE",
  "IMAGE_SIZE_EXCEEDED",
  "MISSING_ADDONS",
  "ENTRYPOINT_ERROR",
  "SECURITY_HIGH",
  "SECURITY_CRITICAL",
  "OUTDATED_BASE_IMAGE",
  "MALWARE_DETECTED",
  "REGISTRY_AUTH_FAILURE",
  "PUSH_TIMEOUT",
  "MANIFEST_ERROR",
  "QUOTA_EXCEEDED",
  "CONTAINER_START_FAILURE",
  "HEALTH_CHECK_FAIL",
  "MODULE_LOAD_ERROR",
  "DATABASE_CONNECTION_ERROR",
];

/**
 * Codes of the procedure that no Slipway code emits yet, each with the reason. The test below fails when one
 * of them starts being emitted (move it out of here) or when any other catalog code stops being emitted.
 */
const NOT_EMITTED: Record<string, string> = {
  WKHTMLTOPDF_MISMATCH:
    "app-specific builder check; an app adds it as a smoke --version-cmd of its own",
  PIP_DEPENDENCY_CONFLICT: "surfaces as a build failure of the builder stage (pip's own message)",
  SECURITY_VULN: "bandit/dependency audit run inside tests.command; mapped as a test failure",
  MALWARE_DETECTED: "Trivy has no malware scanner; secrets found block as SECRET_DETECTED",
  MODULE_LOAD_ERROR: "post-deploy module loading shows as HEALTH_CHECK_FAIL with the app's logs",
  DATABASE_CONNECTION_ERROR: "shows as HEALTH_CHECK_FAIL when the health path checks the database",
};

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return sources(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}

const root = join(__dirname, "..", "..");
const emittingSource = ["gates", "stacks", "components"]
  .flatMap((dir) => sources(join(root, dir)))
  .filter((path) => !path.endsWith(join("gates", "codes.ts")))
  .map((path) => readFileSync(path, "utf8"))
  .join("\n");

describe("error-code catalog", () => {
  it("holds every failure code the procedure names", () => {
    const missing = PROCEDURE_CODES.filter((code) => !ALL_CODES.includes(code as never));
    assert.deepEqual(missing, []);
  });

  it("gives every code a meaning and a remedy that say something", () => {
    for (const code of ALL_CODES) {
      assert.ok(CODES[code].meaning.length > 20, `${code} meaning`);
      assert.ok(CODES[code].remedy.length > 15, `${code} remedy`);
    }
  });

  it("stays in step with the code that emits codes", () => {
    const emitted = ALL_CODES.filter((code) => emittingSource.includes(`"${code}"`));
    const silent = ALL_CODES.filter((code) => !emitted.includes(code));
    assert.deepEqual(
      silent.filter((code) => !(code in NOT_EMITTED)),
      [],
      "catalog codes nothing emits",
    );
    assert.deepEqual(
      emitted.filter((code) => code in NOT_EMITTED),
      [],
      "emitted codes listed as not emitted",
    );
  });
});
