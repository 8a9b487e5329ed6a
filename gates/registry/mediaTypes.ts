/** Manifest media types of the OCI Distribution API that Slipway reads and writes. */
export const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
export const DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const OCI_INDEX = "application/vnd.oci.image.index.v1+json";

/** Single-image manifests: they name a config blob (whose digest is the image ID) and layers. */
export const IMAGE_MANIFEST_TYPES: readonly string[] = [DOCKER_MANIFEST, OCI_MANIFEST];
/** Multi-platform indexes: they name one image manifest per platform. */
export const INDEX_MANIFEST_TYPES: readonly string[] = [DOCKER_MANIFEST_LIST, OCI_INDEX];

/**
 * The Accept header for every manifest request. Without it a registry may answer with (or convert to)
 * the old schema1 format, whose digest differs from the one `docker push` printed: the digest a
 * registry reports depends on what was asked for.
 */
export const MANIFEST_ACCEPT = [
  OCI_INDEX,
  DOCKER_MANIFEST_LIST,
  OCI_MANIFEST,
  DOCKER_MANIFEST,
].join(", ");
