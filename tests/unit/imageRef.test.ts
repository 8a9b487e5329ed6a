import assert from "node:assert/strict";
import {
  formatImageRef,
  isDigest,
  isLoopbackHost,
  isPinned,
  parseImageRef,
  registryBaseUrl,
} from "../../gates/imageRef";

const DIGEST = "sha256:9e25f400253a5fa3191813d6a67eb801ca1e6f012b3bd2588fa6920b59e3eba6";

describe("parseImageRef", () => {
  it("puts a one-component Docker Hub name under docker.io/library", () => {
    assert.deepEqual(parseImageRef("python"), {
      registry: "docker.io",
      repository: "library/python",
    });
  });

  it("reads the tag and digest of a pinned official image", () => {
    assert.deepEqual(parseImageRef(`python:3.11-slim-bullseye@${DIGEST}`), {
      registry: "docker.io",
      repository: "library/python",
      tag: "3.11-slim-bullseye",
      digest: DIGEST,
    });
  });

  it("keeps a Docker Hub user repository as is", () => {
    assert.deepEqual(parseImageRef("aquasec/trivy:0.58.1"), {
      registry: "docker.io",
      repository: "aquasec/trivy",
      tag: "0.58.1",
    });
  });

  it("normalises index.docker.io to docker.io", () => {
    assert.equal(parseImageRef("index.docker.io/library/python").registry, "docker.io");
    assert.equal(parseImageRef("docker.io/python:3").repository, "library/python");
  });

  it("treats a first component with a dot as a registry host", () => {
    assert.deepEqual(parseImageRef(`registry.digitalocean.com/acme/odoo@${DIGEST}`), {
      registry: "registry.digitalocean.com",
      repository: "acme/odoo",
      digest: DIGEST,
    });
  });

  it("treats a first component with a port as a registry host, not as a tag", () => {
    assert.deepEqual(parseImageRef("127.0.0.1:5000/app:v1"), {
      registry: "127.0.0.1:5000",
      repository: "app",
      tag: "v1",
    });
    assert.deepEqual(parseImageRef("myhost:5000/team/app"), {
      registry: "myhost:5000",
      repository: "team/app",
    });
  });

  it("treats localhost as a registry host", () => {
    assert.deepEqual(parseImageRef("localhost/app:1"), {
      registry: "localhost",
      repository: "app",
      tag: "1",
    });
  });

  it("treats a first component without dot, colon or localhost as a Docker Hub namespace", () => {
    assert.deepEqual(parseImageRef("myhost/app"), {
      registry: "docker.io",
      repository: "myhost/app",
    });
  });

  it("accepts an IPv6 registry host in brackets", () => {
    assert.equal(parseImageRef("[::1]:5000/app:v1").registry, "[::1]:5000");
  });

  it("accepts a digest without a tag", () => {
    const ref = parseImageRef(`127.0.0.1:5000/app@${DIGEST}`);
    assert.equal(ref.tag, undefined);
    assert.equal(ref.digest, DIGEST);
  });

  for (const [ref, why] of [
    ["", /empty/],
    ["Python:3.11", /lowercase/],
    ["python:3.11@sha256:abc", /not a digest/],
    [`python@sha256:${"A".repeat(64)}`, /not a digest/],
    ["python:-bad", /not a valid tag/],
    [`python:${"a".repeat(129)}`, /not a valid tag/],
    ["python::3", /not a valid/],
    ["registry.example.com/", /no repository name/],
    ["registry.example.com//app", /empty path component/],
    ["app/", /empty path component/],
    ["my_-host.com/app", /not a valid registry host/],
    ["python 3", /whitespace/],
    [" python", /whitespace/],
    ["re--po/a_.b", /not a valid path component/],
    ["${BASE_IMAGE}", /not a valid/],
    [":3.11", /no repository name/],
  ] as const) {
    it(`rejects ${JSON.stringify(ref)} with a message naming the problem`, () => {
      assert.throws(
        () => parseImageRef(ref),
        (err: Error) => err.message.startsWith("invalid image reference") && why.test(err.message),
      );
    });
  }
});

describe("formatImageRef", () => {
  it("prints the fully qualified form by default", () => {
    assert.equal(
      formatImageRef(parseImageRef(`python:3.11@${DIGEST}`)),
      `docker.io/library/python:3.11@${DIGEST}`,
    );
  });

  it("prints Docker's familiar form when asked", () => {
    assert.equal(formatImageRef(parseImageRef("python:3.11"), { familiar: true }), "python:3.11");
    assert.equal(
      formatImageRef(parseImageRef("aquasec/trivy:1"), { familiar: true }),
      "aquasec/trivy:1",
    );
    assert.equal(
      formatImageRef(parseImageRef("127.0.0.1:5000/app:v1"), { familiar: true }),
      "127.0.0.1:5000/app:v1",
    );
  });

  it("round-trips a registry reference", () => {
    const text = `registry.digitalocean.com/acme/odoo:v1.4.2@${DIGEST}`;
    assert.equal(formatImageRef(parseImageRef(text)), text);
  });
});

describe("isPinned / isDigest", () => {
  it("is true only with a digest", () => {
    assert.equal(isPinned(`python:3.11@${DIGEST}`), true);
    assert.equal(isPinned("python:3.11"), false);
    assert.equal(isPinned({ registry: "docker.io", repository: "library/python" }), false);
  });

  it("rejects a sha256 digest of the wrong length", () => {
    assert.equal(isDigest(DIGEST), true);
    assert.equal(isDigest(DIGEST.slice(0, -1)), false);
    assert.equal(isDigest("9e25f400"), false);
  });
});

describe("registryBaseUrl", () => {
  it("uses plain HTTP for loopback hosts, as Docker does", () => {
    assert.equal(registryBaseUrl("127.0.0.1:5000"), "http://127.0.0.1:5000");
    assert.equal(registryBaseUrl("127.1.2.3"), "http://127.1.2.3");
    assert.equal(registryBaseUrl("localhost:5000"), "http://localhost:5000");
    assert.equal(registryBaseUrl("[::1]:5000"), "http://[::1]:5000");
  });

  it("uses HTTPS for any other host", () => {
    assert.equal(registryBaseUrl("registry.digitalocean.com"), "https://registry.digitalocean.com");
    assert.equal(registryBaseUrl("128.0.0.1:5000"), "https://128.0.0.1:5000");
    assert.equal(registryBaseUrl("127.0.0.1.example.com"), "https://127.0.0.1.example.com");
  });

  it("sends Docker Hub to registry-1.docker.io", () => {
    assert.equal(registryBaseUrl("docker.io"), "https://registry-1.docker.io");
  });

  it("recognises loopback hosts only", () => {
    assert.equal(isLoopbackHost("127.0.0.1:5000"), true);
    assert.equal(isLoopbackHost("127.0.0.256"), false);
    assert.equal(isLoopbackHost("10.0.0.1"), false);
  });
});
