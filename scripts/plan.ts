/**
 * `npm run plan -- --stack dev|prod|local [--set path=value]... [--unset path]... [--json]`
 *
 * The offline plan: runs the Slipway program (index.ts's function, the one `pulumi up` calls) under
 * Pulumi's mock runtime with the stack's Pulumi.<stack>.yaml, and prints what it would register: type,
 * name, parent and key inputs, with every gate command exactly as it would run, the image references,
 * and the App Platform spec as doctl's app spec YAML. Or the config errors, exit 2. No Pulumi CLI, no
 * cloud account, no network.
 *
 * - `--set app.port=8070`: overrides a value with `pulumi config set --path` semantics (`true`/`false`
 *   are booleans and integers numbers inside an object; top-level values are always text).
 * - `--unset scan.trivyImage`: removes a value, as `pulumi config rm --path` would (applied before the
 *   `--set`s, so a key can be swapped for one it conflicts with: `--unset scan.trivyImage --set
 *   scan.report=...`).
 * - Secrets: `secure:` values cannot be decrypted here; they, and secrets the config asks for but the
 *   file lacks, get placeholders. Every secret prints as `[secret]`.
 * - What providers return (build digests, pushed digests, URLs) are placeholders: sha256 of the inputs.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { parse, stringify } from "yaml";
import { doctlAppSpec } from "../components/appSpec";
import { dockerBuildCommand, type BuildSpec } from "../gates/commands";
import { NAMESPACE, SECRETS_KEY, SLACK_KEY, withOfflineSecrets } from "../stacks";
import { appSpecEnumProblems } from "../stacks/digitalocean";
import {
  leaves,
  type MockRun,
  type Recorded,
  runUnderMocks,
  fakeDigest,
  ORGANIZATION,
  PROJECT,
  SECRET_MASK,
  slipwayProgram,
} from "../tests/unit/harness";

const ROOT = join(__dirname, "..");

const USAGE = `usage: npm run plan -- --stack <dev|prod|local> [--set path=value]... [--unset path]... [--json]

  --stack NAME        plan the stack of Pulumi.<NAME>.yaml
  --set path=value    override a config value, as \`pulumi config set --path\` would
                      (e.g. --set app.port=8070, --set release.pin=v1.4.1)
  --unset path        remove a config value, as \`pulumi config rm --path\` would (before the --sets)
  --json              print {"resources":[{"type","name","parent","inputs"}]}

exit codes: 0 planned, 2 config errors (printed) or usage error`;

class UsageError extends Error {}

// ---- config paths (`pulumi config set --path` syntax) --------------------------------------------

type Segment = string | number;

/** `app.port`, `names[0]`, `["parent.name"].nested` → segments. */
export function parsePath(path: string): Segment[] {
  const segments: Segment[] = [];
  let i = 0;
  const fail = (why: string) => new UsageError(`--set ${path}: ${why}`);
  while (i < path.length) {
    if (path[i] === "[") {
      const close = path.indexOf("]", i);
      if (close === -1) throw fail("unclosed [");
      const inner = path.slice(i + 1, close);
      if (/^\d+$/.test(inner)) segments.push(Number(inner));
      else if (/^".*"$/.test(inner)) segments.push(JSON.parse(inner) as string);
      else throw fail(`[${inner}] is neither an index nor a "quoted key"`);
      i = close + 1;
      if (path[i] === ".") i += 1;
      continue;
    }
    let end = i;
    while (end < path.length && path[end] !== "." && path[end] !== "[") end += 1;
    if (end === i) throw fail("empty key");
    segments.push(path.slice(i, end));
    i = path[end] === "." ? end + 1 : end;
  }
  if (segments.length === 0) throw fail("empty path");
  return segments;
}

/** Pulumi's typing of a value set with `--path`: booleans and integers inside objects, text on top. */
function pathValue(raw: string, topLevel: boolean): unknown {
  if (topLevel) return raw;
  if (raw === "true") return true;
  if (raw === "false") return false;
  if (/^-?\d+$/.test(raw) && Number.isSafeInteger(Number(raw))) return Number(raw);
  return raw;
}

/** Sets `value` at `segments` in `config` (`slipway:<key>` → value), creating objects and lists. */
export function setPath(config: Record<string, unknown>, path: string, raw: string): void {
  const segments = parsePath(path);
  const first = segments[0];
  if (typeof first !== "string") throw new UsageError(`--set ${path}: must start with a key`);
  const key = first.includes(":") ? first : `${NAMESPACE}:${first}`;
  const rest = segments.slice(1);
  const value = pathValue(raw, rest.length === 0);
  if (rest.length === 0) {
    config[key] = value;
    return;
  }
  if (config[key] === undefined || typeof config[key] !== "object" || config[key] === null) {
    config[key] = typeof rest[0] === "number" ? [] : {};
  }
  let node = config[key] as Record<string | number, unknown>;
  rest.forEach((segment, index) => {
    if (index === rest.length - 1) {
      node[segment] = value;
      return;
    }
    const next = node[segment];
    if (next === undefined || next === null || typeof next !== "object") {
      node[segment] = typeof rest[index + 1] === "number" ? [] : {};
    }
    node = node[segment] as Record<string | number, unknown>;
  });
}

/**
 * Removes the value at `path` from `config`, as `pulumi config rm --path` does; a path that holds
 * nothing is left as it is (so is `pulumi config rm`'s). An emptied object stays (an empty object).
 */
export function unsetPath(config: Record<string, unknown>, path: string): void {
  const segments = parsePath(path);
  const first = segments[0];
  if (typeof first !== "string") throw new UsageError(`--unset ${path}: must start with a key`);
  const key = first.includes(":") ? first : `${NAMESPACE}:${first}`;
  const rest = segments.slice(1);
  if (rest.length === 0) {
    delete config[key];
    return;
  }
  let node: unknown = config[key];
  for (const segment of rest.slice(0, -1)) {
    if (node === null || typeof node !== "object") return;
    node = (node as Record<string | number, unknown>)[segment];
  }
  if (node === null || typeof node !== "object") return;
  const last = rest[rest.length - 1];
  if (Array.isArray(node) && typeof last === "number") node.splice(last, 1);
  else delete (node as Record<string | number, unknown>)[last];
}

/** The stack file's `config:` as the Pulumi engine hands it to a program: text, JSON for objects. */
function pulumiConfig(config: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(config)) {
    if (!key.startsWith(`${NAMESPACE}:`)) continue; // provider config (digitalocean:token) is not ours
    out[key] = typeof value === "string" ? value : JSON.stringify(value);
  }
  return out;
}

// ---- printing ------------------------------------------------------------------------------------

const TYPE = {
  command: "command:local:Command",
  build: "docker-build:index:Image",
  remoteImage: "docker:index/remoteImage:RemoteImage",
  tag: "docker:index/tag:Tag",
  push: "docker:index/registryImage:RegistryImage",
  container: "docker:index/container:Container",
  app: "digitalocean:index/app:App",
  docr: "digitalocean:index/containerRegistry:ContainerRegistry",
  credentials:
    "digitalocean:index/containerRegistryDockerCredentials:ContainerRegistryDockerCredentials",
};

function text(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** A digest shortened for reading (`sha256:0123456789ab…`); other values as they are. */
function short(value: unknown): string {
  const t = text(value);
  return /^sha256:[a-f0-9]{64}$/.test(t) ? `${t.slice(0, 19)}…` : t;
}

function indent(block: string, pad: string): string {
  return block
    .trimEnd()
    .split("\n")
    .map((line) => `${pad}${line}`)
    .join("\n");
}

/** A build's spec, rebuilt from the image resource's inputs (to show its `docker build` equivalent). */
function specOf(inputs: Record<string, unknown>): BuildSpec {
  const cacheRefs = (list: unknown) =>
    ((list as { registry?: { ref?: string } }[] | undefined) ?? [])
      .map((entry) => entry.registry?.ref)
      .filter((ref): ref is string => ref !== undefined);
  const platforms = inputs.platforms as string[] | undefined;
  return {
    context: (inputs.context as { location: string }).location,
    dockerfile: (inputs.dockerfile as { location: string }).location,
    target: String(inputs.target),
    buildArgs: (inputs.buildArgs as Record<string, string> | undefined) ?? {},
    candidate: ((inputs.tags as string[] | undefined) ?? [])[0] ?? "",
    ...(platforms === undefined ? {} : { platform: platforms[0] }),
    cacheFrom: cacheRefs(inputs.cacheFrom),
    cacheTo: cacheRefs(inputs.cacheTo),
  };
}

/** The lines describing one resource's key inputs. */
function details(resource: Recorded): string[] {
  const p = resource.printable;
  const lines: string[] = [];
  switch (resource.type) {
    case TYPE.command: {
      lines.push(`run:      ${text(p.create)}`);
      if (typeof p.environment === "string") {
        lines.push(`env:      ${p.environment}`);
      } else if (p.environment !== undefined) {
        const env = p.environment as Record<string, unknown>;
        lines.push(
          `env:      ${Object.keys(env)
            .map((k) => `${k}=${text(env[k])}`)
            .join(" ")}`,
        );
      }
      lines.push(`triggers: ${((p.triggers as unknown[]) ?? []).map(short).join(", ")}`);
      break;
    }
    case TYPE.build: {
      const spec = specOf(p);
      lines.push(
        `target:   ${spec.target}  (push: ${text(p.push)}, buildOnPreview: ${text(p.buildOnPreview)})`,
      );
      lines.push(`candidate: ${spec.candidate}`);
      for (const [k, v] of Object.entries(spec.buildArgs)) lines.push(`arg:      ${k}=${v}`);
      if (spec.platform !== undefined) lines.push(`platform: ${spec.platform}`);
      if (spec.cacheFrom.length > 0)
        lines.push(`cache:    ${spec.cacheFrom.join(", ")} (from, to)`);
      lines.push(`as docker build + push: ${dockerBuildCommand(spec)}`);
      break;
    }
    case TYPE.remoteImage:
      lines.push(`pull:     ${text(p.name)}`);
      break;
    case TYPE.tag:
      lines.push(`tag:      ${text(p.sourceImage)} → ${text(p.targetImage)}`);
      break;
    case TYPE.push: {
      const triggers = (p.triggers as Record<string, unknown> | undefined) ?? {};
      lines.push(`push:     ${text(p.name)}  (keepRemotely: ${text(p.keepRemotely)})`);
      lines.push(`after:    ${Object.keys(triggers).sort().join(", ")}`);
      if (p.authConfig !== undefined) lines.push(`auth:     ${text(p.authConfig)}`);
      break;
    }
    case TYPE.container: {
      const ports = (p.ports as { ip: string; external: number; internal: number }[]) ?? [];
      const names = ((resource.inputs.envs as string[] | undefined) ?? []).map(
        (e) => e.split("=")[0],
      );
      const envs = ((p.envs as unknown[]) ?? []).map((e, i) =>
        e === SECRET_MASK ? `${names[i]}=${SECRET_MASK}` : text(e),
      );
      const hc = p.healthcheck as { tests?: string[]; interval?: string } | undefined;
      lines.push(`run:      ${text(p.image)} as ${text(p.name)}, restart ${text(p.restart)}`);
      lines.push(`publish:  ${ports.map((x) => `${x.ip}:${x.external}:${x.internal}`).join(", ")}`);
      if (envs.length > 0) lines.push(`env:      ${envs.join(" ")}`);
      if (hc !== undefined)
        lines.push(`health:   every ${hc.interval}: ${(hc.tests ?? []).slice(1).join(" ")}`);
      break;
    }
    case TYPE.app:
      lines.push(...appSpecLines(p.spec));
      break;
    case TYPE.docr:
      lines.push(`registry: ${text(p.name)} (${text(p.subscriptionTierSlug)})`);
      break;
    case TYPE.credentials:
      lines.push(
        `registry: ${text(p.registryName)}, write ${text(p.write)}, expires after ${text(p.expirySeconds)} s`,
      );
      break;
    default:
      break;
  }
  return lines;
}

/** What stands in a secret's value in the printed spec: the `pulumi config` key that fills it. */
export function secretPlaceholder(configPath: string): string {
  return `<secret: pulumi config ${NAMESPACE}:${configPath}>`;
}

/**
 * The App spec as the plan prints it, usable as printed: doctl's YAML (snake_case), every secret env
 * `type: SECRET` with a placeholder naming the `pulumi config` key that fills it, the alert
 * destinations (which App Platform's spec has no field for) printed beside it, and the result of the
 * offline check: the spec's closed values (region, sizes, enums) against DigitalOcean's OpenAPI lists
 * (stacks/digitalocean.ts). Field names are checked by the tests (pipelinePlan.test.ts); what only the
 * API knows (`doctl apps spec validate` needs an account) is not claimed.
 */
export function appSpecLines(appSpec: unknown): string[] {
  const { spec, alertDestinations } = doctlAppSpec(appSpec);
  const secretEnvs = (component: unknown) => {
    const envs = (component as { envs?: Record<string, unknown>[] } | null)?.envs ?? [];
    for (const env of envs) {
      if (env.type !== "SECRET" && env.value !== SECRET_MASK) continue;
      env.type = "SECRET";
      env.value = secretPlaceholder(`${SECRETS_KEY}.${String(env.key)}`);
    }
  };
  secretEnvs(spec);
  for (const kind of ["services", "workers", "jobs"]) {
    for (const component of (spec[kind] as unknown[] | undefined) ?? []) secretEnvs(component);
  }
  const problems = appSpecEnumProblems(spec);
  const lines = [
    "app spec, doctl's YAML (checked offline: the field names and enums of App Platform's spec, from DigitalOcean's OpenAPI; the API's own validation is not run here):",
    indent(stringify(spec, { lineWidth: 0 }), "  "),
    problems.length === 0
      ? "  # checked: region, instance size and count, env, image and alert values are App Platform's"
      : `  # NOT App Platform's: ${problems.join("; ")}`,
  ];
  if (alertDestinations.length > 0) {
    lines.push(
      "alert destinations (not part of App Platform's spec: the provider assigns them after the deploy, POST /v2/apps/{app_id}/alerts/{alert_id}/destinations; emails must belong to members of the app's team):",
    );
    const byDest = new Map<string, { rules: string[]; destinations: unknown }>();
    for (const d of alertDestinations) {
      const key = JSON.stringify(d.destinations);
      const entry = byDest.get(key) ?? { rules: [], destinations: d.destinations };
      entry.rules.push(d.rule);
      byDest.set(key, entry);
    }
    const printed = [...byDest.values()].map(({ rules, destinations }) => {
      const dest = { ...(destinations as Record<string, unknown>) };
      const slack = (dest.slack_webhooks as { channel: string; url: unknown }[] | undefined) ?? [];
      if (slack.length > 0) {
        dest.slack_webhooks = slack.map((w) => ({
          channel: w.channel,
          url: secretPlaceholder(`${SECRETS_KEY}.${SLACK_KEY}.${w.channel}`),
        }));
      }
      return { rules, ...dest };
    });
    lines.push(indent(stringify(printed, { lineWidth: 0 }), "  "));
  }
  return lines;
}

/** The order steps are listed in: the release's data flow (name suffixes after the parent's name). */
const FLOW = [
  "",
  "registry",
  "write",
  "checks",
  "preflight",
  "lint",
  "base",
  "drift",
  "builder",
  "test",
  "runtime",
  "smoke",
  "scan",
  "image",
  "run",
  "source",
  "stack",
  "promote",
  "rollback",
  "resolve",
  "retag",
  "deploy",
  "app",
  "container",
  "verify",
  "health",
  "report",
];

function flowRank(resource: Recorded, parent: Recorded | undefined): number {
  const prefix = parent === undefined ? "" : `${parent.name}-`;
  const suffix =
    parent !== undefined && resource.name === parent.name
      ? ""
      : resource.name.startsWith(prefix)
        ? resource.name.slice(prefix.length)
        : resource.name.replace(/^slipway-/, "");
  const rank = FLOW.indexOf(suffix);
  return rank === -1 ? FLOW.length : rank;
}

function human(run: MockRun, header: string[], outputs: Record<string, unknown>): string {
  const out: string[] = [...header, ""];
  const children = (urn: string) => {
    const parent = run.resources.find((r) => r.urn === urn);
    return run.resources
      .filter((r) => r.parentUrn === urn)
      .sort(
        (a, b) =>
          flowRank(a, parent) - flowRank(b, parent) ||
          (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
      );
  };
  const nameOf = new Map(run.resources.map((r) => [r.urn, r.name]));
  const visit = (resource: Recorded, depth: number) => {
    const pad = "  ".repeat(depth);
    out.push(`${pad}${resource.name}  [${resource.type}]`);
    for (const line of details(resource)) out.push(indent(line, `${pad}    `));
    // What the engine makes it wait for: `dependsOn` and the resources whose outputs it takes.
    const waits = resource.dependencies.map((urn) => nameOf.get(urn) ?? urn).sort();
    if (resource.custom && waits.length > 0) out.push(`${pad}    waits:    ${waits.join(", ")}`);
    for (const child of children(resource.urn)) visit(child, depth + 1);
  };
  for (const root of run.resources.filter((r) => r.parentUrn === "")) visit(root, 0);
  if (run.calls.length > 0) {
    out.push("", "reads:");
    for (const call of run.calls) out.push(`  ${call.token} ${JSON.stringify(call.inputs)}`);
  }
  out.push("", "outputs:");
  for (const [key, value] of Object.entries(outputs)) {
    if (value !== undefined) out.push(`  ${key}: ${text(value)}`);
  }
  return out.join("\n") + "\n";
}

function json(run: MockRun): string {
  const byUrn = new Map(run.resources.map((r) => [r.urn, r]));
  const resources = run.resources
    .map((r) => ({
      type: r.type,
      name: r.name,
      parent: byUrn.get(r.parentUrn)?.name ?? null,
      inputs: r.printable,
    }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.type < b.type ? -1 : 1));
  return JSON.stringify({ resources }, null, 2) + "\n";
}

/** A stack's config as the program is given it offline. */
export interface PlannedConfig {
  /** `slipway:<key>` → text (JSON for objects), secrets completed with placeholders. */
  config: Record<string, string>;
  secretKeys: string[];
  /** The secret values (placeholders or clear values of the file): printed as `[secret]`. */
  secretValues: string[];
  /** The secrets that got a placeholder (`secrets.ODOO_ADMIN_PASSWD`). */
  placeholders: string[];
}

/**
 * Pulumi.<stack>.yaml's config, with `--set` overrides applied and the secrets the plan cannot read
 * replaced by placeholders.
 *
 * @throws UsageError for a malformed `--set`.
 */
export function loadStackConfig(
  stack: string,
  sets: readonly string[] = [],
  unsets: readonly string[] = [],
): PlannedConfig {
  const file = join(ROOT, `Pulumi.${stack}.yaml`);
  const document = (parse(readFileSync(file, "utf8")) ?? {}) as {
    config?: Record<string, unknown>;
  };
  const config: Record<string, unknown> = { ...(document.config ?? {}) };
  for (const path of unsets) unsetPath(config, path);
  for (const assignment of sets) {
    const eq = assignment.indexOf("=");
    if (eq <= 0) throw new UsageError(`--set ${assignment}: expected path=value`);
    setPath(config, assignment.slice(0, eq), assignment.slice(eq + 1));
  }
  const offline = withOfflineSecrets(pulumiConfig(config));
  const secretsJson = offline.config[`${NAMESPACE}:secrets`];
  return {
    ...offline,
    secretValues: secretsJson === undefined ? [] : leaves(JSON.parse(secretsJson)),
  };
}

// ---- main ----------------------------------------------------------------------------------------

export async function main(argv: string[]): Promise<number> {
  let values: { stack?: string; set?: string[]; unset?: string[]; json?: boolean; help?: boolean };
  try {
    values = parseArgs({
      args: argv,
      options: {
        stack: { type: "string", short: "s" },
        set: { type: "string", multiple: true },
        unset: { type: "string", multiple: true },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    process.stderr.write(`usage error: ${(err as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (values.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const stack = values.stack;
  const file = stack === undefined ? "" : join(ROOT, `Pulumi.${stack}.yaml`);
  if (stack === undefined || !/^[\w.-]+$/.test(stack) || !existsSync(file)) {
    process.stderr.write(
      `usage error: ${stack === undefined ? "--stack is required" : `no stack file Pulumi.${stack}.yaml`}\n\n${USAGE}\n`,
    );
    return 2;
  }

  let offline: PlannedConfig;
  try {
    offline = loadStackConfig(stack, values.set ?? [], values.unset ?? []);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`usage error: ${err.message}\n\n${USAGE}\n`);
    return 2;
  }
  const sources = promotionSources(offline.config);
  const { run, error, outputs } = await runUnderMocks(slipwayProgram(), {
    stack,
    config: offline.config,
    secretKeys: offline.secretKeys,
    secretValues: offline.secretValues,
    stacks: Object.fromEntries(sources.map((s) => [s.name, s.outputs])),
  });
  if (error !== undefined) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`${message}\n`);
    return message.startsWith("CONFIG_INVALID") ? 2 : 1;
  }

  if (values.json === true) {
    process.stdout.write(json(run));
    return 0;
  }
  const o = outputs ?? {};
  const header = [
    `Slipway plan: stack ${stack} (environment ${text(o.environment)}, target ${text(o.target)}), mode ${text(o.mode)} of ${text(o.releaseTag)}`,
    `Offline: Pulumi's mock runtime, no engine, no network. Digests, IDs and URLs that providers return at \`pulumi up\` are placeholders here (sha256 of the inputs).`,
    ...(offline.placeholders.length > 0
      ? [
          `Secrets not readable offline, planned with placeholders (printed ${SECRET_MASK}): ${offline.placeholders.join(", ")}`,
        ]
      : []),
    ...sources.map(
      (s) =>
        `Promotes from stack ${s.name}: its outputs (the released digest, version, report) are read by a StackReference at \`pulumi up\`; placeholders here.`,
    ),
    ...run.warnings.map((w) => `warning: ${w}`),
    `${run.resources.length} resources:`,
  ];
  process.stdout.write(human(run, header, o));
  return 0;
}

/**
 * The stack a config promotes from (`release.promoteFrom`), with placeholder outputs: the offline plan
 * has no backend to read them from.
 */
function promotionSources(
  config: Record<string, string>,
): { name: string; outputs: Record<string, unknown> }[] {
  let release: { promoteFrom?: unknown; pin?: unknown } = {};
  try {
    release = JSON.parse(config[`${NAMESPACE}:release`] ?? "{}") as typeof release;
  } catch {
    return [];
  }
  if (typeof release.promoteFrom !== "string") return [];
  const from = release.promoteFrom;
  const name = from.includes("/") ? from : `${ORGANIZATION}/${PROJECT}/${from}`;
  return [
    {
      name,
      outputs: {
        releaseTag: `<${from}'s release>`,
        imageDigest: fakeDigest(`released by ${name}`),
        repository: `<${from}'s repository>`,
        sourceCommit: `<${from}'s commit>`,
        releaseReport: { verdict: "READY", blockers: [], report: "" },
      },
    },
  ];
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
