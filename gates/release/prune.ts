import type { Gate } from "../gate";
import { isDigest } from "../imageRef";
import type { RegistryClient } from "../registry/client";
import { docrDeleteManifest, isDocr } from "../registry/docr";
import { openRepository, requiredFlag } from "../registry/open";
import {
  CANDIDATE_PREFIX,
  describeSpace,
  inventory,
  spaceByKind,
  TaggedManifest,
} from "../registry/space";
import { sortTags } from "../registry/tags";
import { pass, UsageError } from "../result";
import { formatSize } from "../size";
import { pushBudgetMs } from "./timeout";

/** What prune decides for one manifest. */
export type PruneAction = "keep" | "delete" | "protected";

export interface PruneDecision {
  entry: TaggedManifest;
  action: PruneAction;
  /** Why: "newest 3", "tagged v1.4.2, latest", "--protect (deployed)". */
  reason: string;
  /** The image config's `created`, when read. */
  created?: string;
}

/**
 * The prune policy as a pure function. Decided by digest, because deleting a manifest deletes it
 * under every tag: a manifest any non-candidate tag points at (a release, `latest`, build cache,
 * evidence) or that is `--protect`ed (a stack's deployed digest) is never deleted; of the rest
 * (candidate-only manifests), the newest `keep` stay (newest by the config's `created`, then by tag
 * order) and the others go. Manifests without a candidate tag are left out entirely.
 */
export function decidePrune(
  entries: readonly TaggedManifest[],
  keep: number,
  protect: readonly string[],
  created: ReadonlyMap<string, string>,
): PruneDecision[] {
  const decisions: PruneDecision[] = [];
  const candidates: TaggedManifest[] = [];
  for (const entry of entries) {
    if (!entry.tags.some((t) => t.startsWith(CANDIDATE_PREFIX))) continue;
    const others = entry.tags.filter((t) => !t.startsWith(CANDIDATE_PREFIX));
    if (others.length > 0) {
      decisions.push({ entry, action: "protected", reason: `also tagged ${others.join(", ")}` });
    } else if (protect.includes(entry.digest)) {
      decisions.push({ entry, action: "protected", reason: "--protect (a deployed digest)" });
    } else {
      candidates.push(entry);
    }
  }
  const tagOrder = sortTags(
    candidates.flatMap((c) => c.tags.map((t) => t.slice(CANDIDATE_PREFIX.length))),
  );
  const rank = (e: TaggedManifest): number =>
    Math.min(...e.tags.map((t) => tagOrder.indexOf(t.slice(CANDIDATE_PREFIX.length))));
  candidates.sort((a, b) => {
    const ca = created.get(a.digest) ?? "";
    const cb = created.get(b.digest) ?? "";
    if (ca !== cb) return cb.localeCompare(ca);
    return rank(a) - rank(b);
  });
  candidates.forEach((entry, i) => {
    const when = created.get(entry.digest);
    decisions.push({
      entry,
      action: i < keep ? "keep" : "delete",
      reason: i < keep ? `among the newest ${keep}` : `older than the newest ${keep}`,
      ...(when === undefined ? {} : { created: when }),
    });
  });
  return decisions;
}

/** The config's `created` of a manifest (an index: its first runnable platform's), if readable. */
async function createdOf(
  client: RegistryClient,
  repository: string,
  digest: string,
): Promise<string | undefined> {
  const fetched = await client.getManifest(repository, digest);
  if (!fetched.found) return undefined;
  let config: string | undefined;
  if (fetched.manifest.kind === "image") config = fetched.manifest.configDigest;
  else {
    const first = fetched.manifest.manifests.find((m) => !m.attestation);
    const child =
      first === undefined ? undefined : await client.getManifest(repository, first.digest);
    if (child?.found === true && child.manifest.kind === "image")
      config = child.manifest.configDigest;
  }
  if (config === undefined) return undefined;
  try {
    const doc = JSON.parse(
      (await client.getBlob(repository, config, 1024 * 1024)).toString("utf8"),
    ) as {
      created?: unknown;
    };
    return typeof doc.created === "string" && !Number.isNaN(Date.parse(doc.created))
      ? new Date(doc.created).toISOString()
      : undefined;
  } catch {
    return undefined;
  }
}

function line(d: PruneDecision): string {
  return `${d.action.padEnd(9)} ${d.entry.digest} ${formatSize(d.entry.bytes)} [${d.entry.tags.join(", ")}] ${d.reason}${d.created === undefined ? "" : ` (created ${d.created})`}`;
}

function sum(decisions: readonly PruneDecision[], action: PruneAction): number {
  return decisions.filter((d) => d.action === action).reduce((s, d) => s + d.entry.bytes, 0);
}

/**
 * `prune`: deletes the candidate manifests no release uses, keeping the newest N. Candidates are
 * what builds push before the gates (`candidate-<version>-<target>`); releases, `latest`, build
 * cache, evidence and `--protect`ed digests are never touched. On DOCR the delete goes through the
 * DigitalOcean API (DIGITALOCEAN_TOKEN); elsewhere through the registry's v2 DELETE. Blobs are freed
 * by the registry's garbage collection, not by the delete.
 */
const gate: Gate = {
  name: "prune",
  summary: "delete old candidate manifests, never a released or protected digest",
  usage: [
    "--repository HOST/REPO  registry repository, e.g. registry.digitalocean.com/acme/odoo",
    "--keep N                candidate manifests to keep (newest first)",
    "--protect sha256:...    a digest never to delete, e.g. a stack's deployed digest (repeat)",
    "--dry-run               report what would be deleted, delete nothing",
    "--timeout SECONDS       budget for the whole prune (default 600)",
    "DOCR: deletes through the DigitalOcean API with env DIGITALOCEAN_TOKEN",
  ],
  options: {
    repository: { type: "string" },
    keep: { type: "string" },
    protect: { type: "string", multiple: true },
    "dry-run": { type: "boolean" },
    timeout: { type: "string" },
  },
  async run(flags, ctx) {
    const { client, repository, name } = openRepository(requiredFlag(flags, "repository"), ctx.env);
    const keepText = requiredFlag(flags, "keep");
    const keep = Number(keepText);
    if (!Number.isInteger(keep) || keep < 0) {
      throw new UsageError(`--keep ${keepText}: expected a whole number (0 or more)`);
    }
    const protect = Array.isArray(flags.protect) ? flags.protect.map((p) => p.trim()) : [];
    for (const digest of protect) {
      if (!isDigest(digest)) throw new UsageError(`--protect ${digest}: expected sha256:<64 hex>`);
    }
    const dryRun = flags["dry-run"] === true;
    client.limitTo(pushBudgetMs(flags));

    ctx.progress(`reading the tags of ${name}`);
    const entries = await inventory(client, repository);
    const created = new Map<string, string>();
    for (const entry of entries) {
      if (!entry.tags.every((t) => t.startsWith("candidate-"))) continue;
      const when = await createdOf(client, repository, entry.digest);
      if (when !== undefined) created.set(entry.digest, when);
    }
    const decisions = decidePrune(entries, keep, protect, created);
    const doomed = decisions.filter((d) => d.action === "delete");
    let deleted = 0;
    if (!dryRun) {
      for (const d of doomed) {
        ctx.progress(`deleting ${name}@${d.entry.digest} [${d.entry.tags.join(", ")}]`);
        if (isDocr(client.host)) {
          await docrDeleteManifest({
            repository,
            digest: d.entry.digest,
            env: ctx.env,
            timeoutMs: client.timeoutMs,
          });
        } else {
          await client.deleteManifest(repository, d.entry.digest);
        }
        deleted += 1;
      }
    }
    const after = dryRun ? entries : entries.filter((e) => !doomed.some((d) => d.entry === e));
    const verb = dryRun ? "would delete" : "deleted";
    return pass(
      "prune",
      `${name}: ${verb} ${doomed.length} candidate manifest(s) (${formatSize(sum(decisions, "delete"))}), kept ${decisions.filter((d) => d.action === "keep").length}, protected ${decisions.filter((d) => d.action === "protected").length}`,
      {
        details: [
          ...decisions.map(line),
          `space by kind${dryRun ? "" : " after"}:`,
          ...describeSpace(spaceByKind(after)).map((l) => `  ${l}`),
          ...(deleted > 0 ? ["the registry frees the blobs when its garbage collection runs"] : []),
        ],
        findings: decisions.map((d) => ({
          digest: d.entry.digest,
          action: d.action,
          tags: d.entry.tags.join(","),
          bytes: d.entry.bytes,
          reason: d.reason,
          created: d.created,
        })),
        figures: {
          repository: name,
          keep,
          dryRun,
          deleted: dryRun ? 0 : deleted,
          deletedBytes: dryRun ? 0 : sum(decisions, "delete"),
          wouldDelete: doomed.length,
          kept: decisions.filter((d) => d.action === "keep").length,
          keptBytes: sum(decisions, "keep"),
          protected: decisions.filter((d) => d.action === "protected").length,
          protectedBytes: sum(decisions, "protected"),
        },
      },
    );
  },
};

export default gate;
