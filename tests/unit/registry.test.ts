import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseChallenges } from "../../gates/registry/challenge";
import { RegistryClient } from "../../gates/registry/client";
import {
  credentialsFor,
  credentialsFromConfig,
  RegistryCredentials,
} from "../../gates/registry/credentials";
import { errorForResponse } from "../../gates/registry/errors";
import { parseManifest } from "../../gates/registry/manifest";
import { timeoutFromEnv } from "../../gates/registry/open";
import { describeTags, nextPageUrl, sortTags } from "../../gates/registry/tags";
import { GateError } from "../../gates/result";
import {
  closedPort,
  DOCKER_MANIFEST,
  FakeRegistry,
  OCI_MANIFEST,
  sha256,
} from "./helpers/fakeRegistry";

const basic = (username: string, password: string): RegistryCredentials => ({
  kind: "basic",
  username,
  password,
  source: "test",
});
const anonymous: RegistryCredentials = { kind: "anonymous", source: "test" };

function client(registry: FakeRegistry, credentials = anonymous, timeoutMs = 5000): RegistryClient {
  return new RegistryClient({ host: registry.host, credentials, timeoutMs });
}

/** Asserts the promise rejects with a GateError of that code; returns it for further checks. */
async function rejectsWith(promise: Promise<unknown>, code: string): Promise<GateError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof GateError, `expected a GateError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`expected ${code}, but it resolved`);
}

describe("registry client (no auth)", () => {
  let registry: FakeRegistry;
  beforeEach(async () => {
    registry = await new FakeRegistry().start();
  });
  afterEach(() => registry.stop());

  it("resolves a tag to the digest of the v2 manifest, asking for the modern media types", async () => {
    const image = registry.addImage("app", "one", ["v1"]);
    const head = await client(registry).headManifest("app", "v1");
    assert.deepEqual(head, {
      found: true,
      reference: "v1",
      digest: image.digest,
      mediaType: DOCKER_MANIFEST,
    });
    const accept = registry.requests[0]?.accept ?? "";
    for (const type of [DOCKER_MANIFEST, OCI_MANIFEST, "manifest.list.v2", "image.index.v1"]) {
      assert.ok(accept.includes(type), `Accept lacks ${type}: ${accept}`);
    }
  });

  it("reads a manifest by digest with its exact bytes and media type", async () => {
    const image = registry.addImage("team/app", "one", [], OCI_MANIFEST);
    const got = await client(registry).getManifest("team/app", image.digest);
    assert.ok(got.found);
    assert.ok(got.body.equals(image.body));
    assert.equal(got.mediaType, OCI_MANIFEST);
    assert.equal(got.manifest.kind, "image");
    assert.equal(got.manifest.kind === "image" && got.manifest.configDigest, image.configDigest);
  });

  it("returns a typed not-found result for an unknown tag and an unknown repository", async () => {
    registry.addImage("app", "one", ["v1"]);
    const missingTag = await client(registry).getManifest("app", "v9");
    assert.equal(missingTag.found, false);
    assert.match(!missingTag.found ? missingTag.reason : "", /MANIFEST_UNKNOWN/);
    const missingRepo = await client(registry).getManifest("nope", "v1");
    assert.match(!missingRepo.found ? missingRepo.reason : "", /NAME_UNKNOWN/);
    assert.equal((await client(registry).headManifest("app", "v9")).found, false);
  });

  it("falls back to GET and hashes the body when HEAD carries no digest", async () => {
    await registry.stop();
    registry = await new FakeRegistry({ omitHeadDigest: true }).start();
    const image = registry.addImage("app", "one", ["v1"]);
    const head = await client(registry).headManifest("app", "v1");
    assert.equal(head.found && head.digest, image.digest);
    assert.deepEqual(
      registry.requests.map((r) => r.method),
      ["HEAD", "GET"],
    );
  });

  it("puts a manifest under a new tag, keeping its digest", async () => {
    const image = registry.addImage("app", "one", ["v1"]);
    const stored = await client(registry).putManifest("app", "latest", image.body, DOCKER_MANIFEST);
    assert.equal(stored, image.digest);
    assert.equal(registry.tagged("app", "latest"), image.digest);
  });

  it("maps a rejected manifest to MANIFEST_ERROR", async () => {
    const err = await rejectsWith(
      client(registry).putManifest("app", "x", Buffer.from("{not json"), DOCKER_MANIFEST),
      "MANIFEST_ERROR",
    );
    assert.match(err.details.join("\n"), /MANIFEST_INVALID/);
  });

  it("maps DOCR's quota refusal to QUOTA_EXCEEDED, not to an auth failure", async () => {
    const image = registry.addImage("app", "one", ["v1"]);
    registry.quotaExceeded = true;
    const err = await rejectsWith(
      client(registry).putManifest("app", "latest", image.body, DOCKER_MANIFEST),
      "QUOTA_EXCEEDED",
    );
    assert.match(err.details.join("\n"), /storage quota exceeded/);
  });

  it("follows Link pagination to list every tag", async () => {
    await registry.stop();
    registry = await new FakeRegistry({ pageSize: 2 }).start();
    registry.addImage("app", "one", ["v1", "v2", "v3", "v4", "latest"]);
    const tags = await client(registry).listTags("app");
    assert.deepEqual([...tags].sort(), ["latest", "v1", "v2", "v3", "v4"]);
    assert.equal(registry.requests.filter((r) => r.url.includes("/tags/list")).length, 3);
  });

  it("lists no tags for an unknown repository", async () => {
    assert.deepEqual(await client(registry).listTags("nope"), []);
  });

  it("maps a 5xx answer to REGISTRY_UNAVAILABLE", async () => {
    registry.forceStatus = 503;
    const err = await rejectsWith(
      client(registry).headManifest("app", "v1"),
      "REGISTRY_UNAVAILABLE",
    );
    assert.match(err.message, /HTTP 503/);
  });

  it("maps a registry that never answers to NETWORK_TIMEOUT within the per-request timeout", async () => {
    registry.hang = true;
    const started = Date.now();
    const err = await rejectsWith(
      client(registry, anonymous, 200).headManifest("app", "v1"),
      "NETWORK_TIMEOUT",
    );
    assert.ok(Date.now() - started < 2000);
    assert.match(err.message, /0\.2 s/);
  });

  it("maps a refused connection to REGISTRY_UNAVAILABLE", async () => {
    const port = await closedPort();
    const closed = new RegistryClient({ host: `127.0.0.1:${port}`, credentials: anonymous });
    const err = await rejectsWith(closed.headManifest("app", "v1"), "REGISTRY_UNAVAILABLE");
    assert.match(err.message, /ECONNREFUSED/);
  });

  it("refuses a manifest whose bytes do not hash to the digest asked for", async () => {
    const image = registry.addImage("app", "one", ["v1"]);
    const other = registry.addImage("app", "two");
    registry.replaceBytes("app", image.digest, other.body);
    const err = await rejectsWith(
      client(registry).getManifest("app", image.digest),
      "MANIFEST_ERROR",
    );
    assert.match(err.message, /hash to/);
  });
});

describe("registry client (Basic auth)", () => {
  let registry: FakeRegistry;
  beforeEach(async () => {
    registry = await new FakeRegistry({
      auth: "basic",
      username: "ci",
      password: "s3cret",
    }).start();
    registry.addImage("app", "one", ["v1"]);
  });
  afterEach(() => registry.stop());

  it("answers the Basic challenge with the configured credentials", async () => {
    const c = client(registry, basic("ci", "s3cret"));
    assert.equal((await c.headManifest("app", "v1")).found, true);
    assert.equal((await c.headManifest("app", "v1")).found, true);
    // Challenge once, then the known scheme is sent up front.
    assert.deepEqual(
      registry.requests.map((r) => r.authorization === undefined),
      [true, false, false],
    );
  });

  it("fails with REGISTRY_AUTH_FAILURE naming SLIPWAY_REGISTRY_AUTH when no credentials exist", async () => {
    const err = await rejectsWith(
      client(registry).headManifest("app", "v1"),
      "REGISTRY_AUTH_FAILURE",
    );
    assert.match(err.details.join("\n"), /no credentials for 127\.0\.0\.1:\d+/);
    assert.match(err.details.join("\n"), /SLIPWAY_REGISTRY_AUTH/);
  });

  it("fails with REGISTRY_AUTH_FAILURE on wrong credentials", async () => {
    const err = await rejectsWith(
      client(registry, basic("ci", "wrong")).headManifest("app", "v1"),
      "REGISTRY_AUTH_FAILURE",
    );
    assert.match(err.details.join("\n"), /were refused/);
  });
});

describe("registry client (Bearer token flow)", () => {
  let registry: FakeRegistry;
  beforeEach(async () => {
    registry = await new FakeRegistry({ auth: "bearer", username: "ci", password: "tok" }).start();
    registry.addImage("acme/odoo", "one", ["v1"]);
  });
  afterEach(() => registry.stop());

  it("gets a token from the realm with basic credentials, service and scope, then reuses it", async () => {
    const c = client(registry, basic("ci", "tok"));
    assert.equal((await c.headManifest("acme/odoo", "v1")).found, true);
    assert.equal((await c.getManifest("acme/odoo", "v1")).found, true);
    const tokenRequests = registry.requests.filter((r) => r.url.startsWith("/token"));
    assert.equal(tokenRequests.length, 1);
    const tokenUrl = new URL(tokenRequests[0]?.url ?? "", registry.url);
    assert.equal(tokenUrl.searchParams.get("service"), "fake-registry");
    assert.equal(tokenUrl.searchParams.get("scope"), "repository:acme/odoo:pull");
    assert.equal(
      tokenRequests[0]?.authorization,
      `Basic ${Buffer.from("ci:tok").toString("base64")}`,
    );
  });

  it("asks for a push-scoped token to put a manifest", async () => {
    const c = client(registry, basic("ci", "tok"));
    const source = await c.getManifest("acme/odoo", "v1");
    assert.ok(source.found);
    await c.putManifest("acme/odoo", "latest", source.body, source.mediaType);
    assert.equal(registry.tagged("acme/odoo", "latest"), source.digest);
    const scopes = registry.requests
      .filter((r) => r.url.startsWith("/token"))
      .map((r) => new URL(r.url, registry.url).searchParams.get("scope"));
    assert.deepEqual(scopes, ["repository:acme/odoo:pull", "repository:acme/odoo:pull,push"]);
  });

  it("fails with REGISTRY_AUTH_FAILURE when the token service refuses the credentials", async () => {
    await rejectsWith(
      client(registry, basic("ci", "bad")).headManifest("acme/odoo", "v1"),
      "REGISTRY_AUTH_FAILURE",
    );
  });

  it("says credential helpers are not supported when the config delegates the host to one", async () => {
    const helper = credentialsFromConfig({ credsStore: "desktop" }, registry.host, "config.json");
    const err = await rejectsWith(
      client(registry, helper).headManifest("acme/odoo", "v1"),
      "REGISTRY_AUTH_FAILURE",
    );
    assert.match(err.details.join("\n"), /docker-credential-desktop, which Slipway does not run/);
  });
});

describe("registry credentials", () => {
  const encoded = Buffer.from("dop_v1_abc:dop_v1_abc").toString("base64");

  it("reads DOCR's DockerCredentials document from SLIPWAY_REGISTRY_AUTH", () => {
    const env = {
      SLIPWAY_REGISTRY_AUTH: JSON.stringify({
        auths: { "registry.digitalocean.com": { auth: encoded } },
      }),
      HOME: "/nonexistent",
    };
    assert.deepEqual(credentialsFor("registry.digitalocean.com", env), {
      kind: "basic",
      username: "dop_v1_abc",
      password: "dop_v1_abc",
      source: "SLIPWAY_REGISTRY_AUTH",
    });
    assert.equal(credentialsFor("127.0.0.1:5000", env).kind, "anonymous");
  });

  it("falls back to the Docker config file and matches Docker Hub's legacy key", () => {
    const dir = mkdtempSync(join(tmpdir(), "slipway-docker-config-"));
    try {
      writeFileSync(
        join(dir, "config.json"),
        JSON.stringify({
          auths: {
            "https://index.docker.io/v1/": { auth: Buffer.from("me:pw").toString("base64") },
            "http://127.0.0.1:5000": { username: "u", password: "p" },
          },
        }),
      );
      const env = { DOCKER_CONFIG: dir };
      const hub = credentialsFor("docker.io", env);
      assert.equal(hub.kind === "basic" && hub.username, "me");
      const local = credentialsFor("127.0.0.1:5000", env);
      assert.equal(local.kind === "basic" && local.password, "p");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("is anonymous when there is no config file", () => {
    assert.equal(credentialsFor("example.com", { HOME: "/nonexistent" }).kind, "anonymous");
  });

  it("fails closed with REGISTRY_AUTH_FAILURE on a malformed SLIPWAY_REGISTRY_AUTH", () => {
    assert.throws(
      () => credentialsFor("example.com", { SLIPWAY_REGISTRY_AUTH: "{auths:" }),
      (err: GateError) =>
        err.code === "REGISTRY_AUTH_FAILURE" && /not valid JSON/.test(err.message),
    );
    assert.throws(
      () =>
        credentialsFor("example.com", {
          SLIPWAY_REGISTRY_AUTH: JSON.stringify({
            auths: { "example.com": { auth: "bm9jb2xvbg==" } },
          }),
        }),
      (err: GateError) => err.code === "REGISTRY_AUTH_FAILURE",
    );
  });

  it("prefers an auths entry over a credential helper for the same host", () => {
    const creds = credentialsFromConfig(
      { auths: { "example.com": { auth: encoded } }, credsStore: "desktop" },
      "example.com",
      "x",
    );
    assert.equal(creds.kind, "basic");
  });
});

describe("registry pieces", () => {
  it("parses Bearer and Basic challenges, with quoted commas", () => {
    assert.deepEqual(
      parseChallenges(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/python:pull,push"',
      ),
      [
        {
          scheme: "bearer",
          params: {
            realm: "https://auth.docker.io/token",
            service: "registry.docker.io",
            scope: "repository:library/python:pull,push",
          },
        },
      ],
    );
    assert.deepEqual(parseChallenges('Basic realm="Registry Realm", Bearer realm=x'), [
      { scheme: "basic", params: { realm: "Registry Realm" } },
      { scheme: "bearer", params: { realm: "x" } },
    ]);
  });

  it("finds the next page in a Link header", () => {
    assert.equal(
      nextPageUrl(
        '</v2/app/tags/list?n=2&last=b>; rel="next"',
        "http://127.0.0.1:5000/v2/app/tags/list",
      ),
      "http://127.0.0.1:5000/v2/app/tags/list?n=2&last=b",
    );
    assert.equal(nextPageUrl('</x>; rel="prev"', "http://h/"), undefined);
    assert.equal(nextPageUrl(null, "http://h/"), undefined);
  });

  it("sorts tags newest version first, then the others", () => {
    assert.deepEqual(sortTags(["latest", "v1.9.2", "v1.10.0", "v1.10.0-rc1", "main", "2.0"]), [
      "2.0",
      "v1.10.0",
      "v1.10.0-rc1",
      "v1.9.2",
      "latest",
      "main",
    ]);
  });

  it("caps a long tag list and counts the rest", () => {
    const tags = Array.from({ length: 30 }, (_, i) => `v1.${i}`);
    const text = describeTags(tags, 5);
    assert.match(text, /^v1\.29, v1\.28, v1\.27, v1\.26, v1\.25 \.\.\. and 25 more$/);
    assert.equal(describeTags([]), "(none)");
  });

  it("maps DOCR's repository limit refusal to QUOTA_EXCEEDED", () => {
    const body = JSON.stringify({
      errors: [{ code: "DENIED", message: "registry contains 1 repositories, limit is 1" }],
    });
    assert.equal(errorForResponse("push", 403, body).code, "QUOTA_EXCEEDED");
    assert.equal(errorForResponse("push", 403, "{}").code, "REGISTRY_AUTH_FAILURE");
    assert.equal(errorForResponse("push", 502, "").code, "REGISTRY_UNAVAILABLE");
  });

  it("refuses schema1, non-JSON and unknown manifests with MANIFEST_ERROR", () => {
    for (const body of [
      '{"schemaVersion":1}',
      "not json",
      '{"schemaVersion":2,"mediaType":"x/y"}',
    ]) {
      assert.throws(
        () => parseManifest(Buffer.from(body)),
        (err: GateError) => err.code === "MANIFEST_ERROR",
      );
    }
  });

  it("flags attestation entries of an index", () => {
    const manifest = parseManifest(
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          manifests: [
            {
              digest: sha256("a"),
              platform: { os: "linux", architecture: "arm64", variant: "v8" },
            },
            {
              digest: sha256("b"),
              platform: { os: "unknown", architecture: "unknown" },
              annotations: { "vnd.docker.reference.type": "attestation-manifest" },
            },
          ],
        }),
      ),
    );
    assert.equal(manifest.kind, "index");
    assert.deepEqual(
      manifest.kind === "index" && manifest.manifests.map((m) => [m.platform, m.attestation]),
      [
        ["linux/arm64/v8", false],
        ["unknown/unknown", true],
      ],
    );
  });

  it("reads the per-request timeout from SLIPWAY_REGISTRY_TIMEOUT", () => {
    assert.equal(timeoutFromEnv({}), 30_000);
    assert.equal(timeoutFromEnv({ SLIPWAY_REGISTRY_TIMEOUT: "2.5" }), 2500);
    assert.throws(() => timeoutFromEnv({ SLIPWAY_REGISTRY_TIMEOUT: "soon" }), /positive number/);
  });
});
