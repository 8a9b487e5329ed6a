import type { Gate } from "../gate";
import { pass } from "../result";
import { formatSize } from "../size";
import { readEvidence, listEvidence } from "./store";
import { evidenceTarget, TARGET_OPTIONS, TARGET_USAGE } from "./target";

/** `evidence list`: what is attached to a digest (kind, digest, size, created) and the report's verdict. */
const gate: Gate = {
  name: "evidence list",
  summary: "list the evidence attached to a digest",
  usage: [...TARGET_USAGE],
  options: { ...TARGET_OPTIONS },
  async run(flags, ctx) {
    const { client, repository, name, digest } = evidenceTarget(flags, ctx.env);
    const items = await listEvidence(client, repository, digest);
    const summary = await readEvidence(client, repository, digest);
    const verdict = summary.verdict ?? (summary.report === undefined ? "no report" : "no verdict");
    return pass(
      "evidence list",
      items.length === 0
        ? `no evidence attached to ${name}@${digest}`
        : `${items.length} artifact(s) attached to ${name}@${digest}; release report: ${verdict}`,
      {
        details: items.map(
          (i) =>
            `${i.kind.padEnd(8)} ${i.digest} ${formatSize(i.size)} ${i.created ?? "?"} (${i.via})`,
        ),
        findings: items.map((i) => ({ ...i })),
        figures: {
          repository: name,
          digest,
          artifacts: items.length,
          kinds: summary.kinds.join(","),
          verdict,
        },
      },
    );
  },
};

export default gate;
