import type { ErrorCode } from "../codes";
import { parseImageRef } from "../imageRef";
import type { DockerfileModel, Stage } from "./model";

export interface LintProblem {
  code: ErrorCode;
  severity: "error" | "warning";
  /** 1-based; undefined for a problem of the whole file (a missing stage). */
  line?: number;
  message: string;
}

export interface LintOptions {
  /** Unpinned external bases block (BASE_IMAGE_UNPINNED as an error) instead of warning. */
  requireDigest: boolean;
  /** Stage names the pipeline builds (`builder`, `runtime`): each must exist. */
  targets: string[];
}

function stageLabel(stage: Stage): string {
  return stage.name === undefined ? `stage ${stage.index}` : `stage ${stage.name}`;
}

/** `FROM ${BASE_IMAGE}` → `${BASE_IMAGE} (= python:3.11)`; a literal name as is. */
function shown(stage: Stage, image: string): string {
  return stage.raw.includes("$") ? `${stage.raw} (= ${image})` : image;
}

/** Base image rules: external bases pinned by digest, named by an explicit tag, and well-formed. */
export function baseProblems(model: DockerfileModel, options: LintOptions): LintProblem[] {
  const problems: LintProblem[] = [];
  for (const stage of model.stages) {
    const { base, line } = stage;
    if (base.kind === "invalid") {
      if (stage.raw === "") continue; // the parser reports a FROM without an image
      const missing = base.unset.map((n) => `--build-arg ${n}=...`).join(" ");
      problems.push({
        code: "DOCKERFILE_SYNTAX",
        severity: "error",
        line,
        message: `FROM ${stage.raw} expands to an empty image name (${base.unset.join(", ")} unset): give the ARG a default or pass ${missing}`,
      });
      continue;
    }
    if (base.kind !== "external") continue;
    let ref;
    try {
      ref = parseImageRef(base.image);
    } catch (err) {
      problems.push({
        code: "DOCKERFILE_SYNTAX",
        severity: "error",
        line,
        message: `FROM ${shown(stage, base.image)}: ${(err as Error).message}`,
      });
      continue;
    }
    if (ref.digest === undefined) {
      problems.push({
        code: "BASE_IMAGE_UNPINNED",
        severity: options.requireDigest ? "error" : "warning",
        line,
        message: `FROM ${shown(stage, base.image)} (${stageLabel(stage)}) is not pinned by digest`,
      });
    }
    if (ref.tag === undefined || ref.tag === "latest") {
      problems.push({
        code: "BASE_IMAGE_LATEST",
        severity: "warning",
        line,
        message: `FROM ${shown(stage, base.image)} (${stageLabel(stage)}) ${ref.tag === undefined ? "has no tag (it means latest)" : "uses the latest tag"}`,
      });
    }
  }
  return problems;
}

/** Every required target must be a stage name. */
export function targetProblems(model: DockerfileModel, options: LintOptions): LintProblem[] {
  const names = model.stages.flatMap((s) => (s.name === undefined ? [] : [s.name]));
  return options.targets
    .filter((target) => !names.includes(target.toLowerCase()))
    .map((target) => ({
      code: "MISSING_STAGE" as const,
      severity: "error" as const,
      message: `target "${target}" is not a stage of the Dockerfile (stages: ${names.length > 0 ? names.join(", ") : "none named"})`,
    }));
}

/**
 * The stage that becomes the shipped image: the required target defined last in the file (the
 * runtime stage comes after the builder), or without targets — or when one is missing, so the
 * intent is unknown — the last stage, which `docker build` builds by default.
 */
export function finalStage(model: DockerfileModel, targets: string[]): Stage | undefined {
  const wanted = new Set(targets.map((t) => t.toLowerCase()));
  const named = model.stages.filter((s) => s.name !== undefined && wanted.has(s.name));
  const allFound = new Set(named.map((s) => s.name)).size === wanted.size;
  const last = model.stages[model.stages.length - 1];
  return allFound ? (named[named.length - 1] ?? last) : last;
}

export interface EffectiveUser {
  user: string;
  /** Where it was decided: the USER line, or the FROM line of the base it falls back to. */
  line: number;
  /** Why, for people: `USER app at line 14`, `no USER since FROM python:3.11`. */
  reason: string;
}

/**
 * The user a stage runs as: its last USER, else the user of the earlier stage it is built FROM,
 * else root (an external base or scratch: Slipway cannot see inside the base, and the procedure
 * requires the Dockerfile itself to drop root).
 */
export function effectiveUser(model: DockerfileModel, stage: Stage): EffectiveUser {
  const last = stage.users[stage.users.length - 1];
  if (last !== undefined) {
    const expanded =
      last.user === last.raw ? "" : ` (= ${last.user === "" ? "nothing" : last.user})`;
    return {
      user: last.user,
      line: last.line,
      reason: `USER ${last.raw}${expanded} at line ${last.line}`,
    };
  }
  if (stage.base.kind === "stage") {
    const parent = model.stages[stage.base.parent];
    if (parent !== undefined) {
      const inherited = effectiveUser(model, parent);
      return { ...inherited, reason: `${inherited.reason}, inherited from ${stageLabel(parent)}` };
    }
  }
  return {
    user: "root",
    line: stage.line,
    reason: `no USER in ${stageLabel(stage)} since FROM ${stage.raw} at line ${stage.line}`,
  };
}

export function isRoot(user: string): boolean {
  const name = user.split(":")[0]?.trim() ?? "";
  return name === "" || name === "root" || /^0+$/.test(name);
}

/** The shipped stage must not run as root. */
export function userProblems(model: DockerfileModel, options: LintOptions): LintProblem[] {
  const stage = finalStage(model, options.targets);
  if (stage === undefined) return [];
  const effective = effectiveUser(model, stage);
  if (!isRoot(effective.user)) return [];
  return [
    {
      code: "RUNS_AS_ROOT",
      severity: "error",
      line: effective.line,
      message: `the final ${stageLabel(stage)} runs as root: ${effective.reason}`,
    },
  ];
}

/**
 * Problems in reading order: whole-file problems (a missing stage) first, then by line. The first
 * error's code decides a blocking result; warnings alone make a warning.
 */
export function sortProblems(problems: LintProblem[]): LintProblem[] {
  return [...problems].sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
}
