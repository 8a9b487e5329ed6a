import type * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { smokeGateCommand, type SmokeBootSpec } from "../gates/commands";
import { gateCommand, registryAuthEnv, verdictOf } from "./gateCommand";

/** Arguments of {@link SmokeGate}. */
export interface SmokeGateArgs {
  /** Project root: the command's working directory. */
  projectDir: string;
  /** Directory of the release's gate results, relative to the project root. */
  reportDir: string;
  /**
   * The runtime candidate by digest (`RuntimeImage.ref`, `HOST/REPO@sha256:...`): what boots is
   * exactly what is promoted (pulled when the machine lacks it); the gate runs again when it changes.
   */
  image: pulumi.Input<string>;
  /** Size budget, e.g. `2GB` (config `smoke.maxSize`). */
  maxSize: string;
  /** Command printing the app version, e.g. `odoo --version`. Default: not checked. */
  versionCommand?: string;
  /** Text the version command must print, e.g. `Odoo Server 16.0`. */
  expectVersion?: string;
  /** Paths that must exist in the image, e.g. `/mnt/extra-addons`. Default none. */
  paths?: string[];
  /** Python modules that must import in the image. Default none. */
  imports?: string[];
  /** The image must not run as root. Default true. */
  nonRoot?: boolean;
  /**
   * Boot the image and wait for its health endpoint: the check that catches an image that builds
   * fine and dies at start (the build report's `ModuleNotFoundError`). Default: no boot.
   */
  boot?: SmokeBootSpec;
  /** `pip check` in the runtime image (config `smoke.pipCheck`). Default false. */
  pipCheck?: boolean;
  /** The wkhtmltopdf version the image must hold (config `smoke.wkhtmltopdf`). Default: not checked. */
  wkhtmltopdf?: string;
  /**
   * Docker config.json with registry credentials (secret): a runner without the candidate pulls it.
   * Default: the machine's Docker config.
   */
  dockerConfigJson?: pulumi.Input<string>;
}

/**
 * SOP steps 4 and 7 on the exact runtime candidate, before anything is promoted: size, version, required
 * paths and imports, non-root user, and a boot with its health check (IMAGE_SIZE_EXCEEDED,
 * ENTRYPOINT_ERROR, MISSING_ADDONS, IMPORT_ERROR, RUNS_AS_ROOT, CONTAINER_START_FAILURE,
 * HEALTH_CHECK_FAIL).
 */
export class SmokeGate extends pulumi.ComponentResource {
  public readonly run: command.local.Command;
  public readonly verdict: pulumi.Output<string>;

  constructor(name: string, args: SmokeGateArgs, opts?: pulumi.ComponentResourceOptions) {
    super("slipway:gates:SmokeGate", name, {}, opts);

    this.run = gateCommand(
      `${name}-run`,
      {
        dir: args.projectDir,
        create: pulumi.output(args.image).apply((image) =>
          smokeGateCommand({
            reportDir: args.reportDir,
            image,
            maxSize: args.maxSize,
            versionCommand: args.versionCommand,
            expectVersion: args.expectVersion,
            paths: args.paths,
            imports: args.imports,
            nonRoot: args.nonRoot ?? true,
            boot: args.boot,
            pipCheck: args.pipCheck,
            wkhtmltopdf: args.wkhtmltopdf,
          }),
        ),
        environment: registryAuthEnv(args.dockerConfigJson),
      },
      this,
    );
    this.verdict = verdictOf(this.run);

    this.registerOutputs({ run: this.run, verdict: this.verdict });
  }
}
