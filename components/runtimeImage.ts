import * as pulumi from "@pulumi/pulumi";
import { StageImageComponent, type StageImageArgs } from "./dockerBuild";

/** Arguments of {@link RuntimeImage}. */
export interface RuntimeImageArgs extends StageImageArgs {
  /** The Dockerfile stage to build. Default `runtime` (config `app.targets.runtime`). */
  target?: string;
}

/**
 * SOP step 4: the `runtime` stage, the image that is released, pushed as a candidate. The smoke and
 * scan gates judge it by digest, and the promotion puts that same manifest under the version tag. It
 * may build while the tests run.
 */
export class RuntimeImage extends StageImageComponent {
  constructor(name: string, args: RuntimeImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("slipway:images:RuntimeImage", name, args.target ?? "runtime", args, opts);
  }
}
