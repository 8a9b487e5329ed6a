import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

/**
 * Scan gate benchmark: wall time and peak memory of `node bin/slipway-gate scan --report FILE` on a
 * generated Trivy report with 100,000 findings (targets: <= 1 s, <= 300 MB). Assumes `npm run build`.
 *
 * The report is shaped like Trivy's own JSON (SchemaVersion 2, two-space indented, an OS Result, language
 * Results with PkgPath, a secret Result) and each vulnerability carries every field Trivy writes to identify
 * it (IDs, package, PURL, versions, Status, Layer, DataSource, Title, Severity). The per-CVE prose
 * (Description, References, CVSS, vendor severities, dates) is left out of the target run: time and memory
 * follow the report's bytes, not its findings, so a second, informational run measures full records too.
 *
 * Beside it, the parse floor: a Node child that only reads the same file and JSON.parses it (the least any
 * reader of the report pays). The gate must stay within 1.5x of that floor's wall time.
 */

const ROOT = resolve(__dirname, "../..");
const BIN = join(ROOT, "bin/slipway-gate");
const FINDINGS = 100_000;
const RUNS = 3;
const TARGET_SECONDS = 1;
const TARGET_MB = 300;
/** The gate may take at most this multiple of Node's own read + JSON.parse of the same file. */
const TARGET_FLOOR_RATIO = 1.5;

const SEVERITIES = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"];
const STATUSES = ["fixed", "affected", "will_not_fix", "fixed", "fix_deferred"];
const LAYER = {
  Digest: "sha256:4a56a430b2bac33260d6449e162017e2b23076c6411a17b46db67f5b84dde2bd",
  DiffID: "sha256:78c1b9419976227e05be9d243b7fa583bea44a5258e52018b2af4cdfe23d148d",
};

/** The i-th vulnerability: 20,000 CVE IDs spread over 4,000 packages, every severity and status. */
function vulnerability(i: number, lang: boolean, prose: boolean): Record<string, unknown> {
  const pkg = lang ? `pylib${i % 800}` : `libpkg${i % 4000}`;
  const version = `1.${i % 97}.${i % 13}-${i % 5}`;
  const id = `CVE-20${10 + (i % 15)}-${10000 + ((i * 7919) % 20000)}`;
  const status = STATUSES[i % STATUSES.length];
  const purl = lang
    ? `pkg:pypi/${pkg}@${version}`
    : `pkg:deb/debian/${pkg}@${version}?arch=amd64&distro=debian-12.5`;
  const v: Record<string, unknown> = {
    VulnerabilityID: id,
    PkgID: `${pkg}@${version}`,
    PkgName: pkg,
    ...(lang
      ? { PkgPath: `usr/local/lib/python3.11/site-packages/${pkg}-${version}.dist-info/METADATA` }
      : {}),
    PkgIdentifier: { PURL: purl, UID: ((i * 2654435761) >>> 0).toString(16).padStart(16, "0") },
    InstalledVersion: version,
    ...(status === "fixed" ? { FixedVersion: `${version}+deb12u1` } : {}),
    Status: status,
    Layer: LAYER,
    SeveritySource: "debian",
    PrimaryURL: `https://avd.aquasec.com/nvd/${id.toLowerCase()}`,
    DataSource: {
      ID: "debian",
      Name: "Debian Security Tracker",
      URL: "https://salsa.debian.org/security-tracker-team/security-tracker",
    },
    Title: `${pkg}: heap-based buffer overflow in parse_input()`,
    Severity: SEVERITIES[i % SEVERITIES.length],
  };
  if (prose) {
    v.Description =
      `A heap-based buffer overflow in ${pkg} before ${version} allows remote attackers to cause a denial of service or possibly execute arbitrary code via a crafted input, as demonstrated by a long string passed to parse_input(). `.repeat(
        2,
      );
    v.CweIDs = ["CWE-787"];
    v.VendorSeverity = { debian: 1 + (i % 3), nvd: 1 + (i % 4), redhat: 2, ubuntu: 2 };
    v.CVSS = {
      nvd: {
        V2Vector: "AV:N/AC:L/Au:N/C:P/I:P/A:P",
        V3Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        V2Score: 7.5,
        V3Score: 9.8,
      },
    };
    v.References = [
      `https://access.redhat.com/security/cve/${id}`,
      `https://nvd.nist.gov/vuln/detail/${id}`,
      `https://security-tracker.debian.org/tracker/${id}`,
      `https://ubuntu.com/security/notices/USN-${4000 + (i % 900)}-1`,
      `https://www.cve.org/CVERecord?id=${id}`,
    ];
    v.PublishedDate = "2019-10-21T17:15:00Z";
    v.LastModifiedDate = "2019-10-29T19:15:00Z";
  }
  return v;
}

/** A Trivy report with `count` findings: 100 secrets, 10 % language packages, the rest OS packages. */
export function generateReport(count: number, prose: boolean): string {
  const secrets = Math.min(100, count);
  const lang = Math.floor((count - secrets) / 10);
  const os = count - secrets - lang;
  const osVulns: unknown[] = [];
  const langVulns: unknown[] = [];
  for (let i = 0; i < os; i++) osVulns.push(vulnerability(i, false, prose));
  for (let i = 0; i < lang; i++) langVulns.push(vulnerability(i, true, prose));
  const secretFindings = Array.from({ length: secrets }, (_, i) => ({
    RuleID: "aws-access-key-id",
    Category: "AWS",
    Severity: "CRITICAL",
    Title: "AWS Access Key ID",
    StartLine: i + 1,
    EndLine: i + 1,
    Match: "export AWS_ACCESS_KEY_ID=********************",
  }));
  const report = {
    SchemaVersion: 2,
    Trivy: { Version: "0.58.1" },
    CreatedAt: "2025-01-05T02:00:00.000000000Z",
    ArtifactName: "registry.example.com/bench/app:1.0.0",
    ArtifactType: "container_image",
    Metadata: { OS: { Family: "debian", Name: "12.5" } },
    Results: [
      {
        Target: "registry.example.com/bench/app:1.0.0 (debian 12.5)",
        Class: "os-pkgs",
        Type: "debian",
        Vulnerabilities: osVulns,
      },
      { Target: "Python", Class: "lang-pkgs", Type: "python-pkg", Vulnerabilities: langVulns },
      { Target: "/app/.env", Class: "secret", Secrets: secretFindings },
    ],
  };
  return JSON.stringify(report, null, 2);
}

interface Measurement {
  exitCode: number | null;
  wallSeconds: number;
  /** User + system CPU time of the child: steadier than wall time on a busy machine. */
  cpuSeconds: number;
  maxRssMb: number;
  firstLine: string;
}

/**
 * Runs the gate CLI as a child. Peak memory and CPU time: a preload writes the child's own
 * `process.resourceUsage()` when it exits (works wherever node does, no /usr/bin/time needed).
 */
function measure(dir: string, args: string[], script = BIN): Promise<Measurement> {
  const preload = join(dir, "maxrss.js");
  const usageFile = join(dir, "usage.json");
  writeFileSync(
    preload,
    `process.on("exit", () => require("fs").writeFileSync(${JSON.stringify(usageFile)}, JSON.stringify(process.resourceUsage())));\n`,
  );
  return new Promise((done, fail) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, ["--require", preload, script, ...args], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let head = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      if (head.length < 400) head += chunk.slice(0, 400);
    });
    child.on("error", fail);
    child.on("close", (exitCode) => {
      const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
      const usage = JSON.parse(readFileSync(usageFile, "utf8")) as NodeJS.ResourceUsage;
      done({
        exitCode,
        wallSeconds,
        cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6,
        maxRssMb: usage.maxRSS / 1024,
        firstLine: head.split("\n")[0],
      });
    });
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function benchReport(
  dir: string,
  prose: boolean,
): Promise<{ sizeMb: number; runs: Measurement[]; floor: Measurement[] }> {
  const file = join(dir, prose ? "full-records.json" : "report.json");
  writeFileSync(file, generateReport(FINDINGS, prose));
  const sizeMb = statSync(file).size / 1e6;
  const floorScript = join(dir, "parse-floor.js");
  writeFileSync(floorScript, 'JSON.parse(require("fs").readFileSync(process.argv[2], "utf8"));\n');
  const runs: Measurement[] = [];
  const floor: Measurement[] = [];
  for (let i = 0; i < RUNS; i++) {
    const m = await measure(dir, ["scan", "--report", file]);
    // The run must really have evaluated the report: it holds CRITICAL findings and secrets (a leaked
    // credential decides the code).
    if (m.exitCode !== 1 || !m.firstLine.startsWith("SECRET_DETECTED: ")) {
      throw new Error(`scan bench: unexpected result (exit ${m.exitCode}): ${m.firstLine}`);
    }
    runs.push(m);
    // Interleaved with the gate's runs, so both see the same load on a busy machine.
    floor.push(await measure(dir, [file], floorScript));
  }
  rmSync(file);
  return { sizeMb, runs, floor };
}

function describe(label: string, sizeMb: number, runs: Measurement[]): string {
  const wall = median(runs.map((r) => r.wallSeconds));
  const cpu = median(runs.map((r) => r.cpuSeconds));
  const rss = Math.max(...runs.map((r) => r.maxRssMb));
  const perFinding = Math.round((sizeMb * 1e6) / FINDINGS);
  return `${label}: ${FINDINGS.toLocaleString("en")} findings, ${sizeMb.toFixed(1)} MB report (${perFinding} B/finding): wall ${wall.toFixed(2)} s, CPU ${cpu.toFixed(2)} s (medians of ${runs.length}), peak RSS ${rss.toFixed(0)} MB`;
}

export async function run(): Promise<string[]> {
  if (!existsSync(join(ROOT, "dist/gates/cli.js"))) {
    throw new Error("scan bench: dist/ is missing, run `npm run build` first");
  }
  const dir = mkdtempSync(join(tmpdir(), "slipway-bench-scan-"));
  try {
    const lean = await benchReport(dir, false);
    const wall = median(lean.runs.map((r) => r.wallSeconds));
    const rss = Math.max(...lean.runs.map((r) => r.maxRssMb));
    const floorWall = median(lean.floor.map((r) => r.wallSeconds));
    const ratio = wall / floorWall;
    const verdict =
      wall <= TARGET_SECONDS && rss <= TARGET_MB && ratio <= TARGET_FLOOR_RATIO
        ? "targets met"
        : `OVER TARGET (<= ${TARGET_SECONDS} s, <= ${TARGET_MB} MB, <= ${TARGET_FLOOR_RATIO}x the parse floor)`;
    const full = await benchReport(dir, true);
    return [
      `${describe("scan gate", lean.sizeMb, lean.runs)} — ${ratio.toFixed(2)}x the parse floor — ${verdict}`,
      `${describe("parse floor (node: readFileSync + JSON.parse of the same file)", lean.sizeMb, lean.floor)}`,
      `${describe("scan gate, informational: records with Description/References/CVSS", full.sizeMb, full.runs)}`,
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  run().then(
    (lines) => process.stdout.write(lines.join("\n") + "\n"),
    (err: Error) => {
      process.stderr.write(`${err.message}\n`);
      process.exitCode = 1;
    },
  );
}
