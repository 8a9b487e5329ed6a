import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, request, Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { join } from "node:path";
import "./harness/hooks";
import { parseVerdictLine } from "../../gates/result";
import {
  evidenceAttachCommand,
  GATE_BIN,
  promoteCommand,
  pruneCommand,
  reportFile,
  shellJoin,
} from "../../gates/commands";
import { OPEN_REGISTRY } from "./harness/environment";
import { sh } from "./harness/shell";
import { suite } from "./harness/suite";

const MANIFEST_ACCEPT = [
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

function sha256(bytes: Buffer | string): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

/**
 * A small image made on disk as an OCI layout (one file in one layer, a config with `created`) and
 * pushed with `skopeo copy` under `repo:tag`. Returns the manifest digest the registry holds.
 */
function pushImage(dir: string, repository: string, tag: string, created: string): string {
  const layout = join(dir, `layout-${tag}`);
  const blobs = join(layout, "blobs", "sha256");
  mkdirSync(blobs, { recursive: true });
  const content = join(dir, `content-${tag}`);
  mkdirSync(content, { recursive: true });
  writeFileSync(join(content, "tag.txt"), `${tag} ${created} ${randomBytes(8).toString("hex")}\n`);
  const tar = execFileSync("tar", [
    "-C",
    content,
    "-c",
    "--mtime=@0",
    "--owner=0",
    "--group=0",
    "tag.txt",
  ]);
  const layer = execFileSync("gzip", ["-n", "-c"], { input: tar });
  const config = Buffer.from(
    JSON.stringify({
      created,
      architecture: "amd64",
      os: "linux",
      config: {},
      rootfs: { type: "layers", diff_ids: [sha256(tar)] },
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: {
        mediaType: "application/vnd.oci.image.config.v1+json",
        digest: sha256(config),
        size: config.length,
      },
      layers: [
        {
          mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
          digest: sha256(layer),
          size: layer.length,
        },
      ],
    }),
  );
  for (const blob of [layer, config, manifest])
    writeFileSync(join(blobs, sha256(blob).slice(7)), blob);
  writeFileSync(join(layout, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  writeFileSync(
    join(layout, "index.json"),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          digest: sha256(manifest),
          size: manifest.length,
          annotations: { "org.opencontainers.image.ref.name": tag },
        },
      ],
    }),
  );
  const digestFile = join(dir, `digest-${tag}`);
  execFileSync("skopeo", [
    "copy",
    "--quiet",
    "--dest-tls-verify=false",
    "--digestfile",
    digestFile,
    `oci:${layout}:${tag}`,
    `docker://${OPEN_REGISTRY}/${repository}:${tag}`,
  ]);
  return readFileSync(digestFile, "utf8").trim();
}

/** What `repo:tag` resolves to in the real registry, straight from the API (undefined: absent). */
async function tagDigest(repository: string, tag: string): Promise<string | undefined> {
  const response = await fetch(`http://${OPEN_REGISTRY}/v2/${repository}/manifests/${tag}`, {
    method: "HEAD",
    headers: { accept: MANIFEST_ACCEPT },
  });
  return response.ok ? (response.headers.get("docker-content-digest") ?? undefined) : undefined;
}

async function manifestExists(repository: string, digest: string): Promise<boolean> {
  const response = await fetch(`http://${OPEN_REGISTRY}/v2/${repository}/manifests/${digest}`, {
    method: "HEAD",
    headers: { accept: MANIFEST_ACCEPT },
  });
  return response.ok;
}

/**
 * A proxy in front of the real registry that passes reads and takes writes (PUT, POST, PATCH,
 * DELETE) without ever answering: a registry that accepts the connection and then stalls.
 */
async function stallingProxy(): Promise<{
  host: string;
  stalled: string[];
  close(): Promise<void>;
}> {
  const stalled: string[] = [];
  const sockets = new Set<Socket>();
  const [registryHost, registryPort] = OPEN_REGISTRY.split(":");
  const server: Server = createServer((req, res) => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      stalled.push(`${req.method} ${req.url}`);
      return;
    }
    const upstream = request(
      {
        host: registryHost,
        port: Number(registryPort),
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    stalled,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe("registry-side release on the real registry (Debian docker-registry)", function () {
  this.timeout(10 * 60_000);
  let namespace: string;
  let repository: string;
  let work: string;
  let reportDir: string;
  const digests: Record<string, string> = {};

  before(function () {
    namespace = `e2e-regside-${randomBytes(4).toString("hex")}`;
    repository = `${namespace}/app`;
    work = join(suite.workDir, namespace);
    reportDir = join(work, "releases", "v1.0.0");
    mkdirSync(work, { recursive: true });
    digests.c1 = pushImage(work, repository, "candidate-v1.0.0-runtime", "2026-11-01T10:00:00Z");
    digests.c2 = pushImage(work, repository, "candidate-v1.1.0-runtime", "2026-11-02T10:00:00Z");
    digests.c3 = pushImage(work, repository, "candidate-v1.2.0-runtime", "2026-11-03T10:00:00Z");
    digests.c4 = pushImage(work, repository, "candidate-v1.3.0-runtime", "2026-11-04T10:00:00Z");
  });

  it("promotes a candidate to :version and :latest, and a second run is identical (idempotent)", async function () {
    const command = promoteCommand({
      reportDir,
      repository: `${OPEN_REGISTRY}/${repository}`,
      digest: digests.c1 ?? "",
      version: "v1.0.0",
      latest: true,
    });
    const first = await sh(command);
    assert.equal(first.exitCode, 0, first.output);
    assert.equal(parseVerdictLine(first.stdout).value, digests.c1);
    assert.equal(await tagDigest(repository, "v1.0.0"), digests.c1);
    assert.equal(await tagDigest(repository, "latest"), digests.c1);
    const firstResult = JSON.parse(readFileSync(reportFile(reportDir, "promote"), "utf8"));
    const second = await sh(command);
    assert.equal(second.exitCode, 0, second.output);
    // The same decision and value (the wording differs: "already released, identical").
    assert.deepEqual(parseVerdictLine(second.stdout), parseVerdictLine(first.stdout));
    assert.match(second.stdout, /already released, identical .*latest already there/);
    const secondResult = JSON.parse(readFileSync(reportFile(reportDir, "promote"), "utf8"));
    assert.equal(firstResult.figures.versionChanged, true);
    assert.equal(secondResult.figures.versionChanged, false);
    assert.equal(secondResult.figures.latestChanged, false);
    assert.equal(secondResult.value, firstResult.value);
    process.stderr.write(`      (promote: first ${first.ms} ms, second ${second.ms} ms)\n`);
  });

  it("blocks with TAG_IMMUTABLE when :version holds another digest, moving nothing", async function () {
    const result = await sh(
      promoteCommand({
        reportDir,
        repository: `${OPEN_REGISTRY}/${repository}`,
        digest: digests.c2 ?? "",
        version: "v1.0.0",
        latest: true,
      }),
    );
    assert.equal(result.exitCode, 1, result.output);
    assert.match(result.firstLine, /^TAG_IMMUTABLE: .*app:v1\.0\.0 already holds another image/);
    assert.equal(await tagDigest(repository, "v1.0.0"), digests.c1);
    assert.equal(await tagDigest(repository, "latest"), digests.c1);
  });

  it("attaches evidence through the tag fallback, lists it and fetches it back", async function () {
    const files = join(work, "evidence");
    mkdirSync(files, { recursive: true });
    const reportJson = join(files, "report.json");
    writeFileSync(reportJson, JSON.stringify({ readiness: "READY", blockers: [] }));
    writeFileSync(join(files, "report.md"), "# Release v1.0.0: READY\n");
    writeFileSync(
      join(files, "sbom.cdx.json"),
      JSON.stringify({ bomFormat: "CycloneDX", specVersion: "1.5" }),
    );
    const attach = await sh(
      evidenceAttachCommand({
        reportDir,
        repository: `${OPEN_REGISTRY}/${repository}`,
        digest: digests.c1 ?? "",
        files: {
          report: [reportJson, join(files, "report.md")],
          sbom: [join(files, "sbom.cdx.json")],
        },
      }),
    );
    assert.equal(attach.exitCode, 0, attach.output);
    assert.match(attach.firstLine, /^PASS evidence attach: report, sbom attached .* \(via tag\)/);
    const hex = (digests.c1 ?? "").slice(7);
    assert.ok(await tagDigest(repository, `sha256-${hex}.report`), "fallback tag of the report");
    const target = `${OPEN_REGISTRY}/${repository}@${digests.c1}`;
    const list = await sh(shellJoin([GATE_BIN, "evidence", "list", target]));
    assert.equal(list.exitCode, 0, list.output);
    assert.match(list.firstLine, /2 artifact\(s\) attached .*; release report: READY/);
    const out = join(work, "fetched");
    const fetched = await sh(
      shellJoin([GATE_BIN, "evidence", "fetch", target, "--kind", "report", "--out", out]),
    );
    assert.equal(fetched.exitCode, 0, fetched.output);
    assert.equal(readFileSync(join(out, "report.md"), "utf8"), "# Release v1.0.0: READY\n");
    // A promotion that requires evidence: c1 has a READY report, c3 has none.
    const required = await sh(
      promoteCommand({
        reportDir,
        repository: `${OPEN_REGISTRY}/${repository}`,
        digest: digests.c3 ?? "",
        version: "v1.2.0",
        requireEvidence: true,
      }),
    );
    assert.equal(required.exitCode, 1, required.output);
    assert.match(required.firstLine, /^EVIDENCE_MISSING: /);
    assert.equal(await tagDigest(repository, "v1.2.0"), undefined);
  });

  it("prunes old candidates, never the released, evidence-bearing or protected digests", async function () {
    const result = await sh(
      pruneCommand({
        reportDir,
        repository: `${OPEN_REGISTRY}/${repository}`,
        keep: 1,
        protect: [digests.c2 ?? ""],
      }),
    );
    assert.equal(result.exitCode, 0, result.output);
    assert.match(result.firstLine, /deleted 1 candidate manifest\(s\) .*kept 1, protected 2/);
    assert.equal(
      await manifestExists(repository, digests.c1 ?? ""),
      true,
      "released (v1.0.0, latest)",
    );
    assert.equal(await manifestExists(repository, digests.c2 ?? ""), true, "protected");
    assert.equal(await manifestExists(repository, digests.c4 ?? ""), true, "newest candidate");
    assert.equal(
      await manifestExists(repository, digests.c3 ?? ""),
      false,
      "old candidate deleted",
    );
    assert.equal(await tagDigest(repository, "candidate-v1.2.0-runtime"), undefined);
    assert.equal(await tagDigest(repository, "latest"), digests.c1);
    const written = JSON.parse(readFileSync(reportFile(reportDir, "prune"), "utf8"));
    process.stderr.write(
      `      (prune: ${result.ms} ms, deleted ${written.figures.deletedBytes} B, kept ${written.figures.keptBytes} B, protected ${written.figures.protectedBytes} B)\n`,
    );
  });

  it("ends with PUSH_TIMEOUT within --timeout through a proxy that stalls writes, tagging nothing", async function () {
    const proxy = await stallingProxy();
    try {
      const result = await sh(
        promoteCommand({
          reportDir,
          repository: `${proxy.host}/${repository}`,
          digest: digests.c4 ?? "",
          version: "v1.3.0",
          latest: true,
          timeoutSeconds: 3,
        }),
      );
      assert.equal(result.exitCode, 1, result.output);
      assert.match(
        result.firstLine,
        /^PUSH_TIMEOUT: writing the manifest .*app:v1\.3\.0: .* stalled/,
      );
      assert.ok(result.ms < 15_000, `took ${result.ms} ms`);
      assert.deepEqual(proxy.stalled.length, 1);
      assert.equal(await tagDigest(repository, "v1.3.0"), undefined);
      assert.equal(await tagDigest(repository, "latest"), digests.c1);
      process.stderr.write(`      (PUSH_TIMEOUT after ${result.ms} ms with --timeout 3)\n`);
    } finally {
      await proxy.close();
    }
  });
});
