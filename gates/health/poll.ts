import { setTimeout as delay } from "node:timers/promises";
import { formatMs } from "../testing/flags";
import { Probe, probe as httpProbe, ProbeFn } from "./probe";

/**
 * Polls a health URL until it answers as expected or the total budget is spent. Used by the `health`
 * gate (post-deploy) and by `smoke --boot` (which also stops early when its container dies).
 *
 * Timing: the first request goes out at once; after a failed attempt the poller waits `intervalMs`
 * and tries again. Each request gets `requestTimeoutMs`, cut to what is left of the budget, so the whole
 * poll ends within `timeoutMs` plus scheduling noise whatever the server does (refuses, hangs, answers
 * 5xx). Near the end the pause is shortened so that the last request still gets
 * min(`requestTimeoutMs`, {@link MIN_ATTEMPT_MS}); when not even that is left, the poll stops.
 *
 * The clock and the probe are injected so that the loop's logic is tested without real waiting.
 */

/** The shortest request worth making at the end of the budget (unless requests are shorter anyway). */
export const MIN_ATTEMPT_MS = 250;

export interface Clock {
  /** Milliseconds, monotonic. */
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realClock: Clock = {
  now: () => performance.now(),
  sleep: (ms) => delay(ms),
};

export interface PollSpec {
  url: string;
  timeoutMs: number;
  intervalMs: number;
  requestTimeoutMs: number;
  /** Default 200. */
  expectStatus?: number;
  /** Text the body must contain. */
  expectBody?: string;
}

export interface Attempt {
  /** 1-based. */
  n: number;
  /** Milliseconds since the poll started, when the attempt ended. */
  atMs: number;
  probe: Probe;
  ok: boolean;
  /** Why the attempt did not count as healthy; absent when ok. */
  problem?: string;
}

export interface PollOutcome {
  ok: boolean;
  attempts: number;
  /** Milliseconds from the first request to the end. */
  elapsedMs: number;
  /** The last attempt (the successful one when ok). */
  last?: Attempt;
  /** Set when `stopWhen` ended the poll early: its reason. */
  stopped?: string;
  /** Each distinct problem seen and how many times, in order of first appearance. */
  seen: Array<{ problem: string; count: number }>;
}

export interface PollDeps {
  clock?: Clock;
  probe?: ProbeFn;
  onAttempt?: (attempt: Attempt) => void;
  /**
   * Asked after each failed attempt: a reason to give up now (e.g. "the container exited"), or
   * undefined to go on.
   */
  stopWhen?: () => Promise<string | undefined>;
}

function statusLine(p: Probe): string {
  return `${p.status ?? "?"}${p.statusText === undefined || p.statusText === "" ? "" : ` ${p.statusText}`}`;
}

/** Why a probe does not count as healthy, or undefined when it does. */
export function judge(p: Probe, expectStatus: number, expectBody?: string): string | undefined {
  if (p.status === undefined) {
    return p.error ?? "no answer";
  }
  if (p.status !== expectStatus) {
    if (p.status >= 300 && p.status < 400) {
      return `${statusLine(p)}, redirect to ${p.location ?? "(no Location header)"} (redirects are not followed; expected ${expectStatus})`;
    }
    return `${statusLine(p)} (expected ${expectStatus})`;
  }
  if (expectBody !== undefined && !(p.body ?? "").includes(expectBody)) {
    const shown = (p.body ?? "").replace(/\s+/g, " ").trim().slice(0, 80);
    return `${statusLine(p)} but the body does not contain "${expectBody}" (body starts: "${shown}")`;
  }
  return undefined;
}

export async function poll(spec: PollSpec, deps: PollDeps = {}): Promise<PollOutcome> {
  const clock = deps.clock ?? realClock;
  const probe = deps.probe ?? httpProbe;
  const expectStatus = spec.expectStatus ?? 200;
  const url = new URL(spec.url);
  const start = clock.now();
  const deadline = start + spec.timeoutMs;
  const minAttemptMs = Math.min(spec.requestTimeoutMs, MIN_ATTEMPT_MS);
  const seen: PollOutcome["seen"] = [];
  let last: Attempt | undefined;
  let n = 0;
  let finalAttempt = false;
  const outcome = (ok: boolean, stopped?: string): PollOutcome => ({
    ok,
    attempts: n,
    elapsedMs: clock.now() - start,
    ...(last === undefined ? {} : { last }),
    ...(stopped === undefined ? {} : { stopped }),
    seen,
  });
  for (;;) {
    n += 1;
    const requestTimeout = Math.max(1, Math.min(spec.requestTimeoutMs, deadline - clock.now()));
    const p = await probe(url, requestTimeout);
    const problem = judge(p, expectStatus, spec.expectBody);
    last = {
      n,
      atMs: clock.now() - start,
      probe: p,
      ok: problem === undefined,
      ...(problem === undefined ? {} : { problem }),
    };
    deps.onAttempt?.(last);
    if (problem === undefined) {
      return outcome(true);
    }
    const known = seen.find((s) => s.problem === problem);
    if (known === undefined) {
      seen.push({ problem, count: 1 });
    } else {
      known.count += 1;
    }
    const reason = deps.stopWhen === undefined ? undefined : await deps.stopWhen();
    if (reason !== undefined) {
      return outcome(false, reason);
    }
    // Leave the next attempt a real chance: a request cut to a few milliseconds would only report
    // "no answer within 1 ms" and hide what the server last said.
    const left = deadline - clock.now();
    if (finalAttempt || left < minAttemptMs) {
      return outcome(false);
    }
    const pause = Math.min(spec.intervalMs, left - minAttemptMs);
    // A shortened pause means the budget ends before another full interval: that attempt is the last
    // (without this, instant failures with exactly minAttemptMs left would retry with no pause forever).
    finalAttempt = pause < spec.intervalMs;
    await clock.sleep(pause);
  }
}

/** One progress line per attempt: `attempt 3 (1.2 s): 503 Service Unavailable (expected 200)`. */
export function attemptLine(a: Attempt): string {
  return `attempt ${a.n} (${formatMs(a.atMs)}): ${a.ok ? `${a.probe.status ?? "?"} ok` : (a.problem ?? "")}`;
}
