import type { z } from "zod";

/**
 * Config problems as people read them: one line each, `slipway:<path>: <what is wrong>`, the path in
 * the form `pulumi config set --path` takes (`slipway:scan.severity[1]`, `slipway:deploy.env["A.B"]`).
 * Pure functions over zod issues: no Pulumi import.
 *
 * Wording: zod's own messages ("Invalid input: expected number, received string") are rewritten from the
 * issue's data for types, enums and ranges, with the value found (`got "SEVERE"`); the schema's own
 * messages are kept for formats and rules, which say what is expected in the schema's words.
 */

/** The Pulumi config namespace of every Slipway key. */
export const NAMESPACE = "slipway";

export type PathSegment = string | number;

/** One problem with the config: where, and what is wrong (without the path). */
export interface Problem {
  path: readonly PathSegment[];
  message: string;
}

/** A key `--path` can take after a dot; anything else is written `["key"]`. */
const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/**
 * `["scan", "severity", 1]` → `slipway:scan.severity[1]`. The first segment is the config key itself
 * (`slipway:scan`); later ones follow Pulumi's property-path syntax.
 */
export function configPath(path: readonly PathSegment[], namespace: string = NAMESPACE): string {
  if (path.length === 0) return `${namespace}:`;
  let out = `${namespace}:${String(path[0])}`;
  for (const segment of path.slice(1)) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (PLAIN_KEY.test(segment)) out += `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** `slipway:<path>: <message>`. */
export function formatProblem(problem: Problem, namespace: string = NAMESPACE): string {
  return `${configPath(problem.path, namespace)}: ${problem.message}`;
}

/** Every problem on its own line, ordered by path (so one key's problems sit together), no repeats. */
export function formatProblems(
  problems: readonly Problem[],
  namespace: string = NAMESPACE,
): string[] {
  const lines = problems.map((problem) => ({
    path: configPath(problem.path, namespace),
    line: formatProblem(problem, namespace),
  }));
  lines.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return [...new Set(lines.map((entry) => entry.line))];
}

/** How a value found in the config is shown: short, and never a whole object. */
export function showValue(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "an object";
  if (typeof value === "string") {
    const shown = value.length > 60 ? `${value.slice(0, 57)}...` : value;
    return JSON.stringify(shown);
  }
  return String(value);
}

/** The value at `path` in `input`, or undefined when the path leads nowhere. */
export function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = input;
  for (const segment of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<PropertyKey, unknown>)[segment];
  }
  return current;
}

const TYPE_NAMES: Record<string, string> = {
  string: "text",
  number: "a number",
  int: "a whole number",
  boolean: "true or false",
  object: "an object",
  array: "a list",
  record: "an object",
};

function typeName(expected: string): string {
  return TYPE_NAMES[expected] ?? expected;
}

type Issue = z.core.$ZodIssue;

function rangeMessage(issue: Issue & { code: "too_small" | "too_big" }, value: unknown): string {
  const small = issue.code === "too_small";
  const bound = Number(small ? issue.minimum : issue.maximum);
  switch (issue.origin) {
    case "string":
      if (small && bound === 1) return "must not be empty";
      return `expected ${small ? "at least" : "at most"} ${bound} characters, got ${showValue(value)}`;
    case "array":
    case "set":
      if (small && bound === 1) return "must not be empty: expected at least one item";
      return `expected ${small ? "at least" : "at most"} ${bound} items`;
    default: {
      const op = small ? (issue.inclusive ? ">=" : ">") : issue.inclusive ? "<=" : "<";
      return `expected a number ${op} ${bound}, got ${showValue(value)}`;
    }
  }
}

/** zod's default messages start like this; the schema's own messages never do. */
function isZodDefault(message: string): boolean {
  return /^(Invalid|Too (small|big)|Unrecognized)/.test(message);
}

/** The message of one issue (not `unrecognized_keys`, which `problemsFromIssues` splits per key). */
export function describeIssue(issue: Issue, input: unknown): string {
  const value = valueAt(input, issue.path);
  switch (issue.code) {
    case "invalid_type":
      return value === undefined
        ? `missing: expected ${typeName(issue.expected)}`
        : `expected ${typeName(issue.expected)}, got ${showValue(value)}`;
    case "invalid_value":
      return issue.values.length === 1
        ? `expected ${showValue(issue.values[0])}, got ${showValue(value)}`
        : `expected one of ${issue.values.map(String).join(", ")}; got ${showValue(value)}`;
    case "too_small":
    case "too_big":
      return rangeMessage(issue, value);
    case "invalid_format": {
      const expected = isZodDefault(issue.message)
        ? `expected a valid ${issue.format}`
        : issue.message;
      return `${expected}, got ${showValue(value)}`;
    }
    case "invalid_key": {
      const inner = issue.issues.map((sub) => sub.message).join("; ");
      return `invalid name: ${isZodDefault(inner) ? "not accepted here" : inner}`;
    }
    case "invalid_union":
      return isZodDefault(issue.message) ? "matches none of the accepted forms" : issue.message;
    default:
      return issue.message;
  }
}

/** Edit distance, for "did you mean". Keys are short: the quadratic table is fine. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const saved = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = saved;
    }
  }
  return row[b.length];
}

/** The known key closest to a mistyped one, when it is close enough to be what was meant. */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const d =
      candidate.toLowerCase() === key.toLowerCase()
        ? 0
        : distance(key.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(1, Math.floor(key.length / 4)) + 1 ? best : undefined;
}

function unknownKeyMessage(key: string, known: readonly string[] | undefined): string {
  if (known === undefined || known.length === 0) return "unknown key";
  const guess = closestKey(key, known);
  if (guess !== undefined) return `unknown key: did you mean ${guess}?`;
  return `unknown key: expected one of ${known.join(", ")}`;
}

/** Where the known keys at a path of the config come from (`keysAt(schema, path)`). */
export type KnownKeys = (path: readonly PathSegment[]) => readonly string[] | undefined;

/** Keys must be plain segments (zod paths may hold symbols in theory; the config never does). */
function plainPath(path: readonly PropertyKey[]): PathSegment[] {
  return path.map((segment) => (typeof segment === "number" ? segment : String(segment)));
}

/**
 * zod issues → problems. `input` is what was parsed (for the `got ...` part); `knownKeys` names the
 * keys an object accepts, for unknown keys (`slipway:app.prot: unknown key: did you mean port?`).
 */
export function problemsFromIssues(
  issues: readonly Issue[],
  input: unknown,
  knownKeys?: KnownKeys,
): Problem[] {
  const problems: Problem[] = [];
  for (const issue of issues) {
    const path = plainPath(issue.path);
    if (issue.code === "unrecognized_keys") {
      const known = knownKeys?.(path);
      for (const key of issue.keys) {
        problems.push({ path: [...path, key], message: unknownKeyMessage(key, known) });
      }
      continue;
    }
    problems.push({ path, message: describeIssue(issue, input) });
  }
  return problems;
}

type AnySchema = z.core.$ZodType;

/** Steps through wrappers (optional, default, prefault, nullable, readonly, catch, pipe) to the real type. */
function unwrap(schema: AnySchema): AnySchema {
  let current = schema;
  for (;;) {
    const def = current._zod.def as { type: string; innerType?: AnySchema; out?: AnySchema };
    if (def.innerType !== undefined) current = def.innerType;
    else if (def.type === "pipe" && def.out !== undefined) current = def.out;
    else return current;
  }
}

/** The keys an object in `schema` accepts at `path` (array indexes and record keys are stepped through). */
export function keysAt(schema: AnySchema, path: readonly PathSegment[]): string[] | undefined {
  let current = unwrap(schema);
  for (const segment of path) {
    const def = current._zod.def as {
      type: string;
      shape?: Record<string, AnySchema>;
      element?: AnySchema;
      valueType?: AnySchema;
    };
    let next: AnySchema | undefined;
    if (def.type === "object") next = def.shape?.[String(segment)];
    else if (def.type === "array") next = def.element;
    else if (def.type === "record") next = def.valueType;
    if (next === undefined) return undefined;
    current = unwrap(next);
  }
  const def = current._zod.def as { type: string; shape?: Record<string, AnySchema> };
  return def.type === "object" && def.shape !== undefined ? Object.keys(def.shape) : undefined;
}
