import type * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { healthGateCommand } from "../gates/commands";
import { gateCommand, verdictOf } from "./gateCommand";

/** Arguments of {@link Verification}. */
export interface VerificationArgs {
  /** Project root: the command's working directory. */
  projectDir: string;
  /** Directory of the release's results, relative to the project root. */
  reportDir: string;
  /** The live health URL (`AppDeployment.healthUrl`); resolves once the deploy is done. */
  url: pulumi.Input<string>;
  /** The deployed digest and deployment id: the check runs again after every deploy. */
  triggers: pulumi.Input<string>[];
  /** Seconds the app may take to answer (config `deploy.verifyTimeout`). */
  timeout: number;
  /** Expected HTTP status. Default 200. */
  expectStatus?: number;
  /**
   * Text the body must contain (config `deploy.verifyBody`: the released version or digest), so a
   * deploy that left the old release answering fails. Default: not checked.
   */
  expectBody?: pulumi.Input<string>;
}

/**
 * SOP step 7 after the deploy: the `health` gate polls the live URL until it answers as expected
 * (HEALTH_CHECK_FAIL, whose remedy is the one-command rollback).
 */
export class Verification extends pulumi.ComponentResource {
  public readonly health: command.local.Command;
  public readonly verdict: pulumi.Output<string>;

  constructor(name: string, args: VerificationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("slipway:deploy:Verification", name, {}, opts);

    this.health = gateCommand(
      `${name}-health`,
      {
        dir: args.projectDir,
        create: pulumi.all([args.url, args.expectBody]).apply(([url, expectBody]) =>
          healthGateCommand({
            reportDir: args.reportDir,
            url,
            timeout: args.timeout,
            expectStatus: args.expectStatus ?? 200,
            expectBody,
          }),
        ),
        triggers: args.triggers,
      },
      this,
    );
    this.verdict = verdictOf(this.health);

    this.registerOutputs({ health: this.health, verdict: this.verdict });
  }
}
