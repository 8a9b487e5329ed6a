import { UsageError } from "../result";

/**
 * Service dependencies of a test run or a smoke boot (a PostgreSQL, a Redis...), as the gates take them:
 * one `--services JSON` flag (a JSON array, built by the command builder from `tests.services` /
 * `smoke.services`). Per run, the gate starts each on a Docker network of the run's own, waits until it
 * is ready, hands the app its addresses and per-run credentials, and removes everything it started
 * (services/run.ts).
 */
export interface ServiceSpec {
  /** DNS name on the run's network (`--network-alias`), e.g. `db`: the app reaches it by that name. */
  name: string;
  /** The service image, pinned by digest (`repo@sha256:...`, or `repo:tag@sha256:...`). */
  image: string;
  /** Plain environment of the service container (nothing secret: credentials are generated). */
  env: Record<string, string>;
  /** A shell command run inside the service container (`docker exec ... sh -c`) until it exits 0. */
  ready: string;
  /** Seconds to wait for `ready` (default {@link DEFAULT_READY_TIMEOUT_S}). */
  readyTimeout: number;
  /** Environment handed to the app, e.g. `{ POSTGRES_HOST: "db", POSTGRES_PORT: "5432" }`. */
  expose: Record<string, string>;
  /**
   * Names of variables whose values are generated per run and given to both the service and the app
   * (e.g. POSTGRES_PASSWORD): by name (`--env NAME`), the value in the docker CLI's environment,
   * never on an argv nor in the stack file.
   */
  credentials: string[];
}

export const DEFAULT_READY_TIMEOUT_S = 60;

const NAME = /^[a-z][a-z0-9-]{0,62}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const PINNED = /^[a-z0-9][a-z0-9._/:-]*@sha256:[0-9a-f]{64}$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function stringMap(where: string, value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (!isRecord(value)) throw new UsageError(`${where}: expected an object of NAME: value`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (!ENV_NAME.test(k)) throw new UsageError(`${where}: "${k}" is not a variable name`);
    if (typeof v !== "string") throw new UsageError(`${where}.${k}: expected a string`);
    out[k] = v;
  }
  return out;
}

/** `--services JSON` → validated specs. Every problem is a usage error naming the service and field. */
export function parseServices(text: string): ServiceSpec[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--services: not JSON (${(err as Error).message})`);
  }
  if (!Array.isArray(doc)) throw new UsageError("--services: expected a JSON array of services");
  const specs = doc.map((entry: unknown, i): ServiceSpec => {
    const at = `--services[${i}]`;
    if (!isRecord(entry)) throw new UsageError(`${at}: expected an object`);
    const { name, image, ready, readyTimeout, credentials } = entry;
    if (typeof name !== "string" || !NAME.test(name)) {
      throw new UsageError(
        `${at}.name: expected a lowercase DNS label (e.g. db), got ${JSON.stringify(name)}`,
      );
    }
    const where = `service "${name}"`;
    if (typeof image !== "string" || !PINNED.test(image)) {
      throw new UsageError(
        `${where}: image must be pinned by digest (repo@sha256:...), got ${JSON.stringify(image)}`,
      );
    }
    if (typeof ready !== "string" || ready.trim() === "") {
      throw new UsageError(`${where}: ready must be a shell command that exits 0 once it serves`);
    }
    if (
      readyTimeout !== undefined &&
      (typeof readyTimeout !== "number" || !(readyTimeout > 0) || readyTimeout > 3600)
    ) {
      throw new UsageError(`${where}: readyTimeout must be seconds in (0, 3600]`);
    }
    const creds = credentials ?? [];
    if (!Array.isArray(creds) || creds.some((c) => typeof c !== "string" || !ENV_NAME.test(c))) {
      throw new UsageError(`${where}: credentials must be a list of variable names`);
    }
    const env = stringMap(`${where}.env`, entry.env);
    const expose = stringMap(`${where}.expose`, entry.expose);
    for (const c of creds as string[]) {
      if (c in env || c in expose) {
        throw new UsageError(
          `${where}: ${c} is a generated credential: it cannot also be set in env/expose`,
        );
      }
    }
    return {
      name,
      image,
      env,
      ready,
      readyTimeout: (readyTimeout as number | undefined) ?? DEFAULT_READY_TIMEOUT_S,
      expose,
      credentials: creds as string[],
    };
  });
  const names = specs.map((s) => s.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice !== undefined) throw new UsageError(`--services: two services are named "${twice}"`);
  return specs;
}
