import { findAll, parseXml, XmlElement } from "./xml";

/**
 * Reads a JUnit XML report (as pytest's `--junitxml` writes it, xunit1 or xunit2, and most other
 * runners) into counts and the failing tests. Counts come from the `<testcase>` elements themselves, not
 * from the suites' attributes, so a truncated report still gives consistent figures.
 */

export type CaseOutcome = "passed" | "failed" | "error" | "skipped";

export interface TestCase {
  /** `classname::name` (pytest: `tests.test_api::test_health`), or `name` when there is no classname. */
  id: string;
  outcome: CaseOutcome;
  /** The failure/error/skip `message` attribute (pytest: the assertion line, or "collection failure"). */
  message?: string;
  /** The failure/error element's text: the traceback. */
  detail?: string;
  /** pytest reports a module that failed to import as an error with message "collection failure". */
  collectionError: boolean;
}

export interface JUnitReport {
  tests: number;
  passed: number;
  failed: number;
  errors: number;
  skipped: number;
  /** Sum of the suites' `time` attributes, seconds, when given. */
  timeSeconds?: number;
  cases: TestCase[];
  /** Failed and errored cases, in report order. */
  failing: TestCase[];
  /** False when the XML was truncated or malformed (counts are then what could be read). */
  complete: boolean;
  problem?: string;
}

function caseOf(element: XmlElement): TestCase {
  const name = element.attributes.name ?? "(unnamed)";
  const classname = element.attributes.classname ?? "";
  const id = classname === "" ? name : `${classname}::${name}`;
  const byName = (n: string): XmlElement | undefined => element.children.find((c) => c.name === n);
  const failure = byName("failure");
  const error = byName("error");
  const skipped = byName("skipped");
  const decisive = failure ?? error ?? skipped;
  const outcome: CaseOutcome =
    failure !== undefined
      ? "failed"
      : error !== undefined
        ? "error"
        : skipped !== undefined
          ? "skipped"
          : "passed";
  const message = decisive?.attributes.message;
  const detail = decisive === undefined || decisive === skipped ? undefined : decisive.text.trim();
  return {
    id,
    outcome,
    ...(message === undefined ? {} : { message }),
    ...(detail === undefined || detail === "" ? {} : { detail }),
    collectionError: error !== undefined && error.attributes.message === "collection failure",
  };
}

/**
 * Parses a JUnit report. Returns `undefined` when the text holds no `<testsuite>`/`<testsuites>`
 * root at all (not a JUnit report, or empty).
 */
export function readJUnit(xml: string): JUnitReport | undefined {
  const doc = parseXml(xml);
  const root = doc.root;
  if (root === undefined || (root.name !== "testsuites" && root.name !== "testsuite")) {
    return undefined;
  }
  const cases = findAll(root, "testcase").map(caseOf);
  const count = (o: CaseOutcome): number => cases.filter((c) => c.outcome === o).length;
  const suites = root.name === "testsuite" ? [root] : findAll(root, "testsuite");
  const times = suites
    .map((s) => Number(s.attributes.time))
    .filter((t) => Number.isFinite(t) && t >= 0);
  return {
    tests: cases.length,
    passed: count("passed"),
    failed: count("failed"),
    errors: count("error"),
    skipped: count("skipped"),
    ...(times.length === 0 ? {} : { timeSeconds: times.reduce((a, b) => a + b, 0) }),
    cases,
    failing: cases.filter((c) => c.outcome === "failed" || c.outcome === "error"),
    complete: doc.complete,
    ...(doc.problem === undefined ? {} : { problem: doc.problem }),
  };
}
