import type { ErrorCode } from "../codes";
import { block, Finding, GateResult, pass } from "../result";
import { formatPercent, readCoverageXml, truncatePercent } from "./coverage";
import { formatMs } from "./flags";
import { JUnitReport, readJUnit } from "./junit";
import {
  describeImportProblem,
  findCollectionErrors,
  findImportErrors,
  ImportProblem,
} from "./pythonErrors";
import { clip, tailLines } from "./text";

/**
 * Maps what a test run left behind (exit code, output, JUnit XML, coverage JSON) to the test gate's
 * result. Pure: the gate file runs docker and reads the files, this decides.
 *
 * pytest's exit codes (measured): 0 passed, 1 tests failed, 2 interrupted or collection error,
 * 3 internal error, 4 usage error, 5 no tests collected. `docker run` adds 125 (the container could not
 * be created: no such image, unknown network), 126 (command cannot be invoked), 127 (command not found).
 */

export interface TestRun {
  image: string;
  /** Exit code of `docker run` (the command's own, or docker's 125-127); null when killed. */
  exitCode: number | null;
  timedOut: boolean;
  timeoutMs: number;
  durationMs: number;
  /** stdout and stderr interleaved. */
  output: string;
  /** The JUnit XML the run wrote, if it wrote one. */
  junit?: string;
  /** The coverage report (Cobertura XML) the run wrote, if it wrote one. */
  coverage?: string;
  /** The coverage floor (percent), when set. */
  coverageMin?: number;
}

const GATE = "test";
const TAIL = 40;
const MAX_LISTED = 25;

interface Failing {
  id: string;
  outcome: string;
  message?: string;
}

/** `FAILED tests/x.py::test_y - assert ...` lines of pytest's short summary (used without JUnit). */
function failingFromOutput(output: string): Failing[] {
  const found: Failing[] = [];
  for (const match of output.matchAll(/^(FAILED|ERROR) (\S+)(?: - (.*))?$/gm)) {
    const [, kind, id, message] = match as unknown as [string, string, string, string | undefined];
    if (!found.some((f) => f.id === id)) {
      found.push({
        id,
        outcome: kind === "FAILED" ? "failed" : "error",
        ...(message === undefined ? {} : { message }),
      });
    }
  }
  return found;
}

function failingLines(failing: Failing[]): string[] {
  const lines = failing.slice(0, MAX_LISTED).map((f) => {
    const label = f.outcome === "failed" ? "FAILED" : "ERROR ";
    const message =
      f.message === undefined ? "" : ` — ${clip(f.message.split("\n")[0] ?? "", 160)}`;
    return `${label} ${f.id}${message}`;
  });
  if (failing.length > MAX_LISTED) {
    lines.push(`... and ${failing.length - MAX_LISTED} more`);
  }
  return lines;
}

function tail(output: string): string[] {
  const lines = tailLines(output, TAIL);
  return lines.length === 0
    ? ["(the command printed nothing)"]
    : [
        lines.length === 1 ? "last line of output:" : `last ${lines.length} lines of output:`,
        ...lines.map((l) => `| ${l}`),
      ];
}

/**
 * pytest-cov's terminal table (shown as evidence of where coverage is missing; the figure itself comes
 * from the XML report), else the tail of the output.
 */
function coverageTable(output: string): string[] {
  const lines = tailLines(output, 400, 200);
  const start = lines.findIndex((l) => /^-+ coverage: /.test(l));
  const end = lines.findIndex((l, i) => i > start && l.startsWith("TOTAL"));
  if (start === -1 || end === -1) {
    return tail(output).slice(-15);
  }
  const table = lines.slice(start + 1, end + 1);
  const shown = table.length > 40 ? [...table.slice(0, 3), "...", ...table.slice(-30)] : table;
  return ["coverage table:", ...shown.map((l) => `| ${l}`)];
}

/** The line where docker says why it could not start the container. */
function dockerError(output: string): string | undefined {
  const lines = output.split("\n").map((l) => l.trim());
  return (
    lines.find((l) => l.includes("Error response from daemon")) ??
    lines.find((l) => l.startsWith("docker: ")) ??
    lines.find((l) => /executable file not found|not found|permission denied/i.test(l))
  );
}

function figuresOf(
  run: TestRun,
  report: JUnitReport | undefined,
): Record<string, number | boolean> {
  return {
    ...(run.exitCode === null ? {} : { exitCode: run.exitCode }),
    durationSeconds: Math.round(run.durationMs / 100) / 10,
    junitReport: report !== undefined,
    ...(report === undefined
      ? {}
      : {
          tests: report.tests,
          testsPassed: report.passed,
          testsFailed: report.failed,
          testsErrors: report.errors,
          testsSkipped: report.skipped,
        }),
    ...(run.coverageMin === undefined ? {} : { coverageMin: run.coverageMin }),
  };
}

function countsText(report: JUnitReport | undefined): string {
  if (report === undefined) {
    return "no JUnit report, counts unknown";
  }
  const parts = [`${report.passed} passed`];
  if (report.failed > 0) parts.push(`${report.failed} failed`);
  if (report.errors > 0) parts.push(`${report.errors} errors`);
  if (report.skipped > 0) parts.push(`${report.skipped} skipped`);
  return parts.join(", ");
}

export function mapTestOutcome(run: TestRun): GateResult {
  const report = run.junit === undefined ? undefined : readJUnit(run.junit);
  const figures: Record<string, number | boolean | string> = figuresOf(run, report);
  const failing: Failing[] = report?.failing ?? failingFromOutput(run.output);
  const findings: Finding[] = failing.map((f) => ({
    test: f.id,
    outcome: f.outcome,
    ...(f.message === undefined ? {} : { message: clip(f.message, 300) }),
  }));
  const notes: string[] = [];
  if (report !== undefined && !report.complete) {
    notes.push(
      `the JUnit report is incomplete (${report.problem ?? "malformed"}); counts are partial`,
    );
  }

  // Coverage is read whenever it was produced, so its figure is there even when something else blocks.
  let coverageProblem: string | undefined;
  let coverage: number | undefined;
  if (run.coverage !== undefined) {
    const read = readCoverageXml(run.coverage);
    if (read.ok) {
      coverage = read.total.percent;
      figures.coveragePercent = truncatePercent(coverage);
    } else {
      coverageProblem = read.problem;
    }
  }

  const blocked = (code: ErrorCode, summary: string, details: string[]): GateResult =>
    block(GATE, code, summary, { details: [...notes, ...details], findings, figures });

  if (run.timedOut) {
    return blocked(
      "TEST_FAILURE",
      `the test command did not finish within ${formatMs(run.timeoutMs)}`,
      [
        "it was stopped and its container removed; raise --timeout if the suite is just slow.",
        ...failingLines(failing),
        ...tail(run.output),
      ],
    );
  }

  const exit = run.exitCode ?? -1;
  if ((exit === 125 || exit === 126 || exit === 127) && report === undefined) {
    const why = dockerError(run.output);
    const what =
      exit === 125
        ? `docker could not start a container from ${run.image}`
        : exit === 126
          ? `the test command could not be invoked in ${run.image}`
          : `the test command was not found in ${run.image}`;
    return blocked("CONTAINER_START_FAILURE", `${what} (exit ${exit})`, [
      ...(why === undefined ? [] : [why]),
      exit === 125
        ? "check that the image exists and the engine can start it."
        : "check that the command's program is installed in the builder image and on its PATH.",
      ...tail(run.output),
    ]);
  }

  const errorTexts = report?.failing.map((c) => c.detail ?? c.message ?? "").join("\n") ?? "";
  const imports: ImportProblem[] = findImportErrors(`${run.output}\n${errorTexts}`);
  // pytest's output names the file (`tests/test_x.py`), its JUnit the module (`tests.test_x`): one of them.
  const fromOutput = findCollectionErrors(run.output);
  const collection =
    fromOutput.length > 0
      ? fromOutput
      : (report?.cases.filter((c) => c.collectionError).map((c) => c.id) ?? []);
  const collectionIds = new Set(report?.cases.filter((c) => c.collectionError).map((c) => c.id));

  if (exit !== 0 && (collection.length > 0 || (exit === 2 && imports.length > 0))) {
    const first = imports[0];
    const summary =
      first !== undefined
        ? `tests could not be collected: cannot import ${describeImportProblem(first)}`
        : `pytest could not collect ${collection.slice(0, 3).join(", ")}`;
    return blocked("IMPORT_ERROR", summary, [
      ...imports.map((p) => p.line),
      ...(collection.length === 0 ? [] : [`not collected: ${collection.join(", ")}`]),
      ...failingLines(
        failing.filter((f) => !collection.includes(f.id) && !collectionIds.has(f.id)),
      ),
      ...tail(run.output),
    ]);
  }

  if (exit === 2) {
    return blocked("TEST_FAILURE", "pytest was interrupted (exit 2) before finishing", [
      ...failingLines(failing),
      ...tail(run.output),
    ]);
  }
  if (exit === 5) {
    return blocked(
      "NO_TESTS",
      "the test command collected no tests (pytest exit 5)",
      tail(run.output),
    );
  }
  if (exit === 4) {
    if (/unrecognized arguments:.*--cov/.test(run.output)) {
      return blocked(
        "LOW_COVERAGE",
        "coverage data was not produced: pytest does not know the --cov options",
        [
          "install pytest-cov in the builder image (requirements) and run the tests with --cov.",
          ...tail(run.output),
        ],
      );
    }
    return blocked(
      "TEST_FAILURE",
      "pytest rejected its command line (usage error, exit 4)",
      tail(run.output),
    );
  }
  if (exit === 3) {
    return blocked(
      "TEST_FAILURE",
      "pytest stopped on an internal error (exit 3)",
      tail(run.output),
    );
  }
  const coverageNote = coverage === undefined ? [] : [`coverage: ${formatPercent(coverage)}`];
  if (exit !== 0 && failing.length > 0) {
    return blocked(
      "TEST_FAILURE",
      `${failing.length} failing test${failing.length === 1 ? "" : "s"} (${countsText(report)})`,
      [
        ...failingLines(failing),
        ...(imports.length === 0
          ? []
          : [
              `import errors seen in the failures: ${imports.map(describeImportProblem).join(", ")}`,
            ]),
        ...coverageNote,
        ...tail(run.output),
      ],
    );
  }
  const failUnder = /Required test coverage of ([\d.]+)% not reached/.exec(run.output);
  if (exit === 1 && failUnder !== null) {
    return blocked(
      "LOW_COVERAGE",
      `coverage ${coverage === undefined ? "" : `${formatPercent(coverage)} `}is below the command's own --cov-fail-under ${failUnder[1]}%`,
      tail(run.output),
    );
  }
  if (exit !== 0) {
    return blocked("TEST_FAILURE", `the test command exited ${exit}`, [
      ...coverageNote,
      ...tail(run.output),
    ]);
  }

  // Exit 0. The JUnit report is the truth if the command masked pytest's status (`pytest || true`).
  if (report !== undefined && report.failing.length > 0) {
    return blocked(
      "TEST_FAILURE",
      `the command exited 0 but its JUnit report lists ${report.failing.length} failing tests`,
      [...failingLines(failing), ...tail(run.output)],
    );
  }
  if (report !== undefined && report.tests === 0) {
    return blocked("NO_TESTS", "the JUnit report holds no tests", tail(run.output));
  }
  if (run.coverageMin !== undefined) {
    if (run.coverage === undefined) {
      return blocked("LOW_COVERAGE", "coverage data was not produced", [
        `a floor of ${run.coverageMin}% is set, but the run wrote no coverage report.`,
        "add --cov (pytest-cov) to the test command, e.g. `pytest --cov=custom_addons custom_addons/`;",
        "and do not set --cov-report=xml:FILE yourself (the gate asks for its own XML report).",
        ...tail(run.output),
      ]);
    }
    if (coverage === undefined) {
      return blocked(
        "LOW_COVERAGE",
        `coverage data is unreadable: ${coverageProblem ?? "unknown"}`,
        tail(run.output),
      );
    }
    if (coverage < run.coverageMin) {
      return blocked(
        "LOW_COVERAGE",
        `coverage ${formatPercent(coverage)} is below the ${run.coverageMin}% floor`,
        [`tests: ${countsText(report)}`, ...coverageTable(run.output)],
      );
    }
  }
  const coverageText =
    coverage === undefined
      ? ""
      : `, coverage ${formatPercent(coverage)}${run.coverageMin === undefined ? "" : ` (floor ${run.coverageMin}%)`}`;
  return pass(GATE, `${countsText(report)}${coverageText} in ${formatMs(run.durationMs)}`, {
    details: notes,
    findings,
    figures,
  });
}
