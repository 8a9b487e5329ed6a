import type { ErrorCode } from "../codes";
import type { ReleaseMode } from "./release";

/**
 * The release report as plain data: what `assembleReport` computes from the gates' results and what
 * `renderMarkdown` prints. Every section is optional: a release that stopped early has fewer.
 */

export type Readiness = "READY" | "NOT READY";

/** A gate's place in the release: its verdict, or why it has none. */
export type GateStatus = "pass" | "warn" | "block" | "skipped" | "not run";

export interface GateRow {
  gate: string;
  status: GateStatus;
  code?: ErrorCode;
  /** The gate's one-line summary, the reason it was skipped, or why it is missing. */
  summary: string;
  /** Milliseconds the gate took (its `timings.total`). */
  ms?: number;
}

/** Something that stops the release (`block`, or a needed gate that did not run), or a warning. */
export interface Issue {
  gate: string;
  code: ErrorCode;
  message: string;
}

export interface Stage {
  name: string;
  ms: number;
}

export interface Layer {
  bytes: number;
  /** The instruction that made it (`RUN pip install ...`), when the gate reports it. */
  createdBy?: string;
}

export interface SizeSection {
  bytes?: number;
  /** The budget (`smoke.maxSize`) in bytes. */
  maxBytes?: number;
  /** Largest first. */
  layers: Layer[];
}

export interface FailingTest {
  test: string;
  outcome: string;
  message?: string;
}

export interface TestsSection {
  total?: number;
  passed?: number;
  failed?: number;
  errors?: number;
  skipped?: number;
  /** Total coverage, percent. */
  coverage?: number;
  /** The floor, percent. */
  coverageMin?: number;
  failing: FailingTest[];
}

export interface SmokeCheck {
  check: string;
  ok: boolean;
  /** The code of a failed check. */
  code?: string;
  detail: string;
}

export const SEVERITY_ORDER = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"] as const;
export type ScanSeverity = (typeof SEVERITY_ORDER)[number];

export interface ScanRow {
  id: string;
  severity: string;
  package?: string;
  installed?: string;
  fixed?: string;
  target?: string;
}

export interface AllowlistedRow extends ScanRow {
  /** `YYYY-MM-DD` (or an ISO time), empty when the entry has none. */
  expires: string;
  statement: string;
  /** Where the entry is (`.trivyignore.yaml#3`). */
  entry?: string;
}

export interface AllowlistEntryNote {
  id: string;
  state: "expired" | "unused";
  expires: string;
  source?: string;
}

export interface ScanSection {
  /** Findings in the report by severity (every finding, blocking or not). */
  counts: Partial<Record<ScanSeverity, number>>;
  /** Blocking findings by severity. */
  blockingCounts: Partial<Record<ScanSeverity, number>>;
  findings?: number;
  ids?: number;
  threshold?: string;
  ignoreUnfixed?: boolean;
  blocking: ScanRow[];
  allowlisted: AllowlistedRow[];
  /** Allowlist entries that expired or matched nothing. */
  entries: AllowlistEntryNote[];
}

/** The CycloneDX SBOM of the released digest, as the scan gate wrote it. */
export interface SbomSection {
  file: string;
  /** `CycloneDX 1.5`. */
  format: string;
  /** The artifact it describes: the image reference scanned (`HOST/REPO@sha256:...`). */
  subject: string;
  components: number;
  /** Components by CycloneDX type, in key order. */
  byType: Record<string, number>;
  /** `debian 12.15`; absent when the SBOM names no operating system. */
  os?: string;
}

export interface BaseSection {
  /** As pinned: `python:3.11-slim-bullseye@sha256:...`. */
  ref?: string;
  digest?: string;
  /** What the tag resolves to now, when the base gate could ask. */
  current?: string;
  /** The reference to pin next, when the tag moved. */
  next?: string;
}

export interface ReleaseReport {
  readiness: Readiness;
  mode: ReleaseMode;
  stack?: string;
  version?: string;
  commit?: string;
  image?: string;
  /** The released digest. */
  digest?: string;
  /** The digest the gates judged. */
  candidateDigest?: string;
  /** The digest the deployment runs. */
  deployedDigest?: string;
  /** Promotion mode: the stack whose release was promoted. */
  promotedFrom?: string;
  base: BaseSection;
  /** The rollback target: the release this one replaces. */
  previous?: string;
  /** The one command that rolls back to `previous`. */
  rollbackCommand?: string;
  gates: GateRow[];
  blockers: Issue[];
  warnings: Issue[];
  stages: Stage[];
  totalMs: number;
  size?: SizeSection;
  tests?: TestsSection;
  smoke?: SmokeCheck[];
  scan?: ScanSection;
  /** The image's SBOM (`sbom.cdx.json`), summarized. */
  sbom?: SbomSection;
  /** Facts about the inputs (e.g. no release.json), shown at the end. */
  notes: string[];
}

/** The short form exported as stack outputs and printed with `--print-summary`. */
export interface ReportSummary {
  readiness: Readiness;
  version?: string;
  image?: string;
  digest?: string;
  previous?: string;
  /** `CODE gate: message`, in pipeline order. */
  blockers: string[];
  /** The blockers' codes, in the same order. */
  blockerCodes: ErrorCode[];
}
