import type { Gate } from "./gate";
import { attemptLine, poll, PollOutcome, PollSpec } from "./health/poll";
import { block, GateResult, pass, UsageError } from "./result";
import { formatMs, numberFlag, requiredFlag, secondsFlag, stringFlag } from "./testing/flags";

const DEFAULTS = { timeoutS: 60, intervalS: 2, requestTimeoutS: 5, status: 200 };

/** `http(s)://...` or a usage error. */
export function parseHealthUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--url expects an absolute http(s) URL, got "${text}"`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new UsageError(`--url expects an http or https URL, got "${text}"`);
  }
  return url;
}

/** The gate's verdict from a poll outcome (pure; shared with nothing else, exported for tests). */
export function healthResult(spec: PollSpec, outcome: PollOutcome): GateResult {
  const figures = {
    attempts: outcome.attempts,
    waitedSeconds: Math.round(outcome.elapsedMs / 100) / 10,
    ...(outcome.last?.probe.status === undefined ? {} : { lastStatus: outcome.last.probe.status }),
  };
  const expected = `${spec.expectStatus ?? 200}${spec.expectBody === undefined ? "" : ` with "${spec.expectBody}"`}`;
  if (outcome.ok) {
    return pass(
      "health",
      `GET ${spec.url} answered ${expected} after ${outcome.attempts} attempt${outcome.attempts === 1 ? "" : "s"} in ${formatMs(outcome.elapsedMs)}`,
      { figures },
    );
  }
  const lastSeen = outcome.last?.problem ?? "nothing";
  return block(
    "health",
    "HEALTH_CHECK_FAIL",
    `GET ${spec.url} did not answer ${expected} within ${formatMs(spec.timeoutMs)}: last ${lastSeen}`,
    {
      details: [
        `waited ${formatMs(outcome.elapsedMs)} over ${outcome.attempts} attempts (interval ${formatMs(spec.intervalMs)}, request timeout ${formatMs(spec.requestTimeoutMs)})`,
        ...(outcome.stopped === undefined ? [] : [`stopped early: ${outcome.stopped}`]),
        "seen:",
        ...outcome.seen.map((s) => `  ${s.count} × ${s.problem}`),
      ],
      figures,
    },
  );
}

/** `health`: post-deploy verification of a live URL. */
const gate: Gate = {
  name: "health",
  summary: "poll a live URL until it answers as expected (post-deploy verification)",
  usage: [
    "--url URL              the health endpoint (http or https)",
    `--timeout S            total budget in seconds (default ${DEFAULTS.timeoutS})`,
    `--interval S           pause between attempts (default ${DEFAULTS.intervalS})`,
    `--request-timeout S    per-request timeout (default ${DEFAULTS.requestTimeoutS})`,
    `--expect-status N      status that counts as healthy (default ${DEFAULTS.status}); redirects are not followed`,
    "--expect-body TEXT     text the body must contain",
  ],
  options: {
    url: { type: "string" },
    timeout: { type: "string" },
    interval: { type: "string" },
    "request-timeout": { type: "string" },
    "expect-status": { type: "string" },
    "expect-body": { type: "string" },
  },
  async run(flags, ctx) {
    const url = parseHealthUrl(requiredFlag(flags, "url"));
    const expectBody = stringFlag(flags, "expect-body");
    const spec: PollSpec = {
      url: url.href,
      timeoutMs: secondsFlag(flags, "timeout", DEFAULTS.timeoutS),
      intervalMs: secondsFlag(flags, "interval", DEFAULTS.intervalS),
      requestTimeoutMs: secondsFlag(flags, "request-timeout", DEFAULTS.requestTimeoutS),
      expectStatus:
        numberFlag(flags, "expect-status", DEFAULTS.status, {
          min: 100,
          max: 599,
          integer: true,
        }) ?? DEFAULTS.status,
      ...(expectBody === undefined ? {} : { expectBody }),
    };
    const outcome = await poll(spec, {
      onAttempt: (a) => ctx.progress(`health: ${attemptLine(a)}`),
    });
    const result = healthResult(spec, outcome);
    result.timings = { ...result.timings, poll: Math.round(outcome.elapsedMs) };
    return result;
  },
};

export default gate;
