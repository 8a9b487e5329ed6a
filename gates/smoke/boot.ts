import { randomBytes } from "node:crypto";
import { DockerResult, describeFailure, runDocker } from "../docker";
import { attemptLine, Clock, poll, realClock } from "../health/poll";
import { formatMs } from "../testing/flags";
import { tailLines } from "../testing/text";
import { bootArgs, logsArgs, portArgs, removeArgs, stateArgs } from "./args";
import {
  bootExited,
  CheckResult,
  ContainerState,
  fail,
  ok,
  parseHostPort,
  parseState,
} from "./checks";

export interface BootSpec {
  image: string;
  /** The app's port inside the container. */
  port: number;
  /** Path polled on the published port, e.g. `/web/health`. */
  healthPath: string;
  timeoutMs: number;
  /** Pause between health requests: short, the point is to see the app up as soon as it is. */
  intervalMs?: number;
  requestTimeoutMs?: number;
}

export interface BootDeps {
  env: NodeJS.ProcessEnv;
  progress(line: string): void;
  clock?: Clock;
}

const LOG_LINES = 50;

/**
 * Starts the exact image the way it will run (its own ENTRYPOINT/CMD), waits for its health path to
 * answer 200 while it keeps running, and always removes the container (`docker rm -f` in `finally`).
 *
 * - exits before answering, or right after → CONTAINER_START_FAILURE with exit code + last log lines
 *   (naming the module when the logs show an import error);
 * - keeps running without a 200 in time → HEALTH_CHECK_FAIL with the last status/error seen.
 */
export async function boot(spec: BootSpec, deps: BootDeps): Promise<CheckResult> {
  const clock = deps.clock ?? realClock;
  const name = `slipway-smoke-${randomBytes(6).toString("hex")}`;
  const docker = (args: string[], timeoutMs = 30_000): Promise<DockerResult> =>
    runDocker(args, { env: deps.env, timeoutMs });
  const state = async (): Promise<ContainerState | undefined> => {
    const r = await docker(stateArgs(name));
    if (r.exitCode !== 0) return undefined;
    try {
      return parseState(r.stdout);
    } catch {
      return undefined;
    }
  };
  const logs = async (): Promise<string> => (await docker(logsArgs(name, LOG_LINES))).output;

  const started = clock.now();
  deps.progress(`smoke: booting ${spec.image} as ${name}`);
  try {
    const run = await docker(bootArgs(spec.image, name, spec.port), 120_000);
    if (run.exitCode !== 0) {
      return fail(
        "boot",
        "CONTAINER_START_FAILURE",
        `the container did not start: ${describeFailure(run)}`,
        {
          details: tailLines(run.output, 15).map((l) => `| ${l}`),
        },
      );
    }
    const portRun = await docker(portArgs(name, spec.port));
    const hostPort = parseHostPort(portRun.stdout);
    if (hostPort === undefined) {
      const s = await state();
      if (s !== undefined && !s.running) {
        return bootExited(s, await logs(), false);
      }
      return fail(
        "boot",
        "CONTAINER_START_FAILURE",
        `port ${spec.port} was not published: ${describeFailure(portRun)}`,
        {
          details: tailLines(portRun.output, 5),
        },
      );
    }
    const url = `http://127.0.0.1:${hostPort}${spec.healthPath}`;
    let lastState: ContainerState | undefined;
    const outcome = await poll(
      {
        url,
        timeoutMs: spec.timeoutMs,
        intervalMs: spec.intervalMs ?? 250,
        requestTimeoutMs: spec.requestTimeoutMs ?? 2000,
      },
      {
        clock,
        onAttempt: (a) => deps.progress(`smoke: boot ${attemptLine(a)}`),
        stopWhen: async () => {
          lastState = await state();
          return lastState !== undefined && !lastState.running
            ? `the container exited with code ${lastState.exitCode}`
            : undefined;
        },
      },
    );
    const bootMs = clock.now() - started;
    // Healthy only if it is still up after answering (and, on timeout, tell a crash from a slow app).
    const after = await state();
    if (after !== undefined && !after.running) {
      return bootExited(after, await logs(), outcome.ok);
    }
    const figures = { bootSeconds: Math.round(bootMs / 100) / 10, hostPort };
    if (outcome.ok) {
      return ok("boot", `booted and answered 200 on ${spec.healthPath} in ${formatMs(bootMs)}`, {
        figures,
      });
    }
    return fail(
      "boot",
      "HEALTH_CHECK_FAIL",
      `no 200 from ${spec.healthPath} (port ${spec.port}) within ${formatMs(spec.timeoutMs)}: last ${outcome.last?.problem ?? "nothing"}`,
      {
        figures: { ...figures, attempts: outcome.attempts },
        details: [
          `the container is still running after ${outcome.attempts} attempts on ${url}`,
          ...outcome.seen.map((s) => `${s.count} × ${s.problem}`),
          "last log lines:",
          ...tailLines(await logs(), 20).map((l) => `| ${l}`),
        ],
      },
    );
  } finally {
    const removed = await docker(removeArgs(name)).catch((err: Error) => err);
    if (
      removed instanceof Error ||
      (removed.exitCode !== 0 && !/No such container/i.test(removed.stderr))
    ) {
      deps.progress(
        `smoke: could not remove ${name}: ${removed instanceof Error ? removed.message : describeFailure(removed)}`,
      );
    }
  }
}
