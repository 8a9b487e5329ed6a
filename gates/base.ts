import type { Gate, GateFlags } from "./gate";
import { formatImageRef, ImageRef, isDigest, parseImageRef } from "./imageRef";
import { clientFor } from "./registry/open";
import { INDEX_MANIFEST_TYPES } from "./registry/mediaTypes";
import { ErrorCode } from "./codes";
import { block, GateError, GateResult, pass, UsageError, warn } from "./result";

/** A pinned base reference: `NAME:TAG@sha256:...`, with the text before `@` kept as written. */
export interface PinnedBase {
  ref: ImageRef & { tag: string; digest: string };
  /** `python:3.11-slim-bullseye` as the user wrote it (the next pin keeps their spelling). */
  name: string;
}

/** Parses `--ref`: it must name a tag (what to compare against) and a digest (what is pinned). */
export function parsePinnedBase(text: string): PinnedBase {
  let ref: ImageRef;
  try {
    ref = parseImageRef(text);
  } catch (err) {
    throw new UsageError(`--ref: ${(err as Error).message}`);
  }
  if (ref.digest === undefined) {
    throw new UsageError(`--ref ${text} is not pinned: expected NAME:TAG@sha256:<digest>`);
  }
  if (ref.tag === undefined) {
    throw new UsageError(
      `--ref ${text} has no tag: drift is measured against what the tag resolves to (NAME:TAG@sha256:...)`,
    );
  }
  const { tag, digest } = ref;
  return { ref: { ...ref, tag, digest }, name: text.slice(0, text.indexOf("@")) };
}

/** The verdict for a pinned digest against the digest its tag resolves to now. */
export function compareBase(base: PinnedBase, current: string, strict: boolean): GateResult {
  const pinned = base.ref.digest;
  const figures = { ref: `${base.name}@${pinned}`, pinned, current, strict };
  if (current === pinned) {
    return pass("base", `${base.name} still resolves to the pinned ${pinned}`, { figures });
  }
  const next = `${base.name}@${current}`;
  const make = strict ? block : warn;
  return make("base", "BASE_IMAGE_DRIFT", `${base.name} now resolves to ${current}`, {
    details: [
      `pinned:   ${pinned}`,
      `current:  ${current}`,
      `pin next: ${next}`,
      ...(strict ? [] : ["a warning only (pass --strict to block the release on drift)"]),
    ],
    figures: { ...figures, next },
  });
}

const REGISTRY_CODES: ErrorCode[] = [
  "REGISTRY_UNAVAILABLE",
  "NETWORK_TIMEOUT",
  "REGISTRY_AUTH_FAILURE",
  "MANIFEST_ERROR",
];

function booleanFlag(flags: GateFlags, name: string): boolean {
  return flags[name] === true;
}

/**
 * `base`: has the base image's tag moved since its digest was pinned? Drift is a warning (exit 0)
 * unless `--strict`. When the registry cannot be asked, the drift is unknown: a warning naming why,
 * blocking only with `--strict` (a release must not depend on Docker Hub being up; a strict one may).
 */
const gate: Gate = {
  name: "base",
  summary: "base image drift: pinned digest vs what its tag resolves to now",
  usage: [
    "--ref NAME:TAG@sha256:...  the pinned base image",
    "--current sha256:...       the digest the tag resolves to now (default: ask its registry)",
    "--strict                   drift (or a registry that cannot be asked) blocks instead of warning",
  ],
  options: {
    ref: { type: "string" },
    current: { type: "string" },
    strict: { type: "boolean" },
  },
  async run(flags, ctx) {
    if (typeof flags.ref !== "string" || flags.ref.trim() === "") {
      throw new UsageError("--ref is required");
    }
    const base = parsePinnedBase(flags.ref.trim());
    const strict = booleanFlag(flags, "strict");
    if (typeof flags.current === "string") {
      const current = flags.current.trim();
      if (!isDigest(current))
        throw new UsageError(`--current ${current}: expected sha256:<64 hex>`);
      return compareBase(base, current, strict);
    }

    const { registry, repository, tag, digest } = base.ref;
    const where = formatImageRef({ registry, repository, tag });
    ctx.progress(`resolving ${where}`);
    const client = clientFor(registry, ctx.env);
    try {
      const head = await client.headManifest(repository, tag);
      if (!head.found) {
        const make = strict ? block : warn;
        return make("base", "BASE_IMAGE_DRIFT", `${base.name} no longer exists in ${registry}`, {
          details: [
            `the pinned ${digest} cannot be compared with its tag: the tag is gone`,
            `registry said: ${head.reason}`,
            "choose a current tag of the image and pin its digest",
          ],
          figures: { ref: `${base.name}@${digest}`, pinned: digest, strict },
        });
      }
      if (head.digest !== digest && INDEX_MANIFEST_TYPES.includes(head.mediaType)) {
        // Pinned to one platform's manifest of the current multi-platform index: no drift.
        const index = await client.getManifest(repository, head.digest);
        const entry =
          index.found && index.manifest.kind === "index"
            ? index.manifest.manifests.find((m) => m.digest === digest)
            : undefined;
        if (entry !== undefined) {
          return pass(
            "base",
            `${base.name} still holds the pinned ${digest} (its ${entry.platform ?? "platform"} manifest)`,
            {
              figures: {
                ref: `${base.name}@${digest}`,
                pinned: digest,
                current: head.digest,
                strict,
              },
            },
          );
        }
      }
      return compareBase(base, head.digest, strict);
    } catch (err) {
      if (!(err instanceof GateError) || !REGISTRY_CODES.includes(err.code) || strict) throw err;
      return warn("base", err.code, `drift of ${base.name} could not be checked: ${err.message}`, {
        details: [
          ...err.details,
          "the pinned digest is used as is; pass --strict to block instead",
        ],
        figures: { ref: `${base.name}@${digest}`, pinned: digest, strict, checked: false },
      });
    }
  },
};

export default gate;
