import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, Server } from "node:http";
import type { AddressInfo } from "node:net";
import { GateError } from "../../gates/result";
import { DockerRule, runGate, scriptedDocker, ScriptedDocker } from "./helpers/scriptedDocker";
import { ChecksSpec, checksScript, checksScriptArgs } from "../../gates/smoke/args";
import {
  defaultLogPatterns,
  findDatabaseErrors,
  findModuleErrors,
  judgeBootLogs,
  compileModulePattern,
} from "../../gates/smoke/bootLogs";
import { fail, ok } from "../../gates/smoke/checks";
import { splitChecksRun } from "../../gates/smoke/checksRun";
import {
  checkWkhtmltopdf,
  parseWkhtmltopdfVersion,
  versionMatches,
} from "../../gates/smoke/wkhtmltopdf";
import {
  BanditPolicy,
  judgeBandit,
  parseBanditReport,
  parseBanditSkips,
} from "../../gates/testing/bandit";
import {
  builderChecksArgs,
  builderChecksScript,
  judgeBuilderChecks,
  withBuilderChecks,
} from "../../gates/testing/builderChecks";
import { judgePipCheck, parsePipCheck } from "../../gates/testing/pipCheck";
import { block, pass } from "../../gates/result";
import { UsageError } from "../../gates/result";

/** The gate first makes sure the image is on the engine (`ensureImage`): here it is. */
const IMAGE_PRESENT: DockerRule = {
  when: ["image", "inspect", "--format"],
  stdout: `sha256:${"0".repeat(64)}\n`,
};
/** The calls after that check. */
const notInspect = (call: string[]): boolean => !(call[0] === "image" && call[1] === "inspect");

const fixtures = join(__dirname, "..", "fixtures");
const fixture = (path: string): string => readFileSync(join(fixtures, path), "utf8");

const STATE_RUNNING =
  '{"Status":"running","Running":true,"Paused":false,"Restarting":false,"OOMKilled":false,"Dead":false,"Pid":4242,"ExitCode":0,"Error":""}';
const INSPECT = JSON.stringify([
  { Id: "sha256:61a1", RepoTags: ["odoo:1"], Size: 400_000_000, Config: { User: "odoo" } },
]);

const DEFAULT_POLICY: BanditPolicy = { severity: "MEDIUM", confidence: "MEDIUM", skips: [] };

describe("bandit (real bandit 1.6.2 JSON)", () => {
  it("reads every issue of a real report: test id, file, line, severity, confidence", () => {
    const report = parseBanditReport(fixture("bandit/issues.json"));
    assert.deepEqual(
      report.issues.map((i) => `${i.testId}:${i.line}:${i.severity}/${i.confidence}`),
      [
        "B403:2:LOW/HIGH",
        "B404:3:LOW/HIGH",
        "B602:9:HIGH/HIGH",
        "B301:13:MEDIUM/HIGH",
        "B303:17:MEDIUM/HIGH",
        "B101:21:LOW/HIGH",
      ],
    );
    assert.equal(report.issues[2]?.file, "custom_addons/slipway_risky/models/export.py");
    assert.deepEqual(report.errors, []);
  });

  it("blocks with SECURITY_VULN listing each finding at or above MEDIUM/MEDIUM, and only those", () => {
    const r = judgeBandit(parseBanditReport(fixture("bandit/issues.json")), DEFAULT_POLICY);
    assert.equal(r.ok, false);
    assert.equal(r.code, "SECURITY_VULN");
    assert.match(
      r.summary,
      /^bandit: 3 finding\(s\) at severity >= MEDIUM, confidence >= MEDIUM: B602 /,
    );
    assert.deepEqual(
      r.findings.map((f) => `${f.test} ${f.file}:${f.line} ${f.severity}`),
      [
        "B602 custom_addons/slipway_risky/models/export.py:9 HIGH",
        "B301 custom_addons/slipway_risky/models/export.py:13 MEDIUM",
        "B303 custom_addons/slipway_risky/models/export.py:17 MEDIUM",
      ],
    );
    assert.ok(
      r.details.includes(
        "3 finding(s) below the threshold (severity >= MEDIUM, confidence >= MEDIUM)",
      ),
    );
  });

  it("lets LOW findings through at the default threshold and blocks them at LOW", () => {
    const report = parseBanditReport(fixture("bandit/issues.json"));
    const high = judgeBandit(report, { ...DEFAULT_POLICY, severity: "HIGH" });
    assert.equal(high.figures.banditBlocking, 1);
    const low = judgeBandit(report, { ...DEFAULT_POLICY, severity: "LOW" });
    assert.equal(low.figures.banditBlocking, 6);
  });

  it("passes a clean tree, and accepts a finding only through a skip entry with a statement", () => {
    assert.equal(
      judgeBandit(parseBanditReport(fixture("bandit/clean.json")), DEFAULT_POLICY).ok,
      true,
    );
    const skips = parseBanditSkips(
      JSON.stringify([
        {
          test: "B602",
          file: "custom_addons/**/export.py",
          statement: "fixed command, no user input",
        },
        { test: "B301", file: "custom_addons/**", statement: "trusted cache" },
        { test: "B303", file: "custom_addons/other/**", statement: "another file" },
      ]),
      "skips.json",
    );
    const r = judgeBandit(parseBanditReport(fixture("bandit/issues.json")), {
      ...DEFAULT_POLICY,
      skips,
    });
    assert.equal(r.code, "SECURITY_VULN");
    assert.deepEqual(
      r.findings.map((f) => f.test),
      ["B303"],
    );
    assert.ok(
      r.details.some(
        (d) => d.startsWith("skipped B602 ") && d.endsWith("— fixed command, no user input"),
      ),
    );
  });

  it("refuses a skip entry without a statement, or with a test id that is not bandit's", () => {
    const refused = (entries: unknown, pattern: RegExp) =>
      assert.throws(
        () => parseBanditSkips(JSON.stringify(entries), "skips.json"),
        (err: unknown) =>
          err instanceof GateError && err.code === "ALLOWLIST_INVALID" && pattern.test(err.message),
      );
    refused([{ test: "B602", file: "x.py" }], /entry 1 has no statement/);
    refused([{ test: "B602", file: "x.py", statement: "  " }], /entry 1 has no statement/);
    refused([{ test: "shell", file: "x.py", statement: "s" }], /not a bandit test id/);
    refused({ test: "B602" }, /JSON array/);
  });

  it("blocks when bandit could not parse a file, though bandit itself exited 0", () => {
    const report = parseBanditReport(fixture("bandit/syntax-error.json"));
    const r = judgeBandit(report, DEFAULT_POLICY);
    assert.equal(r.code, "SECURITY_VULN");
    assert.match(r.summary, /could not analyse 1 file\(s\): custom_addons\/ok\/broken\.py/);
  });

  it("fails closed on a report that is not bandit's JSON", () => {
    for (const text of ["", "{}", "[1]", '{"results":[{"test_id":"B1"}]}']) {
      assert.throws(
        () => parseBanditReport(text),
        (err: unknown) => err instanceof GateError && err.code === "SECURITY_VULN",
      );
    }
  });
});

describe("pip check (real pip output)", () => {
  it("blocks a real conflict with pip's own lines", () => {
    const check = parsePipCheck(fixture("pip/check-conflict.txt"), 1);
    assert.equal(check.state, "conflict");
    const r = judgePipCheck("builder image", check, { exitCode: 1, timedOut: false });
    assert.equal(r.code, "PIP_DEPENDENCY_CONFLICT");
    assert.equal(r.ok, false);
    assert.deepEqual(r.details, [
      "| anthropic 0.39.0 requires distro, which is not installed.",
      "| anthropic 0.39.0 has requirement httpx<1,>=0.23.0, but you have httpx 0.22.0.",
    ]);
    assert.deepEqual(
      r.findings.map((f) => f.package),
      ["anthropic", "anthropic"],
    );
  });

  it("reads Debian's own system conflict the same way", () => {
    const check = parsePipCheck(fixture("pip/check-debian-system.txt"), 1);
    assert.deepEqual(check, {
      state: "conflict",
      lines: ["pygobject 3.42.2 requires pycairo, which is not installed."],
    });
  });

  it("passes a clean environment", () => {
    const r = judgePipCheck("runtime image", parsePipCheck(fixture("pip/check-clean.txt"), 0), {
      exitCode: 0,
      timedOut: false,
    });
    assert.equal(r.ok, true);
    assert.equal(r.code, undefined);
  });

  it("warns, never passes, when the image's python has no pip", () => {
    const check = parsePipCheck(fixture("pip/check-no-pip.txt"), 1);
    assert.equal(check.state, "no-pip");
    const r = judgePipCheck("runtime image", check, { exitCode: 1, timedOut: false });
    assert.equal(r.ok, true);
    assert.equal(r.code, "PIP_DEPENDENCY_CONFLICT");
    assert.match(r.summary, /^pip not in the runtime image: pip check did not run/);
  });

  it("blocks output pip never prints (fail closed)", () => {
    const r = judgePipCheck("builder image", parsePipCheck("Segmentation fault\n", 139), {
      exitCode: 139,
      timedOut: false,
    });
    assert.equal(r.ok, false);
    assert.match(r.summary, /exited 139 without a verdict/);
  });
});

describe("wkhtmltopdf version", () => {
  it("reads Debian bookworm's real `wkhtmltopdf --version` and a patched-Qt build's", () => {
    assert.deepEqual(parseWkhtmltopdfVersion(fixture("wkhtmltopdf/debian-bookworm-version.txt")), {
      version: "0.12.6",
      patchedQt: false,
    });
    assert.deepEqual(parseWkhtmltopdfVersion("wkhtmltopdf 0.12.6.1 (with patched qt)\n"), {
      version: "0.12.6.1",
      patchedQt: true,
    });
  });

  it("compares dotted numbers: 0.12 accepts 0.12.6; 0.12.6 refuses 0.12.5 and 0.12.60", () => {
    assert.equal(versionMatches("0.12.6", "0.12"), true);
    assert.equal(versionMatches("0.12.6", "0.12.6"), true);
    assert.equal(versionMatches("0.12.5", "0.12.6"), false);
    assert.equal(versionMatches("0.12.60", "0.12.6"), false);
    assert.equal(versionMatches("0.12", "0.12.6"), false);
  });

  it("says found vs expected, and names a missing binary", () => {
    const run = (output: string, exitCode = 0) => ({ exitCode, timedOut: false, output });
    assert.equal(
      checkWkhtmltopdf("0.12.6", run(fixture("wkhtmltopdf/debian-bookworm-version.txt"))).ok,
      true,
    );
    const older = checkWkhtmltopdf("0.12.6", run("wkhtmltopdf 0.12.5\n"));
    assert.equal(older.code, "WKHTMLTOPDF_MISMATCH");
    assert.equal(older.summary, "wkhtmltopdf: found 0.12.5, expected 0.12.6");
    const missing = checkWkhtmltopdf("0.12.6", run("SLIPWAY-WKHTMLTOPDF-MISSING\n", 127));
    assert.equal(missing.summary, "wkhtmltopdf: found none on the image's PATH, expected 0.12.6");
  });
});

/** Odoo 16's own log lines for a module that fails to load (odoo/modules/module.py, loading.py). */
const ODOO_MODULE_LOG = [
  "2026-12-03 20:30:01,120 7 INFO ? odoo: Odoo version 16.0",
  "2026-12-03 20:30:01,410 7 CRITICAL ? odoo.modules.module: Couldn't load module slipway_broken",
  "2026-12-03 20:30:01,411 7 CRITICAL ? odoo.modules.module: No module named 'reportlab_pro'",
  "2026-12-03 20:30:01,500 7 ERROR ? odoo.modules.loading: Some modules are not loaded, some dependencies or manifest may be missing: ['slipway_broken', 'slipway_extra']",
  "2026-12-03 20:30:01,600 7 INFO ? odoo.service.server: HTTP service (werkzeug) running on 0.0.0.0:8069",
].join("\n");

describe("boot logs: module load and database errors", () => {
  const patterns = defaultLogPatterns();

  it("names each module Odoo 16 could not load, once, from its own log lines", () => {
    assert.deepEqual(
      findModuleErrors(ODOO_MODULE_LOG, patterns.module).map((m) => m.module),
      ["slipway_broken", "slipway_extra"],
    );
  });

  it("finds psycopg2's real connection errors (libpq 15) and leaves ordinary lines alone", () => {
    const refused = findDatabaseErrors(fixture("psycopg2/refused.txt"), patterns.database);
    assert.deepEqual(refused, [
      'psycopg2.OperationalError: connection to server at "127.0.0.1", port 1 failed: Connection refused',
    ]);
    const host = findDatabaseErrors(fixture("psycopg2/unknown-host.txt"), patterns.database);
    assert.equal(host.length, 1);
    assert.match(host[0] ?? "", /could not translate host name "db.invalid"/);
    assert.deepEqual(findDatabaseErrors(ODOO_MODULE_LOG, patterns.database), []);
  });

  it("turns a healthy boot with a failed module into MODULE_LOAD_ERROR naming it", () => {
    const r = judgeBootLogs(ok("boot", "booted and answered 200"), ODOO_MODULE_LOG, patterns);
    assert.equal(r.code, "MODULE_LOAD_ERROR");
    assert.equal(r.summary, "modules failed to load: slipway_broken, slipway_extra");
  });

  it("puts the database first: DATABASE_CONNECTION_ERROR with the app's line and what to check", () => {
    const logs = `${ODOO_MODULE_LOG}\n${fixture("psycopg2/refused.txt")}`;
    const r = judgeBootLogs(fail("boot", "HEALTH_CHECK_FAIL", "no 200"), logs, patterns);
    assert.equal(r.code, "DATABASE_CONNECTION_ERROR");
    assert.match(
      r.summary,
      /connection to server at "127\.0\.0\.1", port 1 failed: Connection refused$/,
    );
    assert.ok(r.details.some((d) => d.startsWith("check: the database service runs")));
    assert.ok(r.details.includes("the boot itself: HEALTH_CHECK_FAIL, no 200"));
  });

  it("keeps the boot's verdict when the logs say nothing of either", () => {
    const okResult = ok("boot", "fine");
    assert.equal(judgeBootLogs(okResult, "INFO all good\n", patterns), okResult);
  });

  it("takes a pattern of the user's only with a (?<module>) group", () => {
    const own = compileModulePattern("ImportError in plugin (?<module>\\w+)");
    assert.deepEqual(
      findModuleErrors("x ImportError in plugin billing\n", [own]).map((m) => m.module),
      ["billing"],
    );
    assert.throws(() => compileModulePattern("Couldn't load (\\w+)"), UsageError);
    assert.throws(() => compileModulePattern("(?<module>["), UsageError);
  });
});

describe("pip check and wkhtmltopdf in the smoke check script (run by the local sh)", () => {
  let bin: string;
  before(() => {
    bin = mkdtempSync(join(tmpdir(), "slipway-fake-bin-"));
    const tool = (name: string, body: string) => {
      writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
      chmodSync(join(bin, name), 0o755);
    };
    tool(
      "python3",
      `[ "$1 $2 $3" = "-m pip check" ] || exit 99\ncat ${join(fixtures, "pip/check-conflict.txt")}\nexit 1`,
    );
    tool(
      "wkhtmltopdf",
      `[ "$1" = "--version" ] || exit 99\necho 'wkhtmltopdf 0.12.5 (with patched qt)'`,
    );
  });
  after(() => rmSync(bin, { recursive: true, force: true }));

  const runScript = (spec: ChecksSpec, path: string) => {
    const r = spawnSync("sh", ["-c", checksScript(spec), ...checksScriptArgs(spec)], {
      encoding: "utf8",
      env: { PATH: path },
    });
    return { exitCode: r.status, timedOut: false, output: r.stdout + r.stderr };
  };

  it("splits pip's lines and its exit code, and wkhtmltopdf's version, from one container's output", () => {
    const spec: ChecksSpec = { paths: ["/"], imports: [], pipCheck: true, wkhtmltopdf: true };
    const split = splitChecksRun(spec, runScript(spec, `${bin}:/usr/bin:/bin`));
    assert.deepEqual(split.pip, {
      exitCode: 1,
      timedOut: false,
      output: fixture("pip/check-conflict.txt"),
    });
    assert.deepEqual(split.wkhtmltopdf, {
      exitCode: 0,
      timedOut: false,
      output: "wkhtmltopdf 0.12.5 (with patched qt)\n",
    });
    assert.equal(split.paths?.exitCode, 0);
  });

  it("says no python and no wkhtmltopdf when the image has neither", () => {
    const spec: ChecksSpec = { paths: [], imports: [], pipCheck: true, wkhtmltopdf: true };
    const empty = mkdtempSync(join(tmpdir(), "slipway-empty-bin-"));
    try {
      // Only sh itself: a directory holding a link to it.
      const sh = spawnSync("sh", ["-c", "command -v sh"], { encoding: "utf8" }).stdout.trim();
      spawnSync("ln", ["-s", sh, join(empty, "sh")]);
      const split = splitChecksRun(spec, runScript(spec, empty));
      assert.equal(
        parsePipCheck(split.pip?.output ?? "", split.pip?.exitCode ?? null).state,
        "no-python",
      );
      assert.equal(split.pip?.exitCode, 127);
      assert.equal(
        checkWkhtmltopdf(
          "0.12.6",
          split.wkhtmltopdf ?? { exitCode: null, timedOut: true, output: "" },
        ).summary,
        "wkhtmltopdf: found none on the image's PATH, expected 0.12.6",
      );
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe("builder checks container (pip check + bandit beside the tests)", () => {
  it("runs the builder image with no network, the out dir mounted, paths as arguments", () => {
    const args = builderChecksArgs({
      image: "reg/app@sha256:abc",
      name: "slipway-test-1-checks",
      hostOutDir: "/tmp/out",
      pipCheck: true,
      banditPaths: ["custom_addons/", "odoo_server/"],
    });
    assert.deepEqual(args.slice(0, 8), [
      "run",
      "--rm",
      "--pull",
      "never",
      "--name",
      "slipway-test-1-checks",
      "--label",
      "slipway.gate=test",
    ]);
    assert.deepEqual(args.slice(args.indexOf("--network"), args.indexOf("--network") + 2), [
      "--network",
      "none",
    ]);
    assert.ok(args.includes("/tmp/out:/slipway-out"));
    assert.deepEqual(args.slice(-4), [
      "slipway-builder-checks",
      "1",
      "custom_addons/",
      "odoo_server/",
    ]);
  });

  it("writes bandit's report and pip's output where the gate reads them (local sh, fake tools)", () => {
    const bin = mkdtempSync(join(tmpdir(), "slipway-fake-bin-"));
    const out = mkdtempSync(join(tmpdir(), "slipway-out-"));
    try {
      writeFileSync(
        join(bin, "bandit"),
        `#!/bin/sh\necho "$@" > ${out}/bandit.argv\ncp ${join(fixtures, "bandit/issues.json")} "$6"\necho '[main] INFO running' >&2\nexit 1\n`,
      );
      chmodSync(join(bin, "bandit"), 0o755);
      const script = builderChecksScript().replaceAll("/slipway-out", out);
      const r = spawnSync("sh", ["-c", script, "slipway-builder-checks", "0", "custom_addons/"], {
        encoding: "utf8",
        env: { PATH: `${bin}:/usr/bin:/bin` },
      });
      assert.equal(r.status, 0);
      assert.equal(
        readFileSync(join(out, "bandit.argv"), "utf8"),
        `-r custom_addons/ -f json -o ${out}/bandit.json\n`,
      );
      const checks = judgeBuilderChecks(
        { pipCheck: false, banditPaths: ["custom_addons/"] },
        {
          run: { exitCode: 0, timedOut: false, output: "", durationMs: 1 },
          banditReport: readFileSync(join(out, "bandit.json"), "utf8"),
          banditExit: readFileSync(join(out, "bandit.exit"), "utf8"),
        },
        DEFAULT_POLICY,
      );
      assert.equal(checks[0]?.code, "SECURITY_VULN");
    } finally {
      rmSync(bin, { recursive: true, force: true });
      rmSync(out, { recursive: true, force: true });
    }
  });

  it("blocks when bandit is asked for but not in the builder image", () => {
    const [r] = judgeBuilderChecks(
      { pipCheck: false, banditPaths: ["custom_addons/"] },
      { run: { exitCode: 0, timedOut: false, output: "", durationMs: 1 }, banditExit: "127\n" },
      DEFAULT_POLICY,
    );
    assert.equal(r?.code, "SECURITY_VULN");
    assert.equal(r?.ok, false);
    assert.match(r?.summary ?? "", /bandit is not installed in the builder image/);
  });

  it("keeps the tests' own code first and names the checks that also fail", () => {
    const tests = block("test", "TEST_FAILURE", "1 of 5 tests failed");
    const bandit = fail("bandit", "SECURITY_VULN", "bandit: 1 finding");
    const merged = withBuilderChecks(tests, [bandit]);
    assert.equal(merged.code, "TEST_FAILURE");
    assert.equal(merged.summary, "1 of 5 tests failed (+ also failing: SECURITY_VULN)");
  });

  it("blocks passing tests on a failing check, and warns when pip was not there", () => {
    const tests = pass("test", "5 tests passed");
    const blocked = withBuilderChecks(tests, [
      fail("pip", "PIP_DEPENDENCY_CONFLICT", "pip check: 1 broken"),
    ]);
    assert.equal(blocked.verdict, "block");
    assert.equal(blocked.code, "PIP_DEPENDENCY_CONFLICT");
    assert.equal(blocked.details[0], "the tests: 5 tests passed");
    const noPip = judgePipCheck(
      "builder image",
      parsePipCheck(fixture("pip/check-no-pip.txt"), 1),
      { exitCode: 1, timedOut: false },
    );
    const warned = withBuilderChecks(tests, [noPip]);
    assert.equal(warned.verdict, "warn");
    assert.equal(warned.code, "PIP_DEPENDENCY_CONFLICT");
  });
});

describe("test and smoke gates with the procedure's checks (scripted docker)", () => {
  let docker: ScriptedDocker;
  let server: Server | undefined;
  let appPort = 0;

  beforeEach(async () => {
    docker = scriptedDocker();
    server = createServer((_req, res) => res.end("ok"));
    await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
    appPort = (server.address() as AddressInfo).port;
  });
  afterEach(async () => {
    docker.cleanup();
    await new Promise<void>((resolve) => server?.close(() => resolve()));
  });

  it("blocks passing tests with SECURITY_VULN from bandit run beside them in the builder image", async () => {
    docker.setRules([
      IMAGE_PRESENT,
      {
        when: ["slipway-builder-checks"],
        writeOut: { "bandit.json": fixture("bandit/issues.json"), "bandit.exit": "1\n" },
      },
      { when: ["run"], stdout: "3 passed\n" },
    ]);
    const r = await runGate(
      ["test", "--image", "b:1", "--cmd", "pytest", "--bandit", "custom_addons/"],
      docker.env,
    );
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /^SECURITY_VULN: bandit: 3 finding\(s\) at severity >= MEDIUM/);
    assert.match(r.stdout, /B602 custom_addons\/slipway_risky\/models\/export\.py:9 HIGH\/HIGH/);
    const checks = docker
      .calls()
      .filter(notInspect)
      .find((c) => c.includes("slipway-builder-checks"));
    assert.deepEqual(checks?.slice(-3), ["slipway-builder-checks", "0", "custom_addons/"]);
  });

  it("refuses a bandit skip list entry without a statement before running anything", async () => {
    const dir = mkdtempSync(join(tmpdir(), "slipway-skips-"));
    try {
      const skips = join(dir, "skips.json");
      writeFileSync(skips, JSON.stringify([{ test: "B602", file: "**" }]));
      const r = await runGate(
        ["test", "--image", "b:1", "--cmd", "pytest", "--bandit", "x/", "--bandit-skips", skips],
        docker.env,
      );
      assert.equal(r.code, 1);
      assert.match(r.stdout, /^ALLOWLIST_INVALID: bandit skip list .*entry 1 has no statement/);
      assert.deepEqual(docker.calls().filter(notInspect), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const smokeRules = (logs: string, checksOut: string): DockerRule[] => [
    { when: ["{{json .State}}"], stdout: STATE_RUNNING },
    { when: ["image", "inspect"], stdout: INSPECT },
    { when: ["slipway-smoke"], stdout: checksOut },
    { when: ["run", "-d"], stdout: "4f1c0ffee\n" },
    { when: ["port"], stdout: `127.0.0.1:${appPort}\n` },
    { when: ["logs"], stderr: logs },
    { when: ["rm", "-f"], stdout: "removed\n" },
  ];
  const bootArgv = () => [
    "--boot",
    "--port",
    "8069",
    "--health-path",
    "/web/health",
    "--boot-timeout",
    "2",
  ];

  it("blocks a boot that answered 200 but logged a module that failed to load", async () => {
    docker.setRules(smokeRules(ODOO_MODULE_LOG, ""));
    const r = await runGate(["smoke", "--image", "odoo:1", ...bootArgv()], docker.env);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      /^MODULE_LOAD_ERROR: modules failed to load: slipway_broken, slipway_extra/,
    );
  });

  it("blocks WKHTMLTOPDF_MISMATCH and PIP_DEPENDENCY_CONFLICT from the one check container", async () => {
    const out = [
      "SLIPWAY-PIP anthropic 0.39.0 requires distro, which is not installed.",
      "SLIPWAY-PIP-EXIT 1",
      "SLIPWAY-WKHTMLTOPDF wkhtmltopdf 0.12.5",
      "SLIPWAY-WKHTMLTOPDF-EXIT 0",
      "",
    ].join("\n");
    docker.setRules(smokeRules("", out));
    const r = await runGate(
      ["smoke", "--image", "odoo:1", "--pip-check", "--wkhtmltopdf", "0.12.6"],
      docker.env,
    );
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /^PIP_DEPENDENCY_CONFLICT: pip check in the runtime image: 1 broken/);
    assert.match(r.stdout, /\+1 more failing: WKHTMLTOPDF_MISMATCH/);
    assert.match(
      r.stdout,
      /FAIL WKHTMLTOPDF_MISMATCH wkhtmltopdf: wkhtmltopdf: found 0\.12\.5, expected 0\.12\.6/,
    );
  });

  it("warns (exit 0) when the runtime image has no pip, and passes the right wkhtmltopdf", async () => {
    const out = [
      "SLIPWAY-PIP /usr/bin/python3: No module named pip",
      "SLIPWAY-PIP-EXIT 1",
      "SLIPWAY-WKHTMLTOPDF wkhtmltopdf 0.12.6",
      "SLIPWAY-WKHTMLTOPDF-EXIT 0",
      "",
    ].join("\n");
    docker.setRules(smokeRules("", out));
    const r = await runGate(
      ["smoke", "--image", "odoo:1", "--pip-check", "--wkhtmltopdf", "0.12.6"],
      docker.env,
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.json?.verdict, "warn");
    assert.match(r.stdout, /^PIP_DEPENDENCY_CONFLICT: .*pip not in the runtime image/);
  });

  it("refuses a module pattern without a (?<module>) group, and log patterns without --boot", async () => {
    const noGroup = await runGate(
      ["smoke", "--image", "x:1", ...bootArgv(), "--module-error-pattern", "failed (\\w+)"],
      docker.env,
    );
    assert.equal(noGroup.code, 2);
    const noBoot = await runGate(
      ["smoke", "--image", "x:1", "--db-error-pattern", "x"],
      docker.env,
    );
    assert.equal(noBoot.code, 2);
    assert.deepEqual(docker.calls().filter(notInspect), []);
  });
});

describe("boot logs: the database headline", () => {
  it("heads DATABASE_CONNECTION_ERROR with the driver's message, not Odoo's generic line before it", () => {
    const logs = [
      "2026-12-03 20:47:03,748 1 INFO ? odoo.sql_db: Connection to the database failed",
      '2026-12-03 20:47:03,748 1 ERROR ? odoo.sql_db: psycopg2.OperationalError: connection to server at "db" (172.18.0.2), port 5432 failed: FATAL:  password authentication failed for user "intruder"',
    ].join("\n");
    const r = judgeBootLogs(fail("boot", "HEALTH_CHECK_FAIL", "503"), logs, defaultLogPatterns());
    assert.match(r.summary, /password authentication failed for user "intruder"$/);
    assert.equal(r.details.filter((d) => d.startsWith("| ")).length, 2);
  });
});

describe("boot logs: repeats", () => {
  it("quotes a retried error once, timestamps aside, and says how many lines there were", () => {
    const line = (t: string) =>
      `2026-12-03 20:50:${t} 1 ERROR ? odoo.sql_db: psycopg2.OperationalError: connection to server at "db" (172.28.0.2), port 5432 failed: Connection refused`;
    const logs = [line("12,624"), line("12,779"), line("13,178")].join("\n");
    const r = judgeBootLogs(ok("boot", "fine"), logs, defaultLogPatterns());
    assert.equal(r.details.filter((d) => d.startsWith("| ")).length, 1);
    assert.ok(r.details.includes("(3 such lines in all, repeats left out)"));
  });
});

describe("smoke boot: a database error stops the wait", () => {
  let docker: ScriptedDocker;
  let server: Server | undefined;
  let port = 0;
  beforeEach(async () => {
    docker = scriptedDocker();
    server = createServer((_req, res) => {
      res.statusCode = 503;
      res.end('{"status": "fail"}');
    });
    await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterEach(async () => {
    docker.cleanup();
    await new Promise<void>((resolve) => server?.close(() => resolve()));
  });

  it("blocks DATABASE_CONNECTION_ERROR within seconds of the app logging it, not at the boot budget", async () => {
    docker.setRules([
      IMAGE_PRESENT,
      { when: ["{{json .State}}"], stdout: STATE_RUNNING },
      { when: ["image", "inspect"], stdout: INSPECT },
      { when: ["run", "-d"], stdout: "4f1c0ffee\n" },
      { when: ["port"], stdout: `127.0.0.1:${port}\n` },
      { when: ["logs"], stderr: fixture("psycopg2/refused.txt") },
      { when: ["rm", "-f"], stdout: "removed\n" },
    ]);
    const started = Date.now();
    const r = await runGate(
      [
        "smoke",
        "--image",
        "odoo:1",
        "--boot",
        "--port",
        "8069",
        "--health-path",
        "/web/health",
        "--boot-timeout",
        "60",
      ],
      docker.env,
    );
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      /^DATABASE_CONNECTION_ERROR: the app could not use its database: psycopg2\.OperationalError/,
    );
    assert.match(r.stdout, /the boot itself: HEALTH_CHECK_FAIL, .*the app logs a database error/);
    assert.ok(Date.now() - started < 20_000, `took ${Date.now() - started} ms`);
  });
});
