import { UsageError } from "../result";
import { clip, stripAnsi } from "../testing/text";
import { CheckResult, fail } from "./checks";

/**
 * What the boot's own logs say, read once the boot is over (answered, timed out or exited):
 *
 * - MODULE_LOAD_ERROR: an addon/module failed to load. An Odoo server keeps running and answers
 *   /web/health without the module, so health alone cannot see it. The default patterns are Odoo 16's
 *   own log lines (odoo/modules/module.py, loading.py, graph.py at branch 16.0):
 *   `CRITICAL ? odoo.modules.module: Couldn't load module slipway_broken`,
 *   `ERROR ? odoo.modules.loading: Some modules are not loaded, some dependencies or manifest may be
 *   missing: ['a', 'b']`, `... Some modules have inconsistent states, some dependencies may be missing:
 *   [...]`, `WARNING ? odoo.modules.graph: module x: not installable, skipped`. A pattern names the
 *   module with the named group `module` (a `['a', 'b']` list is split into names).
 * - DATABASE_CONNECTION_ERROR: the app could not reach or log in to its database. The defaults are
 *   libpq's messages as psycopg2 raises them (measured with Debian's python3-psycopg2 2.9.5 on libpq 15,
 *   tests/fixtures/psycopg2; libpq <= 13 said `could not connect to server`) and Odoo's
 *   `odoo.sql_db: Connection to the database failed`.
 *
 * Patterns are configurable (`--module-error-pattern`, `--db-error-pattern`, each repeatable; given
 * ones replace the defaults).
 */

export const DEFAULT_MODULE_ERROR_PATTERNS: readonly string[] = [
  String.raw`Couldn't load module (?<module>[\w.]+)`,
  String.raw`Some modules are not loaded, some dependencies or manifest may be missing: \[(?<module>[^\]]*)\]`,
  String.raw`Some modules have inconsistent states, some dependencies may be missing: \[(?<module>[^\]]*)\]`,
  String.raw`module (?<module>[\w.]+): not installable, skipped`,
];

export const DEFAULT_DB_ERROR_PATTERNS: readonly string[] = [
  String.raw`connection to server (?:at|on) .* failed`,
  String.raw`could not connect to server`,
  String.raw`password authentication failed for user`,
  String.raw`could not translate host name .* to address`,
  String.raw`no pg_hba\.conf entry for host`,
  String.raw`FATAL: +(?:database|role) "[^"]+" does not exist`,
  String.raw`Connection to the database failed`,
];

/** A `--module-error-pattern`: a valid regex with a named group `module`. */
export function compileModulePattern(source: string): RegExp {
  const re = compilePattern("--module-error-pattern", source);
  if (!source.includes("(?<module>")) {
    throw new UsageError(
      `--module-error-pattern needs a named group (?<module>...) naming the module, got "${source}"`,
    );
  }
  return re;
}

export function compilePattern(flag: string, source: string): RegExp {
  try {
    return new RegExp(source);
  } catch (err) {
    throw new UsageError(`${flag}: not a valid regular expression: ${(err as Error).message}`);
  }
}

export interface LogPatterns {
  module: readonly RegExp[];
  database: readonly RegExp[];
}

export function defaultLogPatterns(): LogPatterns {
  return {
    module: DEFAULT_MODULE_ERROR_PATTERNS.map((p) => new RegExp(p)),
    database: DEFAULT_DB_ERROR_PATTERNS.map((p) => new RegExp(p)),
  };
}

export interface ModuleError {
  module: string;
  /** The app's own log line. */
  line: string;
}

function logLines(logs: string): string[] {
  return stripAnsi(logs)
    .split("\n")
    .map((l) => l.trimEnd())
    .filter((l) => l !== "");
}

/** A log line without its leading timestamp (`2026-12-03 20:50:12,624 `, `[2024-05-02 10:14:07 +0000] `). */
function message(line: string): string {
  return line.replace(/^\[?\d{4}-\d\d-\d\d[ T][\d:.,]+(?: ?[+-]\d{4}|Z)?\]?\s*/, "");
}

/** The lines whose message (timestamp aside) was not seen before: an app retrying logs the same error. */
export function distinctMessages(lines: readonly string[]): string[] {
  const seen = new Set<string>();
  return lines.filter((l) => {
    const m = message(l);
    if (seen.has(m)) return false;
    seen.add(m);
    return true;
  });
}

/** The named modules (`slipway_x`, or each of a `['a', 'b']` list), once each, in log order. */
export function findModuleErrors(logs: string, patterns: readonly RegExp[]): ModuleError[] {
  const found: ModuleError[] = [];
  for (const line of logLines(logs)) {
    for (const pattern of patterns) {
      const named = pattern.exec(line)?.groups?.module;
      if (named === undefined) continue;
      for (const module of named.split(",").map((m) => m.trim().replace(/^['"]|['"]$/g, ""))) {
        if (module !== "" && !found.some((f) => f.module === module)) found.push({ module, line });
      }
      break;
    }
  }
  return found;
}

/**
 * The log lines that say the database could not be reached or refused the login, in log order. The
 * patterns are in order of precedence: the code's headline is the line of the first one that matched.
 */
export function findDatabaseErrors(logs: string, patterns: readonly RegExp[]): string[] {
  return logLines(logs).filter((line) => patterns.some((p) => p.test(line)));
}

/**
 * The boot's verdict once its logs are read: a database error in them decides (the most specific
 * cause: an app without its database may crash, never answer, or answer without it), then a module
 * that failed to load (the app may well have answered 200), else the boot's own verdict.
 */
export function judgeBootLogs(
  result: CheckResult,
  logs: string,
  patterns: LogPatterns,
): CheckResult {
  const database = findDatabaseErrors(logs, patterns.database);
  const modules = findModuleErrors(logs, patterns.module);
  const then = `the boot itself: ${result.ok ? "ok, " : `${result.code ?? "FAIL"}, `}${result.summary}`;
  // The boot's own details without its log tail: the lines that matter are quoted above it.
  const cut = result.details.indexOf("last log lines:");
  const own = cut === -1 ? result.details : result.details.slice(0, cut);
  const distinct = distinctMessages(database);
  if (database.length > 0) {
    // The line of the first pattern that matched (patterns in order of precedence: the driver's own
    // message before the app's generic "Connection to the database failed").
    const headline =
      patterns.database.map((p) => database.find((l) => p.test(l))).find((l) => l !== undefined) ??
      database[0] ??
      "";
    return fail(
      "boot",
      "DATABASE_CONNECTION_ERROR",
      `the app could not use its database: ${clip(headline, 200)}`,
      {
        details: [
          ...distinct.slice(0, 10).map((l) => `| ${l}`),
          ...(database.length > distinct.length
            ? [`(${database.length} such lines in all, repeats left out)`]
            : []),
          "check: the database service runs and is reachable from the app's network (POSTGRES_HOST, POSTGRES_PORT), the credentials (POSTGRES_USER, POSTGRES_PASSWORD), and that the database exists",
          then,
          ...own,
        ],
        findings: distinct.slice(0, 10).map((line) => ({ line })),
        figures: result.figures,
      },
    );
  }
  if (modules.length > 0) {
    return fail(
      "boot",
      "MODULE_LOAD_ERROR",
      `module${modules.length === 1 ? "" : "s"} failed to load: ${modules.map((m) => m.module).join(", ")}`,
      {
        details: [...new Set(modules.map((m) => m.line))].map((l) => `| ${l}`).concat([then]),
        findings: modules.map((m) => ({ module: m.module, line: m.line })),
        figures: result.figures,
      },
    );
  }
  return result;
}
