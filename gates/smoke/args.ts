/**
 * Every docker argv the smoke gate runs, built from plain data (unit-tested, and listed in
 * docs/gates/runtime.md for the e2e suite).
 *
 * Check runs (`version`, `paths`, `imports`) share {@link checkRunPrefix}: `--rm`, `--pull never` (the
 * gate has already made sure the exact image is here: `ensureImage` pulls a digest-pinned one), a name and label (so a run that
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

export const PATHS_DONE = "SLIPWAY-PATHS-DONE";
export const PATH_MISSING = "SLIPWAY-MISSING ";
/** Prefixes each line the version command printed (stdout and stderr, in order). */
export const VERSION_LINE = "SLIPWAY-VERSION ";
/** `SLIPWAY-VERSION-EXIT <code>`: the version command's own exit code, once it has finished. */
export const VERSION_EXIT = "SLIPWAY-VERSION-EXIT ";
export const IMPORT_MARK = "SLIPWAY-IMPORT ";
export const NO_PYTHON = "SLIPWAY-NO-PYTHON";
/** `SLIPWAY-IMPORTS-EXIT <code>`: the import interpreter's exit code (127 without python). */
export const IMPORTS_EXIT = "SLIPWAY-IMPORTS-EXIT ";

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

/** Printed by the check script when `wkhtmltopdf` is not on the image's PATH. */
export const WKHTMLTOPDF_MISSING = "SLIPWAY-WKHTMLTOPDF-MISSING";
/** Prefixes each line `python3 -m pip check` printed. */
export const PIP_LINE = "SLIPWAY-PIP ";
export const PIP_EXIT = "SLIPWAY-PIP-EXIT ";
/** Prefixes each line `wkhtmltopdf --version` printed. */
export const WKHTMLTOPDF_LINE = "SLIPWAY-WKHTMLTOPDF ";
export const WKHTMLTOPDF_EXIT = "SLIPWAY-WKHTMLTOPDF-EXIT ";

/** pip check with the image's python3 (else python); no python at all: {@link NO_PYTHON}, 127. */
export const PIP_CHECK_SH = `if p=$(command -v python3 || command -v python); then exec "$p" -m pip check; fi; echo ${NO_PYTHON}; exit 127`;
/** `wkhtmltopdf --version`, or {@link WKHTMLTOPDF_MISSING} (127) when it is not on the image's PATH. */
export const WKHTMLTOPDF_SH = `command -v wkhtmltopdf >/dev/null 2>&1 || { echo ${WKHTMLTOPDF_MISSING}; exit 127; }; exec wkhtmltopdf --version`;

/** What the one check container checks; a part that is not asked for is left out of the script. */
export interface ChecksSpec {
  versionCmd?: string;
  paths: readonly string[];
  imports: readonly string[];
  /** `python3 -m pip check` (PIP_DEPENDENCY_CONFLICT). */
  pipCheck?: boolean;
  /** `wkhtmltopdf --version` (WKHTMLTOPDF_MISMATCH). */
  wkhtmltopdf?: boolean;
}

/** True when the spec asks for anything the check container must run. */
export function needsChecksRun(spec: ChecksSpec): boolean {
  return (
    spec.versionCmd !== undefined ||
    spec.paths.length > 0 ||
    spec.imports.length > 0 ||
    spec.pipCheck === true ||
    spec.wkhtmltopdf === true
  );
}

/**
 * A command run in the background by `sh -c WORD` (WORD a shell word: `"$v"` or a single-quoted
 * constant), each line it prints (stdout and stderr, in order) prefixed with `line`, then `exit` and
 * its own exit code (read through fd 3, so that the code is the command's, not the prefixing loop's:
 * POSIX sh has no pipefail).
 */
function prefixedRun(word: string, line: string, exit: string): string[] {
  return [
    "(",
    "  exec 4>&1",
    `  c=$( { { sh -c ${word} 2>&1 3>&- 4>&-; echo $? >&3; } |`,
    `    while IFS= read -r l || [ -n "$l" ]; do printf '${line}%s\\n' "$l"; done >&4 3>&-; } 3>&1 )`,
    `  echo "${exit}$c"`,
    ") &",
  ];
}

/**
 * The script of the one check container, for `sh -c SCRIPT slipway-smoke ARGS...`. Every value (the
 * version command, the Python code, the paths, the modules) is an argument, never spliced into the
 * script: no quoting issue. Arguments, in order, each only when its check is asked: the version command,
 * {@link IMPORTS_PY}, the number of paths followed by the paths, the modules.
 *
 * 1. paths: `[ -e ]` on each (shell builtins, instant), one `SLIPWAY-MISSING` line per missing path,
 *    then `SLIPWAY-PATHS-DONE`;
 * 2. the version command, in the background (`sh -c CMD 2>&1`, exactly as it ran alone): each line it
 *    prints prefixed `SLIPWAY-VERSION `, then `SLIPWAY-VERSION-EXIT <its exit code>` (read through fd 3,
 *    so that the code is the command's, not the prefixing loop's: POSIX sh has no pipefail);
 * 3. meanwhile the imports: python3 (else python) runs {@link IMPORTS_PY}, then
 *    `SLIPWAY-IMPORTS-EXIT <code>`; no python at all prints `SLIPWAY-NO-PYTHON`, code 127;
 * 4. `wait` for the version command.
 *
 * The version command and the imports run side by side so that one that hangs does not keep the other
 * from reporting: when the container is stopped at its timeout, whatever finished has printed its end
 * line, and only the check without one counts as not finished (as when each had its own container).
 */
export function checksScript(spec: ChecksSpec): string {
  const version = spec.versionCmd !== undefined;
  const imports = spec.imports.length > 0;
  const paths = spec.paths.length > 0;
  return [
    ...(version ? ["v=$1; shift"] : []),
    ...(imports ? ["py=$1; shift"] : []),
    ...(paths
      ? [
          "n=$1; shift; i=0",
          'for p in "$@"; do',
          '  [ "$i" -lt "$n" ] || break; i=$((i + 1))',
          `  [ -e "$p" ] || printf '${PATH_MISSING}%s\\n' "$p"`,
          "done",
          `echo ${PATHS_DONE}`,
          'shift "$n"',
        ]
      : []),
    ...(version ? prefixedRun('"$v"', VERSION_LINE, VERSION_EXIT) : []),
    ...(spec.pipCheck === true ? prefixedRun(`'${PIP_CHECK_SH}'`, PIP_LINE, PIP_EXIT) : []),
    ...(spec.wkhtmltopdf === true
      ? prefixedRun(`'${WKHTMLTOPDF_SH}'`, WKHTMLTOPDF_LINE, WKHTMLTOPDF_EXIT)
      : []),
    ...(imports
      ? [
          "if p=$(command -v python3 || command -v python); then",
          '  "$p" -c "$py" "$@"; c=$?',
          `else echo ${NO_PYTHON}; c=127; fi`,
          `echo "${IMPORTS_EXIT}$c"`,
        ]
      : []),
    "wait",
  ].join("\n");
}

/** The arguments after `sh -c SCRIPT`: `$0` then the values, in the order {@link checksScript} reads them. */
export function checksScriptArgs(spec: ChecksSpec): string[] {
  return [
    "slipway-smoke",
    ...(spec.versionCmd !== undefined ? [spec.versionCmd] : []),
    ...(spec.imports.length > 0 ? [IMPORTS_PY] : []),
    ...(spec.paths.length > 0 ? [String(spec.paths.length), ...spec.paths] : []),
    ...spec.imports,
  ];
}

/** The one check container: version, paths and imports in a single `docker run`. */
export function checksArgs(image: string, name: string, spec: ChecksSpec): string[] {
  return [...checkRunPrefix(image, name), "-c", checksScript(spec), ...checksScriptArgs(spec)];
}

/**
 * The boot: detached, the image's own ENTRYPOINT/CMD, the app port published on a random loopback port
 * (`127.0.0.1::PORT`: nothing is exposed beyond this machine, and two runs never collide). Not `--rm`:
 * when it dies, its exit code and logs are read before the gate removes it.
 */
export function bootArgs(
  image: string,
  name: string,
  port: number,
  attach?: BootAttachment,
): string[] {
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
    ...(attach === undefined
      ? []
      : [
          "--network",
          attach.network,
          ...attach.env.flatMap(([k, v]) => ["-e", `${k}=${v}`]),
          ...attach.envNames.flatMap((n) => ["-e", n]),
        ]),
    image,
  ];
}

/**
 * The boot's services (smoke.services): the run's network, the services' addresses as `-e K=V`, and
 * the generated credentials by name only (`-e NAME`: the value is in the docker CLI's environment).
 */
export interface BootAttachment {
  network: string;
  env: ReadonlyArray<readonly [string, string]>;
  envNames: readonly string[];
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
