import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  baseDriftCommand,
  buildSpec,
  healthGateCommand,
  lintCommand,
  localContainerSpec,
  preflightCommand,
  releaseReportDir,
  reportCommand,
  scanGateCommand,
  smokeGateCommand,
  tagGuardCommand,
  testGateCommand,
  trivyReportFile,
} from "../../gates/commands";
import {
  assertGraph,
  type GraphRow,
  under,
  BASE_DIGEST,
  defaultStdout,
  fakeDigest,
  merge,
  type MockRun,
  type Recorded,
  runStack,
  stackConfig,
  T,
} from "./harness";

type Env = "dev" | "prod" | "local";

/** `[type, name, parent type, parent name]` of every resource a normal release registers. */
function expectedRelease(env: Env): GraphRow[] {
  const root: GraphRow = [T.pipeline, "slipway", "", ""];
  const c = under(T.pipeline, "slipway");
  const registry = under(T.registry, "slipway-registry");
  const published = under(T.published, "slipway-publish");
  const deploy = under(T.deployment, "slipway-deploy");
  return [
    root,
    c(T.registry, "slipway-registry"),
    ...(env === "dev" ? [registry(T.docr, "slipway-registry")] : []),
    ...(env === "local" ? [] : [registry(T.credentials, "slipway-registry-write")]),
    c(T.checks, "slipway-checks"),
    under(T.checks, "slipway-checks")(T.command, "slipway-checks-preflight"),
    under(T.checks, "slipway-checks")(T.command, "slipway-checks-lint"),
    c(T.base, "slipway-base"),
    under(T.base, "slipway-base")(T.remoteImage, "slipway-base-pull"),
    under(T.base, "slipway-base")(T.command, "slipway-base-drift"),
    c(T.builder, "slipway-builder"),
    under(T.builder, "slipway-builder")(T.build, "slipway-builder-image"),
    c(T.runtime, "slipway-runtime"),
    under(T.runtime, "slipway-runtime")(T.build, "slipway-runtime-image"),
    c(T.testGate, "slipway-test"),
    under(T.testGate, "slipway-test")(T.command, "slipway-test-run"),
    c(T.smokeGate, "slipway-smoke"),
    under(T.smokeGate, "slipway-smoke")(T.command, "slipway-smoke-run"),
    c(T.scanGate, "slipway-scan"),
    under(T.scanGate, "slipway-scan")(T.command, "slipway-scan-run"),
    c(T.published, "slipway-publish"),
    published(T.command, "slipway-publish-tag-guard"),
    published(T.tag, "slipway-publish-tag-version"),
    published(T.push, "slipway-publish-push-version"),
    published(T.tag, "slipway-publish-tag-latest"),
    published(T.push, "slipway-publish-push-latest"),
    c(T.deployment, "slipway-deploy"),
    ...(env === "local"
      ? [
          deploy(T.remoteImage, "slipway-deploy-pull"),
          deploy(T.container, "slipway-deploy-container"),
        ]
      : [deploy(T.app, "slipway-deploy-app")]),
    c(T.verification, "slipway-verify"),
    under(T.verification, "slipway-verify")(T.command, "slipway-verify-health"),
    c(T.report, "slipway-report"),
    under(T.report, "slipway-report")(T.command, "slipway-report-run"),
  ];
}

/** The verdict a gate's mocked output makes (`verdictOf`: sha256 of stdout). */
function verdict(gate: Recorded): string {
  const stdout = defaultStdout(String(gate.inputs.create));
  return `sha256:${createHash("sha256").update(stdout).digest("hex")}`;
}

for (const env of ["dev", "prod", "local"] as const) {
  describe(`the ${env} stack's release`, () => {
    let run: MockRun;
    let outputs: Record<string, unknown>;
    const config = stackConfig(env);
    const version = (config.release as { version: string }).version;
    const reportDir = releaseReportDir(version);
    const repository =
      env === "local" ? "127.0.0.1:5000/odoo" : "registry.digitalocean.com/acme/odoo";

    before(async () => {
      const outcome = await runStack(env, config);
      assert.equal(outcome.error, undefined, String(outcome.error));
      run = outcome.run;
      outputs = outcome.outputs ?? {};
    });

    it("registers every step, each under its component", () => {
      assertGraph(run, expectedRelease(env));
    });

    it("pushes only with every gate's verdict among the push's inputs", () => {
      const gates = {
        preflight: run.find(T.command, "slipway-checks-preflight"),
        lint: run.find(T.command, "slipway-checks-lint"),
        base: run.find(T.command, "slipway-base-drift"),
        test: run.find(T.command, "slipway-test-run"),
        smoke: run.find(T.command, "slipway-smoke-run"),
        scan: run.find(T.command, "slipway-scan-run"),
      };
      const guard = run.find(T.command, "slipway-publish-tag-guard");
      const runtimeDigest = fakeDigest(
        `build:${JSON.stringify(run.find(T.build, "slipway-runtime-image").inputs)}`,
      );
      for (const name of ["slipway-publish-push-version", "slipway-publish-push-latest"]) {
        const triggers = run.find(T.push, name).inputs.triggers as Record<string, string>;
        for (const [gate, command] of Object.entries(gates)) {
          assert.equal(triggers[`gate-${gate}`], verdict(command), `${name} carries ${gate}`);
        }
        assert.equal(triggers["tag-guard"], verdict(guard));
        assert.equal(triggers.image, runtimeDigest);
      }
      // The guard itself waits for every gate: its triggers carry their verdicts.
      const guardTriggers = guard.inputs.triggers as string[];
      for (const command of Object.values(gates)) {
        assert.ok(
          guardTriggers.includes(verdict(command)),
          `the tag guard waits for ${command.name}`,
        );
      }
    });

    it("pushes the scanned runtime image, :version then :latest, never deleting it on destroy", () => {
      const runtimeRef = `slipway/odoo:${version}-runtime`;
      const versionTag = run.find(T.tag, "slipway-publish-tag-version").inputs;
      const latestTag = run.find(T.tag, "slipway-publish-tag-latest").inputs;
      assert.equal(versionTag.sourceImage, runtimeRef);
      assert.equal(versionTag.targetImage, `${repository}:${version}`);
      assert.equal(latestTag.sourceImage, runtimeRef);
      assert.equal(latestTag.targetImage, `${repository}:latest`);
      const pushVersion = run.find(T.push, "slipway-publish-push-version").inputs;
      const pushLatest = run.find(T.push, "slipway-publish-push-latest").inputs;
      assert.equal(pushVersion.name, `${repository}:${version}`);
      assert.equal(pushLatest.name, `${repository}:latest`);
      assert.equal(pushVersion.keepRemotely, true);
      assert.equal(pushLatest.keepRemotely, true);
      // latest follows the version push.
      const versionDigest = fakeDigest(
        `manifest:${(pushVersion.triggers as Record<string, string>).image}`,
      );
      assert.equal((pushLatest.triggers as Record<string, string>).version, versionDigest);
      assert.ok((latestTag.tagTriggers as string[]).includes(versionDigest));
    });

    it("deploys the pushed digest, never a tag", () => {
      const pushed = fakeDigest(
        `manifest:${(run.find(T.push, "slipway-publish-push-version").inputs.triggers as Record<string, string>).image}`,
      );
      assert.equal(outputs.imageDigest, pushed);
      assert.equal(outputs.imageRef, `${repository}@${pushed}`);
      if (env === "local") {
        const pull = run.find(T.remoteImage, "slipway-deploy-pull").inputs;
        assert.equal(pull.name, `${repository}@${pushed}`);
        const container = run.find(T.container, "slipway-deploy-container").inputs;
        assert.equal(container.image, `${repository}@${pushed}`);
      } else {
        const spec = run.find(T.app, "slipway-deploy-app").inputs.spec as AppSpecShape;
        const images = [spec.services[0].image, ...(spec.jobs ?? []).map((j) => j.image)];
        for (const image of images) {
          assert.deepEqual(image, { registryType: "DOCR", repository: "odoo", digest: pushed });
        }
      }
    });

    it("passes each command resource exactly the string its builder makes", () => {
      const builderRef = `slipway/odoo:${version}-builder`;
      const runtimeRef = `slipway/odoo:${version}-runtime`;
      const app = config.app as { port: number; healthPath: string; requiredPaths: string[] };
      const tests = config.tests as {
        command: string;
        coverageMin: number;
        env: Record<string, string>;
      };
      const scan = config.scan as { severity: string[]; report?: string };
      const baseImage = config.baseImage as string;
      const expected: Record<string, string> = {
        "slipway-checks-preflight": preflightCommand({ reportDir }),
        "slipway-checks-lint": lintCommand({
          reportDir,
          dockerfile: "examples/odoo/Dockerfile",
          requireDigest: env === "prod",
          targets: ["builder", "runtime"],
          buildArgs: { BASE_IMAGE: baseImage },
        }),
        "slipway-base-drift": baseDriftCommand({ reportDir, ref: baseImage, strict: false }),
        "slipway-test-run": testGateCommand({
          reportDir,
          image: builderRef,
          command: tests.command,
          coverageMin: tests.coverageMin,
          env: tests.env,
        }),
        "slipway-smoke-run": smokeGateCommand({
          reportDir,
          image: runtimeRef,
          maxSize: "2GB",
          versionCommand: "odoo --version",
          expectVersion: "Odoo Server 16.0",
          paths: app.requiredPaths,
          imports: ["odoo"],
          nonRoot: true,
          boot: { port: app.port, healthPath: app.healthPath, timeout: 60 },
        }),
        "slipway-scan-run": scanGateCommand({
          reportDir,
          ...(scan.report === undefined
            ? { image: runtimeRef, keepReport: trivyReportFile(reportDir) }
            : { report: scan.report }),
          severity: scan.severity,
          ignoreUnfixed: false,
          requireStatement: false,
          baseImage,
        }),
        "slipway-publish-tag-guard": tagGuardCommand({
          reportDir,
          repository,
          tag: version,
          image: runtimeRef,
        }),
        "slipway-verify-health": healthGateCommand({
          reportDir,
          url:
            env === "local"
              ? "http://127.0.0.1:18069/web/health"
              : `https://${env === "prod" ? "odoo" : "odoo-dev"}-mock.ondigitalocean.app/web/health`,
          timeout: 300,
          expectStatus: 200,
        }),
        "slipway-report-run": reportCommand({
          reportDir,
          release: {
            version,
            mode: "release",
            stack: env,
            image: `${repository}:${version}`,
            digest: String(outputs.imageDigest),
            baseImage,
          },
          gated: true,
          advisory: true,
        }),
      };
      const commands = run.all(T.command);
      assert.deepEqual(commands.map((r) => r.name).sort(), Object.keys(expected).sort());
      for (const command of commands) {
        assert.equal(command.inputs.create, expected[command.name], command.name);
        assert.equal(command.inputs.dir, ".", `${command.name} runs in the project root`);
        assert.equal(command.inputs.addPreviousOutputInEnv, false);
      }
    });

    it("re-runs a gate exactly when the image it checks changes: its triggers are that digest", () => {
      const digestOf = (name: string) =>
        fakeDigest(`build:${JSON.stringify(run.find(T.build, name).inputs)}`);
      assert.deepEqual(run.find(T.command, "slipway-test-run").inputs.triggers, [
        digestOf("slipway-builder-image"),
      ]);
      for (const gate of ["slipway-smoke-run", "slipway-scan-run"]) {
        assert.deepEqual(run.find(T.command, gate).inputs.triggers, [
          digestOf("slipway-runtime-image"),
        ]);
      }
    });

    it("scans after the base pull too: the scan reads the base's layers from the local engine", () => {
      const scan = run.find(T.command, "slipway-scan-run");
      assert.ok(run.dependsOn(scan, run.find(T.remoteImage, "slipway-base-pull")));
      assert.ok(run.dependsOn(scan, run.find(T.build, "slipway-runtime-image")));
    });

    it("builds after the preflight and the base pull only: lint and the drift check run beside the builds", () => {
      const preflight = run.find(T.command, "slipway-checks-preflight");
      const pull = run.find(T.remoteImage, "slipway-base-pull");
      for (const name of ["slipway-builder-image", "slipway-runtime-image"]) {
        const build = run.find(T.build, name);
        assert.ok(run.dependsOn(build, preflight), `${name} waits for the preflight`);
        assert.ok(run.dependsOn(build, pull), `${name} waits for the base pull`);
        for (const beside of ["slipway-checks-lint", "slipway-base-drift"]) {
          assert.ok(
            !run.dependsOn(build, run.find(T.command, beside)),
            `${name} does not wait for ${beside}`,
          );
        }
      }
    });

    it("pushes only after every gate: the guard and both pushes depend on each of them", () => {
      const gates = [
        "slipway-checks-preflight",
        "slipway-checks-lint",
        "slipway-base-drift",
        "slipway-test-run",
        "slipway-smoke-run",
        "slipway-scan-run",
      ].map((name) => run.find(T.command, name));
      const guard = run.find(T.command, "slipway-publish-tag-guard");
      for (const gate of gates) {
        assert.ok(run.dependsOn(guard, gate), `the tag guard waits for ${gate.name}`);
      }
      for (const name of ["slipway-publish-push-version", "slipway-publish-push-latest"]) {
        const push = run.find(T.push, name);
        assert.ok(run.dependsOn(push, guard), `${name} waits for the tag guard`);
        for (const gate of gates) {
          assert.ok(run.dependsOn(push, gate), `${name} waits for ${gate.name}`);
        }
      }
    });

    it("writes the release report last, after the verification, again for every new digest", () => {
      const report = run.find(T.command, "slipway-report-run");
      const health = run.find(T.command, "slipway-verify-health");
      assert.ok(run.dependsOn(report, health), "the report waits for the verification");
      assert.deepEqual(report.inputs.triggers, [outputs.imageDigest, verdict(health)]);
      const create = String(report.inputs.create);
      assert.match(create, / --gated --advisory --print-summary /);
      assert.ok(create.endsWith(` --out ${reportDir}/report.md --json ${reportDir}/report.json`));
    });

    it("builds both stages from the pinned base, loaded locally, pushing nothing", () => {
      const baseImage = config.baseImage as string;
      assert.ok(baseImage.endsWith(`@${BASE_DIGEST}`));
      assert.equal(run.find(T.remoteImage, "slipway-base-pull").inputs.name, baseImage);
      for (const target of ["builder", "runtime"] as const) {
        const inputs = run.find(T.build, `slipway-${target}-image`).inputs;
        const spec = buildSpec({
          app: "odoo",
          version,
          context: "examples/odoo",
          dockerfile: "examples/odoo/Dockerfile",
          target,
          baseRef: baseImage,
          ...(env === "local"
            ? {}
            : {
                cacheRepository: "registry.digitalocean.com/acme/odoo-cache",
                platform: "linux/amd64",
              }),
        });
        assert.equal(inputs.push, false);
        assert.equal(inputs.load, true);
        assert.equal(inputs.target, target);
        assert.deepEqual(inputs.context, { location: spec.context });
        assert.deepEqual(inputs.dockerfile, { location: spec.dockerfile });
        assert.deepEqual(inputs.buildArgs, spec.buildArgs);
        assert.deepEqual(inputs.tags, spec.tags);
        assert.deepEqual(
          inputs.cacheFrom,
          spec.cacheFrom.map((ref) => ({ registry: { ref } })),
        );
        assert.deepEqual(
          inputs.cacheTo,
          spec.cacheTo.map((ref) => ({
            registry: { ref, mode: "max", imageManifest: true, ociMediaTypes: true },
          })),
        );
        if (env === "local") {
          assert.equal(inputs.platforms, undefined);
          assert.equal(inputs.registries, undefined);
        } else {
          assert.deepEqual(inputs.platforms, ["linux/amd64"]);
        }
      }
    });

    if (env === "local") {
      it("runs the local container by digest on a loopback port, as localContainerSpec says", () => {
        const inputs = run.find(T.container, "slipway-deploy-container").inputs;
        const spec = localContainerSpec({
          name: "slipway-odoo-local",
          repository,
          digest: String(outputs.imageDigest),
          port: 8069,
          localPort: 18069,
          healthPath: "/web/health",
          env: { LOG_LEVEL: "info" },
          secretEnv: ["ODOO_ADMIN_PASSWD"],
        });
        assert.equal(inputs.name, spec.name);
        assert.deepEqual(inputs.ports, [{ internal: 8069, external: 18069, ip: "127.0.0.1" }]);
        assert.equal(inputs.restart, spec.restart);
        assert.deepEqual(inputs.envs, ["LOG_LEVEL=info", "ODOO_ADMIN_PASSWD=local-admin-password"]);
        assert.deepEqual(inputs.healthcheck, {
          tests: ["CMD-SHELL", spec.healthcheck.command],
          interval: "10s",
          timeout: "5s",
          retries: 6,
          startPeriod: "20s",
        });
        assert.equal(outputs.appUrl, "http://127.0.0.1:18069");
      });

      it("adopts the loopback registry: no DigitalOcean resource, no credentials", () => {
        assert.equal(run.calls.length, 0);
        assert.equal(
          run.all(T.docr).length + run.all(T.credentials).length + run.all(T.app).length,
          0,
        );
        assert.equal(
          run.find(T.push, "slipway-publish-push-version").inputs.insecureSkipVerify,
          true,
        );
      });
    } else {
      it("configures the App: health check, size, envs (secrets as SECRET), alerts", () => {
        const spec = run.find(T.app, "slipway-deploy-app").inputs.spec as AppSpecShape;
        assert.equal(spec.name, env === "prod" ? "odoo" : "odoo-dev");
        assert.equal(spec.region, "fra");
        const service = spec.services[0];
        assert.equal(service.name, "odoo");
        assert.equal(service.httpPort, 8069);
        assert.equal(service.instanceCount, env === "prod" ? 2 : 1);
        assert.equal(service.instanceSizeSlug, "apps-s-1vcpu-1gb");
        assert.deepEqual(service.healthCheck, {
          httpPath: "/web/health",
          port: 8069,
          initialDelaySeconds: 20,
          periodSeconds: 10,
          timeoutSeconds: 5,
          failureThreshold: 6,
          successThreshold: 1,
        });
        const envs = service.envs as { key: string; value: string; type: string; scope: string }[];
        const byKey = Object.fromEntries(envs.map((e) => [e.key, e]));
        assert.equal(byKey.LOG_LEVEL.type, "GENERAL");
        assert.equal(byKey.ODOO_ADMIN_PASSWD.type, "SECRET");
        assert.equal(byKey.ODOO_ADMIN_PASSWD.value, `${env}-admin-password`);
        assert.equal(byKey.POSTGRES_PASSWORD.type, "SECRET");
        assert.ok(envs.every((e) => e.scope === "RUN_TIME"));
        assert.deepEqual(
          spec.alerts.map((a) => a.rule),
          ["DEPLOYMENT_FAILED", "DEPLOYMENT_LIVE", "DOMAIN_FAILED"],
        );
        assert.deepEqual(
          service.alerts.map((a) => [a.rule, a.operator, a.value, a.window]),
          [
            ["CPU_UTILIZATION", "GREATER_THAN", 80, "FIVE_MINUTES"],
            ["MEM_UTILIZATION", "GREATER_THAN", 80, "FIVE_MINUTES"],
            ["RESTART_COUNT", "GREATER_THAN", 3, "FIVE_MINUTES"],
          ],
        );
        const destinations = {
          emails: ["ops@example.com"],
          ...(env === "prod"
            ? {
                slackWebhooks: [
                  { channel: "releases", url: "https://hooks.slack.com/services/T000/B000/XXXX" },
                ],
              }
            : {}),
        };
        for (const alert of [...spec.alerts, ...service.alerts]) {
          assert.deepEqual(alert.destinations, destinations, alert.rule);
        }
      });

      if (env === "prod") {
        it("binds the database and runs the PRE_DEPLOY job on the same digest", () => {
          const spec = run.find(T.app, "slipway-deploy-app").inputs.spec as AppSpecShape;
          assert.deepEqual(spec.databases, [
            {
              name: "db",
              engine: "PG",
              clusterName: "acme-pg",
              production: true,
              dbName: "odoo",
              dbUser: "odoo",
            },
          ]);
          const job = (spec.jobs ?? [])[0];
          assert.equal(job.kind, "PRE_DEPLOY");
          assert.equal(job.runCommand, "odoo -u all --stop-after-init");
          assert.deepEqual(job.image, spec.services[0].image);
          const keys = (spec.services[0].envs as { key: string }[]).map((e) => e.key);
          assert.ok(keys.includes("DATABASE_URL"));
        });

        it("adopts the account's DOCR registry and mints write credentials with the configured expiry", () => {
          assert.equal(run.all(T.docr).length, 0);
          assert.deepEqual(
            run.calls.map((c) => [c.token, c.inputs.name]),
            [["digitalocean:index/getContainerRegistry:getContainerRegistry", "acme"]],
          );
          const creds = run.find(T.credentials, "slipway-registry-write").inputs;
          assert.deepEqual(creds, { registryName: "acme", write: true, expirySeconds: 3600 });
        });
      } else {
        it("creates the DOCR registry when registry.create is set", () => {
          const docr = run.find(T.docr, "slipway-registry").inputs;
          assert.deepEqual(docr, { name: "acme", subscriptionTierSlug: "basic" });
          assert.equal(run.calls.length, 0);
        });
      }
    }

    it("exports the release's refs, URLs, report directory and the report's summary", () => {
      assert.equal(outputs.mode, "release");
      assert.deepEqual(outputs.releaseReport, {
        verdict: "READY",
        blockers: [],
        report: `${reportDir}/report.md`,
      });
      assert.equal(outputs.environment, env);
      assert.equal(outputs.releaseTag, version);
      assert.equal(outputs.repository, repository);
      assert.equal(outputs.publishedRef, `${repository}:${version}@${String(outputs.imageDigest)}`);
      assert.equal(outputs.reportDir, reportDir);
      assert.equal(outputs.rollbackDigest, undefined);
      assert.match(String(outputs.healthUrl), /\/web\/health$/);
    });
  });
}

describe("a failed gate", () => {
  for (const gate of [
    "slipway-checks-lint",
    "slipway-test-run",
    "slipway-smoke-run",
    "slipway-scan-run",
    "slipway-base-drift",
  ]) {
    it(`stops the release before the push when ${gate} fails`, async () => {
      const { run } = await runStack("dev", stackConfig("dev"), {
        fail: (_type, name) => (name === gate ? `${gate}: blocked` : undefined),
      });
      assert.ok(run.get(T.command, gate) !== undefined, "the gate ran");
      for (const [type, name] of [
        [T.command, "slipway-publish-tag-guard"],
        [T.tag, "slipway-publish-tag-version"],
        [T.push, "slipway-publish-push-version"],
        [T.tag, "slipway-publish-tag-latest"],
        [T.push, "slipway-publish-push-latest"],
        [T.app, "slipway-deploy-app"],
        [T.command, "slipway-verify-health"],
      ]) {
        assert.equal(run.get(type, name), undefined, `${name} must not be registered`);
      }
      assert.ok(run.rejections.some((r) => r.includes(`${gate}: blocked`)));
    });
  }

  it("still builds, tests, smoke-checks and scans when the lint fails: only the push is refused", async () => {
    const { run } = await runStack("dev", stackConfig("dev"), {
      fail: (_type, name) =>
        name === "slipway-checks-lint" ? "DOCKERFILE_SYNTAX: blocked" : undefined,
    });
    for (const [type, name] of [
      [T.build, "slipway-builder-image"],
      [T.build, "slipway-runtime-image"],
      [T.command, "slipway-test-run"],
      [T.command, "slipway-smoke-run"],
      [T.command, "slipway-scan-run"],
    ]) {
      assert.ok(run.get(type, name) !== undefined, `${name} runs beside the lint`);
    }
    assert.equal(run.get(T.command, "slipway-publish-tag-guard"), undefined);
    assert.equal(run.all(T.push).length, 0);
  });

  it("builds nothing when the preflight fails (no Docker, not enough disk)", async () => {
    const { run } = await runStack("dev", stackConfig("dev"), {
      fail: (_type, name) =>
        name === "slipway-checks-preflight" ? "DOCKER_UNAVAILABLE: blocked" : undefined,
    });
    assert.deepEqual(run.all(T.build), []);
    assert.equal(run.all(T.push).length, 0);
    assert.ok(run.get(T.command, "slipway-checks-lint") !== undefined, "the lint still runs");
  });

  it("writes no report when the verification fails (the release is not done)", async () => {
    const { run } = await runStack("local", stackConfig("local"), {
      fail: (_type, name) =>
        name === "slipway-verify-health" ? "HEALTH_CHECK_FAIL: blocked" : undefined,
    });
    assert.ok(run.get(T.container, "slipway-deploy-container") !== undefined);
    assert.equal(run.get(T.command, "slipway-report-run"), undefined);
  });

  it("stops the release before the push when the tag guard finds the version taken (TAG_IMMUTABLE)", async () => {
    const { run } = await runStack("local", stackConfig("local"), {
      fail: (_type, name) =>
        name === "slipway-publish-tag-guard"
          ? "TAG_IMMUTABLE: v1.4.2 holds another image"
          : undefined,
    });
    assert.equal(run.all(T.push).length, 0);
    assert.equal(run.all(T.tag).length, 0);
    assert.equal(run.get(T.container, "slipway-deploy-container"), undefined);
  });
});

describe("stack options", () => {
  it("registers no test gate when tests are disabled, and no scan gate when the scan is", async () => {
    const config = merge(stackConfig("dev"), {
      tests: { enabled: false },
      scan: { enabled: false },
    });
    const { run, error } = await runStack("dev", config);
    assert.equal(error, undefined, String(error));
    assert.equal(run.get(T.testGate, "slipway-test"), undefined);
    assert.equal(run.get(T.scanGate, "slipway-scan"), undefined);
    const triggers = run.find(T.push, "slipway-publish-push-version").inputs.triggers as object;
    assert.deepEqual(Object.keys(triggers).sort(), [
      "gate-base",
      "gate-lint",
      "gate-preflight",
      "gate-smoke",
      "image",
      "tag-guard",
    ]);
    // The report lists them as skipped, with the reason, not as blockers ("not run").
    assert.match(
      String(run.find(T.command, "slipway-report-run").inputs.create),
      / --skipped 'scan=scan\.enabled is false' --skipped 'test=tests\.enabled is false' --gated /,
    );
  });

  it("scans against the configured baseline, with the base image for attribution", async () => {
    const baseline = ".slipway/releases/v1.4.1/trivy.json";
    const config = merge(stackConfig("prod"), {
      scan: { baseline, allowBaselineInProd: true },
    });
    const { run, error } = await runStack("prod", config);
    assert.equal(error, undefined, String(error));
    const reportDir = releaseReportDir("v1.4.2");
    assert.equal(
      run.find(T.command, "slipway-scan-run").inputs.create,
      scanGateCommand({
        reportDir,
        image: "slipway/odoo:v1.4.2-runtime",
        keepReport: trivyReportFile(reportDir),
        severity: ["HIGH", "CRITICAL"],
        ignoreUnfixed: false,
        requireStatement: false,
        baseImage: config.baseImage as string,
        baseline,
      }),
    );
    assert.match(
      String(run.find(T.command, "slipway-scan-run").inputs.create),
      / --keep-report \.slipway\/releases\/v1\.4\.2\/trivy\.json --base-image python:3\.11-slim-bullseye@sha256:[a-f0-9]{64} --baseline \.slipway\/releases\/v1\.4\.1\/trivy\.json --json /,
    );
  });

  it("refuses a prod baseline without scan.allowBaselineInProd, before registering anything", async () => {
    const config = merge(stackConfig("prod"), {
      scan: { baseline: ".slipway/releases/v1.4.1/trivy.json" },
    });
    const { run, error } = await runStack("prod", config);
    assert.match(String(error), /slipway:scan\.baseline: prod blocks on every finding/);
    assert.deepEqual(run.all(T.command), []);
  });

  it("keeps no Trivy report when it judges a report file (nothing to keep: Trivy did not run)", async () => {
    const { run, error } = await runStack("local", stackConfig("local"));
    assert.equal(error, undefined, String(error));
    const scan = String(run.find(T.command, "slipway-scan-run").inputs.create);
    assert.match(scan, / --report tests\/fixtures\/trivy\/clean\.json /);
    assert.doesNotMatch(scan, /--keep-report/);
    assert.match(scan, / --base-image 127\.0\.0\.1:5000\/python:3\.11-slim-bullseye@sha256:/);
  });

  it("pushes no :latest when release.tagLatest is false", async () => {
    const config = merge(stackConfig("local"), { release: { tagLatest: false } });
    const { run, error } = await runStack("local", config);
    assert.equal(error, undefined, String(error));
    assert.deepEqual(
      run.all(T.push).map((r) => r.inputs.name),
      ["127.0.0.1:5000/odoo:v1.4.2"],
    );
  });

  it("does not boot the image in the smoke gate when smoke.boot is false", async () => {
    const config = merge(stackConfig("dev"), { smoke: { boot: false } });
    const { run, error } = await runStack("dev", config);
    assert.equal(error, undefined, String(error));
    assert.doesNotMatch(String(run.find(T.command, "slipway-smoke-run").inputs.create), /--boot/);
  });
});

/** The parts of the App spec input the tests read. */
interface AppSpecShape {
  name: string;
  region: string;
  alerts: { rule: string; destinations?: unknown }[];
  services: {
    name: string;
    image: unknown;
    httpPort: number;
    instanceCount: number;
    instanceSizeSlug: string;
    healthCheck: unknown;
    envs: unknown[];
    alerts: {
      rule: string;
      operator: string;
      value: number;
      window: string;
      destinations?: unknown;
    }[];
  }[];
  jobs?: { kind: string; runCommand: string; image: unknown }[];
  databases?: unknown[];
}
