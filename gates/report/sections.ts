import type { Finding, GateResult } from "../result";
import type { SbomSummary } from "../scan/sbom";
import { instructionOf } from "../smoke/checks";
import {
  AllowlistedRow,
  AllowlistEntryNote,
  BaseSection,
  Layer,
  ScanRow,
  ScanSection,
  ScanSeverity,
  SEVERITY_ORDER,
  SbomSection,
  SizeSection,
  SmokeCheck,
  TestsSection,
} from "./model";

/**
 * Reads each report section out of the gate that measures it: the figure and finding keys here are the
 * ones those gates write (gates/testing/outcome.ts, gates/scan/format.ts, gates/smoke.ts and
 * gates/smoke/checks.ts, gates/base.ts).
 * Pure functions of one `GateResult`; a key a gate did not write leaves that field out.
 */

type Figures = GateResult["figures"];

function numberOf(figures: Figures | Finding, key: string): number | undefined {
  const v = figures[key];
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

function textOf(figures: Figures | Finding, key: string): string | undefined {
  const v = figures[key];
  return typeof v === "string" && v !== "" ? v : undefined;
}

/** Assigns only the fields that have a value, so absent figures stay absent (not `undefined`). */
function defined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** `test`: counts from its JUnit figures, coverage, and the failing tests it lists. */
export function testsSection(result: GateResult): TestsSection {
  const f = result.figures;
  return {
    ...defined({
      total: numberOf(f, "tests"),
      passed: numberOf(f, "testsPassed"),
      failed: numberOf(f, "testsFailed"),
      errors: numberOf(f, "testsErrors"),
      skipped: numberOf(f, "testsSkipped"),
      coverage: numberOf(f, "coveragePercent"),
      coverageMin: numberOf(f, "coverageMin"),
    }),
    failing: result.findings
      .filter((x) => typeof x.test === "string")
      .map((x) => ({
        test: String(x.test),
        outcome: textOf(x, "outcome") ?? "failed",
        ...defined({ message: textOf(x, "message") }),
      })),
  };
}

function scanRow(f: Finding): ScanRow {
  return {
    id: textOf(f, "id") ?? "(no id)",
    severity: textOf(f, "severity") ?? "UNKNOWN",
    ...defined({
      package: textOf(f, "package"),
      installed: textOf(f, "installed"),
      fixed: textOf(f, "fixed"),
      target: textOf(f, "target"),
    }),
  };
}

function severityCounts(figures: Figures, prefix: string): Partial<Record<ScanSeverity, number>> {
  const counts: Partial<Record<ScanSeverity, number>> = {};
  for (const s of SEVERITY_ORDER) {
    const n = numberOf(figures, `${prefix}.${s}`);
    if (n !== undefined) counts[s] = n;
  }
  return counts;
}

/** `scan`: counts by severity, the blocking findings, allowlisted ones with their expiry, stale entries. */
export function scanSection(result: GateResult): ScanSection {
  const f = result.figures;
  const findings = result.findings.filter((x) => x.kind !== "allowlist-entry");
  const allowlisted: AllowlistedRow[] = findings
    .filter((x) => x.state === "allowlisted")
    .map((x) => ({
      ...scanRow(x),
      expires: textOf(x, "allowlistExpires") ?? "",
      statement: textOf(x, "statement") ?? "",
      ...defined({ entry: textOf(x, "allowlistEntry") }),
    }));
  const entries: AllowlistEntryNote[] = result.findings
    .filter((x) => x.kind === "allowlist-entry" && (x.state === "expired" || x.state === "unused"))
    .map((x) => ({
      id: textOf(x, "id") ?? "(no id)",
      state: x.state as "expired" | "unused",
      expires: textOf(x, "expires") ?? "",
      ...defined({ source: textOf(x, "source") }),
    }));
  return {
    counts: severityCounts(f, "findings"),
    blockingCounts: severityCounts(f, "blocking"),
    ...defined({
      findings: numberOf(f, "findings"),
      ids: numberOf(f, "ids"),
      threshold: textOf(f, "threshold"),
      ignoreUnfixed: typeof f.ignoreUnfixed === "boolean" ? f.ignoreUnfixed : undefined,
    }),
    blocking: findings.filter((x) => x.state === "blocking").map(scanRow),
    allowlisted,
    entries,
  };
}

/** The base image: as pinned (release.json, else the base gate's `ref`), and where its tag is now. */
export function baseSection(
  pinnedRef: string | undefined,
  result: GateResult | undefined,
): BaseSection {
  const f = result?.figures ?? {};
  const ref = pinnedRef ?? textOf(f, "ref");
  const at = ref?.lastIndexOf("@") ?? -1;
  const digest = ref !== undefined && at >= 0 ? ref.slice(at + 1) : textOf(f, "pinned");
  return defined({ ref, digest, current: textOf(f, "current"), next: textOf(f, "next") });
}

/**
 * `smoke`: the image's size against its budget, and the largest layers it lists (its size check's
 * findings: `{check: "size", layer, sizeBytes, createdBy}`), each named by its Dockerfile instruction.
 */
export function sizeSection(result: GateResult): SizeSection | undefined {
  const f = result.figures;
  const layers: Layer[] = result.findings
    .filter((x) => x.check === "size" && typeof x.sizeBytes === "number")
    .map((x) => {
      const createdBy = textOf(x, "createdBy");
      return {
        bytes: x.sizeBytes as number,
        ...defined({ createdBy: createdBy === undefined ? undefined : instructionOf(createdBy) }),
      };
    })
    .sort((a, b) => b.bytes - a.bytes);
  const bytes = numberOf(f, "sizeBytes");
  const maxBytes = numberOf(f, "maxSizeBytes");
  if (bytes === undefined && maxBytes === undefined && layers.length === 0) return undefined;
  return { ...defined({ bytes, maxBytes }), layers };
}

/**
 * `smoke`: each check it ran (size, version, paths, imports, user, boot), passed or not: the one
 * finding per check that carries its verdict (`{check, ok, code, summary}`).
 */
export function smokeChecks(result: GateResult): SmokeCheck[] {
  return result.findings
    .filter(
      (x) =>
        typeof x.check === "string" && typeof x.ok === "boolean" && typeof x.summary === "string",
    )
    .map((x) => ({
      check: String(x.check),
      ok: x.ok === true,
      ...defined({ code: textOf(x, "code") }),
      detail: String(x.summary),
    }));
}

/** The SBOM's summary (gates/scan/sbom.ts) as the report shows it. */
export function sbomSection(s: SbomSummary, file = "sbom.cdx.json"): SbomSection {
  const os = s.os === undefined ? "" : `${s.os.name} ${s.os.version}`.trim();
  return {
    file,
    format: `CycloneDX ${s.specVersion}`,
    subject: s.subject,
    components: s.components,
    byType: s.byType,
    ...(os === "" ? {} : { os }),
  };
}
