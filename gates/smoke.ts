import { randomBytes } from "node:crypto";
import { describeFailure, DockerResult, ensureImage, runDocker } from "./docker";
import type { Gate, GateContext } from "./gate";
import { block, Finding, GateError, GateResult, pass, UsageError, warn } from "./result";
import { parsePipCheck, judgePipCheck } from "./testing/pipCheck";
import { checkWkhtmltopdf, isVersionText } from "./smoke/wkhtmltopdf";
import {
  compileModulePattern,
  compilePattern,
  defaultLogPatterns,
  LogPatterns,
} from "./smoke/bootLogs";
import { formatSize, parseSize } from "./size";
import { checksArgs, historyArgs, inspectArgs, needsChecksRun, removeArgs } from "./smoke/args";
import { boot } from "./smoke/boot";
import {
  CheckResult,
  checkImports,
  checkPaths,
  checkSize,
  checkUser,
  checkVersion,
  ImageFacts,
  Layer,
  parseHistory,
  parseInspect,
} from "./smoke/checks";
import { splitChecksRun } from "./smoke/checksRun";
import { withServices } from "./services/run";
import { parseServices, ServiceSpec } from "./services/spec";
import {
  booleanFlag,
  listFlag,
  numberFlag,
  requiredFlag,
  secondsFlag,
  stringFlag,
} from "./testing/flags";

const DEFAULT_BOOT_TIMEOUT_S = 60;
/** Budget of the check container (version, paths, imports): a cold start of a big image included. */
const CHECK_TIMEOUT_MS = 120_000;

export interface SmokeSpec {
  image: string;
  maxSize?: { bytes: number; text: string };
  versionCmd?: string;
  expectVersion?: string;
  paths: string[];
  imports: string[];
  nonRoot: boolean;
  /** `python3 -m pip check` in the check container (PIP_DEPENDENCY_CONFLICT). */
  pipCheck: boolean;
  /** The wkhtmltopdf version the image must hold (WKHTMLTOPDF_MISMATCH), e.g. 0.12.6. */
  wkhtmltopdf?: string;
  boot?: {
    port: number;
    healthPath: string;
    timeoutMs: number;
    logPatterns: LogPatterns;
    /** Started for the boot on a network of its own (smoke.services). */
    services: ServiceSpec[];
  };
}

export function parseSpec(flags: Parameters<Gate["run"]>[0]): SmokeSpec {
  const image = requiredFlag(flags, "image");
  const maxText = stringFlag(flags, "max-size");
  let maxSize: SmokeSpec["maxSize"];
  if (maxText !== undefined) {
    try {
      maxSize = { bytes: parseSize(maxText), text: maxText };
    } catch (err) {
      throw new UsageError(`--max-size: ${(err as Error).message}`);
    }
  }
  const versionCmd = stringFlag(flags, "version-cmd");
  const expectVersion = stringFlag(flags, "expect-version");
  if (expectVersion !== undefined && versionCmd === undefined) {
    throw new UsageError("--expect-version needs --version-cmd");
  }
  const imports = listFlag(flags, "import");
  for (const module of imports) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/.test(module)) {
      throw new UsageError(`--import expects a Python module name, got "${module}"`);
    }
  }
  const paths = listFlag(flags, "path");
  for (const path of paths) {
    if (!path.startsWith("/")) {
      throw new UsageError(`--path expects an absolute path, got "${path}"`);
    }
  }
  const wkhtmltopdf = stringFlag(flags, "wkhtmltopdf");
  if (wkhtmltopdf !== undefined && !isVersionText(wkhtmltopdf)) {
    throw new UsageError(`--wkhtmltopdf expects a version such as 0.12.6, got "${wkhtmltopdf}"`);
  }
  const modulePatterns = listFlag(flags, "module-error-pattern").map(compileModulePattern);
  const dbPatterns = listFlag(flags, "db-error-pattern").map((p) =>
    compilePattern("--db-error-pattern", p),
  );
  const servicesText = stringFlag(flags, "services");
  let bootSpec: SmokeSpec["boot"];
  if (booleanFlag(flags, "boot")) {
    const port = numberFlag(flags, "port", undefined, { min: 1, max: 65535, integer: true });
    const healthPath = stringFlag(flags, "health-path");
    if (port === undefined || healthPath === undefined) {
      throw new UsageError("--boot needs --port N and --health-path P");
    }
    if (!healthPath.startsWith("/")) {
      throw new UsageError(`--health-path must start with /, got "${healthPath}"`);
    }
    bootSpec = {
      port,
      healthPath,
      timeoutMs: secondsFlag(flags, "boot-timeout", DEFAULT_BOOT_TIMEOUT_S),
      services: servicesText === undefined ? [] : parseServices(servicesText),
      logPatterns: {
        module: modulePatterns.length > 0 ? modulePatterns : defaultLogPatterns().module,
        database: dbPatterns.length > 0 ? dbPatterns : defaultLogPatterns().database,
      },
    };
  } else if (
    flags.port !== undefined ||
    flags["health-path"] !== undefined ||
    flags["boot-timeout"] !== undefined ||
    modulePatterns.length > 0 ||
    dbPatterns.length > 0 ||
    servicesText !== undefined
  ) {
    throw new UsageError(
      "--port, --health-path, --boot-timeout, --module-error-pattern, --db-error-pattern and --services only apply with --boot",
    );
  }
  return {
    image,
    ...(maxSize === undefined ? {} : { maxSize }),
    ...(versionCmd === undefined ? {} : { versionCmd }),
    ...(expectVersion === undefined ? {} : { expectVersion }),
    paths,
    imports,
    nonRoot: booleanFlag(flags, "non-root"),
    pipCheck: booleanFlag(flags, "pip-check"),
    ...(wkhtmltopdf === undefined ? {} : { wkhtmltopdf }),
    ...(bootSpec === undefined ? {} : { boot: bootSpec }),
  };
}

/**
 * The gate result from every check's result, given in the fixed order size, version, paths, imports,
 * user, boot: the first failing one decides the code, whichever finished first.
 */
export function smokeResult(
  image: string,
  facts: ImageFacts,
  checks: CheckResult[],
  timings: Record<string, number>,
): GateResult {
  const figures: Record<string, string | number | boolean> = {
    sizeBytes: facts.sizeBytes,
    user: facts.user === "" ? "root" : facts.user,
  };
  for (const c of checks) Object.assign(figures, c.figures);
  const findings: Finding[] = checks.flatMap((c) => [
    { check: c.check, ok: c.ok, code: c.code, summary: c.summary },
    ...c.findings.map((f) => ({ check: c.check, ...f })),
  ]);
  const details = checks.flatMap((c) => [
    `${c.ok ? (c.code === undefined ? "ok  " : `WARN ${c.code}`) : `FAIL ${c.code ?? ""}`} ${c.check}: ${c.summary}`,
    ...c.details.map((d) => `     ${d}`),
  ]);
  const failing = checks.filter((c) => !c.ok);
  const first = failing[0];
  if (first === undefined || first.code === undefined) {
    const warned = checks.find((c) => c.code !== undefined);
    const what =
      checks.length === 0
        ? `image ${formatSize(facts.sizeBytes)}, no checks asked`
        : `${checks.length} check${checks.length === 1 ? "" : "s"} passed`;
    if (warned?.code !== undefined) {
      return warn("smoke", warned.code, `${image}: ${what}; ${warned.summary}`, {
        details,
        findings,
        figures,
        timings,
      });
    }
    return pass("smoke", `${image}: ${what}`, { details, findings, figures, timings });
  }
  const more =
    failing.length > 1
      ? ` (+${failing.length - 1} more failing: ${failing
          .slice(1)
          .map((c) => c.code)
          .join(", ")})`
      : "";
  return block("smoke", first.code, `${first.summary}${more}`, {
    details,
    findings,
    figures,
    timings,
  });
}

async function timed<T>(
  timings: Record<string, number>,
  name: string,
  work: () => Promise<T>,
): Promise<T> {
  const started = Date.now();
  try {
    return await work();
  } finally {
    timings[name] = Date.now() - started;
  }
}

/** A settled promise's value, or its error thrown (read only once every promise has settled). */
function valueOf<T>(settled: PromiseSettledResult<T>): T {
  if (settled.status === "rejected") throw settled.reason;
  return settled.value;
}

/**
 * Runs the checks of a parsed spec: after the one `docker image inspect`, side by side, the layer
 * history (when a size budget is set), the one check container (version, paths, imports) and the boot.
 * `checkTimeoutMs` bounds the check container; it is a parameter so that tests can exercise the timeout
 * without waiting two minutes.
 */
export async function runSmoke(
  spec: SmokeSpec,
  ctx: GateContext,
  checkTimeoutMs = CHECK_TIMEOUT_MS,
): Promise<GateResult> {
  const docker = (args: string[], timeoutMs: number): Promise<DockerResult> =>
    runDocker(args, { env: ctx.env, timeoutMs });
  const timings: Record<string, number> = {};

  await timed(timings, "pull", () => ensureImage(spec.image, ctx.env, ctx.progress));
  const inspected = await timed(timings, "inspect", () => docker(inspectArgs(spec.image), 30_000));
  if (inspected.exitCode !== 0) {
    throw new GateError(
      "CONTAINER_START_FAILURE",
      `cannot inspect ${spec.image} on this Docker engine`,
      [describeFailure(inspected)],
    );
  }
  let facts: ImageFacts;
  try {
    facts = parseInspect(inspected.stdout);
  } catch (err) {
    throw new GateError(
      "CONTAINER_START_FAILURE",
      `cannot read docker image inspect for ${spec.image}: ${(err as Error).message}`,
    );
  }
  ctx.progress(`smoke: ${spec.image} is ${formatSize(facts.sizeBytes)}, user "${facts.user}"`);

  /**
   * The largest layers, for the findings whether or not the image is over budget: `docker history`
   * costs ~20 ms and runs beside the containers, off the critical path.
   */
  const history = async (): Promise<Layer[]> => {
    if (spec.maxSize === undefined) return [];
    const run = await timed(timings, "history", () => docker(historyArgs(spec.image), 30_000));
    return run.exitCode === 0 ? parseHistory(run.stdout) : [];
  };

  /** The one check container, removed by name if it outlives its budget. */
  const checksRun = async (): Promise<CheckResult[]> => {
    const checksSpec = { ...spec, wkhtmltopdf: spec.wkhtmltopdf !== undefined };
    if (!needsChecksRun(checksSpec)) return [];
    const asked = [
      ...(spec.versionCmd === undefined ? [] : [`\`${spec.versionCmd}\``]),
      ...(spec.paths.length === 0 ? [] : [`${spec.paths.length} path(s)`]),
      ...(spec.imports.length === 0 ? [] : [`import ${spec.imports.join(", ")}`]),
      ...(spec.pipCheck ? ["pip check"] : []),
      ...(spec.wkhtmltopdf === undefined ? [] : [`wkhtmltopdf ${spec.wkhtmltopdf}`]),
    ];
    ctx.progress(`smoke: one check container: ${asked.join("; ")}`);
    const name = `slipway-smoke-check-${randomBytes(6).toString("hex")}`;
    const run = await timed(timings, "checks", () =>
      docker(checksArgs(spec.image, name, checksSpec), checkTimeoutMs),
    );
    if (run.timedOut) {
      await docker(removeArgs(name), 30_000).catch(() => undefined);
    }
    const { version, paths, imports, pip, wkhtmltopdf } = splitChecksRun(checksSpec, run);
    return [
      ...(spec.versionCmd === undefined || version === undefined
        ? []
        : [checkVersion(spec.versionCmd, spec.expectVersion, version)]),
      ...(paths === undefined ? [] : [checkPaths(spec.paths, paths)]),
      ...(imports === undefined ? [] : [checkImports(spec.imports, imports)]),
      ...(pip === undefined
        ? []
        : [judgePipCheck("runtime image", parsePipCheck(pip.output, pip.exitCode), pip)]),
      ...(spec.wkhtmltopdf === undefined || wkhtmltopdf === undefined
        ? []
        : [checkWkhtmltopdf(spec.wkhtmltopdf, wkhtmltopdf)]),
    ];
  };

  const booted = async (): Promise<CheckResult[]> => {
    const b = spec.boot;
    if (b === undefined) return [];
    const bootSpec = {
      image: spec.image,
      port: b.port,
      healthPath: b.healthPath,
      timeoutMs: b.timeoutMs,
      logPatterns: b.logPatterns,
    };
    const result = await timed(timings, "boot", () =>
      b.services.length === 0
        ? boot(bootSpec, { env: ctx.env, progress: ctx.progress })
        : withServices(b.services, "smoke", { env: ctx.env, progress: ctx.progress }, (h) =>
            boot(
              {
                ...bootSpec,
                attach: { network: h.network, env: h.env, envNames: h.credentialNames },
              },
              { env: h.childEnv, progress: ctx.progress },
            ),
          ),
    );
    return [result];
  };

  // allSettled, not all: a failure (DOCKER_UNAVAILABLE) is thrown only once the boot has removed its
  // container.
  const settled = await Promise.allSettled([history(), checksRun(), booted()]);
  const layers = valueOf(settled[0]);
  const fromContainer = valueOf(settled[1]);
  const fromBoot = valueOf(settled[2]);

  // The fixed order (size, version, paths, imports, user, boot), whatever finished first.
  const checks: CheckResult[] = [
    ...(spec.maxSize === undefined
      ? []
      : [checkSize(facts.sizeBytes, spec.maxSize.bytes, spec.maxSize.text, layers)]),
    ...fromContainer,
    ...(spec.nonRoot ? [checkUser(facts.user)] : []),
    ...fromBoot,
  ];
  return smokeResult(spec.image, facts, checks, timings);
}

/** `smoke`: checks of the exact runtime image, all run, every failure reported. */
const gate: Gate = {
  name: "smoke",
  summary: "check the exact runtime image: size, version, paths, imports, user, boot + health",
  usage: [
    "--image REF             the runtime image (pulled when missing if pinned by digest)",
    "--max-size SIZE         size budget: 2GB (10^9 bytes), 1.5GiB (2^30), 500MB, or bytes",
    "--version-cmd 'CMD'     shell command printing the app version (run with sh -c, entrypoint bypassed)",
    "--expect-version TEXT   text the version command must print",
    "--path P                absolute path that must exist in the image (repeatable)",
    "--import M              Python module that must import (repeatable)",
    "--non-root              the image must not run as root",
    "--boot                  start the image (its own entrypoint) and poll its health path",
    "--port N                the app's port in the container (with --boot)",
    "--health-path P         health path, e.g. /web/health (with --boot)",
    `--boot-timeout S        seconds to answer 200 (default ${DEFAULT_BOOT_TIMEOUT_S})`,
    "--pip-check             run `python3 -m pip check` in the image (no pip: a warning)",
    "--wkhtmltopdf VERSION   the wkhtmltopdf version the image must hold (e.g. 0.12.6)",
    "--module-error-pattern R  regex with a (?<module>...) group: a module that failed to load, in",
    "                        the boot's logs (repeatable; replaces the Odoo 16 defaults)",
    "--services JSON         services started for the boot on a network of its own (smoke.services)",
    "--db-error-pattern R    regex of a database connection error in the boot's logs (repeatable;",
    "                        replaces the psycopg2/libpq defaults)",
  ],
  options: {
    image: { type: "string" },
    "max-size": { type: "string" },
    "version-cmd": { type: "string" },
    "expect-version": { type: "string" },
    path: { type: "string", multiple: true },
    import: { type: "string", multiple: true },
    "non-root": { type: "boolean" },
    boot: { type: "boolean" },
    port: { type: "string" },
    "health-path": { type: "string" },
    "boot-timeout": { type: "string" },
    "pip-check": { type: "boolean" },
    wkhtmltopdf: { type: "string" },
    "module-error-pattern": { type: "string", multiple: true },
    "db-error-pattern": { type: "string", multiple: true },
    services: { type: "string" },
  },
  async run(flags, ctx) {
    return runSmoke(parseSpec(flags), ctx);
  },
};

export default gate;
