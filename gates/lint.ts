import { readFileSync } from "node:fs";
import type { Gate, GateFlags } from "./gate";
import {
  baseProblems,
  effectiveUser,
  finalStage,
  LintOptions,
  LintProblem,
  sortProblems,
  targetProblems,
  userProblems,
} from "./lint/checks";
import { buildModel } from "./lint/model";
import { syntaxProblems } from "./lint/syntax";
import { block, GateError, GateResult, pass, UsageError, warn } from "./result";

function stringList(flags: GateFlags, name: string): string[] {
  const value = flags[name];
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [String(value)]).map((v) => v.trim());
}

/** `--build-arg K=V` (repeatable) → a map; the last value of a key wins, as with docker build. */
export function parseBuildArgs(values: string[]): Map<string, string> {
  const args = new Map<string, string>();
  for (const value of values) {
    const eq = value.indexOf("=");
    if (eq <= 0) throw new UsageError(`--build-arg ${value}: expected KEY=VALUE`);
    args.set(value.slice(0, eq), value.slice(eq + 1));
  }
  return args;
}

function format(problem: LintProblem): string {
  const where = problem.line === undefined ? "" : `line ${problem.line}: `;
  return `${where}${problem.code} (${problem.severity}) ${problem.message}`;
}

/** Lints a Dockerfile's text: every problem, and the verdict the first blocking one decides. */
export function lintDockerfile(
  content: string,
  options: LintOptions,
  buildArgs: Map<string, string>,
): GateResult {
  const syntax = syntaxProblems(content);
  const model = buildModel(content, buildArgs);
  const syntaxErrorLines = new Set(syntax.filter((p) => p.severity === "error").map((p) => p.line));
  const problems = sortProblems([
    ...syntax,
    // A FROM the parser already rejected is not checked again.
    ...baseProblems(model, options).filter((p) => !syntaxErrorLines.has(p.line)),
    ...targetProblems(model, options),
    ...userProblems(model, options),
  ]);
  const errors = problems.filter((p) => p.severity === "error");
  const warnings = problems.filter((p) => p.severity === "warning");
  const final = finalStage(model, options.targets);
  const figures = {
    stages: model.stages.length,
    externalBases: model.stages.filter((s) => s.base.kind === "external").length,
    errors: errors.length,
    warnings: warnings.length,
    ...(final === undefined
      ? {}
      : {
          finalStage: final.name ?? String(final.index),
          finalUser: effectiveUser(model, final).user,
        }),
  };
  const details = [
    ...problems.map(format),
    ...(model.unusedBuildArgs.length > 0
      ? [`note: build args not declared by any ARG (ignored): ${model.unusedBuildArgs.join(", ")}`]
      : []),
    `${errors.length} error(s), ${warnings.length} warning(s)`,
  ];
  const findings = problems.map((p) => ({
    code: p.code,
    severity: p.severity,
    line: p.line ?? null,
    message: p.message,
  }));
  const first = errors[0] ?? warnings[0];
  if (first === undefined) {
    return pass(
      "lint",
      `${figures.stages} stage(s), every external base pinned by digest, final stage runs as ${figures.finalUser ?? "?"}`,
      { figures, details: details.slice(0, -1) },
    );
  }
  const summary = `${first.line === undefined ? "" : `line ${first.line}: `}${first.message}`;
  const make = errors.length > 0 ? block : warn;
  return make("lint", first.code, summary, { details, findings, figures });
}

/**
 * `lint`: the hadolint step, in process on the dockerfile-utils / dockerfile-ast parser: syntax,
 * bases pinned by digest after ARG substitution, required stages, a non-root final stage.
 */
const gate: Gate = {
  name: "lint",
  summary: "Dockerfile checks: syntax, bases pinned by digest, stages, non-root",
  usage: [
    "--dockerfile F        the Dockerfile to check",
    "--require-digest      an external base not pinned by digest blocks (else a warning)",
    "--target NAME         a stage the pipeline builds; must exist (repeatable)",
    "--build-arg K=V       a build arg, as given to docker build (repeatable)",
  ],
  options: {
    dockerfile: { type: "string" },
    "require-digest": { type: "boolean" },
    target: { type: "string", multiple: true },
    "build-arg": { type: "string", multiple: true },
  },
  async run(flags) {
    const path = typeof flags.dockerfile === "string" ? flags.dockerfile.trim() : "";
    if (path === "") throw new UsageError("--dockerfile is required");
    const targets = stringList(flags, "target");
    if (targets.some((t) => t === "")) throw new UsageError("--target needs a stage name");
    const buildArgs = parseBuildArgs(stringList(flags, "build-arg"));
    let content: string;
    try {
      content = readFileSync(path, "utf8");
    } catch (err) {
      throw new GateError("DOCKERFILE_SYNTAX", `cannot read the Dockerfile ${path}`, [
        (err as Error).message,
      ]);
    }
    return lintDockerfile(
      content,
      { requireDigest: flags["require-digest"] === true, targets },
      buildArgs,
    );
  },
};

export default gate;
