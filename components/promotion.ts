import type * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { digestRef, promoteCommand } from "../gates/commands";
import { gateCommand, gateValueOf, registryAuthEnv } from "./gateCommand";

/** Arguments of {@link Promotion}. */
export interface PromotionArgs {
  /** Project root: the command's working directory. */
  projectDir: string;
  /** Directory of the release's gate results, relative to the project root. */
  reportDir: string;
  /** `HOST/REPO` of the releases, e.g. `registry.digitalocean.com/acme/odoo`. */
  repository: pulumi.Input<string>;
  /**
   * The digest to release: the gated runtime candidate, or in promotion mode the digest another stack
   * released and verified. It must already be in `repository`.
   */
  digest: pulumi.Input<string>;
  /** The version tag (config `release.version`; never `latest`). */
  version: string;
  /** Also point `:latest` at it. Default true (config `release.tagLatest`). */
  tagLatest?: boolean;
  /**
   * The verdict of every gate the release passed (`gate name → verdict`, see `verdictOf`). They are the
   * promotion's `triggers`: it cannot start before every gate has passed, a failed gate means no
   * promotion, and it runs again only when a decision or a judged digest changes.
   */
  gates: Record<string, pulumi.Input<string>>;
  /**
   * Refuse a digest whose evidence is missing or NOT READY (EVIDENCE_MISSING, EVIDENCE_NOT_READY): a
   * promotion of what another stack released. Default false.
   */
  requireEvidence?: boolean;
  /**
   * The source stack's release report verdict (promotion mode): the promotion refuses anything but
   * READY. Default: not checked (the gates of this stack decided).
   */
  sourceVerdict?: pulumi.Input<string>;
  /** Docker config.json with write credentials (secret). Default: the machine's Docker config. */
  dockerConfigJson?: pulumi.Input<string>;
}

/**
 * SOP step 6 without a second push: `slipway-gate promote` puts the gated manifest under `:<version>`,
 * then `:latest`, through the registry API (no layer uploaded twice, nothing read from the local
 * daemon). A version tag that holds another digest is TAG_IMMUTABLE; one that already holds this digest
 * is a success that changes nothing, so a re-run after a failure completes the release. Nothing here
 * deletes anything: destroying the stack never removes a release.
 *
 * `digest` is the released digest as the promote command printed it, so the deploy that uses it waits
 * for the promotion, and it is the candidate's digest: one digest from the build to the running app.
 */
export class Promotion extends pulumi.ComponentResource {
  public readonly promote: command.local.Command;
  /** `HOST/REPO`. */
  public readonly repository: pulumi.Output<string>;
  /** The released manifest digest (`sha256:...`), once promoted. */
  public readonly digest: pulumi.Output<string>;
  /** `HOST/REPO:<version>@sha256:...`. */
  public readonly ref: pulumi.Output<string>;

  constructor(name: string, args: PromotionArgs, opts?: pulumi.ComponentResourceOptions) {
    super("slipway:registry:Promotion", name, {}, opts);

    const gateNames = Object.keys(args.gates).sort();
    this.repository = pulumi.output(args.repository);
    this.promote = gateCommand(
      `${name}-promote`,
      {
        dir: args.projectDir,
        create: pulumi
          .all([args.repository, args.digest, args.sourceVerdict])
          .apply(([repository, digest, sourceVerdict]) =>
            promoteCommand({
              reportDir: args.reportDir,
              repository,
              digest,
              version: args.version,
              latest: args.tagLatest ?? true,
              requireEvidence: args.requireEvidence ?? false,
              sourceVerdict,
            }),
          ),
        triggers: gateNames.map((gate) => pulumi.interpolate`${gate}=${args.gates[gate]}`),
        environment: registryAuthEnv(args.dockerConfigJson),
      },
      this,
    );
    this.digest = gateValueOf(this.promote);
    this.ref = pulumi
      .all([this.repository, this.digest])
      .apply(([repository, digest]) => digestRef(`${repository}:${args.version}`, digest));

    this.registerOutputs({
      promote: this.promote,
      repository: this.repository,
      digest: this.digest,
      ref: this.ref,
    });
  }
}
