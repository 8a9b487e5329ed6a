import type { GateFlags } from "../gate";
import { UsageError } from "../result";

/** The SOP's push budget: a registry write that takes longer ends with PUSH_TIMEOUT. */
export const DEFAULT_PUSH_TIMEOUT_S = 600;

/** `--timeout SECONDS` (default 600) in milliseconds: the whole operation's budget. */
export function pushBudgetMs(flags: GateFlags): number {
  const raw = flags.timeout;
  if (raw === undefined) return DEFAULT_PUSH_TIMEOUT_S * 1000;
  const seconds = Number(raw);
  if (typeof raw !== "string" || !Number.isFinite(seconds) || seconds <= 0) {
    throw new UsageError(`--timeout ${String(raw)}: expected a positive number of seconds`);
  }
  return Math.round(seconds * 1000);
}
