import { formatImageRef, parseImageRef } from "../imageRef";
import type { GateFlags } from "../gate";
import { UsageError } from "../result";
import { RegistryClient, DEFAULT_TIMEOUT_MS } from "./client";
import { credentialsFor } from "./credentials";

/** Per-request timeout override in seconds (slow links, far registries). */
export const TIMEOUT_ENV = "SLIPWAY_REGISTRY_TIMEOUT";

/** The request timeout from env SLIPWAY_REGISTRY_TIMEOUT (seconds), default 30 s. */
export function timeoutFromEnv(env: NodeJS.ProcessEnv): number {
  const raw = env[TIMEOUT_ENV];
  if (raw === undefined || raw.trim() === "") return DEFAULT_TIMEOUT_MS;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new UsageError(`${TIMEOUT_ENV}=${raw}: expected a positive number of seconds`);
  }
  return Math.round(seconds * 1000);
}

/** A client for a registry host, with the credentials and timeout the environment gives. */
export function clientFor(host: string, env: NodeJS.ProcessEnv): RegistryClient {
  return new RegistryClient({
    host,
    credentials: credentialsFor(host, env),
    timeoutMs: timeoutFromEnv(env),
  });
}

export interface OpenRepository {
  client: RegistryClient;
  /** Path in the registry: `acme/odoo`, `library/python`. */
  repository: string;
  /** `HOST/REPO` normalised, for messages. */
  name: string;
}

/** Parses `--repository HOST/REPO` (no tag, no digest) and opens a client for it. */
export function openRepository(flag: string, env: NodeJS.ProcessEnv): OpenRepository {
  let ref;
  try {
    ref = parseImageRef(flag);
  } catch (err) {
    throw new UsageError(`--repository: ${(err as Error).message}`);
  }
  if (ref.tag !== undefined || ref.digest !== undefined) {
    throw new UsageError(
      `--repository ${flag}: give the repository alone (HOST/REPO), without a tag or digest`,
    );
  }
  return {
    client: clientFor(ref.registry, env),
    repository: ref.repository,
    name: formatImageRef({ registry: ref.registry, repository: ref.repository }),
  };
}

/** A string flag that must be present and non-empty. */
export function requiredFlag(flags: GateFlags, name: string): string {
  const value = flags[name];
  if (typeof value !== "string" || value.trim() === "")
    throw new UsageError(`--${name} is required`);
  return value.trim();
}
