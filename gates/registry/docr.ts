import { GateError } from "../result";

/** DigitalOcean Container Registry's host. */
export const DOCR_HOST = "registry.digitalocean.com";
/** The DigitalOcean API; env SLIPWAY_DO_API_URL overrides it (tests, proxies). */
export const DO_API_URL = "https://api.digitalocean.com";
export const DO_API_ENV = "SLIPWAY_DO_API_URL";
export const DO_TOKEN_ENV = "DIGITALOCEAN_TOKEN";

export function isDocr(host: string): boolean {
  return host === DOCR_HOST;
}

export interface DocrDeleteSpec {
  /** Repository path as in the image reference: `<registry>/<repo...>` (`acme/odoo`). */
  repository: string;
  digest: string;
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
}

/**
 * Deletes a manifest of a DOCR repository through the DigitalOcean API
 * (`DELETE /v2/registry/{registry}/repositories/{repo}/digests/{digest}`, repo URL-encoded, token
 * env DIGITALOCEAN_TOKEN): DOCR documents deletes there (control panel, doctl, API), not on its
 * OCI v2 endpoint. The space comes back only when the registry's garbage collection runs
 * (`doctl registry garbage-collection start`). Returns false when the manifest was already gone.
 */
export async function docrDeleteManifest(spec: DocrDeleteSpec): Promise<boolean> {
  const [registry, ...rest] = spec.repository.split("/");
  const repo = rest.join("/");
  const what = `deleting ${DOCR_HOST}/${spec.repository}@${spec.digest} through the DigitalOcean API`;
  if (registry === undefined || repo === "") {
    throw new GateError("MANIFEST_ERROR", `${what}: a DOCR repository is <registry>/<name>`);
  }
  const token = spec.env[DO_TOKEN_ENV] ?? "";
  if (token === "") {
    throw new GateError("REGISTRY_AUTH_FAILURE", `${what}: ${DO_TOKEN_ENV} is not set`, [
      `export ${DO_TOKEN_ENV} (an API token with registry write scope)`,
    ]);
  }
  const base = (spec.env[DO_API_ENV] ?? DO_API_URL).replace(/\/+$/, "");
  const url = `${base}/v2/registry/${encodeURIComponent(registry)}/repositories/${encodeURIComponent(repo)}/digests/${spec.digest}`;
  let response: Response;
  try {
    response = await fetch(url, {
      method: "DELETE",
      headers: { authorization: `Bearer ${token}`, "user-agent": "slipway-gate" },
      signal: AbortSignal.timeout(spec.timeoutMs),
    });
  } catch (err) {
    throw new GateError("REGISTRY_UNAVAILABLE", `${what}: no answer from ${base}`, [
      (err as Error).message,
    ]);
  }
  const text = await response.text();
  if (response.status === 204 || response.status === 200 || response.status === 202) return true;
  if (response.status === 404) return false;
  const said = text.trim().slice(0, 200);
  if (response.status === 401 || response.status === 403) {
    throw new GateError("REGISTRY_AUTH_FAILURE", `${what}: HTTP ${response.status}`, [
      said,
      `check ${DO_TOKEN_ENV}: it needs write access to the registry`,
    ]);
  }
  throw new GateError("REGISTRY_UNAVAILABLE", `${what}: HTTP ${response.status}`, [said]);
}
