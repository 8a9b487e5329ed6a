import type * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
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
   * Values whose change runs the drift check again (the release version: every release asks whether
   * the tag has moved). The pinned ref is always one.
   */
  triggers?: pulumi.Input<string>[];
  /**
   * Registry credentials (Docker config.json, secret) for a base in a private registry. Default:
   * none (public bases, or the user's `~/.docker/config.json`).
   */
  dockerConfigJson?: pulumi.Input<string>;
}

/**
 * SOP step 1: the base image, pinned by digest. It is pulled (`docker.RemoteImage`, kept locally so
 * the builds find it), and the `base` gate tells whether its tag now resolves to another digest
 * (BASE_IMAGE_DRIFT: time to review and move the pin). `ref` is the builds' `BASE_IMAGE` build arg;
 * it resolves once the pull is done, so the builds wait for it.
 */
export class BaseImage extends pulumi.ComponentResource {
  public readonly pull: docker.RemoteImage;
  public readonly drift: command.local.Command;
  /** The pinned reference, available once pulled: the builds' `BASE_IMAGE`. */
  public readonly ref: pulumi.Output<string>;
  /** Fingerprint of the drift check's result. */
  public readonly driftVerdict: pulumi.Output<string>;

  constructor(name: string, args: BaseImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("slipway:images:BaseImage", name, {}, opts);

    this.pull = new docker.RemoteImage(
      `${name}-pull`,
      { name: args.ref, keepLocally: true },
      { parent: this },
    );
    this.drift = gateCommand(
      `${name}-drift`,
      {
        dir: args.projectDir,
        create: baseDriftCommand({
          reportDir: args.reportDir,
          ref: args.ref,
          strict: args.strict ?? false,
        }),
        triggers: [args.ref, ...(args.triggers ?? [])],
        environment: registryAuthEnv(args.dockerConfigJson),
      },
      this,
    );
    // `name` echoes the input the pull was made with: the same text, but only once the pull is done.
    this.ref = this.pull.name;
    this.driftVerdict = verdictOf(this.drift);

    this.registerOutputs({
      pull: this.pull,
      drift: this.drift,
      ref: this.ref,
      driftVerdict: this.driftVerdict,
    });
  }
}
