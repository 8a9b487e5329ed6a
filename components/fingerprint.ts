import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";

/**
 * `path=sha256:<hex>` of a project file's content (`path=absent` when it does not exist): a gate
 * command's `triggers` entry for a file it reads, so a changed allowlist, baseline or Dockerfile re-runs
 * the gate even though its command line (which names only the path) is the same. Read when the program
 * runs: preview shows the re-run it will cause.
 */
export function fileFingerprint(projectDir: string, path: string): string {
  let content: Buffer;
  try {
    content = readFileSync(join(projectDir, path));
  } catch {
    return `${path}=absent`;
  }
  return `${path}=sha256:${createHash("sha256").update(content).digest("hex")}`;
}
