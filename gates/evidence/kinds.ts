import { basename } from "node:path";
import { UsageError } from "../result";

/**
 * The kinds of evidence a release carries, each pushed as an OCI artifact whose `subject` is the
 * release manifest: whoever later promotes or rolls back to that digest reads what was proven of it.
 */
export const EVIDENCE_KINDS = ["sbom", "trivy", "gates", "tests", "coverage", "report"] as const;
export type EvidenceKind = (typeof EVIDENCE_KINDS)[number];

/** The `artifactType` of each kind's artifact manifest (what `evidence list` and referrers filter on). */
export const ARTIFACT_TYPES: Readonly<Record<EvidenceKind, string>> = {
  sbom: "application/vnd.cyclonedx+json",
  trivy: "application/vnd.slipway.evidence.trivy.v1+json",
  gates: "application/vnd.slipway.evidence.gates.v1+json",
  tests: "application/vnd.slipway.evidence.junit.v1+xml",
  coverage: "application/vnd.slipway.evidence.coverage.v1+xml",
  report: "application/vnd.slipway.evidence.report.v1+json",
};

/** Annotation keys on artifacts and their layers. */
export const TITLE_ANNOTATION = "org.opencontainers.image.title";
export const CREATED_ANNOTATION = "org.opencontainers.image.created";
export const KIND_ANNOTATION = "dev.slipway.evidence.kind";

/** OCI 1.1's empty config (`{}`) for artifacts that have no config of their own. */
export const EMPTY_CONFIG_TYPE = "application/vnd.oci.empty.v1+json";
export const EMPTY_CONFIG = Buffer.from("{}");

export function isEvidenceKind(value: string): value is EvidenceKind {
  return (EVIDENCE_KINDS as readonly string[]).includes(value);
}

export function kindOfArtifactType(artifactType: string): EvidenceKind | undefined {
  return EVIDENCE_KINDS.find((k) => ARTIFACT_TYPES[k] === artifactType);
}

/** A file's layer media type, from its extension: the report is JSON and Markdown. */
export function layerMediaType(kind: EvidenceKind, path: string): string {
  const name = path.toLowerCase();
  if (name.endsWith(".md")) return "text/markdown";
  if (name.endsWith(".xml")) return "application/xml";
  if (kind === "sbom") return "application/vnd.cyclonedx+json";
  if (name.endsWith(".json")) return "application/json";
  return "application/octet-stream";
}

/**
 * The tag-schema fallback for registries without the referrers API: `sha256-<hex>.<kind>` names
 * the artifact of that kind bound to that digest (Debian's docker-registry 2.8 has no referrers API).
 */
export function fallbackTag(digest: string, kind: EvidenceKind): string {
  return `${digest.replace(":", "-")}.${kind}`;
}

export interface EvidenceFile {
  kind: EvidenceKind;
  path: string;
  /** The file name in the artifact (its layer's title), what `evidence fetch` writes. */
  title: string;
}

/** Parses `--file KIND=PATH` values; a kind given twice (the report's JSON and Markdown) gets both. */
export function parseEvidenceFiles(values: readonly string[]): EvidenceFile[] {
  if (values.length === 0) throw new UsageError("--file KIND=PATH is required (at least one)");
  return values.map((value) => {
    const at = value.indexOf("=");
    const kind = at < 0 ? "" : value.slice(0, at);
    const path = at < 0 ? "" : value.slice(at + 1);
    if (!isEvidenceKind(kind) || path === "") {
      throw new UsageError(
        `--file ${value}: expected KIND=PATH with KIND one of ${EVIDENCE_KINDS.join(", ")}`,
      );
    }
    return { kind, path, title: basename(path) };
  });
}
