import assert from "node:assert/strict";
import {
  decisionOf,
  pass,
  parseVerdictLine,
  verdictLine,
  type GateResult,
} from "../../gates/result";
import { FakeRegistry } from "./helpers/fakeRegistry";
import { runCli } from "./helpers/registryGates";

const DIGEST = `sha256:${"a".repeat(64)}`;

/** A gate result as a gate returns it. */
function result(patch: Partial<GateResult> = {}): GateResult {
  return { ...pass("smoke", "image boots and answers"), ...patch };
}

describe("verdictLine", () => {
  it("prints the marker and one JSON object: gate, verdict, then code, subject and value when present", () => {
    assert.equal(
      verdictLine(result({ verdict: "block", code: "IMAGE_SIZE_EXCEEDED", value: "x" }), DIGEST),
      `slipway-verdict {"gate":"smoke","verdict":"block","code":"IMAGE_SIZE_EXCEEDED","subject":"${DIGEST}","value":"x"}`,
    );
  });

  it("leaves out what is absent, and never carries the summary, details or figures", () => {
    const line = verdictLine(
      result({ details: ["a detail"], figures: { sizeBytes: 1 }, timings: { total: 5 } }),
      undefined,
    );
    assert.equal(line, `slipway-verdict {"gate":"smoke","verdict":"pass"}`);
    assert.doesNotMatch(line, /image boots|detail|sizeBytes|total/);
  });

  it("is one line whatever the value holds", () => {
    const line = verdictLine(result({ value: "two\nlines" }), undefined);
    assert.equal(line.split("\n").length, 1);
    assert.equal(parseVerdictLine(`human text\n${line}\n`).value, "two\nlines");
  });
});

describe("parseVerdictLine", () => {
  it("reads the verdict line after the human text", () => {
    const stdout = `PASS smoke: image boots\n  details\n${verdictLine(result(), DIGEST)}\n`;
    assert.deepEqual(parseVerdictLine(stdout), {
      gate: "smoke",
      verdict: "pass",
      subject: DIGEST,
    });
  });

  it("takes the last verdict line when the output holds more than one", () => {
    const first = verdictLine(result({ verdict: "block", code: "TEST_FAILURE" }), DIGEST);
    const last = verdictLine(result(), DIGEST);
    assert.equal(parseVerdictLine(`${first}\n${last}\n`).verdict, "pass");
  });

  it("rejects output without a verdict line, quoting its end", () => {
    assert.throws(
      () => parseVerdictLine("PASS smoke: image boots and answers\n"),
      /no gate verdict in the command's output .*PASS smoke: image boots and answers/,
    );
    assert.throws(() => parseVerdictLine(""), /no gate verdict/);
  });

  it("rejects a verdict line that names no gate or an unknown verdict", () => {
    assert.throws(
      () => parseVerdictLine(`slipway-verdict {"verdict":"pass"}\n`),
      /no gate verdict/,
    );
    assert.throws(
      () => parseVerdictLine(`slipway-verdict {"gate":"smoke","verdict":"maybe"}\n`),
      /no gate verdict/,
    );
  });

  it("does not take a verdict marker in the middle of a line", () => {
    assert.throws(
      () => parseVerdictLine(`echo slipway-verdict {"gate":"smoke","verdict":"pass"}\n`),
      /no gate verdict/,
    );
  });
});

describe("decisionOf", () => {
  it("is the gate, the verdict, the code and the digest judged, '-' for what is absent", () => {
    assert.equal(
      decisionOf({ gate: "smoke", verdict: "pass", subject: DIGEST }),
      `smoke pass - ${DIGEST}`,
    );
    assert.equal(
      decisionOf({ gate: "scan", verdict: "warn", code: "BASE_IMAGE_DRIFT", subject: DIGEST }),
      `scan warn BASE_IMAGE_DRIFT ${DIGEST}`,
    );
    assert.equal(decisionOf({ gate: "lint", verdict: "pass" }), "lint pass - -");
  });

  it("is the same for the same decision in other words, and differs for another digest", () => {
    const a = parseVerdictLine(`PASS smoke: 1.2 GB\n${verdictLine(result(), DIGEST)}\n`);
    const b = parseVerdictLine(
      `PASS smoke: 1.3 GB, booted in 4 s\n${verdictLine(result({ summary: "other" }), DIGEST)}\n`,
    );
    assert.equal(decisionOf(a), decisionOf(b));
    const other = `sha256:${"b".repeat(64)}`;
    const c = parseVerdictLine(verdictLine(result(), other));
    assert.notEqual(decisionOf(c), decisionOf(a));
  });

  it("leaves the value out: a promoted digest or a summary is not part of the decision", () => {
    assert.equal(
      decisionOf({ gate: "promote", verdict: "pass", subject: DIGEST, value: DIGEST }),
      `promote pass - ${DIGEST}`,
    );
  });
});

describe("the gate CLI's --print-verdict", () => {
  let registry: FakeRegistry;
  beforeEach(async () => {
    registry = await new FakeRegistry().start();
  });
  afterEach(() => registry.stop());

  it("ends stdout with the verdict line of a blocked gate too, with its code and the pinned --image's digest", async () => {
    const run = await runCli(["smoke", "--image", `127.0.0.1:1/app@${DIGEST}`, "--print-verdict"]);
    assert.equal(run.code, 1);
    const lines = run.stdout.trimEnd().split("\n");
    assert.match(lines[lines.length - 1], /^slipway-verdict \{/, "the verdict line is the last");
    const line = parseVerdictLine(run.stdout);
    assert.equal(line.gate, "smoke");
    assert.equal(line.verdict, "block");
    assert.match(String(line.code), /^[A-Z_]+$/);
    assert.equal(line.subject, DIGEST);
    assert.ok(
      lines[0].startsWith(`${String(line.code)}: `),
      "the human text comes first, on stdout",
    );
  });

  it("names no subject when the gate judged no digest (a report file, a Dockerfile)", async () => {
    const run = await runCli([
      "lint",
      "--dockerfile",
      "examples/odoo/Dockerfile",
      "--build-arg",
      "BASE_IMAGE=python:3.11",
      "--print-verdict",
    ]);
    const line = parseVerdictLine(run.stdout);
    assert.equal(line.gate, "lint");
    assert.equal(line.subject, undefined);
  });

  it("prints resolve's digest as the verdict line's value", async () => {
    const image = registry.addImage("app", "one", ["v1.4.2"]);
    const run = await runCli([
      "resolve",
      "--repository",
      `${registry.host}/app`,
      "--ref",
      "v1.4.2",
      "--print-verdict",
    ]);
    assert.equal(run.code, 0, run.stderr);
    const line = parseVerdictLine(run.stdout);
    assert.deepEqual(line, { gate: "resolve", verdict: "pass", value: image.digest });
    assert.match(run.stdout, /^PASS resolve: /);
  });

  it("prints resolve's digest alone on stdout without --print-verdict, as before", async () => {
    const image = registry.addImage("app", "one", ["v1.4.2"]);
    const run = await runCli([
      "resolve",
      "--repository",
      `${registry.host}/app`,
      "--ref",
      "v1.4.2",
    ]);
    assert.equal(run.stdout, `${image.digest}\n`);
    assert.throws(() => parseVerdictLine(run.stdout), /no gate verdict/);
  });

  it("names the --digest a registry gate judged as the subject (retag)", async () => {
    const image = registry.addImage("app", "one", ["v1"]);
    const run = await runCli([
      "retag",
      "--repository",
      `${registry.host}/app`,
      "--digest",
      image.digest,
      "--tag",
      "latest",
      "--print-verdict",
    ]);
    assert.equal(run.code, 0, run.stderr);
    const line = parseVerdictLine(run.stdout);
    assert.equal(line.gate, "retag");
    assert.equal(line.verdict, "pass");
    assert.equal(line.subject, image.digest);
  });

  it("prints promote's released digest as the value, the candidate's digest as the subject", async () => {
    const candidate = registry.addImage("app", "one", ["candidate-v1.4.2-runtime"]);
    const run = await runCli([
      "promote",
      "--repository",
      `${registry.host}/app`,
      "--digest",
      candidate.digest,
      "--version",
      "v1.4.2",
      "--latest",
      "--print-verdict",
    ]);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const line = parseVerdictLine(run.stdout);
    assert.equal(line.gate, "promote");
    assert.equal(line.subject, candidate.digest);
    assert.equal(line.value, candidate.digest);
  });
});
