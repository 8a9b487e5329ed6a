/**
 * Docker image references, parsed and normalised as Docker does (distribution/reference):
 *
 * ```
 * reference  := name [ ":" tag ] [ "@" digest ]
 * name       := [ domain "/" ] path-component [ "/" path-component ]*
 * domain     := host [ ":" port ]
 * ```
 *
 * The first component of a name is a registry host only when it contains a `.` or a `:`, is
 * `localhost`, or has an upper-case letter (`python` is Docker Hub's `library/python`;
 * `registry.digitalocean.com/acme/odoo` is a DOCR repository). Docker Hub is `docker.io`
 * (`index.docker.io` is normalised to it) and its one-component names live under `library/`.
 */

/** A parsed, normalised image reference. */
export interface ImageRef {
  /** The registry host (with its port, if any); `docker.io` when the reference names none. */
  registry: string;
  /** The repository path in that registry: `library/python` for Docker Hub's official images. */
  repository: string;
  tag?: string;
  /** `algorithm:hex`, e.g. `sha256:9e25f4...`. */
  digest?: string;
}

export const DOCKER_HUB = "docker.io";
const DOCKER_HUB_API = "registry-1.docker.io";
const LEGACY_DOCKER_HUB = "index.docker.io";

const MAX_NAME_LENGTH = 255;
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const HOST = new RegExp(
  `^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`,
);
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;
const SHA256_DIGEST = /^sha256:[a-f0-9]{64}$/;

/** True for a well-formed `algorithm:hex` digest (`sha256:` + 64 lower-case hex for sha256). */
export function isDigest(value: string): boolean {
  if (!DIGEST.test(value)) return false;
  return !value.startsWith("sha256:") || SHA256_DIGEST.test(value);
}

/** True for a string Docker accepts as a tag. */
export function isTag(value: string): boolean {
  return TAG.test(value);
}

function invalid(ref: string, why: string): Error {
  return new Error(`invalid image reference "${ref}": ${why}`);
}

/** Splits `host/rest` when the first component is a registry host (Docker's rule). */
function splitDomain(name: string): { registry: string; remainder: string } {
  const slash = name.indexOf("/");
  const first = slash === -1 ? "" : name.slice(0, slash);
  const isHost =
    slash !== -1 &&
    (first.includes(".") ||
      first.includes(":") ||
      first === "localhost" ||
      first.toLowerCase() !== first);
  if (!isHost) return { registry: DOCKER_HUB, remainder: name };
  return { registry: first, remainder: name.slice(slash + 1) };
}

/**
 * Parses a reference such as `python:3.11-slim-bullseye@sha256:...`, `127.0.0.1:5000/app:v1` or
 * `registry.digitalocean.com/acme/odoo@sha256:...` into its normalised parts.
 *
 * @throws Error naming the reference and what is wrong with it.
 */
export function parseImageRef(ref: string): ImageRef {
  if (ref.length === 0) throw invalid(ref, "empty");
  if (ref.trim() !== ref || /\s/.test(ref)) throw invalid(ref, "contains whitespace");

  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!isDigest(digest)) {
      throw invalid(ref, `"${digest}" is not a digest (expected sha256:<64 hex characters>)`);
    }
  }

  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon !== -1 && !rest.slice(colon + 1).includes("/")) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!isTag(tag)) {
      throw invalid(
        ref,
        `"${tag}" is not a valid tag (letters, digits, _ . -; at most 128; not starting with . or -)`,
      );
    }
  }

  if (rest.length === 0) throw invalid(ref, "no repository name");
  if (rest.length > MAX_NAME_LENGTH) {
    throw invalid(ref, `repository name longer than ${MAX_NAME_LENGTH} characters`);
  }

  const split = splitDomain(rest);
  let registry = split.registry;
  let repository = split.remainder;
  if (registry !== DOCKER_HUB && !HOST.test(registry)) {
    throw invalid(ref, `"${registry}" is not a valid registry host`);
  }
  if (registry === LEGACY_DOCKER_HUB) registry = DOCKER_HUB;
  if (repository.length === 0) throw invalid(ref, "no repository name after the registry host");
  for (const component of repository.split("/")) {
    if (component.length === 0)
      throw invalid(ref, "empty path component (a doubled or trailing /)");
    if (PATH_COMPONENT.test(component)) continue;
    if (PATH_COMPONENT.test(component.toLowerCase())) {
      throw invalid(ref, "repository name must be lowercase");
    }
    throw invalid(
      ref,
      `"${component}" is not a valid path component (lower-case letters, digits, . _ __ -)`,
    );
  }
  if (registry === DOCKER_HUB && !repository.includes("/")) repository = `library/${repository}`;

  return {
    registry,
    repository,
    ...(tag === undefined ? {} : { tag }),
    ...(digest === undefined ? {} : { digest }),
  };
}

export interface FormatOptions {
  /**
   * Docker's familiar form: drop `docker.io/` and `library/` (`python:3.11`), as `docker images`
   * shows it. Default false: the fully qualified form, unambiguous for any tool.
   */
  familiar?: boolean;
}

/** The reference as text: `registry/repository[:tag][@digest]`. */
export function formatImageRef(ref: ImageRef, options: FormatOptions = {}): string {
  let name = `${ref.registry}/${ref.repository}`;
  if (options.familiar === true && ref.registry === DOCKER_HUB) {
    name = ref.repository.startsWith("library/")
      ? ref.repository.slice("library/".length)
      : ref.repository;
  }
  const tag = ref.tag === undefined ? "" : `:${ref.tag}`;
  const digest = ref.digest === undefined ? "" : `@${ref.digest}`;
  return `${name}${tag}${digest}`;
}

/** True when the reference names a digest, i.e. always resolves to the same image. */
export function isPinned(ref: string | ImageRef): boolean {
  const parsed = typeof ref === "string" ? parseImageRef(ref) : ref;
  return parsed.digest !== undefined;
}

/** The host without its port (`127.0.0.1:5000` → `127.0.0.1`, `[::1]:5000` → `::1`). */
function hostname(host: string): string {
  if (host.startsWith("[")) {
    const end = host.indexOf("]");
    return end === -1 ? host : host.slice(1, end);
  }
  const colon = host.lastIndexOf(":");
  return colon === -1 ? host : host.slice(0, colon);
}

/**
 * True for a loopback registry host, which Docker talks to over plain HTTP without being told
 * (127.0.0.0/8, `localhost`, `::1`).
 */
export function isLoopbackHost(host: string): boolean {
  const name = hostname(host).toLowerCase();
  if (name === "localhost" || name === "::1") return true;
  const octets = name.split(".");
  return (
    octets.length === 4 &&
    octets[0] === "127" &&
    octets.every((o) => /^[0-9]{1,3}$/.test(o) && Number(o) <= 255)
  );
}

/**
 * The base URL of a registry's v2 API, without a trailing slash: `http://` for loopback hosts (as
 * Docker treats them), `https://` otherwise; Docker Hub's API lives at `registry-1.docker.io`.
 */
export function registryBaseUrl(host: string): string {
  if (host === DOCKER_HUB || host === LEGACY_DOCKER_HUB) return `https://${DOCKER_HUB_API}`;
  return `${isLoopbackHost(host) ? "http" : "https"}://${host}`;
}
