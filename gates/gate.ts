import type { ParseArgsConfig } from "node:util";
import type { GateResult } from "./result";

/** The flags a gate was given, as `util.parseArgs` returns them. */
export type GateFlags = Record<string, string | boolean | string[] | undefined>;

/** What a gate may use from the outside world; injected so tests can fix the clock and environment. */
export interface GateContext {
  now(): Date;
  env: NodeJS.ProcessEnv;
  /** Progress for people, on stderr (stdout carries the result). */
  progress(line: string): void;
}

/**
 * One gate of the CLI. A gate module's default export; `cli.ts` loads it only when asked for, so the CLI
 * starts fast whatever the gates import.
 */
export interface Gate {
  name: string;
  /** One line for the usage listing. */
  summary: string;
  /** The flag lines of `gate <name> --help`. */
  usage: string[];
  /** `util.parseArgs` options (strict: unknown flags are usage errors). `json` and `help` are added by the CLI. */
  options: NonNullable<ParseArgsConfig["options"]>;
  /** Throw `UsageError` for bad flag values, `GateError` for a failure with a code. */
  run(flags: GateFlags, ctx: GateContext): Promise<GateResult>;
}
