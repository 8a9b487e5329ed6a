import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { Gate } from "../gate";
import { block, Finding, GateError, GateResult, pass, UsageError, warn } from "../result";
import { assembleReport, summarize } from "./assemble";

import { readResultsDir } from "./inputs";
import { renderMarkdown } from "./markdown";
import type { ReleaseReport } from "./model";

/**
 * The report gate's verdict: pass when READY, block with the first blocker's code when not.
 * `advisory`: NOT READY is a warning with that code instead (exit 0), for a pipeline that writes the
 * report after a release it already gated, where a gate that did not re-run left its result elsewhere.
 */
export function reportResult(
  report: ReleaseReport,
  out: string | undefined,
  advisory = false,
): GateResult {
  const what = [report.version, report.digest].filter((x) => x !== undefined).join(" ");
  const findings: Finding[] = [
    ...report.blockers.map((b) => ({
      kind: "blocker",
      gate: b.gate,
      code: b.code,
      message: b.message,
    })),
    ...report.warnings.map((w) => ({
      kind: "warning",
      gate: w.gate,
      code: w.code,
      message: w.message,
    })),
  ];
  const figures: GateResult["figures"] = {
    readiness: report.readiness,
    mode: report.mode,
    blockers: report.blockers.length,
    warnings: report.warnings.length,
    totalMs: report.totalMs,
  };
  for (const key of ["stack", "version", "image", "digest", "previous"] as const) {
    const value = report[key];
    if (value !== undefined) figures[key] = value;
  }
  if (out !== undefined) figures.report = out;
  const where = out === undefined ? [] : [`report: ${out}`];
  const first = report.blockers[0];
  if (first === undefined) {
    return pass("report", `READY${what === "" ? "" : `: ${what}`}`, {
      details: [
        ...report.warnings.map((w) => `warning ${w.code} ${w.gate}: ${w.message}`),
        ...where,
      ],
      findings,
      figures,
    });
  }
  const codes = report.blockers.map((b) => `${b.code} (${b.gate})`).join(", ");
  return (advisory ? warn : block)(
    "report",
    first.code,
    `NOT READY${what === "" ? "" : ` ${what}`}: ${report.blockers.length === 1 ? "1 blocker" : `${report.blockers.length} blockers`}: ${codes}`,
    {
      details: [...report.blockers.map((b) => `${b.code} ${b.gate}: ${b.message}`), ...where],
      findings,
      figures,
    },
  );
}

function optionalString(value: unknown, flag: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value.trim() === "")
    throw new UsageError(`--${flag} needs a value`);
  return value.trim();
}

/**
 * `report`: assembles one release's gate results (`--from DIR`: `<gate>.json` files, `<gate>.skipped`
 * markers, release.json) into the release report people read. Without `--out`, the Markdown goes to
 * stdout; `--print-summary` prints the short JSON summary there instead (what the pipeline exports as
 * stack outputs).
 */
const gate: Gate = {
  name: "report",
  summary: "assemble a release's gate results into the release report (READY / NOT READY)",
  usage: [
    "--from DIR          the release's results: <gate>.json, <gate>.skipped markers, release.json",
    "--out FILE.md       write the Markdown report there (default: print it on stdout)",
    "--previous TAG      the rollback target (default: release.json's previous)",
    "--print-summary     print the one-line JSON summary on stdout (for stack outputs)",
    "--advisory          NOT READY warns (exit 0) instead of blocking: the report is informational",
  ],
  options: {
    from: { type: "string" },
    out: { type: "string" },
    previous: { type: "string" },
    "print-summary": { type: "boolean" },
    advisory: { type: "boolean" },
  },
  async run(flags) {
    const from = optionalString(flags.from, "from");
    if (from === undefined) throw new UsageError("--from DIR is required");
    const out = optionalString(flags.out, "out");
    const previous = optionalString(flags.previous, "previous");
    const input = await readResultsDir(from);
    const report = assembleReport(input, previous === undefined ? {} : { previous });
    const markdown = renderMarkdown(report);
    if (out !== undefined) {
      try {
        await mkdir(dirname(out), { recursive: true });
        await writeFile(out, markdown);
      } catch (err) {
        throw new GateError("REPORT_INPUT_INVALID", `cannot write the report to ${out}`, [
          (err as Error).message,
        ]);
      }
    }
    const result = reportResult(report, out, flags.advisory === true);
    if (flags["print-summary"] === true) {
      result.value = JSON.stringify(summarize(report));
    } else if (out === undefined) {
      result.value = markdown.trimEnd();
    }
    return result;
  },
};

export default gate;
