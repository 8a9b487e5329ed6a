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
  MALWARE_DETECTED: "Trivy has no malware scanner; secrets found block as SECRET_DETECTED",
};

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return sources(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}

const root = join(__dirname, "..", "..");
/** Every test file but this one: where a code must be seen raised (asserted on). */
const testSource = ["tests/unit", "tests/e2e"]
  .flatMap((dir) => sources(join(root, dir)))
  .filter((path) => !path.endsWith("codes.test.ts"))
  .map((path) => readFileSync(path, "utf8"))
  .join("\n");
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

  it("has every code it emits raised by some test, except those marked not emitted", () => {
    const untested = ALL_CODES.filter(
      (code) => !(code in NOT_EMITTED) && !new RegExp(`\\b${code}\\b`).test(testSource),
    );
    assert.deepEqual(untested, [], "catalog codes no test asserts on");
  });

  it("catalogues every code the gates raise (block, warn, fail, warning, GateError)", () => {
    const raised = new Set<string>();
    const call =
      /\b(?:block|warn|fail|warning|GateError)\(\s*(?:"[^"]*",\s*)?"([A-Z][A-Z0-9_]{3,})"/g;
    for (const match of emittingSource.matchAll(call)) raised.add(match[1] ?? "");
    assert.ok(raised.size > 20, `found only ${raised.size} raise sites: the pattern went stale`);
    assert.deepEqual(
      [...raised].filter((code) => !ALL_CODES.includes(code as never)),
      [],
      "raised codes missing from the catalog",
    );
  });
});
