import assert from "node:assert/strict";
import { compareBase, parsePinnedBase } from "../../gates/base";
import { UsageError } from "../../gates/result";
import { closedPort, FakeRegistry, OCI_MANIFEST } from "./helpers/fakeRegistry";
import { runCli } from "./helpers/registryGates";

const PINNED = "sha256:9e25f400253a5fa3191813d6a67eb801ca1e6f012b3bd2588fa6920b59e3eba6";
const NEWER = `sha256:${"b".repeat(64)}`;
const REF = `python:3.11-slim-bullseye@${PINNED}`;

describe("base gate with --current", () => {
  it("passes when the tag still resolves to the pinned digest", async () => {
    const run = await runCli(["base", "--ref", REF, "--current", PINNED]);
    assert.equal(run.code, 0);
    assert.match(run.stdout, /^PASS base: python:3\.11-slim-bullseye still resolves to the pinned/);
  });

  it("warns with BASE_IMAGE_DRIFT naming the full ref to pin next, and exits 0", async () => {
    const run = await runCli(["base", "--ref", REF, "--current", NEWER]);
    assert.equal(run.code, 0);
    assert.match(
      run.stdout,
      /^BASE_IMAGE_DRIFT: python:3\.11-slim-bullseye now resolves to sha256:b+/,
    );
    assert.match(run.stdout, new RegExp(`pin next: python:3\\.11-slim-bullseye@${NEWER}`));
  });

  it("blocks on drift with --strict", async () => {
    const run = await runCli(["base", "--ref", REF, "--current", NEWER, "--strict"]);
    assert.equal(run.code, 1);
    assert.match(run.stdout, /^BASE_IMAGE_DRIFT: /);
  });

  it("is a usage error for an unpinned, untagged or malformed reference", async () => {
    const unpinned = await runCli(["base", "--ref", "python:3.11-slim", "--current", PINNED]);
    assert.equal(unpinned.code, 2);
    assert.match(unpinned.stderr, /is not pinned/);
    const untagged = await runCli(["base", "--ref", `python@${PINNED}`, "--current", PINNED]);
    assert.equal(untagged.code, 2);
    assert.match(untagged.stderr, /has no tag/);
    assert.equal((await runCli(["base", "--ref", "Py thon"])).code, 2);
    assert.equal((await runCli(["base", "--ref", REF, "--current", "sha256:12"])).code, 2);
    assert.equal((await runCli(["base"])).code, 2);
  });
});

describe("base gate against the registry", () => {
  let registry: FakeRegistry;
  beforeEach(async () => {
    registry = await new FakeRegistry().start();
  });
  afterEach(() => registry.stop());

  it("passes when the registry's tag is the pinned digest", async () => {
    const image = registry.addImage("base/debian", "bookworm", ["bookworm"]);
    const run = await runCli([
      "base",
      "--ref",
      `${registry.host}/base/debian:bookworm@${image.digest}`,
    ]);
    assert.equal(run.code, 0, run.stdout);
    assert.match(run.stdout, /^PASS base: /);
  });

  it("warns with the digest the tag resolves to now", async () => {
    const old = registry.addImage("base/debian", "old");
    const now = registry.addImage("base/debian", "new", ["bookworm"]);
    const ref = `${registry.host}/base/debian:bookworm`;
    const run = await runCli(["base", "--ref", `${ref}@${old.digest}`]);
    assert.equal(run.code, 0);
    assert.match(run.stdout, /^BASE_IMAGE_DRIFT: /);
    assert.ok(run.stdout.includes(`pin next: ${ref}@${now.digest}`), run.stdout);
  });

  it("accepts a pin on one platform manifest of the tag's current index", async () => {
    const amd64 = registry.addImage("base/python", "amd64", [], OCI_MANIFEST);
    registry.addIndex("base/python", [{ digest: amd64.digest, platform: "linux/amd64" }], ["3.11"]);
    const run = await runCli([
      "base",
      "--ref",
      `${registry.host}/base/python:3.11@${amd64.digest}`,
    ]);
    assert.equal(run.code, 0, run.stdout);
    assert.match(run.stdout, /^PASS base: .*its linux\/amd64 manifest/);
  });

  it("reports a tag that no longer exists as drift", async () => {
    registry.addImage("base/debian", "x", ["trixie"]);
    const run = await runCli(["base", "--ref", `${registry.host}/base/debian:bookworm@${PINNED}`]);
    assert.equal(run.code, 0);
    assert.match(run.stdout, /^BASE_IMAGE_DRIFT: .* no longer exists/);
    const strict = await runCli([
      "base",
      "--ref",
      `${registry.host}/base/debian:bookworm@${PINNED}`,
      "--strict",
    ]);
    assert.equal(strict.code, 1);
  });

  it("warns that drift could not be checked when the registry is down, blocks with --strict", async () => {
    const port = await closedPort();
    const ref = `127.0.0.1:${port}/base/debian:bookworm@${PINNED}`;
    const run = await runCli(["base", "--ref", ref]);
    assert.equal(run.code, 0);
    assert.match(run.stdout, /^REGISTRY_UNAVAILABLE: drift of .* could not be checked/);
    const strict = await runCli(["base", "--ref", ref, "--strict"]);
    assert.equal(strict.code, 1);
    assert.match(strict.stdout, /^REGISTRY_UNAVAILABLE: /);
  });

  it("treats a 5xx answer the same way", async () => {
    registry.forceStatus = 502;
    const run = await runCli(["base", "--ref", `${registry.host}/base/debian:bookworm@${PINNED}`]);
    assert.equal(run.code, 0);
    assert.match(run.stdout, /^REGISTRY_UNAVAILABLE: /);
  });
});

describe("base drift logic", () => {
  it("keeps the user's spelling of the name in the next pin", () => {
    const base = parsePinnedBase(`docker.io/library/python:3.11@${PINNED}`);
    const result = compareBase(base, NEWER, false);
    assert.equal(result.verdict, "warn");
    assert.equal(result.figures.next, `docker.io/library/python:3.11@${NEWER}`);
  });

  it("rejects an unpinned reference as a usage error", () => {
    assert.throws(() => parsePinnedBase("python:3.11"), UsageError);
  });
});
