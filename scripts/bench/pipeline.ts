/**
 * P1 and P2: the release pipeline's wall time on a real Docker engine and registry.
 *
 * ASSUMES THE E2E ENVIRONMENT IS UP: a Docker engine answering `/usr/bin/docker info`, the open
 * registry on 127.0.0.1:5000 and the base image pushed (`bash scripts/e2e/docker.sh start &&
 * bash scripts/e2e/registry.sh start && bash scripts/e2e/base-image.sh`), and dist/ built
 * (`npm run build`). It stops nothing it did not start (it removes its own containers by ID). It
 * prunes the engine's build cache (`docker builder prune -af`) before every cold run.
 *
 * The app is examples/odoo, whose build is what SOP step 2's is: a `system` stage installing
 * wkhtmltopdf and postgresql-client from the Debian mirror (~95 MB of packages), under the builder
 * (test tools, source) and the runtime (what ships). The pipeline is the components' command strings
 * scheduled as Pulumi schedules the resources (tests/e2e/harness/pipeline.ts: preflight, then both
 * builds, each pushing its candidate, with lint and base drift beside them; tests ∥ smoke ∥ scan on
 * the candidates by digest; promote (registry-side :version, :latest) → deploy → verify → report →
 * evidence). The bare side is the procedure by hand, in order: build builder, docker run the tests,
 * build runtime, tag + push version and latest, docker run + curl until 200.
 *
 * P1 — pipeline ÷ bare on the same kind of release, sides alternating, median of 3 rounds each, for
 *      both kinds: COLD (what a CI runner does: build cache pruned and the app's images removed; the
 *      base image stays in the engine, as a runner's cache of it would) and a ONE-FILE CHANGE on a warm
 *      engine (each side its own change, so neither reuses the other's build). Targets: cold ≤ 1.10×,
 *      one-file change ≤ 1.3×.
 * P2 — the pipeline's one-file-change release ÷ its cold release (the medians above). Target ≤ 0.2×.
 * P3 — FRESH RUNNER: a release interrupted before its promotion (builds, gates done: the stack's state),
 *      then the engine made cold (build cache pruned, none of the app's images), then the re-run that
 *      resumes it (promote → deploy, pulling by digest → verify → report → evidence), ÷ the cold
 *      release median. Target ≤ 0.3×.
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
import { TRIVY_CLEAN } from "../../tests/e2e/harness/fixtures";
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

/** The index of the median value (the lower middle one for an even count). */
function medianIndex(values: number[]): number {
  const order = values.map((v, i) => [v, i]).sort((a, b) => a[0] - b[0]);
  return order[Math.floor((order.length - 1) / 2)][1];
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

/**
 * Cold, as a fresh CI runner starts: no build cache and none of the app's images (either side's),
 * the base image kept (the BaseImage component pulls it before any build).
 */
async function makeCold(baseRef: string): Promise<void> {
  await removeDeployed();
  await sh(`${DOCKER} rm -f ${BARE_CONTAINER}`);
  // By ID: an image pulled by digest has no tag to name it by.
  const images = await sh(
    `${DOCKER} images --format '{{.ID}} {{.Repository}}' | grep -E ' (bench-bare/${APP.name}|.*/${APP.name}(-bare)?)$' | cut -d' ' -f1 || true`,
  );
  const ids = [...new Set(images.stdout.split("\n").filter((l) => l.trim() !== ""))];
  if (ids.length > 0) await sh(`${DOCKER} rmi -f ${ids.join(" ")}`);
  await shOk(`${DOCKER} builder prune -af`);
  const base = await sh(`${DOCKER} image inspect --format '{{.Id}}' ${baseRef}`);
  if (base.exitCode !== 0) throw new Error(`the base image ${baseRef} is gone from the engine`);
}

interface BareRun {
  ms: number;
  steps: Array<[string, number]>;
}

/** The procedure by hand: the bare docker commands, in order, as a person runs them. */
async function bare(
  context: string,
  version: string,
  baseRef: string,
  registry: string,
): Promise<BareRun> {
  const started = Date.now();
  const steps: Array<[string, number]> = [];
  const timed = async (name: string, work: () => Promise<unknown>) => {
    const t = Date.now();
    await work();
    steps.push([name, Date.now() - t]);
  };
  const repo = `${registry}/${APP.name}-bare`;
  const builder = `bench-bare/${APP.name}:${version}-builder`;
  const runtime = `bench-bare/${APP.name}:${version}-runtime`;
  const build = (target: string, tag: string) =>
    shOk(
      `DOCKER_BUILDKIT=1 ${DOCKER} build --target ${target} --build-arg BASE_IMAGE=${baseRef} -t ${tag} -f ${context}/Dockerfile ${context}`,
    );
  await timed("build-builder", () => build("builder", builder));
  await timed("test", () =>
    shOk(`${DOCKER} run --rm --tmpfs /tmp ${builder} sh -c '${APP.testCommand}'`),
  );
  await timed("build-runtime", () => build("runtime", runtime));
  for (const tag of [version, "latest"]) {
    await timed(tag === "latest" ? "push-latest" : "push", async () => {
      await shOk(`${DOCKER} tag ${runtime} ${repo}:${tag}`);
      await shOk(`${DOCKER} push ${repo}:${tag}`);
    });
  }
  await sh(`${DOCKER} rm -f ${BARE_CONTAINER}`);
  await timed("run+curl", async () => {
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
      if (Date.now() - started > 300_000) throw new Error(`bare: ${url} never answered 200`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });
  return { ms: Date.now() - started, steps };
}

function bareTimeline(run: BareRun): string {
  return `${run.steps.map(([name, ms]) => `${name} ${ms} ms`).join(" · ")} — wall ${run.ms} ms`;
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
    scanReport: TRIVY_CLEAN,
    reportRoot: suite.workDir,
  });
  if (run.failed !== undefined) {
    throw new Error(`pipeline ${version} failed at ${run.failed.step}: ${run.failed.firstLine}`);
  }
  return run;
}

interface Rounds {
  bare: BareRun[];
  pipeline: Run[];
}

/** ROUNDS rounds of both sides, alternating which goes first; `before` runs ahead of every side. */
async function rounds(
  kind: string,
  baseRef: string,
  registry: string,
  before: () => Promise<void>,
): Promise<Rounds> {
  const out: Rounds = { bare: [], pipeline: [] };
  for (let i = 0; i < ROUNDS; i++) {
    const sides = [
      async () => {
        await before();
        out.bare.push(
          await bare(oneFileChange(`${kind}-bare-${i}`), `${kind}-${i}`, baseRef, registry),
        );
      },
      async () => {
        await before();
        out.pipeline.push(
          await pipeline(oneFileChange(`${kind}-pipeline-${i}`), `${kind}-${i}`, baseRef, registry),
        );
      },
    ];
    for (const side of i % 2 === 0 ? sides : [...sides].reverse()) await side();
  }
  return out;
}

function p1Lines(label: string, r: Rounds): { lines: string[]; pipelineMs: number } {
  const bareMs = r.bare.map((b) => b.ms);
  const pipeMs = r.pipeline.map((p) => p.ms);
  const ratio = median(pipeMs) / median(bareMs);
  const target = label.startsWith("cold") ? "1.10" : "1.3";
  return {
    pipelineMs: median(pipeMs),
    lines: [
      `P1 ${label}, median of ${ROUNDS}: pipeline ${s(median(pipeMs))} vs bare docker commands ${s(median(bareMs))} = ${ratio.toFixed(2)}× (target ≤ ${target}×)`,
      `   bare runs: ${bareMs.map(s).join(", ")}; pipeline runs: ${pipeMs.map(s).join(", ")}`,
      `   median pipeline run: ${timeline(r.pipeline[medianIndex(pipeMs)])}`,
      `   median bare run:     ${bareTimeline(r.bare[medianIndex(bareMs)])}`,
    ],
  };
}

export async function run(): Promise<string[]> {
  const baseRef = await environmentUp();
  suite.workDir = mkdtempSync(join(tmpdir(), "slipway-bench-"));
  const registry = `${OPEN_REGISTRY}/bench-${Date.now().toString(36)}`;
  const lines = [
    "real Docker engine (/usr/bin/docker, BuildKit) + registry on 127.0.0.1:5000; app: examples/odoo (system stage: wkhtmltopdf + postgresql-client from the Debian mirror)",
  ];
  try {
    // Warm-up: both sides' caches hold the app as committed.
    await bare(join(PROJECT_ROOT, APP.context), "warmup", baseRef, registry);
    await pipeline(undefined, "0.0.1", baseRef, registry);

    const warm = await rounds("warm", baseRef, registry, async () => {});
    const p1Warm = p1Lines("release after a one-file change (warm engine)", warm);
    // SLIPWAY_BENCH_WARM_ONLY=1: the one-file-change ratio alone (a few minutes, not a quarter hour).
    if (process.env.SLIPWAY_BENCH_WARM_ONLY === "1") return [...lines, ...p1Warm.lines];
    const cold = await rounds("cold", baseRef, registry, () => makeCold(baseRef));
    const p1Cold = p1Lines("cold release (no build cache, no app image)", cold);
    lines.push(...p1Cold.lines, ...p1Warm.lines);
    const resumed: Run[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      await makeCold(baseRef);
      const first = await release({
        app: APP,
        version: `fresh-${i}`,
        baseRef,
        registry,
        context: oneFileChange(`fresh-${i}`),
        scanReport: TRIVY_CLEAN,
        reportRoot: suite.workDir,
        interruptBefore: "promote",
      });
      if (first.failed !== undefined)
        throw new Error(`interrupted run failed: ${first.failed.firstLine}`);
      await makeCold(baseRef);
      const again = await release({
        app: APP,
        version: `fresh-${i}`,
        baseRef,
        registry,
        scanReport: TRIVY_CLEAN,
        reportRoot: suite.workDir,
        resume: first,
      });
      if (again.failed !== undefined) throw new Error(`re-run failed: ${again.failed.firstLine}`);
      resumed.push(again);
    }
    const resumedMs = resumed.map((r) => r.ms);
    lines.push(
      `P3 fresh-runner re-run of an interrupted release, median of ${ROUNDS}: ${s(median(resumedMs))} vs cold release ${s(p1Cold.pipelineMs)} = ${(median(resumedMs) / p1Cold.pipelineMs).toFixed(2)}× (target ≤ 0.3×)`,
      `   median re-run: ${timeline(resumed[medianIndex(resumedMs)])}`,
    );
    lines.push(
      `P2 release after a one-file change ${s(p1Warm.pipelineMs)} vs cold release ${s(p1Cold.pipelineMs)} = ${(p1Warm.pipelineMs / p1Cold.pipelineMs).toFixed(2)}× (target ≤ 0.2×; pipeline medians above)`,
    );
    return lines;
  } finally {
    await removeDeployed();
    await sh(`${DOCKER} rm -f ${BARE_CONTAINER}`);
    rmSync(suite.workDir, { recursive: true, force: true });
  }
}
