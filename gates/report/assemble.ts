import type { GateResult } from "../result";

import type { ReportInput } from "./inputs";
import { GateRow, Issue, ReleaseReport, ReportSummary, Stage } from "./model";
import { expectedGates } from "./release";
import {
  baseSection,
  sbomSection,
  scanSection,
  sizeSection,
  smokeChecks,
  testsSection,
} from "./sections";

/**
 * Assembles the release report from the gates' results: pure, plain data in and out (the gate file
 * reads the directory, markdown.ts prints).
 *
 * The verdict: READY when no gate blocked and every gate the release needs left a result, or was
 * disabled by configuration (a `<gate>.skipped` marker, or release.json's `skipped`). A needed gate
 * with neither is a blocker of its own ("not run"): a release that stopped before its scan is not a
 * release whose scan passed.
 */

/**
 * Where each gate and pipeline stage sits in a release, so times and gates print in the order they
 * happen; names not listed follow in the order they came.
 */
const PIPELINE_ORDER = [
  "preflight",
  "lint",
  "base",
  "build-builder",
  "test",
  "build-runtime",
  "smoke",
  "scan",
  "tag-guard",
  "promote",
  "resolve",
  "retag",
  "deploy",
  "health",
];

function pipelineIndex(name: string): number {
  const stem = PIPELINE_ORDER.indexOf(name);
  if (stem >= 0) return stem;
  // A variant (`scan-base`) sits right after its gate.
  const base = PIPELINE_ORDER.findIndex((n) => name.startsWith(`${n}-`));
  return base >= 0 ? base + 0.5 : PIPELINE_ORDER.length;
}

function inPipelineOrder<T>(items: readonly T[], name: (item: T) => string): T[] {
  return items
    .map((item, i) => ({ item, i }))
    .sort((a, b) => pipelineIndex(name(a.item)) - pipelineIndex(name(b.item)) || a.i - b.i)
    .map((x) => x.item);
}

/** A gate's own time: the CLI's `total`, else the sum of its phases. */
function gateMs(result: GateResult): number | undefined {
  const { total, ...phases } = result.timings;
  if (total !== undefined) return total;
  const values = Object.values(phases);
  return values.length === 0 ? undefined : values.reduce((a, b) => a + b, 0);
}

function rowOf(gate: string, result: GateResult): GateRow {
  const ms = gateMs(result);
  return {
    gate,
    status: result.verdict,
    ...(result.code === undefined ? {} : { code: result.code }),
    summary: result.summary,
    ...(ms === undefined ? {} : { ms }),
  };
}

/** `pulumi config set --path release.pin v1.4.1 --stack prod && pulumi up --stack prod` */
export function rollbackCommand(previous: string, stack: string | undefined): string {
  const on = stack === undefined ? "" : ` --stack ${stack}`;
  return `pulumi config set --path release.pin ${previous}${on} && pulumi up${on}`;
}

export interface AssembleOptions {
  /** The rollback target, overriding release.json's `previous` (`--previous`). */
  previous?: string;
  /**
   * Every gate the release needs ran and passed before the report (`--gated`: the pipeline runs it
   * after the verification, and the push carried every gate's verdict). A needed gate with no result
   * then passed in an earlier run and was not re-run: a gate command runs again only when what it
   * checks changes. It is listed as skipped with that reason, not as a blocker.
   */
  gated?: boolean;
}

/** Why a needed gate has no result in a `gated` report. */
export const NOT_RE_RUN =
  "not re-run: nothing it checks changed since it passed in an earlier pulumi up";

export function assembleReport(input: ReportInput, options: AssembleOptions = {}): ReleaseReport {
  const release = input.release;
  const skipped: Record<string, string> = { ...(release?.skipped ?? {}), ...input.skipped };
  const expected = expectedGates(release);
  const notes = [...input.notes];
  if (release === undefined) {
    notes.push(
      "no release.json: the image, its digest and the base come from the gates where they tell",
    );
  }

  const rows: GateRow[] = [];
  const blockers: Issue[] = [];
  const warnings: Issue[] = [];
  const seen = new Set<string>();
  const add = (gate: string, result: GateResult): void => {
    seen.add(gate);
    rows.push(rowOf(gate, result));
    if (result.code === undefined) return;
    if (result.verdict === "block")
      blockers.push({ gate, code: result.code, message: result.summary });
    if (result.verdict === "warn")
      warnings.push({ gate, code: result.code, message: result.summary });
  };

  for (const gate of expected) {
    const result = input.results[gate];
    if (result !== undefined) {
      add(gate, result);
    } else if (skipped[gate] !== undefined) {
      seen.add(gate);
      rows.push({ gate, status: "skipped", summary: skipped[gate] });
    } else if (options.gated === true) {
      seen.add(gate);
      rows.push({ gate, status: "skipped", summary: NOT_RE_RUN });
    } else {
      seen.add(gate);
      const message = `not run: the release needs it and it left no ${gate}.json`;
      rows.push({ gate, status: "not run", code: "GATE_NOT_RUN", summary: message });
      blockers.push({ gate, code: "GATE_NOT_RUN", message });
    }
  }
  // Results the release did not list as needed (resolve, retag, variants) count all the same.
  for (const gate of inPipelineOrder(Object.keys(input.results), (g) => g)) {
    if (!seen.has(gate)) add(gate, input.results[gate]);
  }
  for (const gate of Object.keys(skipped).sort()) {
    if (!seen.has(gate)) rows.push({ gate, status: "skipped", summary: skipped[gate] });
  }

  const stages: Stage[] = inPipelineOrder(
    [
      ...Object.entries(release?.stages ?? {}).map(([name, ms]) => ({ name, ms })),
      ...rows.flatMap((r) => (r.ms === undefined ? [] : [{ name: r.gate, ms: r.ms }])),
    ],
    (s) => s.name,
  );

  const results = input.results;
  const previous = options.previous ?? release?.previous;
  const testResult = results.test;
  const smokeResult = results.smoke;
  const scanResult = results.scan;
  const size = smokeResult === undefined ? undefined : sizeSection(smokeResult);
  const smoke = smokeResult === undefined ? undefined : smokeChecks(smokeResult);
  return {
    readiness: blockers.length === 0 ? "READY" : "NOT READY",
    mode: release?.mode ?? "release",
    ...optional("stack", release?.stack),
    ...optional("version", release?.version),
    ...optional("commit", release?.commit),
    ...optional("image", release?.image ?? imageFromGates(results)),
    ...optional("digest", release?.digest ?? digestFromGates(results)),
    ...optional("candidateDigest", release?.candidateDigest),
    ...optional("deployedDigest", release?.deployedDigest),
    ...optional("promotedFrom", release?.promotedFrom),
    base: baseSection(release?.baseImage, results.base),
    ...optional("previous", previous),
    ...optional(
      "rollbackCommand",
      previous === undefined ? undefined : rollbackCommand(previous, release?.stack),
    ),
    gates: rows,
    blockers,
    warnings,
    stages,
    totalMs: stages.reduce((sum, s) => sum + s.ms, 0),
    ...optional("size", size),
    ...optional("tests", testResult === undefined ? undefined : testsSection(testResult)),
    ...optional("smoke", smoke === undefined || smoke.length === 0 ? undefined : smoke),
    ...optional("scan", scanResult === undefined ? undefined : scanSection(scanResult)),
    ...optional("sbom", input.sbom === undefined ? undefined : sbomSection(input.sbom)),
    notes,
  };
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/** Without release.json: the image a rollback resolved, or the one the tag guard checked. */
function imageFromGates(results: Record<string, GateResult>): string | undefined {
  for (const gate of ["resolve", "promote", "tag-guard"]) {
    const f = results[gate]?.figures;
    const repository = f?.repository;
    const tag = f?.tag ?? f?.ref;
    if (typeof repository === "string" && typeof tag === "string" && !tag.startsWith("sha256:")) {
      return `${repository}:${tag}`;
    }
  }
  return undefined;
}

/** Without release.json: the digest a rollback resolved to, or a promotion released. */
function digestFromGates(results: Record<string, GateResult>): string | undefined {
  const digest = results.resolve?.figures.digest ?? results.promote?.figures.digest;
  return typeof digest === "string" ? digest : undefined;
}

/** The summary exported as stack outputs. */
export function summarize(report: ReleaseReport): ReportSummary {
  return {
    readiness: report.readiness,
    ...optional("version", report.version),
    ...optional("image", report.image),
    ...optional("digest", report.digest),
    ...optional("previous", report.previous),
    blockers: report.blockers.map((b) => `${b.code} ${b.gate}: ${b.message}`),
    blockerCodes: report.blockers.map((b) => b.code),
  };
}
