import type { Gate } from "../gate";
import { isDigest, isTag } from "../imageRef";
import { openRepository, requiredFlag } from "../registry/open";
import { describeTags } from "../registry/tags";
import { block, GateError, pass, UsageError } from "../result";
import { pushBudgetMs } from "./timeout";

/**
 * `retag`: point a tag (`latest`) at a manifest that is already in the registry, without pulling:
 * GET the manifest by digest (exact bytes, exact media type) and PUT it under the tag. The digest of
 * the same bytes is the same, so the tag then resolves to exactly that digest, which is checked.
 */
const gate: Gate = {
  name: "retag",
  summary: "point a tag (latest) at an existing digest in a registry",
  usage: [
    "--repository HOST/REPO  registry repository, e.g. registry.digitalocean.com/acme/odoo",
    "--digest sha256:...     the manifest to point at (must exist in the repository)",
    "--tag TAG               the tag to (re)point, e.g. latest",
    "--timeout SECONDS       budget for the whole retag (default 600): else PUSH_TIMEOUT",
  ],
  options: {
    repository: { type: "string" },
    digest: { type: "string" },
    tag: { type: "string" },
    timeout: { type: "string" },
  },
  async run(flags, ctx) {
    const { client, repository, name } = openRepository(requiredFlag(flags, "repository"), ctx.env);
    const digest = requiredFlag(flags, "digest");
    if (!isDigest(digest)) throw new UsageError(`--digest ${digest}: expected sha256:<64 hex>`);
    const tag = requiredFlag(flags, "tag");
    if (!isTag(tag) || isDigest(tag)) throw new UsageError(`--tag ${tag}: not a valid tag`);
    client.limitTo(pushBudgetMs(flags));

    const before = await client.headManifest(repository, tag);
    const previous = before.found ? before.digest : "(absent)";
    if (before.found && before.digest === digest) {
      return pass("retag", `${name}:${tag} already points at ${digest}: nothing to do`, {
        value: digest,
        figures: { repository: name, tag, digest, previous, changed: false },
      });
    }

    ctx.progress(`reading ${name}@${digest}`);
    const source = await client.getManifest(repository, digest);
    if (!source.found) {
      const tags = await client.listTags(repository).catch((err: unknown) => {
        if (err instanceof GateError) return [] as string[];
        throw err;
      });
      return block(
        "retag",
        "ROLLBACK_TAG_NOT_FOUND",
        `digest ${digest} does not exist in ${name}`,
        {
          details: [`tags in ${name}: ${describeTags(tags)}`, `registry said: ${source.reason}`],
          figures: { repository: name, tag, digest },
        },
      );
    }

    ctx.progress(`pointing ${name}:${tag} at ${digest} (was ${previous})`);
    const stored = await client.putManifest(repository, tag, source.body, source.mediaType);
    const after = await client.headManifest(repository, tag);
    const now = after.found ? after.digest : "(absent)";
    if (stored !== digest || now !== digest) {
      throw new GateError(
        "MANIFEST_ERROR",
        `${name}:${tag} resolves to ${now} after the retag, not ${digest}`,
        [`the registry stored ${stored}; it may have rewritten the manifest`],
      );
    }
    return pass("retag", `${name}:${tag} now points at ${digest} (was ${previous})`, {
      value: digest,
      figures: { repository: name, tag, digest, previous, changed: true },
    });
  },
};

export default gate;
