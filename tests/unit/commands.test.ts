import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  baseDriftCommand,
  buildSpec,
  cacheRef,
  CANDIDATE_PREFIX,
  candidateTag,
  digestRef,
  dockerBuildCommand,
  dockerRunCommand,
  GATE_BIN,
  healthGateCommand,
  healthProbe,
  lintCommand,
  localContainerSpec,
  preflightCommand,
  promoteCommand,
  pushedDigest,
  releaseReportDir,
  reportCommand,
  resolvePinCommand,
  retagCommand,
  rollbackReportDir,
  sbomFile,
  scanGateCommand,
  shellJoin,
  shellQuote,
  smokeGateCommand,
  tagGuardCommand,
  testGateCommand,
  trivyReportFile,
} from "../../gates/commands";
import { parseVerdictLine } from "../../gates/result";
import { runGateCli } from "./helpers/cli";

const DIGEST = "sha256:9e25f400253a5fa3191813d6a67eb801ca1e6f012b3bd2588fa6920b59e3eba6";
const REPORT = ".slipway/releases/v1.4.2";

/** The argv a POSIX shell makes of a command line (one `sh` process for the whole line). */
function shellWords(commandLine: string): string[] {
  const out = spawnSync("/bin/sh", ["-c", `printf '%s\\0' ${commandLine}`], { encoding: "utf8" });
  assert.equal(out.status, 0, out.stderr);
  return out.stdout.split("\0").slice(0, -1);
}

/** The argv of a gate command line, without the env assignment prefix. */
function argvOf(commandLine: string): string[] {
  return shellWords(commandLine);
}

const NASTY = [
  "",
  "plain",
  "two words",
  "it's",
  "'",
  "''",
  `"double"`,
  "$(touch /tmp/slipway-pwned)",
  "`id`",
  "$HOME ${PATH}",
  "a\nb",
  "trailing\\",
  "back\\slash",
  "*",
  "~",
  "!event",
  "-flag-looking",
  "semi;colon && amp | pipe > out",
  "tab\there",
  "unicode ✓ ünïcødé",
  "--cov=custom_addons",
];

describe("shellQuote", () => {
  it("leaves words of safe characters as they are", () => {
    for (const word of ["bin/slipway-gate", "--coverage-min", "75", "127.0.0.1:5000/odoo:v1.4.2"]) {
      assert.equal(shellQuote(word), word);
    }
    assert.equal(shellQuote(`odoo@${DIGEST}`), `odoo@${DIGEST}`);
  });

  it("quotes the empty string as ''", () => {
    assert.equal(shellQuote(""), "''");
  });

  it("escapes a single quote as '\\''", () => {
    assert.equal(shellQuote("it's"), `'it'\\''s'`);
  });

  it("round-trips quotes, spaces, $(), backticks, newlines and globs through /bin/sh unchanged", () => {
    assert.deepEqual(shellWords(NASTY.map(shellQuote).join(" ")), NASTY);
  });

  it("never lets the shell run a command substitution", () => {
    const marker = `/tmp/slipway-quote-test-${process.pid}`;
    const words = shellWords(shellJoin([`$(touch ${marker})`, `\`touch ${marker}\``]));
    assert.deepEqual(words, [`$(touch ${marker})`, `\`touch ${marker}\``]);
    assert.equal(spawnSync("test", ["-e", marker]).status, 1, "the marker file must not exist");
  });
});

describe("gate command builders", () => {
  it("builds the preflight command with its report file", () => {
    assert.equal(
      preflightCommand({ reportDir: REPORT }),
      `${GATE_BIN} preflight --print-verdict --json ${REPORT}/preflight.json`,
    );
    assert.equal(
      preflightCommand({ reportDir: REPORT, minFree: "10GB", path: "/var/lib/docker" }),
      `${GATE_BIN} preflight --min-free 10GB --path /var/lib/docker --print-verdict --json ${REPORT}/preflight.json`,
    );
  });

  it("builds the lint command with targets and build args in key order", () => {
    assert.equal(
      lintCommand({
        reportDir: REPORT,
        dockerfile: "examples/odoo/Dockerfile",
        requireDigest: true,
        targets: ["builder", "runtime"],
        buildArgs: { ODOO_VERSION: "16.0", BASE_IMAGE: `python:3.11-slim-bullseye@${DIGEST}` },
      }),
      `${GATE_BIN} lint --dockerfile examples/odoo/Dockerfile --require-digest --target builder ` +
        `--target runtime --build-arg BASE_IMAGE=python:3.11-slim-bullseye@${DIGEST} ` +
        `--build-arg ODOO_VERSION=16.0 --print-verdict --json ${REPORT}/lint.json`,
    );
  });

  it("leaves --require-digest out when not required", () => {
    const cmd = lintCommand({
      reportDir: REPORT,
      dockerfile: "Dockerfile",
      requireDigest: false,
      targets: [],
      buildArgs: {},
    });
    assert.equal(
      cmd,
      `${GATE_BIN} lint --dockerfile Dockerfile --print-verdict --json ${REPORT}/lint.json`,
    );
  });

  it("builds the base drift command, strict only when asked", () => {
    const ref = `python:3.11-slim-bullseye@${DIGEST}`;
    assert.equal(
      baseDriftCommand({ reportDir: REPORT, ref }),
      `${GATE_BIN} base --ref ${ref} --print-verdict --json ${REPORT}/base.json`,
    );
    assert.equal(
      baseDriftCommand({ reportDir: REPORT, ref, current: DIGEST, strict: true }),
      `${GATE_BIN} base --ref ${ref} --current ${DIGEST} --strict --print-verdict --json ${REPORT}/base.json`,
    );
  });

  it("quotes the test command as one argument", () => {
    const cmd = testGateCommand({
      reportDir: REPORT,
      image: "slipway/odoo:v1.4.2-builder",
      command: "pytest custom_addons/ --cov=custom_addons -k 'not slow'",
      coverageMin: 75,
      env: { POSTGRES_USER: "odoo", POSTGRES_HOST: "db" },
      network: "slipway-test",
      timeout: 600,
    });
    assert.equal(
      cmd,
      `${GATE_BIN} test --image slipway/odoo:v1.4.2-builder ` +
        `--cmd 'pytest custom_addons/ --cov=custom_addons -k '\\''not slow'\\''' --coverage-min 75 ` +
        `--env POSTGRES_HOST=db --env POSTGRES_USER=odoo --network slipway-test --timeout 600 ` +
        `--print-verdict --json ${REPORT}/test.json`,
    );
    assert.deepEqual(argvOf(cmd).slice(4, 6), [
      "--cmd",
      "pytest custom_addons/ --cov=custom_addons -k 'not slow'",
    ]);
  });

  it("passes hostile test commands and env values through the shell intact", () => {
    for (const nasty of NASTY.filter((n) => n !== "")) {
      const argv = argvOf(
        testGateCommand({ reportDir: REPORT, image: "img", command: nasty, env: { X: nasty } }),
      );
      assert.deepEqual(argv, [
        GATE_BIN,
        "test",
        "--image",
        "img",
        "--cmd",
        nasty,
        "--env",
        `X=${nasty}`,
        "--print-verdict",
        "--json",
        `${REPORT}/test.json`,
      ]);
    }
  });

  it("builds the smoke command with version, paths, imports, non-root and boot", () => {
    const cmd = smokeGateCommand({
      reportDir: REPORT,
      image: "slipway/odoo:v1.4.2-runtime",
      maxSize: "2GB",
      versionCommand: "odoo --version",
      expectVersion: "Odoo Server 16.0",
      paths: ["/mnt/extra-addons"],
      imports: ["odoo", "opentelemetry.exporter"],
      nonRoot: true,
      boot: { port: 8069, healthPath: "/web/health", timeout: 60 },
    });
    assert.equal(
      cmd,
      `${GATE_BIN} smoke --image slipway/odoo:v1.4.2-runtime --max-size 2GB ` +
        `--version-cmd 'odoo --version' --expect-version 'Odoo Server 16.0' --path /mnt/extra-addons ` +
        `--import odoo --import opentelemetry.exporter --non-root --boot --port 8069 ` +
        `--health-path /web/health --boot-timeout 60 --print-verdict --json ${REPORT}/smoke.json`,
    );
  });

  it("leaves the boot flags out when the smoke gate does not boot", () => {
    const cmd = smokeGateCommand({ reportDir: REPORT, image: "img", nonRoot: false });
    assert.equal(cmd, `${GATE_BIN} smoke --image img --print-verdict --json ${REPORT}/smoke.json`);
  });

  it("scans an image or judges a report, with the policy flags", () => {
    assert.equal(
      scanGateCommand({
        reportDir: REPORT,
        image: "slipway/odoo:v1.4.2-runtime",
        trivyImage: `aquasec/trivy@${DIGEST}`,
        severity: ["HIGH", "CRITICAL"],
        ignoreUnfixed: true,
        allowlist: ".trivyignore.yaml",
        requireStatement: true,
      }),
      `${GATE_BIN} scan --image slipway/odoo:v1.4.2-runtime --trivy-image aquasec/trivy@${DIGEST} ` +
        `--severity HIGH,CRITICAL --ignore-unfixed --allowlist .trivyignore.yaml --require-statement ` +
        `--print-verdict --json ${REPORT}/scan.json`,
    );
    assert.equal(
      scanGateCommand({ reportDir: REPORT, report: "reports/trivy.json", severity: ["CRITICAL"] }),
      `${GATE_BIN} scan --report reports/trivy.json --severity CRITICAL --print-verdict --json ${REPORT}/scan.json`,
    );
  });

  it("keeps Trivy's report, names the base image and the baseline when asked, after the policy flags", () => {
    const base = `python:3.11-slim-bullseye@${DIGEST}`;
    assert.equal(trivyReportFile(REPORT), `${REPORT}/trivy.json`);
    assert.equal(
      scanGateCommand({
        reportDir: REPORT,
        image: "slipway/odoo:v1.4.3-runtime",
        severity: ["HIGH", "CRITICAL"],
        keepReport: trivyReportFile(REPORT),
        baseImage: base,
        baseline: ".slipway/releases/v1.4.2/trivy.json",
      }),
      `${GATE_BIN} scan --image slipway/odoo:v1.4.3-runtime --severity HIGH,CRITICAL ` +
        `--keep-report ${REPORT}/trivy.json --base-image ${base} ` +
        `--baseline .slipway/releases/v1.4.2/trivy.json --print-verdict --json ${REPORT}/scan.json`,
    );
    // A report file is judged as it is: no Trivy run, nothing to keep (the type refuses keepReport).
    assert.equal(
      scanGateCommand({ reportDir: REPORT, report: "r.json", baseImage: base }),
      `${GATE_BIN} scan --report r.json --base-image ${base} --print-verdict --json ${REPORT}/scan.json`,
    );
    // @ts-expect-error keepReport applies to an image scan only
    scanGateCommand({ reportDir: REPORT, report: "r.json", keepReport: "k.json" });
  });

  it("scans a candidate by digest with the Trivy binary, scanners, registry flags and SBOM", () => {
    const candidate = `127.0.0.1:5000/team/odoo@${DIGEST}`;
    assert.equal(sbomFile(REPORT), `${REPORT}/sbom.cdx.json`);
    assert.equal(
      scanGateCommand({
        reportDir: REPORT,
        image: candidate,
        trivy: "/opt/trivy/bin/trivy",
        scanners: ["secret", "misconfig"],
        insecure: true,
        offline: true,
        sbom: sbomFile(REPORT),
        keepReport: trivyReportFile(REPORT),
      }),
      `${GATE_BIN} scan --image ${candidate} --trivy /opt/trivy/bin/trivy ` +
        `--scanners secret,misconfig --insecure --offline --sbom ${REPORT}/sbom.cdx.json ` +
        `--keep-report ${REPORT}/trivy.json --print-verdict --json ${REPORT}/scan.json`,
    );
    // @ts-expect-error an SBOM is made from an image scan only
    scanGateCommand({ reportDir: REPORT, report: "r.json", sbom: "s.json" });
  });

  it("builds a scan command the gate's own parser accepts, flag for flag", async () => {
    const cmd = scanGateCommand({
      reportDir: REPORT,
      image: "slipway/odoo:v1.4.3-runtime",
      keepReport: trivyReportFile(REPORT),
      baseImage: `python:3.11-slim-bullseye@${DIGEST}`,
      baseline: ".slipway/releases/v1.4.2/trivy.json",
      trivy: "/opt/trivy",
      scanners: ["vuln", "secret", "misconfig"],
      insecure: true,
      offline: true,
      sbom: sbomFile(REPORT),
    });
    const argv = argvOf(cmd);
    assert.equal(argv[0], GATE_BIN);
    const { parseArgs } = await import("node:util");
    const gate = (await import("../../gates/scan/gate")).default;
    const values: Record<string, unknown> = parseArgs({
      args: argv.slice(2),
      options: { ...gate.options, json: { type: "string" }, "print-verdict": { type: "boolean" } },
      strict: true,
    }).values;
    assert.equal(values["keep-report"], `${REPORT}/trivy.json`);
    assert.equal(values["base-image"], `python:3.11-slim-bullseye@${DIGEST}`);
    assert.equal(values.baseline, ".slipway/releases/v1.4.2/trivy.json");
    assert.equal(values.trivy, "/opt/trivy");
    assert.equal(values.scanners, "vuln,secret,misconfig");
    assert.equal(values.insecure, true);
    assert.equal(values.offline, true);
    assert.equal(values.sbom, `${REPORT}/sbom.cdx.json`);
    assert.equal(values["print-verdict"], true);
  });

  it("ends every gate command with --print-verdict --json <dir>/<gate>.json: the pipeline reads the verdict line", () => {
    const repository = "registry.digitalocean.com/acme/odoo";
    const commands: [string, string][] = [
      ["preflight", preflightCommand({ reportDir: REPORT })],
      [
        "lint",
        lintCommand({
          reportDir: REPORT,
          dockerfile: "Dockerfile",
          requireDigest: false,
          targets: [],
          buildArgs: {},
        }),
      ],
      ["base", baseDriftCommand({ reportDir: REPORT, ref: "python:3.11" })],
      ["test", testGateCommand({ reportDir: REPORT, image: "img", command: "pytest" })],
      ["smoke", smokeGateCommand({ reportDir: REPORT, image: "img" })],
      ["scan", scanGateCommand({ reportDir: REPORT, report: "r.json" })],
      ["promote", promoteCommand({ reportDir: REPORT, repository, digest: DIGEST, version: "v1" })],
      ["resolve", resolvePinCommand({ reportDir: REPORT, repository, ref: "v1" })],
      ["retag", retagCommand({ reportDir: REPORT, repository, digest: DIGEST })],
      ["health", healthGateCommand({ reportDir: REPORT, url: "http://127.0.0.1/" })],
    ];
    for (const [gate, command] of commands) {
      assert.ok(
        command.endsWith(` --print-verdict --json ${REPORT}/${gate}.json`),
        `${gate}: ${command}`,
      );
    }
  });

  it("builds the registry commands: tag-guard, resolve, retag", () => {
    const repository = "registry.digitalocean.com/acme/odoo";
    assert.equal(
      tagGuardCommand({
        reportDir: REPORT,
        repository,
        tag: "v1.4.2",
        image: "slipway/odoo:v1.4.2-runtime",
      }),
      `${GATE_BIN} tag-guard --repository ${repository} --tag v1.4.2 ` +
        `--image slipway/odoo:v1.4.2-runtime --print-verdict --json ${REPORT}/tag-guard.json`,
    );
    const rollback = rollbackReportDir("v1.4.1");
    assert.equal(
      resolvePinCommand({ reportDir: rollback, repository, ref: "v1.4.1" }),
      `${GATE_BIN} resolve --repository ${repository} --ref v1.4.1 --print-verdict --json ${rollback}/resolve.json`,
    );
    // A rollback's resolve requires the pin's READY evidence, unless a reason says why not.
    assert.equal(
      resolvePinCommand({
        reportDir: rollback,
        repository,
        ref: "v1.4.1",
        requireEvidence: true,
        overrideReason: "INC-42 evidence lost",
      }),
      `${GATE_BIN} resolve --repository ${repository} --ref v1.4.1 --require-evidence ` +
        `--override-reason 'INC-42 evidence lost' --print-verdict --json ${rollback}/resolve.json`,
    );
    assert.equal(
      retagCommand({ reportDir: rollback, repository, digest: DIGEST }),
      `${GATE_BIN} retag --repository ${repository} --digest ${DIGEST} --tag latest ` +
        `--print-verdict --json ${rollback}/retag.json`,
    );
  });

  it("builds the promote command: the gated digest under the version, then latest", () => {
    const repository = "registry.digitalocean.com/acme/odoo";
    assert.equal(
      promoteCommand({
        reportDir: REPORT,
        repository,
        digest: DIGEST,
        version: "v1.4.2",
        latest: true,
      }),
      `${GATE_BIN} promote --repository ${repository} --digest ${DIGEST} --version v1.4.2 ` +
        `--latest --print-verdict --json ${REPORT}/promote.json`,
    );
    assert.equal(
      promoteCommand({ reportDir: REPORT, repository, digest: DIGEST, version: "v1.4.2" }),
      `${GATE_BIN} promote --repository ${repository} --digest ${DIGEST} --version v1.4.2 ` +
        `--print-verdict --json ${REPORT}/promote.json`,
    );
  });

  it("builds the promotion of another stack's release: evidence required, its report's verdict", () => {
    const repository = "registry.digitalocean.com/acme/odoo";
    assert.equal(
      promoteCommand({
        reportDir: REPORT,
        repository,
        digest: DIGEST,
        version: "v1.4.2",
        latest: true,
        requireEvidence: true,
        sourceVerdict: "NOT READY",
        timeoutSeconds: 900,
      }),
      `${GATE_BIN} promote --repository ${repository} --digest ${DIGEST} --version v1.4.2 ` +
        `--latest --require-evidence --source-verdict 'NOT READY' --timeout 900 ` +
        `--print-verdict --json ${REPORT}/promote.json`,
    );
  });

  it("builds the health command against the live URL", () => {
    assert.equal(
      healthGateCommand({
        reportDir: REPORT,
        url: "https://odoo-abc.ondigitalocean.app/web/health?full=1&x=y",
        timeout: 300,
        interval: 2,
        requestTimeout: 5,
        expectStatus: 200,
        expectBody: "ok",
      }),
      `${GATE_BIN} health --url 'https://odoo-abc.ondigitalocean.app/web/health?full=1&x=y' ` +
        `--timeout 300 --interval 2 --request-timeout 5 --expect-status 200 --expect-body ok ` +
        `--print-verdict --json ${REPORT}/health.json`,
    );
  });

  it("builds the report command: release.json's fields, then the report beside the results", () => {
    assert.equal(
      reportCommand({
        reportDir: REPORT,
        release: {
          version: "v1.4.2",
          mode: "release",
          stack: "dev",
          image: "registry.digitalocean.com/acme/odoo:v1.4.2",
          digest: DIGEST,
          baseImage: `python:3.11-slim-bullseye@${DIGEST}`,
          skipped: { test: "tests.enabled is false", scan: "scan.enabled is false" },
        },
        gated: true,
        advisory: true,
      }),
      `${GATE_BIN} report --from ${REPORT} --version v1.4.2 --mode release --stack dev ` +
        `--image registry.digitalocean.com/acme/odoo:v1.4.2 --digest ${DIGEST} ` +
        `--base python:3.11-slim-bullseye@${DIGEST} ` +
        `--skipped 'scan=scan.enabled is false' --skipped 'test=tests.enabled is false' ` +
        `--gated --advisory --print-summary --out ${REPORT}/report.md --print-verdict --json ${REPORT}/report.json`,
    );
  });

  it("builds the report command of a promotion: candidate and deployed digests, source stack, commit", () => {
    const commit = "0123456789abcdef0123456789abcdef01234567";
    assert.equal(
      reportCommand({
        reportDir: REPORT,
        release: {
          version: "v1.4.2",
          mode: "promotion",
          stack: "prod",
          image: "registry.digitalocean.com/acme/odoo:v1.4.2",
          digest: DIGEST,
          candidateDigest: DIGEST,
          deployedDigest: DIGEST,
          promotedFrom: "acme-org/slipway/dev",
          commit,
        },
        gated: true,
        advisory: true,
      }),
      `${GATE_BIN} report --from ${REPORT} --version v1.4.2 --mode promotion --stack prod ` +
        `--image registry.digitalocean.com/acme/odoo:v1.4.2 --digest ${DIGEST} ` +
        `--candidate-digest ${DIGEST} --deployed-digest ${DIGEST} ` +
        `--promoted-from acme-org/slipway/dev --commit ${commit} ` +
        `--gated --advisory --print-summary --out ${REPORT}/report.md ` +
        `--print-verdict --json ${REPORT}/report.json`,
    );
  });

  it("makes a report command the report gate runs as is: release.json, report.md, the summary", async () => {
    const dir = mkdtempSync(join(tmpdir(), "slipway-report-cmd-"));
    try {
      const reportDir = join(dir, "v1.4.3");
      cpSync(join(__dirname, "..", "fixtures", "release", "good"), reportDir, {
        recursive: true,
      });
      rmSync(join(reportDir, "release.json"));
      const line = reportCommand({
        reportDir,
        release: {
          version: "v1.4.3",
          mode: "release",
          stack: "prod",
          image: "registry.digitalocean.com/acme/odoo:v1.4.3",
          digest: DIGEST,
        },
        gated: true,
        advisory: true,
      });
      const [bin, ...argv] = shellWords(line);
      assert.equal(bin, GATE_BIN);
      const { code, stdout } = await runGateCli(argv);
      assert.equal(code, 0);
      // The summary is the verdict line's value (the stack output `releaseReport` reads it).
      const verdict = parseVerdictLine(stdout);
      assert.equal(verdict.gate, "report");
      assert.equal(verdict.verdict, "pass");
      assert.equal(verdict.subject, DIGEST, "the report is about the release digest");
      assert.deepEqual(JSON.parse(String(verdict.value)), {
        readiness: "READY",
        version: "v1.4.3",
        image: "registry.digitalocean.com/acme/odoo:v1.4.3",
        digest: DIGEST,
        blockers: [],
        blockerCodes: [],
      });
      assert.match(readFileSync(join(reportDir, "release.json"), "utf8"), /"stack": "prod"/);
      assert.match(
        readFileSync(join(reportDir, "report.md"), "utf8"),
        /^# Release report: v1\.4\.3/,
      );
      assert.equal(
        (JSON.parse(readFileSync(join(reportDir, "report.json"), "utf8")) as { gate: string }).gate,
        "report",
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("keeps one report directory per version, and no colon in a digest pin's directory", () => {
    assert.equal(releaseReportDir("v1.4.2"), ".slipway/releases/v1.4.2");
    assert.equal(rollbackReportDir(DIGEST), `.slipway/rollbacks/${DIGEST.replace(":", "-")}`);
  });
});

describe("build and container specs", () => {
  const base = `python:3.11-slim-bullseye@${DIGEST}`;

  it("passes the pinned base as BASE_IMAGE, over any BASE_IMAGE in the extra args, keys in order", () => {
    const spec = buildSpec({
      version: "v1.4.2",
      context: "examples/odoo",
      dockerfile: "examples/odoo/Dockerfile",
      target: "runtime",
      baseRef: base,
      buildArgs: { ZED: "1", BASE_IMAGE: "python:latest", ALPHA: "a" },
      candidateRepository: "127.0.0.1:5000/odoo",
      cache: false,
    });
    assert.deepEqual(spec, {
      context: "examples/odoo",
      dockerfile: "examples/odoo/Dockerfile",
      target: "runtime",
      buildArgs: { ALPHA: "a", BASE_IMAGE: base, ZED: "1" },
      candidate: "127.0.0.1:5000/odoo:candidate-v1.4.2-runtime",
      cacheFrom: [],
      cacheTo: [],
    });
    assert.deepEqual(Object.keys(spec.buildArgs), ["ALPHA", "BASE_IMAGE", "ZED"]);
  });

  it("pushes each stage as a candidate tag in the candidate repository, never a release tag", () => {
    assert.equal(CANDIDATE_PREFIX, "candidate-");
    assert.equal(candidateTag("v1.4.2", "builder"), "candidate-v1.4.2-builder");
    const spec = buildSpec({
      version: "v1.4.2",
      context: ".",
      dockerfile: "Dockerfile",
      target: "builder",
      baseRef: base,
      candidateRepository: "registry.digitalocean.com/acme/odoo-candidates",
      cache: false,
    });
    assert.equal(
      spec.candidate,
      "registry.digitalocean.com/acme/odoo-candidates:candidate-v1.4.2-builder",
    );
    assert.doesNotMatch(spec.candidate, /:v1\.4\.2$|:latest$/);
  });

  it("names the registry cache per target in the candidate repository when the cache is on", () => {
    const spec = buildSpec({
      version: "v1",
      context: ".",
      dockerfile: "Dockerfile",
      target: "builder",
      baseRef: base,
      candidateRepository: "registry.digitalocean.com/acme/odoo",
      cache: true,
      platform: "linux/amd64",
    });
    assert.deepEqual(spec.cacheFrom, ["registry.digitalocean.com/acme/odoo:buildcache-builder"]);
    assert.deepEqual(spec.cacheFrom, [cacheRef("registry.digitalocean.com/acme/odoo", "builder")]);
    assert.deepEqual(spec.cacheTo, spec.cacheFrom);
    assert.equal(spec.platform, "linux/amd64");
  });

  it("addresses an image by digest after its build: <repository>@<digest>", () => {
    assert.equal(digestRef("127.0.0.1:5000/odoo", DIGEST), `127.0.0.1:5000/odoo@${DIGEST}`);
  });

  it("renders the build as a BuildKit docker build, then a push of the candidate", () => {
    const spec = buildSpec({
      version: "v1.4.2",
      context: "examples/odoo",
      dockerfile: "examples/odoo/Dockerfile",
      target: "builder",
      baseRef: base,
      buildArgs: { EXTRA: "with space" },
      candidateRepository: "127.0.0.1:5000/odoo",
      cache: false,
    });
    assert.equal(
      dockerBuildCommand(spec, "/usr/bin/docker"),
      `DOCKER_BUILDKIT=1 /usr/bin/docker build --file examples/odoo/Dockerfile --target builder ` +
        `--build-arg BASE_IMAGE=${base} --build-arg 'EXTRA=with space' ` +
        `--tag 127.0.0.1:5000/odoo:candidate-v1.4.2-builder examples/odoo ` +
        `&& /usr/bin/docker push 127.0.0.1:5000/odoo:candidate-v1.4.2-builder`,
    );
    assert.match(dockerBuildCommand(spec), /^DOCKER_BUILDKIT=1 docker build /);
  });

  it("reads the manifest digest docker push printed, and nothing from other output", () => {
    assert.equal(
      pushedDigest(
        `The push refers to repository [127.0.0.1:5000/odoo]\ncandidate-v1-runtime: digest: ${DIGEST} size: 1786\n`,
      ),
      DIGEST,
    );
    assert.equal(pushedDigest("Pushed\n"), undefined);
  });

  it("runs the local container by digest, published on loopback only, secrets by name", () => {
    const spec = localContainerSpec({
      name: "slipway-odoo-local",
      repository: "127.0.0.1:5000/odoo",
      digest: DIGEST,
      port: 8069,
      localPort: 18069,
      healthPath: "/web/health",
      env: { LOG_LEVEL: "info", A: "1" },
      secretEnv: ["ODOO_ADMIN_PASSWD"],
    });
    assert.equal(spec.image, `127.0.0.1:5000/odoo@${DIGEST}`);
    assert.deepEqual(spec.publish, { ip: "127.0.0.1", hostPort: 18069, containerPort: 8069 });
    assert.equal(spec.restart, "unless-stopped");
    const cmd = dockerRunCommand(spec, "/usr/bin/docker");
    const argv = shellWords(cmd);
    assert.deepEqual(argv.slice(0, 9), [
      "/usr/bin/docker",
      "run",
      "-d",
      "--name",
      "slipway-odoo-local",
      "--restart",
      "unless-stopped",
      "--publish",
      "127.0.0.1:18069:8069",
    ]);
    assert.deepEqual(argv.slice(9, 15), [
      "--env",
      "A=1",
      "--env",
      "LOG_LEVEL=info",
      "--env",
      "ODOO_ADMIN_PASSWD",
    ]);
    assert.equal(argv[argv.length - 1], `127.0.0.1:5000/odoo@${DIGEST}`);
    assert.equal(argv[argv.indexOf("--health-cmd") + 1], spec.healthcheck.command);
  });

  it("probes health inside the container with python, curl or wget, URL quoted", () => {
    const probe = healthProbe(8069, "/web/health");
    assert.match(probe, /^python3 -c /);
    assert.match(
      probe,
      / \|\| curl -fsS -o \/dev\/null http:\/\/127\.0\.0\.1:8069\/web\/health \|\| wget /,
    );
    // The python program survives the shell: printf it instead of running it.
    const [python] = shellWords(probe.split(" 2>/dev/null")[0].replace(/^python3 -c /, ""));
    assert.equal(
      python,
      `import urllib.request; urllib.request.urlopen("http://127.0.0.1:8069/web/health", timeout=4)`,
    );
  });
});
