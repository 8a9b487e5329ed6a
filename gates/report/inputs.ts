import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { isErrorCode } from "../codes";
import { Finding, GateError, GateResult } from "../result";

import { summarizeSbom, type SbomSummary } from "../scan/sbom";
import { checkedJson, parseReleaseInfo, ReleaseInfo } from "./release";

/** Everything the report is assembled from: plain data, read from the results directory. */
export interface ReportInput {
  /** release.json, when the pipeline wrote one. */
  release?: ReleaseInfo;
  /** Gate results by file stem (`tag-guard.json` → `tag-guard`). */
  results: Record<string, GateResult>;
  /** Gates marked disabled by a `<gate>.skipped` file, with the file's text as the reason. */
  skipped: Record<string, string>;
  /** Notes about the directory itself (e.g. it does not exist), shown in the report. */
  notes: string[];
  /** The summary of `sbom.cdx.json`, when the scan gate wrote one (`--sbom`). */
  sbom?: SbomSummary;
}

/** Files of the directory that are not gate results. */
const RELEASE_FILE = "release.json";
/** The report's own `--json` output, when written into the directory it reads. */
const OWN_RESULT = "report.json";
/** Trivy's raw JSON report, kept by the scan gate (`--keep-report`): evidence, not a gate result. */
const TRIVY_REPORT = "trivy.json";
/** The CycloneDX SBOM the scan gate wrote (`--sbom`, validated there): summarized, not a gate result. */
export const SBOM_FILE = "sbom.cdx.json";
const SKIPPED_SUFFIX = ".skipped";

const VERDICTS = new Set(["pass", "warn", "block"]);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const isScalar = (x: unknown): boolean =>
  x === null || ["string", "number", "boolean"].includes(typeof x);

/** The problems of a parsed gate result (gates/result.ts `GateResult`), each naming its field. */
function problemsOf(value: unknown): string[] {
  if (!isRecord(value)) return ["expected a JSON object (a gate's --json result)"];
  const problems: string[] = [];
  if (typeof value.gate !== "string" || value.gate === "")
    problems.push("gate: expected a gate name");
  if (typeof value.verdict !== "string" || !VERDICTS.has(value.verdict)) {
    problems.push('verdict: expected "pass", "warn" or "block"');
  }
  if (value.code !== undefined && !(typeof value.code === "string" && isErrorCode(value.code))) {
    problems.push(`code: ${JSON.stringify(value.code)} is not a code of the catalog (gate codes)`);
  }
  if (value.verdict === "block" && value.code === undefined) {
    problems.push("code: a blocking result must carry its code");
  }
  if (typeof value.summary !== "string") problems.push("summary: expected a string");
  if (!Array.isArray(value.details) || !value.details.every((d) => typeof d === "string")) {
    problems.push("details: expected an array of strings");
  }
  if (
    !Array.isArray(value.findings) ||
    !value.findings.every(
      (f) => isRecord(f) && Object.values(f).every((x) => x === undefined || isScalar(x)),
    )
  ) {
    problems.push("findings: expected an array of flat objects");
  }
  if (!isRecord(value.figures) || !Object.values(value.figures).every(isScalar)) {
    problems.push("figures: expected an object of strings, numbers and booleans");
  }
  if (
    !isRecord(value.timings) ||
    !Object.values(value.timings).every((t) => typeof t === "number" && Number.isFinite(t))
  ) {
    problems.push("timings: expected an object of milliseconds");
  }
  if (value.value !== undefined && typeof value.value !== "string") {
    problems.push("value: expected a string");
  }
  return problems;
}

/** Parses one gate's `--json` file. Returns the problems instead of throwing: the caller names the file. */
export function parseGateResult(
  text: string,
): { ok: true; result: GateResult } | { ok: false; problems: string[] } {
  const checked = checkedJson(text, problemsOf);
  if (!checked.ok) return checked;
  const v = checked.value as GateResult;
  const result: GateResult = {
    gate: v.gate,
    verdict: v.verdict,
    ...(v.code === undefined ? {} : { code: v.code }),
    summary: v.summary,
    details: [...v.details],
    findings: v.findings.map((f: Finding) => ({ ...f })),
    figures: { ...v.figures },
    timings: { ...v.timings },
    ...(v.value === undefined ? {} : { value: v.value }),
  };
  return { ok: true, result };
}

/**
 * A file's stem must name the gate that wrote it (`tag-guard.json` ← `tag-guard`), or a variant of it
 * (`scan-base.json` ← `scan`): a result under another gate's name is a wiring fault, not evidence.
 */
function belongsTo(stem: string, gate: string): boolean {
  return stem === gate || stem.startsWith(`${gate}-`);
}

function invalid(file: string, problems: string[]): GateError {
  return new GateError("REPORT_INPUT_INVALID", `${file} cannot be read as a release result`, [
    ...problems.map((p) => `${file}: ${p}`),
    "every file there must be a gate's --json output (or release.json, or a <gate>.skipped marker);",
    "re-run the gate that writes it, or remove the stray file.",
  ]);
}

/**
 * Reads a release's results directory: `<gate>.json` results, `<gate>.skipped` markers, release.json.
 * A directory that does not exist reads as empty (every needed gate is then "not run": the report
 * fails closed). Any unreadable file ends the report with INPUT_INVALID naming that file.
 */
export async function readResultsDir(dir: string): Promise<ReportInput> {
  let entries: string[];
  try {
    entries = (await readdir(dir)).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") {
      return { results: {}, skipped: {}, notes: [`the results directory ${dir} does not exist`] };
    }
    throw new GateError("REPORT_INPUT_INVALID", `the results directory ${dir} cannot be read`, [
      (err as Error).message,
    ]);
  }
  const input: ReportInput = { results: {}, skipped: {}, notes: [] };
  for (const entry of entries) {
    const file = join(dir, entry);
    if (entry.endsWith(SKIPPED_SUFFIX)) {
      const reason = (await readFile(file, "utf8")).trim();
      input.skipped[entry.slice(0, -SKIPPED_SUFFIX.length)] = reason === "" ? "disabled" : reason;
      continue;
    }
    if (entry === SBOM_FILE) {
      input.sbom = sbomSummaryOf(file, await readText(file));
      continue;
    }
    if (!entry.endsWith(".json") || entry === OWN_RESULT || entry === TRIVY_REPORT) continue;
    const text = await readText(file);
    if (entry === RELEASE_FILE) {
      const parsed = parseReleaseInfo(text);
      if (!parsed.ok) throw invalid(file, parsed.problems);
      input.release = parsed.info;
      continue;
    }
    const parsed = parseGateResult(text);
    if (!parsed.ok) throw invalid(file, parsed.problems);
    const stem = entry.slice(0, -".json".length);
    if (parsed.result.gate === "report") continue;
    if (!belongsTo(stem, parsed.result.gate)) {
      throw invalid(file, [`holds the result of the "${parsed.result.gate}" gate, not "${stem}"`]);
    }
    input.results[stem] = parsed.result;
  }
  return input;
}

/** The SBOM's summary; one that is not CycloneDX JSON is REPORT_INPUT_INVALID, naming the file. */
function sbomSummaryOf(file: string, text: string): SbomSummary {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw invalid(file, [`is not JSON (${(err as Error).message})`]);
  }
  try {
    return summarizeSbom(doc, file);
  } catch (err) {
    throw invalid(file, [(err as Error).message]);
  }
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (err) {
    throw invalid(file, [(err as Error).message]);
  }
}
