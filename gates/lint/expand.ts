/**
 * Dockerfile variable substitution as BuildKit applies it to `FROM` and `ARG` values: `$VAR`,
 * `${VAR}`, `${VAR:-word}` / `${VAR-word}` (default when unset, or also when empty with `:`),
 * `${VAR:+word}` / `${VAR+word}` (alternative when set). An unset variable expands to nothing; the
 * names it met unset are returned so a message can say which build arg is missing.
 */
export interface Expansion {
  value: string;
  /** Variables referenced while unset (no default, no build arg). */
  unset: string[];
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;

/** The index of the `}` closing the `${` that starts at `open`, honouring nesting; -1 if none. */
function closingBrace(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i += 1) {
    if (text.startsWith("${", i)) {
      depth += 1;
      i += 1;
    } else if (text[i] === "}") {
      depth -= 1;
      if (depth === 0) return i;
    }
  }
  return -1;
}

export function expandVariables(
  text: string,
  lookup: (name: string) => string | undefined,
  escapeChar = "\\",
): Expansion {
  const unset: string[] = [];
  const expand = (input: string): string => {
    let out = "";
    for (let i = 0; i < input.length; i += 1) {
      const ch = input[i] ?? "";
      if (ch === escapeChar && input[i + 1] === "$") {
        out += "$";
        i += 1;
        continue;
      }
      if (ch !== "$") {
        out += ch;
        continue;
      }
      if (input[i + 1] === "{") {
        const end = closingBrace(input, i);
        if (end === -1) {
          out += input.slice(i);
          break;
        }
        const body = input.slice(i + 2, end);
        const name = NAME.exec(body)?.[0];
        if (name === undefined) {
          out += input.slice(i, end + 1);
        } else {
          out += substitute(name, body.slice(name.length));
        }
        i = end;
        continue;
      }
      const name = NAME.exec(input.slice(i + 1))?.[0];
      if (name === undefined) {
        out += ch;
        continue;
      }
      out += substitute(name, "");
      i += name.length;
    }
    return out;
  };
  const substitute = (name: string, modifier: string): string => {
    const value = lookup(name);
    const match = /^(:?)([-+?])([\s\S]*)$/.exec(modifier);
    if (match === null) {
      if (value === undefined) unset.push(name);
      return value ?? "";
    }
    const colon = match[1] === ":";
    const op = match[2];
    const word = match[3] ?? "";
    const isSet = value !== undefined && (!colon || value !== "");
    if (op === "-") return isSet ? value : expand(word);
    if (op === "+") return isSet ? expand(word) : "";
    // `?`: an error in Docker when unset; report it as unset.
    if (!isSet) unset.push(name);
    return value ?? "";
  };
  const value = expand(text);
  return { value, unset: [...new Set(unset)] };
}
