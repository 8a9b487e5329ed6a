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
