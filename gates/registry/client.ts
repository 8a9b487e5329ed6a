import { createHash } from "node:crypto";
import { registryBaseUrl } from "../imageRef";
import { GateError } from "../result";
import { AuthChallenge, parseChallenges } from "./challenge";
import { credentialsHelp, RegistryCredentials } from "./credentials";
import { errorForFailure, errorForResponse, parseErrorBody } from "./errors";
import { Manifest, parseManifest } from "./manifest";
import { MANIFEST_ACCEPT } from "./mediaTypes";
import { nextPageUrl } from "./tags";

export const DEFAULT_TIMEOUT_MS = 30_000;
/** The distribution spec's manifest size limit; anything larger is not a manifest. */
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
/** A bound on tag-list pages followed, against a registry that links in a loop. */
const MAX_TAG_PAGES = 500;

export interface RegistryClientOptions {
  /** Registry host as in an image reference: `registry.digitalocean.com`, `127.0.0.1:5000`. */
  host: string;
  credentials: RegistryCredentials;
  /** Per request (connect, headers and body), default 30 s. */
  timeoutMs?: number;
  /** Default: `registryBaseUrl(host)` (http for loopback hosts, https otherwise). */
  baseUrl?: string;
}

/** A manifest reference the registry does not know (404): a result, not an error. */
export interface NotFound {
  found: false;
  reference: string;
  /** The registry's reason, e.g. `MANIFEST_UNKNOWN: manifest unknown` or `NAME_UNKNOWN: ...`. */
  reason: string;
}

export interface ManifestHead {
  found: true;
  reference: string;
  digest: string;
  mediaType: string;
}

export interface FetchedManifest extends ManifestHead {
  /** The exact bytes the registry holds (their sha256 is the digest): what a retag PUTs back. */
  body: Buffer;
  manifest: Manifest;
}

interface Answer {
  status: number;
  headers: Headers;
  body: Buffer;
}

/** What a manifest PUT answered. */
export interface PutAnswer {
  /** The digest the registry stored (the sha256 of the bytes). */
  digest: string;
  /**
   * The `OCI-Subject` header: a registry that processes a manifest's `subject` (and serves the
   * referrers API) names the subject digest here. Absent on registries without the referrers API.
   */
  subject?: string;
}

/** A write method: a timeout during one is PUSH_TIMEOUT, not NETWORK_TIMEOUT. */
const WRITES: readonly string[] = ["PUT", "POST", "PATCH", "DELETE"];

interface RequestSpec {
  method: "GET" | "HEAD" | "PUT" | "POST" | "DELETE";
  /** Path under the base URL (`/v2/...`) or an absolute URL of the same registry. */
  url: string;
  /** Repository the request acts on: bearer tokens are scoped to it. */
  repository?: string;
  headers?: Record<string, string>;
  body?: Buffer;
  /** What the request is for, for people: "resolving app:v1". */
  what: string;
  maxBytes?: number;
}

export function sha256Digest(body: Buffer): string {
  return `sha256:${createHash("sha256").update(body).digest("hex")}`;
}

function isDigestRef(reference: string): boolean {
  return reference.includes(":");
}

/**
 * A small OCI Distribution (registry v2) client: manifests by tag or digest, manifest PUT (retag
 * without pulling), tag lists. Authentication follows the registry's challenge: Basic, or the Bearer
 * token flow that Docker Hub and DOCR use (401 `WWW-Authenticate: Bearer realm,service,scope` → GET
 * realm with the basic credentials → token). Failures become GateErrors with the procedure's codes.
 */
export class RegistryClient {
  readonly host: string;
  readonly baseUrl: string;
  readonly timeoutMs: number;
  private readonly credentials: RegistryCredentials;
  /** The whole operation's budget (see `limitTo`): every request after it runs out is aborted. */
  private budget: { signal: AbortSignal; ms: number } | undefined;
  /** The Authorization header that last worked, per repository ("" = registry-wide). */
  private readonly authorization = new Map<string, string>();

  constructor(options: RegistryClientOptions) {
    this.host = options.host;
    this.baseUrl = (options.baseUrl ?? registryBaseUrl(options.host)).replace(/\/+$/, "");
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.credentials = options.credentials;
  }

  /**
   * Gives every request from now on a shared budget of `ms` milliseconds (on top of the per-request
   * timeout): a registry that accepts the connection and then stalls ends the operation with
   * PUSH_TIMEOUT within the budget, naming the request that stalled, instead of hanging the release.
   */
  limitTo(ms: number): void {
    this.budget = { signal: AbortSignal.timeout(ms), ms };
  }

  /** HEAD a manifest by tag or digest: its digest and media type, or `found: false`. */
  async headManifest(repository: string, reference: string): Promise<ManifestHead | NotFound> {
    const what = `resolving ${repository}:${reference}`;
    const answer = await this.send({
      method: "HEAD",
      url: `/v2/${repository}/manifests/${reference}`,
      repository,
      headers: { accept: MANIFEST_ACCEPT },
      what,
    });
    if (answer.status === 404) return notFound(reference, answer);
    if (answer.status !== 200) throw this.failure(what, answer);
    const digest = answer.headers.get("docker-content-digest");
    if (digest === null || digest.length === 0) {
      // Not every registry sends the digest on HEAD: read the manifest and hash it.
      const full = await this.getManifest(repository, reference);
      if (!full.found) return full;
      return { found: true, reference, digest: full.digest, mediaType: full.mediaType };
    }
    return {
      found: true,
      reference,
      digest,
      mediaType: contentType(answer),
    };
  }

  /** GET a manifest by tag or digest, with its exact bytes; `found: false` on 404. */
  async getManifest(repository: string, reference: string): Promise<FetchedManifest | NotFound> {
    const what = `reading the manifest of ${repository}:${reference}`;
    const answer = await this.send({
      method: "GET",
      url: `/v2/${repository}/manifests/${reference}`,
      repository,
      headers: { accept: MANIFEST_ACCEPT },
      what,
      maxBytes: MAX_MANIFEST_BYTES,
    });
    if (answer.status === 404) return notFound(reference, answer);
    if (answer.status !== 200) throw this.failure(what, answer);
    const computed = sha256Digest(answer.body);
    const header = answer.headers.get("docker-content-digest");
    const expected = isDigestRef(reference) ? reference : header;
    if (expected !== null && expected.startsWith("sha256:") && expected !== computed) {
      throw new GateError(
        "MANIFEST_ERROR",
        `${what}: the manifest's bytes hash to ${computed}, not ${expected}`,
        ["the registry (or a proxy) altered the manifest; check its Accept handling"],
      );
    }
    const mediaType = contentType(answer);
    const manifest = parseManifest(answer.body, mediaType);
    return {
      found: true,
      reference,
      digest: expected ?? computed,
      mediaType: manifest.mediaType,
      body: answer.body,
      manifest,
    };
  }

  /**
   * PUT manifest bytes under a tag (or digest). The registry answers with the digest it stored, which
   * is the sha256 of the bytes: copying a manifest's exact bytes keeps its digest.
   */
  async putManifest(
    repository: string,
    reference: string,
    body: Buffer,
    mediaType: string,
  ): Promise<string> {
    return (await this.putManifestAnswer(repository, reference, body, mediaType)).digest;
  }

  /** `putManifest`, with the registry's `OCI-Subject` answer (referrers API support). */
  async putManifestAnswer(
    repository: string,
    reference: string,
    body: Buffer,
    mediaType: string,
  ): Promise<PutAnswer> {
    const what = `writing the manifest ${repository}:${reference}`;
    const answer = await this.send({
      method: "PUT",
      url: `/v2/${repository}/manifests/${reference}`,
      repository,
      headers: { "content-type": mediaType },
      body,
      what,
    });
    if (answer.status !== 201 && answer.status !== 200 && answer.status !== 202) {
      if (answer.status === 404) {
        // The registry does not know a blob or repository the manifest names.
        throw new GateError("MANIFEST_ERROR", `${what}: the registry rejected the manifest`, [
          describeAnswer(answer),
        ]);
      }
      throw this.failure(what, answer);
    }
    const subject = answer.headers.get("oci-subject");
    return {
      digest: answer.headers.get("docker-content-digest") ?? sha256Digest(body),
      ...(subject === null || subject === "" ? {} : { subject }),
    };
  }

  /**
   * DELETE a manifest by digest. The registry drops every tag pointing at it; the blobs stay until
   * its garbage collection. `found: false` when it was already gone; a registry that does not allow
   * deletes (HTTP 405, `UNSUPPORTED`) is a REGISTRY_UNAVAILABLE naming that.
   */
  async deleteManifest(repository: string, digest: string): Promise<{ found: true } | NotFound> {
    const what = `deleting ${repository}@${digest}`;
    const answer = await this.send({
      method: "DELETE",
      url: `/v2/${repository}/manifests/${digest}`,
      repository,
      what,
    });
    if (answer.status === 404) return notFound(digest, answer);
    if (answer.status === 202 || answer.status === 200 || answer.status === 204) {
      return { found: true };
    }
    if (answer.status === 405) {
      throw new GateError("REGISTRY_UNAVAILABLE", `${what}: the registry does not allow deletes`, [
        describeAnswer(answer),
        "enable deletes (distribution: storage.delete.enabled) or delete through the provider's API",
      ]);
    }
    throw this.failure(what, answer);
  }

  /** GET a blob (a config, an evidence file) by digest; its bytes are checked against the digest. */
  async getBlob(repository: string, digest: string, maxBytes?: number): Promise<Buffer> {
    const what = `reading the blob ${repository}@${digest}`;
    const answer = await this.send({
      method: "GET",
      url: `/v2/${repository}/blobs/${digest}`,
      repository,
      what,
      ...(maxBytes === undefined ? {} : { maxBytes }),
    });
    if (answer.status === 404) {
      throw new GateError("MANIFEST_ERROR", `${what}: the registry does not have it`, [
        describeAnswer(answer),
      ]);
    }
    if (answer.status !== 200) throw this.failure(what, answer);
    if (digest.startsWith("sha256:") && sha256Digest(answer.body) !== digest) {
      throw new GateError("MANIFEST_ERROR", `${what}: its bytes hash to another digest`, [
        `got ${sha256Digest(answer.body)}`,
      ]);
    }
    return answer.body;
  }

  /**
   * Uploads a blob in one request (POST an upload session, PUT its bytes with `?digest=`), unless the
   * repository already has it. Returns its digest.
   */
  async pushBlob(repository: string, body: Buffer): Promise<string> {
    const digest = sha256Digest(body);
    const what = `uploading the blob ${repository}@${digest}`;
    const head = await this.send({
      method: "HEAD",
      url: `/v2/${repository}/blobs/${digest}`,
      repository,
      what,
    });
    if (head.status === 200) return digest;
    const session = await this.send({
      method: "POST",
      url: `/v2/${repository}/blobs/uploads/`,
      repository,
      headers: { "content-length": "0" },
      what,
    });
    const location = session.headers.get("location");
    if (session.status !== 202 || location === null) throw this.failure(what, session);
    const target = new URL(location, `${this.baseUrl}/`);
    if (target.origin !== new URL(this.baseUrl).origin) {
      throw new GateError("REGISTRY_UNAVAILABLE", `${what}: the upload URL is on another host`, [
        location,
      ]);
    }
    target.searchParams.set("digest", digest);
    const put = await this.send({
      method: "PUT",
      url: target.toString(),
      repository,
      headers: { "content-type": "application/octet-stream" },
      body,
      what,
    });
    if (put.status !== 201 && put.status !== 204 && put.status !== 200) {
      throw this.failure(what, put);
    }
    return digest;
  }

  /**
   * The referrers of a digest (`GET /v2/<name>/referrers/<digest>`): the OCI index's descriptors,
   * or undefined when the registry has no referrers API (Debian's docker-registry 2.8 answers 404).
   */
  async listReferrers(
    repository: string,
    digest: string,
  ): Promise<Record<string, unknown>[] | undefined> {
    const what = `listing the referrers of ${repository}@${digest}`;
    const answer = await this.send({
      method: "GET",
      url: `/v2/${repository}/referrers/${digest}`,
      repository,
      headers: { accept: "application/vnd.oci.image.index.v1+json" },
      what,
      maxBytes: MAX_MANIFEST_BYTES,
    });
    if (answer.status === 404 || answer.status === 405) return undefined;
    if (answer.status !== 200) throw this.failure(what, answer);
    try {
      const doc = JSON.parse(answer.body.toString("utf8")) as { manifests?: unknown };
      if (!Array.isArray(doc.manifests)) return undefined;
      return doc.manifests.filter(
        (m): m is Record<string, unknown> => typeof m === "object" && m !== null,
      );
    } catch {
      return undefined;
    }
  }

  /** Every tag of a repository, following `Link` pagination; empty when the repository is unknown. */
  async listTags(repository: string): Promise<string[]> {
    const what = `listing the tags of ${repository}`;
    const tags: string[] = [];
    let url: string | undefined = `/v2/${repository}/tags/list`;
    for (let page = 0; url !== undefined && page < MAX_TAG_PAGES; page += 1) {
      const answer = await this.send({ method: "GET", url, repository, what });
      if (answer.status === 404) return tags;
      if (answer.status !== 200) throw this.failure(what, answer);
      let doc: { tags?: unknown };
      try {
        doc = JSON.parse(answer.body.toString("utf8")) as { tags?: unknown };
      } catch {
        throw new GateError("REGISTRY_UNAVAILABLE", `${what}: the registry's answer is not JSON`, [
          describeAnswer(answer),
        ]);
      }
      if (Array.isArray(doc.tags)) {
        tags.push(...doc.tags.filter((t): t is string => typeof t === "string"));
      }
      url = nextPageUrl(answer.headers.get("link"), this.absolute(url));
      if (url !== undefined && new URL(url).origin !== new URL(this.baseUrl).origin)
        url = undefined;
    }
    return [...new Set(tags)];
  }

  private absolute(url: string): string {
    return url.startsWith("/") ? `${this.baseUrl}${url}` : url;
  }

  private failure(what: string, answer: Answer): GateError {
    return errorForResponse(
      what,
      answer.status,
      answer.body.toString("utf8"),
      credentialsHelp(this.host, this.credentials),
    );
  }

  /** One request, answering the registry's authentication challenge once if it sends one. */
  private async send(spec: RequestSpec): Promise<Answer> {
    const scopeKey = spec.repository ?? "";
    const known = this.authorization.get(scopeKey) ?? this.authorization.get("");
    let answer = await this.fetchOnce(spec, known);
    if (answer.status !== 401) return answer;
    const challenges = parseChallenges(answer.headers.get("www-authenticate") ?? "");
    const authorization = await this.answerChallenge(spec.what, challenges);
    if (authorization === undefined) return answer;
    answer = await this.fetchOnce(spec, authorization);
    if (answer.status !== 401 && answer.status !== 403) {
      this.authorization.set(challenges[0]?.scheme === "basic" ? "" : scopeKey, authorization);
    }
    return answer;
  }

  /** The Authorization header answering a challenge; undefined when there is nothing to try. */
  private async answerChallenge(
    what: string,
    challenges: AuthChallenge[],
  ): Promise<string | undefined> {
    const bearer = challenges.find((c) => c.scheme === "bearer");
    if (bearer !== undefined) return `Bearer ${await this.fetchToken(what, bearer)}`;
    const basic = challenges.find((c) => c.scheme === "basic");
    if (basic !== undefined) {
      if (this.credentials.kind !== "basic") {
        throw new GateError(
          "REGISTRY_AUTH_FAILURE",
          `${what}: the registry ${this.host} requires credentials`,
          credentialsHelp(this.host, this.credentials),
        );
      }
      return `Basic ${this.basicToken()}`;
    }
    if (challenges.length > 0) {
      throw new GateError(
        "REGISTRY_AUTH_FAILURE",
        `${what}: unsupported authentication scheme "${challenges[0]?.scheme}" at ${this.host}`,
        ["Slipway supports Basic and Bearer token authentication"],
      );
    }
    return undefined;
  }

  private basicToken(): string {
    if (this.credentials.kind !== "basic") return "";
    return Buffer.from(`${this.credentials.username}:${this.credentials.password}`).toString(
      "base64",
    );
  }

  /** The Bearer token flow: GET realm?service=..&scope=.. with the basic credentials, if any. */
  private async fetchToken(what: string, challenge: AuthChallenge): Promise<string> {
    const realm = challenge.params.realm;
    if (realm === undefined || !/^https?:\/\//.test(realm)) {
      throw new GateError(
        "REGISTRY_AUTH_FAILURE",
        `${what}: the registry's Bearer challenge has no usable realm`,
        [`WWW-Authenticate parameters: ${JSON.stringify(challenge.params)}`],
      );
    }
    const url = new URL(realm);
    if (challenge.params.service !== undefined) {
      url.searchParams.set("service", challenge.params.service);
    }
    for (const scope of (challenge.params.scope ?? "").split(" ").filter((s) => s.length > 0)) {
      url.searchParams.append("scope", scope);
    }
    const headers: Record<string, string> = {};
    if (this.credentials.kind === "basic") headers.authorization = `Basic ${this.basicToken()}`;
    const answer = await this.fetchOnce(
      { method: "GET", url: url.toString(), headers, what: `${what} (token)` },
      undefined,
    );
    if (answer.status !== 200) {
      throw errorForResponse(
        `${what} (token from ${url.origin})`,
        answer.status,
        answer.body.toString("utf8"),
        credentialsHelp(this.host, this.credentials),
      );
    }
    try {
      const doc = JSON.parse(answer.body.toString("utf8")) as {
        token?: unknown;
        access_token?: unknown;
      };
      const token = typeof doc.token === "string" ? doc.token : doc.access_token;
      if (typeof token === "string" && token.length > 0) return token;
    } catch {
      // fall through
    }
    throw new GateError(
      "REGISTRY_AUTH_FAILURE",
      `${what}: the token service ${url.origin} returned no token`,
      [describeAnswer(answer)],
    );
  }

  private async fetchOnce(spec: RequestSpec, authorization: string | undefined): Promise<Answer> {
    const url = this.absolute(spec.url);
    const headers: Record<string, string> = {
      "user-agent": "slipway-gate",
      ...spec.headers,
    };
    if (authorization !== undefined) headers.authorization = authorization;
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal =
      this.budget === undefined ? timeout : AbortSignal.any([timeout, this.budget.signal]);
    try {
      const response = await fetch(url, {
        method: spec.method,
        headers,
        ...(spec.body === undefined ? {} : { body: spec.body }),
        signal,
        redirect: "follow",
      });
      const body = await readBody(response, spec.maxBytes);
      if (body === undefined) {
        throw new GateError(
          "MANIFEST_ERROR",
          `${spec.what}: the registry's answer is larger than ${spec.maxBytes} bytes`,
        );
      }
      return { status: response.status, headers: response.headers, body };
    } catch (err) {
      if (err instanceof GateError) throw err;
      if (this.budget?.signal.aborted === true) {
        throw stalled(spec.what, url, `the operation's budget of ${this.budget.ms / 1000} s`);
      }
      if (WRITES.includes(spec.method) && (err as { name?: string }).name === "TimeoutError") {
        throw stalled(spec.what, url, `${this.timeoutMs / 1000} s`);
      }
      throw errorForFailure(spec.what, url, err, this.timeoutMs);
    }
  }
}

/** PUSH_TIMEOUT: the registry took the request and then did not finish it in time. */
function stalled(what: string, url: string, limit: string): GateError {
  return new GateError("PUSH_TIMEOUT", `${what}: ${url} stalled, no answer within ${limit}`, [
    "nothing more was written after the stalled request",
    "raise --timeout (seconds) if the link is slow",
  ]);
}

/** The body, or undefined when it exceeds `maxBytes`. */
async function readBody(
  response: Response,
  maxBytes: number | undefined,
): Promise<Buffer | undefined> {
  const declared = Number(response.headers.get("content-length") ?? "0");
  if (maxBytes !== undefined && declared > maxBytes) {
    await response.body?.cancel();
    return undefined;
  }
  const body = Buffer.from(await response.arrayBuffer());
  return maxBytes !== undefined && body.length > maxBytes ? undefined : body;
}

function contentType(answer: Answer): string {
  return (answer.headers.get("content-type") ?? "").split(";")[0]?.trim() ?? "";
}

function describeAnswer(answer: Answer): string {
  const entries = parseErrorBody(answer.body.toString("utf8"));
  if (entries.length > 0) return entries.map((e) => `${e.code}: ${e.message}`).join("; ");
  const text = answer.body.toString("utf8").trim().replace(/\s+/g, " ").slice(0, 200);
  return text.length > 0 ? `HTTP ${answer.status}: ${text}` : `HTTP ${answer.status}`;
}

function notFound(reference: string, answer: Answer): NotFound {
  return { found: false, reference, reason: describeAnswer(answer) };
}
