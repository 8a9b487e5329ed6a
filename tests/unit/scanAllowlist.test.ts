import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GateError } from "../../gates/result";
import {
  AllowlistIndex,
  isExpired,
  parseExpDate,
  parseTrivyignore,
  parseTrivyignoreYaml,
  parseYamlTimestamp,
  readAllowlist,
  requireStatements,
  type AllowlistEntry,
} from "../../gates/scan/allowlist";
import { compileGlob, GlobError } from "../../gates/scan/glob";
import { parsePurl, purlMatches } from "../../gates/scan/purl";
import { readReport, type ScanFinding } from "../../gates/scan/report";

const FIXTURES = join(__dirname, "..", "fixtures", "trivy");
const fixture = (...parts: string[]): string => join(FIXTURES, ...parts);

function isAllowlistInvalid(pattern: RegExp): (err: unknown) => boolean {
  return (err) =>
    err instanceof GateError &&
    err.code === "ALLOWLIST_INVALID" &&
    pattern.test([err.message, ...err.details].join("\n"));
}

function entry(text: string, file = ".trivyignore.yaml"): AllowlistEntry {
  const list = parseTrivyignoreYaml(text, file);
  assert.equal(list.entries.length, 1);
  return list.entries[0];
}

const debian = readReport(fixture("debian-buster.json")).findings;
const libidn2 = debian.find((f) => f.id === "CVE-2019-18224") as ScanFinding;
const ubi = readReport(fixture("ubi-7-comprehensive.json")).findings;
const setuptools = ubi.find((f) => f.pkgName === "setuptools") as ScanFinding;

describe("scan: allowlist", () => {
  describe("path globs (doublestar, as Trivy)", () => {
    const cases: [string, string, boolean][] = [
      ["usr/lib/python2.7/site-packages/**", setuptools.pkgPath, true],
      ["usr/lib/**", "usr/lib", true],
      ["usr/lib/**", "usr/libexec/x", false],
      ["**/PKG-INFO", setuptools.pkgPath, true],
      ["**/PKG-INFO", "PKG-INFO", true],
      ["usr/**/PKG-INFO", "usr/PKG-INFO", true],
      ["usr/*/PKG-INFO", "usr/a/b/PKG-INFO", false],
      ["*.sh", "deploy.sh", true],
      ["*.sh", "scripts/deploy.sh", false],
      ["deploy.?h", "deploy.sh", true],
      ["[a-d]eploy.sh", "deploy.sh", true],
      ["[!d]eploy.sh", "deploy.sh", false],
      ["{deploy,build}.sh", "build.sh", true],
      ["{deploy,build}.sh", "test.sh", false],
      ["a**b", "axxb", true],
      ["a**b", "ax/xb", false],
      ["**", "anything/at/all", true],
      ["file\\*.txt", "file*.txt", true],
      ["file\\*.txt", "fileX.txt", false],
      ["Dockerfile", "Dockerfile", true],
      ["Python (x)", "Python (x)", true],
    ];
    for (const [pattern, path, expected] of cases) {
      it(`${expected ? "matches" : "does not match"} ${JSON.stringify(path)} with ${pattern}`, () => {
        assert.equal(compileGlob(pattern).test(path), expected);
      });
    }

    it("rejects patterns doublestar rejects (unclosed [ or {, trailing \\)", () => {
      for (const bad of ["usr/[lib", "{a,b", "trailing\\"]) {
        assert.throws(() => compileGlob(bad), GlobError, bad);
      }
    });
  });

  describe("package URLs (as Trivy's purl Match)", () => {
    const target = parsePurl(libidn2.purl);
    assert.ok(target !== undefined);
    const cases: [string, boolean][] = [
      ["pkg:deb/debian/libidn2-0", true],
      ["pkg:deb/debian/libidn2-0@2.0.5-1", true],
      ["pkg:deb/debian/libidn2-0@2.0.5-2", false],
      ["pkg:deb/debian/libidn2-0?arch=amd64", true],
      ["pkg:deb/debian/libidn2-0?arch=arm64", false],
      ["pkg:deb/ubuntu/libidn2-0", false],
      ["pkg:rpm/debian/libidn2-0", false],
      ["pkg:deb/debian/libidn2-dev", false],
      ["PKG:DEB/Debian/LIBIDN2-0", true],
    ];
    for (const [constraint, expected] of cases) {
      it(`${expected ? "matches" : "does not match"} libidn2-0 with ${constraint}`, () => {
        const c = parsePurl(constraint);
        assert.ok(c !== undefined);
        assert.equal(purlMatches(c, target), expected);
      });
    }

    it("normalises PyPI names (case, _ and -)", () => {
      const c = parsePurl("pkg:pypi/Set_Tools");
      const t = parsePurl("pkg:pypi/set-tools@1.0");
      assert.ok(c !== undefined && t !== undefined);
      assert.ok(purlMatches(c, t));
    });

    it("refuses what is not a purl", () => {
      for (const bad of ["deb/debian/x", "pkg:", "pkg:deb", "pkg:deb/%zz", "pkg:deb/x?arch"]) {
        assert.equal(parsePurl(bad), undefined, bad);
      }
    });
  });

  describe(".trivyignore", () => {
    it("reads IDs, exp: dates and statements from the comment on or just above the line", () => {
      const list = readAllowlist(fixture("allowlist", "debian.trivyignore"));
      assert.equal(list.format, "trivyignore");
      assert.deepEqual(
        list.entries.map((e) => [
          e.id,
          e.expires,
          e.expiresAt?.toISOString(),
          e.statement,
          e.source,
        ]),
        [
          [
            "CVE-2019-18224",
            "2030-06-30",
            "2030-06-30T00:00:00.000Z",
            "libidn2: the app never converts user-supplied domain names (idn2_to_ascii_4i is unreachable).",
            `${fixture("allowlist", "debian.trivyignore")}:4`,
          ],
          [
            "CVE-2018-0001",
            "2030-06-30",
            "2030-06-30T00:00:00.000Z",
            "fixed long ago: this entry matches nothing any more",
            `${fixture("allowlist", "debian.trivyignore")}:6`,
          ],
        ],
      );
    });

    it("applies a line to vulnerabilities, secrets and misconfigurations alike", () => {
      const [e] = parseTrivyignore("aws-access-key-id\n", ".trivyignore").entries;
      assert.deepEqual([...e.kinds].sort(), ["misconfiguration", "secret", "vulnerability"]);
    });

    it("does not take a comment separated by a blank line as the statement", () => {
      const [e] = parseTrivyignore("# header\n\nCVE-1\n", ".trivyignore").entries;
      assert.equal(e.statement, "");
      assert.equal(e.expiresAt, undefined);
    });

    it("does not take a section heading as the statement of the entries below it", () => {
      const text = [
        "# --- Base image (Debian) ---",
        "CVE-1 exp:2030-01-01",
        "",
        "## Accepted",
        "CVE-2 exp:2030-01-01",
        "",
        "# Base image packages:",
        "CVE-3 exp:2030-01-01",
        "",
        "# libidn2 and bash: reviewed together",
        "CVE-4 exp:2030-01-01",
        "CVE-5 exp:2030-01-01 # bash is never run",
        "",
      ].join("\n");
      const list = parseTrivyignore(text, ".trivyignore");
      assert.deepEqual(
        list.entries.map((e) => [e.id, e.statement]),
        [
          ["CVE-1", ""],
          ["CVE-2", ""],
          ["CVE-3", ""],
          ["CVE-4", ""],
          ["CVE-5", "bash is never run"],
        ],
      );
      assert.throws(
        () => requireStatements(list),
        isAllowlistInvalid(/4 allowlist entries lack a statement/),
      );
    });

    it("takes a comment block directly above a lone entry as its statement", () => {
      const [e] = parseTrivyignore(
        "# libidn2: unreachable\n# (reviewed 2026-11)\nCVE-1 exp:2030-01-01\n# next\nCVE-2\n",
        ".trivyignore",
      ).entries;
      assert.equal(e.statement, "libidn2: unreachable (reviewed 2026-11)");
    });

    it("reads CRLF files", () => {
      const list = parseTrivyignore("CVE-1 exp:2030-01-01\r\nCVE-2\r\n", ".trivyignore");
      assert.deepEqual(
        list.entries.map((e) => [e.id, e.expires]),
        [
          ["CVE-1", "2030-01-01"],
          ["CVE-2", ""],
        ],
      );
    });

    it("rejects a malformed exp: date with ALLOWLIST_INVALID naming the line (Trivy would skip it)", () => {
      for (const bad of ["exp:2024-13-01", "exp:2024-02-30", "exp:2024-1-5", "exp:soon"]) {
        assert.throws(
          () => parseTrivyignore(`# ok\nCVE-2019-18224 ${bad}\n`, ".trivyignore"),
          isAllowlistInvalid(/line 2: CVE-2019-18224: exp:.* is not a date/),
          bad,
        );
      }
    });
  });

  describe(".trivyignore.yaml", () => {
    it("reads every section with ids, paths, statements and expiry, naming each entry's line", () => {
      const file = fixture("allowlist", "ubi-7.trivyignore.yaml");
      const list = readAllowlist(file);
      assert.equal(list.format, "yaml");
      assert.deepEqual(
        list.entries.map((e) => [e.section, e.id, e.paths, e.expires, e.source]),
        [
          [
            "vulnerabilities",
            "CVE-2022-40897",
            ["usr/lib/python2.7/site-packages/**"],
            "2030-06-30",
            `${file}:3`,
          ],
          ["vulnerabilities", "CVE-2019-18276", [], "2030-06-30", `${file}:8`],
          ["secrets", "aws-access-key-id", ["tests/**"], "2030-06-30", `${file}:12`],
        ],
      );
      assert.match(list.entries[0].statement, /only used at build time/);
    });

    it("reads an empty file as no entries", () => {
      assert.deepEqual(parseTrivyignoreYaml("", "a.yaml").entries, []);
      assert.deepEqual(parseTrivyignoreYaml("# nothing yet\n", "a.yaml").entries, []);
    });

    it("reads expired_at in the forms Trivy's YAML decoder reads, as UTC", () => {
      const cases: [string, string][] = [
        ["2030-06-30", "2030-06-30T00:00:00.000Z"],
        ['"2030-06-30"', "2030-06-30T00:00:00.000Z"],
        ["2030-6-3", "2030-06-03T00:00:00.000Z"],
        ["2030-06-30T12:30:00Z", "2030-06-30T12:30:00.000Z"],
        ["2030-06-30T12:30:00+02:00", "2030-06-30T10:30:00.000Z"],
        ["2030-06-30 12:30:00", "2030-06-30T12:30:00.000Z"],
      ];
      for (const [text, iso] of cases) {
        const e = entry(`vulnerabilities:\n  - id: CVE-1\n    expired_at: ${text}\n`);
        assert.equal(e.expiresAt?.toISOString(), iso, text);
      }
    });

    const invalid: [string, string, RegExp][] = [
      ["not YAML", "vulnerabilities:\n  - id: [unclosed\n", /not valid YAML/],
      ["a list at the top level", "- id: CVE-1\n", /top level must be a mapping/],
      ["an unknown section", "vulnerability:\n  - id: CVE-1\n", /unknown section "vulnerability"/],
      [
        "a section that is not a list",
        "vulnerabilities: CVE-1\n",
        /vulnerabilities must be a list/,
      ],
      [
        "an entry without id",
        "vulnerabilities:\n  - statement: why\n",
        /line 2 \(vulnerabilities\): no id/,
      ],
      [
        "a misspelt key (it would never expire)",
        "vulnerabilities:\n  - id: CVE-1\n    expires_at: 2030-01-01\n",
        /unknown key "expires_at"/,
      ],
      ["a bad glob", "secrets:\n  - id: x\n    paths: ['tests/[a']\n", /unclosed \[/],
      [
        "a bad purl",
        "vulnerabilities:\n  - id: CVE-1\n    purls: ['debian/x']\n",
        /"debian\/x" is not a package URL/,
      ],
      [
        "purls outside vulnerabilities",
        "secrets:\n  - id: x\n    purls: ['pkg:deb/debian/x']\n",
        /purls apply only to vulnerabilities/,
      ],
      [
        "a bad date",
        "vulnerabilities:\n  - id: CVE-1\n    expired_at: 2030-02-30\n",
        /expired_at "2030-02-30" is not a date/,
      ],
      [
        "a date as a number",
        "vulnerabilities:\n  - id: CVE-1\n    expired_at: 20300101\n",
        /is not a date/,
      ],
      [
        "paths as a string",
        "vulnerabilities:\n  - id: CVE-1\n    paths: usr/lib\n",
        /paths must be a list of strings/,
      ],
      [
        "duplicate keys",
        "vulnerabilities:\n  - id: CVE-1\n    id: CVE-2\n",
        /not valid YAML: Map keys must be unique/,
      ],
    ];
    for (const [what, text, message] of invalid) {
      it(`rejects ${what} with ALLOWLIST_INVALID`, () => {
        assert.throws(() => parseTrivyignoreYaml(text, "a.yaml"), isAllowlistInvalid(message));
      });
    }

    it("names every problem of a file at once", () => {
      const text = "vulnerabilities:\n  - statement: a\n  - id: CVE-2\n    expired_at: never\n";
      assert.throws(
        () => parseTrivyignoreYaml(text, "a.yaml"),
        (err: GateError) => /a.yaml has 2 problems/.test(err.message) && err.details.length === 2,
      );
    });

    it("rejects an allowlist file that cannot be read", () => {
      assert.throws(
        () => readAllowlist(fixture("allowlist", "missing.trivyignore")),
        isAllowlistInvalid(/missing\.trivyignore: cannot be read \(ENOENT\)/),
      );
    });
  });

  describe("expiry (Trivy: the entry applies until the clock passes midnight UTC of its date)", () => {
    const e = entry("vulnerabilities:\n  - id: CVE-1\n    expired_at: 2030-06-30\n");
    const at = (iso: string) => isExpired(e, new Date(iso));

    it("still applies the day before, to the last millisecond", () => {
      assert.equal(at("2030-06-29T23:59:59.999Z"), false);
    });

    it("still applies at exactly midnight UTC (ExpiredAt.Before(now) is false)", () => {
      assert.equal(at("2030-06-30T00:00:00.000Z"), false);
    });

    it("has expired one millisecond after midnight UTC", () => {
      assert.equal(at("2030-06-30T00:00:00.001Z"), true);
    });

    it("does not depend on the local time zone: 23:30 on the 29th in UTC-2 is already past", () => {
      assert.equal(isExpired(e, new Date("2030-06-29T23:30:00-02:00")), true);
    });

    it("never expires without a date", () => {
      const forever = entry("vulnerabilities:\n  - id: CVE-1\n");
      assert.equal(isExpired(forever, new Date("2999-01-01T00:00:00Z")), false);
    });

    it("parses dates strictly", () => {
      assert.equal(parseExpDate("2024-02-29")?.toISOString(), "2024-02-29T00:00:00.000Z");
      assert.equal(parseExpDate("2023-02-29"), undefined);
      assert.equal(parseYamlTimestamp("2030-06-30T25:00:00Z"), undefined);
    });
  });

  describe("--require-statement", () => {
    it("accepts entries with a statement and an expiry in both formats", () => {
      requireStatements(readAllowlist(fixture("allowlist", "debian.trivyignore")));
      requireStatements(readAllowlist(fixture("allowlist", "ubi-7.trivyignore.yaml")));
    });

    it("names every entry without a statement or an expiry", () => {
      const list = parseTrivyignoreYaml(
        [
          "vulnerabilities:",
          "  - id: CVE-1",
          "    statement: why",
          "  - id: CVE-2",
          "    expired_at: 2030-01-01",
          "  - id: CVE-3",
          "  - id: CVE-4",
          "    statement: why",
          "    expired_at: 2030-01-01",
          "",
        ].join("\n"),
        "a.yaml",
      );
      assert.throws(
        () => requireStatements(list),
        (err: GateError) =>
          err.code === "ALLOWLIST_INVALID" &&
          /^3 allowlist entries lack a statement or an expiry \(--require-statement\)/.test(
            err.message,
          ) &&
          err.details.includes("a.yaml:2: CVE-1 has no expiry") &&
          err.details.includes("a.yaml:4: CVE-2 has no statement") &&
          err.details.includes("a.yaml:6: CVE-3 has no statement and expiry") &&
          !err.details.some((d) => d.includes("CVE-4")),
      );
    });

    it("asks a .trivyignore line for exp: and a # reason", () => {
      const list = parseTrivyignore("CVE-2019-18224\n", ".trivyignore");
      assert.throws(
        () => requireStatements(list),
        (err: GateError) =>
          /CVE-2019-18224 has no statement and expiry/.test(err.message) &&
          err.details.some((d) => /exp:yyyy-mm-dd/.test(d)),
      );
    });
  });

  describe("matching findings", () => {
    it("matches a vulnerability by ID, whatever its target, when the entry has no paths", () => {
      const index = new AllowlistIndex(parseTrivyignore("CVE-2019-18224\n", "x").entries);
      assert.equal(index.match(libidn2).length, 1);
      assert.equal(index.match(debian.find((f) => f.id !== libidn2.id) as ScanFinding).length, 0);
    });

    it("matches paths against the Result target or the package's PkgPath", () => {
      const byPkgPath = entry(
        "vulnerabilities:\n  - id: CVE-2022-40897\n    paths: ['usr/lib/python2.7/**']\n",
      );
      const byTarget = entry("vulnerabilities:\n  - id: CVE-2022-40897\n    paths: ['Python']\n");
      const elsewhere = entry("vulnerabilities:\n  - id: CVE-2022-40897\n    paths: ['opt/**']\n");
      assert.equal(new AllowlistIndex([byPkgPath]).match(setuptools).length, 1);
      assert.equal(new AllowlistIndex([byTarget]).match(setuptools).length, 1);
      assert.equal(new AllowlistIndex([elsewhere]).match(setuptools).length, 0);
    });

    it("matches purls against the package, and a finding without PURL as Trivy does", () => {
      const list = readAllowlist(fixture("allowlist", "debian-purl.trivyignore.yaml"));
      const index = new AllowlistIndex(list.entries);
      assert.equal(index.match(libidn2).length, 1);
      assert.equal(
        index.match({ ...libidn2, purl: "pkg:deb/debian/libidn2-dev@2.0.5-1" }).length,
        0,
      );
      assert.equal(index.match({ ...libidn2, purl: "" }).length, 1);
    });

    it("matches a misconfiguration by its ID, its AVDID or the canonical form (older report)", () => {
      const [m] = readReport(fixture("dockerfile.json")).findings;
      for (const id of ["DS002", "AVD-DS-0002", "DS-0002"]) {
        const index = new AllowlistIndex(
          parseTrivyignoreYaml(`misconfigurations:\n  - id: ${id}\n`, "x").entries,
        );
        assert.equal(index.match(m).length, 1, id);
      }
    });

    it("matches a current report's misconfiguration (ID DS-0002 only) in every form Trivy accepts", () => {
      const [m] = readReport(fixture("dockerfile-current.json")).findings;
      for (const id of ["DS002", "AVD-DS-0002", "DS-0002"]) {
        const yaml = new AllowlistIndex(
          parseTrivyignoreYaml(`misconfigurations:\n  - id: ${id}\n`, "x").entries,
        );
        assert.equal(yaml.match(m).length, 1, `yaml ${id}`);
        const plain = new AllowlistIndex(parseTrivyignore(`${id}\n`, "x").entries);
        assert.equal(plain.match(m).length, 1, `.trivyignore ${id}`);
      }
      const other = new AllowlistIndex(parseTrivyignore("DS-0026\nDS026\n", "x").entries);
      assert.equal(other.match(m).length, 0);
    });

    it("lists two entries naming the same rule in two forms in file order", () => {
      const [m] = readReport(fixture("dockerfile-current.json")).findings;
      const index = new AllowlistIndex(parseTrivyignore("DS002\nAVD-DS-0002\n", "x").entries);
      assert.deepEqual(
        index.match(m).map((e) => e.id),
        ["DS002", "AVD-DS-0002"],
      );
    });

    it("keeps sections apart: a secrets entry does not allowlist a vulnerability", () => {
      const index = new AllowlistIndex(
        parseTrivyignoreYaml("secrets:\n  - id: CVE-2019-18224\n", "x").entries,
      );
      assert.equal(index.match(libidn2).length, 0);
    });

    it("never matches license entries (this gate does not evaluate licenses)", () => {
      const list = parseTrivyignoreYaml("licenses:\n  - id: GPL-3.0\n", "x");
      assert.deepEqual(list.entries[0].kinds, []);
    });

    it("returns matches in file order", () => {
      const list = parseTrivyignore("CVE-2019-18224 # first\nCVE-2019-18224 # second\n", "x");
      assert.deepEqual(
        new AllowlistIndex(list.entries).match(libidn2).map((e) => e.statement),
        ["first", "second"],
      );
    });
  });

  it("reads an allowlist from a temp file by its extension", () => {
    const dir = mkdtempSync(join(tmpdir(), "slipway-allowlist-"));
    try {
      writeFileSync(join(dir, "a.yml"), "vulnerabilities:\n  - id: CVE-1\n");
      writeFileSync(join(dir, ".trivyignore"), "CVE-1\n");
      assert.equal(readAllowlist(join(dir, "a.yml")).format, "yaml");
      assert.equal(readAllowlist(join(dir, ".trivyignore")).format, "trivyignore");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
