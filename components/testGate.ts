import type * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { testGateCommand, type GateServiceSpec, type TestBanditSpec } from "../gates/commands";
import { gateCommand, registryAuthEnv, verdictOf } from "./gateCommand";

/** Arguments of {@link TestGate}. */
export interface TestGateArgs {
  /** Project root: the command's working directory. */
  projectDir: string;
  /** Directory of the release's gate results, relative to the project root. */
  reportDir: string;
  /**
   * The builder candidate by digest (`BuilderImage.ref`, `HOST/REPO@sha256:...`): the tests run in
   * exactly that image (pulled when the machine lacks it), and again exactly when it changes.
   */
  image: pulumi.Input<string>;
  /** The test command, run by a shell inside the image (config `tests.command`). */
  command: string;
  /** Coverage floor, percent (config `tests.coverageMin`). */
  coverageMin: number;
  /** Extra environment for the tests, e.g. `POSTGRES_HOST` (not secrets: they are on the command line). */
  env?: Record<string, string>;
  /** Docker network the test container joins (e.g. one with a database). Default: Docker's default. */
  network?: string;
  /** Seconds the tests may take. Default: the gate's own. */
  timeout?: number;
  /** bandit over the app's source in the builder image (config `tests.bandit`). Default: none. */
  bandit?: TestBanditSpec;
  /** `pip check` in the builder image (config `tests.pipCheck`). Default false. */
  pipCheck?: boolean;
  /** Services for the run (config `tests.services`), on a network of its own. Default none. */
  services?: GateServiceSpec[];
  /**
   * Docker config.json with registry credentials (secret): a runner without the candidate pulls it.
   * Default: the machine's Docker config.
   */
  dockerConfigJson?: pulumi.Input<string>;
}

/**
 * SOP step 3: the tests inside the builder image, with the coverage floor (TEST_FAILURE,
 * LOW_COVERAGE, IMPORT_ERROR, NO_TESTS). `verdict` exists only once they passed; the push carries it.
 */
export class TestGate extends pulumi.ComponentResource {
  public readonly run: command.local.Command;
  public readonly verdict: pulumi.Output<string>;

  constructor(name: string, args: TestGateArgs, opts?: pulumi.ComponentResourceOptions) {
    super("slipway:gates:TestGate", name, {}, opts);

    this.run = gateCommand(
      `${name}-run`,
      {
        dir: args.projectDir,
        create: pulumi.output(args.image).apply((image) =>
          testGateCommand({
            reportDir: args.reportDir,
            image,
            command: args.command,
            coverageMin: args.coverageMin,
            env: args.env,
            network: args.network,
            timeout: args.timeout,
            bandit: args.bandit,
            pipCheck: args.pipCheck,
            services: args.services,
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
