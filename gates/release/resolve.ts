import type { Gate } from "../gate";
import { isDigest, isTag } from "../imageRef";
import { describeTags } from "../registry/tags";
import { openRepository, requiredFlag } from "../registry/open";
import { block, GateError, pass, UsageError } from "../result";

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
const gate: Gate = {
  name: "resolve",
  summary: "resolve a tag or digest in a registry (rollback pin), print the digest",
  usage: [
    "--repository HOST/REPO  registry repository, e.g. registry.digitalocean.com/acme/odoo",
    "--ref TAG|sha256:...    the tag or digest to resolve",
    "credentials: env SLIPWAY_REGISTRY_AUTH (Docker config.json) else ~/.docker/config.json",
  ],
  options: { repository: { type: "string" }, ref: { type: "string" } },
  async run(flags, ctx) {
    const { client, repository, name } = openRepository(requiredFlag(flags, "repository"), ctx.env);
    const ref = parseReference(requiredFlag(flags, "ref"));
    ctx.progress(`resolving ${name}:${ref}`);
    const head = await client.headManifest(repository, ref);
    if (head.found) {
      return pass("resolve", `${name}:${ref} is ${head.digest}`, {
        value: head.digest,
        figures: { repository: name, ref, digest: head.digest, mediaType: head.mediaType },
      });
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
