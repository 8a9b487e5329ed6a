/**
 * Finds Python import failures in output (pytest's collection errors, a crashed server's log): which
 * module could not be imported, so that a message can name it (`opentelemetry.exporter`), not just say
 * "exit 3".
 */

export interface ImportProblem {
  /** The module that could not be imported (`opentelemetry.exporter`), or the shared library. */
  module?: string;
  /** For `cannot import name 'x' from 'y'`: the missing name. */
  name?: string;
  /** The error line as Python printed it, without pytest's `E   ` prefix. */
  line: string;
}

const ERROR_LINE = /^(?:E\s+)?((?:ModuleNotFoundError|ImportError)\b.*)$/;
const NO_MODULE = /No module named ['"]?([\w.]+)['"]?/;
const CANNOT_IMPORT = /cannot import name ['"]?([\w.]+)['"]?(?: from ['"]([\w.]+)['"])?/;
const SHARED_OBJECT = /ImportError: ([^\s:]+\.so[\w.]*): cannot open shared object file/;

/** Every distinct import failure in the text, in order of first appearance. */
export function findImportErrors(text: string): ImportProblem[] {
  const found: ImportProblem[] = [];
  const seen = new Set<string>();
  for (const raw of text.split("\n")) {
    const match = ERROR_LINE.exec(raw.trim());
    if (match === null) {
      continue;
    }
    const line = (match[1] ?? "").trim();
    // "ImportError while importing test module '...'" is pytest's header, not the error itself.
    if (/^ImportError while (importing|loading)/.test(line)) {
      continue;
    }
    const problem = classify(line);
    const key = `${problem.module ?? ""}|${problem.name ?? ""}|${problem.module === undefined ? line : ""}`;
    if (!seen.has(key)) {
      seen.add(key);
      found.push(problem);
    }
  }
  return found;
}

function classify(line: string): ImportProblem {
  const noModule = NO_MODULE.exec(line);
  if (noModule !== null) {
    return { module: noModule[1], line };
  }
  const cannot = CANNOT_IMPORT.exec(line);
  if (cannot !== null) {
    return {
      ...(cannot[2] === undefined ? {} : { module: cannot[2] }),
      ...(cannot[1] === undefined ? {} : { name: cannot[1] }),
      line,
    };
  }
  const shared = SHARED_OBJECT.exec(line);
  if (shared !== null) {
    return { module: shared[1], line };
  }
  return { line };
}

/** What to call an import problem in a message: `module 'x'`, `'y' from module 'x'`, or its line. */
export function describeImportProblem(problem: ImportProblem): string {
  if (problem.name !== undefined && problem.module !== undefined) {
    return `'${problem.name}' from module '${problem.module}'`;
  }
  if (problem.module !== undefined) {
    return `module '${problem.module}'`;
  }
  return problem.line;
}

/** Test files pytest could not collect (`ERROR collecting tests/test_x.py`), in order, distinct. */
export function findCollectionErrors(text: string): string[] {
  const files: string[] = [];
  for (const match of text.matchAll(/ERROR collecting (\S+)/g)) {
    const file = match[1];
    if (file !== undefined && !files.includes(file)) {
      files.push(file);
    }
  }
  return files;
}
