import { randomBytes } from "node:crypto";
import { DockerResult, describeFailure, runDocker } from "../docker";
import {
  Attempt,
  attemptLine,
  Clock,
  poll,
  PollDeps,
  PollOutcome,
  realClock,
} from "../health/poll";
import { formatMs } from "../testing/flags";
import { tailLines } from "../testing/text";
import { findDatabaseErrors, judgeBootLogs, LogPatterns } from "./bootLogs";
import { BootAttachment, bootArgs, logsArgs, portArgs, removeArgs, stateArgs } from "./args";
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
  /**
   * Pause between health requests. Default: {@link pollPhases} (100 ms for the first 3 s, then 250 ms):
   * the point is to see the app up as soon as it is.
   */
  intervalMs?: number;
  requestTimeoutMs?: number;
  /**
   * Read the boot's logs once it is over for module-load and database errors (bootLogs.ts); absent:
   * the boot's verdict is health alone.
   */
  logPatterns?: LogPatterns;
  /** The services' network and environment (smoke.services); the CLI's env then carries the credentials. */
  attach?: BootAttachment;
}

export interface BootDeps {
  env: NodeJS.ProcessEnv;
  progress(line: string): void;
  clock?: Clock;
}

const LOG_LINES = 50;
/** How often the boot's logs are read for a database error while the poll waits. */
const DB_LOG_CHECK_MS = 1000;
/** The logs read for module and database errors: a boot's whole log, within reason. */
const ALL_LOG_LINES = 5000;

/** The first seconds of a boot are polled often: an app that starts fast is seen up at once. */
export const FAST_POLL = { forMs: 3000, intervalMs: 100 };
/** After that, each failed attempt (which also costs a `docker inspect`) is followed by this pause. */
export const SLOW_POLL_INTERVAL_MS = 250;

/** A stretch of the poll: until `untilMs` after the first request, one request every `intervalMs`. */
export interface PollPhase {
  untilMs: number;
  intervalMs: number;
}

/**
 * The poll's phases for a boot budget: {@link FAST_POLL} then {@link SLOW_POLL_INTERVAL_MS} up to the
 * budget; one phase when the budget is that short, or when the caller imposes an interval.
 */
export function pollPhases(timeoutMs: number, intervalMs?: number): PollPhase[] {
  if (intervalMs !== undefined) return [{ untilMs: timeoutMs, intervalMs }];
  if (timeoutMs <= FAST_POLL.forMs) {
    return [{ untilMs: timeoutMs, intervalMs: FAST_POLL.intervalMs }];
  }
  return [
    { untilMs: FAST_POLL.forMs, intervalMs: FAST_POLL.intervalMs },
    { untilMs: timeoutMs, intervalMs: SLOW_POLL_INTERVAL_MS },
  ];
}

/** An attempt of a later phase, numbered and timed from the start of the whole poll. */
function shifted(a: Attempt, attemptsBefore: number, offsetMs: number): Attempt {
  return { ...a, n: a.n + attemptsBefore, atMs: a.atMs + offsetMs };
}

/** One outcome for two successive phases (`next` started `offsetMs` after `first`). */
export function joinOutcomes(first: PollOutcome, next: PollOutcome, offsetMs: number): PollOutcome {
  const seen = first.seen.map((s) => ({ ...s }));
  for (const s of next.seen) {
    const known = seen.find((x) => x.problem === s.problem);
    if (known === undefined) seen.push({ ...s });
    else known.count += s.count;
  }
  const last = next.last === undefined ? first.last : shifted(next.last, first.attempts, offsetMs);
  return {
    ok: next.ok,
    attempts: first.attempts + next.attempts,
    elapsedMs: offsetMs + next.elapsedMs,
    ...(last === undefined ? {} : { last }),
    ...(next.stopped === undefined ? {} : { stopped: next.stopped }),
    seen,
  };
}

/** `poll` over successive phases: the next phase starts only when one ends without an answer or a stop. */
export async function pollInPhases(
  phases: PollPhase[],
  spec: { url: string; requestTimeoutMs: number },
  deps: PollDeps & { clock: Clock },
): Promise<PollOutcome> {
  const start = deps.clock.now();
  let outcome: PollOutcome | undefined;
  for (const phase of phases) {
    const offsetMs = deps.clock.now() - start;
    const left = phase.untilMs - offsetMs;
    if (outcome !== undefined && (outcome.ok || outcome.stopped !== undefined || left <= 0)) break;
    const before = outcome?.attempts ?? 0;
    const next = await poll(
      {
        url: spec.url,
        timeoutMs: Math.max(1, left),
        intervalMs: phase.intervalMs,
        requestTimeoutMs: spec.requestTimeoutMs,
      },
      {
        ...deps,
        ...(deps.onAttempt === undefined
          ? {}
          : { onAttempt: (a: Attempt) => deps.onAttempt?.(shifted(a, before, offsetMs)) }),
      },
    );
    outcome = outcome === undefined ? next : joinOutcomes(outcome, next, offsetMs);
  }
  // pollPhases never returns an empty list; the guard keeps the type honest.
  if (outcome === undefined) throw new Error("no poll phase");
  return outcome;
}

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
  // A dead container's cause may sit above a long shutdown traceback (gunicorn's arbiter, halting,
  // can print one after the worker's ModuleNotFoundError): its verdict reads every line.
  const allLogs = async (): Promise<string> => (await docker(logsArgs(name, ALL_LOG_LINES))).output;

  const started = clock.now();
  deps.progress(`smoke: booting ${spec.image} as ${name}`);
  /** Whether `docker run -d` created the container: only then are there logs to read. */
  let created = false;
  const attempt = async (): Promise<CheckResult> => {
    const run = await docker(bootArgs(spec.image, name, spec.port, spec.attach), 120_000);
    created = run.exitCode === 0;
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
        return bootExited(s, await allLogs(), false);
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
    /**
     * An app that cannot use its database often keeps running and answers 503 until the budget is
     * spent: once a second, its logs are read for a database error, and the poll stops at the first
     * (DATABASE_CONNECTION_ERROR then comes from the logs, seconds instead of the whole boot budget).
     */
    let logsReadAt = clock.now();
    const databaseErrorSeen = async (): Promise<string | undefined> => {
      const patterns = spec.logPatterns?.database;
      if (patterns === undefined || clock.now() - logsReadAt < DB_LOG_CHECK_MS) return undefined;
      logsReadAt = clock.now();
      const seen = findDatabaseErrors((await docker(logsArgs(name, LOG_LINES))).output, patterns);
      return seen.length > 0 ? "the app logs a database error" : undefined;
    };
    let lastState: ContainerState | undefined;
    const outcome = await pollInPhases(
      pollPhases(spec.timeoutMs, spec.intervalMs),
      { url, requestTimeoutMs: spec.requestTimeoutMs ?? 2000 },
      {
        clock,
        onAttempt: (a) => deps.progress(`smoke: boot ${attemptLine(a)}`),
        stopWhen: async () => {
          lastState = await state();
          if (lastState !== undefined && !lastState.running) {
            return `the container exited with code ${lastState.exitCode}`;
          }
          return databaseErrorSeen();
        },
      },
    );
    const bootMs = clock.now() - started;
    // Healthy only if it is still up after answering (and, on timeout, tell a crash from a slow app).
    const after = await state();
    if (after !== undefined && !after.running) {
      return bootExited(after, await allLogs(), outcome.ok);
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
      outcome.stopped === undefined
        ? `no 200 from ${spec.healthPath} (port ${spec.port}) within ${formatMs(spec.timeoutMs)}: last ${outcome.last?.problem ?? "nothing"}`
        : `no 200 from ${spec.healthPath} (port ${spec.port}) after ${formatMs(bootMs)}, stopped: ${outcome.stopped}; last ${outcome.last?.problem ?? "nothing"}`,
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
  };
  try {
    const result = await attempt();
    if (spec.logPatterns === undefined || !created) return result;
    const all = await docker(logsArgs(name, ALL_LOG_LINES));
    return judgeBootLogs(result, all.output, spec.logPatterns);
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
