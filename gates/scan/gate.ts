import type { Gate, GateFlags } from "../gate";
import { block, pass, UsageError, warn, type GateResult } from "../result";
import { readAllowlist, requireStatements, type Allowlist } from "./allowlist";
import { detailLines, entryRecord, figuresOf, findingRecord, summaryLine } from "./format";
import { baselineKeys, evaluate, thresholdOf } from "./policy";
import { readReport, type ScanReport } from "./report";
import { PINNED_IMAGE, scanImage } from "./runner";

/**
 * `scan`: the vulnerability gate (SOP step 5). Wires flags → report (read or produced by Trivy) →
 * allowlist → policy → result. Blocks with SECURITY_CRITICAL / SECURITY_HIGH; fails closed with
 * SCAN_REPORT_INVALID, ALLOWLIST_INVALID or SCANNER_UNAVAILABLE; warns OUTDATED_BASE_IMAGE when nothing
 * blocks but the report says the image's OS is past its end of support.
 */

function stringFlag(flags: GateFlags, name: string): string | undefined {
  const value = flags[name];
  return typeof value === "string" ? value : undefined;
}

function elapsed(since: bigint): number {
  return Number((process.hrtime.bigint() - since) / 1000n) / 1000;
}

const gate: Gate = {
  name: "scan",
  summary: "vulnerability gate over a Trivy JSON report or an image",
  usage: [
    "--report FILE                 a Trivy JSON report (`trivy image --format json`), or",
    "--image REF                   scan this image: `trivy` on PATH, else --trivy-image with Docker",
    "--trivy-image NAME@sha256:..  the Trivy container image, pinned by digest",
    "--severity HIGH,CRITICAL      block at and above the lowest severity named (default HIGH,CRITICAL)",
    "--ignore-unfixed              vulnerabilities without a fix (Status other than fixed) do not block",
    "--allowlist FILE              .trivyignore (ID [exp:yyyy-mm-dd]) or .trivyignore.yaml",
    "--require-statement           every allowlist entry needs a statement and an expiry",
    "--baseline FILE               block only on findings absent from this earlier report",
  ],
  options: {
    report: { type: "string" },
    image: { type: "string" },
    "trivy-image": { type: "string" },
    severity: { type: "string" },
    "ignore-unfixed": { type: "boolean" },
    allowlist: { type: "string" },
    "require-statement": { type: "boolean" },
    baseline: { type: "string" },
  },

  async run(flags, ctx): Promise<GateResult> {
    const reportPath = stringFlag(flags, "report");
    const image = stringFlag(flags, "image");
    if ((reportPath === undefined) === (image === undefined)) {
      throw new UsageError("give exactly one of --report FILE or --image REF");
    }
    if (image !== undefined && (image === "" || image.startsWith("-"))) {
      throw new UsageError(`--image: "${image}" is not an image reference`);
    }
    const trivyImage = stringFlag(flags, "trivy-image");
    if (trivyImage !== undefined && !PINNED_IMAGE.test(trivyImage)) {
      throw new UsageError(
        `--trivy-image must be pinned by digest (name:tag@sha256:<64 hex>), got "${trivyImage}"`,
      );
    }
    const threshold = thresholdOf(stringFlag(flags, "severity") ?? "HIGH,CRITICAL");
    const ignoreUnfixed = flags["ignore-unfixed"] === true;
    const allowlistFile = stringFlag(flags, "allowlist");
    const baselineFile = stringFlag(flags, "baseline");
    const timings: Record<string, number> = {};

    // The allowlist and baseline first: a bad one fails before a long scan.
    let allowlist: Allowlist | undefined;
    if (allowlistFile !== undefined) {
      const t = process.hrtime.bigint();
      allowlist = readAllowlist(allowlistFile);
      if (flags["require-statement"] === true) requireStatements(allowlist);
      timings.allowlist = elapsed(t);
    }
    let baseline: Set<string> | undefined;
    if (baselineFile !== undefined) {
      const t = process.hrtime.bigint();
      baseline = baselineKeys(readReport(baselineFile).findings);
      timings.baseline = elapsed(t);
    }

    let report: ScanReport;
    const t0 = process.hrtime.bigint();
    if (image !== undefined) {
      report = await scanImage(image, { env: ctx.env, trivyImage, progress: ctx.progress });
      timings.scan = elapsed(t0);
    } else {
      report = readReport(reportPath as string);
      timings.read = elapsed(t0);
    }

    const t1 = process.hrtime.bigint();
    const outcome = evaluate(report.findings, {
      threshold,
      ignoreUnfixed,
      now: ctx.now(),
      ...(allowlist === undefined ? {} : { allowlist }),
      ...(baseline === undefined ? {} : { baseline }),
    });
    timings.policy = elapsed(t1);

    const options = {
      threshold,
      ignoreUnfixed,
      ...(allowlistFile === undefined ? {} : { allowlistFile }),
      ...(baselineFile === undefined ? {} : { baselineFile }),
    };
    const extras = {
      details: detailLines(report, outcome, options),
      findings: [
        ...outcome.blocking.map(findingRecord),
        ...outcome.allowlisted.map(findingRecord),
        ...outcome.carriedOver.map(findingRecord),
        ...outcome.expiredEntries.map((e) => entryRecord(e, "expired")),
        ...outcome.unusedEntries.map((e) => entryRecord(e, "unused")),
      ],
      figures: figuresOf(report, outcome, {
        ...options,
        allowlistEntries: allowlist?.entries.length ?? 0,
      }),
      timings,
    };
    const summary = summaryLine(report, outcome, threshold);
    if (outcome.code !== undefined) return block("scan", outcome.code, summary, extras);
    if (report.eosl) return warn("scan", "OUTDATED_BASE_IMAGE", summary, extras);
    return pass("scan", summary, extras);
  },
};

export default gate;
