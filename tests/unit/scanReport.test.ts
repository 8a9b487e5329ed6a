import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { GateError } from "../../gates/result";
import {
  parseReport,
  misconfigurationAliases,
  parseReportBytes,
  readReport,
  type ScanFinding,
  type ScanReport,
} from "../../gates/scan/report";
import { splitReport } from "../../gates/scan/split";

const FIXTURES = join(__dirname, "..", "fixtures", "trivy");
const fixture = (...parts: string[]): string => join(FIXTURES, ...parts);

const VALID = [
  "debian-buster.json",
  "ubi-7-comprehensive.json",
  "sl-micro-rancher5.4.json",
  "secrets.json",
  "dockerfile.json",
  "spring4shell-jre11.json",
  "dockerfile-current.json",
  ...readdirSync(fixture("derived")).map((f) => join("derived", f)),
];
const MALFORMED = readdirSync(fixture("malformed")).sort();

function isInvalidReport(err: unknown): boolean {
  return err instanceof GateError && err.code === "SCAN_REPORT_INVALID";
}

/** The outcome of a parse, comparable across the two paths (finding order is not part of the contract). */
function outcome(parse: () => ScanReport): string {
  try {
    const report = parse();
    const findings = report.findings.map((f) => JSON.stringify(f)).sort();
    return JSON.stringify({ ...report, findings });
  } catch (err) {
    if (isInvalidReport(err)) return "SCAN_REPORT_INVALID";
    throw err;
  }
}

describe("scan: reading Trivy JSON reports", () => {
  it("flattens debian-buster's two OS package vulnerabilities", () => {
    const report = readReport(fixture("debian-buster.json"));
    assert.equal(report.artifactName, "testdata/fixtures/images/debian-buster.tar.gz");
    assert.equal(report.artifactType, "container_image");
    assert.equal(report.os, "debian 10.1");
    assert.equal(report.eosl, false);
    assert.equal(report.trivyVersion, "dev");
    assert.equal(report.results, 1);
    const libidn2 = report.findings.find((f) => f.id === "CVE-2019-18224");
    assert.deepEqual(libidn2, {
      kind: "vulnerability",
      id: "CVE-2019-18224",
      aliases: [],
      severity: "CRITICAL",
      target: "testdata/fixtures/images/debian-buster.tar.gz (debian 10.1)",
      resultClass: "os-pkgs",
      pkgName: "libidn2-0",
      pkgPath: "",
      purl: "pkg:deb/debian/libidn2-0@2.0.5-1?arch=amd64&distro=debian-10.1",
      installed: "2.0.5-1",
      fixed: "2.0.5-1+deb10u1",
      status: "fixed",
      title: "libidn2: heap-based buffer overflow in idn2_to_ascii_4i in lib/lookup.c",
      line: 0,
      layer: "sha256:78c1b9419976227e05be9d243b7fa583bea44a5258e52018b2af4cdfe23d148d",
    } satisfies ScanFinding);
    const bash = report.findings.find((f) => f.id === "CVE-2019-18276");
    assert.equal(bash?.status, "affected");
    assert.equal(bash?.fixed, "");
    assert.equal(report.findings.length, 2);
  });

  it("reads a language package with its PkgPath (ubi-7 setuptools)", () => {
    const report = readReport(fixture("ubi-7-comprehensive.json"));
    const setuptools = report.findings.find((f) => f.pkgName === "setuptools");
    assert.equal(setuptools?.target, "Python");
    assert.equal(setuptools?.resultClass, "lang-pkgs");
    assert.equal(
      setuptools?.pkgPath,
      "usr/lib/python2.7/site-packages/setuptools-0.9.8-py2.7.egg-info/PKG-INFO",
    );
    assert.equal(setuptools?.severity, "HIGH");
    assert.equal(report.findings.find((f) => f.pkgName === "bash")?.status, "will_not_fix");
  });

  it("reads a Result without a Vulnerabilities key as no findings (sl-micro)", () => {
    const report = readReport(fixture("sl-micro-rancher5.4.json"));
    assert.equal(report.results, 1);
    assert.deepEqual(report.findings, []);
  });

  it("reads secrets by rule ID with their line", () => {
    const report = readReport(fixture("secrets.json"));
    assert.deepEqual(
      report.findings.map((f) => [f.kind, f.id, f.severity, f.target, f.line, f.title]),
      [
        ["secret", "aws-access-key-id", "CRITICAL", "deploy.sh", 3, "AWS Access Key ID"],
        ["secret", "mysecret", "HIGH", "deploy.sh", 7, "My Secret"],
      ],
    );
  });

  it("reads misconfigurations by AVDID and keeps every other form of the rule's ID as an alias", () => {
    const [m] = readReport(fixture("dockerfile.json")).findings;
    assert.equal(m.kind, "misconfiguration");
    assert.equal(m.id, "AVD-DS-0002");
    assert.deepEqual([...m.aliases].sort(), ["DS-0002", "DS002"]);
    assert.equal(m.status, "FAIL");
    assert.equal(m.target, "Dockerfile");
  });

  it("reads a current report's misconfiguration (ID DS-0002 only) with its AVD and legacy forms", () => {
    const [m] = readReport(fixture("dockerfile-current.json")).findings;
    assert.equal(m.id, "DS-0002");
    assert.deepEqual([...m.aliases].sort(), ["AVD-DS-0002", "DS002"]);
  });

  it("derives no aliases for a custom check's ID that has no other form", () => {
    assert.deepEqual(misconfigurationAliases("my-check", "", "user.custom.check"), []);
    assert.deepEqual(misconfigurationAliases("KSV-0014", "", ""), ["AVD-KSV-0014", "KSV014"]);
  });

  it("reads a Result with an empty Target (Class custom) as valid output (spring4shell-jre11)", () => {
    const report = readReport(fixture("spring4shell-jre11.json"));
    assert.equal(report.results, 3);
    assert.ok(report.findings.length > 0);
    assert.ok(report.findings.every((f) => f.target !== ""));
  });

  it("reads a report without Results (Trivy omits it when empty) as no findings", () => {
    const report = parseReport('{"SchemaVersion": 2, "ArtifactName": "app:1"}', "inline");
    assert.equal(report.results, 0);
    assert.deepEqual(report.findings, []);
  });

  it("reads a missing Severity as UNKNOWN, as Trivy does", () => {
    const text = JSON.stringify({
      SchemaVersion: 2,
      Results: [{ Target: "t", Vulnerabilities: [{ VulnerabilityID: "CVE-1", PkgName: "p" }] }],
    });
    assert.equal(parseReport(text, "inline").findings[0].severity, "UNKNOWN");
  });

  it("reads the layer each finding was found in and the image's layers, bottom first", () => {
    const report = readReport(fixture("derived", "debian-buster-app-layer.json"));
    const BASE = "sha256:78c1b9419976227e05be9d243b7fa583bea44a5258e52018b2af4cdfe23d148d";
    const APP = "sha256:a3e30fc00f95f88f6fcc8977d5ae1dabecd3f14f12a799a1c1bf66eb1f1b22b1";
    assert.deepEqual(report.diffIds, [BASE, APP]);
    assert.deepEqual(
      report.findings.map((f) => [f.pkgName, f.layer]),
      [
        ["bash", BASE],
        ["libidn2-0", BASE],
        ["libidn2-dev", APP],
      ],
    );
  });

  it('reads a finding without a Layer (a repository scan) as layer "", and no image layers', () => {
    const report = readReport(fixture("secrets.json"));
    assert.deepEqual(
      report.findings.map((f) => f.layer),
      ["", ""],
    );
    assert.deepEqual(report.diffIds, []);
  });

  it("rejects a Layer that is not an object, and DiffIDs that are not strings, naming the path", () => {
    const layer = JSON.stringify({
      SchemaVersion: 2,
      Results: [
        { Target: "t", Vulnerabilities: [{ VulnerabilityID: "CVE-1", Layer: "sha256:x" }] },
      ],
    });
    assert.throws(
      () => parseReport(layer, "inline"),
      (err: unknown) =>
        isInvalidReport(err) &&
        /Results\[0\]\.Vulnerabilities\[0\]: Layer must be an object/.test((err as Error).message),
    );
    const diffIds = JSON.stringify({ SchemaVersion: 2, Metadata: { DiffIDs: [1] } });
    assert.throws(
      () => parseReport(diffIds, "inline"),
      (err: unknown) =>
        isInvalidReport(err) &&
        /Metadata\.DiffIDs: must be an array of strings/.test((err as Error).message),
    );
  });

  it("reads Metadata.OS.EOSL", () => {
    assert.equal(readReport(fixture("derived", "debian-buster-eosl.json")).eosl, true);
  });

  describe("malformed reports fail closed", () => {
    for (const name of MALFORMED) {
      it(`rejects malformed/${name} with SCAN_REPORT_INVALID`, () => {
        assert.throws(() => readReport(fixture("malformed", name)), isInvalidReport);
      });
    }

    const messages: [string, RegExp][] = [
      ["empty.json", /is empty/],
      ["not-json.json", /is not valid JSON/],
      ["truncated-in-findings.json", /is truncated JSON/],
      ["truncated-in-metadata.json", /is truncated JSON/],
      ["json-array.json", /the document is a JSON array, not an object/],
      ["schema-version-1.json", /has SchemaVersion 1; this gate reads SchemaVersion 2/],
      ["schema-version-string.json", /has SchemaVersion "2"/],
      ["not-a-trivy-report.json", /is not a Trivy report: it has no SchemaVersion/],
      ["results-not-array.json", /\(top level\): Results must be an array/],
      ["vulnerability-without-id.json", /Results\[0\]\.Vulnerabilities\[1\]: no VulnerabilityID/],
      ["unknown-severity.json", /Results\[0\]\.Vulnerabilities\[1\]: unknown Severity "SEVERE"/],
      ["unknown-status.json", /unknown Status "patched"/],
      ["unknown-class.json", /Results\[0\]: unknown Class "malware"/],
      ["installed-version-number.json", /InstalledVersion must be a string/],
      ["secret-without-rule-id.json", /Results\[0\]\.Secrets\[0\]: no RuleID/],
      ["misconfiguration-unknown-status.json", /unknown Status "FAILED"/],
      ["result-target-not-string.json", /Results\[0\]: Target must be a string/],
    ];
    for (const [name, message] of messages) {
      it(`says what is wrong with malformed/${name}`, () => {
        assert.throws(
          () => readReport(fixture("malformed", name)),
          (err: GateError) => isInvalidReport(err) && message.test(err.message),
        );
      });
    }

    it("rejects a report file that does not exist, naming it", () => {
      assert.throws(
        () => readReport(fixture("no-such-report.json")),
        (err: GateError) =>
          isInvalidReport(err) &&
          /no-such-report\.json cannot be read \(ENOENT\)/.test(err.message),
      );
    });
  });

  describe("batched parsing (large reports)", () => {
    it("cuts the findings arrays out of the skeleton, one batch per element when asked", () => {
      const split = splitReport(readFileSync(fixture("debian-buster.json")), 1);
      assert.ok(split !== undefined);
      assert.deepEqual(
        split.batches.map((b) => [b.result, b.list]),
        [
          [0, "Vulnerabilities"],
          [0, "Vulnerabilities"],
        ],
      );
      const skeleton = JSON.parse(split.skeleton) as { Results: { Vulnerabilities: unknown[] }[] };
      assert.deepEqual(skeleton.Results[0].Vulnerabilities, []);
    });

    it("reads every valid fixture exactly as one JSON.parse does, whatever the batch size", () => {
      for (const name of VALID) {
        const bytes = readFileSync(fixture(name));
        const plain = outcome(() => parseReport(bytes.toString("utf8"), name));
        for (const batchBytes of [1, 500, 1 << 20]) {
          assert.equal(
            outcome(() => parseReportBytes(bytes, name, batchBytes)),
            plain,
            name,
          );
        }
      }
    });

    it("reads the same findings from other layouts (compact, 4-space, tabs), walking the bytes", () => {
      for (const name of VALID) {
        const doc = JSON.parse(readFileSync(fixture(name), "utf8")) as unknown;
        const plain = outcome(() => parseReport(JSON.stringify(doc), name));
        for (const indent of [undefined, 4, "\t"]) {
          const bytes = Buffer.from(JSON.stringify(doc, null, indent));
          assert.equal(
            outcome(() => parseReportBytes(bytes, name, 300)),
            plain,
            `${name} ${indent}`,
          );
        }
      }
    });

    it("is not misled by a layout that looks like Trivy's inside a finding", () => {
      // The element separator pattern `},\n        {` also occurs inside the first finding here.
      const text = [
        "{",
        '  "SchemaVersion": 2,',
        '  "Results": [',
        "    {",
        '      "Target": "t",',
        '      "Vulnerabilities": [',
        "        {",
        '          "VulnerabilityID": "CVE-1", "Severity": "HIGH", "X": [',
        '        {"a": 1},',
        '        {"b": 2}',
        "      ]",
        "        },",
        "        {",
        '          "VulnerabilityID": "CVE-2", "Severity": "LOW"',
        "        }",
        "      ]",
        "    }",
        "  ]",
        "}",
      ].join("\n");
      const bytes = Buffer.from(text);
      const plain = outcome(() => parseReport(text, "tricky"));
      assert.notEqual(plain, "SCAN_REPORT_INVALID");
      for (const batchBytes of [1, 40, 1 << 20]) {
        assert.equal(
          outcome(() => parseReportBytes(bytes, "tricky", batchBytes)),
          plain,
        );
      }
      assert.deepEqual(
        parseReportBytes(bytes, "tricky", 1).findings.map((f) => f.id),
        ["CVE-1", "CVE-2"],
      );
    });

    it("still reads findings under a key written with escapes (left in the skeleton)", () => {
      const text = readFileSync(fixture("debian-buster.json"), "utf8").replace(
        '"Vulnerabilities"',
        '"Vulnerabilit\\u0069es"',
      );
      const report = parseReportBytes(Buffer.from(text), "escaped", 1);
      assert.equal(report.findings.length, 2);
    });

    it("agrees with the plain path on a report cut at any point", () => {
      const bytes = readFileSync(fixture("secrets.json"));
      for (let cut = 0; cut < bytes.length; cut += 7) {
        const part = bytes.subarray(0, cut);
        assert.equal(
          outcome(() => parseReportBytes(part, "cut", 64)),
          outcome(() => parseReport(part.toString("utf8"), "cut")),
          `cut at ${cut}`,
        );
      }
    });

    const layouts: [string, Buffer][] = [
      ["Trivy's layout", readFileSync(fixture("debian-buster.json"))],
      [
        "compact JSON",
        Buffer.from(
          JSON.stringify(JSON.parse(readFileSync(fixture("debian-buster.json"), "utf8"))),
        ),
      ],
    ];
    for (const [layout, original] of layouts) {
      it(`agrees with the plain path when any structural byte is changed (${layout})`, () => {
        const replacements = [",", "]", "}", "{", '"', "\\", "x", "\n"].map((c) => c.charCodeAt(0));
        let tried = 0;
        for (let at = 0; at < original.length; at++) {
          // Every structural byte and every 50th byte of text, each replaced by two of the bytes
          // above in turn: a few thousand variants.
          if (!'{}[],:"\\\n'.includes(String.fromCharCode(original[at])) && at % 50 !== 0) continue;
          const pair = [replacements[at % 8], replacements[(at + 3) % 8]];
          for (const byte of pair) {
            if (byte === original[at]) continue;
            const mutated = Buffer.from(original);
            mutated[at] = byte;
            assert.equal(
              outcome(() => parseReportBytes(mutated, "mutated", 1500)),
              outcome(() => parseReport(mutated.toString("utf8"), "mutated")),
              `byte ${at} → ${String.fromCharCode(byte)}`,
            );
            tried++;
          }
        }
        assert.ok(tried > 1000, `only ${tried} variants`);
      });
    }

    it("agrees with the plain path on every malformed report", () => {
      for (const name of MALFORMED) {
        const bytes = readFileSync(fixture("malformed", name));
        assert.equal(
          outcome(() => parseReportBytes(bytes, name, 1)),
          "SCAN_REPORT_INVALID",
          name,
        );
      }
    });
  });
});
