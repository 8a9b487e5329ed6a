import type { ServiceSpec } from "./spec";

/**
 * Every docker argv of the service orchestration, built from plain data (unit-tested; the e2e suite
 * runs them for real). Everything a run starts carries the label `slipway.run=<run id>`, so that what
 * is left of a killed run can be found (`docker ps -a --filter label=slipway.run=<id>`).
 */

export const RUN_LABEL = "slipway.run";

/** The run's own network (a user-defined bridge: containers on it resolve each other by alias). */
export function networkCreateArgs(network: string, runId: string, gate: string): string[] {
  return [
    "network",
    "create",
    "--driver",
    "bridge",
    "--label",
    `${RUN_LABEL}=${runId}`,
    "--label",
    `slipway.gate=${gate}`,
    network,
  ];
}

export function networkRemoveArgs(network: string): string[] {
  return ["network", "rm", network];
}

/**
 * A service: detached, on the run's network under its own name (`--network-alias`), its plain env as
 * `-e K=V`, its credentials by name only (`-e NAME`: docker takes the value from its own environment),
 * no published port (only the run's network reaches it). A missing image is pulled by digest (docker
 * run's default), so what runs is exactly the pinned image.
 */
export function serviceRunArgs(
  service: ServiceSpec,
  container: string,
  network: string,
  runId: string,
  gate: string,
): string[] {
  return [
    "run",
    "-d",
    "--name",
    container,
    "--label",
    `${RUN_LABEL}=${runId}`,
    "--label",
    `slipway.gate=${gate}`,
    "--label",
    `slipway.service=${service.name}`,
    "--network",
    network,
    "--network-alias",
    service.name,
    ...Object.keys(service.env)
      .sort()
      .flatMap((k) => ["-e", `${k}=${service.env[k] ?? ""}`]),
    ...service.credentials.flatMap((name) => ["-e", name]),
    service.image,
  ];
}

/** The readiness command, inside the service container. */
export function readyExecArgs(container: string, ready: string): string[] {
  return ["exec", container, "sh", "-c", ready];
}

export function containerRemoveArgs(containers: readonly string[]): string[] {
  return ["rm", "-f", "-v", ...containers];
}

export function serviceLogsArgs(container: string, lines: number): string[] {
  return ["logs", "--tail", String(lines), container];
}
