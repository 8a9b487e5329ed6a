import type * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { scanGateCommand } from "../gates/commands";
import { gateCommand, verdictOf } from "./gateCommand";

/** Arguments of {@link ScanGate}. */
export interface ScanGateArgs {
  /** Project root: the command's working directory. */
  projectDir: string;
  /** Directory of the release's gate results, relative to the project root. */
  reportDir: string;
  /** The runtime image's local reference (`RuntimeImage.ref`): what Trivy scans. */
  image: pulumi.Input<string>;
  /** The runtime image's digest: the scan runs again exactly when it changes. */
  digest: pulumi.Input<string>;
  /** Severities that block (config `scan.severity`), e.g. `["HIGH", "CRITICAL"]`. */
  severity: string[];
  /** Keep only findings with a fix available. Default false. */
  ignoreUnfixed?: boolean;
  /** Trivy allowlist file, relative to the project root. Default none. */
  allowlist?: string;
  /** Every allowlist entry needs a statement and an expiry. Default false. */
  requireStatement?: boolean;
  /** Trivy image pinned by digest, used when no `trivy` is on PATH. Default: the gate's own lookup. */
  trivyImage?: string;
  /**
   * A Trivy JSON report made by CI in its own step, read instead of running Trivy. Default: scan the
   * image. (The report is still tied to this image: the gate runs again when its digest changes.)
   */
  report?: string;
}

/**
 * SOP step 5: the vulnerability scan of the exact runtime image and the release policy's verdict
 * (SECURITY_CRITICAL, SECURITY_HIGH, MALWARE_DETECTED, ...). The JSON result is kept in the report
 * directory.
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
    };
    const report = args.report;
    this.run = gateCommand(
      `${name}-run`,
      {
        dir: args.projectDir,
        create: pulumi
          .output(args.image)
          .apply((image) =>
            scanGateCommand(report === undefined ? { ...policy, image } : { ...policy, report }),
          ),
        triggers: [args.digest],
      },
      this,
    );
    this.verdict = verdictOf(this.run);

    this.registerOutputs({ run: this.run, verdict: this.verdict });
  }
}
