import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";

/**
 * Gate CLI cold start: the median wall time of a fresh `node bin/slipway-gate codes` process over 11 runs
 * (target <= 0.25 s), and of a scan of a small real report, which also loads the scan gate's modules.
 * Assumes `npm run build`. One untimed run first, so the figures are process start, not a cold disk.
 */

const ROOT = resolve(__dirname, "../..");
const BIN = join(ROOT, "bin/slipway-gate");
const RUNS = 11;
const TARGET_SECONDS = 0.25;

function timeRuns(args: string[], expectedStatus: number): number[] {
  const once = (): number => {
    const started = process.hrtime.bigint();
    const child = spawnSync(process.execPath, [BIN, ...args], { stdio: "ignore" });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (child.status !== expectedStatus) {
      throw new Error(`coldstart bench: \`slipway-gate ${args.join(" ")}\` exited ${child.status}`);
    }
    return seconds;
  };
  once();
  return Array.from({ length: RUNS }, once);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function describe(label: string, times: number[]): string {
  const ms = (s: number) => `${(s * 1000).toFixed(0)} ms`;
  return `${label}: median ${median(times).toFixed(3)} s over ${times.length} runs (min ${ms(Math.min(...times))}, max ${ms(Math.max(...times))})`;
}

export async function run(): Promise<string[]> {
  if (!existsSync(join(ROOT, "dist/gates/cli.js"))) {
    throw new Error("coldstart bench: dist/ is missing, run `npm run build` first");
  }
  const codes = timeRuns(["codes"], 0);
  const verdict = median(codes) <= TARGET_SECONDS ? "target met" : "OVER TARGET";
  const report = join(ROOT, "tests/fixtures/trivy/debian-buster.json");
  const scan = timeRuns(["scan", "--report", report], 1);
  return [
    `${describe("gate CLI cold start (slipway-gate codes)", codes)} — target <= ${TARGET_SECONDS} s: ${verdict}`,
    describe("scan gate cold start on debian-buster.json (informational)", scan),
  ];
}

if (require.main === module) {
  run().then(
    (lines) => process.stdout.write(lines.join("\n") + "\n"),
    (err: Error) => {
      process.stderr.write(`${err.message}\n`);
      process.exitCode = 1;
    },
  );
}
