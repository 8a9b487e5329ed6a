import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { closedPort, FakeRegistry, OCI_INDEX, OCI_MANIFEST } from "./helpers/fakeRegistry";
import { fakeDocker, runCli } from "./helpers/registryGates";

describe("resolve gate", () => {
  let registry: FakeRegistry;
  beforeEach(async () => {
    registry = await new FakeRegistry().start();
  });
  afterEach(() => registry.stop());

  it("prints only the manifest digest of a tag on stdout", async () => {
    const image = registry.addImage("app", "one", ["v1.4.2"]);
    const run = await runCli([
      "resolve",
      "--repository",
      `${registry.host}/app`,
      "--ref",
      "v1.4.2",
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, `${image.digest}\n`);
    assert.match(run.stderr, /PASS resolve: .*app:v1\.4\.2 is sha256:/);
  });

  it("resolves a digest pin that exists", async () => {
    const image = registry.addImage("app", "one");
    const run = await runCli([
      "resolve",
      "--repository",
      `${registry.host}/app`,
      "--ref",
      image.digest,
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), image.digest);
  });

  it("blocks with ROLLBACK_TAG_NOT_FOUND naming the existing tags, newest first", async () => {
    await registry.stop();
    registry = await new FakeRegistry({ pageSize: 2 }).start();
    registry.addImage("acme/odoo", "one", ["v1.9.0", "v1.10.0", "latest"]);
    const run = await runCli([
      "resolve",
      "--repository",
      `${registry.host}/acme/odoo`,
      "--ref",
      "v1.4.2",
    ]);
    assert.equal(run.code, 1);
    assert.match(run.stdout, /^ROLLBACK_TAG_NOT_FOUND: tag v1\.4\.2 does not exist in /);
    assert.match(run.stdout, /tags in .*acme\/odoo: v1\.10\.0, v1\.9\.0, latest\n/);
    assert.match(run.stdout, /what to do: Pick one of the tags listed/);
  });

  it("blocks with ROLLBACK_TAG_NOT_FOUND for a digest that is not in the repository", async () => {
    registry.addImage("app", "one", ["v1"]);
    const missing = `sha256:${"0".repeat(64)}`;
    const run = await runCli(["resolve", "--repository", `${registry.host}/app`, "--ref", missing]);
    assert.equal(run.code, 1);
    assert.match(run.stdout, /^ROLLBACK_TAG_NOT_FOUND: digest sha256:0+ does not exist/);
  });

  it("uses SLIPWAY_REGISTRY_AUTH for a registry with the Bearer token flow", async () => {
    await registry.stop();
    registry = await new FakeRegistry({ auth: "bearer", username: "do", password: "tok" }).start();
    const image = registry.addImage("acme/odoo", "one", ["v2"]);
    const auth = JSON.stringify({
      auths: { [registry.host]: { auth: Buffer.from("do:tok").toString("base64") } },
    });
    const argv = ["resolve", "--repository", `${registry.host}/acme/odoo`, "--ref", "v2"];
    const run = await runCli(argv, { SLIPWAY_REGISTRY_AUTH: auth });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), image.digest);
    const denied = await runCli(argv);
    assert.equal(denied.code, 1);
    assert.match(denied.stdout, /^REGISTRY_AUTH_FAILURE: /);
  });

  it("blocks with REGISTRY_UNAVAILABLE when nothing listens", async () => {
    const port = await closedPort();
    const run = await runCli(["resolve", "--repository", `127.0.0.1:${port}/app`, "--ref", "v1"]);
    assert.equal(run.code, 1);
    assert.match(run.stdout, /^REGISTRY_UNAVAILABLE: .*ECONNREFUSED/);
  });

  it("is a usage error for a bad --ref or a --repository with a tag", async () => {
    const bad = await runCli(["resolve", "--repository", `${registry.host}/app`, "--ref", "-x"]);
    assert.equal(bad.code, 2);
    const tagged = await runCli([
      "resolve",
      "--repository",
      `${registry.host}/app:v1`,
      "--ref",
      "v1",
    ]);
    assert.equal(tagged.code, 2);
    assert.match(tagged.stderr, /without a tag or digest/);
    const missing = await runCli(["resolve", "--ref", "v1"]);
    assert.equal(missing.code, 2);
  });
});

describe("retag gate", () => {
  let registry: FakeRegistry;
  beforeEach(async () => {
    registry = await new FakeRegistry({ auth: "basic", username: "ci", password: "pw" }).start();
  });
  afterEach(() => registry.stop());
  const env = (): NodeJS.ProcessEnv => ({
    SLIPWAY_REGISTRY_AUTH: JSON.stringify({
      auths: { [registry.host]: { username: "ci", password: "pw" } },
    }),
  });

  it("points the tag at the digest without pulling, and the tag then resolves to it", async () => {
    const old = registry.addImage("app", "old", ["v1.4.2"], OCI_MANIFEST);
    registry.addImage("app", "new", ["v1.5.0", "latest"]);
    const run = await runCli(
      ["retag", "--repository", `${registry.host}/app`, "--digest", old.digest, "--tag", "latest"],
      env(),
    );
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.equal(run.stdout, `${old.digest}\n`);
    assert.equal(registry.tagged("app", "latest"), old.digest);
    const resolved = await runCli(
      ["resolve", "--repository", `${registry.host}/app`, "--ref", "latest"],
      env(),
    );
    assert.equal(resolved.stdout.trim(), old.digest);
  });

  it("keeps an index's digest when retagging it", async () => {
    const child = registry.addImage("app", "amd64", [], OCI_MANIFEST);
    const index = registry.addIndex(
      "app",
      [{ digest: child.digest, platform: "linux/amd64" }],
      [],
      OCI_INDEX,
    );
    const run = await runCli(
      [
        "retag",
        "--repository",
        `${registry.host}/app`,
        "--digest",
        index.digest,
        "--tag",
        "latest",
      ],
      env(),
    );
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.equal(registry.tagged("app", "latest"), index.digest);
  });

  it("writes nothing when the tag already points at the digest", async () => {
    const image = registry.addImage("app", "one", ["v1", "latest"]);
    const run = await runCli(
      [
        "retag",
        "--repository",
        `${registry.host}/app`,
        "--digest",
        image.digest,
        "--tag",
        "latest",
      ],
      env(),
    );
    assert.equal(run.code, 0);
    assert.match(run.stderr, /already points at/);
    assert.equal(registry.requests.filter((r) => r.method === "PUT").length, 0);
  });

  it("blocks with ROLLBACK_TAG_NOT_FOUND when the digest is not in the repository", async () => {
    registry.addImage("app", "one", ["v1"]);
    const run = await runCli(
      [
        "retag",
        "--repository",
        `${registry.host}/app`,
        "--digest",
        `sha256:${"a".repeat(64)}`,
        "--tag",
        "latest",
      ],
      env(),
    );
    assert.equal(run.code, 1);
    assert.match(run.stdout, /^ROLLBACK_TAG_NOT_FOUND: digest sha256:a+ does not exist/);
    assert.match(run.stdout, /tags in .*: v1/);
  });

  it("blocks with QUOTA_EXCEEDED when the registry refuses the write over quota", async () => {
    const image = registry.addImage("app", "one", ["v1"]);
    registry.quotaExceeded = true;
    const run = await runCli(
      [
        "retag",
        "--repository",
        `${registry.host}/app`,
        "--digest",
        image.digest,
        "--tag",
        "latest",
      ],
      env(),
    );
    assert.equal(run.code, 1);
    assert.match(run.stdout, /^QUOTA_EXCEEDED: /);
  });

  it("blocks with REGISTRY_AUTH_FAILURE without credentials", async () => {
    const image = registry.addImage("app", "one", ["v1"]);
    const run = await runCli([
      "retag",
      "--repository",
      `${registry.host}/app`,
      "--digest",
      image.digest,
      "--tag",
      "latest",
    ]);
    assert.equal(run.code, 1);
    assert.match(run.stdout, /^REGISTRY_AUTH_FAILURE: /);
    assert.equal(registry.tagged("app", "latest"), undefined);
  });
});

describe("tag-guard gate", () => {
  let registry: FakeRegistry;
  let docker: { path: string; cleanup(): void };
  before(() => {
    docker = fakeDocker();
  });
  after(() => docker.cleanup());
  beforeEach(async () => {
    registry = await new FakeRegistry().start();
  });
  afterEach(() => registry.stop());

  const guard = (imageId: string, tag = "v1.5.0", extra: string[] = []) =>
    runCli(
      [
        "tag-guard",
        "--repository",
        `${registry.host}/app`,
        "--tag",
        tag,
        "--image",
        "app:local",
        ...extra,
      ],
      { SLIPWAY_DOCKER: docker.path, FAKE_IMAGE_ID: imageId },
    );

  it("passes a version tag that does not exist yet: new version", async () => {
    registry.addImage("app", "old", ["v1.4.2"]);
    const run = await guard(`sha256:${"1".repeat(64)}`);
    assert.equal(run.code, 0, run.stdout);
    assert.match(run.stdout, /^PASS tag-guard: .*app:v1\.5\.0 does not exist yet: new version/);
  });

  it("passes when the tag holds the same image: push is a no-op", async () => {
    const image = registry.addImage("app", "same", ["v1.5.0"]);
    const run = await guard(image.configDigest);
    assert.equal(run.code, 0, run.stdout);
    assert.match(run.stdout, /already released, identical: push is a no-op/);
  });

  it("blocks with TAG_IMMUTABLE when the tag holds another image", async () => {
    const image = registry.addImage("app", "released", ["v1.5.0"]);
    const dir = mkdtempSync(join(tmpdir(), "slipway-tag-guard-"));
    try {
      const run = await guard(`sha256:${"2".repeat(64)}`, "v1.5.0", [
        "--json",
        join(dir, "r.json"),
      ]);
      assert.equal(run.code, 1);
      assert.match(run.stdout, /^TAG_IMMUTABLE: .*app:v1\.5\.0 already holds another image/);
      assert.match(run.stdout, new RegExp(`image ${image.configDigest}`));
      assert.match(run.stdout, /local: app:local = sha256:2+/);
      const json = JSON.parse(readFileSync(join(dir, "r.json"), "utf8")) as Record<string, unknown>;
      assert.equal(json.code, "TAG_IMMUTABLE");
      assert.equal(json.verdict, "block");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("compares against the platform images of an index", async () => {
    const amd64 = registry.addImage("app", "amd64", [], OCI_MANIFEST);
    const arm64 = registry.addImage("app", "arm64", [], OCI_MANIFEST);
    registry.addIndex(
      "app",
      [
        { digest: amd64.digest, platform: "linux/amd64" },
        { digest: arm64.digest, platform: "linux/arm64" },
      ],
      ["v1.5.0"],
    );
    assert.equal((await guard(arm64.configDigest)).code, 0);
    assert.equal((await guard(`sha256:${"3".repeat(64)}`)).code, 1);
  });

  it("blocks with BUILD_FAILURE when the local image does not exist", async () => {
    const run = await guard("");
    assert.equal(run.code, 1);
    assert.match(run.stdout, /^BUILD_FAILURE: the local image app:local does not exist/);
  });

  it("blocks with DOCKER_UNAVAILABLE when the docker binary is missing", async () => {
    const run = await runCli(
      ["tag-guard", "--repository", `${registry.host}/app`, "--tag", "v1", "--image", "app:local"],
      { SLIPWAY_DOCKER: "/nonexistent/docker" },
    );
    assert.equal(run.code, 1);
    assert.match(run.stdout, /^DOCKER_UNAVAILABLE: /);
  });
});
