import { spawn } from "node:child_process";
import { PROJECT_ROOT } from "./environment";

/** What one shell command did. */
export interface ShellResult {
  command: string;
  /** Exit code; `null` when killed by a signal (a timeout). */
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr interleaved in arrival order (what a person would have seen). */
  output: string;
  /** The first non-empty line of stdout: where a gate prints `CODE: ...` or `PASS ...`. */
  firstLine: string;
  ms: number;
}

export interface ShellOptions {
  /** Extra environment on top of the suite's (`SLIPWAY_DOCKER`, `DOCKER_BUILDKIT`). */
  env?: Record<string, string>;
  /** Kill the command after this many milliseconds (default 10 minutes). */
  timeoutMs?: number;
  cwd?: string;
}

/** The environment every command of the suite runs with (as the `.ci/run` job would set it). */
export const SUITE_ENV: Record<string, string> = {
  SLIPWAY_DOCKER: "/usr/bin/docker",
  DOCKER_BUILDKIT: "1",
};

/**
 * Runs one command line exactly as a `command.local.Command` would: `sh -c COMMAND` in the project
 * root. Never throws on a non-zero exit: the exit code is part of what the tests assert.
 */
export function sh(command: string, options: ShellOptions = {}): Promise<ShellResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn("sh", ["-c", command], {
      cwd: options.cwd ?? PROJECT_ROOT,
      env: { ...process.env, ...SUITE_ENV, ...(options.env ?? {}) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      output += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      output += chunk.toString();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 600_000);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      const firstLine = stdout.split("\n").find((line) => line.trim() !== "") ?? "";
      resolve({
        command,
        exitCode: code,
        stdout,
        stderr,
        output,
        firstLine,
        ms: Date.now() - started,
      });
    });
  });
}

/** Like {@link sh}, but a non-zero exit is an error carrying the command's output. */
export async function shOk(command: string, options: ShellOptions = {}): Promise<ShellResult> {
  const result = await sh(command, options);
  if (result.exitCode !== 0) {
    throw new Error(
      `command failed (exit ${result.exitCode}): ${command}\n${result.output.slice(-4000)}`,
    );
  }
  return result;
}
