import { CODES, ErrorCode } from "./codes";

/** `pass`: the gate lets the release through; `warn`: it does too, with something to read; `block`: it stops it. */
export type Verdict = "pass" | "warn" | "block";

/** One thing a gate found: a vulnerability, a failing test, a missing path... Plain JSON data. */
export type Finding = Record<string, string | number | boolean | null | undefined>;

/**
 * What every gate returns. The CLI renders it for people (first line `CODE: ...` when blocking) and,
 * with `--json FILE`, writes it as is: the release report is assembled from these files.
 */
export interface GateResult {
  gate: string;
  verdict: Verdict;
  /** The code that decided a `block` (or explains a `warn`); absent on a clean pass. */
  code?: ErrorCode;
  /** One line: what was found. Rendered after `CODE: ` when there is a code. */
  summary: string;
  /** Further lines for people: each finding, the tail of a log, what to do. */
  details: string[];
  findings: Finding[];
  /** Measured values: sizes in bytes, counts, coverage percent, digests. */
  figures: Record<string, string | number | boolean>;
  /** Milliseconds per phase of the gate. */
  timings: Record<string, number>;
  /**
   * A value for machines, printed alone on stdout (the human text then goes to stderr), so that a
   * command resource's `stdout` output is exactly that value (e.g. a resolved digest).
   */
  value?: string;
}

type Extras = Partial<Pick<GateResult, "details" | "findings" | "figures" | "timings" | "value">>;

function make(
  gate: string,
  verdict: Verdict,
  summary: string,
  code: ErrorCode | undefined,
  extras: Extras,
): GateResult {
  return {
    gate,
    verdict,
    ...(code === undefined ? {} : { code }),
    summary,
    details: extras.details ?? [],
    findings: extras.findings ?? [],
    figures: extras.figures ?? {},
    timings: extras.timings ?? {},
    ...(extras.value === undefined ? {} : { value: extras.value }),
  };
}

export function pass(gate: string, summary: string, extras: Extras = {}): GateResult {
  return make(gate, "pass", summary, undefined, extras);
}

export function warn(
  gate: string,
  code: ErrorCode,
  summary: string,
  extras: Extras = {},
): GateResult {
  return make(gate, "warn", summary, code, extras);
}

export function block(
  gate: string,
  code: ErrorCode,
  summary: string,
  extras: Extras = {},
): GateResult {
  return make(gate, "block", summary, code, extras);
}

/**
 * A failure found deep inside a gate (unreadable input, a registry refusing credentials) that ends the gate
 * with that code: the CLI turns it into a `block` result, so every gate fails closed the same way.
 */
export class GateError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: string[] = [],
  ) {
    super(message);
    this.name = "GateError";
  }
}

/** Bad flags or an unknown gate: exit 2 with the usage. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** The text a person reads. A blocking or warning result opens with its code, and ends with the remedy. */
export function render(result: GateResult): string {
  const head =
    result.code === undefined
      ? `PASS ${result.gate}: ${result.summary}`
      : `${result.code}: ${result.summary}`;
  const lines = [head, ...result.details.map((line) => `  ${line}`)];
  if (result.code !== undefined && result.verdict !== "pass") {
    lines.push(`  what to do: ${CODES[result.code].remedy}`);
  }
  return lines.join("\n");
}

/** 0 lets the release through, 1 blocks it. */
export function exitCodeOf(result: GateResult): 0 | 1 {
  return result.verdict === "block" ? 1 : 0;
}

/**
 * The machine-readable decision of one gate run: what the pipeline carries from a gate into the resources
 * after it (the promotion's inputs, the deployed digest). Derived from the result's decision and the
 * digest the gate judged, never from its wording, so a re-run that decides the same with other words
 * ("already released, identical") changes nothing downstream.
 */
export interface VerdictLine {
  gate: string;
  verdict: Verdict;
  /** The code of a `block` or `warn`. */
  code?: ErrorCode;
  /** The image digest the gate judged (`sha256:...`), when it judged one. */
  subject?: string;
  /** The gate's machine value (a resolved or promoted digest, the report summary). */
  value?: string;
}

/** The marker that opens the verdict line: `slipway-verdict {...}`, the last line of stdout. */
export const VERDICT_MARKER = "slipway-verdict ";

/** The verdict line of a result (`--print-verdict`). */
export function verdictLine(result: GateResult, subject: string | undefined): string {
  const line: VerdictLine = {
    gate: result.gate,
    verdict: result.verdict,
    ...(result.code === undefined ? {} : { code: result.code }),
    ...(subject === undefined ? {} : { subject }),
    ...(result.value === undefined ? {} : { value: result.value }),
  };
  return `${VERDICT_MARKER}${JSON.stringify(line)}`;
}

/**
 * The verdict line in a gate command's stdout (the last line starting with the marker).
 *
 * @throws Error quoting the end of the output when there is none: a command resource whose gate printed
 *   no verdict must not let anything after it proceed on a guess.
 */
export function parseVerdictLine(stdout: string): VerdictLine {
  const line = stdout
    .split("\n")
    .reverse()
    .find((l) => l.startsWith(VERDICT_MARKER));
  const parsed: unknown =
    line === undefined ? undefined : JSON.parse(line.slice(VERDICT_MARKER.length));
  const v = (typeof parsed === "object" && parsed !== null ? parsed : {}) as Record<
    string,
    unknown
  >;
  if (typeof v.gate !== "string" || !["pass", "warn", "block"].includes(String(v.verdict))) {
    throw new Error(
      `no gate verdict in the command's output (expected a last line "${VERDICT_MARKER}{...}"): ${JSON.stringify(stdout.slice(-300))}`,
    );
  }
  return v as unknown as VerdictLine;
}

/** The decision as one short stable text: `smoke pass sha256:...` (what a verdict input carries). */
export function decisionOf(line: VerdictLine): string {
  return [line.gate, line.verdict, line.code ?? "-", line.subject ?? "-"].join(" ");
}
