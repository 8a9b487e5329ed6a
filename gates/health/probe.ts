import * as http from "node:http";
import * as https from "node:https";

/**
 * One GET of a health URL, with Node's own http client:
 * - a per-request timeout (an AbortSignal) that covers connecting, waiting for headers and reading the
 *   body, so a server that accepts and never answers costs at most that long;
 * - redirects are not followed (a 3xx is reported with its Location);
 * - no keep-alive agent: nothing lingers after the gate ends;
 * - at most {@link MAX_BODY} characters of body are read (enough to look for a marker text).
 */

export interface Probe {
  /** HTTP status, when the server answered. */
  status?: number;
  statusText?: string;
  /** The Location header of a 3xx. */
  location?: string;
  /** The start of the body (when the server answered). */
  body?: string;
  /** Why there is no answer: `connection refused`, `no answer within 500 ms`... */
  error?: string;
  /** Milliseconds the request took. */
  ms: number;
}

export type ProbeFn = (url: URL, timeoutMs: number) => Promise<Probe>;

export const MAX_BODY = 64 * 1024;

const ERRNO_TEXT: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset by the server",
  EPIPE: "connection closed by the server",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host name lookup failed (temporary)",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ETIMEDOUT: "connection timed out",
  ECONNABORTED: "connection aborted",
};

export function describeError(err: NodeJS.ErrnoException): string {
  const known = err.code === undefined ? undefined : ERRNO_TEXT[err.code];
  if (known !== undefined) {
    return `${known} (${err.code})`;
  }
  return err.code === undefined ? err.message : `${err.message} (${err.code})`;
}

export const probe: ProbeFn = (url, timeoutMs) => {
  const started = Date.now();
  const client = url.protocol === "https:" ? https : http;
  const signal = AbortSignal.timeout(Math.max(1, Math.round(timeoutMs)));
  return new Promise<Probe>((resolve) => {
    let settled = false;
    const done = (p: Omit<Probe, "ms">): void => {
      if (!settled) {
        settled = true;
        resolve({ ...p, ms: Date.now() - started });
      }
    };
    const timeoutText = `no answer within ${Math.round(timeoutMs)} ms (request timeout)`;
    // Once headers arrived, the status is what counts: a body cut short (timeout, reset) is reported
    // with that status and what arrived of it, whichever of the request or response errors first.
    let head: Pick<Probe, "status" | "statusText" | "location"> | undefined;
    let body = "";
    const req = client.request(
      url,
      {
        method: "GET",
        agent: false,
        signal,
        headers: { "user-agent": "slipway-health", accept: "*/*", connection: "close" },
      },
      (res) => {
        const seen = {
          status: res.statusCode ?? 0,
          statusText: res.statusMessage ?? "",
          ...(res.headers.location === undefined ? {} : { location: res.headers.location }),
        };
        head = seen;
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          body += chunk;
          if (body.length >= MAX_BODY) {
            done({ ...seen, body: body.slice(0, MAX_BODY) });
            res.destroy();
          }
        });
        res.on("end", () => done({ ...seen, body }));
        res.on("error", () => done({ ...seen, body }));
        res.on("close", () => done({ ...seen, body }));
      },
    );
    req.on("error", (err: NodeJS.ErrnoException) => {
      if (head !== undefined) {
        done({ ...head, body });
        return;
      }
      done({ error: signal.aborted ? timeoutText : describeError(err) });
    });
    req.end();
  });
};
