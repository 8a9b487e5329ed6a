import { readFileSync } from "node:fs";
import type { Gate } from "../gate";
import { withQuotaDetails } from "../registry/space";
import { pushBudgetMs } from "../release/timeout";
import { block, GateError, pass, UsageError } from "../result";
import { formatSize } from "../size";
import { EvidenceKind, layerMediaType, parseEvidenceFiles } from "./kinds";
import { AttachedEvidence, attachEvidence, EvidenceContent } from "./store";
import { evidenceTarget, TARGET_OPTIONS, TARGET_USAGE } from "./target";

/**
 * `evidence attach`: binds a release's evidence (SBOM, Trivy report, gate results, JUnit, coverage,
 * release report) to its manifest digest in the registry, one OCI artifact per kind, so whoever
 * promotes or rolls back to that digest later reads what was proven of it.
 */
const gate: Gate = {
  name: "evidence attach",
  summary: "attach release evidence (sbom, trivy, gates, tests, coverage, report) to a digest",
  usage: [
    ...TARGET_USAGE,
    "--file KIND=PATH        a file to attach (repeat; a kind given twice is one artifact of both)",
    "--file-if-exists KIND=PATH  the same, skipped (and said) when the file is absent: what a gate",
    "                        writes only when it ran on this machine",
    "                        KIND: sbom, trivy, gates, tests, coverage, report",
    "--timeout SECONDS       budget for all the uploads (default 600): else PUSH_TIMEOUT",
  ],
  options: {
    ...TARGET_OPTIONS,
    file: { type: "string", multiple: true },
    "file-if-exists": { type: "string", multiple: true },
    timeout: { type: "string" },
  },
  async run(flags, ctx) {
    const target = evidenceTarget(flags, ctx.env);
    const { client, repository, name, digest } = target;
    const required = Array.isArray(flags.file) ? flags.file : [];
    const optional = Array.isArray(flags["file-if-exists"]) ? flags["file-if-exists"] : [];
    const files = parseEvidenceFiles([...required, ...optional]);
    const byKind = new Map<EvidenceKind, EvidenceContent[]>();
    const skipped: string[] = [];
    for (const [index, file] of files.entries()) {
      let bytes: Buffer;
      try {
        bytes = readFileSync(file.path);
      } catch (err) {
        if (index >= required.length && (err as NodeJS.ErrnoException).code === "ENOENT") {
          skipped.push(`${file.kind}=${file.path}`);
          continue;
        }
        throw new UsageError(`--file ${file.kind}=${file.path}: ${(err as Error).message}`);
      }
      const content = { title: file.title, mediaType: layerMediaType(file.kind, file.path), bytes };
      byKind.set(file.kind, [...(byKind.get(file.kind) ?? []), content]);
    }
    client.limitTo(pushBudgetMs(flags));
    const subject = await client.getManifest(repository, digest);
    if (!subject.found) {
      return block("evidence attach", "CANDIDATE_NOT_FOUND", `${name}@${digest} does not exist`, {
        details: [
          `registry said: ${subject.reason}`,
          "evidence is bound to a manifest: push it first",
        ],
        figures: { repository: name, digest },
      });
    }
    const attached: AttachedEvidence[] = [];
    for (const [kind, contents] of byKind) {
      ctx.progress(
        `attaching ${kind} (${contents.map((c) => c.title).join(", ")}) to ${name}@${digest}`,
      );
      attached.push(
        await withQuotaDetails(client, repository, () =>
          attachEvidence(client, repository, subject, kind, contents, ctx.now()),
        ),
      );
    }
    if (attached.length === 0) throw new GateError("MANIFEST_ERROR", "nothing was attached");
    const via = [...new Set(attached.map((a) => a.via))].join(",");
    return pass(
      "evidence attach",
      `${attached.map((a) => a.kind).join(", ")} attached to ${name}@${digest} (via ${via})`,
      {
        details: [
          ...attached.map((a) => `${a.kind}: ${a.digest} (${formatSize(a.size)}, via ${a.via})`),
          ...skipped.map((f) => `not on this machine, not attached: ${f}`),
        ],
        findings: attached.map((a) => ({ ...a })),
        figures: {
          repository: name,
          digest,
          kinds: attached.map((a) => a.kind).join(","),
          artifacts: attached.length,
          bytes: attached.reduce((sum, a) => sum + a.size, 0),
          via,
        },
      },
    );
  },
};

export default gate;
