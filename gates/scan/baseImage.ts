import { describeFailure, runDocker } from "../docker";
import { parseRootFsLayers, type BaseLayers } from "./origin";

/**
 * `--base-image REF`: the base image's layer DiffIDs, from the local Docker engine (the pipeline pulls
 * the base before it builds, so it is there). Never throws: a base that cannot be inspected (not
 * pulled, no Docker, odd output) comes back with the reason, and every finding's origin is then
 * `unknown`. Attribution informs; it must not decide a release.
 */

/** `docker image inspect` answers in well under a second; a hung CLI must not hold the gate long. */
const INSPECT_TIMEOUT_MS = 30_000;

export function inspectArgs(ref: string): string[] {
  return ["image", "inspect", "--format", "{{json .RootFS.Layers}}", ref];
}

export async function inspectBaseLayers(ref: string, env: NodeJS.ProcessEnv): Promise<BaseLayers> {
  try {
    const result = await runDocker(inspectArgs(ref), { env, timeoutMs: INSPECT_TIMEOUT_MS });
    if (result.exitCode !== 0) return { ref, error: describeFailure(result) };
    const parsed = parseRootFsLayers(result.stdout);
    return "layers" in parsed ? { ref, layers: parsed.layers } : { ref, error: parsed.problem };
  } catch (err) {
    // DOCKER_UNAVAILABLE (no CLI, no engine), or anything else: the reason is shown, nothing blocks.
    return { ref, error: err instanceof Error ? err.message : String(err) };
  }
}
