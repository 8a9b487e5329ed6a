import * as pulumi from "@pulumi/pulumi";
import { StageImageComponent, type StageImageArgs } from "./dockerBuild";

/** Arguments of {@link BuilderImage}. */
export interface BuilderImageArgs extends StageImageArgs {
  /** The Dockerfile stage to build. Default `builder` (config `app.targets.builder`). */
  target?: string;
}

/**
 * SOP step 2: the `builder` stage (system packages, pip requirements, the tests and their tools),
 * pushed as a candidate: the test gate runs the tests in exactly that image, by digest.
 */
export class BuilderImage extends StageImageComponent {
  constructor(name: string, args: BuilderImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("slipway:images:BuilderImage", name, args.target ?? "builder", args, opts);
  }
}
