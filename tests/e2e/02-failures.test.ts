import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import "./harness/hooks";
import {
  baseDriftCommand,
  buildSpec,
  digestRef,
  dockerBuildCommand,
  healthGateCommand,
  pushedDigest,
  smokeGateCommand,
} from "../../gates/commands";
import { FASTAPI, ODOO, type AppUnderTest } from "./harness/apps";
import {
  AUTH_PASSWORD,
  AUTH_REGISTRY,
  AUTH_USER,
  DOCKER,
  OPEN_REGISTRY,
  dockerConfigJson,
  script,
} from "./harness/environment";
import { TRIVY_CLEAN, TRIVY_CRITICAL } from "./harness/fixtures";
import {
  containerName,
  containerState,
  healthUrl,
  release,
  repositoryOf,
  rollback,
  timeline,
  type ContainerState,
  type ReleaseInput,
  type Run,
  type StepName,
} from "./harness/pipeline";
import { registryContent, type RegistryContent } from "./harness/registryView";
import { sh } from "./harness/shell";
import { changedCopy, repoKey, suite } from "./harness/suite";

/**
 * Every way a release must fail, each on the real engine and registry: the right code on the first
 * line and exit 1, at the right step, nothing released (no version tag, `latest` unmoved: the
 * registries' release tags and digests unchanged; a candidate may stay, under its `candidate-` tag) and
 * the release already running still running, untouched and healthy.
 */

const AUTH_OK = { user: AUTH_USER, password: AUTH_PASSWORD };

interface World {
  open: RegistryContent;
  auth: RegistryContent;
  running: Array<{ app: AppUnderTest; state: ContainerState }>;
}

async function observe(): Promise<World> {
  const running: World["running"] = [];
  for (const app of [ODOO, FASTAPI]) {
    const state = await containerState(containerName(app));
    if (state?.running === true) running.push({ app, state });
  }
  return {
    open: await registryContent(OPEN_REGISTRY),
    auth: await registryContent(AUTH_REGISTRY, AUTH_OK),
    running,
  };
}

/**
 * A registry's content without the candidates (`candidate-*` tags): its releases and `latest`, in this
 * run's namespace (other suites may share the registries).
 */
function releases(content: RegistryContent): RegistryContent {
  const out: RegistryContent = {};
  for (const [repo, tags] of Object.entries(content)) {
    if (!repo.startsWith(`${suite.namespace}/`)) continue;
    const kept = Object.entries(tags).filter(([tag]) => !tag.startsWith("candidate-"));
    if (kept.length > 0) out[repo] = Object.fromEntries(kept);
  }
  return out;
}

/**
 * Nothing released, nothing redeployed, and what ran before still runs and answers its health check.
 * Candidates may have been added (a failed gate leaves its candidate where candidates live).
 */
async function assertUntouched(before: World): Promise<void> {
  assert.deepEqual(
    releases(await registryContent(OPEN_REGISTRY)),
    releases(before.open),
    "open registry: no release tag added or moved",
  );
  assert.deepEqual(
    releases(await registryContent(AUTH_REGISTRY, AUTH_OK)),
    releases(before.auth),
    "auth registry: no release tag added or moved",
  );
  assert.ok(before.running.length > 0, "a release was running before the failure");
  for (const { app, state } of before.running) {
    const now = await containerState(state.id);
    assert.ok(now?.running, `${app.name} release still running`);
    assert.equal(now.startedAt, state.startedAt, `${app.name} release not restarted`);
    assert.equal(now.restartCount, state.restartCount);
    assert.equal(now.image, state.image, `${app.name} release still the same image`);
    const health = await sh(
      healthGateCommand({
        reportDir: suite.workDir,
        url: healthUrl(app),
        timeout: 10,
        interval: 0.25,
      }),
    );
    assert.equal(health.exitCode, 0, `${app.name} release healthy:\n${health.output}`);
  }
}

/** The run stopped at `step` with `code` as the first line and exit 1; nothing was promoted. */
function assertBlocked(run: Run, step: StepName, code: string, mentions: RegExp[] = []): void {
  const failed = run.failed;
  assert.ok(failed, `expected ${code} at ${step}, but the release passed: ${timeline(run)}`);
  assert.equal(
    failed.step,
    step,
    `failed at ${failed.step}: ${failed.firstLine}\n${failed.output.slice(-2000)}`,
  );
  assert.equal(failed.exitCode, 1, failed.output);
  assert.ok(
    failed.firstLine.startsWith(`${code}: `),
    `first line should start with "${code}: ", got: ${failed.firstLine}`,
  );
  for (const pattern of mentions) assert.match(failed.output, pattern);
  console.log(`      ${failed.step}: ${failed.firstLine}`);
  for (const after of ["promote", "deploy"] as const) {
    if (after === step) continue;
    assert.ok(!run.steps.some((s) => s.step === after), `${after} must not run after a failure`);
  }
}

function odooRelease(overrides: Partial<ReleaseInput> & { version: string }): ReleaseInput {
  return {
    app: ODOO,
    baseRef: suite.baseRef,
    registry: suite.openRegistry,
    scanReport: TRIVY_CLEAN,
    reportRoot: suite.workDir,
    ...overrides,
  };
}

describe("a release that must fail, fails closed (real engine and registry)", function () {
  let world: World;

  before(async function () {
    // A release to protect: the one the release tests left running, else a fresh first release.
    if ((await containerState(containerName(ODOO)))?.running !== true) {
      const run = await release(odooRelease({ version: "1.0.0" }));
      assert.equal(run.failed, undefined, run.failed?.output);
    }
  });

  beforeEach(async function () {
    world = await observe();
  });

  describe("broken variants of the app", function () {
    it("a failing test: TEST_FAILURE at the test gate, naming the test", async function () {
      const run = await release(
        odooRelease({ version: "1.9.0-failing-test", buildArgs: { VARIANT: "failing-test" } }),
      );
      assertBlocked(run, "test", "TEST_FAILURE", [/test_rounds_half_to_even/]);
      await assertUntouched(world);
    });

    it("coverage under the floor: LOW_COVERAGE at the test gate, with the measured total", async function () {
      const run = await release(
        odooRelease({ version: "1.9.0-low-coverage", buildArgs: { VARIANT: "low-coverage" } }),
      );
      assertBlocked(run, "test", "LOW_COVERAGE", [/7[0-4]\.\d+%|[1-6]\d\.\d+%/]);
      await assertUntouched(world);
    });

    it("an import error in the tests: IMPORT_ERROR at the test gate, naming the module", async function () {
      const run = await release(
        odooRelease({ version: "1.9.0-test-import", buildArgs: { VARIANT: "test-import-error" } }),
      );
      assertBlocked(run, "test", "IMPORT_ERROR", [/xlsxwriter/]);
      await assertUntouched(world);
    });

    it("a module missing at start (the FastAPI build report): tests pass, the boot dies (gunicorn exit 3, or 1 when its arbiter trips while halting), CONTAINER_START_FAILURE naming the module before any promotion", async function () {
      const run = await release({
        app: FASTAPI,
        version: "2.9.0-missing-module",
        baseRef: suite.baseRef,
        registry: suite.openRegistry,
        scanReport: TRIVY_CLEAN,
        reportRoot: suite.workDir,
        buildArgs: { VARIANT: "missing-module" },
      });
      const tests = run.steps.find((s) => s.step === "test");
      assert.equal(tests?.exitCode, 0, "the tests never import the start-up wiring: they pass");
      assertBlocked(run, "smoke", "CONTAINER_START_FAILURE", [
        // gunicorn exits 3 ("Worker failed to boot"), or 1 when killing the dead worker raises while it
        // halts (seen on this machine): the module is named either way.
        /exited with code [13] during boot/,
        /No module named 'opentelemetry\.exporter'/,
      ]);
      await assertUntouched(world);
    });

    it("a root runtime user: RUNS_AS_ROOT (lint sees USER root; the smoke gate sees it on the image too)", async function () {
      const buildArgs = { RUNTIME_USER: "root" };
      const version = "1.9.0-root";
      const run = await release(odooRelease({ version, buildArgs }));
      const failed = run.failed;
      assert.ok(failed, "a root runtime must not be released");
      assertBlocked(run, failed.step === "lint" ? "lint" : "smoke", "RUNS_AS_ROOT");
      // Whichever stopped it, the smoke gate must also refuse the exact candidate on its own.
      const repository = repositoryOf(suite.openRegistry, ODOO);
      const build = await sh(
        dockerBuildCommand(
          buildSpec({
            version,
            context: ODOO.context,
            dockerfile: ODOO.dockerfile,
            target: "runtime",
            baseRef: suite.baseRef,
            buildArgs,
            candidateRepository: repository,
            cache: false,
          }),
          DOCKER,
        ),
      );
      assert.equal(build.exitCode, 0, build.output);
      const smoke = await sh(
        smokeGateCommand({
          reportDir: suite.workDir,
          image: digestRef(repository, pushedDigest(build.stdout) ?? ""),
          nonRoot: true,
        }),
      );
      assert.equal(smoke.exitCode, 1, smoke.output);
      assert.match(smoke.firstLine, /^RUNS_AS_ROOT: /);
      await assertUntouched(world);
    });

    it("the addons path missing: MISSING_ADDONS at the smoke gate, naming /mnt/extra-addons", async function () {
      const run = await release(
        odooRelease({ version: "1.9.0-no-addons", buildArgs: { ADDONS_PATH: "/opt/addons" } }),
      );
      assertBlocked(run, "smoke", "MISSING_ADDONS", [/\/mnt\/extra-addons/]);
      await assertUntouched(world);
    });

    it("a wrong version string: ENTRYPOINT_ERROR at the smoke gate, showing what was printed", async function () {
      const run = await release(
        odooRelease({ version: "1.9.0-wrong-version", buildArgs: { VARIANT: "wrong-version" } }),
      );
      assertBlocked(run, "smoke", "ENTRYPOINT_ERROR", [/Odoo Server 15\.0/]);
      await assertUntouched(world);
    });

    it("an image over its size budget: IMAGE_SIZE_EXCEEDED at the smoke gate", async function () {
      const run = await release(odooRelease({ version: "1.9.0-too-big", maxSize: "50MB" }));
      assertBlocked(run, "smoke", "IMAGE_SIZE_EXCEEDED", [/50\s?MB/]);
      await assertUntouched(world);
    });
  });

  it("a blocking scan (real Trivy report, debian-buster; Trivy cannot run here): SECURITY_CRITICAL", async function () {
    const run = await release(
      odooRelease({ version: "1.9.0-vulnerable", scanReport: TRIVY_CRITICAL }),
    );
    assertBlocked(run, "scan", "SECURITY_CRITICAL", [/CVE-2019-18224/, /libidn2/]);
    await assertUntouched(world);
  });

  it("releasing an existing version with different content: TAG_IMMUTABLE at the promotion, the release tag and latest untouched", async function () {
    const context = changedCopy(
      ODOO.context,
      "custom_addons/slipway_invoice/models/invoice.py",
      (text) => text.replace('"""Invoice arithmetic', '"""Changed: invoice arithmetic'),
      "odoo-immutable",
    );
    const run = await release(
      odooRelease({ version: "1.0.0", context, dockerfile: `${context}/Dockerfile` }),
    );
    assertBlocked(run, "promote", "TAG_IMMUTABLE", [/1\.0\.0/]);
    // The candidate stays, and the promotion's result names it.
    assert.ok(run.candidateDigest !== undefined);
    assert.ok(run.failed?.output.includes(run.candidateDigest), "the result names the candidate");
    await assertUntouched(world);
  });

  describe("registry credentials (htpasswd registry on 127.0.0.1:5001)", function () {
    function credentialsEnv(password: string): Record<string, string> {
      // The gates read SLIPWAY_REGISTRY_AUTH; the docker CLI reads DOCKER_CONFIG/config.json.
      const dir = mkdtempSync(join(suite.workDir, "docker-config-"));
      const config = dockerConfigJson(AUTH_REGISTRY, AUTH_USER, password);
      writeFileSync(join(dir, "config.json"), config);
      return { SLIPWAY_REGISTRY_AUTH: config, DOCKER_CONFIG: dir };
    }

    it("wrong credentials: the registry refuses the candidate push itself, nothing reaches it and no gate runs", async function () {
      const env = credentialsEnv("not-the-password");
      const run = await release(
        odooRelease({ version: "5.0.0", registry: suite.authRegistry, env, deploy: false }),
      );
      const failed = run.failed;
      assert.ok(failed !== undefined && failed.step.startsWith("build-"), timeline(run));
      assert.match(failed.output, /unauthorized|authentication required|no basic auth/i);
      for (const gate of ["test", "smoke", "scan", "promote"] as const) {
        assert.ok(!run.steps.some((s) => s.step === gate), `${gate} must not run`);
      }
      await assertUntouched(world);
      assert.deepEqual(
        (await registryContent(AUTH_REGISTRY, AUTH_OK))[repoKey(ODOO)],
        world.auth[repoKey(ODOO)],
        "not even a candidate reached the registry",
      );
    });

    it("credentials the promotion's registry refuses: REGISTRY_AUTH_FAILURE at the promotion, the candidate stays, nothing released", async function () {
      const run = await release(
        odooRelease({
          version: "5.0.0",
          registry: suite.authRegistry,
          env: credentialsEnv(AUTH_PASSWORD),
          stepEnv: {
            promote: {
              SLIPWAY_REGISTRY_AUTH: dockerConfigJson(AUTH_REGISTRY, AUTH_USER, "revoked"),
            },
          },
          deploy: false,
        }),
      );
      assertBlocked(run, "promote", "REGISTRY_AUTH_FAILURE");
      const tags = (await registryContent(AUTH_REGISTRY, AUTH_OK))[repoKey(ODOO)] ?? {};
      assert.equal(tags["candidate-5.0.0-runtime"], run.candidateDigest);
      assert.equal(tags["5.0.0"], undefined);
      await assertUntouched(world);
    });

    it("the right credentials (a DigitalOcean-style Docker config): the same release goes through", async function () {
      const run = await release(
        odooRelease({
          version: "5.0.0",
          registry: suite.authRegistry,
          env: credentialsEnv(AUTH_PASSWORD),
          deploy: false,
        }),
      );
      assert.equal(run.failed, undefined, run.failed?.output);
      const tags = (await registryContent(AUTH_REGISTRY, AUTH_OK))[repoKey(ODOO)] ?? {};
      assert.equal(tags["5.0.0"], run.digest);
      assert.equal(tags.latest, run.digest);
      assert.equal(run.digest, run.candidateDigest);
    });
  });

  it("a rollback to a tag that does not exist: ROLLBACK_TAG_NOT_FOUND naming the tags that exist, nothing re-pointed or redeployed", async function () {
    const tags = Object.keys(world.open[repoKey(ODOO)] ?? {}).filter((t) => t !== "latest");
    assert.ok(tags.length > 0);
    const run = await rollback({
      app: ODOO,
      registry: suite.openRegistry,
      pin: "0.9.9",
      reportRoot: suite.workDir,
    });
    assertBlocked(
      run,
      "resolve",
      "ROLLBACK_TAG_NOT_FOUND",
      tags.map((t) => new RegExp(t.replace(/\./g, "\\."))),
    );
    assert.ok(!run.steps.some((s) => s.step === "retag"), "latest is not re-pointed");
    await assertUntouched(world);
  });

  it("the registry down (stopped for real): the candidate push fails for a release, REGISTRY_UNAVAILABLE for a rollback; nothing changed once it is back", async function () {
    await sh(`bash ${script("registry.sh")} stop open`);
    let releaseRun: Run;
    let rollbackRun: Run;
    try {
      releaseRun = await release(odooRelease({ version: "1.2.0" }));
      rollbackRun = await rollback({
        app: ODOO,
        registry: suite.openRegistry,
        pin: "1.0.0",
        reportRoot: suite.workDir,
      });
    } finally {
      const started = await sh(`bash ${script("registry.sh")} start open`);
      assert.equal(started.exitCode, 0, started.output);
    }
    const failed = releaseRun.failed;
    assert.ok(failed !== undefined && failed.step.startsWith("build-"), timeline(releaseRun));
    assert.match(failed.output, /127\.0\.0\.1:5000/);
    assert.ok(!releaseRun.steps.some((s) => s.step === "promote" || s.step === "deploy"));
    assertBlocked(rollbackRun, "resolve", "REGISTRY_UNAVAILABLE");
    await assertUntouched(world);
  });

  it("the base image's tag moved since it was pinned: BASE_IMAGE_DRIFT, a warning that names the new digest (blocking with --strict)", async function () {
    // A base of this run's own: pinned now, then its tag re-pushed with another image.
    const base = `${suite.openRegistry}/python:3.11-bookworm`;
    const pinned = await sh(`${DOCKER} tag ${suite.baseRef} ${base} && ${DOCKER} push ${base}`);
    assert.equal(pinned.exitCode, 0, pinned.output);
    const pinnedDigest = suite.baseRef.slice(suite.baseRef.indexOf("@") + 1);
    const ref = `${base}@${pinnedDigest}`;
    const clean = await sh(baseDriftCommand({ reportDir: suite.workDir, ref }));
    assert.equal(clean.exitCode, 0, clean.output);
    assert.match(clean.firstLine, /^PASS base/);

    // The tag moves: an image one label apart from the pinned one is pushed under it.
    const next = `${base}-next-build`;
    const built = await sh(
      `printf 'FROM ${suite.baseRef}\\nLABEL org.slipway.e2e=moved\\n' | ${DOCKER} build -t ${next} -`,
    );
    assert.equal(built.exitCode, 0, built.output);
    const moved = await sh(`${DOCKER} tag ${next} ${base} && ${DOCKER} push ${base}`);
    assert.equal(moved.exitCode, 0, moved.output);
    const now = (await registryContent(OPEN_REGISTRY))[`${suite.namespace}/python`][
      "3.11-bookworm"
    ];
    assert.notEqual(now, pinnedDigest);

    const drift = await sh(baseDriftCommand({ reportDir: suite.workDir, ref }));
    assert.equal(drift.exitCode, 0, "drift is a warning by default");
    assert.match(drift.firstLine, /^BASE_IMAGE_DRIFT: /);
    assert.ok(drift.output.includes(now), `names the digest to pin next (${now})`);
    const strict = await sh(baseDriftCommand({ reportDir: suite.workDir, ref, strict: true }));
    assert.equal(strict.exitCode, 1, strict.output);
    assert.match(strict.firstLine, /^BASE_IMAGE_DRIFT: /);
    console.log(`      base: ${strict.firstLine}`);
  });

  it("leaves no gate container behind (smoke boots, test runs)", async function () {
    // Status and creation time say which run left it (and whether it still runs) when one is left.
    const left = await sh(
      `${DOCKER} ps -a --filter label=slipway.gate --format '{{.ID}} {{.Names}} {{.Status}} {{.CreatedAt}} {{.Command}}'`,
    );
    assert.equal(left.stdout.trim(), "");
  });
});
