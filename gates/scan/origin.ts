import type { ScanFinding } from "./report";

/**
 * Base image or app: where a finding comes from, "where the report tells". Trivy names the layer each
 * finding was found in (`Layer.DiffID`); the base image's own layers are its `RootFS.Layers` (`docker
 * image inspect`), which are DiffIDs too, and an image built `FROM` it starts with exactly those
 * layers. So a finding in one of the base's layers is the base's (moving the pin fixes it), any other
 * layer is the app's (the Dockerfile's own steps), and a finding without a layer (a repository scan,
 * an older report) or a base that could not be inspected is `unknown`.
 *
 * Attribution only labels and counts: the verdict never depends on it.
 */

export type Origin = "base" | "app" | "unknown";

export const ORIGINS: readonly Origin[] = ["base", "app", "unknown"];

/** What the gate learnt of the base image (`--base-image`). */
export type BaseLayers =
  | {
      ref: string;
      /** The base image's layer DiffIDs, bottom first. */
      layers: string[];
      error?: undefined;
    }
  | {
      ref: string;
      layers?: undefined;
      /** Why the layers could not be read, in one line (`docker image inspect exited 1: ...`). */
      error: string;
    };

const DIFF_ID = /^sha256:[a-f0-9]{64}$/;

/**
 * Reads what `docker image inspect --format '{{json .RootFS.Layers}}' REF` printed: a JSON array of
 * `sha256:` DiffIDs. Returns the problem as text when it is anything else (an image without layers
 * included: nothing could be attributed to it).
 */
export function parseRootFsLayers(stdout: string): { layers: string[] } | { problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(stdout.trim());
  } catch {
    return { problem: `unexpected output of docker image inspect: ${excerpt(stdout)}` };
  }
  if (value === null || (Array.isArray(value) && value.length === 0)) {
    return { problem: `the image lists no layers (RootFS.Layers is ${excerpt(stdout)})` };
  }
  if (!Array.isArray(value)) {
    return { problem: `unexpected output of docker image inspect: ${excerpt(stdout)}` };
  }
  const bad = value.find((x) => typeof x !== "string" || !DIFF_ID.test(x));
  if (bad !== undefined) {
    return { problem: `RootFS.Layers holds ${JSON.stringify(bad)}, not a sha256 DiffID` };
  }
  return { layers: value as string[] };
}

function excerpt(text: string): string {
  const t = text.trim();
  if (t === "") return "(empty)";
  return t.length > 80 ? `${t.slice(0, 80)}...` : t;
}

/** The origin of one finding, given the base image's layers (undefined: they could not be read). */
export function originOf(f: ScanFinding, baseLayers: ReadonlySet<string> | undefined): Origin {
  if (baseLayers === undefined || f.layer === "") return "unknown";
  return baseLayers.has(f.layer) ? "base" : "app";
}

/** `originOf` bound to what was learnt of the base (one set, built once per run). */
export function attributor(base: BaseLayers): (f: ScanFinding) => Origin {
  const layers = base.layers === undefined ? undefined : new Set(base.layers);
  return (f) => originOf(f, layers);
}

/**
 * How the base's layers sit in the scanned image (`Metadata.DiffIDs`): `prefix` when the image starts
 * with them (it was built on this base), `not-prefix` when it does not (built on another base, or the
 * report is of another image: only findings in layers it shares with the base are `base`),
 * `unknown` when the report lists no layers.
 */
export function layerRelation(
  imageDiffIds: readonly string[],
  baseLayers: readonly string[],
): "prefix" | "not-prefix" | "unknown" {
  if (imageDiffIds.length === 0) return "unknown";
  if (baseLayers.length > imageDiffIds.length) return "not-prefix";
  return baseLayers.every((d, i) => imageDiffIds[i] === d) ? "prefix" : "not-prefix";
}

export type OriginCounts = Record<Origin, number>;

/** Counts by origin. */
export function countOrigins(origins: Iterable<Origin>): OriginCounts {
  const counts: OriginCounts = { base: 0, app: 0, unknown: 0 };
  for (const o of origins) counts[o]++;
  return counts;
}
