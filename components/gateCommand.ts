import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { decisionOf, parseVerdictLine } from "../gates/result";

/**
 * The one way a component runs a gate: a `command.local.Command` whose `create` is a string from
 * gates/commands.ts. Shared by every gate component so they all behave alike:
 *
 * - `dir` is the project root (`bin/slipway-gate` and the report directory are relative to it);
 * - pulumi-command runs `create` again on ANY input change (`local/commandController.go`: an update
 *   with no `update` command re-runs `create`) and replaces on a `triggers` change. So `create` holds
 *   only what the gate judges (the image by digest, the policy), `triggers` the content of the files
 *   it reads (allowlist, baseline) and nothing else, and no input carries a value that changes on its
 *   own between two `up`s (no minted credential, no timestamp): an `up` with nothing changed runs
 *   nothing again, and a new digest re-runs exactly the gates whose command names it;
 * - `addPreviousOutputInEnv: false`: the previous run's output is not injected into the next one's
 *   environment, so a gate's behaviour depends on its inputs only;
 * - a non-zero exit fails the resource and, through the data dependencies, everything downstream.
 */
export interface GateCommandArgs {
  /** Project root, the command's working directory. */
  dir: pulumi.Input<string>;
  /** The command line, built by one function of gates/commands.ts. */
  create: pulumi.Input<string>;
  /** Values, beside `create`, whose change runs the gate again (the content of files it reads). */
  triggers?: pulumi.Input<unknown>[];
  /** Extra environment (e.g. `SLIPWAY_REGISTRY_AUTH`, a secret). */
  environment?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/** Registers the gate's command as a child of `parent`. */
export function gateCommand(
  name: string,
  args: GateCommandArgs,
  parent: pulumi.Resource,
): command.local.Command {
  return new command.local.Command(
    name,
    {
      create: args.create,
      dir: args.dir,
      ...(args.triggers === undefined ? {} : { triggers: args.triggers }),
      ...(args.environment === undefined ? {} : { environment: args.environment }),
      addPreviousOutputInEnv: false,
    },
    { parent },
  );
}

/**
 * A gate's verdict as a short, stable value: its decision and the digest it judged (`smoke pass -
 * sha256:...`), read from the verdict line that ends its stdout (`--print-verdict`), never from its
 * wording. It exists only once the gate has passed, so carrying it into another resource's inputs (the
 * promotion's `triggers`) makes that resource wait for the gate, and re-run exactly when the decision
 * or the judged digest changes: a re-run that decides the same in other words changes nothing.
 */
export function verdictOf(gate: command.local.Command): pulumi.Output<string> {
  return gate.stdout.apply((out) => decisionOf(parseVerdictLine(out ?? "")));
}

/** The machine value a gate printed in its verdict line (a resolved or promoted digest, a summary). */
export function gateValueOf(gate: command.local.Command): pulumi.Output<string> {
  return gate.stdout.apply((out) => {
    const line = parseVerdictLine(out ?? "");
    if (line.value === undefined) throw new Error(`the ${line.gate} gate printed no value`);
    return line.value;
  });
}

/** The registry credentials env var the registry gates read (a Docker config.json document). */
export function registryAuthEnv(
  dockerConfigJson: pulumi.Input<string> | undefined,
): pulumi.Input<Record<string, pulumi.Input<string>>> | undefined {
  if (dockerConfigJson === undefined) return undefined;
  return { SLIPWAY_REGISTRY_AUTH: pulumi.secret(dockerConfigJson) };
}
