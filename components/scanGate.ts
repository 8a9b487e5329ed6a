import type * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { sbomFile, scanGateCommand, trivyReportFile } from "../gates/commands";
import { gateCommand, registryAuthEnv, verdictOf } from "./gateCommand";

/** Arguments of {@link ScanGate}. */
export interface ScanGateArgs {
  /** Project root: the command's working directory. */
  projectDir: string;
  /** Directory of the release's gate results, relative to the project root. */
  reportDir: string;
  /**
   * The image by digest (`HOST/REPO@sha256:...`): the runtime candidate, or in promotion mode the
   * digest another stack released (re-scanned: a newer vulnerability DB may find what its scan did
   * not). Trivy reads it from the registry. The scan runs again when it changes.
   */
  image: pulumi.Input<string>;
  /**
   * Fingerprints of the content of the files the scan reads (allowlist, baseline): a changed
   * allowlist re-runs the scan even under the same path. Default none.
   */
  inputsFingerprint?: pulumi.Input<string>[];
  /** Severities that block (config `scan.severity`), e.g. `["HIGH", "CRITICAL"]`. */
  severity: string[];
  /** Keep only findings with a fix available. Default false. */
  ignoreUnfixed?: boolean;
  /** Trivy allowlist file, relative to the project root. Default none. */
  allowlist?: string;
  /** Every allowlist entry needs a statement and an expiry. Default false. */
  requireStatement?: boolean;
  /** Trivy's scanners (config `scan.scanners`). Default: the gate's (`vuln,secret`). */
  scanners?: ("vuln" | "secret" | "misconfig")[];
  /** Skip Trivy's DB updates (config `scan.offline`). Default false. */
  offline?: boolean;
  /** Write the SBOM to `sbom.cdx.json` in the results directory (config `scan.sbom`). Default false. */
  sbom?: boolean;
  /** A Trivy binary (config `scan.trivy`). Default: the gate's own lookup. */
  trivy?: string;
  /**
   * Docker config.json with registry credentials (secret): Trivy reads the candidate from the
   * registry. Default: the machine's Docker config.
   */
  dockerConfigJson?: pulumi.Input<string>;
  /** Trivy image pinned by digest, used when no `trivy` is on PATH. Default: the gate's own lookup. */
  trivyImage?: string;
  /**
   * A Trivy JSON report made by CI in its own step, read instead of running Trivy. Default: scan the
   * image. (The report is still tied to this image: the gate runs again when its digest changes, since
   * the command names the image.)
   */
  report?: string;
  /**
   * The base image the runtime image was built on (the pinned ref, once pulled): each finding is
   * labelled `base` or `app` by the layer Trivy found it in. Default: no attribution.
   */
  baseImage?: pulumi.Input<string>;
  /**
   * The currently released image's Trivy report, relative to the project root (config
   * `scan.baseline`): only findings absent from it block. Default: every finding counts.
   */
  baseline?: string;
}

/**
 * SOP step 5: the vulnerability scan of the exact runtime image and the release policy's verdict
 * (SECURITY_CRITICAL, SECURITY_HIGH, MALWARE_DETECTED, ...). The gate's JSON result is kept in the
 * report directory, and so is Trivy's own JSON report when the gate runs Trivy (`trivy.json`: the
 * report the next release can take as its baseline).
 */
export class ScanGate extends pulumi.ComponentResource {
  public readonly run: command.local.Command;
  public readonly verdict: pulumi.Output<string>;

  constructor(name: string, args: ScanGateArgs, opts?: pulumi.ComponentResourceOptions) {
    super("slipway:gates:ScanGate", name, {}, opts);

    const policy = {
      reportDir: args.reportDir,
      trivyImage: args.trivyImage,
      severity: args.severity,
      ignoreUnfixed: args.ignoreUnfixed ?? false,
      allowlist: args.allowlist,
      requireStatement: args.requireStatement ?? false,
      baseline: args.baseline,
    };
    const report = args.report;
    this.run = gateCommand(
      `${name}-run`,
      {
        dir: args.projectDir,
        create: pulumi.all([args.image, args.baseImage]).apply(([image, baseImage]) =>
          scanGateCommand({
            ...policy,
            baseImage,
            ...(report === undefined
              ? {
                  image,
                  keepReport: trivyReportFile(args.reportDir),
                  scanners: args.scanners,
                  offline: args.offline,
                  trivy: args.trivy,
                  ...(args.sbom === true ? { sbom: sbomFile(args.reportDir) } : {}),
                }
              : { report }),
          }),
        ),
        // The image too: with a pre-made `report` the command does not name it.
        triggers: [args.image, ...(args.inputsFingerprint ?? [])],
        environment: registryAuthEnv(args.dockerConfigJson),
      },
      this,
    );
    this.verdict = verdictOf(this.run);

    this.registerOutputs({ run: this.run, verdict: this.verdict });
  }
}
