import { randomBytes } from "node:crypto";
import { chmod, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runDocker } from "./docker";
import type { Gate } from "./gate";
import {
  COVERAGE_FILE,
  JUNIT_FILE,
  parseEnvFlag,
  testRunArgs,
  wantsCoverage,
} from "./testing/command";
import { listFlag, numberFlag, requiredFlag, secondsFlag, stringFlag } from "./testing/flags";
import { mapTestOutcome } from "./testing/outcome";

/** Default budget of a test run: generous, the suite runs inside a 10-12 min build target. */
const DEFAULT_TIMEOUT_S = 1800;

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") {
      return undefined;
    }
    throw err;
  }
}

/**
 * `test`: runs the test command inside the builder image (see testing/command.ts for the exact
 * `docker run`) and maps the outcome (testing/outcome.ts).
 */
const gate: Gate = {
  name: "test",
  summary: "run the test command inside the builder image, with a coverage floor",
  usage: [
    "--image REF          builder image (local: the gate never pulls)",
    "--cmd 'SHELL CMD'    test command, run as `sh -c CMD` (e.g. 'pytest custom_addons/ --cov')",
    "--coverage-min PCT   coverage floor, 0-100 (read from coverage's XML report; needs --cov)",
    "--env K=V            environment for the tests (repeatable)",
    "--network NAME       docker network to join (e.g. one with the test database)",
    `--timeout S          seconds before the run is stopped (default ${DEFAULT_TIMEOUT_S})`,
  ],
  options: {
    image: { type: "string" },
    cmd: { type: "string" },
    "coverage-min": { type: "string" },
    env: { type: "string", multiple: true },
    network: { type: "string" },
    timeout: { type: "string" },
  },
  async run(flags, ctx) {
    const image = requiredFlag(flags, "image");
    const cmd = requiredFlag(flags, "cmd");
    const coverageMin = numberFlag(flags, "coverage-min", undefined, { min: 0, max: 100 });
    const env = listFlag(flags, "env").map(parseEnvFlag);
    const network = stringFlag(flags, "network");
    const timeoutMs = secondsFlag(flags, "timeout", DEFAULT_TIMEOUT_S);

    // Fresh per run, writable by any image user (the builder may run as a non-root user).
    const hostOutDir = await mkdtemp(join(tmpdir(), "slipway-test-"));
    await chmod(hostOutDir, 0o777);
    const name = `slipway-test-${randomBytes(6).toString("hex")}`;
    const args = testRunArgs({
      image,
      cmd,
      env,
      ...(network === undefined ? {} : { network }),
      hostOutDir,
      name,
      coverage: wantsCoverage(cmd, coverageMin),
    });
    ctx.progress(`test: running \`${cmd}\` in ${image}`);
    try {
      const run = await runDocker(args, { env: ctx.env, timeoutMs });
      if (run.timedOut) {
        // Killing the CLI leaves the container running: remove it by name.
        await runDocker(["rm", "-f", name], { env: ctx.env, timeoutMs: 30_000 }).catch(
          () => undefined,
        );
      }
      const junit = await readIfExists(join(hostOutDir, JUNIT_FILE));
      const coverage = await readIfExists(join(hostOutDir, COVERAGE_FILE));
      const result = mapTestOutcome({
        image,
        exitCode: run.exitCode,
        timedOut: run.timedOut,
        timeoutMs,
        durationMs: run.durationMs,
        output: run.output,
        ...(junit === undefined ? {} : { junit }),
        ...(coverage === undefined ? {} : { coverage }),
        ...(coverageMin === undefined ? {} : { coverageMin }),
      });
      result.timings = { ...result.timings, run: run.durationMs };
      return result;
    } finally {
      await rm(hostOutDir, { recursive: true, force: true });
    }
  },
};

export default gate;
