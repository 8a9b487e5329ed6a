import type { Finding } from "../result";
import type { AllowlistEntry } from "./allowlist";
import { countOrigins, layerRelation, ORIGINS, type BaseLayers, type OriginCounts } from "./origin";
import type { Evaluated, PolicyOutcome, Tally } from "./policy";
import { SEVERITIES, type ScanFinding, type ScanReport, type Severity } from "./report";

/**
 * What the scan gate says: the lines people read and the records machines read (`--json`). Pure
 * functions of the policy outcome.
 */

/** Where a finding is: the Result target, plus the package's file for language packages. */
function where(f: ScanFinding): string {
  if (f.kind === "vulnerability") return f.pkgPath === "" ? f.target : `${f.target}: ${f.pkgPath}`;
  return f.line > 0 ? `${f.target}:${f.line}` : f.target;
}

/** One finding: ID, severity, package, installed → fixed version, target. */
export function findingLine(f: ScanFinding): string {
  switch (f.kind) {
    case "vulnerability": {
      const fix = f.fixed !== "" ? f.fixed : "no fix";
      const status = f.status !== "" && f.status !== "fixed" ? ` (${f.status})` : "";
      return `${f.id} ${f.severity} ${f.pkgName} ${f.installed} → ${fix}${status} in ${where(f)}`;
    }
    case "secret":
      return `${f.id} ${f.severity} secret "${f.title}" in ${where(f)}`;
    case "misconfiguration":
      return `${f.id} ${f.severity} misconfiguration "${f.title}" in ${where(f)}`;
  }
}

function entryLabel(e: AllowlistEntry): string {
  return `${e.id} (${e.source})`;
}

/** `CRITICAL 1, HIGH 0, MEDIUM 0, LOW 1, UNKNOWN 0` */
export function severityCounts(t: Tally): string {
  return [...SEVERITIES]
    .reverse()
    .map((s) => `${s} ${t.bySeverity[s]}`)
    .join(", ");
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** `2 findings (1 unique ID)` */
export function countLine(t: Tally): string {
  return `${plural(t.findings, "finding")} (${plural(t.ids, "unique ID")})`;
}

function thresholdText(threshold: Severity): string {
  return threshold === "CRITICAL" ? "CRITICAL" : `${threshold} or above`;
}

/** The result's one-line summary. */
export function summaryLine(
  report: ScanReport,
  outcome: PolicyOutcome,
  threshold: Severity,
): string {
  const artifact = report.artifactName !== "" ? report.artifactName : report.source;
  if (outcome.code !== undefined) {
    const nonZero = [...SEVERITIES]
      .reverse()
      .filter((s) => outcome.blockingTally.bySeverity[s] > 0)
      .map((s) => `${outcome.blockingTally.bySeverity[s]} ${s}`)
      .join(", ");
    const t = outcome.blockingTally;
    const counts = `${plural(t.findings, "blocking finding")} (${plural(t.ids, "unique ID")})`;
    return `${counts} at ${thresholdText(threshold)} in ${artifact}: ${nonZero}`;
  }
  const allowlisted =
    outcome.allowlisted.length > 0 ? `, ${outcome.allowlisted.length} allowlisted` : "";
  const carried =
    outcome.carriedOver.length > 0 ? `, ${outcome.carriedOver.length} carried over` : "";
  const eosl = report.eosl ? `${report.os} is past its end of support; ` : "";
  return `${eosl}no blocking findings at ${thresholdText(threshold)} in ${artifact} (report: ${countLine(outcome.all)}${allowlisted}${carried})`;
}

export interface DetailOptions {
  threshold: Severity;
  ignoreUnfixed: boolean;
  allowlistFile?: string;
  baselineFile?: string;
  /** Where Trivy's raw report was kept (`--keep-report`). */
  keptReport?: string;
  /** What was learnt of the base image (`--base-image`): findings then carry their origin. */
  base?: BaseLayers;
}

/** `base 1, app 2, unknown 0` */
export function originCounts(c: OriginCounts): string {
  return ORIGINS.map((o) => `${o} ${c[o]}`).join(", ");
}

function originsOf(list: readonly Evaluated[]): OriginCounts {
  return countOrigins(list.flatMap((e) => (e.origin === undefined ? [] : [e.origin])));
}

/** A section header's origin counts (`; origin: base 1, app 0, unknown 0`), when attributed. */
function originSuffix(list: readonly Evaluated[], base: BaseLayers | undefined): string {
  return base === undefined ? "" : `; origin: ${originCounts(originsOf(list))}`;
}

/** ` [base]` after a listed finding, when attributed. */
function originLabel(e: Evaluated): string {
  return e.origin === undefined ? "" : ` [${e.origin}]`;
}

/**
 * The line that says how findings were attributed: the base's layers and how they sit in the image,
 * or why they could not be read.
 */
export function originLine(report: ScanReport, base: BaseLayers): string {
  if (base.layers === undefined) {
    return `origin: cannot read the layers of the base image ${base.ref} (${base.error}): every finding's origin is unknown (pull the base image to tell base from app; the verdict does not depend on it)`;
  }
  const n = base.layers.length;
  const legend =
    "[base]: found in one of them; [app]: in a later layer; [unknown]: the report names no layer";
  switch (layerRelation(report.diffIds, base.layers)) {
    case "prefix":
      return `origin: the base image ${base.ref} is the image's first ${n} of ${report.diffIds.length} layers; ${legend}`;
    case "not-prefix":
      return `origin: the base image ${base.ref} has ${plural(n, "layer")}, but the image's ${plural(report.diffIds.length, "layer")} do not start with them (built on another base, or the report is of another image); only findings in layers it shares with the base are [base]`;
    case "unknown":
      return `origin: the base image ${base.ref} has ${plural(n, "layer")} (the report lists no image layers); ${legend}`;
  }
}

/** The lines under the summary. */
export function detailLines(
  report: ScanReport,
  outcome: PolicyOutcome,
  options: DetailOptions,
): string[] {
  const lines: string[] = [];
  const subject = [report.artifactType, report.os].filter((s) => s !== "").join(", ");
  lines.push(
    `scanned: ${report.artifactName !== "" ? report.artifactName : "(unnamed artifact)"}${subject !== "" ? ` (${subject})` : ""}, report ${report.source}`,
  );
  if (options.keptReport !== undefined) {
    lines.push(
      `report kept: ${options.keptReport} (Trivy's JSON report; once released, the next release's baseline)`,
    );
  }
  const policy = [`blocks ${thresholdText(options.threshold)}`];
  if (options.ignoreUnfixed) policy.push("unfixed vulnerabilities ignored");
  if (options.allowlistFile !== undefined) policy.push(`allowlist ${options.allowlistFile}`);
  if (options.baselineFile !== undefined) policy.push(`baseline ${options.baselineFile}`);
  lines.push(`policy: ${policy.join("; ")}`);
  if (options.base !== undefined) lines.push(originLine(report, options.base));
  if (outcome.blocking.length > 0) {
    lines.push(
      `blocking: ${countLine(outcome.blockingTally)}${originSuffix(outcome.blocking, options.base)}`,
    );
    for (const e of outcome.blocking) lines.push(`  ${blockingLine(e)}`);
  }
  if (outcome.allowlisted.length > 0) {
    lines.push(`allowlisted: ${countLine(outcome.allowlistedTally)}`);
    for (const e of outcome.allowlisted) lines.push(`  ${allowlistedLine(e)}`);
  }
  if (outcome.carriedOver.length > 0) {
    lines.push(
      `carried over from the baseline (not blocking): ${plural(outcome.carriedOver.length, "finding")}${originSuffix(outcome.carriedOver, options.base)}`,
    );
    for (const e of outcome.carriedOver) lines.push(`  ${findingLine(e.finding)}${originLabel(e)}`);
  }
  for (const e of outcome.expiredEntries) {
    lines.push(
      `allowlist entry ${entryLabel(e)} expired on ${e.expires}: it no longer applies; fix the finding or renew the entry`,
    );
  }
  for (const e of outcome.unusedEntries) {
    lines.push(`allowlist entry ${entryLabel(e)} matched nothing in this report: remove it`);
  }
  lines.push(`findings in the report: ${countLine(outcome.all)}: ${severityCounts(outcome.all)}`);
  const notBlocking = [`${outcome.belowThreshold} below ${options.threshold}`];
  if (options.ignoreUnfixed) notBlocking.push(`${outcome.unfixedIgnored} without a fix`);
  lines.push(`not blocking: ${notBlocking.join(", ")}`);
  const kinds = new Set(outcome.blocking.map((e) => e.finding.kind));
  if (kinds.has("secret")) {
    lines.push(
      "secrets: remove them from the image and build context, and rotate them: they are exposed",
    );
  }
  if (kinds.has("misconfiguration")) {
    lines.push("misconfigurations: fix the files named (Trivy's AVD page for each ID says how)");
  }
  if (report.eosl && outcome.code !== undefined) {
    lines.push(`${report.os} is past its end of support: move to a supported base image`);
  }
  return lines;
}

function blockingLine(e: Evaluated): string {
  const line = `${findingLine(e.finding)}${originLabel(e)}`;
  return e.expiredEntry === undefined
    ? line
    : `${line} (allowlist entry ${entryLabel(e.expiredEntry)} expired on ${e.expiredEntry.expires})`;
}

function allowlistedLine(e: Evaluated): string {
  const entry = e.entry as AllowlistEntry;
  const until = entry.expires !== "" ? `until ${entry.expires}` : "no expiry";
  const why = entry.statement !== "" ? `: ${entry.statement}` : "";
  return `${findingLine(e.finding)}; ${until}, ${entryLabel(entry)}${why}`;
}

/** A finding as a `--json` record. */
export function findingRecord(e: Evaluated): Finding {
  const f = e.finding;
  const record: Finding = {
    kind: f.kind,
    state: e.state,
    id: f.id,
    severity: f.severity,
    package: f.pkgName,
    installed: f.installed,
    fixed: f.fixed,
    status: f.status,
    target: f.target,
    pkgPath: f.pkgPath,
    title: f.title,
  };
  if (f.line > 0) record.line = f.line;
  if (e.origin !== undefined) {
    record.origin = e.origin;
    record.layer = f.layer;
  }
  if (e.entry !== undefined) {
    record.allowlistEntry = e.entry.source;
    record.allowlistExpires = e.entry.expires;
    record.statement = e.entry.statement;
  }
  if (e.expiredEntry !== undefined) {
    record.expiredAllowlistEntry = e.expiredEntry.source;
    record.expiredOn = e.expiredEntry.expires;
  }
  return record;
}

/** An allowlist entry that expired or matched nothing, as a `--json` record. */
export function entryRecord(e: AllowlistEntry, state: "expired" | "unused"): Finding {
  return {
    kind: "allowlist-entry",
    state,
    id: e.id,
    source: e.source,
    expires: e.expires,
    statement: e.statement,
  };
}

/** Every figure the release report needs, flat. */
export function figuresOf(
  report: ScanReport,
  outcome: PolicyOutcome,
  options: DetailOptions & { allowlistEntries: number },
): Record<string, string | number | boolean> {
  const figures: Record<string, string | number | boolean> = {
    artifact: report.artifactName,
    artifactType: report.artifactType,
    os: report.os,
    eosl: report.eosl,
    trivyVersion: report.trivyVersion,
    reportCreatedAt: report.createdAt,
    threshold: options.threshold,
    ignoreUnfixed: options.ignoreUnfixed,
    findings: outcome.all.findings,
    ids: outcome.all.ids,
  };
  for (const s of SEVERITIES) figures[`findings.${s}`] = outcome.all.bySeverity[s];
  figures["blocking.findings"] = outcome.blockingTally.findings;
  figures["blocking.ids"] = outcome.blockingTally.ids;
  for (const s of SEVERITIES) figures[`blocking.${s}`] = outcome.blockingTally.bySeverity[s];
  figures["allowlisted.findings"] = outcome.allowlistedTally.findings;
  figures["allowlisted.ids"] = outcome.allowlistedTally.ids;
  figures["carriedOver.findings"] = outcome.carriedOver.length;
  figures.belowThreshold = outcome.belowThreshold;
  figures.unfixedIgnored = outcome.unfixedIgnored;
  figures["misconfigurations.nonFailures"] = outcome.nonFailures;
  figures["allowlist.entries"] = options.allowlistEntries;
  figures["allowlist.expired"] = outcome.expiredEntries.length;
  figures["allowlist.unused"] = outcome.unusedEntries.length;
  if (options.baselineFile !== undefined) figures.baseline = options.baselineFile;
  if (options.keptReport !== undefined) figures.keptReport = options.keptReport;
  const base = options.base;
  if (base !== undefined) {
    figures.baseImage = base.ref;
    figures["baseImage.inspected"] = base.layers !== undefined;
    figures["baseImage.layers"] = base.layers?.length ?? 0;
    figures["image.layers"] = report.diffIds.length;
    const lists: [string, readonly Evaluated[]][] = [
      ["blocking", outcome.blocking],
      ["carriedOver", outcome.carriedOver],
      ["allowlisted", outcome.allowlisted],
    ];
    for (const [name, list] of lists) {
      const counts = originsOf(list);
      for (const o of ORIGINS) figures[`${name}.origin.${o}`] = counts[o];
    }
  }
  return figures;
}
