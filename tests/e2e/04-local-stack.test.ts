import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join, relative } from "node:path";
import "./harness/hooks";
import {
  buildSpec,
  dockerBuildCommand,
  localContainerSpec,
  shellQuote,
} from "../../gates/commands";
import { parseVerdictLine } from "../../gates/result";
import { reportOutputOf } from "../../gates/report/summary";
import { DOCKER, OPEN_REGISTRY, PROJECT_ROOT } from "./harness/environment";
import { TRIVY_CLEAN } from "./harness/fixtures";
import {
  buildCandidate,
  replaceContainer,
  runGraph,
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
 * `Image` with `push: true`, `docker.Container`) run as the builders' docker renderings of the very
 * inputs the plan shows. Only what the engine would fill in at `up` is substituted: each candidate's
 * digest, where the mock runtime prints a placeholder. Trivy cannot run here, so the stack's
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

/** The placeholder digest a planned command names after `flag` (`--image REPO@sha256:...`). */
function placeholderIn(command: string, flag: string): string {
  const found = new RegExp(`${flag} \\S*?(sha256:[a-f0-9]{64})`).exec(command)?.[1];
  assert.ok(found, `no ${flag} digest in ${command}`);
  return found;
}

/** A planned command with the engine's substitution: each placeholder digest → the real one. */
function substituted(command: string, digests: Map<string, string>): string {
  return command.replace(/sha256:[a-f0-9]{64}/g, (d) => digests.get(d) ?? d);
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

  it("releases: every gate command the program registered passes on the candidates by digest, the promotion tags the same digest, deployed by digest and verified", async function () {
    const resources = await plan({
      baseImage: suite.baseRef,
      "app.name": appName,
      "release.version": version,
      "deploy.localPort": 18369,
    });
    removeAfterwards(`.slipway/releases/${version}`);
    const run: Run = { steps: [], ms: 0, passed: [] };
    // The plan's placeholders for the candidates' digests, as the gates and the promotion name them.
    const digests = new Map<string, string>();
    const builderPlaceholder = placeholderIn(createOf(resources, "test-run"), "--image");
    const runtimePlaceholder = placeholderIn(createOf(resources, "smoke-run"), "--image");
    const verbatim = (name: StepName, suffix: string, after: StepName[]): Step => ({
      name,
      after,
      run: () => sh(substituted(createOf(resources, suffix), digests)),
    });
    const build = (name: StepName, suffix: string, placeholder: string): Step => {
      const inputs = find(resources, suffix).inputs as {
        buildArgs: Record<string, string>;
        context: { location: string };
        dockerfile: { location: string };
        target: string;
        tags: string[];
        push: boolean;
        buildOnPreview: boolean;
      };
      assert.equal(inputs.push, true, "the build pushes its candidate");
      assert.equal(inputs.buildOnPreview, false, "a preview builds nothing");
      const { BASE_IMAGE, ...buildArgs } = inputs.buildArgs;
      const spec = buildSpec({
        version,
        context: inputs.context.location,
        dockerfile: inputs.dockerfile.location,
        target: inputs.target,
        baseRef: BASE_IMAGE,
        buildArgs,
        candidateRepository: `${OPEN_REGISTRY}/${appName}`,
        cache: false,
      });
      assert.deepEqual(
        [spec.candidate],
        inputs.tags,
        "the builders name the candidate as the plan does",
      );
      return {
        name,
        // The builds wait for the preflight only; lint and base drift gate the promotion.
        after: ["preflight"],
        run: () =>
          buildCandidate(dockerBuildCommand(spec, DOCKER), {}, (real) => {
            digests.set(placeholder, real);
          }),
      };
    };
    const repository = `${OPEN_REGISTRY}/${appName}`;

    await runGraph(
      [
        verbatim("preflight", "checks-preflight", []),
        verbatim("lint", "checks-lint", []),
        verbatim("base", "base-drift", []),
        build("build-builder", "builder-image", builderPlaceholder),
        build("build-runtime", "runtime-image", runtimePlaceholder),
        verbatim("test", "test-run", ["build-builder"]),
        verbatim("smoke", "smoke-run", ["build-runtime"]),
        verbatim("scan", "scan-run", ["build-runtime"]),
        {
          name: "promote",
          after: ["preflight", "lint", "base", "test", "smoke", "scan"],
          run: async () => {
            const result = await sh(substituted(createOf(resources, "promote-promote"), digests));
            if (result.exitCode === 0) digest = parseVerdictLine(result.stdout).value ?? "";
            return result;
          },
        },
        {
          name: "deploy",
          after: ["promote"],
          run: () => deployPlanned(resources, repository, digest),
        },
        verbatim("verify", "verify-health", ["deploy"]),
        {
          name: "report",
          after: ["verify"],
          run: () => sh(substituted(createOf(resources, "report-run"), digests)),
        },
        verbatim("evidence", "evidence-attach", ["report"]),
      ],
      run,
    );
    console.log(`      local stack: ${timeline(run)}`);
    assert.equal(run.failed, undefined, run.failed && `${run.failed.step}: ${run.failed.output}`);
    assert.equal(run.steps.length, 13);
    assert.equal(digest, digests.get(runtimePlaceholder), "the promoted digest is the candidate's");
    const content = await registryContent(OPEN_REGISTRY);
    const evidenceTags = Object.keys(content[appName] ?? {}).filter((tag) =>
      tag.startsWith(`${digest.replace(":", "-")}.`),
    );
    assert.ok(evidenceTags.length > 0, "evidence bound to the released digest (tag fallback)");
    const tags = Object.fromEntries(
      Object.entries(content[appName] ?? {}).filter(([tag]) => !evidenceTags.includes(tag)),
    );
    assert.deepEqual(tags, {
      [`candidate-${version}-builder`]: digests.get(builderPlaceholder),
      [`candidate-${version}-runtime`]: digest,
      [version]: digest,
      latest: digest,
    });
    const report = run.steps.find((s) => s.step === "report");
    const summary = parseVerdictLine(report?.stdout ?? "").value ?? "";
    assert.equal(reportOutputOf(summary, "report.md").verdict, "READY");
  });

  it("rolls back with release.pin: the program's resolve command finds the pinned digest, latest is re-pointed to it, the release redeployed and verified", async function () {
    assert.ok(digest, "needs the release above");
    const repository = `${OPEN_REGISTRY}/${appName}`;
    // Move latest away first (to another image), so the rollback has something to undo.
    const moved = await sh(
      `${DOCKER} tag ${suite.baseRef} ${repository}:latest && ${DOCKER} push ${repository}:latest`,
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
    assert.equal(parseVerdictLine(resolved.stdout).value, digest);
    // The retag command as registered, with the engine's substitution of the resolved digest.
    const retagged = await sh(createOf(resources, "rollback-retag").replace(PLACEHOLDER, digest));
    assert.equal(retagged.exitCode, 0, retagged.output);
    const tags = (await registryContent(OPEN_REGISTRY))[appName] ?? {};
    assert.equal(tags[version], digest);
    assert.equal(tags.latest, digest);
    const deployed = await deployPlanned(resources, repository, digest);
    assert.equal(deployed.exitCode, 0, deployed.output);
    const verify = await sh(createOf(resources, "verify-health"));
    assert.equal(verify.exitCode, 0, verify.output);
    const planned = createOf(resources, "report-run");
    const report = await sh(planned.replace(/sha256:[a-f0-9]{64}/g, digest));
    assert.equal(report.exitCode, 0, report.output);
    const summary = parseVerdictLine(report.stdout).value ?? "";
    assert.equal(reportOutputOf(summary, "report.md").verdict, "READY");
  });
});
