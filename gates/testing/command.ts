import { UsageError } from "../result";

/**
 * The `docker run` argv of the test gate, built from plain data so that a unit test can check every
 * argument and the e2e suite can run the same thing for real.
 *
 * The user's command is run as given (`sh -c CMD`); machine-readable results are collected on the side:
 * a host directory is mounted at {@link OUT_DIR} and pytest is pointed at it through `PYTEST_ADDOPTS`
 * (which pytest reads in addition to its command line; a non-pytest command just ignores it).
 */

/** Where the container writes JUnit XML and coverage JSON. */
export const OUT_DIR = "/slipway-out";
export const JUNIT_FILE = "junit.xml";
export const COVERAGE_FILE = "coverage.xml";
/** coverage.py's data file, on the tmpfs (see {@link testRunArgs}). */
export const COVERAGE_DATA_FILE = "/tmp/.coverage";

export interface TestRunSpec {
  image: string;
  /** The test command, a shell command line (`pytest custom_addons/ --cov`). */
  cmd: string;
  /** `K=V` pairs from `--env`, validated. */
  env: Array<[string, string]>;
  network?: string;
  /**
   * Variables passed by name only (`-e NAME`): docker reads the value from its own environment, so a
   * generated credential never appears on an argv.
   */
  envNames?: readonly string[];
  /** Host directory mounted at {@link OUT_DIR} (made writable for any image user). */
  hostOutDir: string;
  /** Container name, so a timed-out run can be removed. */
  name: string;
  /** Ask pytest-cov for its Cobertura XML report (see {@link wantsCoverage}). */
  coverage: boolean;
}

/** `--env K=V` → `[K, V]`; the value may contain `=`; the name must be a valid variable name. */
export function parseEnvFlag(text: string): [string, string] {
  const at = text.indexOf("=");
  const name = at === -1 ? text : text.slice(0, at);
  if (at === -1 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw new UsageError(`--env expects NAME=VALUE with a valid variable name, got "${text}"`);
  }
  return [name, text.slice(at + 1)];
}

/**
 * Whether to add pytest-cov's `--cov-report` options (terminal table + Cobertura XML, see coverage.ts): when a coverage floor is set, or when the command
 * itself mentions `--cov` (pytest-cov is then installed). Not otherwise: pytest without pytest-cov
 * rejects `--cov-report` as an unknown option (exit 4) and would fail a project that never asked for
 * coverage.
 */
export function wantsCoverage(cmd: string, coverageMin: number | undefined): boolean {
  return coverageMin !== undefined || /(^|\s)--cov(\s|=|$)/.test(cmd);
}

/**
 * The `PYTEST_ADDOPTS` value. `--cov-report=term` is there because naming any report turns off
 * pytest-cov's default terminal table; asking for it again keeps the output the user expects (a
 * `term-missing` of their own still wins: pytest-cov prints one table).
 */
export function pytestAddopts(coverage: boolean, userAddopts?: string): string {
  const ours = [`--junitxml=${OUT_DIR}/${JUNIT_FILE}`];
  if (coverage) {
    ours.push("--cov-report=term", `--cov-report=xml:${OUT_DIR}/${COVERAGE_FILE}`);
  }
  // The user's own PYTEST_ADDOPTS (from --env) come last: on a conflict, theirs win.
  return [...ours, ...(userAddopts === undefined || userAddopts === "" ? [] : [userAddopts])].join(
    " ",
  );
}

/**
 * `docker run` arguments:
 * - `--rm --pull never`: run exactly the image the gate made sure is here (`ensureImage`; never hang on an
 *   unreachable registry); a missing image is exit 125 "No such image".
 * - `--name`, `--label slipway.gate=test`: the gate can remove it after a timeout; leftovers are findable.
 * - `--tmpfs /tmp`: a writable temp dir whatever the image's filesystem (measured: without a usable /tmp,
 *   pytest exits 1 as if a test had failed).
 * - `-v HOST:/slipway-out`, `-e PYTEST_ADDOPTS=...`: machine output, see the module comment.
 * - `-e COVERAGE_FILE=/tmp/.coverage` (with coverage, unless `--env COVERAGE_FILE` is given): coverage.py
 *   writes its data file in the working directory by default, and an image whose workdir is owned by
 *   root but runs as a non-root user then fails at the end of the run (measured: pytest exit 3,
 *   "Couldn't use data file '/app/.coverage...': unable to open database file").
 * - `--entrypoint sh IMAGE -c CMD`: the command runs under the image's user, workdir and environment,
 *   but not through its ENTRYPOINT script (which may start a server or wait for a database).
 */
export function testRunArgs(spec: TestRunSpec): string[] {
  const userAddopts = spec.env.find(([name]) => name === "PYTEST_ADDOPTS")?.[1];
  const env = spec.env.filter(([name]) => name !== "PYTEST_ADDOPTS");
  return [
    "run",
    "--rm",
    "--pull",
    "never",
    "--name",
    spec.name,
    "--label",
    "slipway.gate=test",
    "--tmpfs",
    "/tmp:rw,exec,mode=1777",
    "-v",
    `${spec.hostOutDir}:${OUT_DIR}`,
    "-e",
    `PYTEST_ADDOPTS=${pytestAddopts(spec.coverage, userAddopts)}`,
    ...(spec.coverage && !spec.env.some(([name]) => name === "COVERAGE_FILE")
      ? ["-e", `COVERAGE_FILE=${COVERAGE_DATA_FILE}`]
      : []),
    ...env.flatMap(([name, value]) => ["-e", `${name}=${value}`]),
    ...(spec.envNames ?? []).flatMap((name) => ["-e", name]),
    ...(spec.network === undefined ? [] : ["--network", spec.network]),
    "--entrypoint",
    "sh",
    spec.image,
    "-c",
    spec.cmd,
  ];
}
