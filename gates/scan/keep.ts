import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { UsageError } from "../result";

/**
 * `--keep-report FILE`: Trivy's raw JSON report, kept (SOP step 5). The report of a release is the
 * next release's `--baseline`, so the file must be whole or absent, and must be this run's:
 *
 * - `prepareKeep` runs before the scan: it makes the directory, and removes a report an earlier run
 *   left at that path (a scan that fails now must not leave the previous image's report standing as
 *   if it were this one's);
 * - `keepReport` writes a temporary file beside the target and renames it over (a rename within one
 *   directory is atomic): a reader never sees half a report, even if the gate is killed mid-write.
 *
 * Only a report that parsed is kept. A path that cannot be written is a usage error (exit 2): the
 * release stops, since its evidence could not be kept.
 */

function cannot(file: string, what: string, err: unknown, flag: string): UsageError {
  const code = (err as NodeJS.ErrnoException).code ?? String(err);
  return new UsageError(`${flag} ${file}: cannot ${what} (${code})`);
}

/** `flag` names the option in messages (`--keep-report`, `--sbom`: the SBOM is kept the same way). */
export function prepareKeep(file: string, flag = "--keep-report"): void {
  try {
    mkdirSync(dirname(file), { recursive: true });
  } catch (err) {
    throw cannot(file, `create the directory ${dirname(file)}`, err, flag);
  }
  try {
    rmSync(file, { force: true });
  } catch (err) {
    throw cannot(file, "remove the file an earlier run left there", err, flag);
  }
}

export function keepReport(file: string, bytes: Buffer, flag = "--keep-report"): void {
  const temp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  try {
    writeFileSync(temp, bytes);
    renameSync(temp, file);
  } catch (err) {
    rmSync(temp, { force: true });
    throw cannot(file, "write it", err, flag);
  }
}
