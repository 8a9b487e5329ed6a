import { readEvidence } from "../evidence/store";
import type { Gate } from "../gate";
import { isDigest, isTag } from "../imageRef";
import { describeTags } from "../registry/tags";
import { openRepository, requiredFlag } from "../registry/open";
import { block, GateError, GateResult, pass, UsageError, warn } from "../result";

/** Validates `--ref`: a tag or a digest, nothing else. */
export function parseReference(ref: string): string {
  if (isDigest(ref) || isTag(ref)) return ref;
  throw new UsageError(`--ref ${ref}: expected a tag (v1.4.2) or a digest (sha256:<64 hex>)`);
}

/**
 * `resolve`: the rollback pin (a tag or a digest) → the manifest digest the registry holds for it,
 * printed alone on stdout. A pin that does not exist is ROLLBACK_TAG_NOT_FOUND, naming the tags that
 * do, before anything changes.
 */
/**
 * A rollback target's evidence: a digest whose release report is missing or NOT READY is refused
 * (EVIDENCE_MISSING / EVIDENCE_NOT_READY) unless a reason is given; then it resolves with a warning
 * and the reason in the figures, where the report and the stack's history keep it.
 */
function evidenceChecked(
  evidence: Awaited<ReturnType<typeof readEvidence>>,
  reason: string,
  target: { name: string; ref: string; digest: string; figures: GateResult["figures"] },
): GateResult {
  const { name, ref, digest } = target;
  const figures = { ...target.figures, evidence: evidence.kinds.join(",") };
  if (evidence.report !== undefined && evidence.verdict === "READY") {
    return pass("resolve", `${name}:${ref} is ${digest} (release report READY)`, {
      value: digest,
      figures: { ...figures, verdict: "READY" },
    });
  }
  const code = evidence.report === undefined ? "EVIDENCE_MISSING" : "EVIDENCE_NOT_READY";
  const problem =
    evidence.report === undefined
      ? `${name}@${digest} has no release report attached`
      : `the release report of ${name}@${digest} says ${evidence.verdict ?? "nothing"}`;
  const details = [
    `evidence attached: ${evidence.kinds.length > 0 ? evidence.kinds.join(", ") : "(none)"}`,
  ];
  if (reason.trim() === "") {
    return block("resolve", code, problem, {
      details: [...details, "to roll back to it anyway, give --override-reason TEXT"],
      figures,
    });
  }
  return warn("resolve", code, `${problem}; overridden: ${reason.trim()}`, {
    value: digest,
    details,
    figures: { ...figures, overrideReason: reason.trim() },
  });
}

const gate: Gate = {
  name: "resolve",
  summary: "resolve a tag or digest in a registry (rollback pin), print the digest",
  usage: [
    "--repository HOST/REPO  registry repository, e.g. registry.digitalocean.com/acme/odoo",
    "--ref TAG|sha256:...    the tag or digest to resolve",
    "--require-evidence      refuse a digest without a READY release report attached",
    "--override-reason TEXT  with --require-evidence: go on anyway, the reason recorded",
    "credentials: env SLIPWAY_REGISTRY_AUTH (Docker config.json) else ~/.docker/config.json",
  ],
  options: {
    repository: { type: "string" },
    ref: { type: "string" },
    "require-evidence": { type: "boolean" },
    "override-reason": { type: "string" },
  },
  async run(flags, ctx) {
    const { client, repository, name } = openRepository(requiredFlag(flags, "repository"), ctx.env);
    const ref = parseReference(requiredFlag(flags, "ref"));
    ctx.progress(`resolving ${name}:${ref}`);
    const head = await client.headManifest(repository, ref);
    if (head.found) {
      const figures = { repository: name, ref, digest: head.digest, mediaType: head.mediaType };
      if (flags["require-evidence"] === true) {
        const reason = typeof flags["override-reason"] === "string" ? flags["override-reason"] : "";
        return evidenceChecked(await readEvidence(client, repository, head.digest), reason, {
          name,
          ref,
          digest: head.digest,
          figures,
        });
      }
      return pass("resolve", `${name}:${ref} is ${head.digest}`, { value: head.digest, figures });
    }
    let tags: string[] = [];
    let listing: string | undefined;
    try {
      tags = await client.listTags(repository);
    } catch (err) {
      if (!(err instanceof GateError)) throw err;
      listing = `could not list the tags (${err.code}: ${err.message})`;
    }
    const kind = isDigest(ref) ? "digest" : "tag";
    return block("resolve", "ROLLBACK_TAG_NOT_FOUND", `${kind} ${ref} does not exist in ${name}`, {
      details: [
        listing ?? `tags in ${name}: ${describeTags(tags)}`,
        // A HEAD 404 has no body: only quote the registry when it said something.
        ...(/^HTTP \d+$/.test(head.reason) ? [] : [`registry said: ${head.reason}`]),
      ],
      figures: { repository: name, ref, tags: tags.length },
    });
  },
};

export default gate;
