import { NO_PYTHON } from "../smoke/args";
import { CheckResult, fail, ok, warning } from "../smoke/checks";
import { clip, tailLines } from "./text";

/**
 * PIP_DEPENDENCY_CONFLICT from `python3 -m pip check` (SOP step 2), in the builder (test gate) and in the
 * runtime image (smoke gate). pip check has no machine format: its lines are its contract, kept
 * verbatim in the code's details. Measured (pip 23, tests/fixtures/pip/SOURCES.md):
 *
 * - exit 0, `No broken requirements found.`
 * - exit 1, one line per problem: `anthropic 0.39.0 has requirement httpx<1,>=0.23.0, but you have
 *   httpx 0.22.0.` / `anthropic 0.39.0 requires distro, which is not installed.`
 * - exit 1, `/usr/bin/python3: No module named pip`: Debian's python3 without python3-pip (the e2e
 *   base). Nothing was checked: a warning, never a pass.
 * - {@link NO_PYTHON_MARK}, exit 127: the image has no python at all (printed by our script).
 */

/** Printed by the check scripts when the image has neither python3 nor python. */
export const NO_PYTHON_MARK = NO_PYTHON;

export type PipCheckState = "clean" | "conflict" | "no-pip" | "no-python" | "unknown";

export interface PipCheck {
  state: PipCheckState;
  /** pip's own problem lines (conflict), or the output's tail (unknown). */
  lines: string[];
}

const PROBLEM =
  /^\S+ \S+ (has requirement .+, but you have .+|requires .+, which is not installed)\.?$/;

export function parsePipCheck(output: string, exitCode: number | null): PipCheck {
  const lines = output
    .split("\n")
    .map((l) => l.trimEnd())
    .filter((l) => l !== "");
  if (lines.some((l) => l.includes(NO_PYTHON_MARK))) return { state: "no-python", lines: [] };
  if (lines.some((l) => /No module named pip\b/.test(l))) {
    return { state: "no-pip", lines: lines.filter((l) => /No module named pip\b/.test(l)) };
  }
  const problems = lines.filter((l) => PROBLEM.test(l));
  if (problems.length > 0) return { state: "conflict", lines: problems };
  if (exitCode === 0 && lines.some((l) => /^No broken requirements found\.?$/.test(l))) {
    return { state: "clean", lines: [] };
  }
  return { state: "unknown", lines: tailLines(output, 10) };
}

/** The package names of a problem line (`anthropic 0.39.0 has requirement httpx...` → anthropic). */
function packageOf(line: string): string {
  return line.split(" ")[0] ?? "";
}

/**
 * The verdict of a pip check in `where` ("builder image" / "runtime image"): a conflict blocks with
 * pip's lines; no pip (or no python) warns that nothing was checked; output pip never prints blocks
 * (fail closed: the check was asked for and gave no answer).
 */
export function judgePipCheck(
  where: string,
  check: PipCheck,
  run: { exitCode: number | null; timedOut: boolean },
): CheckResult {
  const figures = { pipCheckProblems: check.state === "conflict" ? check.lines.length : 0 };
  switch (check.state) {
    case "clean":
      return ok("pip", `pip check in the ${where}: no broken requirements`, { figures });
    case "conflict":
      return fail(
        "pip",
        "PIP_DEPENDENCY_CONFLICT",
        `pip check in the ${where}: ${check.lines.length} broken requirement(s): ${clip(check.lines[0] ?? "", 160)}`,
        {
          details: check.lines.map((l) => `| ${l}`),
          findings: check.lines.map((l) => ({ package: packageOf(l), line: l })),
          figures,
        },
      );
    case "no-pip":
      return warning(
        "pip",
        "PIP_DEPENDENCY_CONFLICT",
        `pip not in the ${where}: pip check did not run (nothing was checked)`,
        {
          details: [
            ...check.lines.map((l) => `| ${l}`),
            "install pip in the image (Debian: python3-pip) to have its dependencies checked",
          ],
          figures,
        },
      );
    case "no-python":
      return warning(
        "pip",
        "PIP_DEPENDENCY_CONFLICT",
        `no python in the ${where}: pip check did not run (nothing was checked)`,
        { figures },
      );
    case "unknown":
      return fail(
        "pip",
        "PIP_DEPENDENCY_CONFLICT",
        run.timedOut
          ? `pip check in the ${where} did not finish in time`
          : `pip check in the ${where} exited ${run.exitCode ?? "(killed)"} without a verdict`,
        { details: check.lines.map((l) => `| ${l}`), figures },
      );
  }
}
