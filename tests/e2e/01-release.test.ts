import assert from "node:assert/strict";
import "./harness/hooks";
import { FASTAPI, ODOO } from "./harness/apps";
import { DOCKER, OPEN_REGISTRY } from "./harness/environment";
import { TRIVY_CLEAN } from "./harness/fixtures";
import {
  containerName,
  containerState,
  healthUrl,
  release,
  repositoryOf,
  rollback,
  timeline,
  type Run,
  type StepName,
} from "./harness/pipeline";
import { registryContent } from "./harness/registryView";
import { sh } from "./harness/shell";
import { changedCopy, repoKey, suite } from "./harness/suite";
import { healthGateCommand, localImageRef, smokeGateCommand } from "../../gates/commands";
import { reportOutputOf } from "../../gates/report/summary";

/** Every step of a normal release to the local target (see harness/pipeline.ts). */
const RELEASE_STEPS: StepName[] = [
  "preflight",
  "base",
  "lint",
  "build-builder",
  "build-runtime",
  "test",
  "smoke",
  "scan",
  "tag-guard",
  "push",
  "push-latest",
  "deploy",
  "verify",
  "report",
];

const GREETING_V1 = "Hello from Slipway";
const GREETING_V2 = "Hello from the second release";

function stepOf(run: Run, name: StepName) {
  const step = run.steps.find((s) => s.step === name);
  assert.ok(step, `step ${name} did not run; ran: ${run.steps.map((s) => s.step).join(", ")}`);
  return step;
}

function assertPassed(run: Run, steps: StepName[]): void {
  const failed = run.failed;
  assert.ok(
    failed === undefined,
    failed &&
      `${failed.step} failed (exit ${failed.exitCode}): ${failed.command}\n${failed.output.slice(-3000)}`,
  );
  assert.deepEqual(run.steps.map((s) => s.step).sort(), [...steps].sort(), "the steps that ran");
}

/** What the app serves at /slipway/hello, straight from the published port. */
async function greeting(): Promise<string> {
  const response = await fetch(healthUrl(ODOO, "/slipway/hello"));
  return ((await response.json()) as { greeting: string }).greeting;
}

/** The release report the pipeline wrote last: its summary line (the stack output `releaseReport`). */
function reportVerdict(run: Run): string {
  return reportOutputOf(stepOf(run, "report").stdout, "report.md").verdict;
}

async function skopeoDigest(ref: string): Promise<string> {
  const result = await sh(
    `skopeo inspect --tls-verify=false --format '{{.Digest}}' docker://${ref}`,
  );
  assert.equal(result.exitCode, 0, result.output);
  return result.stdout.trim();
}

describe("a release on a real Docker engine and registry (Odoo-shaped app)", function () {
  let first: Run;
  let firstDigest = "";
  let secondDigest = "";

  it("passes preflight, base drift and lint, builds both targets, passes the test, smoke (boot + health) and scan gates (scan: a real Trivy report, Trivy cannot run here), pushes version and latest, runs the release by digest, verifies its health and reports it READY", async function () {
    first = await release({
      app: ODOO,
      version: "1.0.0",
      baseRef: suite.baseRef,
      registry: suite.openRegistry,
      scanReport: TRIVY_CLEAN,
      reportRoot: suite.workDir,
    });
    console.log(`      first release: ${timeline(first)}`);
    assertPassed(first, RELEASE_STEPS);
    for (const gate of [
      "preflight",
      "base",
      "lint",
      "test",
      "smoke",
      "scan",
      "tag-guard",
      "verify",
    ] as const) {
      assert.match(
        stepOf(first, gate).firstLine,
        new RegExp(`^PASS ${gate === "verify" ? "health" : gate}`),
      );
    }
    // The test gate read coverage from coverage's JSON: the sample is at 100 %.
    assert.match(stepOf(first, "test").output, /100(\.0+)?\s*%/);

    // Pushed: version and latest. The digest the pipeline deploys is the one `docker push` printed;
    // the registry's API (manifest HEAD) and skopeo both say the tags hold exactly that manifest.
    firstDigest = first.digest ?? "";
    assert.match(firstDigest, /^sha256:[a-f0-9]{64}$/);
    assert.ok(
      stepOf(first, "push").stdout.includes(`1.0.0: digest: ${firstDigest} size: `),
      "the digest comes from the push's own output",
    );
    const content = await registryContent(OPEN_REGISTRY);
    assert.deepEqual(content[repoKey(ODOO)], { "1.0.0": firstDigest, latest: firstDigest });
    assert.equal(
      await skopeoDigest(`${repositoryOf(suite.openRegistry, ODOO)}:1.0.0`),
      firstDigest,
    );
    assert.equal(reportVerdict(first), "READY");

    // Running by digest, never by tag, and serving.
    const state = await containerState(containerName(ODOO));
    assert.ok(state?.running, "the release container runs");
    assert.equal(state.image, `${repositoryOf(suite.openRegistry, ODOO)}@${firstDigest}`);
    assert.equal(await greeting(), GREETING_V1);
  });

  it("ships the system packages SOP step 2 installs (wkhtmltopdf, postgresql-client): the smoke gate's version check on the released image", async function () {
    assert.ok(firstDigest, "needs the first release");
    const image = localImageRef(ODOO.name, "1.0.0", "runtime");
    for (const [command, expected] of [
      ["wkhtmltopdf --version", "wkhtmltopdf 0.12.6"],
      ["psql --version", "psql (PostgreSQL) 15"],
    ]) {
      const smoke = await sh(
        smokeGateCommand({
          reportDir: suite.workDir,
          image,
          versionCommand: command,
          expectVersion: expected,
        }),
      );
      assert.equal(smoke.exitCode, 0, smoke.output);
      assert.match(smoke.firstLine, /^PASS smoke/);
      assert.ok(smoke.output.includes(expected), smoke.output);
    }
  });

  it("releases a one-file change as a second version: cached layers reused, the first version untouched", async function () {
    assert.ok(firstDigest, "needs the first release");
    const context = changedCopy(
      ODOO.context,
      "custom_addons/slipway_hello/models/greeting.py",
      (text) => text.replace(`GREETING = "${GREETING_V1}"`, `GREETING = "${GREETING_V2}"`),
      "odoo-second-release",
    );
    const second = await release({
      app: ODOO,
      version: "1.1.0",
      baseRef: suite.baseRef,
      registry: suite.openRegistry,
      context,
      dockerfile: `${context}/Dockerfile`,
      scanReport: TRIVY_CLEAN,
      reportRoot: suite.workDir,
    });
    console.log(`      one-file change: ${timeline(second)}`);
    assertPassed(second, RELEASE_STEPS);
    // BuildKit reused every layer before the changed file (same content, other directory).
    assert.match(stepOf(second, "build-runtime").output, /CACHED/);
    secondDigest = second.digest ?? "";
    assert.notEqual(secondDigest, firstDigest);
    assert.deepEqual((await registryContent(OPEN_REGISTRY))[repoKey(ODOO)], {
      "1.0.0": firstDigest,
      "1.1.0": secondDigest,
      latest: secondDigest,
    });
    assert.equal(await greeting(), GREETING_V2);
  });

  it("rolls back to the first release: resolves the pin in the registry, re-points latest, runs it by digest (pulled from the registry) and verifies it", async function () {
    assert.ok(secondDigest, "needs the second release");
    // Forget the first release locally: the rollback must get it from the registry, by digest.
    await sh(
      `${DOCKER} rmi ${repositoryOf(suite.openRegistry, ODOO)}:1.0.0 slipway/odoo:1.0.0-runtime ${repositoryOf(suite.openRegistry, ODOO)}@${firstDigest}`,
    );
    const back = await rollback({
      app: ODOO,
      registry: suite.openRegistry,
      pin: "1.0.0",
      reportRoot: suite.workDir,
    });
    console.log(`      rollback: ${timeline(back)}`);
    assertPassed(back, ["resolve", "retag", "deploy", "verify", "report"]);
    assert.equal(reportVerdict(back), "READY");
    assert.equal(back.digest, firstDigest, "the pin resolves to the first release's digest");
    assert.deepEqual((await registryContent(OPEN_REGISTRY))[repoKey(ODOO)], {
      "1.0.0": firstDigest,
      "1.1.0": secondDigest,
      latest: firstDigest,
    });
    const state = await containerState(containerName(ODOO));
    assert.equal(state?.image, `${repositoryOf(suite.openRegistry, ODOO)}@${firstDigest}`);
    // The health gate, pointed at what the release serves, proves which release answers.
    const served = await sh(
      healthGateCommand({
        reportDir: suite.workDir,
        url: healthUrl(ODOO, "/slipway/hello"),
        timeout: 10,
        interval: 0.25,
        expectBody: GREETING_V1,
      }),
    );
    assert.equal(served.exitCode, 0, served.output);
    assert.equal(await greeting(), GREETING_V1);
  });
});

describe("a release of the FastAPI service (gunicorn + uvicorn workers) through the same pipeline", function () {
  it("passes every gate, boots under gunicorn as appuser, pushes, runs by digest and answers /health", async function () {
    const run = await release({
      app: FASTAPI,
      version: "2.0.0",
      baseRef: suite.baseRef,
      registry: suite.openRegistry,
      scanReport: TRIVY_CLEAN,
      reportRoot: suite.workDir,
    });
    console.log(`      fastapi release: ${timeline(run)}`);
    assertPassed(run, RELEASE_STEPS);
    const content = await registryContent(OPEN_REGISTRY);
    assert.deepEqual(content[repoKey(FASTAPI)], { "2.0.0": run.digest, latest: run.digest });
    const response = await fetch(healthUrl(FASTAPI));
    assert.deepEqual(await response.json(), { status: "ok", version: "1.0.0" });
    const user = await sh(`${DOCKER} exec ${containerName(FASTAPI)} id -un`);
    assert.equal(user.stdout.trim(), "appuser");
  });
});
