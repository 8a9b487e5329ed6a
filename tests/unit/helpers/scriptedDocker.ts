import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runGateCli } from "./cli";

/**
 * A fake `docker` CLI for unit tests of the gates that run docker (test, smoke, preflight): a small
 * Node script, pointed at by SLIPWAY_DOCKER, that records every argv and answers from canned rules.
 * It proves the argument wiring without an engine; the e2e suite runs the real one.
 */

export interface DockerRule {
  /** Every one of these must be an element of argv (first matching rule answers). */
  when: string[];
  stdout?: string;
  stderr?: string;
  exit?: number;
  /** Files to write into the host dir mounted at `/slipway-out` (`-v HOST:/slipway-out`). */
  writeOut?: Record<string, string>;
  /** Wait this long before answering (to exercise timeouts). */
  sleepMs?: number;
}

export interface ScriptedDocker {
  /** Set as SLIPWAY_DOCKER. */
  path: string;
  env: NodeJS.ProcessEnv;
  setRules(rules: DockerRule[]): void;
  /** Every argv the fake was called with, in order. */
  calls(): string[][];
  cleanup(): void;
}

const SCRIPT = `
const fs = require("node:fs");
const path = require("node:path");
const dir = __dirname;
const args = process.argv.slice(2);
fs.appendFileSync(path.join(dir, "calls.jsonl"), JSON.stringify(args) + "\\n");
const rules = JSON.parse(fs.readFileSync(path.join(dir, "rules.json"), "utf8"));
const rule = rules.find((r) => r.when.every((w) => args.includes(w)));
if (rule === undefined) {
  process.stderr.write("fake docker: no rule for " + JSON.stringify(args) + "\\n");
  process.exit(64);
}
const answer = () => {
  if (rule.writeOut) {
    const at = args.indexOf("-v");
    const host = at === -1 ? undefined : args[at + 1].split(":/slipway-out")[0];
    for (const [name, text] of Object.entries(rule.writeOut)) fs.writeFileSync(path.join(host, name), text);
  }
  if (rule.stdout) process.stdout.write(rule.stdout);
  if (rule.stderr) process.stderr.write(rule.stderr);
  process.exitCode = rule.exit ?? 0;
};
if (rule.sleepMs) setTimeout(answer, rule.sleepMs); else answer();
`;

export function scriptedDocker(rules: DockerRule[] = []): ScriptedDocker {
  const dir = mkdtempSync(join(tmpdir(), "slipway-scripted-docker-"));
  const path = join(dir, "docker");
  writeFileSync(path, `#!${process.execPath}\n${SCRIPT}`);
  chmodSync(path, 0o755);
  const setRules = (r: DockerRule[]): void =>
    writeFileSync(join(dir, "rules.json"), JSON.stringify(r));
  setRules(rules);
  return {
    path,
    env: { PATH: process.env.PATH, SLIPWAY_DOCKER: path },
    setRules,
    calls: () => {
      const file = join(dir, "calls.jsonl");
      if (!existsSync(file)) return [];
      return readFileSync(file, "utf8")
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => JSON.parse(l) as string[]);
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface GateRun {
  code: number;
  stdout: string;
  stderr: string;
  /** The `--json` result, when the run wrote one. */
  json?: Record<string, unknown>;
}

/** Runs the gate CLI in process with that environment, capturing its output and its `--json` result. */
export async function runGate(argv: string[], env: NodeJS.ProcessEnv): Promise<GateRun> {
  const dir = mkdtempSync(join(tmpdir(), "slipway-gate-run-"));
  const jsonPath = join(dir, "result.json");
  try {
    const run = await runGateCli([...argv, "--json", jsonPath], { env });
    const json = existsSync(jsonPath)
      ? (JSON.parse(readFileSync(jsonPath, "utf8")) as Record<string, unknown>)
      : undefined;
    return { ...run, ...(json === undefined ? {} : { json }) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
