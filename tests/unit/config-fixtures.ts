import { readFileSync } from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";

/** Shared by the config tests: the committed stack files, read as Pulumi would hand them over. */

export const ROOT = path.resolve(__dirname, "..", "..");
export const STACKS = ["dev", "prod", "local"] as const;
export type StackName = (typeof STACKS)[number];

/** The `config:` map of `Pulumi.<stack>.yaml`, keys as written (`slipway:app`). */
export function stackFile(stack: string): Record<string, unknown> {
  const doc = parse(readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8")) as {
    config?: Record<string, unknown>;
  };
  return doc.config ?? {};
}

/** The stack's `slipway:*` keys without the prefix: what `parseReleaseConfig` takes. A fresh copy. */
export function rawConfig(stack: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(stackFile(stack))) {
    if (key.startsWith("slipway:")) out[key.slice("slipway:".length)] = structuredClone(value);
  }
  return out;
}

/**
 * The stack file as the engine passes config to a program (`pulumi.runtime.setAllConfig`): every
 * value a string, objects as JSON.
 */
export function engineConfig(stack: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(stackFile(stack))) {
    out[key] = typeof value === "string" ? value : JSON.stringify(value);
  }
  return out;
}

/** A copy of `raw` with `dotted` set to `value` (`undefined` deletes it); objects on the way are made. */
export function withValue(
  raw: Record<string, unknown>,
  dotted: string,
  value: unknown,
): Record<string, unknown> {
  const copy = structuredClone(raw);
  const keys = dotted.split(".");
  let node: Record<string, unknown> = copy;
  for (const key of keys.slice(0, -1)) {
    if (node[key] === null || typeof node[key] !== "object") node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  const last = keys[keys.length - 1];
  if (value === undefined) delete node[last];
  else node[last] = value;
  return copy;
}

/** Applies several `withValue` changes in order. */
export function withValues(
  raw: Record<string, unknown>,
  changes: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  return Object.entries(changes).reduce(
    (acc, [dotted, value]) => withValue(acc, dotted, value),
    raw,
  );
}

export const DIGEST = "sha256:9e25f400253a5fa3191813d6a67eb801ca1e6f012b3bd2588fa6920b59e3eba6";
