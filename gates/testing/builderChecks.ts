import { block, GateResult, warn } from "../result";
import { PIP_CHECK_SH } from "../smoke/args";
import { CheckResult, fail } from "../smoke/checks";
import { BanditPolicy, judgeBandit, parseBanditReport } from "./bandit";
import { OUT_DIR } from "./command";
import { judgePipCheck, parsePipCheck } from "./pipCheck";
import { tailLines } from "./text";

/**
 * The builder's static checks (SOP steps 2-3): `python3 -m pip check` and `bandit -r PATHS -f json`,
 * in ONE second `docker run` of the builder image started beside the test run, not after it: the
 * test gate's time is the longer of the two, not their sum (bandit over an addons tree takes about a
 * second; the tests take longer). Not in the test container itself: the user's test command stays
 * exactly what they wrote, and its exit code stays pytest's.
 *
 * The container has no network (`--network none`: static checks need none), the image's user,
 * workdir and environment (so relative paths like `custom_addons/` resolve as in the tests), a tmpfs
 * /tmp, and the run's out directory, where it writes:
 * - `pip-check.txt` (pip's output) and `pip-check.exit`;
 * - `bandit.json` (the report: bandit's `-o`, its log lines go to `bandit.log`) and `bandit.exit`
 *   (127: no `bandit` on the image's PATH).
 */

export const BUILDER_CHECKS = {
  pipOutput: "pip-check.txt",
  pipExit: "pip-check.exit",
  banditReport: "bandit.json",
  banditLog: "bandit.log",
  banditExit: "bandit.exit",
} as const;

export interface BuilderChecksSpec {
  image: string;
  name: string;
  hostOutDir: string;
  pipCheck: boolean;
  /** Paths bandit scans (`-r`), relative to the image's workdir; empty: no bandit. */
  banditPaths: readonly string[];
}

export function needsBuilderChecks(spec: Pick<BuilderChecksSpec, "pipCheck" | "banditPaths">) {
  return spec.pipCheck || spec.banditPaths.length > 0;
}

/** The script, for `sh -c SCRIPT slipway-builder-checks PIP(0|1) PATHS...`: values are arguments. */
export function builderChecksScript(): string {
  const out = (file: string): string => `${OUT_DIR}/${file}`;
  return [
    "pip=$1; shift",
    'if [ "$pip" = 1 ]; then',
    `  sh -c '${PIP_CHECK_SH}' >${out(BUILDER_CHECKS.pipOutput)} 2>&1; echo $? >${out(BUILDER_CHECKS.pipExit)}`,
    "fi",
    'if [ "$#" -gt 0 ]; then',
    "  if command -v bandit >/dev/null 2>&1; then",
    `    bandit -r "$@" -f json -o ${out(BUILDER_CHECKS.banditReport)} >${out(BUILDER_CHECKS.banditLog)} 2>&1`,
    `    echo $? >${out(BUILDER_CHECKS.banditExit)}`,
    `  else echo 127 >${out(BUILDER_CHECKS.banditExit)}; fi`,
    "fi",
  ].join("\n");
}

export function builderChecksArgs(spec: BuilderChecksSpec): string[] {
  return [
    "run",
    "--rm",
    "--pull",
    "never",
    "--name",
    spec.name,
    "--label",
    "slipway.gate=test",
    "--network",
    "none",
    "--tmpfs",
    "/tmp:rw,exec,mode=1777",
    "-v",
    `${spec.hostOutDir}:${OUT_DIR}`,
    "--entrypoint",
    "sh",
    spec.image,
    "-c",
    builderChecksScript(),
    "slipway-builder-checks",
    spec.pipCheck ? "1" : "0",
    ...spec.banditPaths,
  ];
}

/** What the checks container left in the out directory (undefined: the file is not there). */
export interface BuilderChecksOutput {
  run: { exitCode: number | null; timedOut: boolean; output: string; durationMs: number };
  pipOutput?: string;
  pipExit?: string;
  banditReport?: string;
  banditLog?: string;
  banditExit?: string;
}

function exitOf(text: string | undefined): number | null {
  const t = text?.trim() ?? "";
  return /^\d+$/.test(t) ? Number(t) : null;
}

function runFailure(what: string, out: BuilderChecksOutput): string {
  return out.run.timedOut
    ? `${what} did not finish in time`
    : `${what} did not run (the checks container exited ${out.run.exitCode ?? "(killed)"})`;
}

/** The verdicts of the checks asked for, from what the container left. Pure. */
export function judgeBuilderChecks(
  spec: Pick<BuilderChecksSpec, "pipCheck" | "banditPaths">,
  out: BuilderChecksOutput,
  policy: BanditPolicy,
): CheckResult[] {
  const results: CheckResult[] = [];
  const runTail = tailLines(out.run.output, 10).map((l) => `| ${l}`);
  if (spec.pipCheck) {
    results.push(
      out.pipOutput === undefined
        ? fail(
            "pip",
            "PIP_DEPENDENCY_CONFLICT",
            runFailure("pip check in the builder image", out),
            {
              details: runTail,
            },
          )
        : judgePipCheck("builder image", parsePipCheck(out.pipOutput, exitOf(out.pipExit)), {
            exitCode: exitOf(out.pipExit),
            timedOut: false,
          }),
    );
  }
  if (spec.banditPaths.length > 0) {
    const code = exitOf(out.banditExit);
    if (code === 127) {
      results.push(
        fail(
          "bandit",
          "SECURITY_VULN",
          "bandit is not installed in the builder image: the security check did not run",
          {
            details: [
              "install bandit in the builder stage (Debian: `bandit`; pip: `bandit`), or drop tests.bandit",
            ],
          },
        ),
      );
    } else if (out.banditReport === undefined || out.banditReport.trim() === "") {
      results.push(
        fail(
          "bandit",
          "SECURITY_VULN",
          out.banditExit === undefined
            ? runFailure("bandit", out)
            : `bandit exited ${code ?? "?"} without a report`,
          { details: [...tailLines(out.banditLog ?? "", 10).map((l) => `| ${l}`), ...runTail] },
        ),
      );
    } else {
      results.push(judgeBandit(parseBanditReport(out.banditReport), policy));
    }
  }
  return results;
}

/**
 * The test gate's result with the builder checks': the tests' own block keeps its code (the others
 * are named after it); passing tests with a failing check block with that check's code; a warning
 * (no pip in the image) turns a pass into a warn.
 */
export function withBuilderChecks(result: GateResult, checks: readonly CheckResult[]): GateResult {
  if (checks.length === 0) return result;
  const lines = checks.flatMap((c) => [
    `${c.ok ? (c.code === undefined ? "ok  " : `WARN ${c.code}`) : `FAIL ${c.code ?? ""}`} ${c.check}: ${c.summary}`,
    ...c.details.map((d) => `     ${d}`),
  ]);
  const merged: GateResult = {
    ...result,
    details: [...result.details, ...lines],
    findings: [
      ...result.findings,
      ...checks.flatMap((c) => c.findings.map((f) => ({ check: c.check, ...f }))),
    ],
    figures: Object.assign({}, result.figures, ...checks.map((c) => c.figures)) as Record<
      string,
      string | number | boolean
    >,
  };
  const failing = checks.filter((c) => !c.ok);
  if (result.verdict === "block") {
    return failing.length === 0
      ? merged
      : {
          ...merged,
          summary: `${result.summary} (+ also failing: ${failing.map((c) => c.code).join(", ")})`,
        };
  }
  const first = failing[0];
  if (first?.code !== undefined) {
    return block(result.gate, first.code, first.summary, {
      details: [`the tests: ${result.summary}`, ...merged.details],
      findings: merged.findings,
      figures: merged.figures,
      timings: result.timings,
    });
  }
  const warned = checks.find((c) => c.code !== undefined);
  if (warned?.code !== undefined && result.verdict === "pass") {
    return warn(result.gate, warned.code, `${result.summary}; ${warned.summary}`, {
      details: merged.details,
      findings: merged.findings,
      figures: merged.figures,
      timings: result.timings,
    });
  }
  return merged;
}
