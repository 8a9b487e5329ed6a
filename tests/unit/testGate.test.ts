import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import {
  COVERAGE_FILE,
  JUNIT_FILE,
  parseEnvFlag,
  pytestAddopts,
  testRunArgs,
  wantsCoverage,
} from "../../gates/testing/command";
import { formatPercent, readCoverageXml } from "../../gates/testing/coverage";
import { readJUnit } from "../../gates/testing/junit";
import { mapTestOutcome, TestRun } from "../../gates/testing/outcome";
import { findCollectionErrors, findImportErrors } from "../../gates/testing/pythonErrors";
import { decodeEntities, parseXml } from "../../gates/testing/xml";
import { UsageError } from "../../gates/result";
import { runGate, scriptedDocker, ScriptedDocker } from "./helpers/scriptedDocker";
import type { DockerRule } from "./helpers/scriptedDocker";

/** The gate first makes sure the image is on the engine (`ensureImage`): here it is. */
const IMAGE_PRESENT: DockerRule = {
  when: ["image", "inspect", "--format"],
  stdout: `sha256:${"0".repeat(64)}\n`,
};
/** The calls after that check. */
const notInspect = (call: string[]): boolean => !(call[0] === "image" && call[1] === "inspect");

// Captured from a real run (pytest 7.2.1, pytest-cov 4.0.0, coverage 6.5.0 on Debian bookworm):
// `pytest fail/ ok/ --cov=calc --cov-branch` with the gate's PYTEST_ADDOPTS.
const JUNIT_FAILED = `<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" errors="0" failures="2" skipped="0" tests="5" time="0.113" timestamp="2026-11-21T09:50:48.547462" hostname="ccc61851d7ea"><testcase classname="fail.test_fail" name="test_add" time="0.001" /><testcase classname="fail.test_fail" name="test_broken" time="0.001"><failure message="assert 4 == 5&#10; +  where 4 = add(2, 2)">&gt;   def test_broken(): assert add(2, 2) == 5
E   assert 4 == 5
E    +  where 4 = add(2, 2)

fail/test_fail.py:3: AssertionError</failure></testcase><testcase classname="fail.test_fail.TestGroup" name="test_in_class" time="0.001"><failure message="AssertionError: boom&#10;assert False">self = &lt;test_fail.TestGroup object at 0x7f86ca120a10&gt;

&gt;   def test_in_class(self): assert False, "boom"
E   AssertionError: boom
E   assert False

fail/test_fail.py:5: AssertionError</failure></testcase><testcase classname="ok.test_ok" name="test_add" time="0.001" /><testcase classname="ok.test_ok" name="test_sub" time="0.000" /></testsuite></testsuites>`;

const OUTPUT_FAILED = `============================= test session starts ==============================
platform linux -- Python 3.11.2, pytest-7.2.1, pluggy-1.0.0+repack
collected 5 items

fail/test_fail.py .FF                                                    [ 60%]
ok/test_ok.py ..                                                         [100%]
---------- coverage: platform linux, python 3.11.2-final-0 -----------
TOTAL         8      3      2      0    50%
Coverage XML written to file /slipway-out/coverage.xml

=========================== short test summary info ============================
FAILED fail/test_fail.py::test_broken - assert 4 == 5
FAILED fail/test_fail.py::TestGroup::test_in_class - AssertionError: boom
=================== 2 failed, 3 passed, 3 warnings in 0.09s ====================
`;

// `pytest imp/ ok/` where imp/test_imp.py does `import opentelemetry.exporter` (exit 2).
const JUNIT_COLLECTION = `<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" errors="1" failures="0" skipped="0" tests="1" time="0.120" timestamp="2026-11-21T09:50:49.988990" hostname="7751b3ee95ee"><testcase classname="" name="imp.test_imp" time="0.000"><error message="collection failure">ImportError while importing test module '/app/imp/test_imp.py'.
Hint: make sure your test modules/packages have valid Python names.
Traceback:
/usr/lib/python3.11/importlib/__init__.py:126: in import_module
    return _bootstrap._gcd_import(name[level:], package, level)
imp/test_imp.py:1: in &lt;module&gt;
    import opentelemetry.exporter
E   ModuleNotFoundError: No module named 'opentelemetry.exporter'</error></testcase></testsuite></testsuites>`;

const OUTPUT_COLLECTION = `============================= test session starts ==============================
collected 2 items / 1 error

==================================== ERRORS ====================================
_______________________ ERROR collecting imp/test_imp.py _______________________
ImportError while importing test module '/app/imp/test_imp.py'.
Hint: make sure your test modules/packages have valid Python names.
Traceback:
imp/test_imp.py:1: in <module>
    import opentelemetry.exporter
E   ModuleNotFoundError: No module named 'opentelemetry.exporter'
=========================== short test summary info ============================
ERROR imp/test_imp.py
!!!!!!!!!!!!!!!!!!!! Interrupted: 1 error during collection !!!!!!!!!!!!!!!!!!!!
========================= 3 warnings, 1 error in 0.10s =========================
`;

const JUNIT_PASSED = `<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" errors="0" failures="0" skipped="1" tests="3" time="0.05"><testcase classname="ok.test_ok" name="test_add" time="0.001" /><testcase classname="ok.test_ok" name="test_sub" time="0.000" /><testcase classname="ok.test_ok" name="test_later" time="0.000"><skipped type="pytest.skip" message="not yet">ok/test_ok.py:9: not yet</skipped></testcase></testsuite></testsuites>`;

/** Cobertura root as coverage.py 6.5 writes it (real header, files elided). */
function cobertura(
  linesValid: number,
  linesCovered: number,
  branchesValid = 0,
  branchesCovered = 0,
): string {
  return `<?xml version="1.0" ?>
<coverage version="6.5.0" timestamp="1795254648658" lines-valid="${linesValid}" lines-covered="${linesCovered}" line-rate="${(linesCovered / Math.max(1, linesValid)).toFixed(4)}" branches-valid="${branchesValid}" branches-covered="${branchesCovered}" branch-rate="0" complexity="0">
	<!-- Generated by coverage.py: https://coverage.readthedocs.io -->
	<sources><source>/app</source></sources>
	<packages></packages>
</coverage>`;
}

function run(overrides: Partial<TestRun>): TestRun {
  return {
    image: "app-builder:1",
    exitCode: 0,
    timedOut: false,
    timeoutMs: 1_800_000,
    durationMs: 1234,
    output: "",
    ...overrides,
  };
}

describe("test gate: outcome mapping", () => {
  it("passes with counts and the exact coverage figure when tests pass above the floor", () => {
    const r = mapTestOutcome(
      run({ junit: JUNIT_PASSED, coverage: cobertura(200, 163), coverageMin: 75 }),
    );
    assert.equal(r.verdict, "pass");
    assert.equal(r.code, undefined);
    assert.equal(r.figures.testsPassed, 2);
    assert.equal(r.figures.testsSkipped, 1);
    assert.equal(r.figures.testsFailed, 0);
    assert.equal(r.figures.coveragePercent, 81.5);
    assert.equal(r.figures.durationSeconds, 1.2);
    assert.match(r.summary, /2 passed, 1 skipped, coverage 81\.50% \(floor 75%\)/);
  });

  it("passes without a floor and without coverage data", () => {
    const r = mapTestOutcome(run({ junit: JUNIT_PASSED }));
    assert.equal(r.verdict, "pass");
    assert.equal(r.figures.coveragePercent, undefined);
  });

  it("blocks with TEST_FAILURE listing the failing tests from the JUnit report", () => {
    const r = mapTestOutcome(
      run({
        exitCode: 1,
        junit: JUNIT_FAILED,
        output: OUTPUT_FAILED,
        coverage: cobertura(8, 5, 2, 0),
      }),
    );
    assert.equal(r.code, "TEST_FAILURE");
    assert.match(r.summary, /^2 failing tests \(3 passed, 2 failed\)/);
    const text = r.details.join("\n");
    assert.match(text, /FAILED fail\.test_fail::test_broken — assert 4 == 5/);
    assert.match(text, /FAILED fail\.test_fail\.TestGroup::test_in_class — AssertionError: boom/);
    assert.match(text, /coverage: 50\.00%/);
    assert.match(text, /last \d+ lines of output:/);
    assert.match(text, /\| =+ 2 failed, 3 passed/);
    assert.deepEqual(
      r.findings.map((f) => f.test),
      ["fail.test_fail::test_broken", "fail.test_fail.TestGroup::test_in_class"],
    );
    assert.equal(r.figures.testsFailed, 2);
    assert.equal(r.figures.exitCode, 1);
  });

  it("falls back to pytest's FAILED lines when there is no JUnit report", () => {
    const r = mapTestOutcome(run({ exitCode: 1, output: OUTPUT_FAILED }));
    assert.equal(r.code, "TEST_FAILURE");
    assert.equal(r.figures.junitReport, false);
    assert.deepEqual(
      r.findings.map((f) => f.test),
      ["fail/test_fail.py::test_broken", "fail/test_fail.py::TestGroup::test_in_class"],
    );
    assert.match(r.summary, /no JUnit report, counts unknown/);
  });

  it("blocks with TEST_FAILURE and the tail when a command exits 1 without naming tests", () => {
    const r = mapTestOutcome(run({ exitCode: 1, output: "make: *** [test] Error 1\n" }));
    assert.equal(r.code, "TEST_FAILURE");
    assert.equal(r.summary, "the test command exited 1");
    assert.deepEqual(r.details, ["last line of output:", "| make: *** [test] Error 1"]);
  });

  it("blocks with IMPORT_ERROR naming the module a test file could not import (exit 2)", () => {
    const r = mapTestOutcome(
      run({ exitCode: 2, junit: JUNIT_COLLECTION, output: OUTPUT_COLLECTION }),
    );
    assert.equal(r.code, "IMPORT_ERROR");
    assert.equal(
      r.summary,
      "tests could not be collected: cannot import module 'opentelemetry.exporter'",
    );
    assert.ok(r.details.includes("ModuleNotFoundError: No module named 'opentelemetry.exporter'"));
    assert.ok(r.details.includes("not collected: imp/test_imp.py"));
    // The collection error is not listed a second time as a failing test.
    assert.ok(!r.details.some((d) => d.startsWith("ERROR  imp.test_imp")));
  });

  it("names the module from the JUnit report alone when the output was lost", () => {
    const r = mapTestOutcome(run({ exitCode: 2, junit: JUNIT_COLLECTION, output: "" }));
    assert.equal(r.code, "IMPORT_ERROR");
    assert.match(r.summary, /cannot import module 'opentelemetry\.exporter'/);
    assert.ok(r.details.includes("not collected: imp.test_imp"));
  });

  it("blocks with IMPORT_ERROR naming the file when a test module fails to collect otherwise", () => {
    const output = [
      "_______________________ ERROR collecting tests/test_bad.py _______________________",
      'E     File "/app/tests/test_bad.py", line 3',
      "E       def broken(:",
      "E   SyntaxError: invalid syntax",
      "!!!!!!!!!!!!!!!!!!!! Interrupted: 1 error during collection !!!!!!!!!!!!!!!!!!!!",
    ].join("\n");
    const r = mapTestOutcome(run({ exitCode: 2, output }));
    assert.equal(r.code, "IMPORT_ERROR");
    assert.equal(r.summary, "pytest could not collect tests/test_bad.py");
  });

  it("reports a collection error even when --continue-on-collection-errors made it exit 1", () => {
    const r = mapTestOutcome(
      run({ exitCode: 1, output: OUTPUT_COLLECTION.replace("Interrupted", "continued") }),
    );
    assert.equal(r.code, "IMPORT_ERROR");
  });

  it("blocks with TEST_FAILURE when pytest was interrupted without a collection error", () => {
    const r = mapTestOutcome(run({ exitCode: 2, output: "!!! KeyboardInterrupt !!!\n" }));
    assert.equal(r.code, "TEST_FAILURE");
    assert.match(r.summary, /interrupted \(exit 2\)/);
  });

  it("blocks with NO_TESTS on pytest's exit 5", () => {
    const r = mapTestOutcome(run({ exitCode: 5, output: "collected 0 items\n" }));
    assert.equal(r.code, "NO_TESTS");
    assert.match(r.summary, /collected no tests/);
  });

  it("blocks with NO_TESTS when a command exits 0 with an empty JUnit report", () => {
    const r = mapTestOutcome(
      run({ junit: '<testsuites><testsuite name="pytest" tests="0"></testsuite></testsuites>' }),
    );
    assert.equal(r.code, "NO_TESTS");
  });

  it("trusts the JUnit report over a masked exit code (`pytest || true`)", () => {
    const r = mapTestOutcome(run({ exitCode: 0, junit: JUNIT_FAILED }));
    assert.equal(r.code, "TEST_FAILURE");
    assert.match(r.summary, /exited 0 but its JUnit report lists 2 failing tests/);
  });

  it("blocks with LOW_COVERAGE and the figure when coverage is below the floor", () => {
    const r = mapTestOutcome(
      run({ junit: JUNIT_PASSED, coverage: cobertura(1000, 746), coverageMin: 75 }),
    );
    assert.equal(r.code, "LOW_COVERAGE");
    // 74.6% prints as "75%" in pytest-cov's table; the gate reads the exact counts.
    assert.equal(r.summary, "coverage 74.60% is below the 75% floor");
    assert.equal(r.figures.coveragePercent, 74.6);
    assert.equal(r.figures.coverageMin, 75);
  });

  it("shows pytest-cov's table as evidence of where coverage is missing", () => {
    const output = [
      "---------- coverage: platform linux, python 3.11.2-final-0 -----------",
      "Name      Stmts   Miss  Cover",
      "-----------------------------",
      "calc.py       8      3    62%",
      "-----------------------------",
      "TOTAL         8      3    62%",
      "Coverage XML written to file /slipway-out/coverage.xml",
    ].join("\n");
    const r = mapTestOutcome(
      run({ junit: JUNIT_PASSED, coverage: cobertura(8, 5), coverageMin: 75, output }),
    );
    assert.equal(r.code, "LOW_COVERAGE");
    assert.deepEqual(r.details, [
      "tests: 2 passed, 1 skipped",
      "coverage table:",
      "| Name      Stmts   Miss  Cover",
      "| -----------------------------",
      "| calc.py       8      3    62%",
      "| -----------------------------",
      "| TOTAL         8      3    62%",
    ]);
  });

  it("counts branches like coverage.py: (lines + branches covered) / (lines + branches)", () => {
    const r = mapTestOutcome(
      run({ junit: JUNIT_PASSED, coverage: cobertura(8, 5, 2, 0), coverageMin: 60 }),
    );
    assert.equal(r.code, "LOW_COVERAGE");
    assert.equal(r.figures.coveragePercent, 50);
  });

  it("blocks with LOW_COVERAGE saying the data was not produced when a floor is set without --cov", () => {
    const r = mapTestOutcome(run({ junit: JUNIT_PASSED, coverageMin: 75 }));
    assert.equal(r.code, "LOW_COVERAGE");
    assert.equal(r.summary, "coverage data was not produced");
    assert.ok(r.details.some((d) => d.includes("add --cov")));
  });

  it("blocks with LOW_COVERAGE when the coverage report is unreadable", () => {
    const r = mapTestOutcome(run({ junit: JUNIT_PASSED, coverage: "{not xml", coverageMin: 75 }));
    assert.equal(r.code, "LOW_COVERAGE");
    assert.match(r.summary, /unreadable: the coverage report is not Cobertura XML/);
  });

  it("blocks with LOW_COVERAGE when the command's own --cov-fail-under failed it (exit 1, no failing test)", () => {
    const r = mapTestOutcome(
      run({
        exitCode: 1,
        junit: JUNIT_PASSED,
        coverage: cobertura(8, 5),
        output: "FAIL Required test coverage of 90% not reached. Total coverage: 62.50%\n",
      }),
    );
    assert.equal(r.code, "LOW_COVERAGE");
    assert.equal(r.summary, "coverage 62.50% is below the command's own --cov-fail-under 90%");
  });

  it("says pytest-cov is missing when pytest rejects the --cov options (exit 4)", () => {
    const r = mapTestOutcome(
      run({
        exitCode: 4,
        coverageMin: 75,
        output:
          "ERROR: usage: pytest [options] [file_or_dir] [file_or_dir] [...]\npytest: error: unrecognized arguments: --cov-report=term --cov-report=xml:/slipway-out/coverage.xml\n",
      }),
    );
    assert.equal(r.code, "LOW_COVERAGE");
    assert.match(r.summary, /pytest does not know the --cov options/);
    assert.ok(r.details[0]?.includes("install pytest-cov"));
  });

  it("blocks with TEST_FAILURE on another pytest usage error (exit 4)", () => {
    const r = mapTestOutcome(
      run({ exitCode: 4, output: "ERROR: file or directory not found: nope/\n" }),
    );
    assert.equal(r.code, "TEST_FAILURE");
    assert.match(r.summary, /usage error, exit 4/);
  });

  it("blocks with TEST_FAILURE on a pytest internal error (exit 3)", () => {
    const r = mapTestOutcome(run({ exitCode: 3, output: "INTERNALERROR> boom\n" }));
    assert.equal(r.code, "TEST_FAILURE");
    assert.match(r.summary, /internal error \(exit 3\)/);
  });

  it("blocks with TEST_FAILURE on any other non-zero exit", () => {
    const r = mapTestOutcome(run({ exitCode: 7, output: "custom runner failed\n" }));
    assert.equal(r.code, "TEST_FAILURE");
    assert.equal(r.summary, "the test command exited 7");
  });

  it("blocks with CONTAINER_START_FAILURE when docker cannot create the container (125)", () => {
    const r = mapTestOutcome(
      run({
        exitCode: 125,
        output:
          "docker: Error response from daemon: No such image: app-builder:1.\nSee 'docker run --help'.\n",
      }),
    );
    assert.equal(r.code, "CONTAINER_START_FAILURE");
    assert.equal(r.summary, "docker could not start a container from app-builder:1 (exit 125)");
    assert.equal(r.details[0], "docker: Error response from daemon: No such image: app-builder:1.");
    assert.match(r.details[1] ?? "", /check that the image exists/);
  });

  it("blocks with CONTAINER_START_FAILURE when the command cannot be invoked (126) or found (127)", () => {
    const r126 = mapTestOutcome(
      run({ exitCode: 126, output: "sh: 1: ./run-tests: Permission denied\n" }),
    );
    assert.equal(r126.code, "CONTAINER_START_FAILURE");
    assert.match(r126.summary, /could not be invoked/);
    const r127 = mapTestOutcome(run({ exitCode: 127, output: "sh: 1: pytest: not found\n" }));
    assert.equal(r127.code, "CONTAINER_START_FAILURE");
    assert.match(r127.summary, /was not found in app-builder:1 \(exit 127\)/);
    assert.equal(r127.details[0], "sh: 1: pytest: not found");
  });

  it("blocks with TEST_FAILURE naming the budget when the run timed out", () => {
    const r = mapTestOutcome(
      run({ exitCode: null, timedOut: true, timeoutMs: 90_000, output: "test_slow.py ...." }),
    );
    assert.equal(r.code, "TEST_FAILURE");
    assert.equal(r.summary, "the test command did not finish within 90 s");
    assert.equal(r.figures.exitCode, undefined);
  });

  it("notes a truncated JUnit report and still lists what it holds", () => {
    const cut = JUNIT_FAILED.slice(0, JUNIT_FAILED.indexOf('<testcase classname="ok.test_ok"'));
    const r = mapTestOutcome(run({ exitCode: 1, junit: cut }));
    assert.equal(r.code, "TEST_FAILURE");
    assert.match(r.details[0] ?? "", /JUnit report is incomplete/);
    assert.equal(r.findings.length, 2);
  });

  it("lists at most 25 failing tests, then says how many more", () => {
    const cases = Array.from(
      { length: 30 },
      (_, i) => `<testcase classname="t" name="test_${i}"><failure message="no"/></testcase>`,
    ).join("");
    const r = mapTestOutcome(run({ exitCode: 1, junit: `<testsuite>${cases}</testsuite>` }));
    assert.equal(r.details.filter((d) => d.startsWith("FAILED")).length, 25);
    assert.ok(r.details.includes("... and 5 more"));
    assert.equal(r.findings.length, 30);
  });
});

describe("test gate: JUnit and XML reading", () => {
  it("counts outcomes from the test cases of a real pytest report", () => {
    const report = readJUnit(JUNIT_FAILED);
    assert.ok(report);
    assert.deepEqual(
      [report.tests, report.passed, report.failed, report.errors, report.skipped],
      [5, 3, 2, 0, 0],
    );
    assert.equal(report.complete, true);
    assert.equal(report.failing[0]?.message, "assert 4 == 5\n +  where 4 = add(2, 2)");
    assert.match(report.failing[0]?.detail ?? "", /^> {3}def test_broken/);
    assert.equal(report.timeSeconds, 0.113);
  });

  it("marks pytest's collection failures", () => {
    const report = readJUnit(JUNIT_COLLECTION);
    assert.equal(report?.errors, 1);
    assert.equal(report?.failing[0]?.collectionError, true);
    assert.equal(report?.failing[0]?.id, "imp.test_imp");
  });

  it("reads a bare <testsuite> root (xunit1) and sums suite times under <testsuites>", () => {
    assert.equal(readJUnit('<testsuite time="1.5"><testcase name="a"/></testsuite>')?.tests, 1);
    const two = readJUnit(
      '<testsuites><testsuite time="1"><testcase name="a"/></testsuite><testsuite time="2"><testcase name="b"><error message="x"/></testcase></testsuite></testsuites>',
    );
    assert.equal(two?.timeSeconds, 3);
    assert.equal(two?.errors, 1);
  });

  it("counts a case with both failure and teardown error once, as failed", () => {
    const r = readJUnit(
      '<testsuite><testcase name="a"><failure message="f"/><error message="teardown"/></testcase></testsuite>',
    );
    assert.deepEqual([r?.failed, r?.errors], [1, 0]);
  });

  it("returns undefined for what is not a JUnit report", () => {
    assert.equal(readJUnit(""), undefined);
    assert.equal(readJUnit("<coverage/>"), undefined);
    assert.equal(readJUnit("not xml at all"), undefined);
  });

  it("decodes entities and character references", () => {
    assert.equal(
      decodeEntities("a &lt;b&gt; &amp; &quot;c&quot; &apos;d&apos; &#10;&#x41;"),
      "a <b> & \"c\" 'd' \nA",
    );
    assert.equal(decodeEntities("&unknown; &#xZZ;"), "&unknown; &#xZZ;");
  });

  it("reads CDATA, comments, a DOCTYPE and '>' inside attribute values", () => {
    const doc = parseXml(
      '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "v">]><!-- c --><r a="1 > 0" b=\'q\'><![CDATA[<raw> & text]]><c/></r>',
    );
    assert.equal(doc.complete, true);
    assert.equal(doc.root?.attributes.a, "1 > 0");
    assert.equal(doc.root?.attributes.b, "q");
    assert.equal(doc.root?.text, "<raw> & text");
    assert.equal(doc.root?.children[0]?.name, "c");
  });

  it("keeps what it read from a truncated or badly nested document and says what is wrong", () => {
    const cut = parseXml('<r><a x="1"><b>text');
    assert.equal(cut.complete, false);
    assert.match(cut.problem ?? "", /ends inside <b>/);
    assert.equal(cut.root?.children[0]?.children[0]?.text, "text");
    const nested = parseXml("<r><a></r>");
    assert.equal(nested.complete, false);
    assert.match(nested.problem ?? "", /<a> closed by <\/r>/);
    assert.equal(parseXml('<r><a x="1').complete, false);
    assert.equal(parseXml("<r></r><s/>").problem, "more than one top-level element");
    assert.equal(parseXml("").problem, "no element found");
  });
});

describe("test gate: coverage report", () => {
  it("computes the total from the root's counts", () => {
    const read = readCoverageXml(cobertura(8, 5, 2, 0));
    assert.ok(read.ok);
    assert.equal(read.total.percent, 50);
    assert.equal(read.total.statements, 8);
    assert.equal(read.total.branches, 2);
  });

  it("counts an empty measurement as 100%, as coverage.py does", () => {
    const read = readCoverageXml(cobertura(0, 0));
    assert.ok(read.ok && read.total.percent === 100);
  });

  it("falls back to line-rate when the counts are absent", () => {
    const read = readCoverageXml('<coverage line-rate="0.8125"></coverage>');
    assert.ok(read.ok && read.total.percent === 81.25);
  });

  it("rejects other documents, missing totals and impossible totals", () => {
    assert.equal(readCoverageXml("<testsuites/>").ok, false);
    assert.equal(readCoverageXml("<coverage/>").ok, false);
    assert.equal(readCoverageXml('<coverage line-rate="7"/>').ok, false);
    assert.equal(readCoverageXml('<coverage lines-valid="5" lines-covered="6"/>').ok, false);
  });

  it("shows two decimals, truncated so that 74.999% never reads as 75.00%", () => {
    assert.equal(formatPercent(74.999), "74.99%");
    assert.equal(formatPercent(81.5), "81.50%");
    assert.equal(formatPercent(100), "100.00%");
  });
});

describe("test gate: Python error parsing", () => {
  it("names the missing module of ModuleNotFoundError, with or without pytest's E prefix", () => {
    const found = findImportErrors(
      "E   ModuleNotFoundError: No module named 'opentelemetry.exporter'\nModuleNotFoundError: No module named 'anthropic'\n",
    );
    assert.deepEqual(
      found.map((p) => p.module),
      ["opentelemetry.exporter", "anthropic"],
    );
  });

  it("reads `cannot import name` with and without its module, shared libraries and old-style messages", () => {
    const found = findImportErrors(
      [
        "E   ImportError: cannot import name 'Client' from 'anthropic' (/usr/lib/anthropic/__init__.py)",
        "ImportError: cannot import name 'thing'",
        "ImportError: libpq.so.5: cannot open shared object file: No such file or directory",
        "ImportError: No module named yaml",
        "ImportError: something else entirely",
      ].join("\n"),
    );
    assert.deepEqual(found[0], {
      module: "anthropic",
      name: "Client",
      line: "ImportError: cannot import name 'Client' from 'anthropic' (/usr/lib/anthropic/__init__.py)",
    });
    assert.deepEqual(found[1], { name: "thing", line: "ImportError: cannot import name 'thing'" });
    assert.equal(found[2]?.module, "libpq.so.5");
    assert.equal(found[3]?.module, "yaml");
    assert.deepEqual(found[4], { line: "ImportError: something else entirely" });
  });

  it("ignores pytest's `ImportError while importing test module` header and repeats", () => {
    const found = findImportErrors(
      "ImportError while importing test module '/app/t.py'.\nE   ModuleNotFoundError: No module named 'x'\nModuleNotFoundError: No module named 'x'\n",
    );
    assert.deepEqual(
      found.map((p) => p.module),
      ["x"],
    );
  });

  it("lists the files pytest could not collect, once each", () => {
    assert.deepEqual(findCollectionErrors(OUTPUT_COLLECTION), ["imp/test_imp.py"]);
  });
});

describe("test gate: docker run arguments", () => {
  it("runs the command as given, with the machine-output mount, the env and the network", () => {
    const args = testRunArgs({
      image: "app-builder:1",
      cmd: "pytest custom_addons/ --cov",
      env: [
        ["POSTGRES_HOST", "db"],
        ["TOKEN", "a=b"],
      ],
      network: "testnet",
      hostOutDir: "/tmp/slipway-test-x",
      name: "slipway-test-abc",
      coverage: true,
    });
    assert.deepEqual(args, [
      "run",
      "--rm",
      "--pull",
      "never",
      "--name",
      "slipway-test-abc",
      "--label",
      "slipway.gate=test",
      "--tmpfs",
      "/tmp:rw,exec,mode=1777",
      "-v",
      "/tmp/slipway-test-x:/slipway-out",
      "-e",
      "PYTEST_ADDOPTS=--junitxml=/slipway-out/junit.xml --cov-report=term --cov-report=xml:/slipway-out/coverage.xml",
      "-e",
      "COVERAGE_FILE=/tmp/.coverage",
      "-e",
      "POSTGRES_HOST=db",
      "-e",
      "TOKEN=a=b",
      "--network",
      "testnet",
      "--entrypoint",
      "sh",
      "app-builder:1",
      "-c",
      "pytest custom_addons/ --cov",
    ]);
  });

  it("asks for no coverage report when there is no floor and no --cov (pytest-cov may be absent)", () => {
    const args = testRunArgs({
      image: "i",
      cmd: "pytest",
      env: [],
      hostOutDir: "/o",
      name: "n",
      coverage: false,
    });
    assert.ok(args.includes("PYTEST_ADDOPTS=--junitxml=/slipway-out/junit.xml"));
    assert.ok(!args.some((a) => a.startsWith("COVERAGE_FILE=")));
    assert.ok(!args.includes("--network"));
  });

  it("merges the user's PYTEST_ADDOPTS after the gate's, and keeps the user's COVERAGE_FILE", () => {
    const args = testRunArgs({
      image: "i",
      cmd: "pytest --cov",
      env: [
        ["PYTEST_ADDOPTS", "-x -q"],
        ["COVERAGE_FILE", "/data/.coverage"],
      ],
      hostOutDir: "/o",
      name: "n",
      coverage: true,
    });
    assert.equal(args.filter((a) => a.startsWith("PYTEST_ADDOPTS=")).length, 1);
    assert.ok(args.includes(`PYTEST_ADDOPTS=${pytestAddopts(true)} -x -q`));
    assert.deepEqual(
      args.filter((a) => a.startsWith("COVERAGE_FILE=")),
      ["COVERAGE_FILE=/data/.coverage"],
    );
  });

  it("wants coverage with a floor or when the command mentions --cov", () => {
    assert.equal(wantsCoverage("pytest", 75), true);
    assert.equal(wantsCoverage("pytest --cov=app", undefined), true);
    assert.equal(wantsCoverage("pytest --cov", undefined), true);
    assert.equal(wantsCoverage("pytest --covfefe", undefined), false);
    assert.equal(wantsCoverage("pytest", undefined), false);
  });

  it("reads --env K=V (values may hold '=') and rejects bad names", () => {
    assert.deepEqual(parseEnvFlag("A=1"), ["A", "1"]);
    assert.deepEqual(parseEnvFlag("URL=postgres://u:p@h/db?x=y"), [
      "URL",
      "postgres://u:p@h/db?x=y",
    ]);
    assert.deepEqual(parseEnvFlag("EMPTY="), ["EMPTY", ""]);
    assert.throws(() => parseEnvFlag("NOVALUE"), UsageError);
    assert.throws(() => parseEnvFlag("1BAD=x"), UsageError);
    assert.throws(() => parseEnvFlag("=x"), UsageError);
  });
});

describe("test gate: CLI with a scripted docker", () => {
  let docker: ScriptedDocker;
  beforeEach(() => {
    docker = scriptedDocker();
  });
  afterEach(() => docker.cleanup());

  it("passes, reading the JUnit and coverage files the container wrote, and removes its temp dir", async () => {
    docker.setRules([
      IMAGE_PRESENT,
      {
        when: ["run"],
        stdout: "2 passed\n",
        writeOut: { [JUNIT_FILE]: JUNIT_PASSED, [COVERAGE_FILE]: cobertura(100, 90) },
      },
    ]);
    const r = await runGate(
      [
        "test",
        "--image",
        "app-builder:1",
        "--cmd",
        "pytest tests/ --cov=app",
        "--coverage-min",
        "75",
        "--env",
        "POSTGRES_HOST=db",
        "--network",
        "testnet",
      ],
      docker.env,
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^PASS test: 2 passed, 1 skipped, coverage 90\.00% \(floor 75%\)/);
    assert.equal((r.json?.figures as Record<string, unknown>).coveragePercent, 90);
    const [call] = docker.calls().filter(notInspect);
    assert.ok(call);
    assert.deepEqual(call.slice(0, 4), ["run", "--rm", "--pull", "never"]);
    assert.deepEqual(call.slice(-4), ["sh", "app-builder:1", "-c", "pytest tests/ --cov=app"]);
    assert.ok(call.includes("POSTGRES_HOST=db"));
    assert.equal(call[call.indexOf("--network") + 1], "testnet");
    const mount = call[call.indexOf("-v") + 1] ?? "";
    assert.match(mount, /slipway-test-[^:]+:\/slipway-out$/);
    assert.equal(existsSync(mount.split(":")[0] ?? ""), false, "the host out dir is removed");
  });

  it("pulls a builder candidate pinned by digest that this engine lacks, then runs exactly it", async () => {
    const image = `127.0.0.1:5000/acme/odoo@sha256:${"a".repeat(64)}`;
    docker.setRules([
      { when: ["image", "inspect", "--format"], exit: 1, stderr: "Error: No such image\n" },
      { when: ["pull", image], stdout: "Status: Downloaded newer image\n" },
      { when: ["run"], stdout: "1 passed\n", writeOut: { [JUNIT_FILE]: JUNIT_PASSED } },
    ]);
    const r = await runGate(["test", "--image", image, "--cmd", "pytest"], docker.env);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const calls = docker.calls();
    assert.deepEqual(calls[1], ["pull", image]);
    assert.ok(calls[2]?.includes(image) && calls[2][0] === "run");
  });

  it("never pulls an image named by a tag: it must be the one built here", async () => {
    docker.setRules([
      { when: ["image", "inspect", "--format"], exit: 1, stderr: "Error: No such image\n" },
    ]);
    const r = await runGate(["test", "--image", "b:1", "--cmd", "pytest"], docker.env);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^CONTAINER_START_FAILURE: image b:1 is not on this Docker engine/);
    assert.ok(!docker.calls().some((c) => c[0] === "pull"));
  });

  it("blocks with TEST_FAILURE when the container reports failures", async () => {
    docker.setRules([
      IMAGE_PRESENT,
      { when: ["run"], exit: 1, stdout: OUTPUT_FAILED, writeOut: { [JUNIT_FILE]: JUNIT_FAILED } },
    ]);
    const r = await runGate(["test", "--image", "b:1", "--cmd", "pytest"], docker.env);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^TEST_FAILURE: 2 failing tests/);
    assert.match(r.stdout, /what to do: /);
  });

  it("stops a run that exceeds --timeout and removes its container by name", async () => {
    docker.setRules([
      IMAGE_PRESENT,
      { when: ["run"], sleepMs: 10_000 },
      { when: ["rm", "-f"], stdout: "removed\n" },
    ]);
    const r = await runGate(
      ["test", "--image", "b:1", "--cmd", "pytest", "--timeout", "0.5"],
      docker.env,
    );
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^TEST_FAILURE: the test command did not finish within 500 ms/);
    const calls = docker.calls().filter(notInspect);
    const name = calls[0]?.[calls[0].indexOf("--name") + 1];
    assert.match(name ?? "", /^slipway-test-[0-9a-f]{12}$/);
    assert.deepEqual(calls[1], ["rm", "-f", name]);
  });

  it("blocks with DOCKER_UNAVAILABLE, not CONTAINER_START_FAILURE, when the engine does not answer", async () => {
    docker.setRules([
      IMAGE_PRESENT,
      {
        when: ["run"],
        exit: 125,
        stderr:
          "docker: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?.\n",
      },
    ]);
    const r = await runGate(["test", "--image", "b:1", "--cmd", "pytest"], docker.env);
    assert.equal(r.code, 1);
    assert.match(
      r.stdout,
      /^DOCKER_UNAVAILABLE: the Docker engine does not answer: docker: Cannot connect/,
    );
  });

  it("blocks with DOCKER_UNAVAILABLE when the docker binary does not exist", async () => {
    const r = await runGate(["test", "--image", "b:1", "--cmd", "pytest"], {
      PATH: process.env.PATH,
      SLIPWAY_DOCKER: "/nonexistent/docker",
    });
    assert.equal(r.code, 1);
    assert.match(
      r.stdout,
      /^DOCKER_UNAVAILABLE: cannot run the Docker CLI "\/nonexistent\/docker"/,
    );
  });

  for (const [why, argv] of [
    ["--cmd is missing", ["--image", "b:1"]],
    ["--image is missing", ["--cmd", "pytest"]],
    ["--coverage-min is above 100", ["--image", "b", "--cmd", "c", "--coverage-min", "120"]],
    ["--coverage-min is not a number", ["--image", "b", "--cmd", "c", "--coverage-min", "lots"]],
    ["--env has no =", ["--image", "b", "--cmd", "c", "--env", "FOO"]],
    ["--timeout is not positive", ["--image", "b", "--cmd", "c", "--timeout", "0"]],
  ] as const) {
    it(`exits 2 (usage) when ${why}`, async () => {
      const r = await runGate(["test", ...argv], docker.env);
      assert.equal(r.code, 2);
      assert.deepEqual(docker.calls().filter(notInspect), []);
    });
  }
});
