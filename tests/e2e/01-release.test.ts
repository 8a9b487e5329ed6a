import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import "./harness/hooks";
import { FASTAPI, ODOO } from "./harness/apps";
import {
  AUTH_PASSWORD,
  AUTH_REGISTRY,
  AUTH_USER,
  DOCKER,
  dockerConfigJson,
  OPEN_REGISTRY,
} from "./harness/environment";
import { TRIVY_CLEAN } from "./harness/fixtures";
import {
  containerName,
  containerState,
  healthUrl,
  promotion,
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
import { digestRef, GATE_BIN, healthGateCommand, smokeGateCommand } from "../../gates/commands";
import { reportOutputOf } from "../../gates/report/summary";
import { parseVerdictLine } from "../../gates/result";

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
  "promote",
  "deploy",
  "verify",
  "report",
  "evidence",
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
  const summary = parseVerdictLine(stepOf(run, "report").stdout).value ?? "";
  return reportOutputOf(summary, "report.md").verdict;
}

/** A repository's tags without the evidence (`sha256-<hex>.<kind>`): releases, candidates, latest. */
function withoutEvidence(tags: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(
    Object.entries(tags ?? {}).filter(([tag]) => !tag.startsWith("sha256-")),
  );
}

/** A repository's tags without the candidates (`candidate-*`) and evidence: releases and `latest`. */
function releaseTags(tags: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(
    Object.entries(withoutEvidence(tags)).filter(([tag]) => !tag.startsWith("candidate-")),
  );
}

/**
 * Removes every reference to `repository` from the engine (its tags and its digests): what a machine
 * that never pulled or built it has. (An identical image may stay under another repository's name: the
 * engine then has to ask the registry for this one again, by digest, before it can run it.)
 */
async function forgetImages(repository: string): Promise<void> {
  const listed = await sh(
    `${DOCKER} images --digests --format '{{.Repository}} {{.Tag}} {{.Digest}}' --filter reference='${repository}'`,
  );
  const refs = new Set<string>();
  for (const line of listed.stdout.split("\n").filter((l) => l.trim() !== "")) {
    const [repo, tag, digest] = line.split(" ");
    if (tag !== "<none>") refs.add(`${repo}:${tag}`);
    if (digest !== "<none>") refs.add(`${repo}@${digest}`);
  }
  if (refs.size > 0) await sh(`${DOCKER} rmi ${[...refs].join(" ")}`);
  const left = await sh(`${DOCKER} images -q --filter reference='${repository}'`);
  assert.equal(left.stdout.trim(), "", `the engine still holds images of ${repository}`);
}

const AUTH_OK = { user: AUTH_USER, password: AUTH_PASSWORD };

/** The gates read SLIPWAY_REGISTRY_AUTH; the docker CLI reads DOCKER_CONFIG/config.json. */
function credentialsEnv(password: string): Record<string, string> {
  const dir = mkdtempSync(join(suite.workDir, "docker-config-"));
  const config = dockerConfigJson(AUTH_REGISTRY, AUTH_USER, password);
  writeFileSync(join(dir, "config.json"), config);
  return { SLIPWAY_REGISTRY_AUTH: config, DOCKER_CONFIG: dir };
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
      "promote",
      "verify",
    ] as const) {
      assert.match(
        stepOf(first, gate).firstLine,
        new RegExp(`^PASS ${gate === "verify" ? "health" : gate}`),
      );
    }
    // The test gate read coverage from coverage's JSON: the sample is at 100 %.
    assert.match(stepOf(first, "test").output, /100(\.0+)?\s*%/);

    // One digest end to end: the runtime candidate's (as its build's push printed it) is the one the
    // gates judged, the one promoted under 1.0.0 and latest (registry-side, no second push), the one
    // deployed; the registry's API (manifest HEAD) and skopeo both say the tags hold that manifest.
    firstDigest = first.digest ?? "";
    assert.match(firstDigest, /^sha256:[a-f0-9]{64}$/);
    assert.equal(first.candidateDigest, firstDigest, "the released digest is the candidate's");
    assert.ok(
      stepOf(first, "build-runtime").stdout.includes(
        `candidate-1.0.0-runtime: digest: ${firstDigest} size: `,
      ),
      "the digest comes from the candidate push's own output",
    );
    for (const gate of ["smoke"] as const) {
      assert.ok(
        stepOf(first, gate).command.includes(
          digestRef(repositoryOf(suite.openRegistry, ODOO), firstDigest),
        ),
        `the ${gate} gate judged the candidate by digest`,
      );
    }
    assert.ok(
      stepOf(first, "test").command.includes(`@${first.builderDigest ?? "?"}`),
      "the tests ran in the builder candidate, by digest",
    );
    assert.doesNotMatch(stepOf(first, "promote").output, /Pushed|Layer already exists/);
    const content = await registryContent(OPEN_REGISTRY);
    const evidence = Object.keys(content[repoKey(ODOO)] ?? {}).filter((tag) =>
      tag.startsWith(`${firstDigest.replace(":", "-")}.`),
    );
    assert.ok(
      evidence.includes(`${firstDigest.replace(":", "-")}.report`),
      "the report is bound to the digest",
    );
    assert.deepEqual(withoutEvidence(content[repoKey(ODOO)]), {
      "candidate-1.0.0-builder": first.builderDigest,
      "candidate-1.0.0-runtime": firstDigest,
      "1.0.0": firstDigest,
      latest: firstDigest,
    });
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
    const image = digestRef(repositoryOf(suite.openRegistry, ODOO), firstDigest);
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
    assert.deepEqual(releaseTags((await registryContent(OPEN_REGISTRY))[repoKey(ODOO)]), {
      "1.0.0": firstDigest,
      "1.1.0": secondDigest,
      latest: secondDigest,
    });
    assert.equal(await greeting(), GREETING_V2);
  });

  it("rolls back to the first release: resolves the pin in the registry, re-points latest, runs it by digest (pulled from the registry) and verifies it", async function () {
    assert.ok(secondDigest, "needs the second release");
    // Forget the first release locally: the rollback must get it from the registry, by digest.
    const repository = repositoryOf(suite.openRegistry, ODOO);
    await sh(
      `${DOCKER} rmi ${repository}:1.0.0 ${repository}:candidate-1.0.0-runtime ${repository}@${firstDigest}`,
    );
    const gone = await sh(`${DOCKER} image inspect ${repository}@${firstDigest}`);
    assert.notEqual(gone.exitCode, 0, "the engine no longer has the first release");
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
    assert.deepEqual(releaseTags((await registryContent(OPEN_REGISTRY))[repoKey(ODOO)]), {
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

describe("promotion and resumption, by digest (Odoo-shaped app)", function () {
  it("prod promotes the digest dev released: no build, no test, a re-scan, the same digest tagged and deployed", async function () {
    const dev = await release({
      app: ODOO,
      version: "3.0.0-rc.1",
      baseRef: suite.baseRef,
      registry: suite.openRegistry,
      scanReport: TRIVY_CLEAN,
      reportRoot: suite.workDir,
    });
    assertPassed(dev, RELEASE_STEPS);
    const refused = await promotion({
      app: ODOO,
      registry: suite.openRegistry,
      sourceDigest: dev.digest ?? "",
      sourceVerdict: "NOT READY",
      version: "3.0.0",
      scanReport: TRIVY_CLEAN,
      reportRoot: suite.workDir,
    });
    assert.equal(refused.failed?.step, "promote", "a NOT READY source is refused");
    assert.match(refused.failed?.firstLine ?? "", /^EVIDENCE_NOT_READY/);
    assert.equal(
      (await registryContent(OPEN_REGISTRY))[repoKey(ODOO)]?.["3.0.0"],
      undefined,
      "nothing released",
    );

    // A digest nobody released (the builder candidate: built and tested, never verified) has no
    // evidence: refused before anything changes.
    const unproven = await promotion({
      app: ODOO,
      registry: suite.openRegistry,
      sourceDigest: dev.builderDigest ?? "",
      sourceVerdict: "READY",
      version: "3.0.0",
      scanReport: TRIVY_CLEAN,
      reportRoot: suite.workDir,
    });
    assert.equal(unproven.failed?.step, "promote");
    assert.match(unproven.failed?.firstLine ?? "", /^EVIDENCE_MISSING/);

    // What dev's release left bound to its digest, as anyone can list it.
    const listed = await sh(
      `${GATE_BIN} evidence list ${digestRef(repositoryOf(suite.openRegistry, ODOO), dev.digest ?? "")}`,
    );
    assert.equal(listed.exitCode, 0, listed.output);
    for (const kind of ["report", "gates"])
      assert.match(listed.output, new RegExp(`\\b${kind}\\b`));

    const prod = await promotion({
      app: ODOO,
      registry: suite.openRegistry,
      sourceDigest: dev.digest ?? "",
      sourceVerdict: "READY",
      version: "3.0.0",
      scanReport: TRIVY_CLEAN,
      reportRoot: suite.workDir,
    });
    console.log(`      promotion: ${timeline(prod)}`);
    assertPassed(prod, ["scan", "promote", "deploy", "verify", "report", "evidence"]);
    assert.equal(prod.digest, dev.digest, "prod releases exactly what dev released");
    const tags = (await registryContent(OPEN_REGISTRY))[repoKey(ODOO)] ?? {};
    assert.equal(tags["3.0.0"], dev.digest);
    assert.equal(tags["3.0.0-rc.1"], dev.digest);
    assert.equal(tags.latest, dev.digest);
    const state = await containerState(containerName(ODOO));
    assert.equal(state?.image, `${repositoryOf(suite.openRegistry, ODOO)}@${dev.digest ?? ""}`);
    assert.equal(reportVerdict(prod), "READY");
  });

  it("a fresh runner resumes a release whose promotion failed: nothing rebuilt, the images pulled from the registry by digest", async function () {
    // The first `up` builds and gates on this machine, then its promotion fails (credentials the
    // registry refuses). The stack's state holds the candidates' digests and the passed gates.
    const good = credentialsEnv(AUTH_PASSWORD);
    const bad = dockerConfigJson(AUTH_REGISTRY, AUTH_USER, "expired-credentials");
    const input = {
      app: ODOO,
      version: "4.0.0",
      baseRef: suite.baseRef,
      registry: suite.authRegistry,
      scanReport: TRIVY_CLEAN,
      reportRoot: suite.workDir,
      env: good,
    };
    const interrupted = await release({
      ...input,
      stepEnv: { promote: { SLIPWAY_REGISTRY_AUTH: bad } },
    });
    assert.equal(interrupted.failed?.step, "promote");
    assert.match(interrupted.failed?.firstLine ?? "", /^REGISTRY_AUTH_FAILURE/);
    const before = (await registryContent(AUTH_REGISTRY, AUTH_OK))[repoKey(ODOO)] ?? {};
    assert.equal(before["4.0.0"], undefined, "no version tag");
    assert.equal(before.latest, undefined, "latest not moved");
    assert.equal(
      before["candidate-4.0.0-runtime"],
      interrupted.candidateDigest,
      "the candidate stays",
    );

    // Another runner: an engine that holds none of the app's images (and runs none of them).
    const repository = repositoryOf(suite.authRegistry, ODOO);
    await sh(`${DOCKER} rm -f ${containerName(ODOO)}`);
    await forgetImages(repository);
    const resumed = await release({ ...input, resume: interrupted });
    console.log(`      fresh-runner re-run: ${timeline(resumed)}`);
    assert.equal(resumed.failed, undefined, resumed.failed?.output);
    assert.deepEqual(
      resumed.steps.map((step) => step.step).sort(),
      ["deploy", "evidence", "promote", "report", "verify"],
      "only the failed step and what follows it ran: nothing rebuilt, no gate re-run",
    );
    assert.equal(resumed.digest, interrupted.candidateDigest, "the gated candidate is released");
    const after = (await registryContent(AUTH_REGISTRY, AUTH_OK))[repoKey(ODOO)] ?? {};
    assert.equal(after["4.0.0"], interrupted.candidateDigest);
    assert.equal(after.latest, interrupted.candidateDigest);
    const state = await containerState(containerName(ODOO));
    assert.equal(state?.image, `${repository}@${interrupted.candidateDigest ?? ""}`);
    assert.equal(reportVerdict(resumed), "READY");
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
    assert.deepEqual(releaseTags(content[repoKey(FASTAPI)]), {
      "2.0.0": run.digest,
      latest: run.digest,
    });
    const response = await fetch(healthUrl(FASTAPI));
    assert.deepEqual(await response.json(), { status: "ok", version: "1.0.0" });
    const user = await sh(`${DOCKER} exec ${containerName(FASTAPI)} id -un`);
    assert.equal(user.stdout.trim(), "appuser");
  });
});
