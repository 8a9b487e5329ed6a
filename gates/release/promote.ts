import { readEvidence } from "../evidence/store";
import type { Gate } from "../gate";
import { isDigest, isTag } from "../imageRef";
import type { FetchedManifest, RegistryClient } from "../registry/client";
import { openRepository, requiredFlag } from "../registry/open";
import { withQuotaDetails } from "../registry/space";
import { describeTags } from "../registry/tags";
import { block, GateError, GateResult, pass, UsageError } from "../result";
import { pushBudgetMs } from "./timeout";

const ABSENT = "(absent)";

/**
 * Points `tag` at the manifest registry-side (PUT its exact bytes) unless it already resolves to it,
 * then checks the tag resolves to exactly that digest. Returns the digest it held before.
 */
async function pointTag(
  client: RegistryClient,
  repository: string,
  tag: string,
  source: FetchedManifest,
  progress: (line: string) => void,
): Promise<{ previous: string; changed: boolean }> {
  const before = await client.headManifest(repository, tag);
  const previous = before.found ? before.digest : ABSENT;
  if (previous === source.digest) return { previous, changed: false };
  progress(`pointing ${repository}:${tag} at ${source.digest} (was ${previous})`);
  const stored = await withQuotaDetails(client, repository, () =>
    client.putManifest(repository, tag, source.body, source.mediaType),
  );
  const after = await client.headManifest(repository, tag);
  const now = after.found ? after.digest : ABSENT;
  if (stored !== source.digest || now !== source.digest) {
    throw new GateError(
      "MANIFEST_ERROR",
      `${repository}:${tag} resolves to ${now} after the PUT, not ${source.digest}`,
      [`the registry stored ${stored}; it may have rewritten the manifest`],
    );
  }
  return { previous, changed: true };
}

/** The evidence check of `--require-evidence`: a block result, or undefined when it may go on. */
async function evidenceBlock(
  client: RegistryClient,
  repository: string,
  name: string,
  digest: string,
  figures: GateResult["figures"],
): Promise<GateResult | undefined> {
  const evidence = await readEvidence(client, repository, digest);
  const attached = `evidence attached: ${evidence.kinds.length > 0 ? evidence.kinds.join(", ") : "(none)"}`;
  if (evidence.report === undefined) {
    return block(
      "promote",
      "EVIDENCE_MISSING",
      `${name}@${digest} has no release report attached`,
      {
        details: [attached],
        figures: { ...figures, evidence: evidence.kinds.join(",") },
      },
    );
  }
  if (evidence.verdict !== "READY") {
    return block(
      "promote",
      "EVIDENCE_NOT_READY",
      `the release report of ${name}@${digest} says ${evidence.verdict ?? "nothing (no verdict)"}`,
      {
        details: [attached, `report: ${evidence.report}`],
        figures: { ...figures, evidence: evidence.kinds.join(",") },
      },
    );
  }
  return undefined;
}

/**
 * `promote`: release a gated candidate registry-side. The candidate's exact manifest (GET by digest)
 * is PUT under `:<version>`, then `:latest` with `--latest`; no layer moves, so what was gated is
 * byte for byte what is released. Releases are immutable (`:<version>` holding another digest is
 * TAG_IMMUTABLE, nothing changes), and a re-run is a no-op that still completes `latest`, so a
 * release interrupted between the two PUTs finishes on the next `pulumi up`. The result's `value` is
 * the released digest: what the deploy runs.
 */
const gate: Gate = {
  name: "promote",
  summary: "release a gated candidate digest as :<version> (and :latest), registry-side",
  usage: [
    "--repository HOST/REPO  registry repository, e.g. registry.digitalocean.com/acme/odoo",
    "--digest sha256:...     the gated candidate's manifest digest",
    "--version TAG           the release tag (immutable once set)",
    "--latest                also point latest at it",
    "--require-evidence      refuse a digest without a READY release report attached",
    "--source-verdict V      the source stack's report verdict (promotion): refuse unless READY",
    "--timeout SECONDS       budget for the whole promotion (default 600): else PUSH_TIMEOUT",
  ],
  options: {
    repository: { type: "string" },
    digest: { type: "string" },
    version: { type: "string" },
    latest: { type: "boolean" },
    "require-evidence": { type: "boolean" },
    "source-verdict": { type: "string" },
    timeout: { type: "string" },
  },
  async run(flags, ctx) {
    const { client, repository, name } = openRepository(requiredFlag(flags, "repository"), ctx.env);
    const digest = requiredFlag(flags, "digest");
    if (!isDigest(digest)) throw new UsageError(`--digest ${digest}: expected sha256:<64 hex>`);
    const version = requiredFlag(flags, "version");
    if (!isTag(version) || version === "latest") {
      throw new UsageError(`--version ${version}: not a valid release tag`);
    }
    const latest = flags.latest === true;
    client.limitTo(pushBudgetMs(flags));
    const figures: GateResult["figures"] = { repository: name, version, digest };

    ctx.progress(`reading ${name}@${digest}`);
    const source = await client.getManifest(repository, digest);
    if (!source.found) {
      const tags = await client.listTags(repository).catch((err: unknown) => {
        if (err instanceof GateError) return [] as string[];
        throw err;
      });
      return block("promote", "CANDIDATE_NOT_FOUND", `digest ${digest} does not exist in ${name}`, {
        details: [`tags in ${name}: ${describeTags(tags)}`, `registry said: ${source.reason}`],
        figures,
      });
    }
    const sourceVerdict = flags["source-verdict"];
    if (typeof sourceVerdict === "string" && sourceVerdict !== "READY") {
      return block(
        "promote",
        "EVIDENCE_NOT_READY",
        `the source stack's release report says ${sourceVerdict === "" ? "nothing" : sourceVerdict}: ${name}@${digest} was not released READY there`,
        {
          details: [
            "a promotion takes only what the source stack released and verified (its releaseReport output READY)",
          ],
          figures: { ...figures, sourceVerdict },
        },
      );
    }
    if (flags["require-evidence"] === true) {
      const refused = await evidenceBlock(client, repository, name, digest, figures);
      if (refused !== undefined) return refused;
    }

    const held = await client.headManifest(repository, version);
    if (held.found && held.digest !== digest) {
      return block(
        "promote",
        "TAG_IMMUTABLE",
        `${name}:${version} already holds another image (${held.digest})`,
        {
          details: [
            `registry: ${name}:${version} = ${held.digest}`,
            `candidate: ${name}@${digest}`,
            "nothing was changed (latest not moved); a released version is never overwritten: bump release.version",
          ],
          figures: {
            ...figures,
            previousVersion: held.digest,
            versionChanged: false,
            latestChanged: false,
          },
        },
      );
    }
    const versionTag = await pointTag(client, repository, version, source, ctx.progress);
    const latestTag = latest
      ? await pointTag(client, repository, "latest", source, ctx.progress)
      : undefined;
    const done = {
      ...figures,
      previousVersion: versionTag.previous,
      versionChanged: versionTag.changed,
      latest,
      ...(latestTag === undefined
        ? {}
        : { previousLatest: latestTag.previous, latestChanged: latestTag.changed }),
    };
    const latestText =
      latestTag === undefined
        ? ""
        : latestTag.changed
          ? `; latest moved from ${latestTag.previous}`
          : "; latest already there";
    const summary = versionTag.changed
      ? `${name}:${version} released as ${digest}${latestText}`
      : `${name}:${version} already released, identical (${digest})${latestText}`;
    return pass("promote", summary, { value: digest, figures: done });
  },
};

export default gate;
