import { formatSize } from "../size";
import {
  GateRow,
  Issue,
  ReleaseReport,
  ScanRow,
  SbomSection,
  ScanSection,
  SEVERITY_ORDER,
  SizeSection,
  TestsSection,
} from "./model";

/**
 * The release report as Markdown, for people: the verdict first, then what was released, then each
 * gate's evidence. Pure: the same report always prints the same text (no clock, no environment).
 */

/** How many rows a long list shows before "... and N more". */
const MAX_ROWS = 20;
const MAX_LAYERS = 5;

/** A table cell: no line breaks, no column separators. */
function cell(text: string): string {
  return text.replace(/\r?\n/g, " ").replace(/\|/g, "\\|").trim();
}

function code(text: string): string {
  const clean = text.replace(/\r?\n/g, " ");
  return clean.includes("`") ? `\`\` ${clean} \`\`` : `\`${clean}\``;
}

function table(head: string[], rows: string[][]): string[] {
  return [
    `| ${head.join(" | ")} |`,
    `|${head.map(() => "---").join("|")}|`,
    ...rows.map((r) => `| ${r.map(cell).join(" | ")} |`),
  ];
}

function more(total: number, shown: number): string[] {
  return total > shown ? [`… and ${total - shown} more (see the gate's JSON result).`] : [];
}

/** `850 ms`, `12.3 s`, `4 min 05 s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, "0")} s`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

function heading(report: ReleaseReport): string[] {
  const what = report.version ?? report.image ?? "(unknown version)";
  const where = report.stack === undefined ? "" : ` (${report.stack})`;
  const kind =
    report.mode === "rollback" ? "Rollback" : report.mode === "promotion" ? "Promotion" : "Release";
  const verdict =
    report.readiness === "READY"
      ? `**READY**: every gate the ${kind.toLowerCase()} needs passed${report.warnings.length === 0 ? "" : `, with ${plural(report.warnings.length, "warning")}`}.`
      : `**NOT READY**: ${plural(report.blockers.length, "blocker")}, first ${report.blockers[0]?.code ?? "?"}.`;
  return [`# ${kind} report: ${what}${where}`, "", verdict];
}

function facts(report: ReleaseReport): string[] {
  const rows: string[][] = [];
  rows.push(["Image", report.image === undefined ? "not recorded" : code(report.image)]);
  rows.push([
    "Digest",
    report.digest === undefined ? "not released (or not recorded)" : code(report.digest),
  ]);
  if (report.promotedFrom !== undefined) rows.push(["Promoted from", code(report.promotedFrom)]);
  const oneDigest = (label: string, digest: string | undefined) => {
    if (digest === undefined) return;
    const same = report.digest === undefined || digest === report.digest;
    rows.push([label, `${code(digest)}${same ? "" : " (**differs from the released digest**)"}`]);
  };
  oneDigest("Candidate digest (gated)", report.candidateDigest);
  oneDigest("Deployed digest", report.deployedDigest);
  const base = report.base;
  rows.push(["Base image", base.ref === undefined ? "not recorded" : code(base.ref)]);
  if (base.digest !== undefined) {
    let drift = "";
    if (base.current !== undefined) {
      drift =
        base.current === base.digest
          ? " (its tag still resolves to it)"
          : ` (its tag now resolves to ${code(base.current)}${base.next === undefined ? "" : `; pin next: ${code(base.next)}`})`;
    }
    rows.push(["Base digest", `${code(base.digest)}${drift}`]);
  }
  if (report.commit !== undefined) rows.push(["Commit", code(report.commit)]);
  rows.push([
    "Rollback target",
    report.previous === undefined ? "no previous release recorded" : code(report.previous),
  ]);
  return ["", ...table(["Release", ""], rows)];
}

function issues(title: string, list: Issue[]): string[] {
  if (list.length === 0) return [];
  return [
    "",
    `## ${title}`,
    "",
    ...table(
      ["Gate", "Code", "What was found"],
      list.map((i) => [i.gate, code(i.code), i.message]),
    ),
  ];
}

function gates(rows: GateRow[]): string[] {
  return [
    "",
    "## Gates",
    "",
    ...table(
      ["Gate", "Result", "Code", "Summary", "Time"],
      rows.map((r) => [
        r.gate,
        r.status,
        r.code === undefined ? "" : code(r.code),
        r.summary,
        r.ms === undefined ? "" : formatDuration(r.ms),
      ]),
    ),
  ];
}

function stages(report: ReleaseReport): string[] {
  if (report.stages.length === 0) return [];
  return [
    "",
    "## Time per stage",
    "",
    ...table(
      ["Stage", "Time"],
      [
        ...report.stages.map((s) => [s.name, formatDuration(s.ms)]),
        ["**total**", `**${formatDuration(report.totalMs)}**`],
      ],
    ),
  ];
}

/** The line that says a section has no evidence, and why. */
function absent(report: ReleaseReport, gate: string): string {
  const row = report.gates.find((g) => g.gate === gate);
  if (row === undefined) return `The ${gate} gate is not part of this release.`;
  if (row.status === "skipped") return `Skipped: ${row.summary}.`;
  return `Not run: no ${gate} result.`;
}

function size(report: ReleaseReport, s: SizeSection | undefined): string[] {
  const lines = ["", "## Image size"];
  if (s === undefined) return [...lines, "", absent(report, "smoke")];
  const parts: string[] = [];
  if (s.bytes !== undefined) {
    const budget =
      s.maxBytes === undefined
        ? ""
        : ` of ${formatSize(s.maxBytes)} allowed (${Math.round((s.bytes / s.maxBytes) * 100)} %)`;
    parts.push(`${formatSize(s.bytes)}${budget}.`);
  } else if (s.maxBytes !== undefined) {
    parts.push(`Budget ${formatSize(s.maxBytes)}; size not measured.`);
  }
  lines.push("", ...parts);
  if (s.layers.length === 0) {
    lines.push(
      "",
      "Largest layers: not listed (the smoke gate lists them when the image is over budget).",
    );
  } else {
    const shown = s.layers.slice(0, MAX_LAYERS);
    lines.push(
      "",
      "Largest layers:",
      "",
      ...table(
        ["Size", "Created by"],
        shown.map((l) => [formatSize(l.bytes), l.createdBy === undefined ? "" : code(l.createdBy)]),
      ),
      ...more(s.layers.length, shown.length),
    );
  }
  return lines;
}

function tests(report: ReleaseReport, t: TestsSection | undefined): string[] {
  const lines = ["", "## Tests"];
  if (t === undefined) return [...lines, "", absent(report, "test")];
  const counts: string[] = [];
  if (t.passed !== undefined) counts.push(`${t.passed} passed`);
  if (t.failed !== undefined) counts.push(`${t.failed} failed`);
  if (t.errors !== undefined) counts.push(`${plural(t.errors, "error")}`);
  if (t.skipped !== undefined) counts.push(`${t.skipped} skipped`);
  const total = t.total === undefined ? "" : ` (${plural(t.total, "test")})`;
  lines.push(
    "",
    counts.length === 0 ? "Counts unknown (no JUnit report)." : `${counts.join(", ")}${total}.`,
  );
  if (t.coverage !== undefined) {
    const floor =
      t.coverageMin === undefined
        ? ""
        : ` (floor ${t.coverageMin} %${t.coverage < t.coverageMin ? ": below" : ""})`;
    lines.push("", `Coverage: ${t.coverage} %${floor}.`);
  } else if (t.coverageMin !== undefined) {
    lines.push("", `Coverage: not measured (floor ${t.coverageMin} %).`);
  }
  if (t.failing.length > 0) {
    const shown = t.failing.slice(0, MAX_ROWS);
    lines.push(
      "",
      ...table(
        ["Test", "Outcome", "Message"],
        shown.map((f) => [code(f.test), f.outcome, f.message ?? ""]),
      ),
      ...more(t.failing.length, shown.length),
    );
  }
  return lines;
}

function smoke(report: ReleaseReport): string[] {
  const lines = ["", "## Smoke checks"];
  const row = report.gates.find((g) => g.gate === "smoke");
  if (report.smoke !== undefined) {
    return [
      ...lines,
      "",
      ...table(
        ["Check", "Result", "Detail"],
        report.smoke.map((c) => [
          c.check,
          c.ok ? "ok" : `FAILED${c.code === undefined ? "" : ` ${code(c.code)}`}`,
          c.detail,
        ]),
      ),
    ];
  }
  if (row === undefined || row.status === "skipped" || row.status === "not run") {
    return [...lines, "", absent(report, "smoke")];
  }
  return [...lines, "", `${row.status}: ${row.summary}`];
}

function scanRows(rows: ScanRow[]): string[][] {
  return rows.map((r) => [
    r.id,
    r.severity,
    r.package ?? "",
    r.installed === undefined
      ? ""
      : `${r.installed} → ${r.fixed === undefined || r.fixed === "" ? "no fix" : r.fixed}`,
    r.target ?? "",
  ]);
}

function scan(report: ReleaseReport, s: ScanSection | undefined): string[] {
  const lines = ["", "## Vulnerability scan"];
  if (s === undefined) return [...lines, "", absent(report, "scan")];
  const policy: string[] = [];
  if (s.threshold !== undefined)
    policy.push(`blocks ${s.threshold === "CRITICAL" ? "CRITICAL" : `${s.threshold} and above`}`);
  if (s.ignoreUnfixed === true) policy.push("vulnerabilities without a fix ignored");
  const totals =
    s.findings === undefined
      ? ""
      : `${plural(s.findings, "finding")}${s.ids === undefined ? "" : ` (${plural(s.ids, "unique ID")})`}`;
  lines.push("", [totals, policy.join("; ")].filter((x) => x !== "").join("; ") + ".");
  lines.push(
    "",
    ...table(
      ["Severity", "Findings", "Blocking"],
      SEVERITY_ORDER.map((sev) => [
        sev,
        String(s.counts[sev] ?? 0),
        String(s.blockingCounts[sev] ?? 0),
      ]),
    ),
  );
  if (s.blocking.length > 0) {
    const shown = s.blocking.slice(0, MAX_ROWS);
    lines.push(
      "",
      "Blocking findings:",
      "",
      ...table(["ID", "Severity", "Package", "Installed → fixed", "Target"], scanRows(shown)),
      ...more(s.blocking.length, shown.length),
    );
  }
  if (s.allowlisted.length > 0) {
    const shown = s.allowlisted.slice(0, MAX_ROWS);
    lines.push(
      "",
      "Allowlisted findings:",
      "",
      ...table(
        ["ID", "Severity", "Package", "Expires", "Statement"],
        shown.map((a) => [
          a.id,
          a.severity,
          a.package ?? "",
          a.expires === "" ? "never (no expiry)" : a.expires,
          a.statement === "" ? "(no statement)" : a.statement,
        ]),
      ),
      ...more(s.allowlisted.length, shown.length),
    );
  }
  for (const e of s.entries) {
    lines.push(
      "",
      e.state === "expired"
        ? `Allowlist entry ${e.id}${e.source === undefined ? "" : ` (${e.source})`} expired on ${e.expires}: it no longer applies.`
        : `Allowlist entry ${e.id}${e.source === undefined ? "" : ` (${e.source})`} matched nothing: remove it.`,
    );
  }
  return lines;
}

function rollback(report: ReleaseReport): string[] {
  const lines = ["", "## Rollback"];
  if (report.previous === undefined || report.rollbackCommand === undefined) {
    return [
      ...lines,
      "",
      "No previous release recorded: pass `--previous <tag>` (CI passes the version deployed before this run).",
    ];
  }
  return [
    ...lines,
    "",
    `Target: ${code(report.previous)}, the release this one replaces. One step back:`,
    "",
    "```sh",
    report.rollbackCommand,
    "```",
  ];
}

function sbom(s: SbomSection | undefined): string[] {
  if (s === undefined) return [];
  const types = Object.entries(s.byType).map(([type, n]) => [type, String(n)]);
  return [
    "",
    "## SBOM",
    "",
    `${code(s.file)}: ${s.format}, ${s.components} components of ${code(s.subject)}` +
      (s.os === undefined ? "." : `; operating system ${s.os}.`),
    "",
    ...table(["Component type", "Count"], types),
  ];
}

function notes(report: ReleaseReport): string[] {
  if (report.notes.length === 0) return [];
  return ["", "## Notes", "", ...report.notes.map((n) => `- ${n}`)];
}

export function renderMarkdown(report: ReleaseReport): string {
  const sections = [
    heading(report),
    facts(report),
    issues("Blockers", report.blockers),
    issues("Warnings", report.warnings),
    gates(report.gates),
    stages(report),
    ...(report.mode === "rollback"
      ? []
      : [
          size(report, report.size),
          tests(report, report.tests),
          smoke(report),
          scan(report, report.scan),
          sbom(report.sbom),
        ]),
    rollback(report),
    notes(report),
  ];
  return sections.flat().join("\n") + "\n";
}
