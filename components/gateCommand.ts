import { createHash } from "node:crypto";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";

/**
 * The one way a component runs a gate: a `command.local.Command` whose `create` is a string from
 * gates/commands.ts. Shared by every gate component so they all behave alike:
 *
 * - `dir` is the project root (`bin/slipway-gate` and the report directory are relative to it);
 * - `triggers` are what the gate checks (image digests, the version): an `up` with nothing changed
 *   runs nothing again, and a changed image runs its gate again;
 * - `addPreviousOutputInEnv: false`: the previous run's output is not injected into the next one's
 *   environment, so a gate's behaviour depends on its inputs only;
 * - a non-zero exit fails the resource and, through the data dependencies, everything downstream.
 */
export interface GateCommandArgs {
  /** Project root, the command's working directory. */
  dir: pulumi.Input<string>;
  /** The command line, built by one function of gates/commands.ts. */
  create: pulumi.Input<string>;
  /** Values whose change runs the gate again. */
  triggers: pulumi.Input<unknown>[];
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
      triggers: args.triggers,
      ...(args.environment === undefined ? {} : { environment: args.environment }),
      addPreviousOutputInEnv: false,
    },
    { parent },
  );
}

/**
 * A gate's verdict as a short, stable value: `sha256:` of what it printed. It exists only once the
 * gate has passed, so carrying it into another resource's inputs (the push's `triggers`) makes that
 * resource wait for the gate, visibly and testably, and re-run when the gate's result changes.
 */
export function verdictOf(gate: command.local.Command): pulumi.Output<string> {
  return gate.stdout.apply(
    (out) =>
      `sha256:${createHash("sha256")
        .update(out ?? "")
        .digest("hex")}`,
  );
}

/** The registry credentials env var the registry gates read (a Docker config.json document). */
export function registryAuthEnv(
  dockerConfigJson: pulumi.Input<string> | undefined,
): pulumi.Input<Record<string, pulumi.Input<string>>> | undefined {
  if (dockerConfigJson === undefined) return undefined;
  return { SLIPWAY_REGISTRY_AUTH: pulumi.secret(dockerConfigJson) };
}
