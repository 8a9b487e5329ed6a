import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FakeRegistry } from "./helpers/fakeRegistry";
import { runCli } from "./helpers/registryGates";

const REPORT_READY = JSON.stringify({ readiness: "READY", blockers: [] });
const REPORT_NOT_READY = JSON.stringify({
  readiness: "NOT READY",
  blockers: [{ code: "SECURITY_HIGH" }],
});

for (const referrers of [true, false]) {
  const kind = referrers ? "with the referrers API" : "without the referrers API (tag fallback)";
  describe(`evidence on a registry ${kind}`, () => {
    let registry: FakeRegistry;
    let dir: string;
    let repo: string;
    beforeEach(async () => {
      registry = await new FakeRegistry({ referrers }).start();
      dir = mkdtempSync(join(tmpdir(), "slipway-evidence-"));
      repo = `${registry.host}/acme/odoo`;
    });
    afterEach(async () => {
      await registry.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    function file(name: string, text: string): string {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    }

    async function attach(digest: string, ...files: string[]) {
      return runCli(
        [
          "evidence",
          "attach",
          "--repository",
          repo,
          "--digest",
          digest,
          ...files.flatMap((f) => ["--file", f]),
        ],
        {},
      );
    }

    it("attaches each kind as an artifact whose subject is the release manifest", async () => {
      const image = registry.addImage("acme/odoo", "rel", ["candidate-v1-runtime"]);
      const run = await attach(
        image.digest,
        `sbom=${file("sbom.cdx.json", '{"bomFormat":"CycloneDX"}')}`,
        `report=${file("report.json", REPORT_READY)}`,
        `report=${file("report.md", "# READY")}`,
      );
      assert.equal(run.code, 0, run.stdout + run.stderr);
      assert.match(
        run.stdout,
        new RegExp(
          `^PASS evidence attach: sbom, report attached .* \\(via ${referrers ? "referrers" : "tag"}\\)`,
        ),
      );
      const tags = registry.tagsOf("acme/odoo");
      const hex = image.digest.slice(7);
      if (referrers) {
        assert.deepEqual(tags, ["candidate-v1-runtime"], "no fallback tag where referrers work");
      } else {
        assert.deepEqual(tags, [
          "candidate-v1-runtime",
          `sha256-${hex}.report`,
          `sha256-${hex}.sbom`,
        ]);
        const artifact = JSON.parse(
          registry
            .manifestBody("acme/odoo", registry.tagged("acme/odoo", `sha256-${hex}.sbom`) ?? "")
            ?.toString() ?? "{}",
        );
        assert.equal(artifact.artifactType, "application/vnd.cyclonedx+json");
        assert.equal(artifact.subject.digest, image.digest);
        assert.equal(artifact.subject.size, image.body.length);
        assert.equal(artifact.config.mediaType, "application/vnd.oci.empty.v1+json");
      }
    });

    it("lists what is attached, with the report's verdict, and fetches a kind's files", async () => {
      const image = registry.addImage("acme/odoo", "rel", ["v1"]);
      await attach(
        image.digest,
        `tests=${file("junit.xml", "<testsuite/>")}`,
        `report=${file("report.json", REPORT_READY)}`,
        `report=${file("report.md", "# READY\n")}`,
      );
      const list = await runCli(["evidence", "list", `${repo}@${image.digest}`]);
      assert.equal(list.code, 0, list.stdout);
      assert.match(list.stdout, /2 artifact\(s\) attached .*; release report: READY/);
      assert.match(list.stdout, /tests +sha256:[0-9a-f]{64} 12 B 1970-01-01T00:00:00.000Z/);
      const out = join(dir, "fetched");
      const fetched = await runCli([
        "evidence",
        "fetch",
        `${repo}@${image.digest}`,
        "--kind",
        "report",
        "--out",
        out,
      ]);
      assert.equal(fetched.code, 0, fetched.stdout);
      assert.equal(readFileSync(join(out, "report.md"), "utf8"), "# READY\n");
      assert.equal(readFileSync(join(out, "report.json"), "utf8"), REPORT_READY);
    });

    it("fetch blocks with EVIDENCE_MISSING for a kind not attached", async () => {
      const image = registry.addImage("acme/odoo", "rel", ["v1"]);
      const run = await runCli([
        "evidence",
        "fetch",
        `${repo}@${image.digest}`,
        "--kind",
        "sbom",
        "--out",
        dir,
      ]);
      assert.equal(run.code, 1);
      assert.match(run.stdout, /^EVIDENCE_MISSING: no sbom evidence attached/);
    });

    it("does not count another digest's evidence", async () => {
      const one = registry.addImage("acme/odoo", "one", ["v1"]);
      const two = registry.addImage("acme/odoo", "two", ["v2"]);
      await attach(one.digest, `report=${file("report.json", REPORT_READY)}`);
      const list = await runCli(["evidence", "list", `${repo}@${two.digest}`]);
      assert.match(list.stdout, /^PASS evidence list: no evidence attached/);
    });

    describe("promote --require-evidence", () => {
      it("refuses a digest without evidence: EVIDENCE_MISSING, nothing tagged", async () => {
        const image = registry.addImage("acme/odoo", "rel", ["candidate-v1-runtime"]);
        const run = await runCli([
          "promote",
          "--repository",
          repo,
          "--digest",
          image.digest,
          "--version",
          "v1",
          "--require-evidence",
        ]);
        assert.equal(run.code, 1);
        assert.match(run.stdout, /^EVIDENCE_MISSING: .* has no release report attached/);
        assert.equal(registry.tagged("acme/odoo", "v1"), undefined);
      });

      it("refuses a digest whose report says NOT READY: EVIDENCE_NOT_READY", async () => {
        const image = registry.addImage("acme/odoo", "rel", ["candidate-v1-runtime"]);
        await attach(image.digest, `report=${file("report.json", REPORT_NOT_READY)}`);
        const run = await runCli([
          "promote",
          "--repository",
          repo,
          "--digest",
          image.digest,
          "--version",
          "v1",
          "--require-evidence",
        ]);
        assert.equal(run.code, 1);
        assert.match(run.stdout, /^EVIDENCE_NOT_READY: the release report of .* says NOT READY/);
        assert.equal(registry.tagged("acme/odoo", "v1"), undefined);
      });

      it("promotes a digest whose report says READY", async () => {
        const image = registry.addImage("acme/odoo", "rel", ["candidate-v1-runtime"]);
        await attach(image.digest, `report=${file("report.json", REPORT_READY)}`);
        const run = await runCli([
          "promote",
          "--repository",
          repo,
          "--digest",
          image.digest,
          "--version",
          "v1",
          "--require-evidence",
        ]);
        assert.equal(run.code, 0, run.stderr);
        assert.equal(registry.tagged("acme/odoo", "v1"), image.digest);
      });
    });

    describe("resolve --require-evidence (rollback)", () => {
      it("refuses a pin without evidence unless a reason is given, and records the reason", async () => {
        const image = registry.addImage("acme/odoo", "old", ["v0.9"]);
        const refused = await runCli([
          "resolve",
          "--repository",
          repo,
          "--ref",
          "v0.9",
          "--require-evidence",
        ]);
        assert.equal(refused.code, 1);
        assert.equal(
          refused.stdout.split("\n")[0],
          `EVIDENCE_MISSING: ${repo}@${image.digest} has no release report attached`,
        );
        const json = join(dir, "resolve.json");
        const overridden = await runCli([
          "resolve",
          "--repository",
          repo,
          "--ref",
          "v0.9",
          "--require-evidence",
          "--override-reason",
          "INC-42: v1.0 corrupts invoices",
          "--json",
          json,
        ]);
        assert.equal(overridden.code, 0, overridden.stderr);
        assert.equal(overridden.stdout, `${image.digest}\n`);
        const result = JSON.parse(readFileSync(json, "utf8"));
        assert.equal(result.verdict, "warn");
        assert.equal(result.figures.overrideReason, "INC-42: v1.0 corrupts invoices");
      });

      it("refuses a NOT READY pin: EVIDENCE_NOT_READY", async () => {
        const image = registry.addImage("acme/odoo", "bad", ["v1.1"]);
        await attach(image.digest, `report=${file("report.json", REPORT_NOT_READY)}`);
        const run = await runCli([
          "resolve",
          "--repository",
          repo,
          "--ref",
          "v1.1",
          "--require-evidence",
        ]);
        assert.equal(run.code, 1);
        assert.match(run.stdout, /^EVIDENCE_NOT_READY: /);
      });

      it("resolves a READY pin", async () => {
        const image = registry.addImage("acme/odoo", "good", ["v1.0"]);
        await attach(image.digest, `report=${file("report.json", REPORT_READY)}`);
        const run = await runCli([
          "resolve",
          "--repository",
          repo,
          "--ref",
          "v1.0",
          "--require-evidence",
        ]);
        assert.equal(run.code, 0, run.stderr);
        assert.equal(run.stdout, `${image.digest}\n`);
      });
    });
  });
}

describe("evidence attach failures", () => {
  let registry: FakeRegistry;
  let dir: string;
  beforeEach(async () => {
    registry = await new FakeRegistry().start();
    dir = mkdtempSync(join(tmpdir(), "slipway-evidence-"));
  });
  afterEach(async () => {
    await registry.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("ends with PUSH_TIMEOUT naming the stalled upload when the registry stalls writes", async () => {
    const image = registry.addImage("acme/odoo", "rel", ["v1"]);
    const path = join(dir, "sbom.json");
    writeFileSync(path, "{}");
    registry.stallWrites = true;
    const run = await runCli([
      "evidence",
      "attach",
      "--repository",
      `${registry.host}/acme/odoo`,
      "--digest",
      image.digest,
      "--file",
      `sbom=${path}`,
      "--timeout",
      "0.5",
    ]);
    assert.equal(run.code, 1);
    assert.match(
      run.stdout,
      /^PUSH_TIMEOUT: uploading the blob acme\/odoo@sha256:[0-9a-f]+: .* stalled/,
    );
    assert.deepEqual(registry.tagsOf("acme/odoo"), ["v1"]);
  });

  it("refuses an unknown kind (usage)", async () => {
    const run = await runCli([
      "evidence",
      "attach",
      "--repository",
      `${registry.host}/acme/odoo`,
      "--digest",
      `sha256:${"1".repeat(64)}`,
      "--file",
      "binary=/bin/sh",
    ]);
    assert.equal(run.code, 2);
    assert.match(
      run.stderr,
      /--file binary=\/bin\/sh: expected KIND=PATH with KIND one of sbom, trivy/,
    );
  });

  it("blocks with CANDIDATE_NOT_FOUND when the digest is not in the repository", async () => {
    registry.addImage("acme/odoo", "rel", ["v1"]);
    const path = join(dir, "sbom.json");
    writeFileSync(path, "{}");
    const run = await runCli([
      "evidence",
      "attach",
      "--repository",
      `${registry.host}/acme/odoo`,
      "--digest",
      `sha256:${"1".repeat(64)}`,
      "--file",
      `sbom=${path}`,
    ]);
    assert.equal(run.code, 1);
    assert.match(run.stdout, /^CANDIDATE_NOT_FOUND: /);
  });
});
