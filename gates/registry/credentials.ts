import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { GateError } from "../result";

/** Credentials for one registry host, as found in a Docker config.json. */
export type RegistryCredentials =
  | { kind: "basic"; username: string; password: string; source: string }
  /** None found: anonymous access (a registry that asks for credentials then fails with a clear error). */
  | { kind: "anonymous"; source: string }
  /**
   * The config delegates this host to a credential helper (`credsStore` / `credHelpers`), which
   * Slipway does not run: reported only if the registry actually asks for credentials.
   */
  | { kind: "unsupported"; source: string; reason: string };

/** The environment variable holding a Docker config.json document (DOCR's DockerCredentials output). */
export const AUTH_ENV = "SLIPWAY_REGISTRY_AUTH";

interface DockerConfig {
  auths?: Record<
    string,
    { auth?: string; username?: string; password?: string; identitytoken?: string }
  >;
  credsStore?: string;
  credHelpers?: Record<string, string>;
}

const DOCKER_HUB_ALIASES = ["docker.io", "index.docker.io", "registry-1.docker.io"];

/** `https://index.docker.io/v1/` → `index.docker.io`; `Registry.Example.com:443` → lower case. */
function normaliseKey(key: string): string {
  return key
    .replace(/^[a-z]+:\/\//i, "")
    .replace(/\/.*$/, "")
    .toLowerCase();
}

function sameHost(key: string, host: string): boolean {
  const a = normaliseKey(key);
  const b = host.toLowerCase();
  if (a === b) return true;
  return DOCKER_HUB_ALIASES.includes(a) && DOCKER_HUB_ALIASES.includes(b);
}

function authFailure(message: string, details: string[] = []): GateError {
  return new GateError("REGISTRY_AUTH_FAILURE", message, details);
}

/** Parses a config.json document; a malformed one is an auth failure (fail closed, never anonymous). */
export function parseDockerConfig(text: string, source: string): DockerConfig {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw authFailure(`${source} is not valid JSON`, [
      (err as Error).message,
      'expected a Docker config.json document: {"auths":{"<host>":{"auth":"<base64 user:password>"}}}',
    ]);
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    throw authFailure(`${source} is not a Docker config.json object`);
  }
  return doc as DockerConfig;
}

/** The credentials a config document holds for `host`. */
export function credentialsFromConfig(
  config: DockerConfig,
  host: string,
  source: string,
): RegistryCredentials {
  const entry = Object.entries(config.auths ?? {}).find(([key]) => sameHost(key, host))?.[1];
  if (entry !== undefined && typeof entry === "object" && entry !== null) {
    if (typeof entry.auth === "string" && entry.auth.length > 0) {
      const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      if (colon <= 0) {
        throw authFailure(`${source}: the "auth" entry for ${host} is not base64("user:password")`);
      }
      return {
        kind: "basic",
        username: decoded.slice(0, colon),
        password: decoded.slice(colon + 1),
        source,
      };
    }
    if (typeof entry.username === "string" && typeof entry.password === "string") {
      return { kind: "basic", username: entry.username, password: entry.password, source };
    }
    if (typeof entry.identitytoken === "string") {
      return {
        kind: "unsupported",
        source,
        reason: `${source} holds an identity token for ${host} (OAuth refresh tokens are not supported)`,
      };
    }
  }
  const helper =
    Object.entries(config.credHelpers ?? {}).find(([key]) => sameHost(key, host))?.[1] ??
    config.credsStore;
  if (typeof helper === "string" && helper.length > 0) {
    return {
      kind: "unsupported",
      source,
      reason: `${source} delegates ${host} to the credential helper docker-credential-${helper}, which Slipway does not run`,
    };
  }
  return { kind: "anonymous", source };
}

/**
 * The credentials for `host`: from env SLIPWAY_REGISTRY_AUTH when set (a Docker config.json
 * document), else from `$DOCKER_CONFIG/config.json` or `~/.docker/config.json` (`auths` only).
 */
export function credentialsFor(host: string, env: NodeJS.ProcessEnv): RegistryCredentials {
  const inline = env[AUTH_ENV];
  if (inline !== undefined && inline.trim().length > 0) {
    return credentialsFromConfig(parseDockerConfig(inline, AUTH_ENV), host, AUTH_ENV);
  }
  const dir = env.DOCKER_CONFIG ?? join(env.HOME ?? homedir(), ".docker");
  const path = join(dir, "config.json");
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT")
      return { kind: "anonymous", source: path };
    throw authFailure(`cannot read ${path}: ${(err as Error).message}`);
  }
  return credentialsFromConfig(parseDockerConfig(text, path), host, path);
}

/** The remedy lines for a registry that wants credentials we do not have. */
export function credentialsHelp(host: string, credentials: RegistryCredentials): string[] {
  const lines: string[] = [];
  if (credentials.kind === "unsupported") lines.push(credentials.reason);
  if (credentials.kind === "anonymous")
    lines.push(`no credentials for ${host} in ${credentials.source}`);
  if (credentials.kind === "basic") {
    lines.push(`the credentials for ${host} from ${credentials.source} were refused`);
  }
  lines.push(
    `set ${AUTH_ENV} to a Docker config.json document: {"auths":{"${host}":{"auth":"<base64 user:password>"}}}`,
    "(for DOCR: the ContainerRegistryDockerCredentials dockerCredentials output, or `doctl registry docker-config`)",
  );
  return lines;
}
