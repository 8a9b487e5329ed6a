import {
  ChecksSpec,
  IMPORT_MARK,
  IMPORTS_EXIT,
  NO_PYTHON,
  PATH_MISSING,
  PATHS_DONE,
  PIP_EXIT,
  PIP_LINE,
  VERSION_EXIT,
  VERSION_LINE,
  WKHTMLTOPDF_EXIT,
  WKHTMLTOPDF_LINE,
} from "./args";
import type { RunOutput } from "./checks";

/**
 * Splits what the one check container printed (see `checksScript` in ./args.ts) back into one
 * `RunOutput` per check, shaped as that check's own `docker run` used to leave it, so that
 * `checkVersion`, `checkPaths` and `checkImports` judge it unchanged:
 *
 * - version: the lines after `SLIPWAY-VERSION `, and the code of `SLIPWAY-VERSION-EXIT`; pip check
 *   and wkhtmltopdf alike (`SLIPWAY-PIP `, `SLIPWAY-WKHTMLTOPDF `);
 * - paths: the `SLIPWAY-MISSING` lines and `SLIPWAY-PATHS-DONE` (checkPaths only trusts a run that
 *   reached it), exit 0;
 * - imports: every other line (the `SLIPWAY-IMPORT` JSON lines, `SLIPWAY-NO-PYTHON`, what the imported
 *   modules or a crash printed), and the code of `SLIPWAY-IMPORTS-EXIT`.
 *
 * A check whose end line never came (the container was stopped at its timeout, killed, or never ran the
 * script) gets the container's own exit code and `timedOut`; when the script printed nothing at all
 * (docker could not start the image: exit 125, no `sh`: 127), each such check also gets what docker said.
 */

export interface SplitChecks {
  version?: RunOutput;
  paths?: RunOutput;
  imports?: RunOutput;
  pip?: RunOutput;
  wkhtmltopdf?: RunOutput;
}

/** Every line the script writes on its own starts with one of these. */
const MARKERS = [
  VERSION_EXIT,
  VERSION_LINE,
  PIP_EXIT,
  PIP_LINE,
  WKHTMLTOPDF_EXIT,
  WKHTMLTOPDF_LINE,
  PATH_MISSING,
  PATHS_DONE,
  IMPORTS_EXIT,
  IMPORT_MARK,
  NO_PYTHON,
];

function startsWithMarker(line: string): boolean {
  return MARKERS.some((m) => line.startsWith(m));
}

/**
 * The output's lines, a line that holds a marker after other text cut in two before the marker: a
 * module (or the version command) that printed without a final newline leaves its text in front of the
 * next line written to the same stream.
 */
export function scriptLines(output: string): string[] {
  const lines = output.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines.flatMap((line) => {
    if (startsWithMarker(line)) return [line];
    const at = Math.min(
      ...MARKERS.map((m) => line.indexOf(m)).filter((i) => i > 0),
      Number.POSITIVE_INFINITY,
    );
    return at === Number.POSITIVE_INFINITY ? [line] : [line.slice(0, at), line.slice(at)];
  });
}

/** The code in an end line (`SLIPWAY-VERSION-EXIT 3`), or undefined when it is not a number. */
function exitCodeOf(line: string, marker: string): number | undefined {
  const text = line.slice(marker.length).trim();
  return /^\d+$/.test(text) ? Number(text) : undefined;
}

const text = (lines: readonly string[]): string => lines.map((l) => `${l}\n`).join("");

/** `run`: the container run as `runDocker` left it (exit code, timeout, stdout and stderr in order). */
export function splitChecksRun(spec: ChecksSpec, run: RunOutput): SplitChecks {
  const version: string[] = [];
  const paths: string[] = [];
  const rest: string[] = [];
  const pip: string[] = [];
  const wkhtmltopdf: string[] = [];
  let pipExit: number | undefined;
  let wkhtmltopdfExit: number | undefined;
  let versionExit: number | undefined;
  let importsExit: number | undefined;
  let pathsDone = false;
  let scriptRan = false;
  for (const line of scriptLines(run.output)) {
    if (startsWithMarker(line)) scriptRan = true;
    if (line.startsWith(VERSION_EXIT)) {
      versionExit = exitCodeOf(line, VERSION_EXIT);
    } else if (line.startsWith(VERSION_LINE)) {
      version.push(line.slice(VERSION_LINE.length));
    } else if (line.startsWith(PIP_EXIT)) {
      pipExit = exitCodeOf(line, PIP_EXIT);
    } else if (line.startsWith(PIP_LINE)) {
      pip.push(line.slice(PIP_LINE.length));
    } else if (line.startsWith(WKHTMLTOPDF_EXIT)) {
      wkhtmltopdfExit = exitCodeOf(line, WKHTMLTOPDF_EXIT);
    } else if (line.startsWith(WKHTMLTOPDF_LINE)) {
      wkhtmltopdf.push(line.slice(WKHTMLTOPDF_LINE.length));
    } else if (line.startsWith(PATH_MISSING)) {
      paths.push(line);
    } else if (line.startsWith(PATHS_DONE)) {
      paths.push(line);
      pathsDone = true;
    } else if (line.startsWith(IMPORTS_EXIT)) {
      importsExit = exitCodeOf(line, IMPORTS_EXIT);
    } else {
      rest.push(line);
    }
  }
  // A check that never printed its end line: the container's verdict (and docker's words, if the
  // script never ran at all).
  const unfinished = (own: string[]): RunOutput => ({
    exitCode: run.exitCode,
    timedOut: run.timedOut,
    output: text(scriptRan ? own : [...own, ...rest]),
  });
  const finished = (own: string[], exitCode: number): RunOutput => ({
    exitCode,
    timedOut: false,
    output: text(own),
  });
  const split: SplitChecks = {};
  if (spec.versionCmd !== undefined) {
    split.version =
      versionExit === undefined ? unfinished(version) : finished(version, versionExit);
  }
  if (spec.pipCheck === true) {
    split.pip = pipExit === undefined ? unfinished(pip) : finished(pip, pipExit);
  }
  if (spec.wkhtmltopdf === true) {
    split.wkhtmltopdf =
      wkhtmltopdfExit === undefined
        ? unfinished(wkhtmltopdf)
        : finished(wkhtmltopdf, wkhtmltopdfExit);
  }
  if (spec.paths.length > 0) {
    split.paths = pathsDone ? finished(paths, 0) : unfinished(paths);
  }
  if (spec.imports.length > 0) {
    // The import run's own output is everything that is not another check's: as when it ran alone.
    split.imports =
      importsExit === undefined
        ? { exitCode: run.exitCode, timedOut: run.timedOut, output: text(rest) }
        : finished(rest, importsExit);
  }
  return split;
}
