import { resolve } from "node:path";
import type { Gate, GateFlags } from "../gate";
import { block, pass, UsageError, warn, type GateResult } from "../result";
import { readAllowlist, requireStatements, type Allowlist } from "./allowlist";
import { inspectBaseLayers } from "./baseImage";
import { detailLines, entryRecord, figuresOf, findingRecord, summaryLine } from "./format";
import { keepReport, prepareKeep } from "./keep";
import { attributor, type BaseLayers } from "./origin";
import { baselineKeys, evaluate, thresholdOf } from "./policy";
import { readReport, type ScanReport } from "./report";
import { DEFAULT_SCANNERS, PINNED_IMAGE, scanImage, scannersOf, type ScannerName } from "./runner";
import { sbomFigures, validateSbom, type SbomSummary } from "./sbom";
import { trivyFigures, type TrivyInfo } from "./trivyInfo";

/**
 * `scan`: the vulnerability gate (SOP step 5). Wires flags → report (read or produced by Trivy) →
 * allowlist → policy → result. Blocks with SECRET_DETECTED / SECURITY_CRITICAL / SECURITY_HIGH; fails
 * closed with SCAN_REPORT_INVALID, ALLOWLIST_INVALID, SBOM_INVALID or SCANNER_UNAVAILABLE (also when
 * `vuln` is asked for and Trivy has no vulnerability DB); warns OUTDATED_BASE_IMAGE when nothing blocks
 * but the report says the image's OS is past its end of support. With `--image`, `--keep-report` keeps
 * Trivy's raw report (the next release's `--baseline`), `--sbom` the CycloneDX SBOM converted from that
 * same report (validated); the verdict records the scanners, Trivy's version and its DB's.
 * `--base-image` labels findings by origin.
 */

function stringFlag(flags: GateFlags, name: string): string | undefined {
  const value = flags[name];
  return typeof value === "string" ? value : undefined;
}

function elapsed(since: bigint): number {
  return Number((process.hrtime.bigint() - since) / 1000n) / 1000;
}

const gate: Gate = {
  name: "scan",
  summary: "vulnerability gate over a Trivy JSON report or an image",
  usage: [
    "--report FILE                 a Trivy JSON report (`trivy image --format json`), or",
    "--image REF                   scan this image (REPO@sha256:... is read from its registry)",
    "--trivy PATH                  the Trivy binary (else $SLIPWAY_TRIVY, else `trivy` on PATH)",
    "--trivy-image NAME@sha256:..  no binary: the Trivy container image, pinned by digest",
    "--scanners vuln,secret,misconfig  what Trivy looks for (default vuln,secret); recorded in the verdict",
    "--insecure                    plain-HTTP / self-signed registry (loopback registries need no flag)",
    "--offline                     Trivy downloads nothing: DBs and checks as they are in its cache",
    "--sbom FILE                   with --image: write the CycloneDX SBOM there (validated)",
    "--severity HIGH,CRITICAL      block at and above the lowest severity named (default HIGH,CRITICAL)",
    "--ignore-unfixed              vulnerabilities without a fix (Status other than fixed) do not block",
    "--allowlist FILE              .trivyignore (ID [exp:yyyy-mm-dd]) or .trivyignore.yaml",
    "--require-statement           every allowlist entry needs a statement and an expiry",
    "--baseline FILE               block only on findings absent from this earlier report",
    "--keep-report FILE            with --image: keep Trivy's JSON report there (written atomically)",
    "--base-image REF              label findings base/app by the base image's layers (docker inspect)",
  ],
  options: {
    report: { type: "string" },
    image: { type: "string" },
    trivy: { type: "string" },
    "trivy-image": { type: "string" },
    scanners: { type: "string" },
    insecure: { type: "boolean" },
    offline: { type: "boolean" },
    sbom: { type: "string" },
    severity: { type: "string" },
    "ignore-unfixed": { type: "boolean" },
    allowlist: { type: "string" },
    "require-statement": { type: "boolean" },
    baseline: { type: "string" },
    "keep-report": { type: "string" },
    "base-image": { type: "string" },
  },

  async run(flags, ctx): Promise<GateResult> {
    const reportPath = stringFlag(flags, "report");
    const image = stringFlag(flags, "image");
    if ((reportPath === undefined) === (image === undefined)) {
      throw new UsageError("give exactly one of --report FILE or --image REF");
    }
    if (image !== undefined && (image === "" || image.startsWith("-"))) {
      throw new UsageError(`--image: "${image}" is not an image reference`);
    }
    const trivyImage = stringFlag(flags, "trivy-image");
    if (trivyImage !== undefined && !PINNED_IMAGE.test(trivyImage)) {
      throw new UsageError(
        `--trivy-image must be pinned by digest (name:tag@sha256:<64 hex>), got "${trivyImage}"`,
      );
    }
    const keptReport = stringFlag(flags, "keep-report");
    if (keptReport !== undefined && image === undefined) {
      throw new UsageError(
        "--keep-report applies to --image (Trivy runs here); with --report the report is already a file",
      );
    }
    if (keptReport === "") throw new UsageError("--keep-report needs a file path");
    const sbomFile = stringFlag(flags, "sbom");
    if (sbomFile === "") throw new UsageError("--sbom needs a file path");
    const trivyPath = stringFlag(flags, "trivy");
    if (trivyPath === "") throw new UsageError("--trivy needs the path of the Trivy binary");
    const scannersFlag = stringFlag(flags, "scanners");
    if (image === undefined) {
      const runOnly = (
        [
          ["sbom", sbomFile !== undefined],
          ["scanners", scannersFlag !== undefined],
          ["trivy", trivyPath !== undefined],
          ["insecure", flags.insecure === true],
          ["offline", flags.offline === true],
        ] as const
      ).find(([, given]) => given);
      if (runOnly !== undefined) {
        throw new UsageError(
          `--${runOnly[0]} applies to --image (Trivy runs here); --report reads a report made elsewhere`,
        );
      }
    }
    const scanners: ScannerName[] =
      scannersFlag === undefined ? [...DEFAULT_SCANNERS] : scannersOf(scannersFlag);
    const baseImage = stringFlag(flags, "base-image");
    if (baseImage !== undefined && (baseImage === "" || baseImage.startsWith("-"))) {
      throw new UsageError(`--base-image: "${baseImage}" is not an image reference`);
    }
    const threshold = thresholdOf(stringFlag(flags, "severity") ?? "HIGH,CRITICAL");
    const ignoreUnfixed = flags["ignore-unfixed"] === true;
    const allowlistFile = stringFlag(flags, "allowlist");
    const baselineFile = stringFlag(flags, "baseline");
    const timings: Record<string, number> = {};

    // The allowlist and baseline first: a bad one fails before a long scan.
    let allowlist: Allowlist | undefined;
    if (allowlistFile !== undefined) {
      const t = process.hrtime.bigint();
      allowlist = readAllowlist(allowlistFile);
      if (flags["require-statement"] === true) requireStatements(allowlist);
      timings.allowlist = elapsed(t);
    }
    let baseline: Set<string> | undefined;
    if (baselineFile !== undefined) {
      const t = process.hrtime.bigint();
      baseline = baselineKeys(readReport(baselineFile).findings);
      timings.baseline = elapsed(t);
    }

    if (keptReport !== undefined) {
      if (baselineFile !== undefined && resolve(baselineFile) === resolve(keptReport)) {
        throw new UsageError(
          "--keep-report names the --baseline file: keep this report beside it, not over it",
        );
      }
      prepareKeep(keptReport);
    }
    if (sbomFile !== undefined) {
      if (keptReport !== undefined && resolve(sbomFile) === resolve(keptReport)) {
        throw new UsageError("--sbom and --keep-report name the same file");
      }
      prepareKeep(sbomFile, "--sbom");
    }

    // The base's layers are read beside the scan (a local `docker image inspect`); never throws.
    const tBase = process.hrtime.bigint();
    const inspecting: Promise<BaseLayers> | undefined =
      baseImage === undefined
        ? undefined
        : inspectBaseLayers(baseImage, ctx.env).then((layers) => {
            timings.baseImage = elapsed(tBase);
            return layers;
          });

    let report: ScanReport;
    let info: TrivyInfo | undefined;
    let sbom: SbomSummary | undefined;
    const t0 = process.hrtime.bigint();
    if (image !== undefined) {
      const scanned = await scanImage(image, {
        env: ctx.env,
        trivyImage,
        ...(trivyPath === undefined ? {} : { trivyPath }),
        scanners,
        insecure: flags.insecure === true,
        offline: flags.offline === true,
        sbom: sbomFile !== undefined,
        progress: ctx.progress,
      });
      timings.scan = elapsed(t0);
      report = scanned.report;
      info = scanned.info;
      if (keptReport !== undefined) keepReport(keptReport, scanned.bytes);
      if (sbomFile !== undefined && scanned.sbom !== undefined) {
        const t = process.hrtime.bigint();
        sbom = await validateSbom(scanned.sbom.toString("utf8"), `the SBOM of ${image}`);
        timings.sbom = elapsed(t);
        keepReport(sbomFile, scanned.sbom, "--sbom");
      }
    } else {
      report = readReport(reportPath as string);
      timings.read = elapsed(t0);
    }
    const base = inspecting === undefined ? undefined : await inspecting;

    const t1 = process.hrtime.bigint();
    const outcome = evaluate(report.findings, {
      threshold,
      ignoreUnfixed,
      now: ctx.now(),
      ...(allowlist === undefined ? {} : { allowlist }),
      ...(baseline === undefined ? {} : { baseline }),
      ...(base === undefined ? {} : { originOf: attributor(base) }),
    });
    timings.policy = elapsed(t1);

    const options = {
      threshold,
      ignoreUnfixed,
      ...(allowlistFile === undefined ? {} : { allowlistFile }),
      ...(baselineFile === undefined ? {} : { baselineFile }),
      ...(keptReport === undefined ? {} : { keptReport }),
      ...(base === undefined ? {} : { base }),
    };
    const scannerLines =
      info === undefined
        ? []
        : [
            `scanners: ${scanners.join(", ")}; Trivy ${info.version}, ` +
              (info.db === undefined
                ? "no vulnerability DB"
                : `vulnerability DB v${info.db.version} updated ${info.db.updatedAt}`),
          ];
    const sbomLines =
      sbom === undefined
        ? sbomFile === undefined
          ? []
          : [
              `SBOM: not written (${sbomFile}): it is converted by a Trivy binary on this machine (--trivy, SLIPWAY_TRIVY or PATH), and Trivy ran as an image`,
            ]
        : [
            `SBOM: ${sbomFile} (CycloneDX ${sbom.specVersion}, valid): ${sbom.components} components` +
              (sbom.os === undefined ? "" : `, ${sbom.os.name} ${sbom.os.version}`),
          ];
    const extras = {
      details: [...scannerLines, ...sbomLines, ...detailLines(report, outcome, options)],
      findings: [
        ...outcome.blocking.map(findingRecord),
        ...outcome.allowlisted.map(findingRecord),
        ...outcome.carriedOver.map(findingRecord),
        ...outcome.expiredEntries.map((e) => entryRecord(e, "expired")),
        ...outcome.unusedEntries.map((e) => entryRecord(e, "unused")),
      ],
      figures: {
        ...figuresOf(report, outcome, {
          ...options,
          allowlistEntries: allowlist?.entries.length ?? 0,
        }),
        ...(info === undefined ? {} : trivyFigures(info, scanners)),
        ...(sbom === undefined || sbomFile === undefined ? {} : sbomFigures(sbomFile, sbom)),
      },
      timings,
    };
    const summary = summaryLine(report, outcome, threshold);
    if (outcome.code !== undefined) return block("scan", outcome.code, summary, extras);
    if (report.eosl) return warn("scan", "OUTDATED_BASE_IMAGE", summary, extras);
    return pass("scan", summary, extras);
  },
};

export default gate;
