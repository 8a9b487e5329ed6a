import type * as dockerBuild from "@pulumi/docker-build";
import * as pulumi from "@pulumi/pulumi";
import type { BuildSpec } from "../gates/commands";
import { stageImage, type StageImageArgs } from "./dockerBuild";

/** Arguments of {@link BuilderImage}. */
export interface BuilderImageArgs extends StageImageArgs {
  /** The Dockerfile stage to build. Default `builder` (config `app.targets.builder`). */
  target?: string;
}

/**
 * SOP step 2: the `builder` stage (system packages, pip requirements, the tests and their tools). The
 * test gate runs the tests inside this exact image. Nothing is pushed.
 */
export class BuilderImage extends pulumi.ComponentResource {
  public readonly image: dockerBuild.Image;
  /** The build as plain data (`buildSpec`), the same the e2e suite renders as `docker build`. */
  public readonly spec: pulumi.Output<BuildSpec>;
  /** Local reference of the built image: what the gates check. */
  public readonly ref: pulumi.Output<string>;
  /** Digest of the build: the gates' trigger. */
  public readonly digest: pulumi.Output<string>;

  constructor(name: string, args: BuilderImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("slipway:images:BuilderImage", name, {}, opts);

    const built = stageImage(`${name}-image`, args.target ?? "builder", args, this);
    this.image = built.image;
    this.spec = built.spec;
    this.ref = built.ref;
    this.digest = built.digest;

    this.registerOutputs({
      image: this.image,
      spec: this.spec,
      ref: this.ref,
      digest: this.digest,
    });
  }
}
