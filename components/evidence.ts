import type * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { evidenceAttachCommand, sbomFile, trivyReportFile } from "../gates/commands";
import { gateCommand, registryAuthEnv, verdictOf } from "./gateCommand";

/** Arguments of {@link ReleaseEvidence}. */
export interface ReleaseEvidenceArgs {
  /** Project root: the command's working directory. */
  projectDir: string;
  /** The release's results directory, relative to the project root. */
  reportDir: string;
  /** `HOST/REPO` of the releases. */
  repository: pulumi.Input<string>;
  /** The released digest: what the evidence is bound to. */
  digest: pulumi.Input<string>;
  /** The gates whose JSON results are attached (those of this mode), in pipeline order. */
  gates: string[];
  /**
   * The release report's decision (`ReleaseReport.run`'s verdict): the evidence is attached after the
   * report, and again whenever the report is.
   */
  reported: pulumi.Input<string>;
  /** Docker config.json with write credentials (secret). Default: the machine's Docker config. */
  dockerConfigJson?: pulumi.Input<string>;
}

/**
 * Everything the release was judged on, bound to its digest in the registry (`slipway-gate evidence
 * attach`: OCI artifacts whose `subject` is the release manifest; the referrers API, or the
 * `sha256-<hex>.<kind>` tag fallback): the release report (required), the gates' JSON results, Trivy's
 * report and the SBOM when this machine has them. So a promotion or a rollback months later reads what
 * was proven of the digest it deploys (`promote --require-evidence`, `resolve --require-evidence`).
 * Not in rollback mode: a rollback deploys a release whose evidence is already attached.
 */
export class ReleaseEvidence extends pulumi.ComponentResource {
  public readonly attach: command.local.Command;
  public readonly verdict: pulumi.Output<string>;

  constructor(name: string, args: ReleaseEvidenceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("slipway:report:ReleaseEvidence", name, {}, opts);

    const dir = args.reportDir;
    this.attach = gateCommand(
      `${name}-attach`,
      {
        dir: args.projectDir,
        create: pulumi.all([args.repository, args.digest]).apply(([repository, digest]) =>
          evidenceAttachCommand({
            reportDir: dir,
            repository,
            digest,
            files: { report: [`${dir}/report.json`, `${dir}/report.md`] },
            filesIfExist: {
              gates: args.gates.map((gate) => `${dir}/${gate}.json`),
              trivy: [trivyReportFile(dir)],
              sbom: [sbomFile(dir)],
            },
          }),
        ),
        triggers: [args.reported],
        environment: registryAuthEnv(args.dockerConfigJson),
      },
      this,
    );
    this.verdict = verdictOf(this.attach);

    this.registerOutputs({ attach: this.attach, verdict: this.verdict });
  }
}
