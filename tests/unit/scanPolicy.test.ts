import assert from "node:assert/strict";
import { join } from "node:path";
import { UsageError } from "../../gates/result";
import { parseTrivyignore, readAllowlist, type Allowlist } from "../../gates/scan/allowlist";
import {
  baselineKeys,
  evaluate,
  isFixed,
  thresholdOf,
  type PolicyOptions,
  type PolicyOutcome,
} from "../../gates/scan/policy";
import { attributor } from "../../gates/scan/origin";
import { readReport, type ScanFinding, type Severity } from "../../gates/scan/report";

const FIXTURES = join(__dirname, "..", "fixtures", "trivy");
const findingsOf = (...parts: string[]): ScanFinding[] =>
  readReport(join(FIXTURES, ...parts)).findings;
const NOW = new Date("2025-01-05T02:00:00Z");

function run(findings: ScanFinding[], options: Partial<PolicyOptions> = {}): PolicyOutcome {
  return evaluate(findings, { threshold: "HIGH", ignoreUnfixed: false, now: NOW, ...options });
}

const blockingIds = (o: PolicyOutcome): string[] => o.blocking.map((e) => e.finding.id);

describe("scan: policy", () => {
  describe("--severity", () => {
    it("blocks at and above the lowest severity named", () => {
      assert.equal(thresholdOf("HIGH,CRITICAL"), "HIGH");
      assert.equal(thresholdOf("CRITICAL"), "CRITICAL");
      assert.equal(thresholdOf("critical, low"), "LOW");
      assert.equal(thresholdOf("MEDIUM,CRITICAL"), "MEDIUM");
      assert.equal(thresholdOf("UNKNOWN"), "UNKNOWN");
    });

    it("refuses an unknown severity or an empty list as a usage error", () => {
      assert.throws(() => thresholdOf("SEVERE"), UsageError);
      assert.throws(() => thresholdOf(" , "), UsageError);
    });
  });

  describe("real reports", () => {
    it("blocks debian-buster with SECURITY_CRITICAL on CVE-2019-18224 alone at HIGH", () => {
      const o = run(findingsOf("debian-buster.json"));
      assert.equal(o.code, "SECURITY_CRITICAL");
      assert.deepEqual(blockingIds(o), ["CVE-2019-18224"]);
      assert.equal(o.belowThreshold, 1);
      assert.deepEqual(o.all.bySeverity, { UNKNOWN: 0, LOW: 1, MEDIUM: 0, HIGH: 0, CRITICAL: 1 });
    });

    it("blocks debian-buster on both findings at LOW, the CRITICAL first", () => {
      const o = run(findingsOf("debian-buster.json"), { threshold: "LOW" });
      assert.equal(o.code, "SECURITY_CRITICAL");
      assert.deepEqual(blockingIds(o), ["CVE-2019-18224", "CVE-2019-18276"]);
      assert.equal(o.belowThreshold, 0);
    });

    it("blocks debian-buster at CRITICAL and lets nothing through at CRITICAL only for ubi-7", () => {
      assert.deepEqual(
        blockingIds(run(findingsOf("debian-buster.json"), { threshold: "CRITICAL" })),
        ["CVE-2019-18224"],
      );
      const ubi = run(findingsOf("ubi-7-comprehensive.json"), { threshold: "CRITICAL" });
      assert.equal(ubi.code, undefined);
      assert.equal(ubi.belowThreshold, 2);
    });

    it("blocks ubi-7 with SECURITY_HIGH on setuptools (no CRITICAL finding)", () => {
      const o = run(findingsOf("ubi-7-comprehensive.json"));
      assert.equal(o.code, "SECURITY_HIGH");
      assert.deepEqual(
        o.blocking.map((e) => [e.finding.id, e.finding.pkgName]),
        [["CVE-2022-40897", "setuptools"]],
      );
    });

    it("passes sl-micro, which has no vulnerabilities", () => {
      const o = run(findingsOf("sl-micro-rancher5.4.json"), { threshold: "UNKNOWN" });
      assert.equal(o.code, undefined);
      assert.equal(o.all.findings, 0);
    });

    it("blocks a secrets-only report with SECRET_DETECTED, not as a vulnerability", () => {
      const o = run(findingsOf("secrets.json"));
      assert.equal(o.code, "SECRET_DETECTED");
      assert.deepEqual(blockingIds(o), ["aws-access-key-id", "mysecret"]);
    });

    it("still blocks with SECRET_DETECTED on the HIGH secret left once the CRITICAL one is allowlisted", () => {
      const allowlist: Allowlist = readAllowlist(
        join(FIXTURES, "allowlist", "ubi-7.trivyignore.yaml"),
      );
      // The fixture allowlists the AWS key only under tests/**: deploy.sh is not covered.
      assert.equal(run(findingsOf("secrets.json"), { allowlist }).code, "SECRET_DETECTED");
      const onDeploy = parseTrivyignore("aws-access-key-id exp:2030-01-01 # rotated\n", "x");
      const o = run(findingsOf("secrets.json"), { allowlist: onDeploy });
      assert.equal(o.code, "SECRET_DETECTED");
      assert.deepEqual(blockingIds(o), ["mysecret"]);
    });

    it("lets a secret below the threshold through, like any finding (--severity CRITICAL)", () => {
      const onDeploy = parseTrivyignore("aws-access-key-id exp:2030-01-01 # rotated\n", "x");
      const o = run(findingsOf("secrets.json"), { allowlist: onDeploy, threshold: "CRITICAL" });
      assert.equal(o.code, undefined);
      assert.equal(o.belowThreshold, 1);
    });

    it("blocks on a FAIL misconfiguration at the threshold (dockerfile DS002 HIGH)", () => {
      const o = run(findingsOf("dockerfile.json"));
      assert.equal(o.code, "SECURITY_HIGH");
      assert.deepEqual(blockingIds(o), ["AVD-DS-0002"]);
    });

    it("does not count misconfigurations that PASS, and lets FAILs below the threshold through", () => {
      const findings = findingsOf("derived", "dockerfile-with-low-and-pass.json");
      const high = run(findings);
      assert.deepEqual(blockingIds(high), ["AVD-DS-0002"]);
      assert.equal(high.nonFailures, 1);
      assert.equal(high.belowThreshold, 1);
      assert.equal(high.all.findings, 2);
      assert.deepEqual(blockingIds(run(findings, { threshold: "LOW" })), [
        "AVD-DS-0002",
        "AVD-DS-0026",
      ]);
    });
  });

  describe("--ignore-unfixed", () => {
    it("keeps only Status fixed: debian's bash (affected) no longer blocks at LOW", () => {
      const o = run(findingsOf("debian-buster.json"), { threshold: "LOW", ignoreUnfixed: true });
      assert.deepEqual(blockingIds(o), ["CVE-2019-18224"]);
      assert.equal(o.unfixedIgnored, 1);
    });

    it("drops will_not_fix (ubi-7 bash) and keeps fixed (setuptools)", () => {
      const o = run(findingsOf("ubi-7-comprehensive.json"), {
        threshold: "LOW",
        ignoreUnfixed: true,
      });
      assert.deepEqual(blockingIds(o), ["CVE-2022-40897"]);
    });

    it("falls back to FixedVersion for an older report without Status", () => {
      const findings = findingsOf("derived", "debian-buster-no-status.json");
      assert.ok(findings.every((f) => f.status === ""));
      const o = run(findings, { threshold: "LOW", ignoreUnfixed: true });
      assert.deepEqual(blockingIds(o), ["CVE-2019-18224"]);
      assert.equal(o.unfixedIgnored, 1);
    });

    it("trusts Status over FixedVersion when both are present", () => {
      const [libidn2] = findingsOf("debian-buster.json").filter((f) => f.id === "CVE-2019-18224");
      assert.equal(isFixed(libidn2), true);
      assert.equal(isFixed({ ...libidn2, status: "will_not_fix" }), false);
      assert.equal(isFixed({ ...libidn2, status: "", fixed: "" }), false);
    });

    it("never drops secrets or misconfigurations (they have no fix version)", () => {
      const o = run(findingsOf("secrets.json"), { ignoreUnfixed: true });
      assert.equal(o.blocking.length, 2);
    });

    it("blocks everything unfixed without the flag", () => {
      const o = run(findingsOf("debian-buster.json"), { threshold: "LOW" });
      assert.equal(o.unfixedIgnored, 0);
      assert.equal(o.blocking.length, 2);
    });
  });

  describe("counts", () => {
    it("counts one CVE in two packages as one unique ID and two findings", () => {
      const o = run(findingsOf("derived", "debian-buster-two-packages.json"));
      assert.equal(o.blockingTally.findings, 2);
      assert.equal(o.blockingTally.ids, 1);
      assert.equal(o.all.findings, 3);
      assert.equal(o.all.ids, 2);
      assert.deepEqual(
        o.blocking.map((e) => e.finding.pkgName),
        ["libidn2-0", "libidn2-dev"],
      );
      assert.deepEqual(o.blockingTally.bySeverity, {
        UNKNOWN: 0,
        LOW: 0,
        MEDIUM: 0,
        HIGH: 0,
        CRITICAL: 2,
      });
    });
  });

  describe("allowlist", () => {
    const debianAllowlist = readAllowlist(join(FIXTURES, "allowlist", "debian.trivyignore"));

    it("lets an allowlisted finding through and names the entry that matched nothing", () => {
      const o = run(findingsOf("debian-buster.json"), { allowlist: debianAllowlist });
      assert.equal(o.code, undefined);
      assert.deepEqual(
        o.allowlisted.map((e) => [e.finding.id, e.entry?.expires]),
        [["CVE-2019-18224", "2030-06-30"]],
      );
      assert.deepEqual(
        o.unusedEntries.map((e) => e.id),
        ["CVE-2018-0001"],
      );
      assert.deepEqual(o.expiredEntries, []);
    });

    it("blocks again once the entry has expired, naming it on the finding and in the list", () => {
      const o = run(findingsOf("debian-buster.json"), {
        allowlist: debianAllowlist,
        now: new Date("2030-06-30T00:00:00.001Z"),
      });
      assert.equal(o.code, "SECURITY_CRITICAL");
      assert.equal(o.blocking[0].expiredEntry?.id, "CVE-2019-18224");
      assert.deepEqual(
        o.expiredEntries.map((e) => e.id),
        ["CVE-2019-18224", "CVE-2018-0001"],
      );
      assert.deepEqual(o.unusedEntries, []);
    });

    it("counts an entry as used when it matches a finding below the threshold", () => {
      const allowlist = parseTrivyignore("CVE-2019-18276 # bash, LOW\n", "x");
      const o = run(findingsOf("debian-buster.json"), { allowlist });
      assert.deepEqual(o.unusedEntries, []);
      assert.deepEqual(o.allowlisted, []);
    });

    it("lets a purl entry through libidn2-0 but not the same CVE in libidn2-dev", () => {
      const allowlist = readAllowlist(join(FIXTURES, "allowlist", "debian-purl.trivyignore.yaml"));
      const o = run(findingsOf("derived", "debian-buster-two-packages.json"), { allowlist });
      assert.equal(o.code, "SECURITY_CRITICAL");
      assert.deepEqual(
        o.blocking.map((e) => e.finding.pkgName),
        ["libidn2-dev"],
      );
      assert.deepEqual(
        o.allowlisted.map((e) => e.finding.pkgName),
        ["libidn2-0"],
      );
      assert.equal(o.blockingTally.ids, 1);
      assert.equal(o.allowlistedTally.ids, 1);
    });

    it("applies the first matching entry that has not expired", () => {
      const allowlist = parseTrivyignore(
        "CVE-2019-18224 exp:2020-01-01 # old\nCVE-2019-18224 exp:2030-01-01 # renewed\n",
        "x",
      );
      const o = run(findingsOf("debian-buster.json"), { allowlist });
      assert.equal(o.code, undefined);
      assert.equal(o.allowlisted[0].entry?.statement, "renewed");
      assert.deepEqual(
        o.expiredEntries.map((e) => e.statement),
        ["old"],
      );
    });

    it("checks --ignore-unfixed before the allowlist, as Trivy does", () => {
      const allowlist = parseTrivyignore("CVE-2019-18276\n", "x");
      const o = run(findingsOf("debian-buster.json"), {
        threshold: "LOW",
        ignoreUnfixed: true,
        allowlist,
      });
      assert.equal(o.unfixedIgnored, 1);
      assert.deepEqual(o.allowlisted, []);
    });
  });

  describe("baseline", () => {
    it("blocks only on findings absent from the baseline and lists the carried-over ones", () => {
      const baseline = baselineKeys(findingsOf("debian-buster.json"));
      const o = run(findingsOf("derived", "debian-buster-two-packages.json"), { baseline });
      assert.equal(o.code, "SECURITY_CRITICAL");
      assert.deepEqual(
        o.blocking.map((e) => e.finding.pkgName),
        ["libidn2-dev"],
      );
      assert.deepEqual(
        o.carriedOver.map((e) => e.finding.pkgName),
        ["libidn2-0"],
      );
    });

    it("passes a report whose findings were all in the baseline", () => {
      const findings = findingsOf("debian-buster.json");
      const o = run(findings, { threshold: "LOW", baseline: baselineKeys(findings) });
      assert.equal(o.code, undefined);
      assert.equal(o.carriedOver.length, 2);
    });

    it("carries OS-package findings over from the previous release although Trivy's target names each image", () => {
      // debian-buster.json's OS target is "testdata/...tar.gz (debian 10.1)"; the app's report,
      // "slipway/app:1.0 (debian 10.1)": the same packages, scanned under another name.
      const baseline = baselineKeys(findingsOf("debian-buster.json"));
      const findings = findingsOf("derived", "debian-buster-app-layer.json");
      assert.notEqual(findings[0].target, findingsOf("debian-buster.json")[0].target);
      const o = run(findings, { threshold: "LOW", baseline });
      assert.deepEqual(
        o.carriedOver.map((e) => e.finding.pkgName),
        ["libidn2-0", "bash"],
      );
      assert.deepEqual(
        o.blocking.map((e) => e.finding.pkgName),
        ["libidn2-dev"],
      );
    });

    it("keeps language-package findings apart by target: the same package in another file is new", () => {
      const findings = findingsOf("ubi-7-comprehensive.json");
      const baseline = baselineKeys(findings);
      const moved = findings.map((f) =>
        f.resultClass === "lang-pkgs" ? { ...f, target: "Python (other venv)" } : f,
      );
      assert.equal(run(findings, { baseline }).code, undefined);
      assert.equal(run(moved, { baseline }).code, "SECURITY_HIGH");
    });

    it("treats a new installed version of the same package as a new finding", () => {
      const findings = findingsOf("debian-buster.json");
      const baseline = baselineKeys(findings);
      const upgraded = findings.map((f) => ({ ...f, installed: `${f.installed}+b1` }));
      assert.equal(run(upgraded, { baseline }).code, "SECURITY_CRITICAL");
    });
  });

  describe("origin (--base-image)", () => {
    const BASE = "sha256:78c1b9419976227e05be9d243b7fa583bea44a5258e52018b2af4cdfe23d148d";
    const appImage = () => findingsOf("derived", "debian-buster-app-layer.json");

    it("labels every listed finding with its origin, blocking, carried over and allowlisted", () => {
      const originOf = attributor({ ref: "debian:buster", layers: [BASE] });
      const o = run(appImage(), {
        threshold: "LOW",
        baseline: baselineKeys(
          findingsOf("debian-buster.json").filter((f) => f.pkgName === "bash"),
        ),
        allowlist: parseTrivyignore("CVE-2019-18224\n", "x"),
        originOf,
      });
      assert.deepEqual(
        [...o.blocking, ...o.allowlisted, ...o.carriedOver].map((e) => [
          e.state,
          e.finding.pkgName,
          e.origin,
        ]),
        [
          ["allowlisted", "libidn2-0", "base"],
          ["allowlisted", "libidn2-dev", "app"],
          ["carried-over", "bash", "base"],
        ],
      );
    });

    it("never changes the verdict: the same outcome with or without origins, or with none readable", () => {
      for (const threshold of ["LOW", "HIGH", "CRITICAL"] as const) {
        const plain = run(appImage(), { threshold });
        for (const originOf of [
          attributor({ ref: "b", layers: [BASE] }),
          attributor({ ref: "b", error: "no such image" }),
        ]) {
          const labelled = run(appImage(), { threshold, originOf });
          assert.equal(labelled.code, plain.code);
          assert.deepEqual(
            labelled.blocking.map((e) => e.finding),
            plain.blocking.map((e) => e.finding),
          );
        }
      }
    });

    it("leaves findings unlabelled when no base image was given", () => {
      assert.ok(run(appImage()).blocking.every((e) => e.origin === undefined));
    });
  });

  it("orders blocking findings by severity, then ID", () => {
    const severities: Severity[] = ["LOW", "CRITICAL", "MEDIUM", "CRITICAL", "HIGH"];
    const base = findingsOf("debian-buster.json")[0];
    const findings = severities.map((severity, i) => ({ ...base, severity, id: `CVE-0-${5 - i}` }));
    const o = run(findings, { threshold: "LOW" });
    assert.deepEqual(
      o.blocking.map((e) => `${e.finding.severity} ${e.finding.id}`),
      ["CRITICAL CVE-0-2", "CRITICAL CVE-0-4", "HIGH CVE-0-1", "MEDIUM CVE-0-3", "LOW CVE-0-5"],
    );
  });
});
