import type { GateFlags } from "../gate";
import { UsageError } from "../result";

/**
 * Typed reads of `util.parseArgs` values for the runtime gates (test, smoke, health, preflight).
 * Bad values are usage errors (exit 2), never silently defaulted.
 */

/** A string flag, or `undefined` when absent. */
export function stringFlag(flags: GateFlags, name: string): string | undefined {
  const value = flags[name];
  if (value === undefined) {
    return undefined;
  }
  if (typeof value !== "string") {
    throw new UsageError(`--${name} expects a value`);
  }
  return value;
}

/** A string flag that must be given and non-empty. */
export function requiredFlag(flags: GateFlags, name: string): string {
  const value = stringFlag(flags, name);
  if (value === undefined || value.trim() === "") {
    throw new UsageError(`--${name} is required`);
  }
  return value;
}

/** A repeatable flag (`multiple: true`): every value, in order; `[]` when absent. */
export function listFlag(flags: GateFlags, name: string): string[] {
  const value = flags[name];
  if (value === undefined) {
    return [];
  }
  return Array.isArray(value) ? value : [String(value)];
}

/** A boolean flag. */
export function booleanFlag(flags: GateFlags, name: string): boolean {
  return flags[name] === true;
}

/** A number flag within [min, max], or `fallback` when absent. */
export function numberFlag(
  flags: GateFlags,
  name: string,
  fallback: number | undefined,
  range: { min?: number; max?: number; integer?: boolean } = {},
): number | undefined {
  const text = stringFlag(flags, name);
  if (text === undefined) {
    return fallback;
  }
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value)) {
    throw new UsageError(`--${name} expects a number, got "${text}"`);
  }
  if (range.integer === true && !Number.isInteger(value)) {
    throw new UsageError(`--${name} expects a whole number, got "${text}"`);
  }
  if (range.min !== undefined && value < range.min) {
    throw new UsageError(`--${name} must be at least ${range.min}, got ${text}`);
  }
  if (range.max !== undefined && value > range.max) {
    throw new UsageError(`--${name} must be at most ${range.max}, got ${text}`);
  }
  return value;
}

/**
 * A duration flag given in seconds (fractions allowed: `--timeout 0.5`), returned in milliseconds.
 * Must be > 0.
 */
export function secondsFlag(flags: GateFlags, name: string, fallbackSeconds: number): number {
  const text = stringFlag(flags, name);
  if (text === undefined) {
    return fallbackSeconds * 1000;
  }
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value) || value <= 0) {
    throw new UsageError(`--${name} expects a positive number of seconds, got "${text}"`);
  }
  return Math.round(value * 1000);
}

/** Milliseconds for people: `850 ms`, `2.4 s`, `75 s`. */
export function formatMs(ms: number): string {
  if (ms < 1000) {
    return `${Math.round(ms)} ms`;
  }
  const seconds = ms / 1000;
  return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)} s`;
}
