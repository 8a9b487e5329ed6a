import type { ErrorCode } from "../codes";
import type { Finding } from "../result";
import { formatSize, parseSize } from "../size";
import { findImportErrors, describeImportProblem } from "../testing/pythonErrors";
import { clip, tailLines } from "../testing/text";
import { IMPORT_MARK, NO_PYTHON, PATH_MISSING, PATHS_DONE } from "./args";

/**
 * The smoke gate's checks as pure functions over what docker printed. Each returns a `CheckResult`;
 * the gate runs them all and the first failing one, in the fixed order size, version, paths, imports,
 * user, boot, decides the code.
 */

export interface CheckResult {
  check:
    "size" | "version" | "paths" | "imports" | "user" | "boot" | "pip" | "wkhtmltopdf" | "bandit";
  ok: boolean;
  /** Set when not ok; on an ok result, a warning (the check could not run: e.g. no pip in the image). */
  code?: ErrorCode;
  summary: string;
  details: string[];
  findings: Finding[];
  figures: Record<string, string | number | boolean>;
}

/** What a finished `docker run` of a check left: enough for the pure checks. */
export interface RunOutput {
  exitCode: number | null;
  timedOut: boolean;
  output: string;
}

export function ok(
  check: CheckResult["check"],
  summary: string,
  extras: Partial<Pick<CheckResult, "details" | "findings" | "figures">> = {},
): CheckResult {
  return { check, ok: true, summary, details: [], findings: [], figures: {}, ...extras };
}

/** A check that lets the release through with something to read (a `warn` verdict). */
export function warning(
  check: CheckResult["check"],
  code: ErrorCode,
  summary: string,
  extras: Partial<Pick<CheckResult, "details" | "findings" | "figures">> = {},
): CheckResult {
  return { check, ok: true, code, summary, details: [], findings: [], figures: {}, ...extras };
}

export function fail(
  check: CheckResult["check"],
  code: ErrorCode,
  summary: string,
  extras: Partial<Pick<CheckResult, "details" | "findings" | "figures">> = {},
): CheckResult {
  return { check, ok: false, code, summary, details: [], findings: [], figures: {}, ...extras };
}

function tail(output: string, lines = 15): string[] {
  return tailLines(output, lines).map((l) => `| ${l}`);
}

// ---------------------------------------------------------------------------------------------------
// docker image inspect

export interface ImageFacts {
  id: string;
  sizeBytes: number;
  /** Config.User as written in the image ("" when unset). */
  user: string;
  repoDigests: string[];
}

/** Reads `docker image inspect` output (a JSON array of one image). Throws on anything else. */
export function parseInspect(stdout: string): ImageFacts {
  const doc: unknown = JSON.parse(stdout);
  const image = Array.isArray(doc) ? (doc[0] as Record<string, unknown> | undefined) : undefined;
  if (image === undefined || typeof image !== "object" || image === null) {
    throw new Error("docker image inspect printed no image");
  }
  const config = (image.Config ?? {}) as Record<string, unknown>;
  const size = image.Size;
  if (typeof size !== "number") {
    throw new Error("docker image inspect gave no Size");
  }
  return {
    id: typeof image.Id === "string" ? image.Id : "",
    sizeBytes: size,
    user: typeof config.User === "string" ? config.User : "",
    repoDigests: Array.isArray(image.RepoDigests) ? image.RepoDigests.map(String) : [],
  };
}

// ---------------------------------------------------------------------------------------------------
// size

export interface Layer {
  id: string;
  sizeBytes: number;
  createdBy: string;
  /** The layer's comment (`Imported from -` for a `docker import` base). */
  comment: string;
}

/** Reads `docker history --no-trunc --human=false --format '{{json .}}'`: one JSON object a line. */
export function parseHistory(stdout: string): Layer[] {
  const layers: Layer[] = [];
  for (const line of stdout.split("\n")) {
    if (line.trim() === "") continue;
    try {
      const row = JSON.parse(line) as Record<string, unknown>;
      const size = typeof row.Size === "number" ? row.Size : parseSize(String(row.Size ?? "0"));
      layers.push({
        id: String(row.ID ?? ""),
        sizeBytes: size,
        createdBy: String(row.CreatedBy ?? "")
          .replace(/\s+/g, " ")
          .trim(),
        comment: String(row.Comment ?? "").trim(),
      });
    } catch {
      // A line we cannot read is skipped: the layer list is an aid, the size verdict stands without it.
    }
  }
  return layers;
}

/**
 * The Dockerfile instruction behind a layer's CreatedBy, as the legacy builder
 * (`/bin/sh -c #(nop)  COPY ...`, `|2 A=b /bin/sh -c pip ...`) and BuildKit (`RUN /bin/sh -c pip ... #
 * buildkit`) record it: `COPY ...`, `RUN pip ...`.
 */
export function instructionOf(createdBy: string): string {
  return createdBy
    .replace(/\s*# buildkit$/, "")
    .replace(/^\/bin\/sh -c #\(nop\)\s*/, "")
    .replace(/^(?:RUN )?(?:\|\d+ (?:\S+=\S* )*)?\/bin\/sh -c /, "RUN ");
}

/** What made a layer: its instruction, else its comment (a `docker import` base has only that). */
export function describeLayer(layer: Layer): string {
  const instruction = instructionOf(layer.createdBy);
  if (instruction !== "") return instruction;
  return layer.comment === "" ? "(no instruction recorded)" : `(${layer.comment})`;
}

/**
 * The size verdict. The largest layers (when the history could be read) are findings either way, for
 * the release report; a blocking result also lists them in its details, by instruction.
 */
export function checkSize(
  sizeBytes: number,
  maxBytes: number,
  maxText: string,
  layers: Layer[] = [],
  top = 5,
): CheckResult {
  const figures = { sizeBytes, maxSizeBytes: maxBytes };
  const largest = [...layers].sort((a, b) => b.sizeBytes - a.sizeBytes).slice(0, top);
  const findings = largest.map((l) => ({
    layer: l.id,
    sizeBytes: l.sizeBytes,
    createdBy: clip(l.createdBy, 300),
  }));
  if (sizeBytes <= maxBytes) {
    return ok("size", `size ${formatSize(sizeBytes)} within ${maxText}`, { figures, findings });
  }
  return fail(
    "size",
    "IMAGE_SIZE_EXCEEDED",
    `image is ${formatSize(sizeBytes)} (${sizeBytes} bytes), over the ${maxText} budget (${maxBytes} bytes) by ${formatSize(sizeBytes - maxBytes)}`,
    {
      figures,
      details:
        largest.length === 0
          ? ["(the layer history could not be read)"]
          : [
              `largest layers:`,
              ...largest.map(
                (l) => `${formatSize(l.sizeBytes).padStart(9)}  ${clip(describeLayer(l), 140)}`,
              ),
            ],
      findings,
    },
  );
}

// ---------------------------------------------------------------------------------------------------
// user

/**
 * Whether an image's Config.User means root: unset, `root`, or uid `0`, whatever the group
 * (`0:0`, `root:staff`). A named user is trusted to be non-root (its uid lives in the image's
 * /etc/passwd, which this check does not read).
 */
export function isRootUser(user: string): boolean {
  const name = (user.split(":")[0] ?? "").trim();
  return name === "" || name === "root" || name === "0";
}

export function checkUser(user: string): CheckResult {
  const shown = user === "" ? "root (no USER in the image)" : user;
  if (isRootUser(user)) {
    return fail("user", "RUNS_AS_ROOT", `the image runs as ${shown}`, {
      figures: { user: user === "" ? "root" : user },
      details: [
        "add `USER <name>` (a non-root user created in the stage) at the end of the runtime stage.",
      ],
    });
  }
  return ok("user", `runs as ${user}`, { figures: { user } });
}

// ---------------------------------------------------------------------------------------------------
// version

export function checkVersion(cmd: string, expect: string | undefined, run: RunOutput): CheckResult {
  const printed = tailLines(run.output, 200).join("\n").trim();
  const firstLine = clip(printed.split("\n")[0] ?? "", 200);
  const figures = { version: firstLine };
  if (run.timedOut) {
    return fail("version", "ENTRYPOINT_ERROR", `\`${cmd}\` did not finish in time`, { figures });
  }
  if (run.exitCode === 125) {
    return fail(
      "version",
      "CONTAINER_START_FAILURE",
      `docker could not start the image to run \`${cmd}\``,
      {
        details: tail(run.output),
      },
    );
  }
  if (run.exitCode !== 0) {
    return fail("version", "ENTRYPOINT_ERROR", `\`${cmd}\` exited ${run.exitCode ?? "?"}`, {
      figures,
      details: tail(run.output),
    });
  }
  if (expect !== undefined && !run.output.includes(expect)) {
    return fail(
      "version",
      "ENTRYPOINT_ERROR",
      `\`${cmd}\` printed "${firstLine}", expected it to contain "${expect}"`,
      { figures, details: tail(run.output) },
    );
  }
  return ok("version", `\`${cmd}\` printed "${firstLine}"`, { figures });
}

// ---------------------------------------------------------------------------------------------------
// paths

export function checkPaths(paths: readonly string[], run: RunOutput): CheckResult {
  if (!run.output.includes(PATHS_DONE)) {
    return fail(
      "paths",
      "CONTAINER_START_FAILURE",
      "could not check paths: `sh` did not run in the image",
      {
        details: [`docker run exited ${run.exitCode ?? "(killed)"}`, ...tail(run.output)],
      },
    );
  }
  const missing = run.output
    .split("\n")
    .filter((l) => l.startsWith(PATH_MISSING))
    .map((l) => l.slice(PATH_MISSING.length).trim());
  if (missing.length > 0) {
    return fail("paths", "MISSING_ADDONS", `missing from the image: ${missing.join(", ")}`, {
      findings: missing.map((path) => ({ path, present: false })),
      figures: { pathsMissing: missing.length },
    });
  }
  return ok(
    "paths",
    `${paths.length} path${paths.length === 1 ? "" : "s"} present (${paths.join(", ")})`,
    {
      figures: { pathsMissing: 0 },
    },
  );
}

// ---------------------------------------------------------------------------------------------------
// imports

interface ImportLine {
  module: string;
  ok: boolean;
  error?: string;
  missing?: string | null;
}

/** The code for a failed import: `anthropic` (or a submodule) has its own. */
export function importCode(module: string): ErrorCode {
  return module === "anthropic" || module.startsWith("anthropic.")
    ? "ANTHROPIC_SDK_MISSING"
    : "IMPORT_ERROR";
}

export function checkImports(modules: readonly string[], run: RunOutput): CheckResult {
  if (run.output.includes(NO_PYTHON)) {
    const first = modules[0] ?? "";
    return fail(
      "imports",
      importCode(first),
      "no python3 or python on the image's PATH: nothing can be imported",
      {
        findings: modules.map((module) => ({ module, ok: false, error: "no python" })),
      },
    );
  }
  if (run.exitCode === 125) {
    return fail(
      "imports",
      "CONTAINER_START_FAILURE",
      "docker could not start the image to check imports",
      {
        details: tail(run.output),
      },
    );
  }
  const results = new Map<string, ImportLine>();
  for (const line of run.output.split("\n")) {
    if (!line.startsWith(IMPORT_MARK)) continue;
    try {
      const r = JSON.parse(line.slice(IMPORT_MARK.length)) as ImportLine;
      results.set(r.module, r);
    } catch {
      // A garbled line: the module then counts as not reported, below.
    }
  }
  const failures: Array<{ module: string; error: string }> = [];
  let reached = true;
  for (const module of modules) {
    const r = results.get(module);
    if (r === undefined) {
      // The interpreter died (os._exit, a crash in a C extension) on the first module not reported.
      failures.push({
        module,
        error: reached
          ? `the import run ended here (exit ${run.exitCode ?? "killed"}): ${findImportErrors(run.output)[0]?.line ?? "no report"}`
          : "not reached",
      });
      reached = false;
    } else if (!r.ok) {
      const missing =
        typeof r.missing === "string" && !(r.error ?? "").includes(`'${r.missing}'`)
          ? ` (missing: ${r.missing})`
          : "";
      failures.push({ module, error: `${r.error ?? "import failed"}${missing}` });
    }
  }
  const findings = modules.map((module) => {
    const f = failures.find((x) => x.module === module);
    return f === undefined
      ? { module, ok: true }
      : { module, ok: false, error: clip(f.error, 300) };
  });
  const first = failures[0];
  if (first !== undefined) {
    const names = failures.map((f) => f.module).join(", ");
    return fail(
      "imports",
      importCode(first.module),
      `cannot import ${failures.length === 1 ? `module '${first.module}'` : `modules ${names}`}: ${clip(first.error, 200)}`,
      {
        findings,
        details: failures.map((f) => `${f.module}: ${clip(f.error, 240)}`),
        figures: { importsFailed: failures.length },
      },
    );
  }
  return ok(
    "imports",
    `${modules.length} module${modules.length === 1 ? "" : "s"} import (${modules.join(", ")})`,
    {
      findings,
      figures: { importsFailed: 0 },
    },
  );
}

// ---------------------------------------------------------------------------------------------------
// boot

export interface ContainerState {
  running: boolean;
  status: string;
  exitCode: number;
  oomKilled: boolean;
  error: string;
}

/** Reads `docker inspect --format '{{json .State}}'`. */
export function parseState(stdout: string): ContainerState {
  const s = JSON.parse(stdout) as Record<string, unknown>;
  return {
    running: s.Running === true,
    status: typeof s.Status === "string" ? s.Status : "unknown",
    exitCode: typeof s.ExitCode === "number" ? s.ExitCode : -1,
    oomKilled: s.OOMKilled === true,
    error: typeof s.Error === "string" ? s.Error : "",
  };
}

/** The host port from `docker port NAME PORT/tcp` (`127.0.0.1:49153`). */
export function parseHostPort(stdout: string): number | undefined {
  for (const line of stdout.split("\n")) {
    const match = /:(\d+)\s*$/.exec(line.trim());
    if (match !== null) {
      return Number(match[1]);
    }
  }
  return undefined;
}

/**
 * The verdict for a container that stopped during boot: its exit code, why (the import error in its
 * logs, by name, when there is one: the FastAPI report's `No module named 'opentelemetry.exporter'`),
 * and the last log lines.
 */
export function bootExited(state: ContainerState, logs: string, answered: boolean): CheckResult {
  const imports = findImportErrors(logs);
  const why =
    imports[0] !== undefined
      ? `: ${imports[0].line}`
      : state.oomKilled
        ? ": killed for lack of memory (OOMKilled)"
        : state.error !== ""
          ? `: ${state.error}`
          : "";
  const when = answered ? "right after answering its health check" : "during boot";
  const details = [
    ...(imports.length > 0
      ? [`cannot import ${imports.map(describeImportProblem).join(", ")}`]
      : []),
    ...(/psycopg2\.OperationalError|could not connect to server|Connection refused.*5432/.test(logs)
      ? ["the logs also show a database connection error (check POSTGRES_*/DATABASE_URL)"]
      : []),
    "last log lines:",
    ...tail(logs, 30),
  ];
  return fail(
    "boot",
    "CONTAINER_START_FAILURE",
    `the container exited with code ${state.exitCode} ${when}${why}`,
    {
      details,
      figures: { bootExitCode: state.exitCode },
      findings: imports.map((p) => ({ module: p.module ?? "", line: p.line })),
    },
  );
}
