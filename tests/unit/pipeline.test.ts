import assert from "node:assert/strict";
import {
  baseDriftCommand,
  buildSpec,
  healthGateCommand,
  lintCommand,
  localContainerSpec,
  preflightCommand,
  promoteCommand,
  releaseReportDir,
  reportCommand,
  sbomFile,
  scanGateCommand,
  smokeGateCommand,
  testGateCommand,
  trivyReportFile,
} from "../../gates/commands";
import { decisionOf, parseVerdictLine } from "../../gates/result";
import { fileFingerprint } from "../../components/fingerprint";
import { dockerConfigJsonFor } from "../../components/registry";
import {
  assertGraph,
  type GraphRow,
  under,
  BASE_DIGEST,
  defaultStdout,
  merge,
  MOCK_REGISTRY_TOKEN,
  type MockRun,
  type Recorded,
  runStack,
  stackConfig,
  T,
} from "./harness";

type Env = "dev" | "prod" | "local";

/** The component that binds the evidence to the released digest (components/evidence.ts). */
const EVIDENCE = "slipway:report:ReleaseEvidence";

/**
 * The stack config of a release (build, gate, promote) per environment. prod promotes dev's release by
 * default (rule `prod-promotes`, see pipelinePromotion.test.ts): here it builds from source.
 */
function releaseConfig(env: Env): Record<string, unknown> {
  const config = stackConfig(env);
  return env === "prod" ? merge(config, { release: { buildFromSource: true } }) : config;
}

/** `[type, name, parent type, parent name]` of every resource a normal release registers. */
function expectedRelease(env: Env): GraphRow[] {
  const root: GraphRow = [T.pipeline, "slipway", "", ""];
  const c = under(T.pipeline, "slipway");
  const registry = under(T.registry, "slipway-registry");
  const deploy = under(T.deployment, "slipway-deploy");
  return [
    root,
    // App Platform: the program reads its own stack's previous outputs (the secrets' fingerprint).
    ...(env === "local" ? [] : [[T.stackReference, "slipway-previous", "", ""] as GraphRow]),
    c(T.registry, "slipway-registry"),
    ...(env === "dev" ? [registry(T.docr, "slipway-registry")] : []),
    c(T.checks, "slipway-checks"),
    under(T.checks, "slipway-checks")(T.command, "slipway-checks-preflight"),
    under(T.checks, "slipway-checks")(T.command, "slipway-checks-lint"),
    c(T.base, "slipway-base"),
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
    c(T.promotion, "slipway-promote"),
    under(T.promotion, "slipway-promote")(T.command, "slipway-promote-promote"),
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
    c(EVIDENCE, "slipway-evidence"),
    under(EVIDENCE, "slipway-evidence")(T.command, "slipway-evidence-attach"),
  ];
}

/** The verdict a gate's mocked output makes (`verdictOf`: the decision of its verdict line). */
function verdict(gate: Recorded): string {
  return decisionOf(parseVerdictLine(defaultStdout(String(gate.inputs.create))));
}

/** The digest the mocked docker-build provider returned for a build (what it pushed). */
function digestOf(run: MockRun, name: string): string {
  const digest = run.find(T.build, name).state.digest;
  assert.match(String(digest), /^sha256:[a-f0-9]{64}$/);
  return String(digest);
}

/** The gates the promotion waits for, by the name its triggers give them. */
const GATES = {
  preflight: "slipway-checks-preflight",
  lint: "slipway-checks-lint",
  base: "slipway-base-drift",
  test: "slipway-test-run",
  smoke: "slipway-smoke-run",
  scan: "slipway-scan-run",
} as const;

for (const env of ["dev", "prod", "local"] as const) {
  describe(`the ${env} stack's release`, () => {
    let run: MockRun;
    let outputs: Record<string, unknown>;
    const config = releaseConfig(env);
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

    it("registers no docker Tag, RegistryImage, base pull or minted registry credential", () => {
      for (const type of [
        "docker:index/tag:Tag",
        "docker:index/registryImage:RegistryImage",
        T.credentials,
      ]) {
        assert.deepEqual(run.all(type), [], `${type} is gone from the pipeline`);
      }
      assert.equal(run.get(T.remoteImage, "slipway-base-pull"), undefined);
      assert.ok(!run.effects.some((e) => e.startsWith("pull ") && e.includes("python")));
    });

    it("promotes only with every gate's verdict among the promotion's triggers", () => {
      const promote = run.find(T.command, "slipway-promote-promote");
      const expected = Object.entries(GATES)
        .map(([gate, name]) => `${gate}=${verdict(run.find(T.command, name))}`)
        .sort();
      assert.deepEqual(promote.inputs.triggers, expected);
      // Each verdict names the digest its gate judged: the test the builder, smoke and scan the runtime.
      const triggers = promote.inputs.triggers as string[];
      const builder = digestOf(run, "slipway-builder-image");
      const runtime = digestOf(run, "slipway-runtime-image");
      assert.ok(triggers.includes(`test=test pass - ${builder}`), String(triggers));
      assert.ok(triggers.includes(`smoke=smoke pass - ${runtime}`), String(triggers));
    });

    it("promotes the gated runtime digest under :version and :latest, registry-side", () => {
      const promote = run.find(T.command, "slipway-promote-promote");
      assert.equal(
        promote.inputs.create,
        promoteCommand({
          reportDir,
          repository,
          digest: digestOf(run, "slipway-runtime-image"),
          version,
          latest: true,
        }),
      );
      assert.doesNotMatch(String(promote.inputs.create), /--require-evidence|--source-verdict/);
    });

    it("deploys the promoted digest, the one the gates judged, never a tag", () => {
      const gated = digestOf(run, "slipway-runtime-image");
      assert.equal(outputs.imageDigest, gated);
      assert.equal(outputs.candidateDigest, gated);
      assert.equal(outputs.imageRef, `${repository}@${gated}`);
      if (env === "local") {
        const pull = run.find(T.remoteImage, "slipway-deploy-pull").inputs;
        assert.equal(pull.name, `${repository}@${gated}`);
        const container = run.find(T.container, "slipway-deploy-container").inputs;
        assert.equal(container.image, `${repository}@${gated}`);
      } else {
        const spec = run.find(T.app, "slipway-deploy-app").inputs.spec as AppSpecShape;
        const images = [spec.services[0].image, ...(spec.jobs ?? []).map((j) => j.image)];
        for (const image of images) {
          assert.deepEqual(image, { registryType: "DOCR", repository: "odoo", digest: gated });
        }
      }
    });

    it("deploys only after the promotion: the deploy's digest is the promote command's value", () => {
      const promote = run.find(T.command, "slipway-promote-promote");
      const deployed =
        env === "local"
          ? run.find(T.container, "slipway-deploy-container")
          : run.find(T.app, "slipway-deploy-app");
      assert.ok(run.dependsOn(deployed, promote), "the deploy waits for the promotion");
      assert.equal(parseVerdictLine(String(promote.state.stdout)).value, outputs.imageDigest);
    });

    it("passes each command resource exactly the string its builder makes", () => {
      const builderRef = `${repository}@${digestOf(run, "slipway-builder-image")}`;
      const runtimeRef = `${repository}@${digestOf(run, "slipway-runtime-image")}`;
      const app = config.app as { port: number; healthPath: string; requiredPaths: string[] };
      const tests = config.tests as {
        command: string;
        coverageMin: number;
        env: Record<string, string>;
      };
      const scan = config.scan as { severity: string[]; report?: string };
      const baseImage = config.baseImage as string;
      const digest = String(outputs.imageDigest);
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
            ? {
                image: runtimeRef,
                keepReport: trivyReportFile(reportDir),
                // The schema's defaults: Trivy's own scanners, and the SBOM from the same pass.
                scanners: ["vuln", "secret"],
                sbom: sbomFile(reportDir),
              }
            : { report: scan.report }),
          severity: scan.severity,
          ignoreUnfixed: false,
          requireStatement: false,
          baseImage,
        }),
        "slipway-promote-promote": promoteCommand({
          reportDir,
          repository,
          digest,
          version,
          latest: true,
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
            digest,
            candidateDigest: digest,
            deployedDigest: digest,
            baseImage,
          },
          gated: true,
          advisory: true,
        }),
      };
      // The evidence attach comes after the report, bound to the released digest (its own tests
      // are the lead's evidence tests): here only what it is bound to.
      const evidence = run.find(T.command, "slipway-evidence-attach");
      assert.ok(
        String(evidence.inputs.create).startsWith(
          `bin/slipway-gate evidence attach --repository ${repository} --digest ${digest} `,
        ),
        String(evidence.inputs.create),
      );
      assert.ok(run.dependsOn(evidence, run.find(T.command, "slipway-report-run")));
      const commands = run.all(T.command).filter((r) => r !== evidence);
      assert.deepEqual(commands.map((r) => r.name).sort(), Object.keys(expected).sort());
      for (const command of commands) {
        assert.equal(command.inputs.create, expected[command.name], command.name);
        assert.match(
          String(command.inputs.create),
          / --print-verdict --json \S+\.json$/,
          `${command.name} ends with its verdict line`,
        );
        assert.equal(command.inputs.dir, ".", `${command.name} runs in the project root`);
        assert.equal(command.inputs.addPreviousOutputInEnv, false);
      }
    });

    it("re-runs a gate exactly when what it judges changes: the digest in its command, the files it reads", () => {
      // The test and smoke gates name their image by digest in `create`: nothing else to trigger on.
      for (const gate of ["slipway-test-run", "slipway-smoke-run", "slipway-checks-preflight"]) {
        assert.equal(run.find(T.command, gate).inputs.triggers, undefined, gate);
      }
      assert.deepEqual(run.find(T.command, "slipway-scan-run").inputs.triggers, [
        `${repository}@${digestOf(run, "slipway-runtime-image")}`,
      ]);
      assert.deepEqual(run.find(T.command, "slipway-checks-lint").inputs.triggers, [
        fileFingerprint(".", "examples/odoo/Dockerfile"),
      ]);
      assert.match(
        String((run.find(T.command, "slipway-checks-lint").inputs.triggers as string[])[0]),
        /^examples\/odoo\/Dockerfile=sha256:[a-f0-9]{64}$/,
      );
    });

    it("scans the pushed runtime candidate: the scan waits for its build", () => {
      const scan = run.find(T.command, "slipway-scan-run");
      assert.ok(run.dependsOn(scan, run.find(T.build, "slipway-runtime-image")));
      assert.ok(!run.dependsOn(scan, run.find(T.build, "slipway-builder-image")));
    });

    it("builds after the preflight only: lint and the drift check run beside the builds", () => {
      const preflight = run.find(T.command, "slipway-checks-preflight");
      for (const name of ["slipway-builder-image", "slipway-runtime-image"]) {
        const build = run.find(T.build, name);
        assert.ok(run.dependsOn(build, preflight), `${name} waits for the preflight`);
        for (const beside of ["slipway-checks-lint", "slipway-base-drift"]) {
          assert.ok(
            !run.dependsOn(build, run.find(T.command, beside)),
            `${name} does not wait for ${beside}`,
          );
        }
      }
    });

    it("promotes only after every gate: the promotion depends on each of them", () => {
      const promote = run.find(T.command, "slipway-promote-promote");
      for (const name of Object.values(GATES)) {
        assert.ok(run.dependsOn(promote, run.find(T.command, name)), `promote waits for ${name}`);
      }
    });

    it("writes the release report last, after the verification, again for every new verdict", () => {
      const report = run.find(T.command, "slipway-report-run");
      const health = run.find(T.command, "slipway-verify-health");
      assert.ok(run.dependsOn(report, health), "the report waits for the verification");
      assert.deepEqual(report.inputs.triggers, [verdict(health)]);
      const create = String(report.inputs.create);
      assert.match(create, / --mode release /);
      assert.match(create, / --gated --advisory --print-summary /);
      assert.ok(
        create.endsWith(
          ` --out ${reportDir}/report.md --print-verdict --json ${reportDir}/report.json`,
        ),
      );
    });

    it("builds both stages from the pinned base, pushed as candidates, retained on delete", () => {
      const baseImage = config.baseImage as string;
      assert.ok(baseImage.endsWith(`@${BASE_DIGEST}`));
      for (const target of ["builder", "runtime"] as const) {
        const build = run.find(T.build, `slipway-${target}-image`);
        const inputs = build.inputs;
        const spec = buildSpec({
          version,
          context: "examples/odoo",
          dockerfile: "examples/odoo/Dockerfile",
          target,
          baseRef: baseImage,
          candidateRepository: repository,
          cache: env !== "local",
          ...(env === "local" ? {} : { platform: "linux/amd64" }),
        });
        assert.equal(inputs.push, true);
        assert.equal(inputs.load, undefined);
        assert.equal(inputs.buildOnPreview, false);
        assert.equal(build.retainOnDelete, true, "destroying the stack never deletes a candidate");
        assert.deepEqual(inputs.tags, [`${repository}:candidate-${version}-${target}`]);
        assert.deepEqual(inputs.tags, [spec.candidate]);
        assert.equal(inputs.target, target);
        assert.deepEqual(inputs.context, { location: spec.context });
        assert.deepEqual(inputs.dockerfile, { location: spec.dockerfile });
        assert.deepEqual(inputs.buildArgs, spec.buildArgs);
        assert.deepEqual(
          inputs.cacheFrom,
          spec.cacheFrom.map((ref) => ({ registry: { ref } })),
        );
        assert.deepEqual(
          inputs.cacheTo,
          spec.cacheTo.map((ref) => ({
            registry: {
              ref,
              mode: "max",
              imageManifest: true,
              ociMediaTypes: true,
              ignoreError: true,
            },
          })),
        );
        // What the build did: pushed, and its digest is the registry's manifest digest.
        assert.ok(run.effects.includes(`push ${spec.candidate}@${String(build.state.digest)}`));
        assert.equal(build.state.ref, `${spec.candidate}@${String(build.state.digest)}`);
        if (env === "local") {
          assert.equal(inputs.platforms, undefined);
          assert.equal(inputs.registries, undefined);
          assert.deepEqual(inputs.cacheTo, []);
        } else {
          assert.deepEqual(inputs.platforms, ["linux/amd64"]);
          assert.deepEqual(inputs.cacheFrom, [
            { registry: { ref: `${repository}:buildcache-${target}` } },
          ]);
          assert.deepEqual(inputs.registries, [
            {
              address: "registry.digitalocean.com",
              username: MOCK_REGISTRY_TOKEN,
              password: MOCK_REGISTRY_TOKEN,
            },
          ]);
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
        // The loopback registry takes no credentials: no registry gate is given any.
        for (const command of run.all(T.command)) {
          assert.equal(command.inputs.environment, undefined, command.name);
        }
      });
    } else {
      it("gives the token's registry credential to every gate that reads the registry, and no other command", () => {
        // A fresh runner has none of the candidates: the test, smoke and scan gates pull them by
        // digest; promote and the evidence write to the registry. Nothing else talks to it.
        const auth = dockerConfigJsonFor(
          "registry.digitalocean.com",
          MOCK_REGISTRY_TOKEN,
          MOCK_REGISTRY_TOKEN,
        );
        const readers = [
          "slipway-test-run",
          "slipway-smoke-run",
          "slipway-scan-run",
          "slipway-promote-promote",
          "slipway-evidence-attach",
        ];
        for (const command of run.all(T.command)) {
          if (readers.includes(command.name)) {
            assert.deepEqual(
              command.inputs.environment,
              { SLIPWAY_REGISTRY_AUTH: auth },
              command.name,
            );
            assert.deepEqual(command.secretPaths, ["environment"], command.name);
            assert.deepEqual(
              command.printable.environment,
              { SLIPWAY_REGISTRY_AUTH: "[secret]" },
              command.name,
            );
            assert.ok(!String(command.inputs.create).includes(MOCK_REGISTRY_TOKEN), command.name);
          } else {
            assert.equal(command.inputs.environment, undefined, command.name);
          }
        }
      });

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

        it("adopts the account's DOCR registry and mints no credential: the API token is the registry's", () => {
          assert.equal(run.all(T.docr).length, 0);
          assert.deepEqual(
            run.calls.map((c) => [c.token, c.inputs.name]),
            [["digitalocean:index/getContainerRegistry:getContainerRegistry", "acme"]],
          );
          assert.deepEqual(run.all(T.credentials), []);
          const promote = run.find(T.command, "slipway-promote-promote");
          assert.deepEqual(promote.inputs.environment, {
            SLIPWAY_REGISTRY_AUTH: dockerConfigJsonFor(
              "registry.digitalocean.com",
              MOCK_REGISTRY_TOKEN,
              MOCK_REGISTRY_TOKEN,
            ),
          });
          assert.ok(promote.secretPaths.some((p) => p.startsWith("environment")));
          assert.deepEqual(promote.printable.environment, { SLIPWAY_REGISTRY_AUTH: "[secret]" });
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
      assert.equal(outputs.releasedRef, `${repository}:${version}@${String(outputs.imageDigest)}`);
      assert.equal(outputs.candidateDigest, outputs.imageDigest);
      assert.equal(outputs.reportDir, reportDir);
      assert.equal(outputs.rollbackDigest, undefined);
      assert.equal(outputs.promotedFrom, undefined);
      assert.equal(outputs.sourceCommit, undefined);
      assert.equal("publishedRef" in outputs, false);
      assert.match(String(outputs.healthUrl), /\/web\/health$/);
    });
  });
}

/** What a failed gate must leave unregistered: the promotion, the deploy, the verification. */
const RELEASES = [
  [T.command, "slipway-promote-promote"],
  [T.command, "slipway-evidence-attach"],
  [T.app, "slipway-deploy-app"],
  [T.command, "slipway-verify-health"],
  [T.command, "slipway-report-run"],
] as const;

describe("a failed gate", () => {
  for (const gate of Object.values(GATES)) {
    it(`releases nothing when ${gate} fails: no promotion, no deploy`, async () => {
      const { run } = await runStack("dev", stackConfig("dev"), {
        fail: (_type, name) => (name === gate ? `${gate}: blocked` : undefined),
      });
      assert.ok(run.get(T.command, gate) !== undefined, "the gate ran");
      for (const [type, name] of RELEASES) {
        assert.equal(run.get(type, name), undefined, `${name} must not be registered`);
      }
      assert.ok(!run.effects.some((e) => / promote /.test(e)), "nothing was promoted");
      assert.ok(!run.effects.some((e) => e.startsWith("deploy ")), "nothing was deployed");
      assert.ok(run.rejections.some((r) => r.includes(`${gate}: blocked`)));
    });
  }

  it("still builds, tests, smoke-checks and scans when the lint fails: only the promotion is refused", async () => {
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
    assert.equal(run.get(T.command, "slipway-promote-promote"), undefined);
  });

  it("builds nothing when the preflight fails (no Docker, not enough disk)", async () => {
    const { run } = await runStack("dev", stackConfig("dev"), {
      fail: (_type, name) =>
        name === "slipway-checks-preflight" ? "DOCKER_UNAVAILABLE: blocked" : undefined,
    });
    assert.deepEqual(run.all(T.build), []);
    assert.ok(!run.effects.some((e) => e.startsWith("build ") || e.startsWith("push ")));
    assert.equal(run.get(T.command, "slipway-promote-promote"), undefined);
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

  it("deploys nothing when the promotion finds the version taken (TAG_IMMUTABLE)", async () => {
    const { run } = await runStack("local", stackConfig("local"), {
      fail: (_type, name) =>
        name === "slipway-promote-promote"
          ? "TAG_IMMUTABLE: v1.4.2 holds another image"
          : undefined,
    });
    assert.ok(run.get(T.command, "slipway-promote-promote") !== undefined, "the promotion ran");
    assert.equal(run.get(T.remoteImage, "slipway-deploy-pull"), undefined);
    assert.equal(run.get(T.container, "slipway-deploy-container"), undefined);
    assert.equal(run.get(T.command, "slipway-verify-health"), undefined);
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
    const triggers = run.find(T.command, "slipway-promote-promote").inputs.triggers as string[];
    assert.deepEqual(
      triggers.map((t) => t.split("=")[0]),
      ["base", "lint", "preflight", "smoke"],
    );
    // The report lists them as skipped, with the reason, not as blockers ("not run").
    assert.match(
      String(run.find(T.command, "slipway-report-run").inputs.create),
      / --skipped 'scan=scan\.enabled is false' --skipped 'test=tests\.enabled is false' --gated /,
    );
  });

  it("scans against the configured baseline, with the base image for attribution", async () => {
    const baseline = ".slipway/releases/v1.4.1/trivy.json";
    const config = merge(releaseConfig("prod"), {
      scan: { baseline, allowBaselineInProd: true },
    });
    const { run, error } = await runStack("prod", config);
    assert.equal(error, undefined, String(error));
    const reportDir = releaseReportDir("v1.4.2");
    const scan = run.find(T.command, "slipway-scan-run");
    assert.equal(
      scan.inputs.create,
      scanGateCommand({
        reportDir,
        image: `registry.digitalocean.com/acme/odoo@${digestOf(run, "slipway-runtime-image")}`,
        keepReport: trivyReportFile(reportDir),
        scanners: ["vuln", "secret"],
        sbom: sbomFile(reportDir),
        severity: ["HIGH", "CRITICAL"],
        ignoreUnfixed: false,
        requireStatement: false,
        baseImage: config.baseImage as string,
        baseline,
      }),
    );
    assert.match(
      String(scan.inputs.create),
      / --keep-report \.slipway\/releases\/v1\.4\.2\/trivy\.json --base-image python:3\.11-slim-bullseye@sha256:[a-f0-9]{64} --baseline \.slipway\/releases\/v1\.4\.1\/trivy\.json --print-verdict --json /,
    );
    // The baseline's content is among the scan's triggers: a new baseline re-runs the scan.
    assert.ok((scan.inputs.triggers as string[]).includes(fileFingerprint(".", baseline)));
  });

  it("refuses a prod baseline without scan.allowBaselineInProd, before registering anything", async () => {
    const config = merge(releaseConfig("prod"), {
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
    // Nor an SBOM, scanners or a Trivy binary: those ask Trivy to run.
    assert.doesNotMatch(scan, /--sbom|--scanners|--trivy|--offline/);
    assert.match(scan, / --base-image 127\.0\.0\.1:5000\/python:3\.11-slim-bullseye@sha256:/);
  });

  it("asks Trivy for the configured scanners, offline, with its binary, and no SBOM when scan.sbom is false", async () => {
    const config = merge(stackConfig("dev"), {
      scan: {
        scanners: ["vuln", "secret", "misconfig"],
        offline: true,
        sbom: false,
        trivy: "/opt/trivy/bin/trivy",
      },
    });
    const { run, error } = await runStack("dev", config);
    assert.equal(error, undefined, String(error));
    const scan = String(run.find(T.command, "slipway-scan-run").inputs.create);
    assert.match(
      scan,
      /^bin\/slipway-gate scan --image registry\.digitalocean\.com\/acme\/odoo@sha256:[a-f0-9]{64} --trivy \/opt\/trivy\/bin\/trivy --scanners vuln,secret,misconfig --offline --severity /,
    );
    assert.doesNotMatch(scan, /--sbom/);
    // The evidence attaches an SBOM only if one was written (file-if-exists).
    assert.match(
      String(run.find(T.command, "slipway-evidence-attach").inputs.create),
      / --file-if-exists sbom=\.slipway\/releases\/v1\.4\.2-dev\.3\/sbom\.cdx\.json /,
    );
  });

  it("leaves :latest alone when release.tagLatest is false", async () => {
    const config = merge(stackConfig("local"), { release: { tagLatest: false } });
    const { run, error } = await runStack("local", config);
    assert.equal(error, undefined, String(error));
    const create = String(run.find(T.command, "slipway-promote-promote").inputs.create);
    assert.match(create, / --version v1\.4\.2 /);
    assert.doesNotMatch(create, /--latest/);
  });

  it("does not boot the image in the smoke gate when smoke.boot is false", async () => {
    const config = merge(stackConfig("dev"), { smoke: { boot: false } });
    const { run, error } = await runStack("dev", config);
    assert.equal(error, undefined, String(error));
    assert.doesNotMatch(String(run.find(T.command, "slipway-smoke-run").inputs.create), /--boot/);
  });

  it("pushes candidates into the app's own repository, where the promotion tags them", async () => {
    const { run, outputs, error } = await runStack("dev", stackConfig("dev"));
    assert.equal(error, undefined, String(error));
    const repository = "registry.digitalocean.com/acme/odoo";
    assert.deepEqual(run.find(T.build, "slipway-runtime-image").inputs.tags, [
      `${repository}:candidate-v1.4.2-dev.3-runtime`,
    ]);
    const runtime = digestOf(run, "slipway-runtime-image");
    assert.match(
      String(run.find(T.command, "slipway-smoke-run").inputs.create),
      new RegExp(` --image ${repository}@${runtime} `),
    );
    assert.equal(outputs?.repository, repository);
  });

  it("names the configured buildx builder in both builds (app.builder)", async () => {
    const config = merge(stackConfig("dev"), { app: { builder: "slipway-builder" } });
    const { run, error } = await runStack("dev", config);
    assert.equal(error, undefined, String(error));
    for (const build of run.all(T.build)) {
      assert.deepEqual(build.inputs.builder, { name: "slipway-builder" }, build.name);
    }
  });

  it("verifies the released version in the body when deploy.verifyBody is version", async () => {
    const config = merge(stackConfig("local"), {
      deploy: { verifyBody: "version", verifyPath: "/version" },
    });
    const { run, error } = await runStack("local", config);
    assert.equal(error, undefined, String(error));
    assert.equal(
      run.find(T.command, "slipway-verify-health").inputs.create,
      healthGateCommand({
        reportDir: releaseReportDir("v1.4.2"),
        url: "http://127.0.0.1:18069/version",
        timeout: 300,
        expectStatus: 200,
        expectBody: "v1.4.2",
      }),
    );
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
