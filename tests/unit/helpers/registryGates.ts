import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../../gates/cli";
import type { GateContext } from "../../../gates/gate";

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the gate CLI in process with that environment, capturing what it writes. */
export async function runCli(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const write = { out: process.stdout.write, err: process.stderr.write };
  process.stdout.write = ((chunk: string) => out.push(chunk) > 0) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string) => err.push(chunk) > 0) as typeof process.stderr.write;
  const ctx: GateContext = {
    now: () => new Date(0),
    env: { HOME: "/nonexistent", ...env },
    progress: (line) => err.push(`${line}\n`),
  };
  try {
    const code = await main(argv, ctx);
    return { code, stdout: out.join(""), stderr: err.join("") };
  } finally {
    process.stdout.write = write.out;
    process.stderr.write = write.err;
  }
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
