import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join, relative } from "node:path";
import "./harness/hooks";
import {
  buildSpec,
  dockerBuildCommand,
  dockerPushCommands,
  localContainerSpec,
  shellQuote,
} from "../../gates/commands";
import { reportOutputOf } from "../../gates/report/summary";
import { DOCKER, OPEN_REGISTRY, PROJECT_ROOT } from "./harness/environment";
import { TRIVY_CLEAN } from "./harness/fixtures";
import {
  pushTarget,
  replaceContainer,
  runGraph,
  sequence,
  timeline,
  type Run,
  type Step,
  type StepName,
} from "./harness/pipeline";
import { registryContent } from "./harness/registryView";
import { sh } from "./harness/shell";
import { suite } from "./harness/suite";

/**
 * The Pulumi program itself, as far as it can go without the engine: `npm run plan` evaluates the
 * `local` stack (Pulumi.local.yaml) under Pulumi's mock runtime and prints every resource it would
 * register. Here the gate commands it registered run VERBATIM; the provider resources (docker-build
 * `Image`, `docker.Tag` + `RegistryImage`, `docker.Container`) run as the builders' docker renderings
 * of the very inputs the plan shows. Only what the engine would fill in at `up` is substituted: the
 * pushed digest, where the mock runtime prints a placeholder. Trivy cannot run here, so the stack's
 * scan of the image is swapped for a real Trivy report file (`scan.report`), as the stack file says.
 */

interface Planned {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}

async function plan(sets: Record<string, string | number>): Promise<Planned[]> {
  const flags = [
    // No Trivy here: the scan gate judges a real Trivy report instead of scanning the image.
    "--unset scan.trivyImage",
    `--set ${shellQuote(`scan.report=${relative(PROJECT_ROOT, TRIVY_CLEAN)}`)}`,
    ...Object.entries(sets).map(([key, value]) => `--set ${shellQuote(`${key}=${value}`)}`),
  ].join(" ");
  const result = await sh(`npm run --silent plan -- --stack local --json ${flags}`);
  assert.equal(result.exitCode, 0, result.output);
  return (JSON.parse(result.stdout) as { resources: Planned[] }).resources;
}

function find(resources: Planned[], suffix: string): Planned {
  const found = resources.find((r) => r.name.endsWith(`-${suffix}`));
  assert.ok(found, `the plan registers no *-${suffix}: ${resources.map((r) => r.name).join(", ")}`);
  return found;
}

function createOf(resources: Planned[], suffix: string): string {
  const create = find(resources, suffix).inputs.create;
  assert.equal(typeof create, "string");
  return create as string;
}

const PLACEHOLDER = /sha256:[a-f0-9]{64}/;

/** The report command as registered, with the engine's substitution of the deployed digest. */
function reportWith(resources: Planned[], digest: string): string {
  const command = createOf(resources, "report-run");
  const withDigest = command.replace(/--digest sha256:[a-f0-9]{64}/, `--digest ${digest}`);
  assert.notEqual(withDigest, command, `the report command names no digest: ${command}`);
  return withDigest;
}

/**
 * The planned `docker.Container`, run as the builders render it: the plan's name, ports and health
 * check, and the real digest where the mock runtime printed a placeholder. Replaces a container of
 * the same name, as the provider does.
 */
async function deployPlanned(resources: Planned[], repository: string, digest: string) {
  const container = find(resources, "deploy-container").inputs as {
    name: string;
    image: string;
    ports: Array<{ internal: number; external: number }>;
    healthcheck: { tests: string[] };
  };
  assert.match(container.image, new RegExp(`^${repository}@${PLACEHOLDER.source}$`));
  const spec = localContainerSpec({
    name: container.name,
    repository,
    digest,
    port: container.ports[0].internal,
    localPort: container.ports[0].external,
    healthPath: "/web/health",
  });
  assert.equal(spec.healthcheck.command, container.healthcheck.tests[1]);
  return replaceContainer(spec);
}

describe("the local stack's plan (Pulumi.local.yaml), run for real", function () {
  let appName = "";
  let version = "";
  let digest = "";
  const created: string[] = [];

  before(function () {
    appName = `odoo-${suite.namespace}`;
    version = `v-${suite.namespace}`;
  });

  after(function () {
    for (const dir of created) rmSync(dir, { recursive: true, force: true });
  });

  /** The plan's commands write their results under `.slipway/` in the project: removed afterwards. */
  function removeAfterwards(relative: string): void {
    created.push(join(PROJECT_ROOT, relative));
  }

  it("releases: every gate command the program registered passes, the image is pushed, deployed by digest and verified", async function () {
    const resources = await plan({
      baseImage: suite.baseRef,
      "app.name": appName,
      "release.version": version,
      "deploy.localPort": 18369,
    });
    removeAfterwards(`.slipway/releases/${version}`);
    const run: Run = { steps: [], ms: 0 };
    const verbatim = (name: StepName, suffix: string, after: StepName[]): Step => ({
      name,
      after,
      run: () => sh(createOf(resources, suffix)),
    });
    const build = (name: StepName, suffix: string): Step => {
      const inputs = find(resources, suffix).inputs as {
        buildArgs: Record<string, string>;
        context: { location: string };
        dockerfile: { location: string };
        target: string;
        tags: string[];
      };
      const { BASE_IMAGE, ...buildArgs } = inputs.buildArgs;
      const spec = buildSpec({
        app: appName,
        version,
        context: inputs.context.location,
        dockerfile: inputs.dockerfile.location,
        target: inputs.target,
        baseRef: BASE_IMAGE,
        buildArgs,
      });
      assert.deepEqual(spec.tags, inputs.tags, "the builders name the image as the plan does");
      return {
        name,
        // The builds wait for the preflight only; lint and base drift gate the push.
        after: ["preflight"],
        run: () => sh(dockerBuildCommand(spec, DOCKER)),
      };
    };
    const tag = (suffix: string) =>
      find(resources, suffix).inputs as { sourceImage: string; targetImage: string };
    const versionTag = tag("tag-version");
    const latestTag = tag("tag-latest");
    const repository = versionTag.targetImage.slice(0, versionTag.targetImage.lastIndexOf(":"));
    assert.equal(repository, `${OPEN_REGISTRY}/${appName}`);

    await runGraph(
      [
        verbatim("preflight", "checks-preflight", []),
        verbatim("lint", "checks-lint", []),
        verbatim("base", "base-drift", []),
        build("build-builder", "builder-image"),
        build("build-runtime", "runtime-image"),
        verbatim("test", "test-run", ["build-builder"]),
        verbatim("smoke", "smoke-run", ["build-runtime"]),
        verbatim("scan", "scan-run", ["build-runtime"]),
        verbatim("tag-guard", "publish-tag-guard", ["lint", "base", "test", "smoke", "scan"]),
        {
          // RegistryImage: the push, and the digest the engine gets for it (sha256Digest).
          name: "push",
          after: ["tag-guard"],
          run: () =>
            pushTarget(
              dockerPushCommands(
                { source: versionTag.sourceImage, targets: [versionTag.targetImage] },
                DOCKER,
              ),
              {},
              (pushed) => {
                digest = pushed;
              },
            ),
        },
        {
          name: "push-latest",
          after: ["push"],
          run: () =>
            sequence(
              dockerPushCommands(
                { source: latestTag.sourceImage, targets: [latestTag.targetImage] },
                DOCKER,
              ),
              {},
            ),
        },
        {
          name: "deploy",
          after: ["push"],
          run: () => deployPlanned(resources, repository, digest),
        },
        verbatim("verify", "verify-health", ["deploy"]),
        { name: "report", after: ["verify"], run: () => sh(reportWith(resources, digest)) },
      ],
      run,
    );
    console.log(`      local stack: ${timeline(run)}`);
    assert.equal(run.failed, undefined, run.failed && `${run.failed.step}: ${run.failed.output}`);
    assert.equal(run.steps.length, 14);
    const content = await registryContent(OPEN_REGISTRY);
    assert.deepEqual(content[appName], { [version]: digest, latest: digest });
    const report = run.steps.find((s) => s.step === "report");
    assert.equal(reportOutputOf(report?.stdout ?? "", "report.md").verdict, "READY");
  });

  it("rolls back with release.pin: the program's resolve command finds the pinned digest, latest is re-pointed to it, the release redeployed and verified", async function () {
    assert.ok(digest, "needs the release above");
    const repository = `${OPEN_REGISTRY}/${appName}`;
    // Move latest away first (to another image), so the rollback has something to undo.
    const moved = await sequence(
      dockerPushCommands({ source: suite.baseRef, targets: [`${repository}:latest`] }, DOCKER),
      {},
    );
    assert.equal(moved.exitCode, 0, moved.output);
    assert.notEqual((await registryContent(OPEN_REGISTRY))[appName].latest, digest);

    const resources = await plan({
      baseImage: suite.baseRef,
      "app.name": appName,
      "release.version": `${version}-next`,
      "release.pin": version,
      "deploy.localPort": 18369,
    });
    assert.ok(
      !resources.some((r) => r.type.startsWith("docker-build") || r.name.endsWith("-test-run")),
      "rollback mode builds and tests nothing",
    );
    removeAfterwards(`.slipway/rollbacks/${version}`);
    const resolved = await sh(createOf(resources, "rollback-resolve"));
    assert.equal(resolved.exitCode, 0, resolved.output);
    assert.equal(resolved.stdout.trim(), digest);
    // The retag command as registered, with the engine's substitution of the resolved digest.
    const retagged = await sh(createOf(resources, "rollback-retag").replace(PLACEHOLDER, digest));
    assert.equal(retagged.exitCode, 0, retagged.output);
    assert.deepEqual((await registryContent(OPEN_REGISTRY))[appName], {
      [version]: digest,
      latest: digest,
    });
    const deployed = await deployPlanned(resources, repository, digest);
    assert.equal(deployed.exitCode, 0, deployed.output);
    const verify = await sh(createOf(resources, "verify-health"));
    assert.equal(verify.exitCode, 0, verify.output);
    const report = await sh(reportWith(resources, digest));
    assert.equal(report.exitCode, 0, report.output);
    assert.equal(reportOutputOf(report.stdout, "report.md").verdict, "READY");
  });
});
