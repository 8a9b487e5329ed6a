import { randomBytes } from "node:crypto";
import { DockerResult, describeFailure, runDocker } from "../docker";
import { GateError } from "../result";
import { tailLines } from "../testing/text";
import {
  containerRemoveArgs,
  networkCreateArgs,
  networkRemoveArgs,
  readyExecArgs,
  serviceLogsArgs,
  serviceRunArgs,
} from "./args";
import type { ServiceSpec } from "./spec";

/**
 * One run's services: network up, services started side by side, each polled until its `ready`
 * command exits 0, then the caller's work, then everything removed (containers, then the network)
 * in `finally`, whatever happened: a failed start, a service never ready, the work throwing.
 */

/** What the app is handed: its network, its plain env, and the credentials (names → per-run values). */
export interface ServicesHandle {
  network: string;
  runId: string;
  /** `expose` of every service: plain `K=V` for the app's `docker run -e`. */
  env: Array<[string, string]>;
  /** Credential names, for `-e NAME` (the value is in {@link childEnv}). */
  credentialNames: string[];
  /** The docker CLI's environment: the caller's plus the generated credentials. */
  childEnv: NodeJS.ProcessEnv;
}

export interface ServicesDeps {
  env: NodeJS.ProcessEnv;
  progress(line: string): void;
  /** Pause between two readiness attempts (default 250 ms). */
  pollMs?: number;
  /** For tests: the run id and credential values; default random. */
  random?: (bytes: number) => string;
}

const READY_POLL_MS = 250;
const LOG_LINES = 20;

const hex = (bytes: number): string => randomBytes(bytes).toString("hex");

/** Generated per run: 24 random bytes as hex (no character any client or URL would need to quote). */
export function generateCredentials(
  names: readonly string[],
  random: (bytes: number) => string = hex,
): Record<string, string> {
  return Object.fromEntries([...new Set(names)].map((n) => [n, random(24)]));
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `work` with the services up. Throws GateError SERVICE_NOT_READY (naming the service, its
 * last readiness output and its log tail) when one cannot start or is not ready in time; the work is
 * then never run. Everything started is removed before this returns or throws.
 */
export async function withServices<T>(
  services: readonly ServiceSpec[],
  gate: string,
  deps: ServicesDeps,
  work: (handle: ServicesHandle) => Promise<T>,
): Promise<T> {
  const random = deps.random ?? hex;
  const runId = random(6);
  const network = `slipway-net-${runId}`;
  const credentials = generateCredentials(
    services.flatMap((s) => s.credentials),
    random,
  );
  const childEnv: NodeJS.ProcessEnv = { ...deps.env, ...credentials };
  const docker = (args: string[], timeoutMs = 60_000): Promise<DockerResult> =>
    runDocker(args, { env: childEnv, timeoutMs });
  const started: string[] = [];
  let networkMade = false;
  try {
    const made = await docker(networkCreateArgs(network, runId, gate));
    if (made.exitCode !== 0) {
      throw new GateError("SERVICE_NOT_READY", `cannot create the run's network ${network}`, [
        describeFailure(made),
      ]);
    }
    networkMade = true;
    deps.progress(
      `${gate}: services ${services.map((s) => s.name).join(", ")} on network ${network}`,
    );
    await Promise.all(
      services.map(async (service) => {
        const container = `slipway-svc-${runId}-${service.name}`;
        // Recorded before the run: a `docker run` that fails half-way may still leave the container.
        started.push(container);
        const run = await docker(serviceRunArgs(service, container, network, runId, gate), 300_000);
        if (run.exitCode !== 0) {
          throw new GateError(
            "SERVICE_NOT_READY",
            `service "${service.name}" did not start: ${describeFailure(run)}`,
            tailLines(run.output, 10).map((l) => `| ${l}`),
          );
        }
        await waitReady(service, container, docker, deps);
      }),
    );
    return await work({
      network,
      runId,
      env: services.flatMap((s) => Object.entries(s.expose)),
      credentialNames: Object.keys(credentials),
      childEnv,
    });
  } finally {
    if (started.length > 0) {
      const removed = await docker(containerRemoveArgs(started)).catch((e: Error) => e);
      if (removed instanceof Error || removed.exitCode !== 0) {
        deps.progress(
          `${gate}: could not remove ${started.join(", ")}: ${removed instanceof Error ? removed.message : describeFailure(removed)}`,
        );
      }
    }
    if (networkMade) {
      const removed = await docker(networkRemoveArgs(network)).catch((e: Error) => e);
      if (removed instanceof Error || removed.exitCode !== 0) {
        deps.progress(
          `${gate}: could not remove network ${network}: ${removed instanceof Error ? removed.message : describeFailure(removed)}`,
        );
      }
    }
  }
}

/** Polls the service's `ready` command until it exits 0; SERVICE_NOT_READY when its time is out. */
async function waitReady(
  service: ServiceSpec,
  container: string,
  docker: (args: string[], timeoutMs?: number) => Promise<DockerResult>,
  deps: ServicesDeps,
): Promise<void> {
  const started = Date.now();
  const deadline = started + service.readyTimeout * 1000;
  let last: DockerResult | undefined;
  let attempts = 0;
  while (Date.now() < deadline) {
    attempts += 1;
    last = await docker(
      readyExecArgs(container, service.ready),
      Math.max(1000, Math.min(10_000, deadline - Date.now())),
    );
    if (last.exitCode === 0) {
      deps.progress(`service "${service.name}" ready in ${Date.now() - started} ms`);
      return;
    }
    if (/is not running|No such container/i.test(last.output)) break;
    await sleep(deps.pollMs ?? READY_POLL_MS);
  }
  const logs = await docker(serviceLogsArgs(container, LOG_LINES)).catch(() => undefined);
  throw new GateError(
    "SERVICE_NOT_READY",
    `service "${service.name}" was not ready within ${service.readyTimeout} s (\`${service.ready}\`, ${attempts} attempt(s))`,
    [
      ...(last === undefined ? [] : [`last readiness check: ${describeFailure(last)}`]),
      "service log tail:",
      ...tailLines(logs?.output ?? "", LOG_LINES).map((l) => `| ${l}`),
    ],
  );
}
