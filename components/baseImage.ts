import type * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { baseDriftCommand } from "../gates/commands";
import { gateCommand, registryAuthEnv, verdictOf } from "./gateCommand";

/** Arguments of {@link BaseImage}. */
export interface BaseImageArgs {
  /**
   * The base reference, pinned by digest: `python:3.11-slim-bullseye@sha256:...`. (dev may name a
   * tag alone; prod's config rules require the digest.)
   */
  ref: string;
  /** Project root: the drift check's working directory. */
  projectDir: string;
  /** Directory of the release's gate results, relative to the project root. */
  reportDir: string;
  /** Drift blocks the release instead of warning. Default false: BASE_IMAGE_DRIFT is a warning. */
  strict?: boolean;
  /**
   * Registry credentials (Docker config.json, secret) for a base in a private registry. Default:
   * none (public bases, or the user's `~/.docker/config.json`).
   */
  dockerConfigJson?: pulumi.Input<string>;
}

/**
 * SOP step 1: the base image, pinned by digest, and the `base` gate telling whether its tag now
 * resolves to another digest (BASE_IMAGE_DRIFT: time to review and move the pin). Nothing is pulled
 * into the local daemon here: the builds' BuildKit resolves `BASE_IMAGE` (the pinned `name@sha256`)
 * from its registry itself, so no state of the stack points at an image that lives on one machine, and
 * a fresh runner has nothing to re-pull before it can resume. `ref` is the builds' `BASE_IMAGE`.
 */
export class BaseImage extends pulumi.ComponentResource {
  public readonly drift: command.local.Command;
  /** The pinned reference: the builds' `BASE_IMAGE`. */
  public readonly ref: pulumi.Output<string>;
  /** The drift check's decision (`verdictOf`); a warning passes. */
  public readonly driftVerdict: pulumi.Output<string>;

  constructor(name: string, args: BaseImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("slipway:images:BaseImage", name, {}, opts);

    this.drift = gateCommand(
      `${name}-drift`,
      {
        dir: args.projectDir,
        create: baseDriftCommand({
          reportDir: args.reportDir,
          ref: args.ref,
          strict: args.strict ?? false,
        }),
        environment: registryAuthEnv(args.dockerConfigJson),
      },
      this,
    );
    this.ref = pulumi.output(args.ref);
    this.driftVerdict = verdictOf(this.drift);

    this.registerOutputs({ drift: this.drift, ref: this.ref, driftVerdict: this.driftVerdict });
  }
}
