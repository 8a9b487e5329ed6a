import assert from "node:assert/strict";
import { createServer, IncomingMessage, Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decidePrune } from "../../gates/release/prune";
import { docrDeleteManifest } from "../../gates/registry/docr";
import { kindOfTag, TaggedManifest } from "../../gates/registry/space";
import { GateError } from "../../gates/result";
import { FakeRegistry } from "./helpers/fakeRegistry";
import { runCli } from "./helpers/registryGates";

const day = (n: number): string => `2026-11-${String(n).padStart(2, "0")}T10:00:00Z`;

describe("prune gate", () => {
  let registry: FakeRegistry;
  let dir: string;
  beforeEach(async () => {
    registry = await new FakeRegistry().start();
    dir = mkdtempSync(join(tmpdir(), "slipway-prune-"));
  });
  afterEach(async () => {
    await registry.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function image(name: string, tags: string[], created: number, layerSize = 1_000_000) {
    return registry.addImage("acme/odoo", name, tags, undefined, {
      created: day(created),
      layerSize,
    });
  }

  it("keeps the newest N candidates by created, deletes the rest, never a released, cached or protected digest", async () => {
    const released = image("rel", ["candidate-v1.0.0-runtime", "v1.0.0", "latest"], 1);
    const deployedElsewhere = image("deployed", ["candidate-v1.1.0-runtime"], 2);
    const cache = image("cache", ["candidate-v1.2.0-builder", "buildcache-builder"], 3);
    const old = image("old", ["candidate-v1.2.0-runtime"], 4, 2_000_000);
    // Tag order says v1.9 is older than v1.10; `created` decides first.
    const newest = image("newest", ["candidate-v1.9.0-runtime"], 9);
    const second = image("second", ["candidate-v1.10.0-runtime"], 8);
    const json = join(dir, "prune.json");
    const run = await runCli([
      "prune",
      "--repository",
      `${registry.host}/acme/odoo`,
      "--keep",
      "2",
      "--protect",
      deployedElsewhere.digest,
      "--json",
      json,
    ]);
    assert.equal(run.code, 0, run.stdout);
    assert.match(
      run.stdout,
      /^PASS prune: .*: deleted 1 candidate manifest\(s\) \(2 MB\), kept 2, protected 3/,
    );
    for (const kept of [released, deployedElsewhere, cache, newest, second]) {
      assert.ok(registry.hasManifest("acme/odoo", kept.digest), `kept ${kept.digest}`);
    }
    assert.equal(registry.hasManifest("acme/odoo", old.digest), false);
    assert.equal(registry.tagged("acme/odoo", "candidate-v1.2.0-runtime"), undefined);
    assert.equal(registry.tagged("acme/odoo", "latest"), released.digest);
    const result = JSON.parse(readFileSync(json, "utf8"));
    assert.equal(result.figures.deletedBytes, 2_000_000);
    assert.equal(result.figures.keptBytes, 2_000_000);
    assert.equal(result.figures.protectedBytes, 3_000_000);
    const actions = Object.fromEntries(
      result.findings.map((f: { digest: string; action: string }) => [f.digest, f.action]),
    );
    assert.deepEqual(actions, {
      [released.digest]: "protected",
      [deployedElsewhere.digest]: "protected",
      [cache.digest]: "protected",
      [old.digest]: "delete",
      [newest.digest]: "keep",
      [second.digest]: "keep",
    });
  });

  it("--dry-run deletes nothing and reports what it would delete", async () => {
    const a = image("a", ["candidate-v1-runtime"], 1);
    image("b", ["candidate-v2-runtime"], 2);
    const run = await runCli([
      "prune",
      "--repository",
      `${registry.host}/acme/odoo`,
      "--keep",
      "1",
      "--dry-run",
    ]);
    assert.equal(run.code, 0, run.stdout);
    assert.match(run.stdout, /would delete 1 candidate manifest/);
    assert.ok(registry.hasManifest("acme/odoo", a.digest));
    assert.equal(registry.requests.filter((r) => r.method === "DELETE").length, 0);
  });

  it("blocks with REGISTRY_UNAVAILABLE when the registry does not allow deletes", async () => {
    await registry.stop();
    registry = await new FakeRegistry({ noDelete: true }).start();
    image("a", ["candidate-v1-runtime"], 1);
    image("b", ["candidate-v2-runtime"], 2);
    const run = await runCli([
      "prune",
      "--repository",
      `${registry.host}/acme/odoo`,
      "--keep",
      "1",
    ]);
    assert.equal(run.code, 1);
    assert.match(
      run.stdout,
      /^REGISTRY_UNAVAILABLE: deleting acme\/odoo@sha256:[0-9a-f]+: the registry does not allow deletes/,
    );
  });
});

describe("prune policy", () => {
  const entry = (digest: string, tags: string[]): TaggedManifest => ({
    digest,
    tags,
    kind: kindOfTag(tags[0] ?? ""),
    bytes: 10,
  });

  it("falls back to tag order (newest version first) when no config says when it was created", () => {
    const decisions = decidePrune(
      [
        entry("sha256:a", ["candidate-v1.9.0-runtime"]),
        entry("sha256:b", ["candidate-v1.10.0-runtime"]),
        entry("sha256:c", ["candidate-v1.2.0-runtime"]),
      ],
      1,
      [],
      new Map(),
    );
    assert.deepEqual(
      decisions.map((d) => [d.entry.digest, d.action]),
      [
        ["sha256:b", "keep"],
        ["sha256:a", "delete"],
        ["sha256:c", "delete"],
      ],
    );
  });

  it("with --keep 0 still never deletes a digest an evidence or release tag points at", () => {
    const decisions = decidePrune(
      [
        entry("sha256:a", ["candidate-v1-runtime", "v1"]),
        entry("sha256:b", ["candidate-v2-runtime", `sha256-${"e".repeat(64)}.report`]),
        entry("sha256:c", ["v0"]),
      ],
      0,
      [],
      new Map(),
    );
    assert.deepEqual(
      decisions.map((d) => [d.entry.digest, d.action]),
      [
        ["sha256:a", "protected"],
        ["sha256:b", "protected"],
      ],
    );
  });

  it("classifies tags by kind", () => {
    assert.deepEqual(
      [
        "v1.4.2",
        "latest",
        "candidate-v1-runtime",
        "buildcache-runtime",
        `sha256-${"0".repeat(64)}.sbom`,
        "nightly",
      ].map(kindOfTag),
      ["releases", "releases", "candidates", "cache", "evidence", "other"],
    );
  });
});

describe("DOCR deletes through the DigitalOcean API", () => {
  let server: Server;
  let base: string;
  const seen: { method: string; url: string; authorization: string }[] = [];
  let status = 204;
  before(async () => {
    server = createServer((req: IncomingMessage, res) => {
      seen.push({
        method: req.method ?? "",
        url: req.url ?? "",
        authorization: req.headers.authorization ?? "",
      });
      res.statusCode = status;
      res.end(
        status === 204
          ? undefined
          : JSON.stringify({ id: "unauthorized", message: "Unable to authenticate you." }),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => {
    seen.length = 0;
    status = 204;
  });

  const digest = `sha256:${"c".repeat(64)}`;

  it("sends DELETE /v2/registry/<registry>/repositories/<repo, URL-encoded>/digests/<digest> with the token", async () => {
    const deleted = await docrDeleteManifest({
      repository: "acme/team/odoo",
      digest,
      env: { DIGITALOCEAN_TOKEN: "dop_v1_test", SLIPWAY_DO_API_URL: base },
      timeoutMs: 5000,
    });
    assert.equal(deleted, true);
    assert.deepEqual(seen, [
      {
        method: "DELETE",
        url: `/v2/registry/acme/repositories/team%2Fodoo/digests/${digest}`,
        authorization: "Bearer dop_v1_test",
      },
    ]);
  });

  it("maps a refused token to REGISTRY_AUTH_FAILURE and a missing token before any request", async () => {
    status = 401;
    await assert.rejects(
      docrDeleteManifest({
        repository: "acme/odoo",
        digest,
        env: { DIGITALOCEAN_TOKEN: "bad", SLIPWAY_DO_API_URL: base },
        timeoutMs: 5000,
      }),
      (err: GateError) => err.code === "REGISTRY_AUTH_FAILURE" && /HTTP 401/.test(err.message),
    );
    seen.length = 0;
    await assert.rejects(
      docrDeleteManifest({
        repository: "acme/odoo",
        digest,
        env: { SLIPWAY_DO_API_URL: base },
        timeoutMs: 5000,
      }),
      (err: GateError) =>
        err.code === "REGISTRY_AUTH_FAILURE" && /DIGITALOCEAN_TOKEN is not set/.test(err.message),
    );
    assert.equal(seen.length, 0);
  });
});
