import { main } from "../../../gates/cli";
import type { GateContext } from "../../../gates/gate";

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `fn` with process.stdout and process.stderr captured (restored afterwards, even when it throws).
 * `fn` gets the stderr buffer, so an injected progress callback can write into it too.
 */
export async function capturingOutput(fn: (stderr: string[]) => Promise<number>): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const write = { out: process.stdout.write, err: process.stderr.write };
  process.stdout.write = ((chunk: string | Uint8Array) =>
    out.push(String(chunk)) > 0) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) =>
    err.push(String(chunk)) > 0) as typeof process.stderr.write;
  try {
    const code = await fn(err);
    return { code, stdout: out.join(""), stderr: err.join("") };
  } finally {
    process.stdout.write = write.out;
    process.stderr.write = write.err;
  }
}

/**
 * The gate CLI in process, as `bin/slipway-gate` runs it: a fixed clock (the epoch unless given), only the
 * environment given (nothing of the test runner's), progress lines into stderr.
 */
export function runGateCli(
  argv: string[],
  ctx: { now?: () => Date; env?: NodeJS.ProcessEnv } = {},
): Promise<CliRun> {
  return capturingOutput((stderr) =>
    main(argv, {
      now: ctx.now ?? (() => new Date(0)),
      env: ctx.env ?? {},
      progress: (line) => stderr.push(`${line}\n`),
    } satisfies GateContext),
  );
}
