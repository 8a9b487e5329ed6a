import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Gate, GateFlags } from "../gate";
import { block, Finding, GateError, GateResult, pass, UsageError, warn } from "../result";
import { assembleReport, summarize } from "./assemble";

import { readResultsDir } from "./inputs";
import { renderMarkdown } from "./markdown";
import type { ReleaseReport } from "./model";
import { parseSkipped, releaseInfoOf, serializeReleaseInfo, type ReleaseInfo } from "./release";

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

/** The flags that describe the release; any of them makes the gate write release.json. */
const RELEASE_FLAGS = [
  "version",
  "mode",
  "stack",
  "image",
  "digest",
  "candidate-digest",
  "deployed-digest",
  "promoted-from",
  "commit",
  "base",
  "skipped",
] as const;

/**
 * release.json from the flags, or undefined when none of them is given. `--version` is required
 * with any of them; `--previous` is recorded too. Bad values are usage errors naming the flag.
 */
export function releaseInfoFromFlags(
  flags: GateFlags,
  previous: string | undefined,
): ReleaseInfo | undefined {
  if (!RELEASE_FLAGS.some((name) => flags[name] !== undefined)) return undefined;
  const version = optionalString(flags.version, "version");
  if (version === undefined) {
    throw new UsageError(
      "--version is required with --mode, --stack, --image, --digest, --base or --skipped (they write release.json)",
    );
  }
  const skippedPairs = (flags.skipped as string[] | undefined) ?? [];
  const skipped = parseSkipped(skippedPairs);
  if (!skipped.ok) throw new UsageError(`--skipped ${skipped.problems.join("; ")}`);
  const parsed = releaseInfoOf({
    version,
    mode: optionalString(flags.mode, "mode"),
    stack: optionalString(flags.stack, "stack"),
    image: optionalString(flags.image, "image"),
    digest: optionalString(flags.digest, "digest"),
    candidateDigest: optionalString(flags["candidate-digest"], "candidate-digest"),
    deployedDigest: optionalString(flags["deployed-digest"], "deployed-digest"),
    promotedFrom: optionalString(flags["promoted-from"], "promoted-from"),
    commit: optionalString(flags.commit, "commit"),
    baseImage: optionalString(flags.base, "base"),
    previous,
    skipped: skippedPairs.length === 0 ? undefined : skipped.skipped,
  });
  if (!parsed.ok) {
    const flagOf = (problem: string) =>
      problem
        .replace(/^baseImage:/, "base:")
        .replace(
          /^(\w+):/,
          (_, key: string) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}:`,
        );
    throw new UsageError(parsed.problems.map(flagOf).join("; "));
  }
  return parsed.info;
}

async function writeReleaseInfo(dir: string, info: ReleaseInfo): Promise<void> {
  const file = join(dir, "release.json");
  try {
    await mkdir(dir, { recursive: true });
    await writeFile(file, serializeReleaseInfo(info));
  } catch (err) {
    throw new GateError("REPORT_INPUT_INVALID", `cannot write ${file}`, [(err as Error).message]);
  }
}

/**
 * `report`: assembles one release's gate results (`--from DIR`: `<gate>.json` files, `<gate>.skipped`
 * markers, release.json) into the release report people read. Without `--out`, the Markdown goes to
 * stdout; `--print-summary` prints the short JSON summary there instead (what the pipeline exports as
 * stack outputs). With `--version` (and the other release flags) it first writes release.json into
 * `--from`: how the pipeline records what it knows of the release (the image, its digest, the base,
 * the gates disabled by configuration) without a shell writing JSON.
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
    "--gated             every needed gate ran and passed before (the pipeline, after verifying): a",
    "                    gate with no result was not re-run (nothing it checks changed), not a blocker",
    "release.json (written into --from when --version is given; --previous is recorded too):",
    "--version TAG       the release's version, or the rollback's pin",
    "--mode MODE         release (default), promotion or rollback",
    "--stack NAME        the stack (names the rollback command)",
    "--image REF         the image as people pull it (HOST/REPO:TAG)",
    "--digest sha256:..  the released (promoted or resolved) manifest digest",
    "--candidate-digest D  the digest the gates judged (candidate, or the promoted stack's)",
    "--deployed-digest D   the digest the deployment runs",
    "--promoted-from S   promotion mode: the stack whose release was promoted",
    "--commit SHA        the source commit",
    "--base REF          the base image as pinned",
    "--skipped G=REASON  a gate disabled by configuration (repeatable)",
  ],
  options: {
    from: { type: "string" },
    out: { type: "string" },
    previous: { type: "string" },
    "print-summary": { type: "boolean" },
    "candidate-digest": { type: "string" },
    "deployed-digest": { type: "string" },
    "promoted-from": { type: "string" },
    commit: { type: "string" },
    advisory: { type: "boolean" },
    gated: { type: "boolean" },
    version: { type: "string" },
    mode: { type: "string" },
    stack: { type: "string" },
    image: { type: "string" },
    digest: { type: "string" },
    base: { type: "string" },
    skipped: { type: "string", multiple: true },
  },
  async run(flags) {
    const from = optionalString(flags.from, "from");
    if (from === undefined) throw new UsageError("--from DIR is required");
    const out = optionalString(flags.out, "out");
    const previous = optionalString(flags.previous, "previous");
    const info = releaseInfoFromFlags(flags, previous);
    if (info !== undefined) await writeReleaseInfo(from, info);
    const input = await readResultsDir(from);
    const report = assembleReport(input, {
      ...(previous === undefined ? {} : { previous }),
      ...(flags.gated === true ? { gated: true } : {}),
    });
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
