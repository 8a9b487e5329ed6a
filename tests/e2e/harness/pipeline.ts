import { join } from "node:path";
import {
  baseDriftCommand,
  buildSpec,
  digestRef,
  dockerBuildCommand,
  dockerRunCommand,
  evidenceAttachCommand,
  trivyReportFile,
  healthGateCommand,
  lintCommand,
  localContainerSpec,
  preflightCommand,
  promoteCommand,
  pushedDigest,
  type LocalContainerSpec,
  releaseReportDir,
  reportCommand,
  type ReportSpec,
  resolvePinCommand,
  retagCommand,
  rollbackReportDir,
  scanGateCommand,
  smokeGateCommand,
  testGateCommand,
} from "../../../gates/commands";
import { parseVerdictLine } from "../../../gates/result";
import type { AppUnderTest } from "./apps";
import { DOCKER } from "./environment";
import { sh, type ShellResult } from "./shell";

/**
 * Runs a release the way `pulumi up` runs the components' resources, with the very command strings
 * the components generate (gates/commands.ts), in the same dependency graph, each step starting as
 * soon as what it depends on is done (the Pulumi engine runs independent resources in parallel):
 *
 *   preflight → builder build + push (candidate) → test (builder@digest) ──┐
 *             → runtime build + push (candidate) → smoke, scan (runtime@digest) ┼→ promote → deploy → verify → report
 *   lint, base (drift), beside the builds ─────────────────────────────────┘
 *
 * Where a provider does the work instead of a shell (docker-build `Image` with `push: true`,
 * `docker.Container`), the builders' `docker` renderings of the same specs run: `docker build` + `docker
 * push` of the candidate, whose digest is read from the push's own output (`<tag>: digest: sha256:...
 * size: N`), as docker-build reads BuildKit's exporter digest. From there on every step names the image
 * by that digest. After a failure no new step starts and the steps already running finish, as Pulumi
 * does. A run can resume an earlier one (`resume`), as `pulumi up` does after a part-way `up`: what
 * passed is in the state and does not run again.
 */

export type StepName =
  | "preflight"
  | "base"
  | "lint"
  | "build-builder"
  | "build-runtime"
  | "test"
  | "smoke"
  | "scan"
  | "promote"
  | "deploy"
  | "verify"
  | "report"
  | "evidence"
  | "resolve"
  | "retag";

export interface StepResult extends ShellResult {
  step: StepName;
  /** Milliseconds since the run started when the step started. */
  startedAt: number;
}

export interface Run {
  /** The steps that ran, in the order they finished. */
  steps: StepResult[];
  /** The first failed step (in pipeline order), when one failed. */
  failed?: StepResult;
  /** The builder candidate's manifest digest in the registry, once pushed. */
  builderDigest?: string;
  /** The runtime candidate's manifest digest: what the gates judged. */
  candidateDigest?: string;
  /** The released manifest digest (promoted or resolved): what is deployed. */
  digest?: string;
  /** The steps that passed, this run's and those of the run it resumed (the stack's state). */
  passed: StepName[];
  /** The deployed container's ID, when deployed. */
  containerId?: string;
  /** Wall time of the whole run. */
  ms: number;
}

export interface ReleaseInput {
  app: AppUnderTest;
  /** `release.version`. */
  version: string;
  /** The base image, pinned by digest. */
  baseRef: string;
  /** Registry and namespace, e.g. `127.0.0.1:5000/acme` (the repository is `<registry>/<app>`). */
  registry: string;
  /** Build context and Dockerfile (default: the app's); a changed copy for a second release. */
  context?: string;
  dockerfile?: string;
  /** Extra build args (the broken variants). */
  buildArgs?: Record<string, string>;
  /** The Trivy JSON report the scan gate reads (instead of running Trivy on the candidate). */
  scanReport: string;
  /** `smoke.maxSize` (default 2GB, the SOP's budget). */
  maxSize?: string;
  /** Extra environment for every command (registry credentials, DOCKER_CONFIG). */
  env?: Record<string, string>;
  /** Directory under which each release writes its gate results (`releaseReportDir` below it). */
  reportRoot: string;
  /** Deploy to the local target and verify it (default true). */
  deploy?: boolean;
  /**
   * An earlier run of the same release that stopped part-way (the stack's state): its passed steps do
   * not run again and its digests are reused, on whatever engine this run has.
   */
  resume?: Run;
  /**
   * Stop the run before this step, as an `up` that was interrupted there (the runner died, the job was
   * cancelled): it and everything after it do not run.
   */
  interruptBefore?: StepName;
  /** Extra environment for single steps (e.g. the promotion's registry credentials). */
  stepEnv?: Partial<Record<StepName, Record<string, string>>>;
}

/** IDs of the containers the suite deployed: the `after` hook removes them. */
export const deployedContainers = new Set<string>();

export function repositoryOf(registry: string, app: AppUnderTest): string {
  return `${registry}/${app.name}`;
}

export function containerName(app: AppUnderTest): string {
  return `slipway-e2e-${app.name}`;
}

export function healthUrl(app: AppUnderTest, path = app.healthPath): string {
  return `http://127.0.0.1:${app.localPort}${path}`;
}

export interface Step {
  name: StepName;
  /** Steps that must have passed before this one starts. */
  after: StepName[];
  run: () => Promise<ShellResult>;
}

/**
 * Runs a dependency graph of steps: each starts once every step it depends on has passed. After a
 * failure nothing new starts; what is running finishes. `steps` is in pipeline order, which decides
 * which failure is reported first.
 */
export async function runGraph(steps: Step[], run: Run): Promise<Run> {
  const started = Date.now();
  // What an earlier `up` left in the state does not run again.
  const passed = new Set<StepName>(run.passed);
  const launched = new Set<StepName>(run.passed);
  const running = new Map<StepName, Promise<void>>();
  let failure = false;
  const launch = (step: Step) => {
    launched.add(step.name);
    const startedAt = Date.now() - started;
    running.set(
      step.name,
      step.run().then((result) => {
        run.steps.push({ ...result, step: step.name, startedAt });
        if (result.exitCode === 0) {
          passed.add(step.name);
          run.passed.push(step.name);
        } else failure = true;
        running.delete(step.name);
      }),
    );
  };
  for (;;) {
    if (!failure) {
      for (const step of steps) {
        if (!launched.has(step.name) && step.after.every((d) => passed.has(d))) launch(step);
      }
    }
    if (running.size === 0) break;
    await Promise.race(running.values());
  }
  const order = steps.map((s) => s.name);
  run.failed = run.steps
    .filter((s) => s.exitCode !== 0)
    .sort((a, b) => order.indexOf(a.step) - order.indexOf(b.step))[0];
  run.ms = Date.now() - started;
  return run;
}

/** Several commands as one step: in order, stopping at the first failure (its output is kept). */
export async function sequence(
  commands: string[],
  env: Record<string, string>,
): Promise<ShellResult> {
  let last: ShellResult | undefined;
  let output = "";
  let ms = 0;
  for (const command of commands) {
    last = await sh(command, { env });
    output += last.output;
    ms += last.ms;
    if (last.exitCode !== 0) break;
  }
  if (last === undefined) throw new Error("sequence of no commands");
  return { ...last, command: commands.join(" && "), output, ms };
}

/**
 * A candidate build (`docker build` + `docker push`, as docker-build's `Image` with `push: true`), its
 * digest read from the push's own output. A build that passes without reporting a digest is a failure
 * of the step (nothing after it could address the image).
 */
export async function buildCandidate(
  command: string,
  env: Record<string, string>,
  onDigest: (digest: string) => void,
): Promise<ShellResult> {
  const result = await sh(command, { env });
  if (result.exitCode !== 0) return result;
  const digest = pushedDigest(result.stdout);
  if (digest === undefined) {
    return { ...result, exitCode: 1, firstLine: "the candidate push reported no digest" };
  }
  onDigest(digest);
  return result;
}

/** A gate whose verdict line carries a value (a resolved or promoted digest): the value is recorded. */
export async function valueGate(
  command: string,
  env: Record<string, string>,
  onValue: (value: string) => void,
): Promise<ShellResult> {
  const result = await sh(command, { env });
  if (result.exitCode === 0) {
    const value = parseVerdictLine(result.stdout).value;
    if (value === undefined)
      return { ...result, exitCode: 1, firstLine: "no value in the verdict" };
    onValue(value);
  }
  return result;
}

/**
 * Runs the local target's container as `docker.Container` does when it replaces one: the container of
 * the same name (and port) goes first. Records the new container's ID for the suite's clean-up.
 */
export async function replaceContainer(
  spec: LocalContainerSpec,
  env: Record<string, string> = {},
): Promise<ShellResult> {
  await sh(`${DOCKER} rm -f ${spec.name}`, { env });
  const result = await sh(dockerRunCommand(spec, DOCKER), { env });
  if (result.exitCode === 0) deployedContainers.add(result.stdout.trim());
  return result;
}

/** The stack name the suite's releases report under (the report's rollback command names it). */
export const E2E_STACK = "e2e";

/**
 * The local target's deploy of the release by digest, its verification and the release report (the
 * `ReleaseReport` component: after the verification, advisory and `--gated`, as the pipeline runs it).
 */
function deploySteps(
  app: AppUnderTest,
  repository: string,
  reportDir: string,
  run: Run,
  env: Record<string, string>,
  after: StepName,
  release: Omit<ReportSpec["release"], "digest" | "deployedDigest" | "candidateDigest">,
  evidenceOf?: string[],
): Step[] {
  const evidence: Step[] =
    evidenceOf === undefined
      ? []
      : [
          {
            name: "evidence",
            after: ["report"],
            run: () =>
              sh(
                evidenceAttachCommand({
                  reportDir,
                  repository,
                  digest: run.digest ?? "",
                  files: { report: [`${reportDir}/report.json`, `${reportDir}/report.md`] },
                  filesIfExist: {
                    gates: evidenceOf.map((gate) => `${reportDir}/${gate}.json`),
                    trivy: [trivyReportFile(reportDir)],
                    sbom: [`${reportDir}/sbom.cdx.json`],
                  },
                }),
                { env },
              ),
          },
        ];
  return [
    {
      name: "deploy",
      after: [after],
      run: async () => {
        if (run.digest === undefined) throw new Error("deploy without a digest");
        const spec = localContainerSpec({
          name: containerName(app),
          repository,
          digest: run.digest,
          port: app.port,
          localPort: app.localPort,
          healthPath: app.healthPath,
        });
        const result = await replaceContainer(spec, env);
        if (result.exitCode === 0) run.containerId = result.stdout.trim();
        return result;
      },
    },
    {
      name: "verify",
      after: ["deploy"],
      run: () =>
        sh(healthGateCommand({ reportDir, url: healthUrl(app), timeout: 60, interval: 0.25 }), {
          env,
        }),
    },
    {
      name: "report",
      after: ["verify"],
      run: () =>
        sh(
          reportCommand({
            reportDir,
            release: {
              ...release,
              digest: run.digest,
              deployedDigest: run.digest,
              ...(run.candidateDigest === undefined
                ? {}
                : { candidateDigest: run.candidateDigest }),
            },
            gated: true,
            advisory: true,
          }),
          { env },
        ),
    },
    ...evidence,
  ];
}

/** The gates whose results a release attaches as evidence (ReleaseEvidence's `gates`). */
const RELEASE_EVIDENCE = [
  "preflight",
  "lint",
  "base",
  "test",
  "smoke",
  "scan",
  "promote",
  "health",
];
const PROMOTION_EVIDENCE = ["scan", "promote", "health"];

/** Where a run starts: empty, or the state an earlier part-way run left. */
function startFrom(resume: Run | undefined): Run {
  return {
    steps: [],
    ms: 0,
    passed: [...(resume?.passed ?? [])],
    ...(resume?.builderDigest === undefined ? {} : { builderDigest: resume.builderDigest }),
    ...(resume?.candidateDigest === undefined ? {} : { candidateDigest: resume.candidateDigest }),
    ...(resume?.digest === undefined ? {} : { digest: resume.digest }),
  };
}

/** One normal release: candidates → gates by digest → promote → deploy → verify → report. */
export async function release(input: ReleaseInput): Promise<Run> {
  const { app, version } = input;
  const env = input.env ?? {};
  const envOf = (step: StepName) => ({ ...env, ...(input.stepEnv?.[step] ?? {}) });
  const reportDir = join(input.reportRoot, releaseReportDir(version));
  const context = input.context ?? app.context;
  const dockerfile = input.dockerfile ?? app.dockerfile;
  const repository = repositoryOf(input.registry, app);
  const buildArgs = { ...(input.buildArgs ?? {}), BASE_IMAGE: input.baseRef };
  const run = startFrom(input.resume);
  const shell = (name: StepName, after: StepName[], command: () => string): Step => ({
    name,
    after,
    run: () => sh(command(), { env: envOf(name) }),
  });
  const build = (name: StepName, target: string, onDigest: (d: string) => void): Step => ({
    name,
    after: ["preflight"],
    run: () =>
      buildCandidate(
        dockerBuildCommand(
          buildSpec({
            version,
            context,
            dockerfile,
            target,
            baseRef: input.baseRef,
            buildArgs: input.buildArgs,
            candidateRepository: repository,
            cache: false,
          }),
          DOCKER,
        ),
        envOf(name),
        onDigest,
      ),
  });
  const candidate = () => digestRef(repository, run.candidateDigest ?? "");

  const steps: Step[] = [
    shell("preflight", [], () => preflightCommand({ reportDir })),
    // Lint and base drift run beside the builds: they gate the promotion, not the builds.
    shell("base", [], () => baseDriftCommand({ reportDir, ref: input.baseRef })),
    shell("lint", [], () =>
      lintCommand({
        reportDir,
        dockerfile,
        requireDigest: true,
        targets: ["builder", "runtime"],
        buildArgs,
      }),
    ),
    build("build-builder", "builder", (d) => (run.builderDigest = d)),
    build("build-runtime", "runtime", (d) => (run.candidateDigest = d)),
    shell("test", ["build-builder"], () =>
      testGateCommand({
        reportDir,
        image: digestRef(repository, run.builderDigest ?? ""),
        command: app.testCommand,
        coverageMin: app.coverageMin,
        timeout: 300,
      }),
    ),
    shell("smoke", ["build-runtime"], () =>
      smokeGateCommand({
        reportDir,
        image: candidate(),
        maxSize: input.maxSize ?? "2GB",
        versionCommand: app.versionCommand,
        expectVersion: app.expectVersion,
        paths: app.requiredPaths,
        imports: app.requiredImports,
        nonRoot: true,
        boot: { port: app.port, healthPath: app.healthPath, timeout: app.bootTimeout },
      }),
    ),
    shell("scan", ["build-runtime"], () =>
      scanGateCommand({ reportDir, report: input.scanReport }),
    ),
    // Every gate's verdict is an input of the promotion, and so of everything after it.
    {
      name: "promote",
      after: ["preflight", "lint", "base", "test", "smoke", "scan"],
      run: () =>
        valueGate(
          promoteCommand({
            reportDir,
            repository,
            digest: run.candidateDigest ?? "",
            version,
            latest: true,
          }),
          envOf("promote"),
          (digest) => (run.digest = digest),
        ),
    },
    ...(input.deploy === false
      ? []
      : deploySteps(
          app,
          repository,
          reportDir,
          run,
          env,
          "promote",
          {
            version,
            mode: "release",
            stack: E2E_STACK,
            image: `${repository}:${version}`,
            baseImage: input.baseRef,
          },
          RELEASE_EVIDENCE,
        )),
  ];
  return runGraph(interrupted(steps, input.interruptBefore), run);
}

/** The steps without `stop` and everything that waits for it, directly or not. */
function interrupted(steps: Step[], stop: StepName | undefined): Step[] {
  if (stop === undefined) return steps;
  const removed = new Set<StepName>([stop]);
  for (let grew = true; grew;) {
    grew = false;
    for (const step of steps) {
      if (!removed.has(step.name) && step.after.some((d) => removed.has(d))) {
        removed.add(step.name);
        grew = true;
      }
    }
  }
  return steps.filter((step) => !removed.has(step.name));
}

export interface PromotionInput {
  app: AppUnderTest;
  /** Registry and namespace, as for {@link release} (the source stack's repository). */
  registry: string;
  /** The digest the source stack released and verified (its `imageDigest` output). */
  sourceDigest: string;
  /** The source release report's verdict (its `releaseReport.verdict` output). */
  sourceVerdict: string;
  /** This stack's `release.version`. */
  version: string;
  /** The Trivy report the re-scan reads. */
  scanReport: string;
  reportRoot: string;
  env?: Record<string, string>;
}

/**
 * Promotion mode (prod): nothing is built or tested. The source stack's released digest is re-scanned,
 * promoted under this stack's version (refused unless the source's report is READY), deployed by that
 * same digest, verified and reported.
 */
export async function promotion(input: PromotionInput): Promise<Run> {
  const { app, version } = input;
  const env = input.env ?? {};
  const reportDir = join(input.reportRoot, releaseReportDir(version));
  const repository = repositoryOf(input.registry, app);
  const run = startFrom(undefined);
  run.candidateDigest = input.sourceDigest;
  return runGraph(
    [
      {
        name: "scan",
        after: [],
        run: () => sh(scanGateCommand({ reportDir, report: input.scanReport }), { env }),
      },
      {
        name: "promote",
        after: ["scan"],
        run: () =>
          valueGate(
            promoteCommand({
              reportDir,
              repository,
              digest: input.sourceDigest,
              version,
              latest: true,
              requireEvidence: true,
              sourceVerdict: input.sourceVerdict,
            }),
            env,
            (digest) => (run.digest = digest),
          ),
      },
      ...deploySteps(
        app,
        repository,
        reportDir,
        run,
        env,
        "promote",
        {
          version,
          mode: "promotion",
          stack: "e2e-prod",
          image: `${repository}:${version}`,
          promotedFrom: "e2e",
        },
        PROMOTION_EVIDENCE,
      ),
    ],
    run,
  );
}

export interface RollbackInput {
  app: AppUnderTest;
  /** Registry and namespace, as for {@link release}. */
  registry: string;
  /** `release.pin`: a tag or a digest already in the registry. */
  pin: string;
  /** `release.rollbackReason`: a pin whose evidence is missing or NOT READY is refused without it. */
  overrideReason?: string;
  reportRoot: string;
  env?: Record<string, string>;
}

/**
 * Rollback mode: nothing is built, tested, scanned or pushed. The pin is resolved in the registry
 * before anything changes; then `latest` is re-pointed and the app deployed by that digest, verified
 * and reported.
 */
export async function rollback(input: RollbackInput): Promise<Run> {
  const { app, pin } = input;
  const env = input.env ?? {};
  const reportDir = join(input.reportRoot, rollbackReportDir(pin));
  const repository = repositoryOf(input.registry, app);
  const run = startFrom(undefined);
  return runGraph(
    [
      {
        name: "resolve",
        after: [],
        run: () =>
          valueGate(
            resolvePinCommand({
              reportDir,
              repository,
              ref: pin,
              requireEvidence: true,
              overrideReason: input.overrideReason,
            }),
            env,
            (digest) => (run.digest = digest),
          ),
      },
      {
        name: "retag",
        after: ["resolve"],
        run: () => sh(retagCommand({ reportDir, repository, digest: run.digest ?? "" }), { env }),
      },
      ...deploySteps(app, repository, reportDir, run, env, "resolve", {
        version: pin,
        mode: "rollback",
        stack: E2E_STACK,
        image: pin.startsWith("sha256:") ? `${repository}@${pin}` : `${repository}:${pin}`,
      }),
    ],
    run,
  );
}

/** `preflight 310 ms · lint 420 ms · ...`: where a run's time went (printed by the tests). */
export function timeline(run: Run): string {
  const steps = [...run.steps]
    .sort((a, b) => a.startedAt - b.startedAt)
    .map((s) => `${s.step} ${s.ms} ms${s.exitCode === 0 ? "" : " (failed)"}`);
  return `${steps.join(" · ")} — wall ${run.ms} ms`;
}

/** The running state of a deployed container, to prove a failed release left it alone. */
export interface ContainerState {
  id: string;
  running: boolean;
  startedAt: string;
  restartCount: number;
  image: string;
}

export async function containerState(nameOrId: string): Promise<ContainerState | undefined> {
  const result = await sh(
    `${DOCKER} inspect --format '{{.Id}} {{.State.Running}} {{.State.StartedAt}} {{.RestartCount}} {{.Config.Image}}' ${nameOrId}`,
  );
  if (result.exitCode !== 0) return undefined;
  const [id, running, startedAt, restartCount, image] = result.stdout.trim().split(" ");
  return { id, running: running === "true", startedAt, restartCount: Number(restartCount), image };
}

/** Removes every container the suite deployed, by ID. */
export async function removeDeployed(): Promise<void> {
  for (const id of deployedContainers) {
    await sh(`${DOCKER} rm -f ${id}`);
    deployedContainers.delete(id);
  }
}
