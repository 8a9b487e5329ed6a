import assert from "node:assert/strict";
import { ALL_CODES } from "../../gates/codes";
import { runGateCli } from "./helpers/cli";

describe("gate CLI", () => {
  it("prints the usage and exits 2 when no gate is named", async () => {
    const { code, stdout } = await runGateCli([]);
    assert.equal(code, 2);
    assert.match(stdout, /usage: slipway-gate <gate>/);
  });

  it("exits 2 with the usage for an unknown gate", async () => {
    const { code, stderr } = await runGateCli(["frobnicate"]);
    assert.equal(code, 2);
    assert.match(stderr, /unknown gate "frobnicate"/);
    assert.match(stderr, /gates:/);
  });

  it("exits 2 with the gate's usage for an unknown flag", async () => {
    const { code, stderr } = await runGateCli(["health", "--no-such-flag"]);
    assert.equal(code, 2);
    assert.match(stderr, /usage error/);
    assert.match(stderr, /slipway-gate health/);
  });

  it("lists every catalog code with its remedy", async () => {
    const { code, stdout } = await runGateCli(["codes"]);
    assert.equal(code, 0);
    for (const c of ALL_CODES) assert.match(stdout, new RegExp(`^${c} \\[`, "m"));
    assert.match(stdout, /what to do:/);
  });

  it("prints the catalog as JSON with --json", async () => {
    const { stdout } = await runGateCli(["codes", "--json"]);
    const parsed = JSON.parse(stdout) as { code: string; remedy: string }[];
    assert.deepEqual(
      parsed.map((c) => c.code),
      ALL_CODES,
    );
  });
});
