import assert from "node:assert/strict";
import { fileFingerprint } from "../../components/fingerprint";
import { dockerConfigJsonFor } from "../../components/registry";
import {
  healthGateCommand,
  promoteCommand,
  releaseReportDir,
  reportCommand,
  sbomFile,
  scanGateCommand,
  trivyReportFile,
} from "../../gates/commands";
import { decisionOf, parseVerdictLine } from "../../gates/result";
import {
  assertGraph,
  DEV_RELEASE,
  defaultStdout,
  fakeDigest,
  merge,
  MOCK_REGISTRY_TOKEN,
  type MockRun,
  runStack,
  stackConfig,
  T,
  under,
} from "./harness";

/** prod as committed: it promotes what dev released and verified (`release.promoteFrom: dev`). */
function promotionConfig(patch: Record<string, unknown> = {}): Record<string, unknown> {
  return merge(merge(stackConfig("prod"), { release: { promoteFrom: "dev" } }), patch);
}

const REPOSITORY = "registry.digitalocean.com/acme/odoo";
const VERSION = "v1.4.2";
const REPORT_DIR = releaseReportDir(VERSION);
const DEV_DIGEST = DEV_RELEASE.imageDigest;

describe("the prod stack's promotion of dev's release (release.promoteFrom dev)", () => {
  let run: MockRun;
  let outputs: Record<string, unknown>;

  before(async () => {
    const outcome = await runStack("prod", promotionConfig());
    assert.equal(outcome.error, undefined, String(outcome.error));
    run = outcome.run;
    outputs = outcome.outputs ?? {};
  });

  it("registers the source, the re-scan, the promotion, the deploy, the verification and the report only", () => {
    const top = under(T.pipeline, "slipway");
    assertGraph(run, [
      [T.pipeline, "slipway", "", ""],
      // The program reads its own stack's previous outputs (the secrets' fingerprint).
      [T.stackReference, "slipway-previous", "", ""],
      top(T.registry, "slipway-registry"),
      top(T.source, "slipway-source"),
      under(T.source, "slipway-source")(T.stackReference, "slipway-source-stack"),
      top(T.scanGate, "slipway-scan"),
      under(T.scanGate, "slipway-scan")(T.command, "slipway-scan-run"),
      top(T.promotion, "slipway-promote"),
      under(T.promotion, "slipway-promote")(T.command, "slipway-promote-promote"),
      top(T.deployment, "slipway-deploy"),
      under(T.deployment, "slipway-deploy")(T.app, "slipway-deploy-app"),
      top(T.verification, "slipway-verify"),
      under(T.verification, "slipway-verify")(T.command, "slipway-verify-health"),
      top(T.report, "slipway-report"),
      under(T.report, "slipway-report")(T.command, "slipway-report-run"),
      top("slipway:report:ReleaseEvidence", "slipway-evidence"),
      under("slipway:report:ReleaseEvidence", "slipway-evidence")(
        T.command,
        "slipway-evidence-attach",
      ),
    ]);
  });

  it("builds nothing, tests nothing, lints nothing and mints no credential", () => {
    for (const type of [
      T.checks,
      T.base,
      T.builder,
      T.runtime,
      T.testGate,
      T.smokeGate,
      T.rollback,
      T.build,
      T.remoteImage,
      T.credentials,
      "docker:index/tag:Tag",
      "docker:index/registryImage:RegistryImage",
    ]) {
      assert.deepEqual(
        run.all(type).map((r) => r.name),
        [],
        `no ${type} in promotion mode`,
      );
    }
    assert.ok(
      !run.effects.some((e) => /^(build|push|cache export|pull) /.test(e)),
      run.effects.join("\n"),
    );
    assert.ok(!run.effects.some((e) => / (test|smoke|lint|preflight|base) --/.test(e)));
  });

  it("reads the source stack by its full name in this organization and project", () => {
    const reference = run.find(T.stackReference, "slipway-source-stack");
    assert.equal(reference.inputs.name, "acme-org/slipway/dev");
    assert.deepEqual(reference.state.outputs, DEV_RELEASE);
  });

  it("re-scans the digest dev released, in this stack's repository, with prod's policy", () => {
    const scan = run.find(T.command, "slipway-scan-run");
    const image = `${REPOSITORY}@${DEV_DIGEST}`;
    assert.equal(
      scan.inputs.create,
      scanGateCommand({
        reportDir: REPORT_DIR,
        image,
        keepReport: trivyReportFile(REPORT_DIR),
        scanners: ["vuln", "secret"],
        sbom: sbomFile(REPORT_DIR),
        severity: ["HIGH", "CRITICAL"],
        ignoreUnfixed: false,
        requireStatement: false,
      }),
    );
    assert.deepEqual(scan.inputs.triggers, [image]);
    // Trivy reads dev's digest from the registry (nothing is pulled on this machine) with the token.
    assert.deepEqual(scan.inputs.environment, {
      SLIPWAY_REGISTRY_AUTH: dockerConfigJsonFor(
        "registry.digitalocean.com",
        MOCK_REGISTRY_TOKEN,
        MOCK_REGISTRY_TOKEN,
      ),
    });
    assert.deepEqual(scan.secretPaths, ["environment"]);
    assert.ok(run.dependsOn(scan, run.find(T.stackReference, "slipway-source-stack")));
  });

  it("promotes the same digest with evidence required and dev's report verdict, after the scan", () => {
    const promote = run.find(T.command, "slipway-promote-promote");
    assert.equal(
      promote.inputs.create,
      promoteCommand({
        reportDir: REPORT_DIR,
        repository: REPOSITORY,
        digest: DEV_DIGEST,
        version: VERSION,
        latest: true,
        requireEvidence: true,
        sourceVerdict: "READY",
      }),
    );
    const scan = run.find(T.command, "slipway-scan-run");
    const scanVerdict = decisionOf(parseVerdictLine(defaultStdout(String(scan.inputs.create))));
    assert.equal(scanVerdict, `scan pass - ${DEV_DIGEST}`);
    assert.deepEqual(promote.inputs.triggers, [`scan=${scanVerdict}`]);
    assert.ok(run.dependsOn(promote, scan), "the promotion waits for the scan");
    assert.deepEqual(promote.inputs.environment, {
      SLIPWAY_REGISTRY_AUTH: dockerConfigJsonFor(
        "registry.digitalocean.com",
        MOCK_REGISTRY_TOKEN,
        MOCK_REGISTRY_TOKEN,
      ),
    });
  });

  it("deploys by the digest the promotion printed: dev's, byte for byte", () => {
    const app = run.find(T.app, "slipway-deploy-app");
    const spec = app.inputs.spec as {
      services: { image: unknown }[];
      jobs?: { image: unknown }[];
    };
    for (const image of [spec.services[0].image, ...(spec.jobs ?? []).map((j) => j.image)]) {
      assert.deepEqual(image, { registryType: "DOCR", repository: "odoo", digest: DEV_DIGEST });
    }
    assert.ok(run.dependsOn(app, run.find(T.command, "slipway-promote-promote")));
    assert.equal(
      run.find(T.command, "slipway-verify-health").inputs.create,
      healthGateCommand({
        reportDir: REPORT_DIR,
        url: "https://odoo-mock.ondigitalocean.app/web/health",
        timeout: 300,
        expectStatus: 200,
      }),
    );
  });

  it("exports where it was promoted from, and one digest: candidate, released and deployed", () => {
    assert.equal(outputs.mode, "promotion");
    assert.equal(outputs.promotedFrom, "acme-org/slipway/dev");
    assert.equal(outputs.candidateDigest, DEV_DIGEST);
    assert.equal(outputs.imageDigest, DEV_DIGEST);
    assert.equal(outputs.imageRef, `${REPOSITORY}@${DEV_DIGEST}`);
    assert.equal(outputs.releasedRef, `${REPOSITORY}:${VERSION}@${DEV_DIGEST}`);
    assert.equal(outputs.sourceCommit, DEV_RELEASE.sourceCommit);
    assert.equal(outputs.releaseTag, VERSION);
    assert.equal(outputs.rollbackDigest, undefined);
  });

  it("reports the promotion: mode, the source stack, the gated and the deployed digest, no base", () => {
    const report = run.find(T.command, "slipway-report-run");
    assert.equal(
      report.inputs.create,
      reportCommand({
        reportDir: REPORT_DIR,
        release: {
          version: VERSION,
          mode: "promotion",
          stack: "prod",
          image: `${REPOSITORY}:${VERSION}`,
          digest: DEV_DIGEST,
          candidateDigest: DEV_DIGEST,
          deployedDigest: DEV_DIGEST,
          promotedFrom: "acme-org/slipway/dev",
        },
        gated: true,
        advisory: true,
      }),
    );
    assert.match(
      String(report.inputs.create),
      / --mode promotion .* --promoted-from acme-org\/slipway\/dev /,
    );
    assert.doesNotMatch(String(report.inputs.create), / --base /);
    assert.ok(run.dependsOn(report, run.find(T.command, "slipway-verify-health")));
  });
});

describe("promotion options and failures", () => {
  it("releases nothing when the re-scan of dev's digest fails", async () => {
    const { run } = await runStack("prod", promotionConfig(), {
      fail: (_type, name) =>
        name === "slipway-scan-run" ? "SECURITY_CRITICAL: CVE-2024-0001 in libssl3" : undefined,
    });
    assert.ok(run.get(T.command, "slipway-scan-run") !== undefined, "the scan ran");
    for (const [type, name] of [
      [T.command, "slipway-promote-promote"],
      [T.app, "slipway-deploy-app"],
      [T.command, "slipway-verify-health"],
      [T.command, "slipway-report-run"],
    ]) {
      assert.equal(run.get(type, name), undefined, `${name} must not be registered`);
    }
    assert.ok(!run.effects.some((e) => / promote /.test(e) || e.startsWith("deploy ")));
    assert.ok(run.rejections.some((r) => r.includes("SECURITY_CRITICAL")));
  });

  it("fails without promoting or deploying when the source stack does not exist", async () => {
    const { run } = await runStack("prod", promotionConfig(), {
      stacks: {},
      // Collect the rejections of what waits on the failed read.
      fail: () => undefined,
    });
    assert.ok(run.get(T.stackReference, "slipway-source-stack") !== undefined, "it tried");
    for (const [type, name] of [
      [T.command, "slipway-scan-run"],
      [T.command, "slipway-promote-promote"],
      [T.app, "slipway-deploy-app"],
      [T.command, "slipway-verify-health"],
    ]) {
      assert.equal(run.get(type, name), undefined, `${name} must not be registered`);
    }
    assert.ok(
      run.rejections.some((r) => r.includes('unknown stack "acme-org/slipway/dev"')),
      run.rejections.join("\n"),
    );
  });

  it("hands the promote gate a NOT READY source verdict to refuse (EVIDENCE_NOT_READY)", async () => {
    const notReady = {
      ...DEV_RELEASE,
      releaseReport: { ...DEV_RELEASE.releaseReport, verdict: "NOT READY" },
    };
    const { run, error } = await runStack("prod", promotionConfig(), {
      stacks: { "acme-org/slipway/dev": notReady },
    });
    assert.equal(error, undefined, String(error));
    assert.match(
      String(run.find(T.command, "slipway-promote-promote").inputs.create),
      / --require-evidence --source-verdict 'NOT READY' /,
    );
  });

  it("promotes from a stack named in full, in another project", async () => {
    const source = "acme-org/odoo-ci/staging";
    const staging = { ...DEV_RELEASE, imageDigest: fakeDigest("staging-released") };
    const { run, outputs, error } = await runStack(
      "prod",
      promotionConfig({ release: { promoteFrom: source } }),
      { stacks: { [source]: staging } },
    );
    assert.equal(error, undefined, String(error));
    assert.equal(run.find(T.stackReference, "slipway-source-stack").inputs.name, source);
    assert.equal(outputs?.promotedFrom, source);
    assert.equal(outputs?.imageDigest, staging.imageDigest);
  });

  it("re-runs the scan with prod's allowlist content among its triggers", async () => {
    const allowlist = "tests/fixtures/trivy/allowlist/ubi-7.trivyignore.yaml";
    const { run, error } = await runStack(
      "prod",
      promotionConfig({ scan: { allowlist, requireStatement: true } }),
    );
    assert.equal(error, undefined, String(error));
    const scan = run.find(T.command, "slipway-scan-run");
    assert.deepEqual(scan.inputs.triggers, [
      `${REPOSITORY}@${DEV_DIGEST}`,
      fileFingerprint(".", allowlist),
    ]);
    assert.match(String(scan.inputs.create), / --allowlist tests\/fixtures\/trivy\/allowlist\//);
  });

  it("registers no scan gate and promotes on no gate at all when the scan is disabled in dev", async () => {
    // Only dev may disable the scan (rule prod-scan-enabled): a dev stack promoting from another.
    const config = merge(stackConfig("dev"), {
      release: { promoteFrom: "acme-org/slipway/ci" },
      scan: { enabled: false },
    });
    const { run, error } = await runStack("dev", config, {
      stacks: { "acme-org/slipway/ci": DEV_RELEASE },
    });
    assert.equal(error, undefined, String(error));
    assert.equal(run.get(T.scanGate, "slipway-scan"), undefined);
    assert.deepEqual(run.find(T.command, "slipway-promote-promote").inputs.triggers, []);
    assert.match(
      String(run.find(T.command, "slipway-report-run").inputs.create),
      / --skipped 'scan=scan\.enabled is false' /,
    );
  });
});

describe("promotion config rules, through the program's own entry", () => {
  it("refuses a prod stack that neither promotes nor says it builds from source (prod-promotes)", async () => {
    const { run, error } = await runStack("prod", stackConfig("prod"));
    assert.ok(error instanceof Error, "the program throws");
    assert.match(error.message, /^CONFIG_INVALID: /);
    assert.match(
      error.message,
      /slipway:release\.promoteFrom: prod promotes the digest dev released/,
    );
    assert.deepEqual(run.resources, []);
    assert.deepEqual(run.calls, []);
  });

  it("refuses a stack that both promotes and builds from source (promote-or-build)", async () => {
    const { run, error } = await runStack(
      "prod",
      promotionConfig({ release: { buildFromSource: true } }),
    );
    assert.ok(error instanceof Error, "the program throws");
    assert.match(
      error.message,
      /slipway:release\.buildFromSource: is true but release\.promoteFrom is "dev"/,
    );
    assert.deepEqual(run.resources, []);
  });

  it("builds prod from source with the explicit switch, reading no other stack", async () => {
    const { run, error } = await runStack(
      "prod",
      merge(stackConfig("prod"), { release: { buildFromSource: true } }),
    );
    assert.equal(error, undefined, String(error));
    assert.equal(run.all(T.build).length, 2);
    assert.deepEqual(
      run.all(T.stackReference).map((r) => r.inputs.name),
      ["acme-org/slipway/prod"],
      "only its own stack",
    );
    assert.deepEqual(run.all(T.source), []);
  });

  it("rolls back even a promoting stack: the pin wins, nothing is read from dev", async () => {
    const { run, outputs, error } = await runStack(
      "prod",
      promotionConfig({ release: { pin: "v1.4.1" } }),
    );
    assert.equal(error, undefined, String(error));
    assert.equal(outputs?.mode, "rollback");
    assert.deepEqual(
      run.all(T.stackReference).map((r) => r.inputs.name),
      ["acme-org/slipway/prod"],
      "only its own stack",
    );
    assert.deepEqual(run.all(T.promotion), []);
    assert.ok(run.get(T.command, "slipway-rollback-resolve") !== undefined);
  });
});
