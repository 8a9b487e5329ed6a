import { mkdirSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import type { Gate } from "../gate";
import { requiredFlag } from "../registry/open";
import { block, pass, UsageError } from "../result";
import { EVIDENCE_KINDS, isEvidenceKind } from "./kinds";
import { fetchEvidence } from "./store";
import { evidenceTarget, TARGET_OPTIONS, TARGET_USAGE } from "./target";

/** `evidence fetch`: downloads the files of the newest artifact of a kind into a directory. */
const gate: Gate = {
  name: "evidence fetch",
  summary: "download the evidence of one kind attached to a digest",
  usage: [
    ...TARGET_USAGE,
    `--kind KIND             ${EVIDENCE_KINDS.join(", ")}`,
    "--out DIR               where to write its files (created)",
  ],
  options: { ...TARGET_OPTIONS, kind: { type: "string" }, out: { type: "string" } },
  async run(flags, ctx) {
    const { client, repository, name, digest } = evidenceTarget(flags, ctx.env);
    const kind = requiredFlag(flags, "kind");
    if (!isEvidenceKind(kind)) {
      throw new UsageError(`--kind ${kind}: expected one of ${EVIDENCE_KINDS.join(", ")}`);
    }
    const out = requiredFlag(flags, "out");
    const fetched = await fetchEvidence(client, repository, digest, kind);
    if (fetched === undefined) {
      return block(
        "evidence fetch",
        "EVIDENCE_MISSING",
        `no ${kind} evidence attached to ${name}@${digest}`,
        {
          figures: { repository: name, digest, kind },
        },
      );
    }
    mkdirSync(out, { recursive: true });
    // basename: a title is the registry's data, never a path to follow out of DIR.
    const written = fetched.files.map((f) => {
      const path = join(out, basename(f.title));
      writeFileSync(path, f.bytes);
      return path;
    });
    return pass("evidence fetch", `${kind} of ${name}@${digest} written to ${out}`, {
      details: written,
      figures: {
        repository: name,
        digest,
        kind,
        artifact: fetched.item.digest,
        files: written.length,
        bytes: fetched.files.reduce((sum, f) => sum + f.bytes.length, 0),
      },
    });
  },
};

export default gate;
