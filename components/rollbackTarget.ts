import type * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { resolvePinCommand, retagCommand } from "../gates/commands";
import { gateCommand, gateValueOf, registryAuthEnv, verdictOf } from "./gateCommand";

/** Arguments of {@link RollbackTarget}. */
export interface RollbackTargetArgs {
  /** Project root: the commands' working directory. */
  projectDir: string;
  /** Directory of the rollback's results, relative to the project root. */
  reportDir: string;
  /** `HOST/REPO` the releases were pushed to. */
  repository: pulumi.Input<string>;
  /** The pin (config `release.pin`): an earlier version tag, or a digest. */
  pin: string;
  /** Move `latest` to the pinned digest (config `release.repointLatest`). Default true. */
  repointLatest?: boolean;
  /**
   * Why this rollback may go to a digest whose evidence is missing or NOT READY (config
   * `release.rollbackReason`: an emergency). Recorded in the resolve result and so in the report.
   * Default: such a digest is refused (EVIDENCE_MISSING, EVIDENCE_NOT_READY) before anything changes.
   */
  overrideReason?: string;
  /** Docker config.json with write credentials (secret), for the registry API. Default: none. */
  dockerConfigJson?: pulumi.Input<string>;
}

/**
 * Rollback mode's source of truth: the pin resolved to its digest in the registry (`resolve`), before
 * anything changes. A pin that does not exist fails here with ROLLBACK_TAG_NOT_FOUND, naming the tags
 * that do, and nothing downstream runs: the deploy and `retag` read the digest from this command's
 * stdout. `retag` then re-points `latest` at it through the registry API (no pull, no push).
 */
export class RollbackTarget extends pulumi.ComponentResource {
  public readonly resolve: command.local.Command;
  public readonly retag?: command.local.Command;
  /**
   * The pinned release's digest. When `latest` is re-pointed, it resolves only after that, so the
   * deploy that uses it comes last.
   */
  public readonly digest: pulumi.Output<string>;
  /** The digest as `resolve` printed it (before any retag). */
  public readonly resolvedDigest: pulumi.Output<string>;

  constructor(name: string, args: RollbackTargetArgs, opts?: pulumi.ComponentResourceOptions) {
    super("slipway:registry:RollbackTarget", name, {}, opts);

    const environment = registryAuthEnv(args.dockerConfigJson);
    this.resolve = gateCommand(
      `${name}-resolve`,
      {
        dir: args.projectDir,
        create: pulumi.output(args.repository).apply((repository) =>
          resolvePinCommand({
            reportDir: args.reportDir,
            repository,
            ref: args.pin,
            requireEvidence: true,
            overrideReason: args.overrideReason,
          }),
        ),
        environment,
      },
      this,
    );
    this.resolvedDigest = gateValueOf(this.resolve);

    if (args.repointLatest ?? true) {
      this.retag = gateCommand(
        `${name}-retag`,
        {
          dir: args.projectDir,
          create: pulumi
            .all([args.repository, this.resolvedDigest])
            .apply(([repository, digest]) =>
              retagCommand({ reportDir: args.reportDir, repository, digest, tag: "latest" }),
            ),
          environment,
        },
        this,
      );
      this.digest = pulumi
        .all([this.resolvedDigest, verdictOf(this.retag)])
        .apply(([digest]) => digest);
    } else {
      this.digest = this.resolvedDigest;
    }

    this.registerOutputs({
      resolve: this.resolve,
      retag: this.retag,
      digest: this.digest,
      resolvedDigest: this.resolvedDigest,
    });
  }
}
