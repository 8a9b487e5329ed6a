import { GateError } from "../result";
import { formatSize } from "../size";
import type { RegistryClient } from "./client";

/**
 * What a repository's space is used by, decided from the tags that point at a manifest:
 * `releases` (version tags and `latest`), `candidates` (`candidate-*`, pushed by builds before the
 * gates), `cache` (`buildcache-*`), `evidence` (`sha256-<hex>.<kind>`, evidence bound to a digest),
 * `other` (anything else).
 */
export type SpaceKind = "releases" | "candidates" | "cache" | "evidence" | "other";

/** Kinds in the order a digest tagged several ways is counted under (a release stays a release). */
export const SPACE_KINDS: readonly SpaceKind[] = [
  "releases",
  "candidates",
  "cache",
  "evidence",
  "other",
];

export const CANDIDATE_PREFIX = "candidate-";
const CACHE_PREFIX = "buildcache-";
/** The referrers tag schema: `sha256-<hex>` (the OCI fallback index) or `sha256-<hex>.<kind>`. */
const EVIDENCE_TAG = /^sha256-[0-9a-f]{64}(?:\.[A-Za-z0-9_-]+)?$/;
const RELEASE_TAG = /^v?\d+(?:\.\d+)*(?:[-+.][0-9A-Za-z.-]+)?$/;

export function kindOfTag(tag: string): SpaceKind {
  if (tag.startsWith(CANDIDATE_PREFIX)) return "candidates";
  if (tag.startsWith(CACHE_PREFIX)) return "cache";
  if (EVIDENCE_TAG.test(tag)) return "evidence";
  if (tag === "latest" || RELEASE_TAG.test(tag)) return "releases";
  return "other";
}

/** One manifest of a repository, with every tag that points at it. */
export interface TaggedManifest {
  digest: string;
  tags: string[];
  /** The first kind (in SPACE_KINDS order) of its tags. */
  kind: SpaceKind;
  /** Layer bytes the manifest names (an index: the sum over its platform manifests). */
  bytes: number;
}

/**
 * Every tagged manifest of a repository: list the tags, resolve each, read each distinct manifest
 * once for its size. Reads only.
 */
export async function inventory(
  client: RegistryClient,
  repository: string,
): Promise<TaggedManifest[]> {
  const tags = await client.listTags(repository);
  const byDigest = new Map<string, string[]>();
  for (const tag of tags) {
    const head = await client.headManifest(repository, tag);
    if (!head.found) continue;
    byDigest.set(head.digest, [...(byDigest.get(head.digest) ?? []), tag]);
  }
  const entries: TaggedManifest[] = [];
  for (const [digest, digestTags] of byDigest) {
    const kinds = digestTags.map(kindOfTag);
    const kind = SPACE_KINDS.find((k) => kinds.includes(k)) ?? "other";
    entries.push({
      digest,
      tags: digestTags.sort(),
      kind,
      bytes: await sizeOf(client, repository, digest),
    });
  }
  return entries;
}

/** Layer bytes of a manifest; an index sums its children (those it can read). */
export async function sizeOf(
  client: RegistryClient,
  repository: string,
  digest: string,
): Promise<number> {
  const fetched = await client.getManifest(repository, digest);
  if (!fetched.found) return 0;
  if (fetched.manifest.kind === "image") return fetched.manifest.size;
  let total = 0;
  for (const child of fetched.manifest.manifests) {
    const inner = await client.getManifest(repository, child.digest);
    if (inner.found && inner.manifest.kind === "image") total += inner.manifest.size;
  }
  return total;
}

export type SpaceBreakdown = Record<SpaceKind, { manifests: number; bytes: number }>;

/** Sums an inventory by kind; each manifest counts once, under its `kind`. */
export function spaceByKind(entries: readonly TaggedManifest[]): SpaceBreakdown {
  const space = Object.fromEntries(
    SPACE_KINDS.map((k) => [k, { manifests: 0, bytes: 0 }]),
  ) as SpaceBreakdown;
  for (const entry of entries) {
    space[entry.kind].manifests += 1;
    space[entry.kind].bytes += entry.bytes;
  }
  return space;
}

/**
 * One line per kind that holds something: `candidates: 7 manifests, 2.1 GB`. Layers shared between
 * manifests count under each: the figures are an upper bound of what deleting them frees.
 */
export function describeSpace(space: SpaceBreakdown): string[] {
  const lines = SPACE_KINDS.filter((k) => space[k].manifests > 0).map(
    (k) =>
      `${k}: ${space[k].manifests} manifest${space[k].manifests === 1 ? "" : "s"}, ${formatSize(space[k].bytes)}`,
  );
  return lines.length > 0 ? lines : ["(no tagged manifests)"];
}

/**
 * Runs a registry write; a QUOTA_EXCEEDED it raises gains the repository's space by kind in its
 * details (what takes the space), so the person reading it knows what `slipway-gate prune` frees.
 */
export async function withQuotaDetails<T>(
  client: RegistryClient,
  repository: string,
  write: () => Promise<T>,
): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (!(err instanceof GateError) || err.code !== "QUOTA_EXCEEDED") throw err;
    let space: string[];
    try {
      space = describeSpace(spaceByKind(await inventory(client, repository)));
    } catch (inner) {
      space = [`(could not measure the repository: ${(inner as Error).message})`];
    }
    throw new GateError("QUOTA_EXCEEDED", err.message, [
      ...err.details,
      `space in ${repository} by kind:`,
      ...space.map((line) => `  ${line}`),
      "candidates no release uses are what `slipway-gate prune --keep N` deletes",
    ]);
  }
}
