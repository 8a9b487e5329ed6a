import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runGateCli, type CliRun } from "./cli";

export type { CliRun } from "./cli";

/** Runs the gate CLI in process with that environment (HOME pointing nowhere: no Docker config read). */
export function runCli(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  return runGateCli(argv, { env: { HOME: "/nonexistent", ...env } });
}

/**
 * A fake `docker` for `docker image inspect --format {{.Id}} REF`: prints env FAKE_IMAGE_ID, or
 * fails like Docker on a missing image when it is empty. Returns its path and a cleanup.
 */
export function fakeDocker(): { path: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), "slipway-fake-docker-"));
  const path = join(dir, "docker");
  writeFileSync(
    path,
    [
      "#!/bin/sh",
      'if [ "$1 $2 $3 $4" != "image inspect --format {{.Id}}" ]; then echo "unexpected: $*" >&2; exit 64; fi',
      'if [ -z "$FAKE_IMAGE_ID" ]; then echo "Error: No such image: $5" >&2; exit 1; fi',
      'echo "$FAKE_IMAGE_ID"',
      "",
    ].join("\n"),
  );
  chmodSync(path, 0o755);
  return { path, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
