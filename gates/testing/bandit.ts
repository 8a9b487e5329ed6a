import { compileGlob, GlobError } from "../scan/glob";
import { GateError } from "../result";
import { CheckResult, fail, ok } from "../smoke/checks";

/**
 * SECURITY_VULN from bandit (SOP step 3: `bandit -r custom_addons/ -f json`). Bandit's JSON report is
 * read, never its prose: `results[]` (one issue each: `test_id`, `filename`, `line_number`,
 * `issue_severity`, `issue_confidence`, `issue_text`) and `errors[]` (files it could not parse).
 *
 * Measured with Debian bookworm's bandit 1.6.2 (tests/fixtures/bandit/SOURCES.md): it exits 1 when it
 * reports any issue and 0 otherwise, *including* when it could not parse a file (the file is only in
 * `errors`): the exit code alone would pass a tree it never read, so the gate reads `errors` too.
 */

export const BANDIT_LEVELS = ["LOW", "MEDIUM", "HIGH"] as const;
export type BanditLevel = (typeof BANDIT_LEVELS)[number];

export interface BanditIssue {
  testId: string;
  testName: string;
  file: string;
  line: number;
  severity: BanditLevel;
  confidence: BanditLevel;
  text: string;
}

export interface BanditReport {
  issues: BanditIssue[];
  /** Files bandit could not analyse, with its reason. */
  errors: Array<{ file: string; reason: string }>;
}

/** An accepted finding: a test id, where (a glob over bandit's file names), and why it is accepted. */
export interface BanditSkip {
  test: string;
  file: string;
  statement: string;
}

export interface BanditPolicy {
  /** Findings of this severity or above block (with `confidence`). Default MEDIUM. */
  severity: BanditLevel;
  /** Findings of this confidence or above block (with `severity`). Default MEDIUM. */
  confidence: BanditLevel;
  skips: BanditSkip[];
}

export const DEFAULT_BANDIT_LEVEL: BanditLevel = "MEDIUM";

function rank(level: BanditLevel): number {
  return BANDIT_LEVELS.indexOf(level);
}

export function isBanditLevel(text: string): text is BanditLevel {
  return (BANDIT_LEVELS as readonly string[]).includes(text);
}

function invalid(why: string): GateError {
  return new GateError("SECURITY_VULN", `bandit's report is unreadable: ${why}`, [
    "the security check did not run to the end: nothing is known about the source",
  ]);
}

/** Bandit's JSON report → issues and errors. An unreadable report throws SECURITY_VULN (fail closed). */
export function parseBanditReport(text: string): BanditReport {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw invalid(`not JSON (${(err as Error).message})`);
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    throw invalid("not a JSON object");
  }
  const { results, errors } = doc as { results?: unknown; errors?: unknown };
  if (!Array.isArray(results)) throw invalid("no `results` array");
  const issues = results.map((r: unknown, i): BanditIssue => {
    const o = (typeof r === "object" && r !== null ? r : {}) as Record<string, unknown>;
    const severity = o.issue_severity;
    const confidence = o.issue_confidence;
    if (
      typeof o.test_id !== "string" ||
      typeof o.filename !== "string" ||
      typeof o.line_number !== "number" ||
      typeof severity !== "string" ||
      typeof confidence !== "string" ||
      !isBanditLevel(severity) ||
      !isBanditLevel(confidence)
    ) {
      throw invalid(`results[${i}] lacks test_id, filename, line_number or a known severity`);
    }
    return {
      testId: o.test_id,
      testName: typeof o.test_name === "string" ? o.test_name : "",
      file: o.filename,
      line: o.line_number,
      severity,
      confidence,
      text: typeof o.issue_text === "string" ? o.issue_text : "",
    };
  });
  const errs = (Array.isArray(errors) ? errors : []).map((e: unknown) => {
    const o = (typeof e === "object" && e !== null ? e : {}) as Record<string, unknown>;
    return {
      file: typeof o.filename === "string" ? o.filename : "?",
      reason: typeof o.reason === "string" ? o.reason : "unknown",
    };
  });
  return { issues, errors: errs };
}

/**
 * The skip list: a JSON array of `{ "test": "B101", "file": "custom_addons/x/tests/**", "statement":
 * "why this is accepted" }`. Every entry needs all three: an entry without a statement is refused
 * (ALLOWLIST_INVALID), as the scan's allowlist refuses one.
 */
export function parseBanditSkips(text: string, source: string): BanditSkip[] {
  const refuse = (why: string): GateError =>
    new GateError("ALLOWLIST_INVALID", `bandit skip list ${source}: ${why}`, [
      'each entry: { "test": "B602", "file": "<glob over bandit\'s file names>", "statement": "<why it is accepted>" }',
    ]);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw refuse(`not JSON (${(err as Error).message})`);
  }
  if (!Array.isArray(doc)) throw refuse("expected a JSON array of entries");
  return doc.map((entry: unknown, i): BanditSkip => {
    const o = (typeof entry === "object" && entry !== null ? entry : {}) as Record<string, unknown>;
    const field = (name: string): string => {
      const value = o[name];
      if (typeof value !== "string" || value.trim() === "") {
        throw refuse(`entry ${i + 1} has no ${name}`);
      }
      return value.trim();
    };
    const skip = { test: field("test"), file: field("file"), statement: field("statement") };
    if (!/^B\d{3}$/.test(skip.test)) {
      throw refuse(`entry ${i + 1}: test "${skip.test}" is not a bandit test id (B101...)`);
    }
    try {
      compileGlob(skip.file);
    } catch (err) {
      if (err instanceof GlobError) throw refuse(`entry ${i + 1}: file ${err.message}`);
      throw err;
    }
    return skip;
  });
}

/** `B602 custom_addons/x.py:9 HIGH/HIGH subprocess call with shell=True...` */
export function describeBanditIssue(issue: BanditIssue): string {
  return `${issue.testId} ${issue.file}:${issue.line} ${issue.severity}/${issue.confidence} ${issue.text}`;
}

/** The skip entry that accepts an issue, if any. */
export function skipFor(issue: BanditIssue, skips: readonly BanditSkip[]): BanditSkip | undefined {
  return skips.find(
    (s) => s.test === issue.testId && compileGlob(s.file).test(issue.file.replace(/^\.\//, "")),
  );
}

const MAX_LISTED = 30;

/**
 * The verdict: issues at or above both thresholds and not skipped block, each listed (test id,
 * file:line, severity/confidence); files bandit could not parse block too (their code was not checked).
 */
export function judgeBandit(report: BanditReport, policy: BanditPolicy): CheckResult {
  const atThreshold = report.issues.filter(
    (i) =>
      rank(i.severity) >= rank(policy.severity) && rank(i.confidence) >= rank(policy.confidence),
  );
  const skipped = atThreshold.flatMap((issue) => {
    const skip = skipFor(issue, policy.skips);
    return skip === undefined ? [] : [{ issue, skip }];
  });
  const blocking = atThreshold.filter((i) => !skipped.some((s) => s.issue === i));
  const below = report.issues.length - atThreshold.length;
  const figures = {
    banditIssues: report.issues.length,
    banditBlocking: blocking.length,
    banditSkipped: skipped.length,
    banditBelowThreshold: below,
    banditErrors: report.errors.length,
  };
  const threshold = `severity >= ${policy.severity}, confidence >= ${policy.confidence}`;
  const context = [
    ...skipped.map(
      ({ issue, skip }) => `skipped ${describeBanditIssue(issue)} — ${skip.statement}`,
    ),
    ...(below > 0 ? [`${below} finding(s) below the threshold (${threshold})`] : []),
  ];
  const findings = blocking.map((i) => ({
    test: i.testId,
    file: i.file,
    line: i.line,
    severity: i.severity,
    confidence: i.confidence,
    text: i.text,
  }));
  if (blocking.length > 0) {
    const listed = blocking.slice(0, MAX_LISTED).map(describeBanditIssue);
    return fail(
      "bandit",
      "SECURITY_VULN",
      `bandit: ${blocking.length} finding(s) at ${threshold}: ${blocking
        .slice(0, 3)
        .map((i) => `${i.testId} ${i.file}:${i.line} ${i.severity}`)
        .join(", ")}${blocking.length > 3 ? ", ..." : ""}`,
      {
        details: [
          ...listed,
          ...(blocking.length > MAX_LISTED ? [`... and ${blocking.length - MAX_LISTED} more`] : []),
          ...context,
        ],
        findings,
        figures,
      },
    );
  }
  if (report.errors.length > 0) {
    return fail(
      "bandit",
      "SECURITY_VULN",
      `bandit could not analyse ${report.errors.length} file(s): ${report.errors
        .map((e) => e.file)
        .join(", ")}`,
      {
        details: [...report.errors.map((e) => `${e.file}: ${e.reason}`), ...context],
        figures,
      },
    );
  }
  return ok("bandit", `bandit: no finding at ${threshold}`, { details: context, figures });
}
