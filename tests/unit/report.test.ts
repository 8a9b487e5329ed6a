import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runGateCli } from "./helpers/cli";
import { assembleReport, NOT_RE_RUN, summarize } from "../../gates/report/assemble";
const INPUT_INVALID = "REPORT_INPUT_INVALID";
const NOT_RUN = "GATE_NOT_RUN";
import { readResultsDir, ReportInput } from "../../gates/report/inputs";
import { formatDuration, renderMarkdown } from "../../gates/report/markdown";
import { parseReleaseInfo, parseSkipped, serializeReleaseInfo } from "../../gates/report/release";
import { reportOutputOf } from "../../gates/report/summary";
import { GateResult, pass } from "../../gates/result";
import { smokeResult } from "../../gates/smoke";
import { checkSize, checkUser } from "../../gates/smoke/checks";
import { mapTestOutcome } from "../../gates/testing/outcome";
import {
  baseSection,
  scanSection,
  sizeSection,
  smokeChecks,
  testsSection,
} from "../../gates/report/sections";

const FIXTURES = join(__dirname, "..", "fixtures", "release");
const BLOCKED = join(FIXTURES, "blocked");

/**
 * The good release as the digest-addressed pipeline leaves it: the fixture
 * tests/fixtures/release/good with `promote.json` (the registry-side promotion of the gated digest)
 * where the push era had `tag-guard.json`, and no `push` stage (nothing is pushed after the build).
 * Written once per run into a temporary copy (removed after the run); the committed fixture itself
 * is read-only here.
 */
const GOOD = ((): string => {
  const dir = mkdtempSync(join(tmpdir(), "slipway-report-good-"));
  cpSync(join(FIXTURES, "good"), dir, { recursive: true });
  const release = JSON.parse(readFileSync(join(dir, "release.json"), "utf8")) as {
    digest: string;
    image: string;
    stages?: Record<string, number>;
  };
  delete release.stages?.push;
  writeFileSync(join(dir, "release.json"), `${JSON.stringify(release, null, 2)}\n`);
  rmSync(join(dir, "tag-guard.json"), { force: true });
  const promote: GateResult = {
    gate: "promote",
    verdict: "pass",
    summary: `${release.image} now holds ${release.digest}, and latest too`,
    details: [],
    findings: [],
    figures: {
      repository: "registry.digitalocean.com/acme/odoo",
      version: "v1.4.3",
      digest: release.digest,
    },
    timings: { total: 890 },
    value: release.digest,
  };
  writeFileSync(join(dir, "promote.json"), `${JSON.stringify(promote, null, 2)}\n`);
  return dir;
})();
after(() => rmSync(GOOD, { recursive: true, force: true }));

const runCli = (argv: string[]) => runGateCli(argv);

/** A scratch copy of a fixture directory, removed after the test. */
let scratch: string[] = [];
function copyOf(dir: string): string {
  const copy = mkdtempSync(join(tmpdir(), "slipway-report-"));
  scratch.push(copy);
  cpSync(dir, copy, { recursive: true });
  return copy;
}
function emptyDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "slipway-report-"));
  scratch.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
  scratch = [];
});

describe("release report: a good release", () => {
  let input: ReportInput;
  before(async () => {
    input = await readResultsDir(GOOD);
  });

  it("is READY with no blocker when every needed gate passed", () => {
    const report = assembleReport(input);
    assert.equal(report.readiness, "READY");
    assert.deepEqual(report.blockers, []);
    assert.deepEqual(
      report.gates.map((g) => [g.gate, g.status]),
      [
        ["preflight", "pass"],
        ["lint", "pass"],
        ["base", "pass"],
        ["test", "pass"],
        ["smoke", "pass"],
        ["scan", "pass"],
        ["promote", "pass"],
        ["health", "pass"],
      ],
    );
  });

  it("names the image, its digest, the base and its digest, and the rollback target", () => {
    const report = assembleReport(input);
    assert.equal(report.image, "registry.digitalocean.com/acme/odoo:v1.4.3");
    assert.match(report.digest ?? "", /^sha256:[a-f0-9]{64}$/);
    assert.equal(
      report.base.digest,
      "sha256:9e25f400253a5fa3191813d6a67eb801ca1e6f012b3bd2588fa6920b59e3eba6",
    );
    assert.equal(report.base.current, report.base.digest);
    assert.equal(report.previous, "v1.4.2");
    assert.equal(
      report.rollbackCommand,
      "pulumi config set --path release.pin v1.4.2 --stack prod && pulumi up --stack prod",
    );
  });

  it("reads tests, size, smoke checks and the scan from the gates' own figures", () => {
    const report = assembleReport(input);
    assert.deepEqual(
      { ...report.tests, failing: report.tests?.failing.length },
      {
        total: 121,
        passed: 118,
        failed: 0,
        errors: 0,
        skipped: 3,
        coverage: 83.22,
        coverageMin: 80,
        failing: 0,
      },
    );
    assert.equal(report.size?.bytes, 812_400_000);
    assert.equal(report.size?.maxBytes, 2_000_000_000);
    assert.deepEqual(
      report.smoke?.map((c) => [c.check, c.ok]),
      [
        ["size", true],
        ["version", true],
        ["paths", true],
        ["imports", true],
        ["user", true],
        ["boot", true],
      ],
    );
    assert.deepEqual(report.scan?.counts, { CRITICAL: 1, HIGH: 0, MEDIUM: 0, LOW: 1, UNKNOWN: 0 });
    assert.deepEqual(report.scan?.blocking, []);
    assert.deepEqual(
      report.scan?.allowlisted.map((a) => [a.id, a.severity, a.expires]),
      [["CVE-2019-18224", "CRITICAL", "2027-03-31"]],
    );
  });

  it("times every stage in pipeline order, builds and deploy included", () => {
    const report = assembleReport(input);
    assert.deepEqual(
      report.stages.map((s) => s.name),
      [
        "preflight",
        "lint",
        "base",
        "build-builder",
        "test",
        "build-runtime",
        "smoke",
        "scan",
        "promote",
        "deploy",
        "health",
      ],
    );
    assert.equal(
      report.totalMs,
      report.stages.reduce((sum, s) => sum + s.ms, 0),
    );
  });

  it("prints the verdict first, then the facts and each gate's evidence", () => {
    const md = renderMarkdown(assembleReport(input));
    const lines = md.split("\n");
    assert.equal(lines[0], "# Release report: v1.4.3 (prod)");
    assert.match(lines[2], /^\*\*READY\*\*/);
    assert.match(md, /\| Digest \| `sha256:[a-f0-9]{64}` \|/);
    assert.match(
      md,
      /\| Base digest \| `sha256:9e25f4[a-f0-9]+` \(its tag still resolves to it\) \|/,
    );
    assert.match(md, /812 MB of 2 GB allowed \(41 %\)/);
    assert.match(md, /118 passed, 0 failed, 0 errors, 3 skipped \(121 tests\)/);
    assert.match(md, /Coverage: 83\.22 % \(floor 80 %\)/);
    assert.match(md, /\| boot \| ok \| booted and answered 200 on \/web\/health/);
    assert.match(
      md,
      /\| CVE-2019-18224 \| CRITICAL \| libidn2-0 \| 2027-03-31 \| libidn2 is only reached/,
    );
    assert.match(
      md,
      /pulumi config set --path release\.pin v1\.4\.2 --stack prod && pulumi up --stack prod/,
    );
    assert.doesNotMatch(md, /## Blockers/);
  });

  it("passes as a gate, writes the Markdown and the JSON result", async () => {
    const dir = copyOf(GOOD);
    const out = join(dir, "out", "report.md");
    const json = join(dir, "report.json");
    const { code, stdout } = await runCli(["report", "--from", dir, "--out", out, "--json", json]);
    assert.equal(code, 0);
    assert.match(stdout, /^PASS report: READY: v1\.4\.3 sha256:/);
    assert.equal(readFileSync(out, "utf8"), renderMarkdown(assembleReport(input)));
    const result = JSON.parse(readFileSync(json, "utf8")) as { verdict: string; figures: object };
    assert.equal(result.verdict, "pass");
    assert.deepEqual(
      { ...result.figures, totalMs: undefined },
      {
        readiness: "READY",
        mode: "release",
        blockers: 0,
        warnings: 0,
        totalMs: undefined,
        stack: "prod",
        version: "v1.4.3",
        image: "registry.digitalocean.com/acme/odoo:v1.4.3",
        digest: assembleReport(input).digest,
        previous: "v1.4.2",
        report: out,
      },
    );
  });

  it("reads the same directory the same way after writing its own report.json into it", async () => {
    const dir = copyOf(GOOD);
    const args = ["report", "--from", dir, "--out", join(dir, "report.md"), "--json"];
    const first = await runCli([...args, join(dir, "report.json")]);
    const second = await runCli([...args, join(dir, "report.json")]);
    assert.equal(first.code, 0);
    assert.equal(second.stdout, first.stdout);
  });

  it("prints the summary for stack outputs as one JSON line with --print-summary", async () => {
    const { code, stdout, stderr } = await runCli(["report", "--from", GOOD, "--print-summary"]);
    assert.equal(code, 0);
    assert.deepEqual(JSON.parse(stdout), {
      readiness: "READY",
      version: "v1.4.3",
      image: "registry.digitalocean.com/acme/odoo:v1.4.3",
      digest: assembleReport(input).digest,
      previous: "v1.4.2",
      blockers: [],
      blockerCodes: [],
    });
    assert.equal(stdout.trim().split("\n").length, 1);
    assert.match(stderr, /PASS report: READY/);
  });

  it("prints the Markdown on stdout without --out", async () => {
    const { stdout } = await runCli(["report", "--from", GOOD]);
    assert.equal(stdout, renderMarkdown(assembleReport(input)));
  });

  it("takes the rollback target from --previous over release.json", async () => {
    const { stdout } = await runCli(["report", "--from", GOOD, "--previous", "v1.4.1"]);
    assert.match(stdout, /pulumi config set --path release\.pin v1\.4\.1 --stack prod/);
  });
});

describe("release report: a blocked release", () => {
  let input: ReportInput;
  before(async () => {
    input = await readResultsDir(BLOCKED);
  });

  it("is NOT READY and lists each blocker with its code, in pipeline order", () => {
    const report = assembleReport(input);
    assert.equal(report.readiness, "NOT READY");
    assert.deepEqual(
      report.blockers.map((b) => [b.gate, b.code]),
      [
        ["test", "TEST_FAILURE"],
        ["smoke", "IMAGE_SIZE_EXCEEDED"],
        ["scan", "SECURITY_CRITICAL"],
        ["promote", NOT_RUN],
        ["health", NOT_RUN],
      ],
    );
    assert.deepEqual(
      report.warnings.map((w) => [w.gate, w.code]),
      [["base", "BASE_IMAGE_DRIFT"]],
    );
  });

  it("blocks as a gate with the first blocker's code and lists every blocker", async () => {
    const { code, stdout } = await runCli([
      "report",
      "--from",
      BLOCKED,
      "--out",
      join(emptyDir(), "r.md"),
    ]);
    assert.equal(code, 1);
    const lines = stdout.split("\n");
    assert.match(
      lines[0],
      /^TEST_FAILURE: NOT READY v1\.4\.4: 5 blockers: TEST_FAILURE \(test\), /,
    );
    assert.match(stdout, /^ {2}SECURITY_CRITICAL scan: 1 blocking finding/m);
    assert.match(stdout, new RegExp(`^  ${NOT_RUN} health: not run`, "m"));
  });

  it("shows the evidence of each blocker: failing tests, largest layers, the boot crash, the finding", () => {
    const md = renderMarkdown(assembleReport(input));
    assert.match(md, /^\*\*NOT READY\*\*: 5 blockers, first TEST_FAILURE\.$/m);
    assert.match(md, /\| test \| `TEST_FAILURE` \| 2 failing tests/);
    assert.match(md, /\| Digest \| not released \(or not recorded\) \|/);
    assert.match(md, /its tag now resolves to `sha256:2b9d5c9e[a-f0-9]+`; pin next:/);
    assert.match(md, /Coverage: 71\.27 % \(floor 80 %: below\)/);
    assert.match(
      md,
      /\| `custom_addons\.sale_ext\.tests\.test_pricing::test_discount_rounding` \| failed \|/,
    );
    assert.match(
      md,
      /\| 1\.21 GB \| `RUN pip install --no-cache-dir -r \/tmp\/requirements\.txt` \|/,
    );
    assert.match(
      md,
      /\| boot \| FAILED `CONTAINER_START_FAILURE` \| the container exited with code 3 during boot: ModuleNotFoundError: No module named 'opentelemetry\.exporter' \|/,
    );
    assert.match(
      md,
      /\| CVE-2019-18224 \| CRITICAL \| libidn2-0 \| 2\.0\.5-1 → 2\.0\.5-1\+deb10u1 \|/,
    );
    assert.match(
      md,
      /Allowlist entry CVE-2019-18224 \(\.trivyignore\.yaml:2\) expired on 2026-10-31/,
    );
    assert.match(md, /\| promote \| not run \|/);
  });

  it("only warns, with the same code, when run --advisory", async () => {
    const { code, stdout, stderr } = await runCli([
      "report",
      "--from",
      BLOCKED,
      "--advisory",
      "--print-summary",
    ]);
    assert.equal(code, 0);
    assert.match(stderr, /^TEST_FAILURE: NOT READY v1\.4\.4: 5 blockers/);
    const summary = JSON.parse(stdout) as { readiness: string; blockers: string[] };
    assert.equal(summary.readiness, "NOT READY");
    assert.equal(summary.blockers.length, 5);
  });

  it("exports the blockers in the summary", () => {
    const summary = summarize(assembleReport(input));
    assert.deepEqual(summary.blockers.slice(0, 1), [
      "TEST_FAILURE test: 2 failing tests (117 passed, 2 failed, 3 skipped)",
    ]);
    assert.deepEqual(summary.blockerCodes, [
      "TEST_FAILURE",
      "IMAGE_SIZE_EXCEEDED",
      "SECURITY_CRITICAL",
      NOT_RUN,
      NOT_RUN,
    ]);
  });
});

describe("release report: as the pipeline writes it", () => {
  const DIGEST = `sha256:${"5f".repeat(32)}`;
  const BASE = `python:3.11-slim-bullseye@sha256:${"9e".repeat(32)}`;
  /** The flags the pipeline's report command passes (gates/commands.ts reportCommand). */
  const releaseFlags = [
    "--version",
    "v1.5.0",
    "--mode",
    "release",
    "--stack",
    "dev",
    "--image",
    "registry.digitalocean.com/acme/odoo:v1.5.0",
    "--digest",
    DIGEST,
    "--base",
    BASE,
  ];

  it("records release.json from its flags before reading the directory", async () => {
    const dir = copyOf(GOOD);
    const { code } = await runCli([
      "report",
      "--from",
      dir,
      ...releaseFlags,
      "--skipped",
      "scan=scan.enabled is false",
      "--print-summary",
    ]);
    assert.equal(code, 0);
    assert.equal(
      readFileSync(join(dir, "release.json"), "utf8"),
      serializeReleaseInfo({
        version: "v1.5.0",
        mode: "release",
        stack: "dev",
        image: "registry.digitalocean.com/acme/odoo:v1.5.0",
        digest: DIGEST,
        baseImage: BASE,
        skipped: { scan: "scan.enabled is false" },
      }),
    );
  });

  it("names the pipeline's image, digest and base, and lists a disabled gate as skipped", async () => {
    const dir = copyOf(GOOD);
    rmSync(join(dir, "test.json"));
    const { code, stdout } = await runCli([
      "report",
      "--from",
      dir,
      ...releaseFlags,
      "--skipped",
      "test=tests.enabled is false",
      "--print-summary",
    ]);
    assert.equal(code, 0);
    assert.deepEqual(JSON.parse(stdout), {
      readiness: "READY",
      version: "v1.5.0",
      image: "registry.digitalocean.com/acme/odoo:v1.5.0",
      digest: DIGEST,
      blockers: [],
      blockerCodes: [],
    });
    const md = renderMarkdown(assembleReport(await readResultsDir(dir)));
    assert.match(md, /^# Release report: v1\.5\.0 \(dev\)$/m);
    assert.match(md, /Skipped: tests\.enabled is false\./);
  });

  it("creates the results directory when no gate wrote into it", async () => {
    const dir = join(emptyDir(), "releases", "v1.5.0");
    const { code, stdout } = await runCli([
      "report",
      "--from",
      dir,
      ...releaseFlags,
      "--advisory",
      "--print-summary",
    ]);
    assert.equal(code, 0);
    assert.equal((JSON.parse(stdout) as { readiness: string }).readiness, "NOT READY");
    assert.ok(parseReleaseInfo(readFileSync(join(dir, "release.json"), "utf8")).ok);
  });

  it("--gated: a needed gate with no result passed in an earlier run, so it is not a blocker", async () => {
    const dir = copyOf(GOOD);
    rmSync(join(dir, "scan.json"));
    const gated = await runCli(["report", "--from", dir, "--gated", "--print-summary"]);
    assert.equal(gated.code, 0);
    assert.equal((JSON.parse(gated.stdout) as { readiness: string }).readiness, "READY");
    assert.deepEqual(
      assembleReport(await readResultsDir(dir), { gated: true }).gates.find(
        (g) => g.gate === "scan",
      ),
      { gate: "scan", status: "skipped", summary: NOT_RE_RUN },
    );
    // Without it, the same directory is NOT READY: the scan left no result.
    const plain = await runCli(["report", "--from", dir, "--print-summary"]);
    assert.equal(plain.code, 1);
  });

  it("--gated still reports a result that blocked", async () => {
    const { code, stdout } = await runCli([
      "report",
      "--from",
      BLOCKED,
      "--gated",
      "--advisory",
      "--print-summary",
    ]);
    assert.equal(code, 0);
    assert.deepEqual((JSON.parse(stdout) as { blockerCodes: string[] }).blockerCodes, [
      "TEST_FAILURE",
      "IMAGE_SIZE_EXCEEDED",
      "SECURITY_CRITICAL",
    ]);
  });

  for (const [name, argv, says] of [
    ["a release flag without --version", ["--image", "x:1"], /--version is required/],
    ["a malformed digest", [...releaseFlags.slice(0, 8), "--digest", "sha256:abc"], /--digest:/],
    ["an unknown mode", ["--version", "v1", "--mode", "forward"], /--mode:/],
    ["a --skipped without a reason", ["--version", "v1", "--skipped", "scan"], /gate=reason/],
  ] as const) {
    it(`refuses ${name} as a usage error (exit 2), writing nothing`, async () => {
      const dir = emptyDir();
      const { code, stderr } = await runCli(["report", "--from", dir, ...argv]);
      assert.equal(code, 2);
      assert.match(stderr, says);
      assert.throws(() => readFileSync(join(dir, "release.json")));
    });
  }

  it("parses gate=reason pairs, refusing a gate listed twice", () => {
    assert.deepEqual(parseSkipped(["test=tests.enabled is false", "scan = off "]), {
      ok: true,
      skipped: { test: "tests.enabled is false", scan: "off" },
    });
    const twice = parseSkipped(["scan=a", "scan=b"]);
    assert.equal(twice.ok, false);
  });
});

describe("release report: the stack output", () => {
  it("reads the verdict and the blockers' codes from the --print-summary line", async () => {
    const { stdout } = await runCli(["report", "--from", BLOCKED, "--advisory", "--print-summary"]);
    assert.deepEqual(reportOutputOf(stdout, ".slipway/releases/v1.4.4/report.md"), {
      verdict: "NOT READY",
      blockers: ["TEST_FAILURE", "IMAGE_SIZE_EXCEEDED", "SECURITY_CRITICAL", NOT_RUN, NOT_RUN],
      report: ".slipway/releases/v1.4.4/report.md",
    });
  });

  it("refuses a line that is not the summary, rather than claim a verdict", () => {
    assert.throws(() => reportOutputOf("PASS report: READY\n", "r.md"), /printed no summary/);
    assert.throws(
      () => reportOutputOf('{"readiness":"MAYBE","blockerCodes":[]}', "r.md"),
      /printed no summary/,
    );
  });
});

describe("release report: missing and disabled gates", () => {
  it("counts a needed gate that left no result as a blocker of its own", async () => {
    const dir = copyOf(GOOD);
    rmSync(join(dir, "scan.json"));
    const report = assembleReport(await readResultsDir(dir));
    assert.equal(report.readiness, "NOT READY");
    assert.deepEqual(
      report.blockers.map((b) => [b.gate, b.code]),
      [["scan", NOT_RUN]],
    );
    assert.match(renderMarkdown(report), /## Vulnerability scan\n\nNot run: no scan result\./);
  });

  it("does not count a gate disabled by a <gate>.skipped marker, and says why", async () => {
    const dir = copyOf(GOOD);
    rmSync(join(dir, "scan.json"));
    writeFileSync(join(dir, "scan.skipped"), "scan.enabled is false (dev)\n");
    const report = assembleReport(await readResultsDir(dir));
    assert.equal(report.readiness, "READY");
    assert.deepEqual(
      report.gates.find((g) => g.gate === "scan"),
      {
        gate: "scan",
        status: "skipped",
        summary: "scan.enabled is false (dev)",
      },
    );
    assert.match(renderMarkdown(report), /Skipped: scan\.enabled is false \(dev\)\./);
  });

  it("takes release.json's skipped gates as disabled too", async () => {
    const dir = copyOf(GOOD);
    rmSync(join(dir, "test.json"));
    const info = parseReleaseInfo(readFileSync(join(dir, "release.json"), "utf8"));
    assert.ok(info.ok);
    writeFileSync(
      join(dir, "release.json"),
      serializeReleaseInfo({ ...info.info, skipped: { test: "tests.enabled is false" } }),
    );
    const report = assembleReport(await readResultsDir(dir));
    assert.equal(report.readiness, "READY");
    assert.equal(report.gates.find((g) => g.gate === "test")?.status, "skipped");
  });

  it("reads a results directory that does not exist as a release where nothing ran", async () => {
    const input = await readResultsDir(join(emptyDir(), "nope"));
    const report = assembleReport(input);
    assert.equal(report.readiness, "NOT READY");
    assert.equal(report.blockers.length, 8);
    assert.ok(report.blockers.every((b) => b.code === NOT_RUN));
    assert.match(renderMarkdown(report), /the results directory .*nope does not exist/);
  });

  it("expects resolve and health of a rollback, and builds no size, test or scan section", () => {
    const input: ReportInput = {
      release: { version: "v1.4.2", mode: "rollback", stack: "prod", previous: "v1.4.3" },
      results: {
        resolve: pass("resolve", "v1.4.2 is sha256:ab", {
          figures: {
            repository: "registry.digitalocean.com/acme/odoo",
            ref: "v1.4.2",
            digest: `sha256:${"ab".repeat(32)}`,
          },
        }),
        retag: pass("retag", "latest now points at sha256:ab"),
        health: pass("health", "GET https://odoo/web/health answered 200"),
      },
      skipped: {},
      notes: [],
    };
    const report = assembleReport(input);
    assert.equal(report.readiness, "READY");
    assert.deepEqual(
      report.gates.map((g) => g.gate),
      ["resolve", "health", "retag"],
    );
    assert.equal(report.digest, `sha256:${"ab".repeat(32)}`);
    const md = renderMarkdown(report);
    assert.match(md, /^# Rollback report: v1\.4\.2 \(prod\)$/m);
    assert.doesNotMatch(md, /## Tests|## Image size|## Vulnerability scan/);
  });
});

describe("release report: unreadable input fails closed", () => {
  const cases: Array<[string, string, string, RegExp]> = [
    ["not JSON", "test.json", "{ truncated", /test\.json: not JSON/],
    [
      "a verdict that is not one",
      "test.json",
      JSON.stringify({ ...pass("test", "ok"), verdict: "ok" }),
      /verdict: expected "pass", "warn" or "block"/,
    ],
    [
      "a code not in the catalog",
      "scan.json",
      JSON.stringify({ ...pass("scan", "x"), verdict: "block", code: "SCAN_SAYS_NO" }),
      /code: "SCAN_SAYS_NO" is not a code of the catalog/,
    ],
    [
      "another gate's result under this name",
      "test.json",
      JSON.stringify(pass("scan", "no findings")),
      /holds the result of the "scan" gate, not "test"/,
    ],
    [
      "a release.json with a bad digest",
      "release.json",
      '{"version":"v1","digest":"sha256:xyz"}',
      /digest: expected sha256/,
    ],
  ];
  for (const [what, file, text, problem] of cases) {
    it(`blocks with ${INPUT_INVALID} naming the file on ${what}`, async () => {
      const dir = copyOf(GOOD);
      writeFileSync(join(dir, file), text);
      const { code, stdout } = await runCli(["report", "--from", dir]);
      assert.equal(code, 1);
      assert.ok(stdout.startsWith(`${INPUT_INVALID}: ${join(dir, file)} cannot be read`), stdout);
      assert.match(stdout, problem);
    });
  }

  it("is a usage error (exit 2) without --from", async () => {
    const { code, stderr } = await runCli(["report"]);
    assert.equal(code, 2);
    assert.match(stderr, /--from DIR is required/);
  });
});

describe("release report: formatting", () => {
  it("keeps table cells on one line and escapes column separators", () => {
    const report = assembleReport({
      results: {
        lint: { ...pass("lint", "a | b\nc"), verdict: "block", code: "DOCKERFILE_SYNTAX" },
      },
      skipped: {},
      notes: [],
    });
    assert.match(renderMarkdown(report), /\| lint \| `DOCKERFILE_SYNTAX` \| a \\\| b c \|/);
  });

  it("prints durations as people read them", () => {
    assert.deepEqual([850, 12_340, 245_000].map(formatDuration), [
      "850 ms",
      "12.3 s",
      "4 min 05 s",
    ]);
  });

  it("renders the same report to the same text (no clock, no environment)", async () => {
    const input = await readResultsDir(BLOCKED);
    assert.equal(renderMarkdown(assembleReport(input)), renderMarkdown(assembleReport(input)));
  });
});

describe("release report: reads the keys the gates write today", () => {
  it("test: counts, coverage and failing tests from mapTestOutcome", () => {
    const result = mapTestOutcome({
      image: "b",
      exitCode: 1,
      timedOut: false,
      timeoutMs: 1000,
      durationMs: 10,
      output: "",
      junit:
        '<testsuite tests="2" failures="1" errors="0" skipped="0"><testcase classname="t" name="a"/>' +
        '<testcase classname="t" name="b"><failure message="boom">boom</failure></testcase></testsuite>',
      coverage:
        '<coverage lines-valid="200" lines-covered="150" branches-valid="0" branches-covered="0"/>',
      coverageMin: 80,
    });
    const t = testsSection(result);
    assert.deepEqual([t.total, t.passed, t.failed, t.coverage, t.coverageMin], [2, 1, 1, 75, 80]);
    assert.deepEqual(
      t.failing.map((f) => f.outcome),
      ["failed"],
    );
  });

  it("smoke: size, budget, largest layers and each check from smokeResult", () => {
    const layer = {
      id: "l1",
      sizeBytes: 3e9,
      createdBy: "RUN /bin/sh -c pip install x # buildkit",
      comment: "",
    };
    const result = smokeResult(
      "r",
      { id: "i", sizeBytes: 3e9, user: "", repoDigests: [] },
      [checkSize(3e9, 1e9, "1GB", [layer]), checkUser("")],
      {},
    );
    assert.deepEqual(sizeSection(result), {
      bytes: 3e9,
      maxBytes: 1e9,
      layers: [{ bytes: 3e9, createdBy: "RUN pip install x" }],
    });
    assert.deepEqual(
      smokeChecks(result).map((c) => [c.check, c.ok, c.code]),
      [
        ["size", false, "IMAGE_SIZE_EXCEEDED"],
        ["user", false, "RUNS_AS_ROOT"],
      ],
    );
  });

  it("base and scan: the drift's next pin, and allowlisted findings with their expiry, from the CLI", async () => {
    const dir = emptyDir();
    const pinned = `sha256:${"1".repeat(64)}`;
    const moved = `sha256:${"2".repeat(64)}`;
    await runCli([
      "base",
      "--ref",
      `python:3.11@${pinned}`,
      "--current",
      moved,
      "--json",
      join(dir, "base.json"),
    ]);
    writeFileSync(
      join(dir, "allow.yaml"),
      "vulnerabilities:\n  - id: CVE-2019-18224\n    statement: not reachable\n    expired_at: 2999-01-31\n",
    );
    const trivy = join(__dirname, "..", "fixtures", "trivy", "debian-buster.json");
    const scanned = await runCli([
      "scan",
      "--report",
      trivy,
      "--allowlist",
      join(dir, "allow.yaml"),
      "--json",
      join(dir, "scan.json"),
    ]);
    assert.equal(scanned.code, 0, scanned.stdout);
    const read = (f: string): GateResult =>
      JSON.parse(readFileSync(join(dir, f), "utf8")) as GateResult;
    assert.deepEqual(baseSection(undefined, read("base.json")), {
      ref: `python:3.11@${pinned}`,
      digest: pinned,
      current: moved,
      next: `python:3.11@${moved}`,
    });
    const scan = scanSection(read("scan.json"));
    assert.equal(scan.counts.CRITICAL, 1);
    assert.deepEqual(
      scan.allowlisted.map((a) => [a.id, a.expires, a.statement]),
      [["CVE-2019-18224", "2999-01-31", "not reachable"]],
    );
  });
});

describe("release report: a promotion (prod promoting dev's release)", () => {
  const DEV_DIGEST = `sha256:${"d".repeat(64)}`;
  const OTHER = `sha256:${"e".repeat(64)}`;

  /** A results directory with what a promotion runs: the re-scan, the promotion, the verification. */
  function promotionDir(): string {
    const dir = emptyDir();
    for (const gate of ["scan", "promote", "health"]) {
      cpSync(join(GOOD, `${gate}.json`), join(dir, `${gate}.json`));
    }
    return dir;
  }

  const flags = (dir: string, deployed = DEV_DIGEST) => [
    "report",
    "--from",
    dir,
    "--version",
    "v1.4.3",
    "--mode",
    "promotion",
    "--stack",
    "prod",
    "--image",
    "registry.digitalocean.com/acme/odoo:v1.4.3",
    "--digest",
    DEV_DIGEST,
    "--candidate-digest",
    DEV_DIGEST,
    "--deployed-digest",
    deployed,
    "--promoted-from",
    "acme-org/slipway/dev",
    "--commit",
    "0123456789abcdef",
    "--print-summary",
    "--out",
    join(dir, "report.md"),
  ];

  it("is READY with the scan, the promotion and the verification only: nothing was built or tested here", async () => {
    const dir = promotionDir();
    const { code, stdout, stderr } = await runCli(flags(dir));
    assert.equal(code, 0, stderr);
    assert.equal((JSON.parse(stdout.split("\n")[0]) as { readiness: string }).readiness, "READY");
    const md = readFileSync(join(dir, "report.md"), "utf8");
    assert.match(md, /^# Promotion report: v1\.4\.3 \(prod\)/);
    assert.match(md, /\| Promoted from \| `acme-org\/slipway\/dev` \|/);
    assert.match(md, new RegExp(`\\| Candidate digest \\(gated\\) \\| \`${DEV_DIGEST}\` \\|`));
    assert.match(md, new RegExp(`\\| Deployed digest \\| \`${DEV_DIGEST}\` \\|`));
    assert.doesNotMatch(md, /GATE_NOT_RUN/);
    const release = JSON.parse(readFileSync(join(dir, "release.json"), "utf8")) as Record<
      string,
      unknown
    >;
    assert.equal(release.mode, "promotion");
    assert.equal(release.promotedFrom, "acme-org/slipway/dev");
    assert.equal(release.commit, "0123456789abcdef");
  });

  it("blocks a promotion whose promote left no result (GATE_NOT_RUN promote)", async () => {
    const dir = promotionDir();
    rmSync(join(dir, "promote.json"));
    const { code, stdout } = await runCli(flags(dir));
    assert.equal(code, 1);
    const summary = JSON.parse(stdout.split("\n")[0]) as {
      readiness: string;
      blockerCodes: string[];
    };
    assert.equal(summary.readiness, "NOT READY");
    assert.deepEqual(summary.blockerCodes, [NOT_RUN]);
  });

  it("says so when the deployed digest is not the released one", async () => {
    const dir = promotionDir();
    await runCli(flags(dir, OTHER));
    const md = readFileSync(join(dir, "report.md"), "utf8");
    assert.match(
      md,
      new RegExp(
        `\\| Deployed digest \\| \`${OTHER}\` \\(\\*\\*differs from the released digest\\*\\*\\) \\|`,
      ),
    );
  });
});

describe("release report: the SBOM section", () => {
  const SBOM = join(__dirname, "..", "fixtures", "trivy", "sbom", "slipway-base.cdx.json");

  it("summarizes sbom.cdx.json beside the gate results: format, subject, OS, components by type", async () => {
    const dir = copyOf(GOOD);
    cpSync(SBOM, join(dir, "sbom.cdx.json"));
    const report = assembleReport(await readResultsDir(dir));
    assert.equal(report.readiness, "READY", "the SBOM is evidence, not a gate result");
    assert.deepEqual(report.sbom, {
      file: "sbom.cdx.json",
      format: "CycloneDX 1.5",
      subject: `127.0.0.1:5000/slipway-base/python@sha256:40be896df229ccede3358ae85db09d24b7bee3533509bb6cbaaaa397bc813ea9`,
      components: 157,
      byType: { library: 156, "operating-system": 1 },
      os: "debian 12.15",
    });
    const md = renderMarkdown(report);
    assert.match(md, /^## SBOM$/m);
    assert.match(md, /CycloneDX 1\.5, 157 components of .*; operating system debian 12\.15\./);
    assert.match(md, /\| library +\| 156 +\|/);
  });

  it("has no SBOM section when the scan wrote none", async () => {
    const report = assembleReport(await readResultsDir(GOOD));
    assert.equal(report.sbom, undefined);
    assert.doesNotMatch(renderMarkdown(report), /## SBOM/);
  });

  it("fails closed with REPORT_INPUT_INVALID on an sbom.cdx.json that is not CycloneDX", async () => {
    const dir = copyOf(GOOD);
    writeFileSync(join(dir, "sbom.cdx.json"), '{"spdxVersion": "SPDX-2.3"}');
    await assert.rejects(
      readResultsDir(dir),
      (err: Error & { code?: string }) =>
        err.code === "REPORT_INPUT_INVALID" && /sbom\.cdx\.json/.test(err.message),
    );
  });
});
