/**
 * Path patterns of `.trivyignore.yaml` (`paths:`), matched as Trivy matches them: with
 * github.com/bmatcuk/doublestar v4 `Match`. Compiled once to a RegExp.
 *
 * - `*` any run of characters except `/`; `?` one character except `/`
 * - `**` as a whole path component: zero or more components (`a/**` also matches `a`, `**\/b` matches
 *   `b`); elsewhere (`a**`) it is a plain `*`
 * - `[abc]`, `[a-z]`, `[^a]` / `[!a]` one character of a class (never `/`)
 * - `{a,b}` alternatives (may nest); `\x` the character x
 */

export class GlobError extends Error {}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Compiles a pattern; throws GlobError for what doublestar's ValidatePattern rejects. */
export function compileGlob(pattern: string): RegExp {
  let out = "";
  let braces = 0;
  let i = 0;
  const n = pattern.length;
  const componentStart = (at: number) => at === 0 || pattern[at - 1] === "/";
  const componentEnd = (at: number) => at === n || pattern[at] === "/";
  while (i < n) {
    const c = pattern[i];
    if (c === "*") {
      let j = i;
      while (j < n && pattern[j] === "*") j++;
      if (j - i >= 2 && componentStart(i) && componentEnd(j)) {
        if (j === n) {
          // `**` alone or a trailing `/**` (the `/` was emitted already: make it optional with the rest).
          if (i === 0) {
            out += ".*";
          } else {
            out = out.slice(0, -1) + "(?:/.*)?";
          }
          i = j;
        } else {
          out += "(?:.*/)?";
          i = j + 1; // swallow the `/` after `**`
        }
      } else {
        out += "[^/]*";
        i = j;
      }
      continue;
    }
    if (c === "?") {
      out += "[^/]";
    } else if (c === "\\") {
      if (i + 1 >= n) throw new GlobError(`pattern ${JSON.stringify(pattern)} ends with \\`);
      out += escapeRegExp(pattern[i + 1]);
      i += 2;
      continue;
    } else if (c === "[") {
      const end = classEnd(pattern, i);
      if (end < 0) throw new GlobError(`pattern ${JSON.stringify(pattern)} has an unclosed [`);
      let body = pattern.slice(i + 1, end);
      let negate = false;
      if (body.startsWith("^") || body.startsWith("!")) {
        negate = true;
        body = body.slice(1);
      }
      const inner = body.replace(/\\(.)/g, "$1").replace(/[\\\]^]/g, "\\$&");
      out += negate ? `[^/${inner}]` : `(?!/)[${inner}]`;
      i = end + 1;
      continue;
    } else if (c === "{") {
      braces++;
      out += "(?:";
    } else if (c === "}" && braces > 0) {
      braces--;
      out += ")";
    } else if (c === "," && braces > 0) {
      out += "|";
    } else {
      out += escapeRegExp(c);
    }
    i++;
  }
  if (braces > 0) throw new GlobError(`pattern ${JSON.stringify(pattern)} has an unclosed {`);
  return new RegExp(`^${out}$`, "s");
}

/** Index of the `]` closing the class opened at `open`, or -1. A `]` first in the class is literal. */
function classEnd(pattern: string, open: number): number {
  let i = open + 1;
  if (pattern[i] === "^" || pattern[i] === "!") i++;
  if (pattern[i] === "]") i++;
  for (; i < pattern.length; i++) {
    if (pattern[i] === "\\") i++;
    else if (pattern[i] === "]") return i;
  }
  return -1;
}
