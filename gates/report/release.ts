/**
 * `release.json`: what the pipeline knows about the release that no gate reports (which image it is,
 * from which base, what it replaces). Written by the pipeline into the results directory beside the
 * gates' `<gate>.json` files; every field but `version` is optional, so a release that stopped early
 * still gets a report of what is known.
 */

/**
 * `release`: build, gate, promote, deploy. `promotion`: promote what another stack released (re-scan,
 * promote, deploy). `rollback`: deploy a pinned earlier image, build nothing.
 */
export type ReleaseMode = "release" | "promotion" | "rollback";

export interface ReleaseInfo {
  /** The version tag of this release (`release.version`), or the pin of a rollback. */
  version: string;
  /** `release` (default) or `rollback`. Decides which gates the release needs (see `expected`). */
  mode?: ReleaseMode;
  /** The stack (`dev`, `prod`, `local`): names the rollback command. */
  stack?: string;
  /** The pushed image as people pull it: `registry.digitalocean.com/acme/odoo:v1.4.2`. */
  image?: string;
  /** The released manifest digest (`sha256:...`): what was promoted. Absent until it is. */
  digest?: string;
  /** The digest the gates judged: the runtime candidate, or the promoted stack's release. */
  candidateDigest?: string;
  /** The digest the deployment runs. With `digest` and `candidateDigest`: one digest end to end. */
  deployedDigest?: string;
  /** Promotion mode: the stack whose release was promoted. */
  promotedFrom?: string;
  /** The base image as pinned: `python:3.11-slim-bullseye@sha256:...`. */
  baseImage?: string;
  /** The release this one replaces (tag or digest): the rollback target. `--previous` overrides it. */
  previous?: string;
  /** The source commit. */
  commit?: string;
  /**
   * The gates this release needs, in pipeline order. Default: preflight, lint, base, test, smoke, scan,
   * promote, health for a release; scan, promote, health for a promotion; resolve, health for a
   * rollback.
   */
  expected?: string[];
  /**
   * Gates disabled by configuration, with the reason (`{"scan": "scan.enabled is false"}`): they are
   * listed as skipped, not as blockers. A `<gate>.skipped` file in the results directory says the same.
   */
  skipped?: Record<string, string>;
  /** Milliseconds of the pipeline stages no gate times (`build-builder`, `push`, `deploy`, ...). */
  stages?: Record<string, number>;
}

export const RELEASE_GATES = [
  "preflight",
  "lint",
  "base",
  "test",
  "smoke",
  "scan",
  "promote",
  "health",
] as const;

export const PROMOTION_GATES = ["scan", "promote", "health"] as const;

export const ROLLBACK_GATES = ["resolve", "health"] as const;

/** The gates a release needs: what release.json names, else the mode's default. */
export function expectedGates(info: ReleaseInfo | undefined): string[] {
  if (info?.expected !== undefined) return [...info.expected];
  if (info?.mode === "rollback") return [...ROLLBACK_GATES];
  return info?.mode === "promotion" ? [...PROMOTION_GATES] : [...RELEASE_GATES];
}

/** The problems of a parsed release.json, each with its field; empty when it is well formed. */
function problemsOf(value: unknown): string[] {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return ["expected a JSON object"];
  }
  const v = value as Record<string, unknown>;
  const problems: string[] = [];
  const isString = (x: unknown): boolean => typeof x === "string" && x.length > 0;
  const optionalString = (key: string): void => {
    if (v[key] !== undefined && !isString(v[key]))
      problems.push(`${key}: expected a non-empty string`);
  };
  if (!isString(v.version)) problems.push("version: expected a non-empty string");
  for (const key of ["stack", "image", "baseImage", "previous", "commit", "promotedFrom"]) {
    optionalString(key);
  }
  if (v.mode !== undefined && !["release", "promotion", "rollback"].includes(String(v.mode))) {
    problems.push('mode: expected "release", "promotion" or "rollback"');
  }
  for (const key of ["digest", "candidateDigest", "deployedDigest"]) {
    const d = v[key];
    if (d !== undefined && !(typeof d === "string" && /^sha256:[a-f0-9]{64}$/.test(d))) {
      problems.push(`${key}: expected sha256:<64 hex>`);
    }
  }
  if (v.expected !== undefined && !(Array.isArray(v.expected) && v.expected.every(isString))) {
    problems.push("expected: expected an array of gate names");
  }
  const record = (key: string, ok: (x: unknown) => boolean, what: string): void => {
    const r = v[key];
    if (r === undefined) return;
    if (typeof r !== "object" || r === null || Array.isArray(r) || !Object.values(r).every(ok)) {
      problems.push(`${key}: expected an object of ${what}`);
    }
  };
  record("skipped", isString, "reasons (strings)");
  record("stages", (x) => typeof x === "number" && Number.isFinite(x) && x >= 0, "milliseconds");
  return problems;
}

/**
 * Parses JSON text and checks its shape with `problemsOf`. Returns the problems instead of throwing, so the
 * caller can name the file they came from.
 */
export function checkedJson(
  text: string,
  problemsOf: (value: unknown) => string[],
): { ok: true; value: unknown } | { ok: false; problems: string[] } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, problems: [`not JSON: ${(err as Error).message}`] };
  }
  const problems = problemsOf(value);
  return problems.length > 0 ? { ok: false, problems } : { ok: true, value };
}

/**
 * Parses release.json. Returns the problems instead of throwing: the caller names the file.
 * Unknown fields are ignored (a newer pipeline may add some).
 */
export function parseReleaseInfo(
  text: string,
): { ok: true; info: ReleaseInfo } | { ok: false; problems: string[] } {
  const checked = checkedJson(text, problemsOf);
  if (!checked.ok) return checked;
  const v = checked.value as ReleaseInfo;
  const info: ReleaseInfo = { version: v.version };
  for (const key of [
    "mode",
    "stack",
    "image",
    "digest",
    "candidateDigest",
    "deployedDigest",
    "promotedFrom",
    "baseImage",
    "previous",
    "commit",
  ] as const) {
    if (v[key] !== undefined) (info as unknown as Record<string, unknown>)[key] = v[key];
  }
  if (v.expected !== undefined) info.expected = [...v.expected];
  if (v.skipped !== undefined) info.skipped = { ...v.skipped };
  if (v.stages !== undefined) info.stages = { ...v.stages };
  return { ok: true, info };
}

/** release.json as the pipeline writes it: stable key order, so the same release gives the same file. */
export function serializeReleaseInfo(info: ReleaseInfo): string {
  const ordered: Record<string, unknown> = {};
  for (const key of [
    "version",
    "mode",
    "stack",
    "image",
    "digest",
    "candidateDigest",
    "deployedDigest",
    "promotedFrom",
    "baseImage",
    "previous",
    "commit",
    "expected",
    "skipped",
    "stages",
  ] as const) {
    if (info[key] !== undefined) ordered[key] = info[key];
  }
  return JSON.stringify(ordered, null, 2) + "\n";
}

/**
 * `gate=reason` pairs (the report gate's `--skipped`) → `{ gate: reason }`. Returns the problems
 * instead of throwing: the caller names the flag.
 */
export function parseSkipped(
  pairs: readonly string[],
): { ok: true; skipped: Record<string, string> } | { ok: false; problems: string[] } {
  const skipped: Record<string, string> = {};
  const problems: string[] = [];
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    const gate = eq < 0 ? "" : pair.slice(0, eq).trim();
    const reason = eq < 0 ? "" : pair.slice(eq + 1).trim();
    if (!/^[a-z][a-z0-9-]*$/.test(gate) || reason === "") {
      problems.push(`"${pair}": expected gate=reason, e.g. test='tests.enabled is false'`);
    } else if (skipped[gate] !== undefined) {
      problems.push(`"${pair}": ${gate} is listed twice`);
    } else {
      skipped[gate] = reason;
    }
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, skipped };
}

/**
 * The release.json a caller describes field by field (the report gate's flags), checked by the very
 * parser that reads the file back, so what is written is always readable.
 */
export function releaseInfoOf(
  fields: Partial<Record<keyof ReleaseInfo, unknown>>,
): { ok: true; info: ReleaseInfo } | { ok: false; problems: string[] } {
  const value: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(fields)) if (v !== undefined) value[key] = v;
  return parseReleaseInfo(JSON.stringify(value));
}
