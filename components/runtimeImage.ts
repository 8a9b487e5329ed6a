import type * as dockerBuild from "@pulumi/docker-build";
import * as pulumi from "@pulumi/pulumi";
import type { BuildSpec } from "../gates/commands";
import { stageImage, type StageImageArgs } from "./dockerBuild";

/** Arguments of {@link RuntimeImage}. */
export interface RuntimeImageArgs extends StageImageArgs {
  /** The Dockerfile stage to build. Default `runtime` (config `app.targets.runtime`). */
  target?: string;
}

/**
 * SOP step 4: the `runtime` stage, the image that is released. The smoke and scan gates check this
 * exact image and the push tags it; the build itself pushes nothing. It may build while the tests run.
 */
export class RuntimeImage extends pulumi.ComponentResource {
  public readonly image: dockerBuild.Image;
  /** The build as plain data (`buildSpec`), the same the e2e suite renders as `docker build`. */
  public readonly spec: pulumi.Output<BuildSpec>;
  /** Local reference of the built image: what the gates check. */
  public readonly ref: pulumi.Output<string>;
  /** Digest of the build: the gates' trigger. */
  public readonly digest: pulumi.Output<string>;

  constructor(name: string, args: RuntimeImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("slipway:images:RuntimeImage", name, {}, opts);

    const built = stageImage(`${name}-image`, args.target ?? "runtime", args, this);
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
