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

  /** Stores an image manifest (with a config digest derived from `name`); tags it if asked. */
  addImage(
    repository: string,
    name: string,
    tags: string[] = [],
    mediaType = DOCKER_MANIFEST,
  ): { digest: string; configDigest: string; body: Buffer } {
    const configDigest = sha256(`config of ${name}`);
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
            size: 100,
            digest: configDigest,
          },
          layers: [
            {
              mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip",
              size: 1234,
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

  private repo(name: string): Repo {
    let repo = this.repos.get(name);
    if (repo === undefined) {
      repo = { manifests: new Map(), tags: new Map() };
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
    const name = manifest?.[1] ?? tags?.[1];
    if (name === undefined) return this.error(res, 404, "NOT_FOUND", "no route");
    const write = req.method === "PUT";
    if (!this.authorized(req, res, `repository:${name}:${write ? "pull,push" : "pull"}`)) return;
    if (manifest !== null) {
      const reference = manifest[2] ?? "";
      if (write) return this.put(res, name, reference, body, req.headers["content-type"] ?? "");
      return this.get(req, res, name, reference);
    }
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
    let doc: { schemaVersion?: number; mediaType?: string };
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
