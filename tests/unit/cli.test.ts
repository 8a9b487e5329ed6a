import assert from "node:assert/strict";
import { main } from "../../gates/cli";
import { ALL_CODES } from "../../gates/codes";
import type { GateContext } from "../../gates/gate";

/** Runs the CLI in process, capturing what it writes. */
async function runCli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const write = { out: process.stdout.write, err: process.stderr.write };
  process.stdout.write = ((chunk: string) => out.push(chunk) > 0) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string) => err.push(chunk) > 0) as typeof process.stderr.write;
  const ctx: GateContext = { now: () => new Date(0), env: {}, progress: (line) => err.push(line) };
  try {
    const code = await main(argv, ctx);
    return { code, stdout: out.join(""), stderr: err.join("") };
  } finally {
    process.stdout.write = write.out;
    process.stderr.write = write.err;
  }
}

describe("gate CLI", () => {
  it("prints the usage and exits 2 when no gate is named", async () => {
    const { code, stdout } = await runCli([]);
    assert.equal(code, 2);
    assert.match(stdout, /usage: slipway-gate <gate>/);
  });

  it("exits 2 with the usage for an unknown gate", async () => {
    const { code, stderr } = await runCli(["frobnicate"]);
    assert.equal(code, 2);
    assert.match(stderr, /unknown gate "frobnicate"/);
    assert.match(stderr, /gates:/);
  });

  it("exits 2 with the gate's usage for an unknown flag", async () => {
    const { code, stderr } = await runCli(["health", "--no-such-flag"]);
    assert.equal(code, 2);
    assert.match(stderr, /usage error/);
    assert.match(stderr, /slipway-gate health/);
  });

  it("lists every catalog code with its remedy", async () => {
    const { code, stdout } = await runCli(["codes"]);
    assert.equal(code, 0);
    for (const c of ALL_CODES) assert.match(stdout, new RegExp(`^${c} \\[`, "m"));
    assert.match(stdout, /what to do:/);
  });

  it("prints the catalog as JSON with --json", async () => {
    const { stdout } = await runCli(["codes", "--json"]);
    const parsed = JSON.parse(stdout) as { code: string; remedy: string }[];
    assert.deepEqual(
      parsed.map((c) => c.code),
      ALL_CODES,
    );
  });
});
