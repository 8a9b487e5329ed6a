import { WKHTMLTOPDF_MISSING } from "./args";
import { CheckResult, fail, ok } from "./checks";
import { clip } from "../testing/text";

/**
 * WKHTMLTOPDF_MISMATCH (SOP step 2 pins 0.12.6): the runtime image's `wkhtmltopdf --version`, run in
 * the smoke gate's check container. Measured: Debian bookworm's 0.12.6-2+b1 prints
 * `wkhtmltopdf 0.12.6` (tests/fixtures/wkhtmltopdf); the upstream patched-Qt builds print
 * `wkhtmltopdf 0.12.6 (with patched qt)`. The version is compared as dotted numbers: "0.12.6" expects
 * exactly 0.12.6 (and so does "0.12.6.1" expect 0.12.6.1); "0.12" accepts any 0.12.x.
 */

export interface WkhtmltopdfVersion {
  version: string;
  patchedQt: boolean;
}

/** The version in `wkhtmltopdf --version` output, or undefined when there is none. */
export function parseWkhtmltopdfVersion(output: string): WkhtmltopdfVersion | undefined {
  const match = /wkhtmltopdf\s+(\d+(?:\.\d+)+)(.*)$/m.exec(output);
  if (match === null) return undefined;
  return { version: match[1] ?? "", patchedQt: /patched qt/i.test(match[2] ?? "") };
}

/** True when `found` is `expected` or, for a shorter `expected`, one of its releases (0.12 ⊇ 0.12.6). */
export function versionMatches(found: string, expected: string): boolean {
  const f = found.split(".");
  const e = expected.split(".");
  return e.length <= f.length && e.every((part, i) => Number(part) === Number(f[i]));
}

export function isVersionText(text: string): boolean {
  return /^\d+(\.\d+)*$/.test(text);
}

/** The verdict, found vs expected. `run.output` is what `wkhtmltopdf --version` (or our script) printed. */
export function checkWkhtmltopdf(
  expected: string,
  run: { exitCode: number | null; timedOut: boolean; output: string },
): CheckResult {
  if (run.output.includes(WKHTMLTOPDF_MISSING)) {
    return fail(
      "wkhtmltopdf",
      "WKHTMLTOPDF_MISMATCH",
      `wkhtmltopdf: found none on the image's PATH, expected ${expected}`,
      { figures: { wkhtmltopdfExpected: expected } },
    );
  }
  const found = parseWkhtmltopdfVersion(run.output);
  if (found === undefined) {
    const first = run.output.split("\n").find((l) => l.trim() !== "") ?? "";
    return fail(
      "wkhtmltopdf",
      "WKHTMLTOPDF_MISMATCH",
      run.timedOut
        ? `wkhtmltopdf --version did not finish in time, expected ${expected}`
        : `wkhtmltopdf --version printed no version (exit ${run.exitCode ?? "killed"}), expected ${expected}${first === "" ? "" : `: ${clip(first.trim(), 120)}`}`,
      { figures: { wkhtmltopdfExpected: expected } },
    );
  }
  const figures = {
    wkhtmltopdfVersion: found.version,
    wkhtmltopdfExpected: expected,
    wkhtmltopdfPatchedQt: found.patchedQt,
  };
  const qt = found.patchedQt ? " (with patched qt)" : "";
  if (!versionMatches(found.version, expected)) {
    return fail(
      "wkhtmltopdf",
      "WKHTMLTOPDF_MISMATCH",
      `wkhtmltopdf: found ${found.version}${qt}, expected ${expected}`,
      { figures },
    );
  }
  return ok("wkhtmltopdf", `wkhtmltopdf ${found.version}${qt}`, { figures });
}
