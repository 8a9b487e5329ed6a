/**
 * The recording mock harness: runs a Pulumi program under `pulumi.runtime.setMocks` (no engine, no
 * provider, no network), records every resource registration (type, name, inputs, parent, URN) and
 * every invoke, and answers with deterministic fake outputs (digests are hashes of the inputs: two runs
 * of the same config give identical inputs).
 *
 * Used by the unit tests, `npm run plan` and the evaluation benchmark.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import { stringify } from "yaml";
import { verdictLine, type GateResult } from "../../gates/result";

export const PROJECT = "slipway";
/** The organization the mocked backend runs the stacks in. */
export const ORGANIZATION = "acme-org";

/** One registered resource, as the engine would have seen it. */
export interface Recorded {
  type: string;
  name: string;
  /** Custom resource (a provider's) or component. */
  custom: boolean;
  /** Inputs with secret markers removed (the values themselves). */
  inputs: Record<string, unknown>;
  /** Inputs with every secret value replaced by `[secret]`: what may be printed. */
  printable: Record<string, unknown>;
  /** Paths (`environment.SLIPWAY_REGISTRY_AUTH`) of the inputs that arrived as secrets. */
  secretPaths: string[];
  /** URN the mock monitor gave it: `urn:pulumi:<stack>::slipway::<Parent$...$Type>::<name>`. */
  urn: string;
  /** The parent's URN ("" for a root resource). */
  parentUrn: string;
  /**
   * URNs of the resources it depends on, as the SDK sent them: `dependsOn` and the resources whose
   * outputs its inputs carry.
   */
  dependencies: string[];
  /** The `ignoreChanges` resource option, as the engine receives it. */
  ignoreChanges: string[];
  /** The `retainOnDelete` resource option. */
  retainOnDelete: boolean;
  /** What the provider stored: the inputs and the outputs the model returned (App: encrypted envs). */
  state: Record<string, unknown>;
}

/** An invoke (data source call). */
export interface RecordedCall {
  token: string;
  inputs: Record<string, unknown>;
}

/** The registry token the mocked DigitalOcean credentials hold (a secret: never printed). */
export const MOCK_REGISTRY_TOKEN = "mock-registry-token";
const MOCK_AUTH = Buffer.from(`${MOCK_REGISTRY_TOKEN}:${MOCK_REGISTRY_TOKEN}`).toString("base64");
/** The mocked `dockerCredentials`: a Docker config.json document, as DigitalOcean returns it. */
export const MOCK_DOCKER_CONFIG = JSON.stringify({
  auths: { "registry.digitalocean.com": { auth: MOCK_AUTH } },
});
/** Values that are secrets in every mocked run. */
const MOCK_SECRETS = [MOCK_REGISTRY_TOKEN, MOCK_AUTH];

/** A deterministic stand-in digest: `sha256:` + the hash of `seed`. */
export function fakeDigest(seed: string): string {
  return `sha256:${createHash("sha256").update(seed).digest("hex")}`;
}

/** What the mocked report gate prints: the `--print-summary` line of a READY release. */
export const READY_SUMMARY = JSON.stringify({ readiness: "READY", blockers: [], blockerCodes: [] });

/** The digest a gate command judges: `--digest`, or the digest of a pinned `--image`. */
function subjectOf(create: string): string | undefined {
  return (
    / --digest (sha256:[a-f0-9]{64})/.exec(create)?.[1] ??
    / --image \S+@(sha256:[a-f0-9]{64})/.exec(create)?.[1]
  );
}

/**
 * What a mocked gate command prints, as the real CLI does with `--print-verdict` (gates/cli.ts): a
 * human line, then the verdict line with the judged digest and the gate's value: the pin's digest for
 * `resolve`, the promoted digest for `promote`, the summary line for `report`.
 */
export function defaultStdout(create: string): string {
  const gate = /slipway-gate (\S+)/.exec(create)?.[1] ?? "command";
  const resolve = / resolve --repository (\S+) --ref (\S+)/.exec(create);
  let value: string | undefined;
  if (resolve !== null) value = fakeDigest(`${resolve[1]}@${resolve[2]}`);
  if (gate === "promote") value = subjectOf(create);
  if (gate === "report") value = READY_SUMMARY;
  return `PASS ${gate}: mocked\n${verdictLine(gatePass(gate, value), subjectOf(create))}\n`;
}

/** A passing result of `gate` (for the verdict line). */
function gatePass(gate: string, value: string | undefined): GateResult {
  return {
    gate,
    verdict: "pass",
    summary: "mocked",
    details: [],
    findings: [],
    figures: {},
    timings: {},
    ...(value === undefined ? {} : { value }),
  };
}

function isSecretMarker(value: unknown): value is { value: unknown } {
  return (
    value !== null &&
    typeof value === "object" &&
    (value as Record<string, unknown>)[specialSigKey] === specialSecretSig
  );
}

/** Removes the wire-level secret markers; reports where they were. */
function unwrap(value: unknown, path: string, secrets: string[]): unknown {
  if (isSecretMarker(value)) {
    secrets.push(path);
    return unwrap(value.value, path, []);
  }
  if (Array.isArray(value)) return value.map((v, i) => unwrap(v, `${path}[${i}]`, secrets));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = unwrap(v, path === "" ? k : `${path}.${k}`, secrets);
    }
    return out;
  }
  return value;
}

/** What a secret value looks like in printed inputs. */
export const SECRET_MASK = "[secret]";

function containsAny(text: string, sentinels: readonly string[]): boolean {
  return sentinels.some((s) => s.length > 0 && text.includes(s));
}

/** Replaces every string leaf that contains a secret value; says whether it replaced any. */
function maskLeaves(
  value: unknown,
  sentinels: readonly string[],
): { value: unknown; masked: boolean } {
  if (typeof value === "string") {
    return containsAny(value, sentinels)
      ? { value: SECRET_MASK, masked: true }
      : { value, masked: false };
  }
  if (Array.isArray(value)) {
    const items = value.map((v) => maskLeaves(v, sentinels));
    return { value: items.map((i) => i.value), masked: items.some((i) => i.masked) };
  }
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    let masked = false;
    for (const [k, v] of Object.entries(value)) {
      const m = maskLeaves(v, sentinels);
      out[k] = m.value;
      masked ||= m.masked;
    }
    return { value: out, masked };
  }
  return { value, masked: false };
}

/**
 * The inputs as they may be printed: the secret values in them become `[secret]`. Pulumi marks a
 * whole top-level input secret when any part of it is (the App `spec`, a command's `environment`), so
 * within a secret input only the leaves that hold a known secret value are masked, the rest of the
 * spec stays readable; a secret input with no known secret value in it is masked whole.
 */
function printable(
  inputs: Record<string, unknown>,
  secretPaths: readonly string[],
  sentinels: readonly string[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(inputs)) {
    const masked = maskLeaves(value, sentinels);
    const secret = secretPaths.some(
      (p) => p === key || p.startsWith(`${key}.`) || p.startsWith(`${key}[`),
    );
    out[key] = secret && !masked.masked ? SECRET_MASK : masked.value;
  }
  return out;
}

function strings(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value ?? null);
}

/** Pulumi's wire sentinel for a value not known yet (`runtime/rpc.ts` `unknownValue`). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** What the provider models need besides the resource's inputs. */
interface ProviderContext {
  commandStdout: (create: string, name: string) => string;
  preview: boolean;
  /** Other stacks' outputs, by fully qualified name (`organization/project/stack`). */
  stacks: Record<string, Record<string, unknown>>;
  /** This stack's fully qualified name, and the outputs its previous `up` left. */
  self: string;
  previous: Record<string, unknown>;
  /** Stands for the build context's files: a new value is a changed file (docker-build `contextHash`). */
  contextVersion: string;
  /** What the real providers would have done outside the program (builds, pushes, runs, deploys). */
  effects: string[];
}

/**
 * docker-build `Image` (pulumi-docker-build v0.0.22, `provider/internal/image.go`):
 * - `digest` is BuildKit's exporter digest (`Create`: `state.Digest = d`): with `push: true` the
 *   manifest digest IN THE REGISTRY, and `ref` is `<tag>@<digest>` (`addDigest`); for a `load`-only
 *   build it is a digest no registry knows, and `Read` never checks such an image
 *   (`if !state.isExported() { // Nothing was pushed -- all done.`): it is modelled as `local:` seeded.
 * - `buildOnPreview` defaults to true (`ImageArgs.Annotate`); a preview then builds and still exports
 *   cache manifests (`export.go`: only registry pushes are disabled in preview). With it false a
 *   preview builds nothing, and a create's `digest` is unknown.
 * - `contextHash` is the hash of the build context's files (`context.go` `hashBuildContext`).
 */
function dockerBuildImage(inputs: Record<string, unknown>, ctx: ProviderContext) {
  const plain = unwrap(inputs, "", []) as Record<string, unknown>;
  // Credentials are no part of what is built.
  const rest: Record<string, unknown> = { ...plain };
  delete rest.registries;
  const seed = JSON.stringify({ ...rest, context: ctx.contextVersion });
  const tags = (plain.tags as string[] | undefined) ?? [];
  const cacheTo = ((plain.cacheTo as { registry?: { ref?: string } }[] | undefined) ?? []).map(
    (c) => c.registry?.ref,
  );
  const contextHash = fakeDigest(`context:${ctx.contextVersion}`);
  if (ctx.preview) {
    if (plain.buildOnPreview !== false) {
      ctx.effects.push(`build in preview ${tags[0] ?? ""}`);
      for (const ref of cacheTo) ctx.effects.push(`cache export in preview ${ref ?? ""}`);
    }
    return { digest: UNKNOWN, ref: UNKNOWN, contextHash };
  }
  const pushed = plain.push === true;
  const digest = fakeDigest(`${pushed ? "manifest" : "local"}:${seed}`);
  ctx.effects.push(`build ${tags[0] ?? ""}`);
  if (pushed) ctx.effects.push(`push ${tags[0] ?? ""}@${digest}`);
  for (const ref of cacheTo) ctx.effects.push(`cache export ${ref ?? ""}`);
  return { digest, ref: `${tags[0] ?? ""}@${digest}`, contextHash };
}

/**
 * `command:local:Command` (pulumi-command v1.2.1, `provider/pkg/provider/local/command.go`): nothing
 * runs in preview (`// If in preview, don't run the command.`) and `stdout` is unknown there; outside
 * preview `create` runs and its stdout is recorded.
 */
function localCommand(name: string, inputs: Record<string, unknown>, ctx: ProviderContext) {
  const create = strings(unwrap(inputs.create, "", []));
  if (ctx.preview) return { stdout: UNKNOWN, stderr: UNKNOWN };
  ctx.effects.push(`run ${create}`);
  return { stdout: ctx.commandStdout(create, name), stderr: "" };
}

/**
 * `digitalocean:index/app:App` (terraform-provider-digitalocean `digitalocean/app/app_spec.go`
 * `flattenAppEnvs`: `r["value"] = env.Value`): App Platform returns a SECRET env's value encrypted
 * (`EV[1:...]`) and the provider stores what it returns, so the state's spec differs from the program's
 * plaintext (terraform-provider-digitalocean #514, #1603; pulumi-digitalocean #624). A spec change is a
 * new deployment (`resource_app.go` `resourceDigitalOceanAppUpdate`: `Apps.Update` +
 * `WaitForAppDeployment`).
 */
function appPlatformApp(name: string, inputs: Record<string, unknown>, ctx: ProviderContext) {
  const spec = (unwrap(inputs.spec, "", []) ?? {}) as Record<string, unknown> & { name?: string };
  const appName = spec.name ?? name;
  if (!ctx.preview) ctx.effects.push(`deploy ${appName}`);
  return {
    spec: encryptSecretEnvs(spec),
    liveUrl: `https://${appName}-mock.ondigitalocean.app`,
    defaultIngress: `https://${appName}-mock.ondigitalocean.app`,
    activeDeploymentId: fakeDigest(`deployment:${JSON.stringify(spec)}`).slice(7, 43),
    appUrn: `do:app:${appName}`,
  };
}

/** The spec as App Platform returns it: every SECRET env value encrypted (`EV[1:<ciphertext>]`). */
export function encryptSecretEnvs(spec: unknown): unknown {
  if (Array.isArray(spec)) return spec.map(encryptSecretEnvs);
  if (spec === null || typeof spec !== "object") return spec;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(spec)) out[k] = encryptSecretEnvs(v);
  if (out.type === "SECRET" && typeof out.value === "string" && !out.value.startsWith("EV[")) {
    out.value = `EV[1:${createHash("sha256").update(out.value).digest("base64").slice(0, 24)}]`;
  }
  return out;
}

/**
 * `pulumi:pulumi:StackReference` (@pulumi/pulumi `stackReference.js`: a read whose state must carry
 * `outputs`; `requireOutput` throws for a missing key). A stack the backend does not have fails the read.
 */
function stackReference(inputs: Record<string, unknown>, ctx: ProviderContext) {
  const stack = strings(inputs.name);
  const outputs = stack === ctx.self ? ctx.previous : ctx.stacks[stack];
  if (outputs === undefined) throw new Error(`unknown stack "${stack}"`);
  return { name: stack, outputs, secretOutputNames: [] };
}

/** The fake outputs a provider would have returned, by resource type. */
function fakeOutputs(
  type: string,
  name: string,
  inputs: Record<string, unknown>,
  ctx: ProviderContext,
): Record<string, unknown> {
  switch (type) {
    case "command:local:Command":
      return localCommand(name, inputs, ctx);
    case "docker-build:index:Image":
      return dockerBuildImage(inputs, ctx);
    case "pulumi:pulumi:StackReference":
      return stackReference(inputs, ctx);
    case "docker:index/remoteImage:RemoteImage": {
      const ref = strings(inputs.name);
      if (!ctx.preview) ctx.effects.push(`pull ${ref}`);
      return {
        repoDigest: ref.includes("@") ? ref : `${ref}@${fakeDigest(`pull:${ref}`)}`,
        imageId: fakeDigest(`image-id:${ref}`),
      };
    }
    case "docker:index/container:Container":
      if (!ctx.preview) ctx.effects.push(`run container ${strings(inputs.name)}`);
      return {};
    case "digitalocean:index/containerRegistry:ContainerRegistry":
      return {
        endpoint: `registry.digitalocean.com/${strings(inputs.name)}`,
        serverUrl: "registry.digitalocean.com",
        region: "fra1",
        createdAt: "2024-01-01T00:00:00Z",
        storageUsageBytes: 0,
      };
    case "digitalocean:index/app:App":
      return appPlatformApp(name, inputs, ctx);
    default:
      return {};
  }
}

/** The answer to an invoke. */
function fakeCall(token: string, inputs: Record<string, unknown>): Record<string, unknown> {
  if (token === "digitalocean:index/getContainerRegistry:getContainerRegistry") {
    const name = strings(inputs.name);
    return {
      id: name,
      name,
      endpoint: `registry.digitalocean.com/${name}`,
      serverUrl: "registry.digitalocean.com",
      region: "fra1",
      subscriptionTierSlug: "basic",
      createdAt: "2024-01-01T00:00:00Z",
      storageUsageBytes: 0,
    };
  }
  return {};
}

export interface MockRunOptions {
  /** Stack name (`dev`, `prod`, `local`). */
  stack: string;
  /** The stack's config as Pulumi passes it: `slipway:<key>` → text (JSON for objects). */
  config?: Record<string, string>;
  /** Config keys holding secrets (`slipway:secrets`). */
  secretKeys?: string[];
  /** What a command resource prints. Default {@link defaultStdout}. */
  commandStdout?: (create: string, name: string) => string;
  /** Secret values the program is given: printed inputs show them as `[secret]`. */
  secretValues?: string[];
  /** Make a resource fail (as a failed gate or provider error would): return a message. */
  fail?: (type: string, name: string) => string | undefined;
  /** Run as `pulumi preview` (the providers' preview behaviour, see the models above). Default false. */
  preview?: boolean;
  /** Other stacks' outputs for StackReferences, by name (`organization/slipway/dev`). Default none. */
  stacks?: Record<string, Record<string, unknown>>;
  /** The outputs this stack's previous `up` exported (its StackReference to itself). Default none. */
  previous?: Record<string, unknown>;
  /** Stands for the build context's content: change it to model a changed file. Default `v1`. */
  contextVersion?: string;
}

/** The result of one program run under mocks. */
export class MockRun {
  readonly resources: Recorded[] = [];
  readonly calls: RecordedCall[] = [];
  /** Rejections seen while a resource was made to fail (see `MockRunOptions.fail`). */
  readonly rejections: string[] = [];
  /**
   * What the real providers would have done (`build ...`, `push ...`, `cache export ...`, `run <command>`,
   * `deploy <app>`, `pull ...`): the side effects of this run, as if every resource were created.
   */
  readonly effects: string[] = [];
  /** What the program logged with `pulumi.log.warn` (the config's notices), in order. */
  readonly warnings: string[] = [];

  /** The resource of that type and name; throws naming what exists when there is none. */
  find(type: string, name: string): Recorded {
    const found = this.resources.find((r) => r.type === type && r.name === name);
    if (found === undefined) {
      const names = this.resources.map((r) => `${r.type} ${r.name}`).join("\n  ");
      throw new Error(`no ${type} named ${name}; registered:\n  ${names}`);
    }
    return found;
  }

  /** The resource of that type and name, or undefined. */
  get(type: string, name: string): Recorded | undefined {
    return this.resources.find((r) => r.type === type && r.name === name);
  }

  /** Every resource of that type. */
  all(type: string): Recorded[] {
    return this.resources.filter((r) => r.type === type);
  }

  /** The resource's parent, or undefined for a root. */
  parentOf(resource: Recorded): Recorded | undefined {
    return this.resources.find((r) => r.urn === resource.parentUrn);
  }

  /**
   * Whether `resource` waits for `other`: `other`, or a component that holds it, is among the
   * dependencies the SDK registered `resource` with.
   */
  dependsOn(resource: Recorded, other: Recorded): boolean {
    const holders = new Set<string>();
    for (let r: Recorded | undefined = other; r !== undefined; r = this.parentOf(r)) {
      holders.add(r.urn);
    }
    return resource.dependencies.some((urn) => holders.has(urn));
  }
}

/** The value of an Output (resolved under mocks). */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise<T>((resolve) => {
    output.apply((value) => {
      resolve(value);
      return value;
    });
  });
}

/** The fields of the mock monitor's register request the harness reads. */
interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getDependenciesList(): string[];
  getIgnorechangesList(): string[];
  getRetainondelete(): boolean | undefined;
}

interface MockMonitorLike {
  registerResource(req: RegisterRequest, callback: (err: unknown, res: unknown) => void): unknown;
  readResource(
    req: Pick<RegisterRequest, "getType" | "getName" | "getParent" | "getDependenciesList">,
    callback: (err: unknown, res: unknown) => void,
  ): unknown;
  resources: Map<string, { urn: string }>;
}

/** Waits until the runtime has no RPC outstanding (every registration and output done). */
async function settle(run: MockRun): Promise<void> {
  const runtime = pulumi.runtime as unknown as { waitForRPCs?: () => Promise<void> };
  if (typeof runtime.waitForRPCs === "function") {
    await runtime.waitForRPCs();
    return;
  }
  await drain(run);
}

/**
 * Lets the event loop turn until nothing new registers for a while (no timers: the mocks answer in
 * the same process). Used when a resource fails: what depends on it never completes its registration,
 * so the runtime's RPC queue never drains.
 */
async function drain(run: MockRun): Promise<void> {
  let quiet = 0;
  let seen = -1;
  for (let round = 0; round < 5000 && quiet < 200; round++) {
    await new Promise((resolve) => setImmediate(resolve));
    quiet = run.resources.length === seen ? quiet + 1 : 0;
    seen = run.resources.length;
  }
}

/** One program run: what it registered, and what it returned or threw. */
export interface RunOutcome<T> {
  run: MockRun;
  /** What the program returned (its stack outputs, Outputs included). */
  result?: Awaited<T>;
  /** The stack outputs, resolved (not for runs where a resource was made to fail). */
  outputs?: Record<string, unknown>;
  /** What the program threw (a config error), if it did. */
  error?: unknown;
}

/**
 * Runs `program` under mocks with the given stack config and records what it registers. What the
 * program throws (a config error) is returned as `error`, with what was registered until then.
 */
export async function runUnderMocks<T>(
  program: () => T,
  options: MockRunOptions,
): Promise<RunOutcome<T>> {
  const run = new MockRun();
  const ctx: ProviderContext = {
    commandStdout: options.commandStdout ?? defaultStdout,
    preview: options.preview ?? false,
    stacks: options.stacks ?? {},
    self: `${ORGANIZATION}/${PROJECT}/${options.stack}`,
    previous: options.previous ?? {},
    contextVersion: options.contextVersion ?? "v1",
    effects: run.effects,
  };
  const parents = new Map<string, string>();
  const dependencies = new Map<string, string[]>();
  const resourceOptions = new Map<string, { ignoreChanges: string[]; retainOnDelete: boolean }>();
  const sentinels = [...MOCK_SECRETS, ...(options.secretValues ?? [])];
  await pulumi.runtime.setMocks(
    {
      newResource(args: pulumi.runtime.MockResourceArgs): pulumi.runtime.MockResourceResult {
        const inputs = (args.inputs ?? {}) as Record<string, unknown>;
        const secretPaths: string[] = [];
        const values = unwrap(inputs, "", secretPaths) as Record<string, unknown>;
        run.resources.push({
          type: args.type,
          name: args.name,
          custom: args.custom === true,
          inputs: values,
          printable: printable(values, secretPaths, sentinels),
          secretPaths,
          urn: "",
          parentUrn: parents.get(`${args.type}::${args.name}`) ?? "",
          dependencies: [],
          ignoreChanges: [],
          retainOnDelete: false,
          state: {},
        });
        const recorded = run.resources[run.resources.length - 1];
        const failure = options.fail?.(args.type, args.name);
        if (failure !== undefined) throw new Error(failure);
        const state = { ...inputs, ...fakeOutputs(args.type, args.name, inputs, ctx) };
        recorded.state = unwrap(state, "", []) as Record<string, unknown>;
        return { id: args.custom === true ? `${args.name}-id` : undefined, state };
      },
      call(args: pulumi.runtime.MockCallArgs): pulumi.runtime.MockCallResult {
        const inputs = (args.inputs ?? {}) as Record<string, unknown>;
        run.calls.push({ token: args.token, inputs });
        return fakeCall(args.token, inputs);
      },
    },
    PROJECT,
    options.stack,
    ctx.preview,
    ORGANIZATION,
  );
  // The parent of each registration (the mocks' newResource is not told it).
  const monitor = pulumi.runtime.getMonitor() as unknown as MockMonitorLike;
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) => {
    parents.set(`${req.getType()}::${req.getName()}`, req.getParent());
    dependencies.set(`${req.getType()}::${req.getName()}`, [...req.getDependenciesList()].sort());
    resourceOptions.set(`${req.getType()}::${req.getName()}`, {
      ignoreChanges: [...req.getIgnorechangesList()],
      retainOnDelete: req.getRetainondelete() === true,
    });
    return register(req, callback);
  };
  // Reads (a StackReference) carry a parent too.
  const read = monitor.readResource.bind(monitor);
  monitor.readResource = (req, callback) => {
    parents.set(`${req.getType()}::${req.getName()}`, req.getParent());
    dependencies.set(`${req.getType()}::${req.getName()}`, [...req.getDependenciesList()].sort());
    return read(req, callback);
  };
  pulumi.runtime.setAllConfig(options.config ?? {}, options.secretKeys ?? []);

  let result: Awaited<T> | undefined;
  let error: unknown;
  // A failing resource makes everything that depends on it reject: collect those rejections (instead
  // of the test runner's handler seeing them) while the run lasts.
  const failing = options.fail !== undefined;
  const saved = failing ? process.listeners("unhandledRejection") : [];
  const collect = (reason: unknown) => run.rejections.push(String(reason));
  if (failing) {
    process.removeAllListeners("unhandledRejection");
    process.on("unhandledRejection", collect);
  }
  // The program's warnings are recorded, not printed (the plan prints them; tests assert on them).
  const log = pulumi.log as { warn: (message: string) => Promise<void> };
  const warn = log.warn;
  log.warn = (message: string) => {
    run.warnings.push(message);
    return Promise.resolve();
  };
  try {
    try {
      result = await program();
    } catch (err) {
      error = err;
    }
    if (failing) await drain(run);
    else await settle(run);
  } finally {
    log.warn = warn;
    if (failing) {
      process.removeListener("unhandledRejection", collect);
      for (const listener of saved) process.on("unhandledRejection", listener);
    }
  }
  const urns = [...(monitor.resources as Map<string, unknown>).keys()];
  for (const resource of run.resources) {
    const suffix = `::${resource.name}`;
    resource.urn =
      urns.find(
        (urn) => urn.endsWith(suffix) && urn.split("::")[2]?.split("$").pop() === resource.type,
      ) ?? "";
    resource.parentUrn = parents.get(`${resource.type}::${resource.name}`) ?? resource.parentUrn;
    resource.dependencies = dependencies.get(`${resource.type}::${resource.name}`) ?? [];
    const opts = resourceOptions.get(`${resource.type}::${resource.name}`);
    resource.ignoreChanges = opts?.ignoreChanges ?? [];
    resource.retainOnDelete = opts?.retainOnDelete ?? false;
  }
  if (failing) {
    // Forget the registrations that will never complete (the runtime would report them as leaked
    // promises when the process exits).
    await pulumi.runtime.setMocks({
      newResource: () => ({ id: undefined, state: {} }),
      call: () => ({}),
    });
  }
  if (error !== undefined) return { run, error };
  // In preview, outputs that depend on what providers return stay unknown: they never resolve.
  const outputs = failing || ctx.preview ? undefined : await resolveAll(result);
  return { run, result, ...(outputs === undefined ? {} : { outputs }) };
}

/** An object of stack outputs with every Output resolved. */
export async function resolveAll(result: unknown): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  if (result === null || typeof result !== "object") return out;
  for (const [key, value] of Object.entries(result)) {
    out[key] = pulumi.Output.isInstance(value) ? await valueOf(value) : value;
  }
  return out;
}

/** A stack config object (`{ app: {...}, release: {...} }`) as Pulumi passes it to a program. */
export function toPulumiConfig(config: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(config)) {
    out[`${PROJECT}:${key}`] = typeof value === "string" ? value : JSON.stringify(value);
  }
  return out;
}

// ---- stack configs for the tests ---------------------------------------------------------------

/** A real published digest of python:3.11-slim-bullseye (seen pinned in public Dockerfiles). */
export const BASE_DIGEST =
  "sha256:9e25f400253a5fa3191813d6a67eb801ca1e6f012b3bd2588fa6920b59e3eba6";

const app = {
  name: "odoo",
  context: "examples/odoo",
  port: 8069,
  healthPath: "/web/health",
  versionCommand: "odoo --version",
  expectVersion: "Odoo Server 16.0",
  requiredPaths: ["/mnt/extra-addons"],
  requiredImports: ["odoo"],
};

/** A complete, valid config per environment, shaped like the stack files. */
export function stackConfig(environment: "dev" | "prod" | "local"): Record<string, unknown> {
  const common = {
    environment,
    app,
    tests: {
      command: "pytest custom_addons/ --cov=custom_addons",
      coverageMin: 75,
      env: { POSTGRES_HOST: "db", POSTGRES_USER: "odoo" },
    },
    smoke: { maxSize: "2GB" },
  };
  if (environment === "local") {
    return {
      ...common,
      baseImage: `127.0.0.1:5000/python:3.11-slim-bullseye@${BASE_DIGEST}`,
      release: { version: "v1.4.2" },
      scan: { severity: ["HIGH", "CRITICAL"], report: "tests/fixtures/trivy/clean.json" },
      registry: { name: "local", server: "127.0.0.1:5000" },
      deploy: {
        target: "local",
        localPort: 18069,
        env: { LOG_LEVEL: "info" },
        secretEnv: ["ODOO_ADMIN_PASSWD"],
      },
      secrets: { ODOO_ADMIN_PASSWD: "local-admin-password" },
    };
  }
  return {
    ...common,
    baseImage: `python:3.11-slim-bullseye@${BASE_DIGEST}`,
    release: { version: environment === "prod" ? "v1.4.2" : "v1.4.2-dev.3" },
    scan: { severity: ["HIGH", "CRITICAL"] },
    registry: { name: "acme", create: environment === "dev" },
    deploy: {
      target: "app-platform",
      region: "fra",
      instanceCount: environment === "prod" ? 2 : 1,
      env: { LOG_LEVEL: "info" },
      secretEnv: ["ODOO_ADMIN_PASSWD", "POSTGRES_PASSWORD"],
      ...(environment === "prod"
        ? {
            database: { clusterName: "acme-pg", dbName: "odoo", dbUser: "odoo" },
            preDeployCommand: "odoo -u all --stop-after-init",
          }
        : {}),
      alerts: {
        emails: ["ops@example.com"],
        slackChannels: environment === "prod" ? ["releases"] : [],
      },
    },
    secrets: {
      ODOO_ADMIN_PASSWD: `${environment}-admin-password`,
      POSTGRES_PASSWORD: `${environment}-pg-password`,
      ...(environment === "prod"
        ? { slack: { releases: "https://hooks.slack.com/services/T000/B000/XXXX" } }
        : {}),
    },
  };
}

/** Deep-merges `patch` into `base` (objects merge, everything else replaces). */
export function merge(
  base: Record<string, unknown>,
  patch: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    const current = out[key];
    out[key] =
      value !== null &&
      typeof value === "object" &&
      !Array.isArray(value) &&
      current !== null &&
      typeof current === "object" &&
      !Array.isArray(current)
        ? merge(current as Record<string, unknown>, value as Record<string, unknown>)
        : value;
  }
  return out;
}

/** Every string leaf of a value (the secret values of a `secrets` object). */
export function leaves(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(leaves);
  if (value !== null && typeof value === "object") return Object.values(value).flatMap(leaves);
  return [];
}

/** The Slipway program: index.ts's exported function, exactly what Pulumi calls. */
export type SlipwayProgram = () => Record<string, unknown> | Promise<Record<string, unknown>>;

/** Loads index.ts's program function. */
export function slipwayProgram(): SlipwayProgram {
  return require("../../index") as SlipwayProgram;
}

/**
 * What a dev stack that released and verified `v1.4.2-dev.3` exports (index.ts's outputs), as a
 * promoting stack's StackReference reads them.
 */
export const DEV_RELEASE = {
  mode: "release",
  releaseTag: "v1.4.2-dev.3",
  repository: "registry.digitalocean.com/acme/odoo",
  imageDigest: fakeDigest("dev-released"),
  candidateDigest: fakeDigest("dev-released"),
  sourceCommit: "0123456789abcdef0123456789abcdef01234567",
  releaseReport: {
    verdict: "READY",
    blockers: [],
    report: ".slipway/releases/v1.4.2-dev.3/report.md",
  },
};

/** The mocked backend's stacks: dev has released {@link DEV_RELEASE}. */
export const STACKS: Record<string, Record<string, unknown>> = {
  [`${ORGANIZATION}/${PROJECT}/dev`]: DEV_RELEASE,
};

/**
 * Runs the program (index.ts's function) for a stack config object (`secrets` held as a secret key).
 * App Platform stacks get the DigitalOcean token (`digitalocean:token`, secret) the provider and the
 * registry steps use; other stacks' outputs default to {@link STACKS}.
 */
export async function runStack(
  stack: string,
  config: Record<string, unknown>,
  options: Omit<MockRunOptions, "stack" | "config" | "secretKeys"> = {},
): Promise<RunOutcome<SlipwayProgram extends () => infer R ? R : never>> {
  const cloud = (config.deploy as { target?: string } | undefined)?.target === "app-platform";
  return runUnderMocks(slipwayProgram(), {
    stacks: STACKS,
    ...options,
    stack,
    config: {
      ...toPulumiConfig(config),
      ...(cloud ? { "digitalocean:token": MOCK_REGISTRY_TOKEN } : {}),
    },
    secretKeys: [
      ...("secrets" in config ? [`${PROJECT}:secrets`] : []),
      ...(cloud ? ["digitalocean:token"] : []),
    ],
    secretValues: [...leaves(config.secrets), ...(options.secretValues ?? [])],
  });
}

/** What the engine does to one resource on an `up` after another. */
export type Action = "same" | "create" | "update" | "replace" | "delete";

/**
 * The engine's plan for `next` given the state `previous` left (same stack, an `up` after an `up`),
 * with each provider's diff rules:
 * - `command:local:Command` (pulumi-command `local/commandController.go`): a changed `triggers` replaces
 *   (create, then delete); any other changed input is an update, which runs `create` again when no
 *   `update` command is given. Either way the command runs again.
 * - `docker-build:index:Image` (`image.go` `Diff`): only ever an update (a rebuild), for a changed input
 *   or `contextHash`; a registry password change alone is ignored.
 * - everything else: its inputs against its stored state, after the resource's `ignoreChanges` (the
 *   engine keeps the stored value at an ignored path). For the App the stored spec is what App Platform
 *   returned (SECRET envs encrypted), so a plaintext secret differs from it unless ignored.
 * Resources only in `previous` are deleted, unless `retainOnDelete` (then only forgotten).
 */
export function plannedActions(previous: MockRun, next: MockRun): Map<string, Action> {
  const key = (r: Recorded) => `${r.type}::${r.name}`;
  const old = new Map(previous.resources.map((r) => [key(r), r]));
  const actions = new Map<string, Action>();
  for (const r of next.resources) {
    if (!r.custom) continue;
    const before = old.get(key(r));
    if (before === undefined) {
      actions.set(key(r), "create");
      continue;
    }
    actions.set(key(r), diffOf(r, before));
  }
  for (const r of previous.resources) {
    if (r.custom && !actions.has(key(r))) actions.set(key(r), "delete");
  }
  return actions;
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

function diffOf(next: Recorded, before: Recorded): Action {
  if (next.type === "command:local:Command") {
    if (!same(next.inputs.triggers, before.inputs.triggers)) return "replace";
    const changed = Object.keys({ ...next.inputs, ...before.inputs }).some(
      (k) => !same(next.inputs[k], before.inputs[k]),
    );
    return changed ? "update" : "same";
  }
  if (next.type === "docker-build:index:Image") {
    const strip = (inputs: Record<string, unknown>) => {
      const registries = (inputs.registries as { password?: string }[] | undefined) ?? [];
      return { ...inputs, registries: registries.map(({ password: _p, ...rest }) => rest) };
    };
    const rebuilt =
      !same(strip(next.inputs), strip(before.inputs)) ||
      !same(next.state.contextHash, before.state.contextHash);
    return rebuilt ? "update" : "same";
  }
  const inputs = withIgnored(next.inputs, before.state, next.ignoreChanges);
  const changed = Object.keys(inputs).some((k) => !same(inputs[k], before.state[k]));
  return changed ? "update" : "same";
}

/** `inputs` with the stored value at every `ignoreChanges` path (`spec.services[0].envs[1].value`). */
function withIgnored(
  inputs: Record<string, unknown>,
  state: Record<string, unknown>,
  paths: readonly string[],
): Record<string, unknown> {
  const out = JSON.parse(JSON.stringify(inputs)) as Record<string, unknown>;
  for (const path of paths) {
    const segments = path.split(/\.|\[(\d+)\]/).filter((x) => x !== undefined && x !== "");
    let from: unknown = state;
    let into: unknown = out;
    for (let i = 0; i < segments.length - 1; i++) {
      from = (from as Record<string, unknown> | undefined)?.[segments[i]];
      into = (into as Record<string, unknown> | undefined)?.[segments[i]];
    }
    const last = segments[segments.length - 1];
    if (into !== undefined && into !== null && typeof into === "object") {
      (into as Record<string, unknown>)[last] = (from as Record<string, unknown> | undefined)?.[
        last
      ];
    }
  }
  return out;
}

/** YAML of a value, for failure messages. */
export function show(value: unknown): string {
  return stringify(value);
}

// ---- graph assertions ----------------------------------------------------------------------------

/** Resource types, as the engine sees them. */
export const T = {
  pipeline: "slipway:pipeline:ReleasePipeline",
  registry: "slipway:registry:Registry",
  checks: "slipway:checks:PreflightChecks",
  base: "slipway:images:BaseImage",
  builder: "slipway:images:BuilderImage",
  runtime: "slipway:images:RuntimeImage",
  testGate: "slipway:gates:TestGate",
  smokeGate: "slipway:gates:SmokeGate",
  scanGate: "slipway:gates:ScanGate",
  promotion: "slipway:registry:Promotion",
  source: "slipway:registry:ReleaseSource",
  stackReference: "pulumi:pulumi:StackReference",
  report: "slipway:report:ReleaseReport",
  rollback: "slipway:registry:RollbackTarget",
  deployment: "slipway:deploy:AppDeployment",
  verification: "slipway:deploy:Verification",
  command: "command:local:Command",
  build: "docker-build:index:Image",
  remoteImage: "docker:index/remoteImage:RemoteImage",
  container: "docker:index/container:Container",
  app: "digitalocean:index/app:App",
  docr: "digitalocean:index/containerRegistry:ContainerRegistry",
  credentials:
    "digitalocean:index/containerRegistryDockerCredentials:ContainerRegistryDockerCredentials",
} as const;

/** Asserts the set of registered resources is exactly `expected`, each under its parent. */
/** One expected resource of a graph: `[type, name, parent type, parent name]` (`""` for the root). */
export type GraphRow = [string, string, string, string];

/** Rows of the resources registered under one parent: `under(T.registry, "slipway-registry")(type, name)`. */
export const under =
  (parentType: string, parentName: string) =>
  (type: string, name: string): GraphRow => [type, name, parentType, parentName];

export function assertGraph(run: MockRun, expected: GraphRow[]): void {
  const got = run.resources.map((r) => `${r.type} ${r.name}`).sort();
  assert.deepEqual(got, expected.map(([type, name]) => `${type} ${name}`).sort());
  for (const [type, name, parentType, parentName] of expected) {
    const resource = run.find(type, name);
    const parent = run.parentOf(resource);
    if (parentType === "") {
      assert.equal(parent, undefined, `${name} is a root`);
      continue;
    }
    assert.ok(parent !== undefined, `${name} has a parent`);
    assert.equal(parent.type, parentType, `${name}'s parent type`);
    assert.equal(parent.name, parentName, `${name}'s parent`);
    assert.ok(
      resource.urn.includes(`${parentType}$${type}::${name}`),
      `${resource.urn} names its parent chain`,
    );
  }
}
