import type { FetchedManifest, RegistryClient } from "../registry/client";
import { sha256Digest } from "../registry/client";
import { OCI_MANIFEST } from "../registry/mediaTypes";
import type { Readiness } from "../report/model";
import { GateError } from "../result";
import {
  ARTIFACT_TYPES,
  CREATED_ANNOTATION,
  EMPTY_CONFIG,
  EMPTY_CONFIG_TYPE,
  EVIDENCE_KINDS,
  EvidenceKind,
  fallbackTag,
  KIND_ANNOTATION,
  kindOfArtifactType,
  TITLE_ANNOTATION,
} from "./kinds";

/** How an artifact is found again: the referrers API, or the `sha256-<hex>.<kind>` tag. */
export type EvidenceVia = "referrers" | "tag";

/** One file of an artifact to push. */
export interface EvidenceContent {
  title: string;
  mediaType: string;
  bytes: Buffer;
}

export interface AttachedEvidence {
  kind: EvidenceKind;
  /** The artifact manifest's digest. */
  digest: string;
  /** Bytes of the files it carries. */
  size: number;
  via: EvidenceVia;
}

/** An artifact bound to a digest, as `evidence list` shows it. */
export interface EvidenceItem extends AttachedEvidence {
  /** When it was attached (its `org.opencontainers.image.created` annotation), if it says. */
  created?: string;
}

interface ArtifactDoc {
  artifactType?: string;
  config?: { mediaType?: string };
  subject?: { digest?: string };
  annotations?: Record<string, string>;
  layers?: {
    mediaType?: string;
    digest?: string;
    size?: number;
    annotations?: Record<string, string>;
  }[];
}

function parseArtifact(body: Buffer): ArtifactDoc {
  try {
    const doc = JSON.parse(body.toString("utf8")) as unknown;
    return typeof doc === "object" && doc !== null ? (doc as ArtifactDoc) : {};
  } catch {
    return {};
  }
}

function layersOf(
  doc: ArtifactDoc,
): { mediaType: string; digest: string; size: number; title: string }[] {
  return (doc.layers ?? []).flatMap((layer, i) =>
    typeof layer.digest === "string"
      ? [
          {
            mediaType: layer.mediaType ?? "application/octet-stream",
            digest: layer.digest,
            size: typeof layer.size === "number" ? layer.size : 0,
            title: layer.annotations?.[TITLE_ANNOTATION] ?? `layer-${i}`,
          },
        ]
      : [],
  );
}

/**
 * Pushes one kind of evidence as an OCI artifact whose `subject` is the release manifest: the files
 * as blobs, OCI 1.1's empty config, then the artifact manifest by digest. A registry that answers
 * with `OCI-Subject` indexes it for its referrers API; any other also gets the fallback tag
 * `sha256-<hex>.<kind>` (which a later attach of the same kind moves to the newer artifact).
 */
export async function attachEvidence(
  client: RegistryClient,
  repository: string,
  subject: FetchedManifest,
  kind: EvidenceKind,
  files: readonly EvidenceContent[],
  created: Date,
): Promise<AttachedEvidence> {
  await client.pushBlob(repository, EMPTY_CONFIG);
  const layers = [];
  for (const file of files) {
    const digest = await client.pushBlob(repository, file.bytes);
    layers.push({
      mediaType: file.mediaType,
      digest,
      size: file.bytes.length,
      annotations: { [TITLE_ANNOTATION]: file.title },
    });
  }
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: ARTIFACT_TYPES[kind],
      config: {
        mediaType: EMPTY_CONFIG_TYPE,
        digest: sha256Digest(EMPTY_CONFIG),
        size: EMPTY_CONFIG.length,
      },
      layers,
      subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.body.length },
      annotations: { [CREATED_ANNOTATION]: created.toISOString(), [KIND_ANNOTATION]: kind },
    }),
  );
  const digest = sha256Digest(manifest);
  const answer = await client.putManifestAnswer(repository, digest, manifest, OCI_MANIFEST);
  let via: EvidenceVia = "referrers";
  if (answer.subject !== subject.digest) {
    await client.putManifest(repository, fallbackTag(subject.digest, kind), manifest, OCI_MANIFEST);
    via = "tag";
  }
  return { kind, digest, size: files.reduce((sum, f) => sum + f.bytes.length, 0), via };
}

/**
 * Every evidence artifact bound to a digest: the referrers API's answer where the registry has one,
 * plus the artifacts under the fallback tags (an artifact found both ways is listed once).
 */
export async function listEvidence(
  client: RegistryClient,
  repository: string,
  digest: string,
): Promise<EvidenceItem[]> {
  const items = new Map<string, EvidenceItem>();
  const referrers = await client.listReferrers(repository, digest);
  for (const entry of referrers ?? []) {
    const kind = kindOfArtifactType(
      typeof entry.artifactType === "string" ? entry.artifactType : "",
    );
    if (kind === undefined || typeof entry.digest !== "string") continue;
    const artifact = await client.getManifest(repository, entry.digest);
    if (!artifact.found) continue;
    items.set(entry.digest, itemOf(kind, artifact, "referrers"));
  }
  const prefix = `${digest.replace(":", "-")}.`;
  const tags = (await client.listTags(repository)).filter((t) => t.startsWith(prefix));
  for (const tag of tags) {
    const kind = tag.slice(prefix.length);
    if (!(EVIDENCE_KINDS as readonly string[]).includes(kind)) continue;
    const artifact = await client.getManifest(repository, tag);
    if (!artifact.found || items.has(artifact.digest)) continue;
    // Only an artifact that names this digest as its subject is evidence of it.
    if (parseArtifact(artifact.body).subject?.digest !== digest) continue;
    items.set(artifact.digest, itemOf(kind as EvidenceKind, artifact, "tag"));
  }
  return [...items.values()].sort(
    (a, b) =>
      EVIDENCE_KINDS.indexOf(a.kind) - EVIDENCE_KINDS.indexOf(b.kind) ||
      (b.created ?? "").localeCompare(a.created ?? ""),
  );
}

function itemOf(kind: EvidenceKind, artifact: FetchedManifest, via: EvidenceVia): EvidenceItem {
  const doc = parseArtifact(artifact.body);
  const created = doc.annotations?.[CREATED_ANNOTATION];
  return {
    kind,
    digest: artifact.digest,
    size: layersOf(doc).reduce((sum, l) => sum + l.size, 0),
    via,
    ...(created === undefined ? {} : { created }),
  };
}

/** The files of the newest artifact of a kind: title → bytes. */
export async function fetchEvidence(
  client: RegistryClient,
  repository: string,
  digest: string,
  kind: EvidenceKind,
): Promise<{ item: EvidenceItem; files: { title: string; bytes: Buffer }[] } | undefined> {
  const item = (await listEvidence(client, repository, digest)).find((i) => i.kind === kind);
  if (item === undefined) return undefined;
  return { item, files: await filesOf(client, repository, item.digest) };
}

async function filesOf(
  client: RegistryClient,
  repository: string,
  artifactDigest: string,
): Promise<{ title: string; mediaType: string; bytes: Buffer }[]> {
  const artifact = await client.getManifest(repository, artifactDigest);
  if (!artifact.found) {
    throw new GateError("MANIFEST_ERROR", `the evidence ${repository}@${artifactDigest} is gone`);
  }
  const files = [];
  for (const layer of layersOf(parseArtifact(artifact.body))) {
    files.push({
      title: layer.title,
      mediaType: layer.mediaType,
      bytes: await client.getBlob(repository, layer.digest),
    });
  }
  return files;
}

/** What is known of a digest's evidence: the kinds attached and what its release report said. */
export interface EvidenceSummary {
  kinds: EvidenceKind[];
  /** The release report's verdict; undefined when no report is attached or it names none. */
  verdict?: Readiness;
  /** The report artifact read, when there is one. */
  report?: string;
}

/**
 * `readEvidence`: the kinds attached to a digest and the verdict of its release report (the JSON
 * file of the `report` artifact: the report's `readiness`, or a report gate result's
 * `figures.readiness`). Used by `promote --require-evidence` and `resolve --require-evidence`.
 */
export async function readEvidence(
  client: RegistryClient,
  repository: string,
  digest: string,
): Promise<EvidenceSummary> {
  const items = await listEvidence(client, repository, digest);
  const kinds = [...new Set(items.map((i) => i.kind))];
  const report = items.find((i) => i.kind === "report");
  if (report === undefined) return { kinds };
  for (const file of await filesOf(client, repository, report.digest)) {
    if (!file.mediaType.includes("json")) continue;
    const verdict = readinessOf(file.bytes);
    if (verdict !== undefined) return { kinds, verdict, report: report.digest };
  }
  return { kinds, report: report.digest };
}

function readinessOf(bytes: Buffer): Readiness | undefined {
  try {
    const doc = JSON.parse(bytes.toString("utf8")) as {
      readiness?: unknown;
      figures?: { readiness?: unknown };
    };
    const value = doc.readiness ?? doc.figures?.readiness;
    return value === "READY" || value === "NOT READY" ? value : undefined;
  } catch {
    return undefined;
  }
}
