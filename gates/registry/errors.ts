import { GateError } from "../result";

/** One entry of the OCI Distribution error body: `{"errors":[{"code","message","detail"}]}`. */
export interface RegistryErrorEntry {
  code: string;
  message: string;
}

/** Reads the registry's error entries from a response body; empty when it has none. */
export function parseErrorBody(text: string): RegistryErrorEntry[] {
  try {
    const doc = JSON.parse(text) as { errors?: unknown };
    if (!Array.isArray(doc.errors)) return [];
    return doc.errors.map((e: { code?: unknown; message?: unknown; detail?: unknown }) => ({
      code: typeof e.code === "string" ? e.code : "UNKNOWN",
      message:
        typeof e.message === "string"
          ? e.message + (typeof e.detail === "string" ? ` (${e.detail})` : "")
          : "",
    }));
  } catch {
    return [];
  }
}

function describe(status: number, entries: RegistryErrorEntry[], text: string): string {
  if (entries.length > 0) return entries.map((e) => `${e.code}: ${e.message}`).join("; ");
  const snippet = text.trim().replace(/\s+/g, " ").slice(0, 200);
  return snippet.length > 0 ? `HTTP ${status}: ${snippet}` : `HTTP ${status}`;
}

/**
 * Quota refusals as registries word them: DOCR's `denied: registry contains 1 repositories, limit
 * is 1` and storage quota messages, Harbor's `quota exceeded`, an HTTP 507.
 */
const QUOTA = /quota|storage limit|insufficient storage|too many repositories|limit is \d+/i;
const MANIFEST_CODES = [
  "MANIFEST_INVALID",
  "MANIFEST_UNVERIFIED",
  "MANIFEST_BLOB_UNKNOWN",
  "BLOB_UNKNOWN",
  "TAG_INVALID",
  "DIGEST_INVALID",
  "SIZE_INVALID",
  "UNSUPPORTED",
];

/**
 * The GateError for a registry answer that is neither success nor "not found". Quota comes first:
 * DOCR refuses a write over its storage quota with a 4xx `DENIED` whose message names the quota,
 * which must not read as bad credentials.
 */
export function errorForResponse(
  what: string,
  status: number,
  text: string,
  authHelp: string[] = [],
): GateError {
  const entries = parseErrorBody(text);
  const description = describe(status, entries, text);
  const all = `${description} ${text}`;
  if (status === 507 || (status >= 400 && status < 500 && QUOTA.test(all))) {
    return new GateError("QUOTA_EXCEEDED", `${what}: the registry's quota is exhausted`, [
      description,
    ]);
  }
  if (status === 401 || status === 403) {
    return new GateError(
      "REGISTRY_AUTH_FAILURE",
      `${what}: the registry refused access (HTTP ${status})`,
      [description, ...authHelp],
    );
  }
  if (status >= 500 || status === 429 || status === 408) {
    return new GateError("REGISTRY_UNAVAILABLE", `${what}: the registry answered HTTP ${status}`, [
      description,
    ]);
  }
  if (entries.some((e) => MANIFEST_CODES.includes(e.code)) || status === 400 || status === 415) {
    return new GateError("MANIFEST_ERROR", `${what}: the registry rejected the manifest`, [
      description,
    ]);
  }
  return new GateError(
    "REGISTRY_UNAVAILABLE",
    `${what}: unexpected answer from the registry (HTTP ${status})`,
    [description],
  );
}

/** The GateError for a request that got no answer: refused, unknown host, TLS, timeout. */
export function errorForFailure(
  what: string,
  url: string,
  err: unknown,
  timeoutMs: number,
): GateError {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = e.cause?.code;
  if (
    e.name === "TimeoutError" ||
    code === "UND_ERR_HEADERS_TIMEOUT" ||
    code === "UND_ERR_BODY_TIMEOUT" ||
    code === "UND_ERR_CONNECT_TIMEOUT" ||
    code === "ETIMEDOUT"
  ) {
    return new GateError(
      "NETWORK_TIMEOUT",
      `${what}: no answer from ${url} within ${timeoutMs / 1000} s`,
      ["set SLIPWAY_REGISTRY_TIMEOUT (seconds) to allow longer"],
    );
  }
  const reason = e.cause?.message ?? e.message ?? String(err);
  const hint =
    code === "ECONNREFUSED"
      ? "nothing listens there: is the registry running, and is the host:port right?"
      : code === "ENOTFOUND" || code === "EAI_AGAIN"
        ? "the host name does not resolve"
        : "check the address, TLS (loopback hosts use http, others https) and the network";
  return new GateError("REGISTRY_UNAVAILABLE", `${what}: cannot reach ${url} (${code ?? reason})`, [
    reason,
    hint,
  ]);
}
