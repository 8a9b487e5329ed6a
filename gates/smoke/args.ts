/**
 * Every docker argv the smoke gate runs, built from plain data (unit-tested, and listed in
 * docs/gates/runtime.md for the e2e suite).
 *
 * Check runs (`version`, `paths`, `imports`) share {@link checkRunPrefix}: `--rm`, `--pull never` (smoke
 * checks the exact image built on this engine, it never fetches one), a name and label (so a run that
 * times out can be removed: killing the CLI does not stop its container), `--network none` (a check
 * needs no network, and must not reach out), and `--entrypoint sh` so the check runs under the image's USER,
 * WORKDIR and ENV but not through its ENTRYPOINT script (which may start the server). The image therefore
 * needs `sh` (every Python base has it). The boot run, on the contrary, uses the image's own ENTRYPOINT
 * and CMD: it is the real start.
 */

export function inspectArgs(image: string): string[] {
  return ["image", "inspect", image];
}

/** `--human=false`: sizes in bytes, not `185MB`. */
export function historyArgs(image: string): string[] {
  return ["history", "--no-trunc", "--human=false", "--format", "{{json .}}", image];
}

export function checkRunPrefix(image: string, name: string): string[] {
  return [
    "run",
    "--rm",
    "--pull",
    "never",
    "--name",
    name,
    "--label",
    "slipway.gate=smoke",
    "--network",
    "none",
    "--entrypoint",
    "sh",
    image,
  ];
}

/** The version command, a shell command line run with `sh -c`. */
export function versionArgs(image: string, name: string, cmd: string): string[] {
  return [...checkRunPrefix(image, name), "-c", cmd];
}

export const PATHS_DONE = "SLIPWAY-PATHS-DONE";
export const PATH_MISSING = "SLIPWAY-MISSING ";

/** Paths are passed as arguments (`"$@"`), never spliced into the script: no quoting issue. */
const PATHS_SCRIPT = `for p in "$@"; do [ -e "$p" ] || printf '${PATH_MISSING}%s\\n' "$p"; done; echo ${PATHS_DONE}`;

export function pathsArgs(image: string, name: string, paths: readonly string[]): string[] {
  return [...checkRunPrefix(image, name), "-c", PATHS_SCRIPT, "slipway-paths", ...paths];
}

export const IMPORT_MARK = "SLIPWAY-IMPORT ";
export const NO_PYTHON = "SLIPWAY-NO-PYTHON";

/**
 * Tries every module in one interpreter, reporting each as a JSON line (so one failure does not hide
 * the next). `BaseException`: a module calling `sys.exit()` on import is a failure too.
 */
export const IMPORTS_PY = [
  "import importlib, json, sys",
  "for name in sys.argv[1:]:",
  "    try:",
  "        importlib.import_module(name)",
  '        r = {"module": name, "ok": True}',
  "    except BaseException as e:",
  '        r = {"module": name, "ok": False, "error": type(e).__name__ + ": " + str(e),',
  '             "missing": getattr(e, "name", None)}',
  `    sys.stdout.write(${JSON.stringify(IMPORT_MARK)} + json.dumps(r) + "\\n")`,
  "    sys.stdout.flush()",
].join("\n");

/** Finds python3 (or python) on the image's PATH and runs {@link IMPORTS_PY} (passed as `$0`). */
const IMPORTS_SH = `p=$(command -v python3 || command -v python) || { echo ${NO_PYTHON}; exit 127; }; exec "$p" -c "$0" "$@"`;

export function importsArgs(image: string, name: string, modules: readonly string[]): string[] {
  return [...checkRunPrefix(image, name), "-c", IMPORTS_SH, IMPORTS_PY, ...modules];
}

/**
 * The boot: detached, the image's own ENTRYPOINT/CMD, the app port published on a random loopback port
 * (`127.0.0.1::PORT`: nothing is exposed beyond this machine, and two runs never collide). Not `--rm`:
 * when it dies, its exit code and logs are read before the gate removes it.
 */
export function bootArgs(image: string, name: string, port: number): string[] {
  return [
    "run",
    "-d",
    "--pull",
    "never",
    "--name",
    name,
    "--label",
    "slipway.gate=smoke",
    "-p",
    `127.0.0.1::${port}`,
    image,
  ];
}

export function portArgs(name: string, port: number): string[] {
  return ["port", name, `${port}/tcp`];
}

export function stateArgs(name: string): string[] {
  return ["inspect", "--format", "{{json .State}}", name];
}

export function logsArgs(name: string, lines: number): string[] {
  return ["logs", "--tail", String(lines), name];
}

export function removeArgs(name: string): string[] {
  return ["rm", "-f", name];
}
