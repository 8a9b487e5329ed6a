import type * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { reportCommand, reportMarkdownFile } from "../gates/commands";
import type { ReleaseMode } from "../gates/report/release";
import { reportOutputOf, type ReleaseReportOutput } from "../gates/report/summary";
import { gateCommand, gateValueOf } from "./gateCommand";

/** Arguments of {@link ReleaseReport}. */
export interface ReleaseReportArgs {
  /** Project root: the command's working directory. */
  projectDir: string;
  /** The release's results directory, relative to the project root: read, and written to. */
  reportDir: string;
  /** The release version, or in rollback mode the pin. */
  version: string;
  mode: ReleaseMode;
  /** The stack name: the report's rollback command names it. */
  stack: string;
  /** The image as people pull it: `HOST/REPO:<version>` (a digest pin: `HOST/REPO@sha256:...`). */
  image: pulumi.Input<string>;
  /** The released manifest digest: a new release, a new report. */
  digest: pulumi.Input<string>;
  /** The digest the gates judged (release and promotion mode). Default: not recorded. */
  candidateDigest?: pulumi.Input<string>;
  /** The digest the deployment runs. */
  deployedDigest: pulumi.Input<string>;
  /** Promotion mode: the stack whose release was promoted. */
  promotedFrom?: string;
  /** The source commit (config `release.commit`). Default: not recorded. */
  commit?: string;
  /** The base image as pinned (release mode). Default: not recorded. */
  baseImage?: string;
  /**
   * Gates disabled by configuration, with the reason (`{ test: "tests.enabled is false" }`): the
   * report lists them as skipped, not as blockers. Default none.
   */
  skipped?: Record<string, string>;
  /**
   * The verification's verdict (`Verification.verdict`): it exists once the live app answered, so the
   * report runs last, and again after every verification.
   */
  verified: pulumi.Input<string>;
}

/**
 * The release report (SOP step 8, the build report people read): after the verification, the
 * `report` gate records release.json (what the pipeline knows of the release that no gate reports)
 * and assembles `<reportDir>/report.md` and `report.json` from every gate's result there.
 *
 * It is evidence, not a gate: it runs `--advisory` (the gates already decided; a NOT READY report
 * never fails an `up` whose release is live) and `--gated` (the push carried every gate's verdict,
 * so a gate with no result in the directory passed in an earlier `up` and was not re-run). Its
 * summary line becomes the stack output `releaseReport`.
 */
export class ReleaseReport extends pulumi.ComponentResource {
  public readonly run: command.local.Command;
  /** The Markdown report, relative to the project root. */
  public readonly path: string;
  /** `{ verdict, blockers (codes), report (path) }`, from the report gate's summary line. */
  public readonly summary: pulumi.Output<ReleaseReportOutput>;

  constructor(name: string, args: ReleaseReportArgs, opts?: pulumi.ComponentResourceOptions) {
    super("slipway:report:ReleaseReport", name, {}, opts);

    this.path = reportMarkdownFile(args.reportDir);
    const skipped = args.skipped ?? {};
    this.run = gateCommand(
      `${name}-run`,
      {
        dir: args.projectDir,
        create: pulumi
          .all([args.image, args.digest, args.candidateDigest, args.deployedDigest])
          .apply(([image, digest, candidateDigest, deployedDigest]) =>
            reportCommand({
              reportDir: args.reportDir,
              release: {
                version: args.version,
                mode: args.mode,
                stack: args.stack,
                image,
                digest,
                ...(candidateDigest === undefined ? {} : { candidateDigest }),
                deployedDigest,
                ...(args.promotedFrom === undefined ? {} : { promotedFrom: args.promotedFrom }),
                ...(args.commit === undefined ? {} : { commit: args.commit }),
                ...(args.baseImage === undefined ? {} : { baseImage: args.baseImage }),
                ...(Object.keys(skipped).length === 0 ? {} : { skipped }),
              },
              gated: true,
              advisory: true,
            }),
          ),
        // After every verification (its decision); the digests are in the command already.
        triggers: [args.verified],
      },
      this,
    );
    const path = this.path;
    this.summary = gateValueOf(this.run).apply((line) => reportOutputOf(line, path));

    this.registerOutputs({ run: this.run, path: this.path, summary: this.summary });
  }
}
