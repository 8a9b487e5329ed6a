import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FakeRegistry } from "./helpers/fakeRegistry";
import { runCli } from "./helpers/registryGates";

function promote(registry: FakeRegistry, digest: string, version: string, ...more: string[]) {
  return runCli([
    "promote",
    "--repository",
    `${registry.host}/acme/odoo`,
    "--digest",
    digest,
    "--version",
    version,
    ...more,
  ]);
}

describe("promote gate", () => {
  let registry: FakeRegistry;
  let dir: string;
  beforeEach(async () => {
    registry = await new FakeRegistry().start();
    dir = mkdtempSync(join(tmpdir(), "slipway-promote-"));
  });
  afterEach(async () => {
    await registry.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("puts the candidate's exact manifest under :version and :latest, printing the digest", async () => {
    const old = registry.addImage("acme/odoo", "old", ["v1.4.2", "latest"]);
    const candidate = registry.addImage("acme/odoo", "new", ["candidate-v1.4.3-runtime"]);
    const json = join(dir, "promote.json");
    const run = await promote(registry, candidate.digest, "v1.4.3", "--latest", "--json", json);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, `${candidate.digest}\n`);
    assert.equal(registry.tagged("acme/odoo", "v1.4.3"), candidate.digest);
    assert.equal(registry.tagged("acme/odoo", "latest"), candidate.digest);
    assert.equal(registry.tagged("acme/odoo", "v1.4.2"), old.digest);
    const result = JSON.parse(readFileSync(json, "utf8"));
    assert.equal(result.value, candidate.digest);
    assert.deepEqual(
      {
        previousVersion: result.figures.previousVersion,
        previousLatest: result.figures.previousLatest,
        versionChanged: result.figures.versionChanged,
        latestChanged: result.figures.latestChanged,
      },
      {
        previousVersion: "(absent)",
        previousLatest: old.digest,
        versionChanged: true,
        latestChanged: true,
      },
    );
    // Registry-side: manifests only, no blob was uploaded.
    assert.equal(
      registry.requests.filter((r) => r.url.includes("/blobs/")).length,
      0,
      "no blob request",
    );
  });

  it("is idempotent: a second run changes nothing and gives the same value", async () => {
    const candidate = registry.addImage("acme/odoo", "new", ["candidate-v2-runtime"]);
    const first = await promote(registry, candidate.digest, "v2", "--latest");
    const puts = registry.requests.filter((r) => r.method === "PUT").length;
    const second = await promote(registry, candidate.digest, "v2", "--latest");
    assert.equal(first.code, 0, first.stderr);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.stdout, first.stdout);
    assert.match(second.stderr, /already released, identical .*; latest already there/);
    assert.equal(registry.requests.filter((r) => r.method === "PUT").length, puts, "no new PUT");
  });

  it("completes latest on a re-run after a failure between the two PUTs", async () => {
    const old = registry.addImage("acme/odoo", "old", ["latest"]);
    const candidate = registry.addImage("acme/odoo", "new", ["v3"]);
    assert.equal(registry.tagged("acme/odoo", "latest"), old.digest);
    const run = await promote(registry, candidate.digest, "v3", "--latest");
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /already released, identical .*; latest moved from sha256:/);
    assert.equal(registry.tagged("acme/odoo", "latest"), candidate.digest);
  });

  it("blocks with TAG_IMMUTABLE when :version holds another digest, and moves nothing", async () => {
    const released = registry.addImage("acme/odoo", "released", ["v1.4.3", "latest"]);
    const candidate = registry.addImage("acme/odoo", "rebuilt", ["candidate-v1.4.3-runtime"]);
    const run = await promote(registry, candidate.digest, "v1.4.3", "--latest");
    assert.equal(run.code, 1);
    assert.match(run.stdout, /^TAG_IMMUTABLE: .*acme\/odoo:v1\.4\.3 already holds another image/);
    assert.match(run.stdout, /latest not moved/);
    assert.equal(registry.tagged("acme/odoo", "v1.4.3"), released.digest);
    assert.equal(registry.tagged("acme/odoo", "latest"), released.digest);
    assert.equal(registry.requests.filter((r) => r.method === "PUT").length, 0);
  });

  it("blocks with CANDIDATE_NOT_FOUND naming the tags when the digest is not in the repository", async () => {
    registry.addImage("acme/odoo", "one", ["v1", "candidate-v2-runtime"]);
    const run = await promote(registry, `sha256:${"a".repeat(64)}`, "v2", "--latest");
    assert.equal(run.code, 1);
    assert.match(run.stdout, /^CANDIDATE_NOT_FOUND: digest sha256:a+ does not exist in /);
    assert.match(run.stdout, /tags in .*: v1, candidate-v2-runtime/);
    assert.equal(registry.tagged("acme/odoo", "v2"), undefined);
  });

  it("ends with PUSH_TIMEOUT within --timeout when the registry stalls writes, tagging nothing", async () => {
    const candidate = registry.addImage("acme/odoo", "new", ["candidate-v5-runtime"]);
    registry.stallWrites = true;
    const started = Date.now();
    const run = await promote(registry, candidate.digest, "v5", "--latest", "--timeout", "0.5");
    const took = Date.now() - started;
    assert.equal(run.code, 1);
    assert.match(run.stdout, /^PUSH_TIMEOUT: writing the manifest acme\/odoo:v5: .* stalled/);
    assert.ok(took < 5000, `took ${took} ms`);
    assert.equal(registry.tagged("acme/odoo", "v5"), undefined);
    assert.equal(registry.tagged("acme/odoo", "latest"), undefined);
  });

  it("lists the repository's space by kind when the registry refuses the write over quota", async () => {
    registry.addImage("acme/odoo", "rel", ["v1", "latest"], undefined, { layerSize: 5_000_000 });
    registry.addImage("acme/odoo", "c1", ["candidate-v2-runtime"], undefined, {
      layerSize: 7_000_000,
    });
    registry.addImage("acme/odoo", "cache", ["buildcache-runtime"], undefined, {
      layerSize: 1_000,
    });
    const candidate = registry.addImage("acme/odoo", "c2", ["candidate-v3-runtime"]);
    registry.quotaExceeded = true;
    const run = await promote(registry, candidate.digest, "v3");
    assert.equal(run.code, 1);
    assert.match(run.stdout, /^QUOTA_EXCEEDED: writing the manifest acme\/odoo:v3/);
    assert.match(run.stdout, /releases: 1 manifest, 5 MB/);
    assert.match(run.stdout, /candidates: 2 manifests, 7 MB/);
    assert.match(run.stdout, /cache: 1 manifest, 1 kB/);
    assert.match(run.stdout, /slipway-gate prune --keep N/);
  });

  it("refuses --timeout that is not a positive number (usage)", async () => {
    const candidate = registry.addImage("acme/odoo", "new");
    const run = await promote(registry, candidate.digest, "v1", "--timeout", "soon");
    assert.equal(run.code, 2);
    assert.match(run.stderr, /--timeout soon: expected a positive number of seconds/);
  });
});

describe("retag --timeout", () => {
  let registry: FakeRegistry;
  beforeEach(async () => {
    registry = await new FakeRegistry().start();
  });
  afterEach(() => registry.stop());

  it("ends with PUSH_TIMEOUT within the budget when the registry stalls the PUT, latest unmoved", async () => {
    const old = registry.addImage("app", "old", ["latest"]);
    const target = registry.addImage("app", "new", ["v2"]);
    registry.stallWrites = true;
    const run = await runCli([
      "retag",
      "--repository",
      `${registry.host}/app`,
      "--digest",
      target.digest,
      "--tag",
      "latest",
      "--timeout",
      "0.5",
    ]);
    assert.equal(run.code, 1);
    assert.match(
      run.stdout,
      /^PUSH_TIMEOUT: writing the manifest app:latest: .* stalled, no answer within the operation's budget of 0\.5 s/,
    );
    assert.equal(registry.tagged("app", "latest"), old.digest);
  });
});
