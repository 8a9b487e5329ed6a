import { UsageError } from "../result";
import { AllowlistEntry, AllowlistIndex, isExpired, type Allowlist } from "./allowlist";
import type { Origin } from "./origin";
import { SEVERITIES, SEVERITY_RANK, isSeverity, type ScanFinding, type Severity } from "./report";

/**
 * The verdict over a report's findings. In Trivy's order (pkg/result/filter.go): severity, then status
 * (`--ignore-unfixed`), then the allowlist; then, with a baseline, what was already there.
 *
 * - Vulnerabilities, secrets and FAIL misconfigurations at or above the threshold block. Any blocking
 *   secret makes the code SECRET_DETECTED (remove and rotate); else CRITICAL → SECURITY_CRITICAL, else
 *   SECURITY_HIGH.
 * - Misconfigurations that PASS (or are EXCEPTIONs) are not findings.
 * - `--ignore-unfixed` keeps only vulnerabilities with a fix: Status `fixed`, or, in older reports without
 *   Status, a FixedVersion.
 * - An allowlist entry is "used" when it matches any finding of the report (whatever its severity), so
 *   "matched nothing" means it can be deleted. Expired entries never apply and are always named.
 */

export type FindingState = "blocking" | "allowlisted" | "carried-over";

export interface Evaluated {
  finding: ScanFinding;
  state: FindingState;
  /** The allowlist entry that let it through (`allowlisted`). */
  entry?: AllowlistEntry;
  /** An expired entry that would have matched a blocking finding. */
  expiredEntry?: AllowlistEntry;
  /** Base image or app (`--base-image`); absent when the gate was not asked. */
  origin?: Origin;
}

export interface Tally {
  findings: number;
  /** Unique IDs: one CVE in two packages is one ID, two findings. */
  ids: number;
  bySeverity: Record<Severity, number>;
}

export interface PolicyOptions {
  threshold: Severity;
  ignoreUnfixed: boolean;
  allowlist?: Allowlist;
  now: Date;
  /** Keys (see `baselineKey`) of findings already present in a baseline report. */
  baseline?: ReadonlySet<string>;
  /**
   * Labels each listed finding with its origin (see origin.ts). It labels only: no verdict depends on
   * it.
   */
  originOf?: (f: ScanFinding) => Origin;
}

export interface PolicyOutcome {
  code: "SECRET_DETECTED" | "SECURITY_CRITICAL" | "SECURITY_HIGH" | undefined;
  /** Most severe first. */
  blocking: Evaluated[];
  allowlisted: Evaluated[];
  carriedOver: Evaluated[];
  /** Every finding of the report (FAIL misconfigurations only). */
  all: Tally;
  blockingTally: Tally;
  allowlistedTally: Tally;
  belowThreshold: number;
  unfixedIgnored: number;
  /** Misconfigurations with Status PASS or EXCEPTION. */
  nonFailures: number;
  expiredEntries: AllowlistEntry[];
  unusedEntries: AllowlistEntry[];
}

/**
 * `--severity HIGH,CRITICAL` → HIGH. The gate blocks at and above the lowest severity named: a list with
 * gaps (`MEDIUM,CRITICAL`) still blocks HIGH, since a gate never lets a worse finding through than one it
 * blocks.
 */
export function thresholdOf(list: string): Severity {
  const names = list
    .split(",")
    .map((s) => s.trim().toUpperCase())
    .filter((s) => s !== "");
  if (names.length === 0) throw new UsageError("--severity needs at least one severity");
  let lowest: Severity | undefined;
  for (const name of names) {
    if (!isSeverity(name)) {
      throw new UsageError(
        `--severity: unknown severity "${name}" (expected ${SEVERITIES.join(", ")})`,
      );
    }
    if (lowest === undefined || SEVERITY_RANK[name] < SEVERITY_RANK[lowest]) lowest = name;
  }
  return lowest as Severity;
}

/** The severities at and above a threshold, most severe first. */
export function severitiesFrom(threshold: Severity): Severity[] {
  return SEVERITIES.filter((s) => SEVERITY_RANK[s] >= SEVERITY_RANK[threshold]).reverse();
}

/** Whether a vulnerability has a fix: Status `fixed`, or (older reports without Status) a FixedVersion. */
export function isFixed(f: ScanFinding): boolean {
  return f.status !== "" ? f.status === "fixed" : f.fixed !== "";
}

/**
 * Identity of a finding across two reports: ID + package + installed version + where (target and
 * package path). An image has one OS-package Result, whose Target Trivy spells `<image ref> (<os>)`:
 * it names the release (`slipway/odoo:v1.4.3-runtime (debian 12.5)`), so the next release's report
 * never has the same one. OS packages are therefore placed by their Result class alone; language
 * packages, secrets and misconfigurations by their target, a path or ecosystem inside the image.
 */
export function baselineKey(f: ScanFinding): string {
  const where = f.resultClass === "os-pkgs" ? "os-pkgs" : f.target;
  return `${f.kind}\u0000${f.id}\u0000${f.pkgName}\u0000${f.installed}\u0000${where}\u0000${f.pkgPath}`;
}

class Counter {
  findings = 0;
  private readonly ids = new Set<string>();
  readonly bySeverity: Record<Severity, number> = {
    UNKNOWN: 0,
    LOW: 0,
    MEDIUM: 0,
    HIGH: 0,
    CRITICAL: 0,
  };

  add(f: ScanFinding): void {
    this.findings++;
    this.ids.add(f.id);
    this.bySeverity[f.severity]++;
  }

  tally(): Tally {
    return { findings: this.findings, ids: this.ids.size, bySeverity: { ...this.bySeverity } };
  }
}

function compareText(a: string, b: string): number {
  return a === b ? 0 : a < b ? -1 : 1;
}

/** Most severe first, then by ID, package, version, target: a stable, readable order. */
function compareFindings(a: Evaluated, b: Evaluated): number {
  const x = a.finding;
  const y = b.finding;
  return (
    SEVERITY_RANK[y.severity] - SEVERITY_RANK[x.severity] ||
    compareText(x.id, y.id) ||
    compareText(x.pkgName, y.pkgName) ||
    compareText(x.installed, y.installed) ||
    compareText(x.target, y.target) ||
    compareText(x.pkgPath, y.pkgPath) ||
    x.line - y.line
  );
}

/** Applies the policy to a report's findings. Linear in the number of findings (plus one sort). */
export function evaluate(findings: readonly ScanFinding[], options: PolicyOptions): PolicyOutcome {
  const thresholdRank = SEVERITY_RANK[options.threshold];
  const entries = options.allowlist?.entries ?? [];
  const index = entries.length > 0 ? new AllowlistIndex(entries) : undefined;
  const now = options.now;
  const used = new Set<AllowlistEntry>();
  const all = new Counter();
  const blockingCount = new Counter();
  const allowlistedCount = new Counter();
  const blocking: Evaluated[] = [];
  const allowlisted: Evaluated[] = [];
  const carriedOver: Evaluated[] = [];
  let belowThreshold = 0;
  let unfixedIgnored = 0;
  let nonFailures = 0;
  const originOf = options.originOf;
  /** A listed finding, with its origin when asked. */
  const listed = (f: ScanFinding, state: FindingState): Evaluated =>
    originOf === undefined ? { finding: f, state } : { finding: f, state, origin: originOf(f) };

  for (const f of findings) {
    if (f.kind === "misconfiguration" && f.status !== "FAIL") {
      nonFailures++;
      continue;
    }
    all.add(f);
    let active: AllowlistEntry | undefined;
    let expired: AllowlistEntry | undefined;
    if (index !== undefined) {
      for (const entry of index.match(f)) {
        if (isExpired(entry, now)) {
          expired ??= entry;
        } else {
          used.add(entry);
          active ??= entry;
        }
      }
    }
    if (SEVERITY_RANK[f.severity] < thresholdRank) {
      belowThreshold++;
      continue;
    }
    if (options.ignoreUnfixed && f.kind === "vulnerability" && !isFixed(f)) {
      unfixedIgnored++;
      continue;
    }
    if (active !== undefined) {
      allowlisted.push({ ...listed(f, "allowlisted"), entry: active });
      allowlistedCount.add(f);
      continue;
    }
    if (options.baseline !== undefined && options.baseline.has(baselineKey(f))) {
      carriedOver.push(listed(f, "carried-over"));
      continue;
    }
    const evaluated = listed(f, "blocking");
    if (expired !== undefined) evaluated.expiredEntry = expired;
    blocking.push(evaluated);
    blockingCount.add(f);
  }

  blocking.sort(compareFindings);
  allowlisted.sort(compareFindings);
  carriedOver.sort(compareFindings);
  const expiredEntries = entries.filter((e) => isExpired(e, now));
  const unusedEntries = entries.filter(
    (e) => e.kinds.length > 0 && !isExpired(e, now) && !used.has(e),
  );
  const blockingTally = blockingCount.tally();
  let code: PolicyOutcome["code"];
  // A leaked credential outranks any CVE: it is exposed already, and its remedy (remove, rotate) is not
  // an upgrade. The details still list every blocking finding.
  if (blocking.some((e) => e.finding.kind === "secret")) code = "SECRET_DETECTED";
  else if (blockingTally.bySeverity.CRITICAL > 0) code = "SECURITY_CRITICAL";
  else if (blocking.length > 0) code = "SECURITY_HIGH";
  return {
    code,
    blocking,
    allowlisted,
    carriedOver,
    all: all.tally(),
    blockingTally,
    allowlistedTally: allowlistedCount.tally(),
    belowThreshold,
    unfixedIgnored,
    nonFailures,
    expiredEntries,
    unusedEntries,
  };
}

/** The keys of a baseline report's findings (`--baseline`). */
export function baselineKeys(findings: readonly ScanFinding[]): Set<string> {
  const keys = new Set<string>();
  for (const f of findings) keys.add(baselineKey(f));
  return keys;
}
