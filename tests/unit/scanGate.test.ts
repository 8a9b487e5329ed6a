import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runGateCli } from "./helpers/cli";
import { scanGateCommand, trivyReportFile } from "../../gates/commands";
import type { GateResult } from "../../gates/result";
import { dockerArgs, dockerSocket, trivyArgs, trivyCacheDir } from "../../gates/scan/runner";

const FIXTURES = join(__dirname, "..", "fixtures", "trivy");
const fixture = (...parts: string[]): string => join(FIXTURES, ...parts);
const DEBIAN = fixture("debian-buster.json");
const DEBIAN_TARGET = "testdata/fixtures/images/debian-buster.tar.gz (debian 10.1)";
const TRIVY_IMAGE = `aquasec/trivy:0.58.1@sha256:${"a".repeat(64)}`;

/** The gate CLI in process with this suite's fixed clock and an environment with no scanner on PATH. */
function runCli(argv: string[], options: { now?: string; env?: NodeJS.ProcessEnv } = {}) {
  return runGateCli(argv, {
    now: () => new Date(options.now ?? "2025-01-05T02:00:00Z"),
    env: options.env ?? { PATH: "/nonexistent" },
  });
}

/** The argv a POSIX shell makes of a command line (as the command resource's shell would). */
function shellWords(commandLine: string): string[] {
  const out = spawnSync("/bin/sh", ["-c", `printf '%s\\0' ${commandLine}`], { encoding: "utf8" });
  assert.equal(out.status, 0, out.stderr);
  return out.stdout.split("\0").slice(0, -1);
}

/** A fresh temp dir per test (set in the suite's hooks). */
let tmp: string;

/** What `trivy version --format json` prints with a DB in the cache (pkg/version/version_test.go's values). */
const VERSION_JSON =
  '{"Version":"0.58.1","VulnerabilityDB":{"Version":2,"NextUpdate":"2025-01-05T18:11:37Z","UpdatedAt":"2025-01-05T12:11:37Z","DownloadedAt":"2025-01-05T13:01:41Z"}}';

/**
 * The first lines of every fake Trivy (binary or docker): `version` prints $FAKE_VERSION (default: with a
 * DB); `$out` is the argument after `--output`; `convert` copies $FAKE_SBOM there. The lines a test adds
 * run for `image`.
 */
const TRIVY_PREAMBLE = [
  `version='${VERSION_JSON}'; [ -n "$FAKE_VERSION" ] && version="$FAKE_VERSION"`,
  `for a in "$@"; do [ "$a" = version ] && { printf '%s\\n' "$version"; exit 0; }; done`,
  'out=""; prev=""; for a in "$@"; do [ "$prev" = --output ] && out="$a"; prev="$a"; done',
  'if [ "$1" = convert ]; then /bin/cat "$FAKE_SBOM" > "$out"; exit 0; fi',
];

/** Writes an executable shell script into `dir` (made if needed) and returns its path. */
function script(dir: string, name: string, lines: string[]): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  const body = name === "trivy" || name === "docker" ? [...TRIVY_PREAMBLE, ...lines] : lines;
  writeFileSync(path, ["#!/bin/sh", ...body, ""].join("\n"));
  chmodSync(path, 0o755);
  return path;
}

describe("scan gate (CLI)", () => {
  beforeEach(() => {
    tmp = mkdtempSync(join(tmpdir(), "slipway-scan-gate-"));
  });
  afterEach(() => {
    rmSync(tmp, { recursive: true, force: true });
  });

  describe("on real Trivy reports", () => {
    it("blocks debian-buster with SECURITY_CRITICAL, listing the finding and the counts", async () => {
      const { code, stdout } = await runCli(["scan", "--report", DEBIAN]);
      assert.equal(code, 1);
      const lines = stdout.split("\n");
      assert.equal(
        lines[0],
        "SECURITY_CRITICAL: 1 blocking finding (1 unique ID) at HIGH or above in testdata/fixtures/images/debian-buster.tar.gz: 1 CRITICAL",
      );
      assert.ok(
        lines.includes(
          `    CVE-2019-18224 CRITICAL libidn2-0 2.0.5-1 → 2.0.5-1+deb10u1 in ${DEBIAN_TARGET}`,
        ),
        stdout,
      );
      assert.ok(
        lines.includes(
          "  findings in the report: 2 findings (2 unique IDs): CRITICAL 1, HIGH 0, MEDIUM 0, LOW 1, UNKNOWN 0",
        ),
      );
      assert.ok(lines.includes("  not blocking: 1 below HIGH"));
      assert.match(stdout, /what to do: Upgrade the packages listed/);
    });

    it("lists debian's LOW bash finding too with --severity LOW, and says it has no fix", async () => {
      const { code, stdout } = await runCli(["scan", "--report", DEBIAN, "--severity", "LOW"]);
      assert.equal(code, 1);
      assert.match(
        stdout,
        /^SECURITY_CRITICAL: 2 blocking findings \(2 unique IDs\) at LOW or above/,
      );
      assert.ok(
        stdout.includes(`CVE-2019-18276 LOW bash 5.0-4 → no fix (affected) in ${DEBIAN_TARGET}`),
      );
    });

    it("blocks ubi-7 with SECURITY_HIGH on setuptools, naming the file it was found in", async () => {
      const { code, stdout } = await runCli([
        "scan",
        "--report",
        fixture("ubi-7-comprehensive.json"),
      ]);
      assert.equal(code, 1);
      assert.match(stdout, /^SECURITY_HIGH: 1 blocking finding \(1 unique ID\)/);
      assert.ok(
        stdout.includes(
          "CVE-2022-40897 HIGH setuptools 0.9.8 → 65.5.1 in Python: usr/lib/python2.7/site-packages/setuptools-0.9.8-py2.7.egg-info/PKG-INFO",
        ),
      );
    });

    it("passes sl-micro (no vulnerabilities) with exit 0", async () => {
      const { code, stdout } = await runCli([
        "scan",
        "--report",
        fixture("sl-micro-rancher5.4.json"),
      ]);
      assert.equal(code, 0);
      assert.match(stdout, /^PASS scan: no blocking findings at HIGH or above/);
    });

    it("blocks on secrets with SECRET_DETECTED, naming each file, and says to rotate them", async () => {
      const { code, stdout } = await runCli(["scan", "--report", fixture("secrets.json")]);
      assert.equal(code, 1);
      assert.match(stdout, /^SECRET_DETECTED: 2 blocking findings/);
      assert.doesNotMatch(stdout, /Upgrade the packages/);
      assert.ok(
        stdout.includes('aws-access-key-id CRITICAL secret "AWS Access Key ID" in deploy.sh:3'),
      );
      assert.ok(stdout.includes('mysecret HIGH secret "My Secret" in deploy.sh:7'));
      assert.match(stdout, /rotate them/);
    });

    it("blocks the real scan of the leaked-credential image with SECRET_DETECTED, naming the file and line", async () => {
      const { code, stdout } = await runCli([
        "scan",
        "--report",
        fixture("odoo-leaked-credential.json"),
      ]);
      assert.equal(code, 1);
      assert.match(stdout, /^SECRET_DETECTED: 2 blocking findings/);
      assert.ok(
        stdout.includes(
          'aws-access-key-id CRITICAL secret "AWS Access Key ID" in /mnt/extra-addons/slipway_invoice/data/s3_export.conf:5',
        ),
      );
      assert.match(stdout, /rotate it/);
    });

    it("lets a legacy DS002 entry allowlist a current report's DS-0002, and does not call it unused", async () => {
      const allowlist = join(tmp, ".trivyignore");
      writeFileSync(allowlist, "DS002 exp:2030-01-01 # runs as root until the base gains a user\n");
      const { code, stdout } = await runCli([
        "scan",
        "--report",
        fixture("dockerfile-current.json"),
        "--allowlist",
        allowlist,
        "--require-statement",
      ]);
      assert.equal(code, 0, stdout);
      assert.doesNotMatch(stdout, /matched nothing/);
    });

    it("blocks on a FAIL misconfiguration", async () => {
      const { code, stdout } = await runCli(["scan", "--report", fixture("dockerfile.json")]);
      assert.equal(code, 1);
      assert.ok(
        stdout.includes(
          `AVD-DS-0002 HIGH misconfiguration "Image user should not be 'root'" in Dockerfile`,
        ),
      );
    });

    it("counts one CVE in two packages as one unique ID and two findings", async () => {
      const { stdout } = await runCli([
        "scan",
        "--report",
        fixture("derived", "debian-buster-two-packages.json"),
      ]);
      assert.match(stdout, /^SECURITY_CRITICAL: 2 blocking findings \(1 unique ID\)/);
    });

    it("applies --ignore-unfixed to an older report without Status via FixedVersion", async () => {
      const report = fixture("derived", "debian-buster-no-status.json");
      const { stdout } = await runCli([
        "scan",
        "--report",
        report,
        "--severity",
        "LOW",
        "--ignore-unfixed",
      ]);
      assert.match(stdout, /^SECURITY_CRITICAL: 1 blocking finding/);
      assert.ok(stdout.includes("not blocking: 0 below LOW, 1 without a fix"));
    });
  });

  describe("allowlist and clock", () => {
    const allowlist = fixture("allowlist", "debian.trivyignore");

    it("passes with the finding allowlisted until its date, and names the unused entry", async () => {
      const { code, stdout } = await runCli(["scan", "--report", DEBIAN, "--allowlist", allowlist]);
      assert.equal(code, 0);
      assert.match(stdout, /^PASS scan: no blocking findings .* 1 allowlisted\)/);
      assert.ok(
        stdout.includes(
          `CVE-2019-18224 CRITICAL libidn2-0 2.0.5-1 → 2.0.5-1+deb10u1 in ${DEBIAN_TARGET}; until 2030-06-30, CVE-2019-18224 (${allowlist}:4): libidn2: the app never converts`,
        ),
      );
      assert.ok(
        stdout.includes(
          `allowlist entry CVE-2018-0001 (${allowlist}:6) matched nothing in this report: remove it`,
        ),
      );
    });

    it("still passes at exactly midnight UTC of the expiry date", async () => {
      const { code } = await runCli(["scan", "--report", DEBIAN, "--allowlist", allowlist], {
        now: "2030-06-30T00:00:00.000Z",
      });
      assert.equal(code, 0);
    });

    it("blocks one millisecond after midnight UTC, naming the expired entry", async () => {
      const { code, stdout } = await runCli(
        ["scan", "--report", DEBIAN, "--allowlist", allowlist],
        {
          now: "2030-06-30T00:00:00.001Z",
        },
      );
      assert.equal(code, 1);
      assert.match(stdout, /^SECURITY_CRITICAL: /);
      assert.ok(
        stdout.includes(`(allowlist entry CVE-2019-18224 (${allowlist}:4) expired on 2030-06-30)`),
      );
      assert.ok(
        stdout.includes(
          `allowlist entry CVE-2019-18224 (${allowlist}:4) expired on 2030-06-30: it no longer applies`,
        ),
      );
    });

    it("honours a .trivyignore.yaml with paths (ubi-7 setuptools under site-packages)", async () => {
      const { code, stdout } = await runCli([
        "scan",
        "--report",
        fixture("ubi-7-comprehensive.json"),
        "--allowlist",
        fixture("allowlist", "ubi-7.trivyignore.yaml"),
        "--require-statement",
      ]);
      assert.equal(code, 0, stdout);
      assert.match(stdout, /allowlist entry aws-access-key-id .* matched nothing/);
    });

    it("fails closed with ALLOWLIST_INVALID on an entry without statement and expiry under --require-statement", async () => {
      const file = join(tmp, ".trivyignore");
      writeFileSync(file, "CVE-2019-18224\n");
      const { code, stdout } = await runCli([
        "scan",
        "--report",
        DEBIAN,
        "--allowlist",
        file,
        "--require-statement",
      ]);
      assert.equal(code, 1);
      assert.match(stdout, /^ALLOWLIST_INVALID: 1 allowlist entry lacks a statement or an expiry/);
      assert.ok(stdout.includes(`${file}:1: CVE-2019-18224 has no statement and expiry`));
    });

    it("accepts the same entry without --require-statement", async () => {
      const file = join(tmp, ".trivyignore");
      writeFileSync(file, "CVE-2019-18224\n");
      const { code } = await runCli(["scan", "--report", DEBIAN, "--allowlist", file]);
      assert.equal(code, 0);
    });

    it("fails closed with ALLOWLIST_INVALID on an unreadable allowlist", async () => {
      const { code, stdout } = await runCli([
        "scan",
        "--report",
        DEBIAN,
        "--allowlist",
        join(tmp, "nope.yaml"),
      ]);
      assert.equal(code, 1);
      assert.match(stdout, /^ALLOWLIST_INVALID: .*nope\.yaml: cannot be read/);
    });

    it("warns OUTDATED_BASE_IMAGE when nothing blocks but the OS is past its end of support", async () => {
      const { code, stdout } = await runCli([
        "scan",
        "--report",
        fixture("derived", "debian-buster-eosl.json"),
        "--allowlist",
        allowlist,
      ]);
      assert.equal(code, 0);
      assert.match(
        stdout,
        /^OUTDATED_BASE_IMAGE: debian 10\.1 is past its end of support; no blocking findings/,
      );
    });
  });

  describe("--baseline", () => {
    it("blocks only on what is new since the baseline report and lists what was carried over", async () => {
      const { code, stdout } = await runCli([
        "scan",
        "--report",
        fixture("derived", "debian-buster-two-packages.json"),
        "--baseline",
        DEBIAN,
      ]);
      assert.equal(code, 1);
      assert.match(stdout, /^SECURITY_CRITICAL: 1 blocking finding \(1 unique ID\)/);
      assert.match(
        stdout,
        /carried over from the baseline \(not blocking\): 1 finding\n {4}CVE-2019-18224 CRITICAL libidn2-0 /,
      );
    });

    it("fails closed when the baseline report is invalid", async () => {
      const { code, stdout } = await runCli([
        "scan",
        "--report",
        DEBIAN,
        "--baseline",
        fixture("malformed", "truncated-in-findings.json"),
      ]);
      assert.equal(code, 1);
      assert.match(stdout, /^SCAN_REPORT_INVALID: .*truncated-in-findings\.json is truncated JSON/);
    });
  });

  describe("--keep-report (Trivy's JSON report kept)", () => {
    /** A fake `trivy` on PATH that writes `report` where --output says (the 6th argument). */
    function fakeTrivy(lines: string[] = ['/bin/cat "$FAKE_REPORT" > "$out"']): string {
      const bin = join(tmp, "bin");
      script(bin, "trivy", lines);
      return bin;
    }

    it("keeps Trivy's report byte for byte, making its directory, even when the gate blocks", async () => {
      const kept = join(tmp, "releases", "v1.4.3", "trivy.json");
      const json = join(tmp, "releases", "v1.4.3", "scan.json");
      const { code, stdout } = await runCli(
        ["scan", "--image", "app:1.0", "--keep-report", kept, "--json", json],
        { env: { PATH: fakeTrivy(), FAKE_REPORT: DEBIAN } },
      );
      assert.equal(code, 1, stdout);
      assert.match(stdout, /^SECURITY_CRITICAL: /);
      assert.ok(readFileSync(kept).equals(readFileSync(DEBIAN)));
      assert.ok(stdout.includes(`  report kept: ${kept} (Trivy's JSON report`), stdout);
      // No temporary file is left beside it.
      assert.deepEqual(readdirSync(join(tmp, "releases", "v1.4.3")).sort(), [
        "scan.json",
        "trivy.json",
      ]);
      const result = JSON.parse(readFileSync(json, "utf8")) as GateResult;
      assert.equal(result.figures.keptReport, kept);
    });

    it("keeps the report the Trivy container printed on stdout", async () => {
      const kept = join(tmp, "trivy.json");
      const docker = script(join(tmp, "docker-bin"), "docker", ['/bin/cat "$FAKE_REPORT"']);
      const ubi = fixture("ubi-7-comprehensive.json");
      const { code } = await runCli(
        ["scan", "--image", "app:1.0", "--trivy-image", TRIVY_IMAGE, "--keep-report", kept],
        { env: { PATH: join(tmp, "empty"), SLIPWAY_DOCKER: docker, FAKE_REPORT: ubi } },
      );
      assert.equal(code, 1);
      assert.ok(readFileSync(kept).equals(readFileSync(ubi)));
    });

    it("removes an earlier run's report when this scan fails, so no stale report stands for this image", async () => {
      const kept = join(tmp, "trivy.json");
      writeFileSync(kept, readFileSync(DEBIAN));
      const bin = fakeTrivy(['echo "FATAL unable to find the specified image" >&2', "exit 1"]);
      const { code, stdout } = await runCli(["scan", "--image", "app:1.0", "--keep-report", kept], {
        env: { PATH: bin },
      });
      assert.equal(code, 1);
      assert.match(stdout, /^SCANNER_UNAVAILABLE: /);
      assert.deepEqual(readdirSync(tmp), ["bin"]);
    });

    it("keeps nothing when what Trivy wrote is not a report", async () => {
      const kept = join(tmp, "out", "trivy.json");
      const { code, stdout } = await runCli(["scan", "--image", "app:1.0", "--keep-report", kept], {
        env: { PATH: fakeTrivy(['echo "[]" > "$out"']) },
      });
      assert.equal(code, 1);
      assert.match(stdout, /^SCAN_REPORT_INVALID: /);
      assert.deepEqual(readdirSync(join(tmp, "out")), []);
    });

    it("is a usage error where the report cannot be kept, before anything is scanned", async () => {
      const file = join(tmp, "a-file");
      writeFileSync(file, "");
      const log = join(tmp, "trivy-ran");
      const { code, stderr } = await runCli(
        ["scan", "--image", "app:1.0", "--keep-report", join(file, "trivy.json")],
        { env: { PATH: fakeTrivy([`: > ${log}`]) } },
      );
      assert.equal(code, 2);
      assert.match(stderr, /--keep-report .*a-file\/trivy\.json: cannot create the directory/);
      assert.throws(() => readFileSync(log), /ENOENT/);
    });
  });

  describe("--base-image (base or app)", () => {
    const BASE_LAYER = "sha256:78c1b9419976227e05be9d243b7fa583bea44a5258e52018b2af4cdfe23d148d";
    const APP_REPORT = fixture("derived", "debian-buster-app-layer.json");

    /** A fake docker CLI answering `image inspect` with `stdout` (or failing), logging its args. */
    function fakeDocker(lines: string[]): { docker: string; log: string } {
      const log = join(tmp, "docker-args");
      const docker = script(join(tmp, "docker-bin"), "docker", [
        `printf '%s\\n' "$@" > ${log}`,
        ...lines,
      ]);
      return { docker, log };
    }

    it("labels the app's new finding [app] and the carried-over one [base], by Trivy's layers", async () => {
      const { docker, log } = fakeDocker([`echo '["${BASE_LAYER}"]'`]);
      const json = join(tmp, "scan.json");
      const { code, stdout } = await runCli(
        [
          "scan",
          "--report",
          APP_REPORT,
          "--baseline",
          DEBIAN,
          "--base-image",
          "debian:buster@sha256:" + "b".repeat(64),
          "--json",
          json,
        ],
        { env: { PATH: join(tmp, "empty"), SLIPWAY_DOCKER: docker } },
      );
      assert.equal(code, 1);
      assert.deepEqual(readFileSync(log, "utf8").trimEnd().split("\n"), [
        "image",
        "inspect",
        "--format",
        "{{json .RootFS.Layers}}",
        "debian:buster@sha256:" + "b".repeat(64),
      ]);
      const lines = stdout.split("\n");
      assert.ok(
        lines.includes(
          "    CVE-2019-18224 CRITICAL libidn2-dev 2.0.5-1 → 2.0.5-1+deb10u1 in slipway/app:1.0 (debian 10.1) [app]",
        ),
        stdout,
      );
      assert.ok(
        lines.includes(
          "    CVE-2019-18224 CRITICAL libidn2-0 2.0.5-1 → 2.0.5-1+deb10u1 in slipway/app:1.0 (debian 10.1) [base]",
        ),
      );
      const result = JSON.parse(readFileSync(json, "utf8")) as GateResult;
      assert.equal(result.figures["blocking.origin.app"], 1);
      assert.equal(result.figures["carriedOver.origin.base"], 1);
      assert.equal(typeof result.timings.baseImage, "number");
    });

    it("gives the same verdict with every origin unknown when the base cannot be inspected, and says why", async () => {
      const { docker } = fakeDocker(['echo "Error: No such image: debian:buster" >&2', "exit 1"]);
      const argv = ["scan", "--report", APP_REPORT, "--base-image", "debian:buster"];
      const without = await runCli(["scan", "--report", APP_REPORT]);
      const { code, stdout } = await runCli(argv, {
        env: { PATH: join(tmp, "empty"), SLIPWAY_DOCKER: docker },
      });
      assert.equal(code, without.code);
      assert.equal(stdout.split("\n")[0], without.stdout.split("\n")[0]);
      assert.match(
        stdout,
        /origin: cannot read the layers of the base image debian:buster \(docker image inspect exited 1: Error: No such image: debian:buster\): every finding's origin is unknown/,
      );
      assert.match(
        stdout,
        /blocking: 2 findings \(1 unique ID\); origin: base 0, app 0, unknown 2/,
      );
    });

    it("labels findings unknown when there is no Docker at all", async () => {
      const { code, stdout } = await runCli(
        ["scan", "--report", APP_REPORT, "--base-image", "debian:buster"],
        { env: { PATH: join(tmp, "empty"), SLIPWAY_DOCKER: join(tmp, "no", "docker") } },
      );
      assert.equal(code, 1);
      assert.match(stdout, /origin: cannot read the layers .*cannot run the Docker CLI/);
    });

    it("labels a repository scan's findings unknown: its report names no layers", async () => {
      const { docker } = fakeDocker([`echo '["${BASE_LAYER}"]'`]);
      const { stdout } = await runCli(
        ["scan", "--report", fixture("secrets.json"), "--base-image", "debian:buster"],
        { env: { PATH: join(tmp, "empty"), SLIPWAY_DOCKER: docker } },
      );
      assert.match(
        stdout,
        /blocking: 2 findings \(2 unique IDs\); origin: base 0, app 0, unknown 2/,
      );
      assert.ok(
        stdout.includes(
          'aws-access-key-id CRITICAL secret "AWS Access Key ID" in deploy.sh:3 [unknown]',
        ),
      );
    });
  });

  describe("the pipeline's scan command, run as built", () => {
    it("keeps release N's report, which release N+1 then takes as its baseline", async () => {
      const bin = join(tmp, "bin");
      script(bin, "trivy", ['/bin/cat "$FAKE_REPORT" > "$out"']);
      const docker = script(join(tmp, "docker-bin"), "docker", [
        `echo '["sha256:78c1b9419976227e05be9d243b7fa583bea44a5258e52018b2af4cdfe23d148d"]'`,
      ]);
      const env = {
        PATH: bin,
        SLIPWAY_DOCKER: docker,
        FAKE_REPORT: fixture("derived", "debian-buster-app-layer.json"),
      };
      const release = (version: string, baseline?: string) => {
        const reportDir = join(tmp, ".slipway", "releases", version);
        const line = scanGateCommand({
          reportDir,
          image: `slipway/app:${version}-runtime`,
          severity: ["HIGH", "CRITICAL"],
          keepReport: trivyReportFile(reportDir),
          baseImage: "python:3.11-slim-bullseye@sha256:" + "9".repeat(64),
          ...(baseline === undefined ? {} : { baseline }),
        });
        return { reportDir, argv: shellWords(line) };
      };
      const first = release("v1.4.2");
      assert.equal(first.argv[0], "bin/slipway-gate");
      const one = await runCli(first.argv.slice(1), { env });
      assert.equal(one.code, 1, one.stdout);
      assert.match(one.stdout, /^SECURITY_CRITICAL: 2 blocking findings/);
      const kept = trivyReportFile(first.reportDir);
      assert.ok(readFileSync(kept).equals(readFileSync(env.FAKE_REPORT)));

      // The same image again, judged against what release v1.4.2 kept: nothing new, nothing blocks.
      const second = release("v1.4.3", kept);
      const two = await runCli(second.argv.slice(1), { env });
      assert.equal(two.code, 0, two.stdout);
      assert.match(two.stdout, /^PASS scan: no blocking findings .* 2 carried over\)/);
      assert.match(
        two.stdout,
        /carried over from the baseline \(not blocking\): 2 findings; origin: base 1, app 1, unknown 0/,
      );
      assert.ok(existsSync(trivyReportFile(second.reportDir)));
      assert.ok(existsSync(join(second.reportDir, "scan.json")));
    });

    it("refuses to keep a report over its own baseline", async () => {
      const baseline = join(tmp, "trivy.json");
      writeFileSync(baseline, readFileSync(DEBIAN));
      const { code, stderr } = await runCli([
        "scan",
        "--image",
        "app:1.0",
        "--baseline",
        baseline,
        "--keep-report",
        baseline,
      ]);
      assert.equal(code, 2);
      assert.match(stderr, /--keep-report names the --baseline file/);
      assert.ok(readFileSync(baseline).equals(readFileSync(DEBIAN)), "the baseline is untouched");
    });
  });

  describe("malformed reports through the CLI", () => {
    for (const name of readdirSync(fixture("malformed")).sort()) {
      it(`exits 1 with SCAN_REPORT_INVALID for malformed/${name}`, async () => {
        const { code, stdout } = await runCli(["scan", "--report", fixture("malformed", name)]);
        assert.equal(code, 1);
        assert.match(stdout, /^SCAN_REPORT_INVALID: /);
        assert.match(stdout, /what to do: Re-run `trivy image --format json/);
      });
    }
  });

  it("writes the machine-readable result with --json", async () => {
    const out = join(tmp, "scan.json");
    const { code } = await runCli([
      "scan",
      "--report",
      fixture("derived", "debian-buster-two-packages.json"),
      "--severity",
      "HIGH,CRITICAL",
      "--allowlist",
      fixture("allowlist", "debian-purl.trivyignore.yaml"),
      "--json",
      out,
    ]);
    assert.equal(code, 1);
    const result = JSON.parse(readFileSync(out, "utf8")) as GateResult;
    assert.equal(result.gate, "scan");
    assert.equal(result.verdict, "block");
    assert.equal(result.code, "SECURITY_CRITICAL");
    assert.deepEqual(result.findings, [
      {
        kind: "vulnerability",
        state: "blocking",
        id: "CVE-2019-18224",
        severity: "CRITICAL",
        package: "libidn2-dev",
        installed: "2.0.5-1",
        fixed: "2.0.5-1+deb10u1",
        status: "fixed",
        target: DEBIAN_TARGET,
        pkgPath: "",
        title: "libidn2: heap-based buffer overflow in idn2_to_ascii_4i in lib/lookup.c",
      },
      {
        kind: "vulnerability",
        state: "allowlisted",
        id: "CVE-2019-18224",
        severity: "CRITICAL",
        package: "libidn2-0",
        installed: "2.0.5-1",
        fixed: "2.0.5-1+deb10u1",
        status: "fixed",
        target: DEBIAN_TARGET,
        pkgPath: "",
        title: "libidn2: heap-based buffer overflow in idn2_to_ascii_4i in lib/lookup.c",
        allowlistEntry: `${fixture("allowlist", "debian-purl.trivyignore.yaml")}:2`,
        allowlistExpires: "2030-06-30",
        statement: "only the runtime library libidn2-0 is accepted, not the -dev package",
      },
    ]);
    assert.deepEqual(
      {
        findings: result.figures.findings,
        ids: result.figures.ids,
        critical: result.figures["findings.CRITICAL"],
        low: result.figures["findings.LOW"],
        blockingFindings: result.figures["blocking.findings"],
        blockingIds: result.figures["blocking.ids"],
        allowlisted: result.figures["allowlisted.findings"],
        threshold: result.figures.threshold,
        unused: result.figures["allowlist.unused"],
        artifact: result.figures.artifact,
      },
      {
        findings: 3,
        ids: 2,
        critical: 2,
        low: 1,
        blockingFindings: 1,
        blockingIds: 1,
        allowlisted: 1,
        threshold: "HIGH",
        unused: 0,
        artifact: "testdata/fixtures/images/debian-buster.tar.gz",
      },
    );
    assert.equal(typeof result.timings.total, "number");
    assert.equal(typeof result.timings.read, "number");
    assert.equal(typeof result.timings.policy, "number");
  });

  it("records unused and expired allowlist entries in --json", async () => {
    const out = join(tmp, "scan.json");
    const allowlist = fixture("allowlist", "debian.trivyignore");
    await runCli(["scan", "--report", DEBIAN, "--allowlist", allowlist, "--json", out], {
      now: "2030-07-01T00:00:00Z",
    });
    const result = JSON.parse(readFileSync(out, "utf8")) as GateResult;
    assert.deepEqual(
      result.findings
        .filter((f) => f.kind === "allowlist-entry")
        .map((f) => [f.id, f.state, f.expires]),
      [
        ["CVE-2019-18224", "expired", "2030-06-30"],
        ["CVE-2018-0001", "expired", "2030-06-30"],
      ],
    );
    assert.equal(result.figures["allowlist.expired"], 2);
  });

  describe("usage errors (exit 2)", () => {
    const cases: [string, string[], RegExp][] = [
      [
        "neither --report nor --image",
        ["scan"],
        /give exactly one of --report FILE or --image REF/,
      ],
      [
        "both --report and --image",
        ["scan", "--report", DEBIAN, "--image", "app:1"],
        /exactly one/,
      ],
      [
        "an unknown severity",
        ["scan", "--report", DEBIAN, "--severity", "SEVERE"],
        /unknown severity "SEVERE"/,
      ],
      [
        "a Trivy image not pinned by digest",
        ["scan", "--image", "app:1", "--trivy-image", "aquasec/trivy:latest"],
        /must be pinned by digest/,
      ],
      ["an image reference that is a flag", ["scan", "--image=-v"], /is not an image reference/],
      ["an unknown flag", ["scan", "--report", DEBIAN, "--fail-on", "HIGH"], /usage error/],
      [
        "--keep-report with a report file (Trivy does not run)",
        ["scan", "--report", DEBIAN, "--keep-report", "k.json"],
        /--keep-report applies to --image/,
      ],
      [
        "a base image reference that is a flag",
        ["scan", "--report", DEBIAN, "--base-image=-v"],
        /--base-image: "-v" is not an image reference/,
      ],
    ];
    for (const [what, argv, message] of cases) {
      it(`for ${what}`, async () => {
        const { code, stderr } = await runCli(argv);
        assert.equal(code, 2);
        assert.match(stderr, message);
        assert.match(stderr, /usage: slipway-gate scan/);
      });
    }
  });

  describe("--image (runs Trivy)", () => {
    it("fails closed with SCANNER_UNAVAILABLE when there is no trivy and no --trivy-image", async () => {
      const { code, stdout } = await runCli(["scan", "--image", "app:1.0"], {
        env: { PATH: join(tmp, "empty") },
      });
      assert.equal(code, 1);
      assert.match(stdout, /^SCANNER_UNAVAILABLE: no `trivy` on PATH and no --trivy-image/);
    });

    it("fails closed with SCANNER_UNAVAILABLE when neither trivy nor the docker binary exists", async () => {
      const { code, stdout } = await runCli(
        ["scan", "--image", "app:1.0", "--trivy-image", TRIVY_IMAGE],
        {
          env: { PATH: join(tmp, "empty"), SLIPWAY_DOCKER: join(tmp, "no", "docker") },
        },
      );
      assert.equal(code, 1);
      assert.match(
        stdout,
        /^SCANNER_UNAVAILABLE: no `trivy` on PATH and no Docker CLI \(.*no\/docker\)/,
      );
    });

    it("runs a trivy binary from PATH with the JSON arguments and gates its report", async () => {
      const bin = join(tmp, "bin");
      const log = join(tmp, "trivy-args");
      script(bin, "trivy", [
        `printf '%s\\n' "$@" > ${log}`,
        // --output is the 5th argument: write the fixture there, as Trivy would.
        `/bin/cat "$FAKE_REPORT" > "$out"`,
      ]);
      const { code, stdout } = await runCli(["scan", "--image", "app:1.0"], {
        env: { PATH: bin, FAKE_REPORT: DEBIAN },
      });
      assert.equal(code, 1, stdout);
      assert.match(stdout, /^SECURITY_CRITICAL: 1 blocking finding/);
      const args = readFileSync(log, "utf8").trimEnd().split("\n");
      const output = args[args.indexOf("--output") + 1];
      assert.match(output, /slipway-scan-.*\/report\.json$/);
      assert.equal(args.at(-1), "app:1.0");
      assert.deepEqual(
        args,
        trivyArgs("app:1.0", output, {
          scanners: ["vuln", "secret"],
          remote: false,
          insecure: false,
          offline: false,
          listAllPackages: false,
          cacheDir: trivyCacheDir({}),
        }),
      );
      assert.deepEqual(args.slice(0, 9), [
        "image",
        "--cache-dir",
        trivyCacheDir({}),
        "--format",
        "json",
        "--quiet",
        "--scanners",
        "vuln,secret",
        "--output",
      ]);
    });

    it("fails closed with SCANNER_UNAVAILABLE and Trivy's message when Trivy fails", async () => {
      const bin = join(tmp, "bin");
      script(bin, "trivy", [
        'echo "FATAL unable to find the specified image \\"app:1.0\\"" >&2',
        "exit 1",
      ]);
      const { code, stdout } = await runCli(["scan", "--image", "app:1.0"], { env: { PATH: bin } });
      assert.equal(code, 1);
      assert.match(
        stdout,
        /^SCANNER_UNAVAILABLE: Trivy \(.*trivy\) exited with 1 scanning app:1\.0/,
      );
      assert.match(stdout, /FATAL unable to find the specified image "app:1\.0"/);
    });

    it("fails closed with SCAN_REPORT_INVALID when Trivy writes something that is not a report", async () => {
      const bin = join(tmp, "bin");
      script(bin, "trivy", ['echo "[]" > "$out"']);
      const { code, stdout } = await runCli(["scan", "--image", "app:1.0"], { env: { PATH: bin } });
      assert.equal(code, 1);
      assert.match(
        stdout,
        /^SCAN_REPORT_INVALID: the Trivy report for app:1\.0 is not a Trivy report/,
      );
    });

    it("runs the pinned Trivy image with the docker CLI of SLIPWAY_DOCKER when trivy is absent", async () => {
      const log = join(tmp, "docker-args");
      const docker = script(join(tmp, "docker-bin"), "docker", [
        `printf '%s\\n' "$@" > ${log}`,
        // Without --output, Trivy writes the report to stdout.
        '/bin/cat "$FAKE_REPORT"',
        'echo "2025-01-05T02:00:00Z INFO Vulnerability scanning is enabled" >&2',
      ]);
      const { code, stdout } = await runCli(
        ["scan", "--image", "app:1.0", "--trivy-image", TRIVY_IMAGE],
        {
          env: {
            PATH: join(tmp, "empty"),
            SLIPWAY_DOCKER: docker,
            FAKE_REPORT: fixture("ubi-7-comprehensive.json"),
          },
        },
      );
      assert.equal(code, 1, stdout);
      assert.match(stdout, /^SECURITY_HIGH: /);
      const args = readFileSync(log, "utf8").trimEnd().split("\n");
      assert.deepEqual(args, [
        "run",
        "--rm",
        "-v",
        "/var/run/docker.sock:/var/run/docker.sock",
        "-v",
        "slipway-trivy-cache:/root/.cache/trivy",
        TRIVY_IMAGE,
        "image",
        "--format",
        "json",
        "--quiet",
        "--scanners",
        "vuln,secret",
        "app:1.0",
      ]);
      assert.deepEqual(
        args,
        dockerArgs(
          TRIVY_IMAGE,
          "app:1.0",
          {},
          {
            scanners: ["vuln", "secret"],
            remote: false,
            insecure: false,
            offline: false,
            listAllPackages: false,
          },
        ),
      );
    });

    it("fails closed with SCAN_REPORT_INVALID when the Trivy container prints something else", async () => {
      const docker = script(join(tmp, "docker-bin"), "docker", [
        'echo "Usage: trivy [global flags] command"',
      ]);
      const { code, stdout } = await runCli(
        ["scan", "--image", "app:1.0", "--trivy-image", TRIVY_IMAGE],
        { env: { PATH: join(tmp, "empty"), SLIPWAY_DOCKER: docker } },
      );
      assert.equal(code, 1);
      assert.match(stdout, /^SCAN_REPORT_INVALID: the Trivy report for app:1\.0 is not valid JSON/);
    });

    it("says Docker could not start the Trivy image (exit 125), with Docker's message", async () => {
      const docker = script(join(tmp, "docker-bin"), "docker", [
        `echo "Unable to find image '${TRIVY_IMAGE}' locally" >&2`,
        "exit 125",
      ]);
      const { code, stdout } = await runCli(
        ["scan", "--image", "app:1.0", "--trivy-image", TRIVY_IMAGE],
        { env: { PATH: join(tmp, "empty"), SLIPWAY_DOCKER: docker } },
      );
      assert.equal(code, 1);
      assert.match(
        stdout,
        /^SCANNER_UNAVAILABLE: Trivy \(.* \(docker\)\) could not be started by Docker \(exit 125\)/,
      );
      assert.match(stdout, /Unable to find image/);
    });

    it("mounts the socket DOCKER_HOST names when it is a unix socket", () => {
      assert.equal(
        dockerSocket({ DOCKER_HOST: "unix:///run/user/1000/docker.sock" }),
        "/run/user/1000/docker.sock",
      );
      assert.equal(dockerSocket({ DOCKER_HOST: "tcp://10.0.0.1:2376" }), "/var/run/docker.sock");
      assert.equal(dockerSocket({}), "/var/run/docker.sock");
    });
  });

  describe("--image: the scan of a candidate by digest (scanners, registry, DB, SBOM)", () => {
    const CANDIDATE = `127.0.0.1:5000/slipway-scanner/odoo@sha256:${"b".repeat(64)}`;
    const BASE_REPORT = fixture("sbom", "slipway-base.json");
    const BASE_SBOM = fixture("sbom", "slipway-base.cdx.json");

    /** A fake trivy logging its argv (image calls) and its registry environment. */
    function loggingTrivy(extra: string[] = []): {
      bin: string;
      args: () => string[];
      env: () => string;
    } {
      const bin = join(tmp, "bin");
      const argLog = join(tmp, "trivy-args");
      const envLog = join(tmp, "trivy-env");
      script(bin, "trivy", [
        `printf '%s\\n' "$@" > ${argLog}`,
        `printf 'user=%s password=%s auth=%s\\n' "$TRIVY_USERNAME" "$TRIVY_PASSWORD" "$SLIPWAY_REGISTRY_AUTH" > ${envLog}`,
        ...extra,
        '/bin/cat "$FAKE_REPORT" > "$out"',
      ]);
      return {
        bin,
        args: () => readFileSync(argLog, "utf8").trimEnd().split("\n"),
        env: () => readFileSync(envLog, "utf8").trim(),
      };
    }

    it("scans a digest reference from its registry, with the scanners asked for (misconfig is Trivy's config)", async () => {
      const trivy = loggingTrivy();
      const { code, stdout } = await runCli(
        ["scan", "--image", CANDIDATE, "--scanners", "misconfig,secret", "--offline", "--insecure"],
        { env: { PATH: trivy.bin, HOME: tmp, FAKE_REPORT: BASE_REPORT } },
      );
      assert.equal(code, 0, stdout);
      const args = trivy.args();
      assert.equal(args[args.indexOf("--scanners") + 1], "secret,config");
      assert.equal(args[args.indexOf("--image-src") + 1], "remote");
      for (const f of [
        "--insecure",
        "--skip-db-update",
        "--skip-policy-update",
        "--offline-scan",
      ]) {
        assert.ok(args.includes(f), f);
      }
      assert.ok(!args.includes("--list-all-pkgs"), "no SBOM asked: no package list");
      assert.equal(args[args.indexOf("--cache-dir") + 1], join(tmp, ".cache", "trivy"));
    });

    it("lets Trivy read a tag from wherever it is (no --image-src) and never goes --insecure unasked", async () => {
      const trivy = loggingTrivy();
      await runCli(["scan", "--image", "slipway/odoo:1.0-runtime"], {
        env: { PATH: trivy.bin, FAKE_REPORT: BASE_REPORT },
      });
      const args = trivy.args();
      assert.ok(!args.includes("--image-src"));
      assert.ok(!args.includes("--insecure"));
      assert.ok(!args.includes("--skip-db-update"));
    });

    it("records the scanners, Trivy's version and its DB's in the verdict", async () => {
      const trivy = loggingTrivy();
      const out = join(tmp, "scan.json");
      const { code } = await runCli(["scan", "--image", CANDIDATE, "--json", out], {
        env: { PATH: trivy.bin, FAKE_REPORT: BASE_REPORT },
      });
      assert.equal(code, 0);
      const figures = (JSON.parse(readFileSync(out, "utf8")) as GateResult).figures;
      assert.equal(figures.scanners, "vuln,secret");
      assert.equal(figures["trivy.version"], "0.58.1");
      assert.equal(figures["trivy.db"], true);
      assert.equal(figures["trivy.db.version"], 2);
      assert.equal(figures["trivy.db.updatedAt"], "2025-01-05T12:11:37Z");
    });

    it("hands the registry's credentials from SLIPWAY_REGISTRY_AUTH to Trivy by environment, never argv", async () => {
      const trivy = loggingTrivy();
      const auth = JSON.stringify({
        auths: { "127.0.0.1:5000": { auth: Buffer.from("slipway:s3cret").toString("base64") } },
      });
      const { code } = await runCli(["scan", "--image", CANDIDATE], {
        env: { PATH: trivy.bin, FAKE_REPORT: BASE_REPORT, SLIPWAY_REGISTRY_AUTH: auth },
      });
      assert.equal(code, 0);
      assert.equal(trivy.env(), "user=slipway password=s3cret auth=");
      assert.ok(!trivy.args().some((a) => a.includes("s3cret")));
    });

    it("fails closed with SCANNER_UNAVAILABLE when vuln is asked for and Trivy has no DB", async () => {
      const trivy = loggingTrivy();
      const { code, stdout } = await runCli(["scan", "--image", CANDIDATE], {
        env: { PATH: trivy.bin, FAKE_REPORT: BASE_REPORT, FAKE_VERSION: '{"Version":"dev"}' },
      });
      assert.equal(code, 1);
      assert.match(stdout, /^SCANNER_UNAVAILABLE: Trivy could not download its vulnerability DB/);
      assert.match(stdout, /--scanners secret/);
    });

    it("passes a secret-only scan without a DB and says the DB is absent", async () => {
      const trivy = loggingTrivy();
      const out = join(tmp, "scan.json");
      const { code } = await runCli(
        ["scan", "--image", CANDIDATE, "--scanners", "secret", "--json", out],
        { env: { PATH: trivy.bin, FAKE_REPORT: BASE_REPORT, FAKE_VERSION: '{"Version":"dev"}' } },
      );
      assert.equal(code, 0);
      const figures = (JSON.parse(readFileSync(out, "utf8")) as GateResult).figures;
      assert.equal(figures.scanners, "secret");
      assert.equal(figures["trivy.version"], "dev");
      assert.equal(figures["trivy.db"], false);
    });

    it("says offline Trivy has no DB when --skip-db-update meets an empty cache", async () => {
      const trivy = loggingTrivy([
        'echo "ERROR The first run cannot skip downloading DB" >&2',
        "exit 1",
      ]);
      const { code, stdout } = await runCli(["scan", "--image", CANDIDATE, "--offline"], {
        env: { PATH: trivy.bin, FAKE_REPORT: BASE_REPORT },
      });
      assert.equal(code, 1);
      assert.match(
        stdout,
        /^SCANNER_UNAVAILABLE: Trivy has no vulnerability DB in .* and --offline forbids downloading it/,
      );
    });

    it("runs the binary named by --trivy or SLIPWAY_TRIVY, and fails closed when it is missing", async () => {
      const trivy = loggingTrivy();
      const named = join(trivy.bin, "trivy");
      const env = { PATH: join(tmp, "empty"), FAKE_REPORT: BASE_REPORT };
      assert.equal(
        (await runCli(["scan", "--image", CANDIDATE, "--trivy", named], { env })).code,
        0,
      );
      assert.equal(
        (await runCli(["scan", "--image", CANDIDATE], { env: { ...env, SLIPWAY_TRIVY: named } }))
          .code,
        0,
      );
      const missing = await runCli(["scan", "--image", CANDIDATE, "--trivy", join(tmp, "nope")], {
        env,
      });
      assert.equal(missing.code, 1);
      assert.match(
        missing.stdout,
        /^SCANNER_UNAVAILABLE: --trivy names .*nope, which is not an executable/,
      );
    });

    it("writes the CycloneDX SBOM converted from the same report, validated, and summarizes it", async () => {
      const trivy = loggingTrivy();
      const sbom = join(tmp, "release", "sbom.cdx.json");
      const out = join(tmp, "scan.json");
      const { code, stdout } = await runCli(
        ["scan", "--image", CANDIDATE, "--scanners", "secret", "--sbom", sbom, "--json", out],
        { env: { PATH: trivy.bin, FAKE_REPORT: BASE_REPORT, FAKE_SBOM: BASE_SBOM } },
      );
      assert.equal(code, 0, stdout);
      assert.ok(trivy.args().includes("--list-all-pkgs"));
      assert.deepEqual(readFileSync(sbom), readFileSync(BASE_SBOM));
      const figures = (JSON.parse(readFileSync(out, "utf8")) as GateResult).figures;
      assert.equal(figures.sbom, sbom);
      assert.equal(figures["sbom.format"], "CycloneDX 1.5");
      assert.equal(figures["sbom.components"], 157);
      assert.equal(figures["sbom.components.library"], 156);
      assert.equal(figures["sbom.components.operating-system"], 1);
      assert.equal(figures["sbom.os"], "debian 12.15");
    });

    it("fails closed with SBOM_INVALID when the SBOM does not validate, and keeps no file", async () => {
      const trivy = loggingTrivy();
      const doc = JSON.parse(readFileSync(BASE_SBOM, "utf8")) as { components: { type: string }[] };
      doc.components[0].type = "gadget";
      const bad = join(tmp, "bad.cdx.json");
      writeFileSync(bad, JSON.stringify(doc));
      const sbom = join(tmp, "sbom.cdx.json");
      const { code, stdout } = await runCli(
        ["scan", "--image", CANDIDATE, "--scanners", "secret", "--sbom", sbom],
        { env: { PATH: trivy.bin, FAKE_REPORT: BASE_REPORT, FAKE_SBOM: bad } },
      );
      assert.equal(code, 1);
      assert.match(
        stdout,
        /^SBOM_INVALID: the SBOM of .* does not validate against the CycloneDX 1\.5/,
      );
      assert.match(stdout, /\/components\/0\/type/);
      assert.ok(!existsSync(sbom));
    });

    it("refuses the run-only flags with --report, and unknown scanners (exit 2)", async () => {
      for (const argv of [
        ["--sbom", join(tmp, "s.json")],
        ["--scanners", "secret"],
        ["--offline"],
        ["--insecure"],
      ]) {
        const { code } = await runCli(["scan", "--report", DEBIAN, ...argv]);
        assert.equal(code, 2, argv.join(" "));
      }
      const { code, stderr } = await runCli([
        "scan",
        "--image",
        CANDIDATE,
        "--scanners",
        "vuln,malware",
      ]);
      assert.equal(code, 2);
      assert.match(stderr, /unknown scanner "malware"/);
    });
  });
});
