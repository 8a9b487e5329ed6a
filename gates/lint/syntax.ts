import { validate } from "dockerfile-utils";
import type { LintProblem } from "./checks";

/** LSP severities as dockerfile-utils reports them. */
const ERROR = 1;

/**
 * The parser's own diagnostics (unknown instructions, missing arguments, bad flags, invalid stage
 * names...) as DOCKERFILE_SYNTAX problems: errors block, its style warnings (lower-case
 * instructions, MAINTAINER) are reported as warnings.
 */
export function syntaxProblems(content: string): LintProblem[] {
  return validate(content).map((diagnostic) => ({
    code: "DOCKERFILE_SYNTAX",
    severity: diagnostic.severity === ERROR ? "error" : "warning",
    line: diagnostic.range.start.line + 1,
    message: typeof diagnostic.message === "string" ? diagnostic.message : diagnostic.message.value,
  }));
}
