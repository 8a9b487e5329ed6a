import type { GateFlags } from "../gate";
import { formatImageRef, isDigest, parseImageRef } from "../imageRef";
import type { RegistryClient } from "../registry/client";
import { clientFor, openRepository } from "../registry/open";
import { UsageError } from "../result";

export interface EvidenceTarget {
  client: RegistryClient;
  repository: string;
  /** `HOST/REPO`, for messages. */
  name: string;
  digest: string;
}

/** The flags every evidence command takes: `--image REPO@DIGEST`, or `--repository` + `--digest`. */
export const TARGET_OPTIONS = {
  image: { type: "string" },
  repository: { type: "string" },
  digest: { type: "string" },
} as const;

export const TARGET_USAGE = [
  "REPO@DIGEST | --image HOST/REPO@sha256:...  the release manifest the evidence is bound to",
  "  (or --repository HOST/REPO --digest sha256:...)",
];

/** The manifest the evidence is about, from `--image` or `--repository` + `--digest`. */
export function evidenceTarget(flags: GateFlags, env: NodeJS.ProcessEnv): EvidenceTarget {
  const image = typeof flags.image === "string" ? flags.image.trim() : "";
  if (image !== "") {
    let ref;
    try {
      ref = parseImageRef(image);
    } catch (err) {
      throw new UsageError(`${image}: ${(err as Error).message}`);
    }
    if (ref.digest === undefined || ref.tag !== undefined) {
      throw new UsageError(`${image}: expected HOST/REPO@sha256:<64 hex> (a digest, no tag)`);
    }
    return {
      client: clientFor(ref.registry, env),
      repository: ref.repository,
      name: formatImageRef({ registry: ref.registry, repository: ref.repository }),
      digest: ref.digest,
    };
  }
  const repositoryFlag = typeof flags.repository === "string" ? flags.repository : "";
  const digest = typeof flags.digest === "string" ? flags.digest.trim() : "";
  if (repositoryFlag === "" || digest === "") {
    throw new UsageError("give REPO@DIGEST (or --repository HOST/REPO --digest sha256:...)");
  }
  if (!isDigest(digest)) throw new UsageError(`--digest ${digest}: expected sha256:<64 hex>`);
  return { ...openRepository(repositoryFlag, env), digest };
}
