import type * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { lintCommand, preflightCommand } from "../gates/commands";
import { gateCommand, verdictOf } from "./gateCommand";

/** Arguments of {@link PreflightChecks}. */
export interface PreflightChecksArgs {
  /** Project root: the commands' working directory. */
  projectDir: string;
  /** Directory of the release's gate results, relative to the project root. */
  reportDir: string;
  /** Dockerfile to lint, relative to the project root. */
  dockerfile: string;
  /** Stages the pipeline builds (`builder`, `runtime`): each must exist in the Dockerfile. */
  targets: string[];
  /**
   * Build args as the builds pass them, `BASE_IMAGE` included, so `FROM ${BASE_IMAGE}` is linted
   * with the value it will have.
   */
  buildArgs: Record<string, string>;
  /** Every FROM must be pinned by digest (prod). Default false: unpinned bases are reported. */
  requireDigest?: boolean;
  /** Free disk the build needs, e.g. `10GB`. Default: the preflight gate's own (10GB). */
  minFree?: string;
  /**
   * Fingerprint of the Dockerfile's content (`fileFingerprint`): the lint runs again when it changes.
   * (A new version re-runs both checks anyway: their result paths name it.)
   */
  dockerfileFingerprint: string;
}

/**
 * The SOP's quality gates on the machine and the Dockerfile: the Docker engine answers and has the
 * disk a build needs (`preflight`), and the Dockerfile parses, pins its bases by digest and has the
 * stages the pipeline builds (`lint`). The builds wait for `preflight` only (they cannot run without
 * it); `lint` (~170 ms on a real engine) runs beside them and gates the push through its verdict, so
 * a failed lint still means no push, without sitting on the critical path of every release.
 */
export class PreflightChecks extends pulumi.ComponentResource {
  /** What the builds wait for (`dependsOn`). */
  public readonly preflight: command.local.Command;
  /** Gates the push only (its verdict is among the push's inputs). */
  public readonly lint: command.local.Command;
  /** Fingerprints of the two results; they exist once both checks passed. */
  public readonly preflightVerdict: pulumi.Output<string>;
  public readonly lintVerdict: pulumi.Output<string>;

  constructor(name: string, args: PreflightChecksArgs, opts?: pulumi.ComponentResourceOptions) {
    super("slipway:checks:PreflightChecks", name, {}, opts);

    this.preflight = gateCommand(
      `${name}-preflight`,
      {
        dir: args.projectDir,
        create: preflightCommand({ reportDir: args.reportDir, minFree: args.minFree }),
      },
      this,
    );
    this.lint = gateCommand(
      `${name}-lint`,
      {
        dir: args.projectDir,
        create: lintCommand({
          reportDir: args.reportDir,
          dockerfile: args.dockerfile,
          requireDigest: args.requireDigest ?? false,
          targets: args.targets,
          buildArgs: args.buildArgs,
        }),
        triggers: [args.dockerfileFingerprint],
      },
      this,
    );
    this.preflightVerdict = verdictOf(this.preflight);
    this.lintVerdict = verdictOf(this.lint);

    this.registerOutputs({
      preflight: this.preflight,
      lint: this.lint,
      preflightVerdict: this.preflightVerdict,
      lintVerdict: this.lintVerdict,
    });
  }
}
