/** Small text helpers for showing the end of a command's output in a gate result. */

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;?]*[A-Za-z]/g;

/** Removes terminal colour codes (some tools colour even when not on a terminal). */
export function stripAnsi(text: string): string {
  return text.replace(ANSI, "");
}

/**
 * The last `count` non-blank-trailing lines of a text, colour codes removed, each cut to `width`
 * characters so that one minified line cannot flood a report.
 */
export function tailLines(text: string, count: number, width = 300): string[] {
  const lines = stripAnsi(text).replace(/\r\n?/g, "\n").split("\n");
  while (lines.length > 0 && (lines[lines.length - 1] ?? "").trim() === "") {
    lines.pop();
  }
  return lines.slice(Math.max(0, lines.length - count)).map((line) => clip(line, width));
}

/** A line cut to `width` characters, with an ellipsis when cut. */
export function clip(line: string, width: number): string {
  return line.length > width ? `${line.slice(0, width - 1)}…` : line;
}
