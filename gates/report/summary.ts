import type { Readiness } from "./model";

/**
 * The release report as the pipeline exports it (stack output `releaseReport`): read from the report
 * gate's `--print-summary` line, the one line it prints on stdout (the human text goes to stderr).
 */
export interface ReleaseReportOutput {
  /** READY or NOT READY. */
  verdict: Readiness;
  /** The blockers' codes, in pipeline order (empty when READY). */
  blockers: string[];
  /** The Markdown report, relative to the project root. */
  report: string;
}

const READINESS: readonly string[] = ["READY", "NOT READY"] satisfies Readiness[];

/**
 * Parses the summary line. A line that is not one (the CLI changed, or printed something else) is an
 * error naming what came: the stack output would otherwise claim a verdict nobody gave.
 */
export function reportOutputOf(stdout: string, report: string): ReleaseReportOutput {
  const line = stdout.trim();
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    value = undefined;
  }
  const v = (typeof value === "object" && value !== null ? value : {}) as Record<string, unknown>;
  const codes = v.blockerCodes;
  if (
    typeof v.readiness !== "string" ||
    !READINESS.includes(v.readiness) ||
    !Array.isArray(codes) ||
    !codes.every((c) => typeof c === "string")
  ) {
    throw new Error(
      `the report gate printed no summary (expected its --print-summary JSON line): ${JSON.stringify(line.slice(0, 200))}`,
    );
  }
  return { verdict: v.readiness as Readiness, blockers: [...(codes as string[])], report };
}
