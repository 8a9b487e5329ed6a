import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { parseArgs } from "node:util";
import { ALL_CODES, CODES } from "./codes";
import type { Gate, GateContext } from "./gate";
import {
  block,
  exitCodeOf,
  GateError,
  GateResult,
  render,
  UsageError,
  verdictLine,
} from "./result";

/**
 * Every gate, loaded lazily: `gate codes` or `gate health` must not pay for the Dockerfile parser or YAML.
 * The names are a public contract (`npm run gate -- <gate>`, `bin/slipway-gate <gate>`).
 */
const GATES: Record<string, () => Gate> = {
  scan: () => require("./scan/gate").default,
  test: () => require("./testGate").default,
  smoke: () => require("./smoke").default,
  health: () => require("./health").default,
  lint: () => require("./lint").default,
  base: () => require("./base").default,
  preflight: () => require("./preflight").default,
  resolve: () => require("./release/resolve").default,
  retag: () => require("./release/retag").default,
  "tag-guard": () => require("./release/tagGuard").default,
  report: () => require("./report/gate").default,
  promote: () => require("./release/promote").default,
  prune: () => require("./release/prune").default,
  "evidence attach": () => require("./evidence/attachGate").default,
  "evidence list": () => require("./evidence/listGate").default,
  "evidence fetch": () => require("./evidence/fetchGate").default,
};

/**
 * `evidence <attach|list|fetch> [REPO@DIGEST] ...`: a gate with subcommands. The subcommand joins
 * the gate's name, and a leading positional reference becomes `--image REPO@DIGEST`.
 */
function subcommand(name: string, rest: string[]): [string, string[]] {
  const [sub, ...more] = rest;
  if (name !== "evidence" || sub === undefined || sub.startsWith("-")) return [name, rest];
  const [first, ...others] = more;
  if (first !== undefined && !first.startsWith("-")) {
    return [`${name} ${sub}`, ["--image", first, ...others]];
  }
  return [`${name} ${sub}`, more];
}

const SUMMARIES: Record<string, string> = {
  scan: "vulnerability gate over a Trivy JSON report or an image",
  test: "run the test command inside the builder image, with a coverage floor",
  smoke: "check the exact runtime image: size, version, paths, imports, user, boot + health",
  health: "poll a live URL until it answers as expected (post-deploy verification)",
  lint: "Dockerfile checks: syntax, bases pinned by digest, stages, non-root",
  base: "base image drift: pinned digest vs what its tag resolves to now",
  preflight: "before a build: Docker reachable, enough free disk",
  resolve: "resolve a tag or digest in a registry (rollback pin), print the digest",
  retag: "point a tag (latest) at an existing digest in a registry",
  "tag-guard": "refuse to overwrite a version tag that holds another image",
  report: "assemble a release's gate results into the release report (READY / NOT READY)",
  promote: "release a gated candidate digest as :<version> (and :latest), registry-side",
  prune: "delete old candidate manifests, never a released or protected digest",
  "evidence attach": "attach release evidence (sbom, trivy, gates, tests, ...) to a digest",
  "evidence list": "list the evidence attached to a digest (REPO@DIGEST)",
  "evidence fetch": "download the evidence of one kind attached to a digest",
  codes: "print the error-code catalog",
};

const COMMON_OPTIONS = {
  json: { type: "string" },
  "print-verdict": { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

function usage(): string {
  const width = Math.max(...Object.keys(SUMMARIES).map((n) => n.length));
  return [
    "usage: slipway-gate <gate> [flags] [--json FILE]",
    "",
    "gates:",
    ...Object.entries(SUMMARIES).map(([name, text]) => `  ${name.padEnd(width)}  ${text}`),
    "",
    "exit codes: 0 pass, 1 blocked (or invalid input: fails closed), 2 usage error",
    "`slipway-gate <gate> --help` lists a gate's flags.",
  ].join("\n");
}

function gateUsage(gate: Gate): string {
  return [
    `usage: slipway-gate ${gate.name} [flags] [--json FILE]`,
    `  ${gate.summary}`,
    "",
    ...gate.usage.map((l) => `  ${l}`),
    "  --json FILE  also write the machine-readable result",
    "  --print-verdict  end stdout with the verdict line (slipway-verdict {...}) for the pipeline",
  ].join("\n");
}

function printCodes(argv: string[]): number {
  const { values } = parseArgs({
    args: argv,
    options: { json: { type: "boolean" } },
    strict: true,
  });
  if (values.json) {
    process.stdout.write(
      JSON.stringify(
        ALL_CODES.map((code) => ({ code, ...CODES[code] })),
        null,
        2,
      ) + "\n",
    );
    return 0;
  }
  const lines = ALL_CODES.map((code) => {
    const c = CODES[code];
    return `${code} [${c.severity}, ${c.step}]\n  ${c.meaning}\n  what to do: ${c.remedy}`;
  });
  process.stdout.write(lines.join("\n") + "\n");
  return 0;
}

const defaultContext: GateContext = {
  now: () => new Date(),
  env: process.env,
  progress: (line) => process.stderr.write(`${line}\n`),
};

/**
 * The image digest a gate judged, from its flags: `--digest`, or the digest of a pinned `--image` /
 * `--ref`. It goes into the verdict line, so a verdict names exactly what it is about.
 */
function subjectOf(flags: Record<string, unknown>): string | undefined {
  if (typeof flags.digest === "string" && flags.digest.startsWith("sha256:")) return flags.digest;
  for (const key of ["image", "ref"]) {
    const value = flags[key];
    const at = typeof value === "string" ? value.lastIndexOf("@sha256:") : -1;
    if (at >= 0) return (value as string).slice(at + 1);
  }
  return undefined;
}

/**
 * Writes the result where people and machines expect it; returns the exit code. With `--print-verdict`
 * (what the pipeline's command resources pass), the human text goes to stdout whatever the gate, and the
 * last line of stdout is the verdict line (`slipway-verdict {...}`, value included): the command's
 * `stdout` output then carries a decision the components can read without parsing prose.
 */
function report(
  result: GateResult,
  jsonPath: string | undefined,
  verdict: { subject: string | undefined } | undefined,
): number {
  const text = render(result);
  if (verdict !== undefined) {
    process.stdout.write(`${text}\n${verdictLine(result, verdict.subject)}\n`);
  } else if (result.value !== undefined) {
    process.stdout.write(`${result.value}\n`);
    process.stderr.write(`${text}\n`);
  } else {
    process.stdout.write(`${text}\n`);
  }
  if (jsonPath !== undefined) {
    mkdirSync(dirname(jsonPath), { recursive: true });
    writeFileSync(jsonPath, JSON.stringify(result, null, 2) + "\n");
  }
  return exitCodeOf(result);
}

/** The CLI. Returns the process exit code: 0 pass, 1 blocked, 2 usage. */
export async function main(argv: string[], ctx: GateContext = defaultContext): Promise<number> {
  const [first, ...given] = argv;
  const [name, rest] = first === undefined ? [first, given] : subcommand(first, given);
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(usage() + "\n");
    return name === undefined ? 2 : 0;
  }
  if (name === "codes") {
    try {
      return printCodes(rest);
    } catch (err) {
      process.stderr.write(`usage error: ${(err as Error).message}\n`);
      return 2;
    }
  }
  const load = GATES[name];
  if (load === undefined) {
    process.stderr.write(`usage error: unknown gate "${name}"\n\n${usage()}\n`);
    return 2;
  }
  const gate = load();
  let flags: Record<string, string | boolean | string[] | undefined>;
  try {
    flags = parseArgs({
      args: rest,
      options: { ...gate.options, ...COMMON_OPTIONS },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    process.stderr.write(`usage error: ${(err as Error).message}\n\n${gateUsage(gate)}\n`);
    return 2;
  }
  if (flags.help === true) {
    process.stdout.write(gateUsage(gate) + "\n");
    return 0;
  }
  const jsonPath = typeof flags.json === "string" ? flags.json : undefined;
  const started = Date.now();
  let result: GateResult;
  try {
    result = await gate.run(flags, ctx);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`usage error: ${err.message}\n\n${gateUsage(gate)}\n`);
      return 2;
    }
    if (err instanceof GateError) {
      result = block(gate.name, err.code, err.message, { details: err.details });
    } else {
      throw err;
    }
  }
  result.timings = { ...result.timings, total: Date.now() - started };
  const verdict = flags["print-verdict"] === true ? { subject: subjectOf(flags) } : undefined;
  return report(result, jsonPath, verdict);
}
