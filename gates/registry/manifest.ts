import { GateError } from "../result";
import {
  DOCKER_MANIFEST,
  IMAGE_MANIFEST_TYPES,
  INDEX_MANIFEST_TYPES,
  OCI_INDEX,
  OCI_MANIFEST,
} from "./mediaTypes";

/** A platform entry of an index (manifest list). */
export interface PlatformManifest {
  digest: string;
  mediaType?: string;
  /** `os/architecture[/variant]`, or `unknown/unknown` for attestations. */
  platform?: string;
  /** True for BuildKit's attestation manifests (provenance, SBOM): not a runnable image. */
  attestation: boolean;
}

/** A parsed manifest: one image, or an index of per-platform images. */
export type Manifest =
  | { kind: "image"; mediaType: string; configDigest: string; layers: number; size: number }
  | { kind: "index"; mediaType: string; manifests: PlatformManifest[] };

function manifestError(message: string, details: string[] = []): GateError {
  return new GateError("MANIFEST_ERROR", message, details);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function digestOf(value: unknown, where: string): string {
  if (!isRecord(value) || typeof value.digest !== "string" || !value.digest.includes(":")) {
    throw manifestError(`the manifest's ${where} has no digest`);
  }
  return value.digest;
}

/** The media type a manifest declares in its body, else the one of the response, else inferred. */
function mediaTypeOf(doc: Record<string, unknown>, contentType: string | undefined): string {
  if (typeof doc.mediaType === "string" && doc.mediaType.length > 0) return doc.mediaType;
  const header = contentType?.split(";")[0]?.trim();
  if (header !== undefined && [...IMAGE_MANIFEST_TYPES, ...INDEX_MANIFEST_TYPES].includes(header)) {
    return header;
  }
  // OCI allows omitting mediaType in the body: infer from the shape.
  return Array.isArray(doc.manifests) ? OCI_INDEX : OCI_MANIFEST;
}

/**
 * Parses a manifest body. Anything but a schema 2 Docker manifest/list or an OCI manifest/index is a
 * MANIFEST_ERROR (schema1 manifests are refused: their digests are not the ones `docker push` reports).
 */
export function parseManifest(body: Buffer, contentType?: string): Manifest {
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString("utf8"));
  } catch (err) {
    throw manifestError(`the registry returned a manifest that is not JSON`, [
      (err as Error).message,
    ]);
  }
  if (!isRecord(doc)) throw manifestError("the registry returned a manifest that is not an object");
  if (doc.schemaVersion !== 2) {
    throw manifestError(
      `unsupported manifest schemaVersion ${JSON.stringify(doc.schemaVersion)} (expected 2)`,
      ["schema1 manifests are obsolete; re-push the image with a current Docker or BuildKit"],
    );
  }
  const mediaType = mediaTypeOf(doc, contentType);
  if (INDEX_MANIFEST_TYPES.includes(mediaType)) {
    if (!Array.isArray(doc.manifests)) throw manifestError("the index has no manifests array");
    const manifests = doc.manifests.map((entry, i): PlatformManifest => {
      const digest = digestOf(entry, `manifests[${i}]`);
      const record = entry as Record<string, unknown>;
      const platform = isRecord(record.platform) ? record.platform : undefined;
      const os = typeof platform?.os === "string" ? platform.os : undefined;
      const arch = typeof platform?.architecture === "string" ? platform.architecture : undefined;
      const variant = typeof platform?.variant === "string" ? `/${platform.variant}` : "";
      const annotations = isRecord(record.annotations) ? record.annotations : {};
      return {
        digest,
        ...(typeof record.mediaType === "string" ? { mediaType: record.mediaType } : {}),
        ...(os !== undefined && arch !== undefined ? { platform: `${os}/${arch}${variant}` } : {}),
        attestation:
          annotations["vnd.docker.reference.type"] === "attestation-manifest" ||
          (os === "unknown" && arch === "unknown"),
      };
    });
    return { kind: "index", mediaType, manifests };
  }
  if (IMAGE_MANIFEST_TYPES.includes(mediaType)) {
    const configDigest = digestOf(doc.config, "config");
    const layers = Array.isArray(doc.layers) ? doc.layers : [];
    const size = layers.reduce<number>(
      (sum, layer) => sum + (isRecord(layer) && typeof layer.size === "number" ? layer.size : 0),
      0,
    );
    return { kind: "image", mediaType, configDigest, layers: layers.length, size };
  }
  throw manifestError(`unsupported manifest media type "${mediaType}"`, [
    `expected ${DOCKER_MANIFEST}, ${OCI_MANIFEST} or an index of them`,
  ]);
}
