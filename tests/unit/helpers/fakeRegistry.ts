import { createHash } from "node:crypto";
import { createServer, IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

/**
 * A real HTTP server on 127.0.0.1 (ephemeral port) speaking the parts of the OCI Distribution API
 * Slipway uses: manifests (HEAD/GET/PUT by tag or digest, Accept-sensitive like a real registry),
 * paginated tag lists with `Link`, and Basic or Bearer-token authentication. Failure switches make
 * it answer 5xx, quota refusals, or never answer.
 */

export const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
export const DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
const SCHEMA1 = "application/vnd.docker.distribution.manifest.v1+prettyjws";

export type AuthMode = "none" | "basic" | "bearer";

export interface FakeRegistryOptions {
  auth?: AuthMode;
  username?: string;
  password?: string;
  /** Tags per page of `/tags/list` (default: all in one page, no Link). */
  pageSize?: number;
  /** Leave Docker-Content-Digest out of HEAD answers (some registries do). */
  omitHeadDigest?: boolean;
  /**
   * Serve the OCI referrers API (`GET /v2/<name>/referrers/<digest>`) and answer manifest PUTs that
   * carry a `subject` with `OCI-Subject`. Off: like Debian's docker-registry 2.8 (404 there).
   */
  referrers?: boolean;
  /** Refuse manifest DELETEs with 405 UNSUPPORTED (a registry with deletes disabled). */
  noDelete?: boolean;
}

export interface RecordedRequest {
  method: string;
  url: string;
  authorization?: string;
  accept?: string;
}

interface Stored {
  body: Buffer;
  mediaType: string;
}

interface Repo {
  manifests: Map<string, Stored>;
  tags: Map<string, string>;
  blobs: Map<string, Buffer>;
  /** Open upload sessions: id → nothing yet (monolithic PUT only). */
  uploads: Set<string>;
}

export function sha256(body: Buffer | string): string {
  return `sha256:${createHash("sha256").update(body).digest("hex")}`;
}

export class FakeRegistry {
  readonly requests: RecordedRequest[] = [];
  /** Answer every /v2 request with this status (e.g. 503). */
  forceStatus: number | undefined;
  /** Refuse manifest PUTs as DOCR does over quota (403 DENIED). */
  quotaExceeded = false;
  /** Accept connections and never answer. */
  hang = false;
  /** Answer reads, but take writes (PUT, POST, DELETE) and never answer them. */
  stallWrites = false;
  private readonly repos = new Map<string, Repo>();
  private readonly sockets = new Set<Socket>();
  private server: Server | undefined;
  private port = 0;

  constructor(private readonly options: FakeRegistryOptions = {}) {}

  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  get url(): string {
    return `http://${this.host}`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: Error) => {
        res.statusCode = 500;
        res.end(err.message);
      });
    });
    this.server.on("connection", (socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => this.server?.listen(0, "127.0.0.1", resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  /**
   * Stores an image manifest and its config blob (`created` as given, else none); tags it if asked.
   * The layer is `layerSize` bytes as the manifest declares it (default 1234).
   */
  addImage(
    repository: string,
    name: string,
    tags: string[] = [],
    mediaType = DOCKER_MANIFEST,
    options: { created?: string; layerSize?: number } = {},
  ): { digest: string; configDigest: string; body: Buffer } {
    const config = Buffer.from(
      JSON.stringify({
        ...(options.created === undefined ? {} : { created: options.created }),
        architecture: "amd64",
        os: "linux",
        config: { Labels: { name } },
      }),
    );
    const configDigest = sha256(config);
    this.repo(repository).blobs.set(configDigest, config);
    const body = Buffer.from(
      JSON.stringify(
        {
          schemaVersion: 2,
          mediaType,
          config: {
            mediaType:
              mediaType === OCI_MANIFEST
                ? "application/vnd.oci.image.config.v1+json"
                : "application/vnd.docker.container.image.v1+json",
            size: config.length,
            digest: configDigest,
          },
          layers: [
            {
              mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip",
              size: options.layerSize ?? 1234,
              digest: sha256(`layer of ${name}`),
            },
          ],
        },
        null,
        3,
      ),
    );
    const digest = this.store(repository, body, mediaType, tags);
    return { digest, configDigest, body };
  }

  /** Stores an index naming the given platform manifests (plus an attestation entry). */
  addIndex(
    repository: string,
    children: { digest: string; platform: string }[],
    tags: string[] = [],
    mediaType = OCI_INDEX,
  ): { digest: string } {
    const manifests = children.map((c) => {
      const [os, architecture] = c.platform.split("/");
      return {
        mediaType: OCI_MANIFEST,
        size: 500,
        digest: c.digest,
        platform: { os, architecture },
      };
    });
    manifests.push({
      mediaType: OCI_MANIFEST,
      size: 500,
      digest: sha256("attestation"),
      platform: { os: "unknown", architecture: "unknown" },
    });
    const body = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType, manifests }));
    return { digest: this.store(repository, body, mediaType, tags) };
  }

  /** Serves other bytes under a digest, as a corrupting proxy would. */
  replaceBytes(repository: string, digest: string, body: Buffer): void {
    const stored = this.repos.get(repository)?.manifests.get(digest);
    if (stored !== undefined) stored.body = body;
  }

  tagged(repository: string, tag: string): string | undefined {
    return this.repos.get(repository)?.tags.get(tag);
  }

  /** Every tag of a repository, sorted. */
  tagsOf(repository: string): string[] {
    return [...(this.repos.get(repository)?.tags.keys() ?? [])].sort();
  }

  /** Whether the repository still holds a manifest. */
  hasManifest(repository: string, digest: string): boolean {
    return this.repos.get(repository)?.manifests.has(digest) ?? false;
  }

  /** The bytes of a stored manifest. */
  manifestBody(repository: string, digest: string): Buffer | undefined {
    return this.repos.get(repository)?.manifests.get(digest)?.body;
  }

  private repo(name: string): Repo {
    let repo = this.repos.get(name);
    if (repo === undefined) {
      repo = { manifests: new Map(), tags: new Map(), blobs: new Map(), uploads: new Set() };
      this.repos.set(name, repo);
    }
    return repo;
  }

  private store(repository: string, body: Buffer, mediaType: string, tags: string[]): string {
    const digest = sha256(body);
    const repo = this.repo(repository);
    repo.manifests.set(digest, { body, mediaType });
    for (const tag of tags) repo.tags.set(tag, digest);
    return digest;
  }

  private authorized(req: IncomingMessage, res: ServerResponse, scope: string): boolean {
    const mode = this.options.auth ?? "none";
    if (mode === "none") return true;
    const header = req.headers.authorization ?? "";
    const basic = `Basic ${Buffer.from(`${this.options.username}:${this.options.password}`).toString("base64")}`;
    if (mode === "basic") {
      if (header === basic) return true;
      res.setHeader("www-authenticate", `Basic realm="fake-registry"`);
    } else {
      const granted = header.startsWith("Bearer ") ? header.slice(7).split("|") : [];
      if (granted.includes(scope)) return true;
      res.setHeader(
        "www-authenticate",
        `Bearer realm="${this.url}/token",service="fake-registry",scope="${scope}"`,
      );
    }
    this.error(res, 401, "UNAUTHORIZED", "authentication required");
    return false;
  }

  /** The token service: checks the basic credentials and grants the scopes asked for. */
  private token(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const expected = `Basic ${Buffer.from(`${this.options.username}:${this.options.password}`).toString("base64")}`;
    if (
      req.headers.authorization !== expected ||
      url.searchParams.get("service") !== "fake-registry"
    ) {
      this.error(res, 401, "UNAUTHORIZED", "bad credentials");
      return;
    }
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ token: url.searchParams.getAll("scope").join("|") }));
  }

  private error(res: ServerResponse, status: number, code: string, message: string): void {
    res.statusCode = status;
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ errors: [{ code, message, detail: null }] }));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.requests.push({
      method: req.method ?? "",
      url: req.url ?? "",
      ...(req.headers.authorization === undefined
        ? {}
        : { authorization: req.headers.authorization }),
      ...(req.headers.accept === undefined ? {} : { accept: req.headers.accept }),
    });
    if (this.hang) return;
    if (this.stallWrites && req.method !== "GET" && req.method !== "HEAD") return;
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const url = new URL(req.url ?? "/", this.url);
    if (url.pathname === "/token") return this.token(req, res, url);
    if (this.forceStatus !== undefined) {
      res.statusCode = this.forceStatus;
      res.end("<html>upstream unavailable</html>");
      return;
    }
    const manifest = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(url.pathname);
    const tags = /^\/v2\/(.+)\/tags\/list$/.exec(url.pathname);
    const blob = /^\/v2\/(.+)\/blobs\/(sha256:[0-9a-f]{64})$/.exec(url.pathname);
    const upload = /^\/v2\/(.+)\/blobs\/uploads\/([^/]*)$/.exec(url.pathname);
    const referrers = /^\/v2\/(.+)\/referrers\/(sha256:[0-9a-f]{64})$/.exec(url.pathname);
    if (referrers !== null && this.options.referrers !== true) {
      return this.error(res, 404, "NOT_FOUND", "404 page not found");
    }
    const name = manifest?.[1] ?? tags?.[1] ?? blob?.[1] ?? upload?.[1] ?? referrers?.[1];
    if (name === undefined) return this.error(res, 404, "NOT_FOUND", "no route");
    const write = req.method !== "GET" && req.method !== "HEAD";
    const action = req.method === "DELETE" ? "delete" : write ? "pull,push" : "pull";
    if (!this.authorized(req, res, `repository:${name}:${action}`)) return;
    if (manifest !== null) {
      const reference = manifest[2] ?? "";
      if (req.method === "DELETE") return this.delete(res, name, reference);
      if (write) return this.put(res, name, reference, body, req.headers["content-type"] ?? "");
      return this.get(req, res, name, reference);
    }
    if (blob !== null) return this.getBlob(req, res, name, blob[2] ?? "");
    if (upload !== null) return this.upload(req, res, name, upload[2] ?? "", url, body);
    if (referrers !== null) return this.referrersOf(res, name, referrers[2] ?? "");
    return this.list(res, name, url);
  }

  private get(req: IncomingMessage, res: ServerResponse, name: string, reference: string): void {
    const repo = this.repos.get(name);
    if (repo === undefined)
      return this.error(res, 404, "NAME_UNKNOWN", "repository name not known");
    const digest = reference.includes(":") ? reference : repo.tags.get(reference);
    const stored = digest === undefined ? undefined : repo.manifests.get(digest);
    if (digest === undefined || stored === undefined) {
      return this.error(res, 404, "MANIFEST_UNKNOWN", "manifest unknown");
    }
    let body = stored.body;
    let mediaType = stored.mediaType;
    let answered = digest;
    if (!(req.headers.accept ?? "").includes(stored.mediaType)) {
      // Like an old registry: no Accept for this type → a converted schema1 manifest, another digest.
      mediaType = SCHEMA1;
      body = Buffer.from(JSON.stringify({ schemaVersion: 1, name, tag: reference }));
      answered = sha256(body);
    }
    res.statusCode = 200;
    res.setHeader("content-type", mediaType);
    res.setHeader("content-length", String(body.length));
    if (!(req.method === "HEAD" && this.options.omitHeadDigest === true)) {
      res.setHeader("docker-content-digest", answered);
    }
    res.end(req.method === "HEAD" ? undefined : body);
  }

  private delete(res: ServerResponse, name: string, reference: string): void {
    if (this.options.noDelete === true) {
      return this.error(res, 405, "UNSUPPORTED", "The operation is unsupported.");
    }
    const repo = this.repos.get(name);
    if (!reference.includes(":")) return this.error(res, 400, "DIGEST_INVALID", "by digest only");
    if (repo === undefined || !repo.manifests.has(reference)) {
      return this.error(res, 404, "MANIFEST_UNKNOWN", "manifest unknown");
    }
    repo.manifests.delete(reference);
    // Like distribution: every tag pointing at the manifest goes with it.
    for (const [tag, digest] of [...repo.tags]) if (digest === reference) repo.tags.delete(tag);
    res.statusCode = 202;
    res.end();
  }

  private getBlob(req: IncomingMessage, res: ServerResponse, name: string, digest: string): void {
    const stored = this.repos.get(name)?.blobs.get(digest);
    if (stored === undefined) return this.error(res, 404, "BLOB_UNKNOWN", "blob unknown");
    res.statusCode = 200;
    res.setHeader("content-type", "application/octet-stream");
    res.setHeader("content-length", String(stored.length));
    res.setHeader("docker-content-digest", digest);
    res.end(req.method === "HEAD" ? undefined : stored);
  }

  /** Monolithic uploads only: POST opens a session, PUT `?digest=` with the bytes closes it. */
  private upload(
    req: IncomingMessage,
    res: ServerResponse,
    name: string,
    id: string,
    url: URL,
    body: Buffer,
  ): void {
    const repo = this.repo(name);
    if (this.quotaExceeded) return this.error(res, 403, "DENIED", "storage quota exceeded");
    if (req.method === "POST" && id === "") {
      const session = `u${repo.uploads.size + 1}-${Date.now()}`;
      repo.uploads.add(session);
      res.statusCode = 202;
      res.setHeader("location", `/v2/${name}/blobs/uploads/${session}`);
      res.end();
      return;
    }
    if (req.method === "PUT" && repo.uploads.has(id)) {
      const digest = url.searchParams.get("digest") ?? "";
      if (sha256(body) !== digest) return this.error(res, 400, "DIGEST_INVALID", "digest invalid");
      repo.uploads.delete(id);
      repo.blobs.set(digest, body);
      res.statusCode = 201;
      res.setHeader("docker-content-digest", digest);
      res.end();
      return;
    }
    return this.error(res, 404, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown");
  }

  /** The referrers API: an OCI index of the manifests whose `subject` is the digest. */
  private referrersOf(res: ServerResponse, name: string, digest: string): void {
    const manifests = [];
    for (const [d, stored] of this.repos.get(name)?.manifests ?? []) {
      const doc = JSON.parse(stored.body.toString("utf8")) as {
        subject?: { digest?: string };
        artifactType?: string;
        config?: { mediaType?: string };
        annotations?: Record<string, string>;
      };
      if (doc.subject?.digest !== digest) continue;
      manifests.push({
        mediaType: stored.mediaType,
        digest: d,
        size: stored.body.length,
        artifactType: doc.artifactType ?? doc.config?.mediaType,
        ...(doc.annotations === undefined ? {} : { annotations: doc.annotations }),
      });
    }
    res.statusCode = 200;
    res.setHeader("content-type", OCI_INDEX);
    res.end(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests }));
  }

  private put(
    res: ServerResponse,
    name: string,
    reference: string,
    body: Buffer,
    contentType: string,
  ): void {
    if (this.quotaExceeded) {
      return this.error(res, 403, "DENIED", "storage quota exceeded");
    }
    let doc: { schemaVersion?: number; mediaType?: string; subject?: { digest?: string } };
    try {
      doc = JSON.parse(body.toString("utf8")) as typeof doc;
    } catch {
      return this.error(res, 400, "MANIFEST_INVALID", "manifest invalid");
    }
    if (doc.schemaVersion !== 2 || (doc.mediaType !== undefined && doc.mediaType !== contentType)) {
      return this.error(res, 400, "MANIFEST_INVALID", "manifest invalid");
    }
    const digest = this.store(name, body, contentType, reference.includes(":") ? [] : [reference]);
    res.statusCode = 201;
    res.setHeader("docker-content-digest", digest);
    if (this.options.referrers === true && doc.subject?.digest !== undefined) {
      res.setHeader("oci-subject", doc.subject.digest);
    }
    res.setHeader("location", `/v2/${name}/manifests/${digest}`);
    res.end();
  }

  private list(res: ServerResponse, name: string, url: URL): void {
    const repo = this.repos.get(name);
    if (repo === undefined)
      return this.error(res, 404, "NAME_UNKNOWN", "repository name not known");
    const all = [...repo.tags.keys()].sort();
    const last = url.searchParams.get("last");
    const start = last === null ? 0 : all.findIndex((t) => t > last);
    const size = Number(url.searchParams.get("n") ?? this.options.pageSize ?? all.length);
    const page = start === -1 ? [] : all.slice(start, start + Math.max(size, 1));
    const lastShown = page[page.length - 1];
    if (lastShown !== undefined && all.indexOf(lastShown) < all.length - 1) {
      res.setHeader("link", `</v2/${name}/tags/list?n=${size}&last=${lastShown}>; rel="next"`);
    }
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ name, tags: page }));
  }
}

/** A port that was just free and is now closed: connecting to it is refused. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
