import assert from "node:assert/strict";
import {
  reportCommand,
  resolvePinCommand,
  retagCommand,
  rollbackReportDir,
} from "../../gates/commands";
import { dockerConfigJsonFor } from "../../components/registry";
import { parseVerdictLine } from "../../gates/result";
import {
  assertGraph,
  type GraphRow,
  under,
  BASE_DIGEST,
  fakeDigest,
  merge,
  MOCK_REGISTRY_TOKEN,
  type MockRun,
  runStack,
  stackConfig,
  T,
} from "./harness";

const PIN = "v1.4.1";

/** The stack's config with a pin: prod's is the committed one, which promotes dev's releases. */
function pinned(env: "dev" | "prod" | "local", release: Record<string, unknown>) {
  const config = stackConfig(env);
  return merge(config, {
    release: { ...(env === "prod" ? { promoteFrom: "dev" } : {}), ...release },
  });
}

function repositoryOf(env: "dev" | "prod" | "local"): string {
  return env === "local" ? "127.0.0.1:5000/odoo" : "registry.digitalocean.com/acme/odoo";
}

for (const env of ["dev", "prod", "local"] as const) {
  describe(`the ${env} stack's rollback (release.pin ${PIN})`, () => {
    let run: MockRun;
    let outputs: Record<string, unknown>;
    const repository = repositoryOf(env);
    const reportDir = rollbackReportDir(PIN);
    const resolved = fakeDigest(`${repository}@${PIN}`);

    before(async () => {
      const outcome = await runStack(env, pinned(env, { pin: PIN }));
      assert.equal(outcome.error, undefined, String(outcome.error));
      run = outcome.run;
      outputs = outcome.outputs ?? {};
    });

    it("builds, tests, scans and promotes nothing, and reads no other stack", () => {
      for (const type of [
        T.checks,
        T.base,
        T.builder,
        T.runtime,
        T.testGate,
        T.smokeGate,
        T.scanGate,
        T.promotion,
        T.source,
        T.build,
        T.credentials,
        "docker:index/tag:Tag",
        "docker:index/registryImage:RegistryImage",
        // A rollback deploys a release whose evidence is already attached.
        "slipway:report:ReleaseEvidence",
      ]) {
        assert.deepEqual(
          run.all(type).map((r) => r.name),
          [],
          `no ${type} in rollback mode`,
        );
      }
      assert.ok(
        !run.effects.some((e) => /^(build|push|cache export) /.test(e)),
        run.effects.join("\n"),
      );
      assert.ok(!run.effects.some((e) => / (scan|promote|test|smoke) --/.test(e)));
      // The only stack read is its own (App Platform: the previous secrets' fingerprint).
      assert.deepEqual(
        run.all(T.stackReference).map((r) => r.inputs.name),
        env === "local" ? [] : [`acme-org/slipway/${env}`],
      );
    });

    it("registers only the registry, the pin's resolution, the deploy, the verification and the report", () => {
      const top = under(T.pipeline, "slipway");
      const registry = under(T.registry, "slipway-registry");
      const rollback = under(T.rollback, "slipway-rollback");
      const deploy = under(T.deployment, "slipway-deploy");
      assertGraph(run, [
        [T.pipeline, "slipway", "", ""],
        ...(env === "local" ? [] : [[T.stackReference, "slipway-previous", "", ""] as GraphRow]),
        top(T.registry, "slipway-registry"),
        ...(env === "dev" ? [registry(T.docr, "slipway-registry")] : []),
        top(T.rollback, "slipway-rollback"),
        rollback(T.command, "slipway-rollback-resolve"),
        rollback(T.command, "slipway-rollback-retag"),
        top(T.deployment, "slipway-deploy"),
        ...(env === "local"
          ? [
              deploy(T.remoteImage, "slipway-deploy-pull"),
              deploy(T.container, "slipway-deploy-container"),
            ]
          : [deploy(T.app, "slipway-deploy-app")]),
        top(T.verification, "slipway-verify"),
        under(T.verification, "slipway-verify")(T.command, "slipway-verify-health"),
        top(T.report, "slipway-report"),
        under(T.report, "slipway-report")(T.command, "slipway-report-run"),
      ]);
    });

    it("reports the rollback after its verification: mode, pin, image and resolved digest", () => {
      const report = run.find(T.command, "slipway-report-run");
      assert.equal(
        report.inputs.create,
        reportCommand({
          reportDir,
          release: {
            version: PIN,
            mode: "rollback",
            stack: env,
            image: `${repository}:${PIN}`,
            digest: resolved,
            deployedDigest: resolved,
          },
          gated: true,
          advisory: true,
        }),
      );
      assert.ok(run.dependsOn(report, run.find(T.command, "slipway-verify-health")));
      assert.deepEqual(outputs.releaseReport, {
        verdict: "READY",
        blockers: [],
        report: `${reportDir}/report.md`,
      });
    });

    it("resolves the pin in the registry with the resolve gate, evidence required", () => {
      const resolve = run.find(T.command, "slipway-rollback-resolve").inputs;
      // Only a release whose evidence was attached (a READY report) can be rolled back to.
      assert.equal(
        resolve.create,
        resolvePinCommand({ reportDir, repository, ref: PIN, requireEvidence: true }),
      );
      assert.match(String(resolve.create), / --require-evidence /);
      // The pin and the repository are in the command line: nothing else to trigger on.
      assert.equal(resolve.triggers, undefined);
      if (env === "local") {
        assert.equal(resolve.environment, undefined);
      } else {
        // The DigitalOcean token is the registry credential: nothing minted that could expire.
        assert.deepEqual(resolve.environment, {
          SLIPWAY_REGISTRY_AUTH: dockerConfigJsonFor(
            "registry.digitalocean.com",
            MOCK_REGISTRY_TOKEN,
            MOCK_REGISTRY_TOKEN,
          ),
        });
      }
    });

    it("re-points latest at the digest the resolve printed in its verdict line", () => {
      const resolve = run.find(T.command, "slipway-rollback-resolve");
      assert.equal(parseVerdictLine(String(resolve.state.stdout)).value, resolved);
      const retag = run.find(T.command, "slipway-rollback-retag");
      assert.equal(
        retag.inputs.create,
        retagCommand({ reportDir, repository, digest: resolved, tag: "latest" }),
      );
      assert.ok(run.dependsOn(retag, resolve));
      assert.deepEqual(retag.inputs.environment, resolve.inputs.environment);
    });

    it("deploys the pinned digest", () => {
      if (env === "local") {
        assert.equal(
          run.find(T.container, "slipway-deploy-container").inputs.image,
          `${repository}@${resolved}`,
        );
      } else {
        const spec = run.find(T.app, "slipway-deploy-app").inputs.spec as {
          services: { image: unknown }[];
        };
        assert.deepEqual(spec.services[0].image, {
          registryType: "DOCR",
          repository: "odoo",
          digest: resolved,
        });
      }
      const deployed =
        env === "local"
          ? run.find(T.container, "slipway-deploy-container")
          : run.find(T.app, "slipway-deploy-app");
      assert.ok(run.dependsOn(deployed, run.find(T.command, "slipway-rollback-retag")));
      const health = run.find(T.command, "slipway-verify-health");
      assert.ok(run.dependsOn(health, deployed), "the verification waits for the deploy");
      assert.match(String(health.inputs.create), /^bin\/slipway-gate health --url /);
    });

    it("exports the rollback's mode, pin and digest", () => {
      assert.equal(outputs.mode, "rollback");
      assert.equal(outputs.releaseTag, PIN);
      assert.equal(outputs.imageDigest, resolved);
      assert.equal(outputs.rollbackDigest, resolved);
      assert.equal(outputs.imageRef, `${repository}@${resolved}`);
      assert.equal(outputs.releasedRef, undefined);
      assert.equal(outputs.candidateDigest, undefined);
      assert.equal(outputs.promotedFrom, undefined);
      assert.equal("publishedRef" in outputs, false);
      assert.equal(outputs.reportDir, reportDir);
    });
  });
}

describe("rollback options", () => {
  it("leaves latest where it is when release.repointLatest is false", async () => {
    const config = merge(stackConfig("local"), { release: { pin: PIN, repointLatest: false } });
    const { run, error } = await runStack("local", config);
    assert.equal(error, undefined, String(error));
    assert.equal(run.get(T.command, "slipway-rollback-retag"), undefined);
    assert.ok(run.get(T.container, "slipway-deploy-container") !== undefined);
  });

  it("accepts a digest pin, with no colon in its report directory", async () => {
    const pin = BASE_DIGEST;
    const config = merge(stackConfig("local"), { release: { pin } });
    const { run, error } = await runStack("local", config);
    assert.equal(error, undefined, String(error));
    const resolve = run.find(T.command, "slipway-rollback-resolve").inputs;
    assert.equal(
      resolve.create,
      resolvePinCommand({
        reportDir: `.slipway/rollbacks/${pin.replace(":", "-")}`,
        repository: "127.0.0.1:5000/odoo",
        ref: pin,
        requireEvidence: true,
      }),
    );
    // A digest pin is pulled by digest: the report names the image so.
    assert.match(
      String(run.find(T.command, "slipway-report-run").inputs.create),
      new RegExp(` --image 127\\.0\\.0\\.1:5000/odoo@${pin} `),
    );
  });

  it("passes release.rollbackReason to the resolve gate, which records it beside the evidence check", async () => {
    const reason = "the v1.4.1 report was lost with the old CI runner; verified by hand";
    const config = merge(stackConfig("local"), { release: { pin: PIN, rollbackReason: reason } });
    const { run, error } = await runStack("local", config);
    assert.equal(error, undefined, String(error));
    assert.equal(
      run.find(T.command, "slipway-rollback-resolve").inputs.create,
      resolvePinCommand({
        reportDir: rollbackReportDir(PIN),
        repository: "127.0.0.1:5000/odoo",
        ref: PIN,
        requireEvidence: true,
        overrideReason: reason,
      }),
    );
  });

  it("changes nothing when the pin does not exist (ROLLBACK_TAG_NOT_FOUND)", async () => {
    const config = merge(stackConfig("dev"), { release: { pin: "v0.0.0-missing" } });
    const { run } = await runStack("dev", config, {
      fail: (_type, name) =>
        name === "slipway-rollback-resolve"
          ? "ROLLBACK_TAG_NOT_FOUND: v0.0.0-missing is not in registry.digitalocean.com/acme/odoo; tags: v1.4.1, v1.4.2"
          : undefined,
    });
    assert.ok(run.get(T.command, "slipway-rollback-resolve") !== undefined);
    for (const [type, name] of [
      [T.command, "slipway-rollback-retag"],
      [T.app, "slipway-deploy-app"],
      [T.command, "slipway-verify-health"],
    ]) {
      assert.equal(run.get(type, name), undefined, `${name} must not be registered`);
    }
    assert.ok(run.rejections.some((r) => r.includes("ROLLBACK_TAG_NOT_FOUND")));
  });

  it("returns to normal releases when the pin is removed", async () => {
    const { run, error } = await runStack("dev", stackConfig("dev"));
    assert.equal(error, undefined, String(error));
    assert.equal(run.all(T.rollback).length, 0);
    assert.equal(run.all(T.build).length, 2);
    assert.ok(run.get(T.command, "slipway-promote-promote") !== undefined);
  });
});
