/**
 * P1 and P2: the release pipeline's wall time on a real Docker engine and registry.
 *
 * ASSUMES THE E2E ENVIRONMENT IS UP: a Docker engine answering `/usr/bin/docker info`, the open
 * registry on 127.0.0.1:5000 and the base image pushed (`bash scripts/e2e/docker.sh start &&
 * bash scripts/e2e/registry.sh start && bash scripts/e2e/base-image.sh`), and dist/ built
 * (`npm run build`). It stops nothing it did not start (it removes its own containers by ID).
 *
 * P1 — the pipeline (the components' command strings, scheduled as Pulumi schedules them:
 *      tests ∥ smoke ∥ scan) against the bare docker commands of the procedure done by hand, on the
 *      same app and the same kind of change (each side its own one-file change, so neither reuses
 *      the other's build): build builder, docker run the tests, build runtime, tag + push version
 *      and latest, docker run + curl until 200. Median of 3 rounds, sides alternating. Target ≤ 1.15×.
 * P2 — a release after a one-file change against a cold one (build cache pruned, the app's images
 *      removed; the base image stays local, as the BaseImage pull leaves it). Target ≤ 0.2×.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ODOO, type AppUnderTest } from "../../tests/e2e/harness/apps";
import {
  DOCKER,
  OPEN_REGISTRY,
  PROJECT_ROOT,
  STATE_DIR,
} from "../../tests/e2e/harness/environment";
import { release, removeDeployed, timeline, type Run } from "../../tests/e2e/harness/pipeline";
import { sh, shOk } from "../../tests/e2e/harness/shell";
import { changedCopy, suite } from "../../tests/e2e/harness/suite";

const ROUNDS = 3;
const GREETING_FILE = "custom_addons/slipway_hello/models/greeting.py";

/** The Odoo-shaped app under its own name and port, so the bench never touches the e2e release. */
const APP: AppUnderTest = { ...ODOO, name: "odoo-bench", localPort: 18169 };
const BARE_PORT = 18269;
const BARE_CONTAINER = "slipway-bench-bare";

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

async function environmentUp(): Promise<string> {
  const info = await sh(`${DOCKER} info --format '{{.ServerVersion}}'`);
  const registry = await fetch(`http://${OPEN_REGISTRY}/v2/`).catch(() => undefined);
  const refFile = join(STATE_DIR, "base-image.ref");
  if (info.exitCode !== 0 || registry?.status !== 200 || !existsSync(refFile)) {
    throw new Error(
      "the e2e environment is not up: run `bash scripts/e2e/docker.sh start && bash scripts/e2e/registry.sh start && bash scripts/e2e/base-image.sh` first",
    );
  }
  if (!existsSync(join(PROJECT_ROOT, "dist", "gates", "cli.js"))) {
    throw new Error("dist/ is not built: run `npm run build` first");
  }
  return readFileSync(refFile, "utf8").trim();
}

/** A copy of the app whose greeting differs: a one-file change no earlier build has seen. */
function oneFileChange(label: string): string {
  return changedCopy(
    APP.context,
    GREETING_FILE,
    (text) => text.replace(/GREETING = ".*"/, `GREETING = "Hello from ${label} ${Date.now()}"`),
    label,
  );
}

/** The procedure by hand: the bare docker commands, in order, as a person runs them. */
async function bare(context: string, version: string, baseRef: string, registry: string) {
  const started = Date.now();
  const repo = `${registry}/${APP.name}-bare`;
  const builder = `bench-bare/${APP.name}:${version}-builder`;
  const runtime = `bench-bare/${APP.name}:${version}-runtime`;
  const build = (target: string, tag: string) =>
    shOk(
      `${DOCKER} build --target ${target} --build-arg BASE_IMAGE=${baseRef} -t ${tag} -f ${context}/Dockerfile ${context}`,
    );
  await build("builder", builder);
  await shOk(`${DOCKER} run --rm --tmpfs /tmp ${builder} sh -c '${APP.testCommand}'`);
  await build("runtime", runtime);
  for (const tag of [version, "latest"]) {
    await shOk(`${DOCKER} tag ${runtime} ${repo}:${tag}`);
    await shOk(`${DOCKER} push ${repo}:${tag}`);
  }
  await sh(`${DOCKER} rm -f ${BARE_CONTAINER}`);
  await shOk(
    `${DOCKER} run -d --name ${BARE_CONTAINER} -p 127.0.0.1:${BARE_PORT}:${APP.port} ${repo}:${version}`,
  );
  const url = `http://127.0.0.1:${BARE_PORT}${APP.healthPath}`;
  for (;;) {
    const status = await fetch(url).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) break;
    if (Date.now() - started > 120_000) throw new Error(`bare: ${url} never answered 200`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return Date.now() - started;
}

async function pipeline(
  context: string | undefined,
  version: string,
  baseRef: string,
  registry: string,
): Promise<Run> {
  const run = await release({
    app: APP,
    version,
    baseRef,
    registry,
    ...(context === undefined ? {} : { context, dockerfile: `${context}/Dockerfile` }),
    scanReport: join(PROJECT_ROOT, "tests/fixtures/trivy/sl-micro-rancher5.4.json"),
    reportRoot: suite.workDir,
  });
  if (run.failed !== undefined) {
    throw new Error(`pipeline ${version} failed at ${run.failed.step}: ${run.failed.firstLine}`);
  }
  return run;
}

export async function run(): Promise<string[]> {
  const baseRef = await environmentUp();
  suite.workDir = mkdtempSync(join(tmpdir(), "slipway-bench-"));
  const registry = `${OPEN_REGISTRY}/bench-${Date.now().toString(36)}`;
  const lines = [
    "real Docker engine (/usr/bin/docker, BuildKit) + registry on 127.0.0.1:5000; app: examples/odoo",
  ];
  try {
    // Warm-up: both sides' caches hold the app as committed.
    await bare(join(PROJECT_ROOT, APP.context), "warmup", baseRef, registry);
    await pipeline(undefined, "0.0.1", baseRef, registry);

    // P1
    const bareMs: number[] = [];
    const pipeMs: number[] = [];
    let lastRun: Run | undefined;
    for (let i = 0; i < ROUNDS; i++) {
      const bareFirst = i % 2 === 0;
      const sides = [
        async () =>
          bareMs.push(await bare(oneFileChange(`bare-${i}`), `1.0.${i}`, baseRef, registry)),
        async () => {
          lastRun = await pipeline(oneFileChange(`pipeline-${i}`), `1.0.${i}`, baseRef, registry);
          pipeMs.push(lastRun.ms);
        },
      ];
      for (const side of bareFirst ? sides : [...sides].reverse()) await side();
    }
    const p1 = median(pipeMs) / median(bareMs);
    lines.push(
      `P1 one-file-change release, median of ${ROUNDS}: pipeline ${s(median(pipeMs))} vs bare docker commands ${s(median(bareMs))} = ${p1.toFixed(2)}× (target ≤ 1.15×)`,
      `   bare runs: ${bareMs.map(s).join(", ")}; pipeline runs: ${pipeMs.map(s).join(", ")}`,
      `   last pipeline run: ${lastRun === undefined ? "" : timeline(lastRun)}`,
    );

    // P2: cold (no build cache, no app image) vs a one-file change right after.
    await removeDeployed();
    const images = await sh(
      `${DOCKER} images --format '{{.Repository}}:{{.Tag}}' | grep -E '^(slipway|bench-bare)/${APP.name}:|/${APP.name}(-bare)?:' || true`,
    );
    const refs = images.stdout.split("\n").filter((l) => l.trim() !== "");
    if (refs.length > 0) await sh(`${DOCKER} rmi -f ${refs.join(" ")}`);
    await shOk(`${DOCKER} builder prune -af`);
    const cold = await pipeline(oneFileChange("cold"), "2.0.0", baseRef, registry);
    const warm = await pipeline(oneFileChange("warm"), "2.0.1", baseRef, registry);
    lines.push(
      `P2 release after a one-file change ${s(warm.ms)} vs cold release ${s(cold.ms)} = ${(warm.ms / cold.ms).toFixed(2)}× (target ≤ 0.2×)`,
      `   cold: ${timeline(cold)}`,
      `   warm: ${timeline(warm)}`,
    );
    return lines;
  } finally {
    await removeDeployed();
    await sh(`${DOCKER} rm -f ${BARE_CONTAINER}`);
    rmSync(suite.workDir, { recursive: true, force: true });
  }
}
