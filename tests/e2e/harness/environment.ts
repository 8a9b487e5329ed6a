import { resolve } from "node:path";

/**
 * Where things are on the e2e machine. The scripts under scripts/e2e/ install and start them; these
 * constants only name them for the tests (the scripts' defaults, overridable the same way).
 */

export const PROJECT_ROOT = resolve(__dirname, "..", "..", "..");

/** Debian's client: BuildKit works with it and DOCKER_BUILDKIT=1 (the one at /usr/local/bin has no buildx). */
export const DOCKER = "/usr/bin/docker";

/** State directory of the scripts (pid files, logs, registry storage, the pinned base reference). */
export const STATE_DIR = process.env.SLIPWAY_E2E_STATE ?? "/tmp/slipway-e2e";

/** The open registry (no auth) and the one with htpasswd basic auth (scripts/e2e/registry.sh). */
export const OPEN_REGISTRY = "127.0.0.1:5000";
export const AUTH_REGISTRY = "127.0.0.1:5001";
export const AUTH_USER = process.env.SLIPWAY_E2E_REGISTRY_USER ?? "slipway";
export const AUTH_PASSWORD = process.env.SLIPWAY_E2E_REGISTRY_PASSWORD ?? "slipway-e2e-secret";

export function script(name: string): string {
  return resolve(PROJECT_ROOT, "scripts", "e2e", name);
}

/**
 * A Docker config.json document for one registry, exactly the shape DigitalOcean's
 * `ContainerRegistryDockerCredentials` outputs (what `SLIPWAY_REGISTRY_AUTH` carries).
 */
export function dockerConfigJson(host: string, user: string, password: string): string {
  const auth = Buffer.from(`${user}:${password}`).toString("base64");
  return JSON.stringify({ auths: { [host]: { auth } } });
}
