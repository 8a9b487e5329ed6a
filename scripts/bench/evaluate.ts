/**
 * Program evaluation time under Pulumi's mocks, per stack (target: ≤ 3 s): how long `pulumi preview`
 * spends in Slipway's own code before the engine does anything. Module loading (Pulumi's SDKs) is
 * measured apart, once; then each stack's Pulumi.<stack>.yaml is evaluated cold (first run) and warm
 * (median of 5), normal release and rollback.
 */
import { performance } from "node:perf_hooks";

// Loaded in run(), so that their load time is measured.
type Plan = typeof import("../plan");
type Harness = typeof import("../../tests/unit/harness");
let plan: Plan;
let harness: Harness;

const WARM_RUNS = 5;
const TARGET_MS = 3000;

async function evaluate(stack: string, sets: string[]): Promise<{ ms: number; resources: number }> {
  const planned = plan.loadStackConfig(stack, sets);
  const started = performance.now();
  const { run, error } = await harness.runUnderMocks(harness.slipwayProgram(), {
    stack,
    config: planned.config,
    secretKeys: planned.secretKeys,
    secretValues: planned.secretValues,
  });
  const ms = performance.now() - started;
  if (error !== undefined) throw new Error(`stack ${stack}: ${(error as Error).message}`);
  return { ms, resources: run.resources.length };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

export async function run(): Promise<string[]> {
  const lines: string[] = [];
  const loadStart = performance.now();
  harness = require("../../tests/unit/harness") as Harness;
  plan = require("../plan") as Plan;
  harness.slipwayProgram();
  const loadMs = performance.now() - loadStart;
  lines.push(
    `module load (the program, its config layer and the Pulumi SDKs it uses): ${Math.round(loadMs)} ms`,
  );
  let firstMs: number | undefined;
  let worst = 0;
  for (const stack of ["dev", "prod", "local"]) {
    for (const [mode, sets] of [
      ["release", []],
      ["rollback", ["release.pin=v0.0.1"]],
    ] as const) {
      const cold = await evaluate(stack, [...sets]);
      const warm: number[] = [];
      for (let i = 0; i < WARM_RUNS; i++) warm.push((await evaluate(stack, [...sets])).ms);
      worst = Math.max(worst, cold.ms);
      firstMs ??= cold.ms;
      lines.push(
        `${stack} ${mode}: ${cold.resources} resources, first evaluation ${Math.round(cold.ms)} ms, ` +
          `then median ${Math.round(median(warm))} ms of ${WARM_RUNS}`,
      );
    }
  }
  lines.push(
    `load + first evaluation (what a preview waits for before the engine works): ${Math.round(loadMs + (firstMs ?? 0))} ms`,
  );
  lines.push(
    `slowest evaluation ${Math.round(worst)} ms (target ≤ ${TARGET_MS} ms): ${worst <= TARGET_MS ? "met" : "NOT met"}`,
  );
  return lines;
}
