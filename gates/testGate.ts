import { randomBytes } from "node:crypto";
import { chmod, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureImage, runDocker } from "./docker";
import type { Gate } from "./gate";
import {
  COVERAGE_FILE,
  JUNIT_FILE,
  parseEnvFlag,
  testRunArgs,
  wantsCoverage,
} from "./testing/command";
import {
  BanditLevel,
  BanditPolicy,
  BanditSkip,
  BANDIT_LEVELS,
  DEFAULT_BANDIT_LEVEL,
  isBanditLevel,
  parseBanditSkips,
} from "./testing/bandit";
import {
  BUILDER_CHECKS,
  builderChecksArgs,
  BuilderChecksOutput,
  judgeBuilderChecks,
  needsBuilderChecks,
  withBuilderChecks,
} from "./testing/builderChecks";
import {
  booleanFlag,
  listFlag,
  numberFlag,
  requiredFlag,
  secondsFlag,
  stringFlag,
} from "./testing/flags";
import { mapTestOutcome } from "./testing/outcome";
import { ServicesHandle, withServices } from "./services/run";
import { parseServices } from "./services/spec";
import { GateError, UsageError } from "./result";

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

function levelFlag(flags: Parameters<Gate["run"]>[0], name: string): BanditLevel {
  const text = stringFlag(flags, name)?.toUpperCase();
  if (text === undefined) return DEFAULT_BANDIT_LEVEL;
  if (!isBanditLevel(text)) {
    throw new UsageError(`--${name} expects one of ${BANDIT_LEVELS.join(", ")}, got "${text}"`);
  }
  return text;
}

async function readSkips(path: string | undefined): Promise<BanditSkip[]> {
  if (path === undefined) return [];
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new GateError(
      "ALLOWLIST_INVALID",
      `bandit skip list ${path} is unreadable: ${(err as Error).message}`,
    );
  }
  return parseBanditSkips(text, path);
}

/** `{ [key]: value }`, or `{}` when the value is undefined (exactOptionalPropertyTypes). */
function defined<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: string };
}

/**
 * `test`: runs the test command inside the builder image (see testing/command.ts for the exact
 * `docker run`) and maps the outcome (testing/outcome.ts).
 */
const gate: Gate = {
  name: "test",
  summary: "run the test command inside the builder image, with a coverage floor",
  usage: [
    "--image REF          builder image (pulled when missing if pinned by digest)",
    "--cmd 'SHELL CMD'    test command, run as `sh -c CMD` (e.g. 'pytest custom_addons/ --cov')",
    "--coverage-min PCT   coverage floor, 0-100 (read from coverage's XML report; needs --cov)",
    "--env K=V            environment for the tests (repeatable)",
    "--network NAME       docker network to join (e.g. one with the test database)",
    "--services JSON      services started for this run on a network of its own (tests.services)",
    `--timeout S          seconds before the run is stopped (default ${DEFAULT_TIMEOUT_S})`,
    "--bandit PATH        run `bandit -r PATH -f json` in the builder image (repeatable), beside the tests",
    `--bandit-severity L  findings of severity L or above block: LOW, MEDIUM, HIGH (default ${DEFAULT_BANDIT_LEVEL})`,
    `--bandit-confidence L  and of confidence L or above (default ${DEFAULT_BANDIT_LEVEL})`,
    '--bandit-skips FILE  accepted findings: JSON [{"test":"B101","file":"glob","statement":"why"}]',
    "--pip-check          run `python3 -m pip check` in the builder image (no pip: a warning)",
  ],
  options: {
    image: { type: "string" },
    cmd: { type: "string" },
    "coverage-min": { type: "string" },
    env: { type: "string", multiple: true },
    network: { type: "string" },
    timeout: { type: "string" },
    bandit: { type: "string", multiple: true },
    "bandit-severity": { type: "string" },
    "bandit-confidence": { type: "string" },
    "bandit-skips": { type: "string" },
    "pip-check": { type: "boolean" },
    services: { type: "string" },
  },
  async run(flags, ctx) {
    const image = requiredFlag(flags, "image");
    const cmd = requiredFlag(flags, "cmd");
    const coverageMin = numberFlag(flags, "coverage-min", undefined, { min: 0, max: 100 });
    const env = listFlag(flags, "env").map(parseEnvFlag);
    const network = stringFlag(flags, "network");
    const servicesText = stringFlag(flags, "services");
    const services = servicesText === undefined ? [] : parseServices(servicesText);
    if (services.length > 0 && network !== undefined) {
      throw new UsageError(
        "--network and --services exclude each other: services bring their own network",
      );
    }
    const timeoutMs = secondsFlag(flags, "timeout", DEFAULT_TIMEOUT_S);
    const banditPaths = listFlag(flags, "bandit");
    const pipCheck = booleanFlag(flags, "pip-check");
    const banditOptions = ["bandit-severity", "bandit-confidence", "bandit-skips"];
    if (banditPaths.length === 0 && banditOptions.some((o) => flags[o] !== undefined)) {
      throw new UsageError(`--${banditOptions.join(", --")} only apply with --bandit PATH`);
    }
    const policy: BanditPolicy = {
      severity: levelFlag(flags, "bandit-severity"),
      confidence: levelFlag(flags, "bandit-confidence"),
      skips: await readSkips(stringFlag(flags, "bandit-skips")),
    };

    await ensureImage(image, ctx.env, ctx.progress);
    // Fresh per run, writable by any image user (the builder may run as a non-root user).
    const hostOutDir = await mkdtemp(join(tmpdir(), "slipway-test-"));
    await chmod(hostOutDir, 0o777);
    const name = `slipway-test-${randomBytes(6).toString("hex")}`;
    const argsWith = (handle?: ServicesHandle) =>
      testRunArgs({
        image,
        cmd,
        env: [...(handle?.env ?? []), ...env],
        ...(handle !== undefined
          ? { network: handle.network, envNames: handle.credentialNames }
          : network === undefined
            ? {}
            : { network }),
        hostOutDir,
        name,
        coverage: wantsCoverage(cmd, coverageMin),
      });
    const checksSpec = { pipCheck, banditPaths };
    const checksName = `${name}-checks`;
    ctx.progress(`test: running \`${cmd}\` in ${image}`);
    const removeOnTimeout = async (run: { timedOut: boolean }, container: string) => {
      // Killing the CLI leaves the container running: remove it by name.
      if (run.timedOut) {
        await runDocker(["rm", "-f", container], { env: ctx.env, timeoutMs: 30_000 }).catch(
          () => undefined,
        );
      }
    };
    /** pip check and bandit in a second container of the same image, beside the tests. */
    const builderChecks = async (): Promise<BuilderChecksOutput | undefined> => {
      if (!needsBuilderChecks(checksSpec)) return undefined;
      const what = [
        ...(pipCheck ? ["pip check"] : []),
        ...(banditPaths.length > 0 ? [`bandit -r ${banditPaths.join(" ")}`] : []),
      ];
      ctx.progress(`test: beside it, ${what.join(" and ")}`);
      const run = await runDocker(
        builderChecksArgs({ image, name: checksName, hostOutDir, ...checksSpec }),
        { env: ctx.env, timeoutMs },
      );
      await removeOnTimeout(run, checksName);
      const out = (file: string) => readIfExists(join(hostOutDir, file));
      return {
        run,
        ...defined("pipOutput", await out(BUILDER_CHECKS.pipOutput)),
        ...defined("pipExit", await out(BUILDER_CHECKS.pipExit)),
        ...defined("banditReport", await out(BUILDER_CHECKS.banditReport)),
        ...defined("banditLog", await out(BUILDER_CHECKS.banditLog)),
        ...defined("banditExit", await out(BUILDER_CHECKS.banditExit)),
      };
    };
    /** The test container, with its services up around it when there are any. */
    const testRun = async () => {
      const once = async (handle?: ServicesHandle) => {
        const r = await runDocker(argsWith(handle), {
          env: handle?.childEnv ?? ctx.env,
          timeoutMs,
        });
        await removeOnTimeout(r, name);
        return r;
      };
      if (services.length === 0) return once();
      return withServices(services, "test", { env: ctx.env, progress: ctx.progress }, once);
    };
    try {
      // allSettled: a failure (SERVICE_NOT_READY) is thrown only once the checks container is done
      // with the out directory the `finally` removes.
      const [runSettled, checksSettled] = await Promise.allSettled([testRun(), builderChecks()]);
      if (runSettled.status === "rejected") throw runSettled.reason;
      if (checksSettled.status === "rejected") throw checksSettled.reason;
      const run = runSettled.value;
      const checksOut = checksSettled.value;
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
      if (checksOut === undefined) return result;
      const merged = withBuilderChecks(result, judgeBuilderChecks(checksSpec, checksOut, policy));
      merged.timings = { ...merged.timings, checks: checksOut.run.durationMs };
      return merged;
    } finally {
      await rm(hostOutDir, { recursive: true, force: true });
    }
  },
};

export default gate;
