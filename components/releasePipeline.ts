import * as pulumi from "@pulumi/pulumi";
import { releaseReportDir, rollbackReportDir } from "../gates/commands";
import type { ReleaseConfig } from "../stacks/schema";
import { AppDeployment } from "./appDeployment";
import { appName } from "./appSpec";
import { BaseImage } from "./baseImage";
import { BuilderImage } from "./builderImage";
import { PreflightChecks } from "./checks";
import { PublishedImage } from "./publishedImage";
import { Registry } from "./registry";
import { ReleaseReport } from "./releaseReport";
import { RollbackTarget } from "./rollbackTarget";
import { RuntimeImage } from "./runtimeImage";
import { ScanGate } from "./scanGate";
import { SmokeGate } from "./smokeGate";
import { TestGate } from "./testGate";
import { Verification } from "./verification";

/** Arguments of {@link ReleasePipeline}: the validated settings of one stack (`loadReleaseSettings()`). */
export interface ReleasePipelineArgs {
  /** The stack's validated config (stacks/schema.ts). Plain: it decides which resources exist. */
  config: ReleaseConfig;
  /**
   * Stack name (`dev`, `prod`, `local`): names the local container and, in the release report, the
   * rollback command.
   */
  stack: string;
  /** Secret environment values by name (`slipway:secrets`), for `config.deploy.secretEnv`. */
  secretEnv: Record<string, pulumi.Input<string>>;
  /** Slack webhook URLs (secrets) by channel, for `config.deploy.alerts.slackChannels`. */
  slackWebhooks: Record<string, pulumi.Input<string>>;
  /**
   * Project root, the gate commands' working directory. Default `.`: Pulumi starts the command
   * provider in the project directory, and a relative path keeps the state the same on every machine
   * (an absolute one would re-run every gate when the checkout moves).
   */
  projectDir?: string;
}

/** `release`: build, gate, push, deploy, verify. `rollback`: resolve the pin, deploy it, verify. */
export type PipelineMode = "release" | "rollback";

/**
 * The release procedure as one component:
 *
 * ```
 * config → preflight ─────────┐
 *        → base pull ─────────┴→ builder image → test gate ─┐
 *                              → runtime image → smoke gate ├→ push (tag guard, :version, :latest)
 *                                              → scan gate ─┤   → deploy by digest → verify → report
 *        → lint, base drift (beside the builds) ────────────┘
 * ```
 *
 * The builds wait only for what they need: Docker up with disk to spare (preflight) and the base
 * image pulled. The Dockerfile lint and the base drift check run beside them; the push's inputs carry
 * every gate's verdict, theirs included, so it cannot start before they all passed. In rollback mode
 * (`release.pin` set) nothing is built, tested, scanned or pushed: the pin is resolved to its digest
 * in the registry (ROLLBACK_TAG_NOT_FOUND before anything changes), `latest` is re-pointed to it,
 * and the app is deployed by that digest and verified. Either way the release report comes last.
 */
export class ReleasePipeline extends pulumi.ComponentResource {
  public readonly mode: PipelineMode;
  public readonly registry: Registry;
  public readonly checks?: PreflightChecks;
  public readonly base?: BaseImage;
  public readonly builder?: BuilderImage;
  public readonly runtime?: RuntimeImage;
  public readonly testGate?: TestGate;
  public readonly smokeGate?: SmokeGate;
  public readonly scanGate?: ScanGate;
  public readonly published?: PublishedImage;
  public readonly rollback?: RollbackTarget;
  public readonly deployment: AppDeployment;
  public readonly verification: Verification;
  public readonly report: ReleaseReport;
  /** `HOST/REPO` of the app's releases. */
  public readonly repository: pulumi.Output<string>;
  /** The deployed manifest digest. */
  public readonly digest: pulumi.Output<string>;
  /** `HOST/REPO@sha256:...`: exactly what runs. */
  public readonly imageRef: pulumi.Output<string>;
  /** The release version, or in rollback mode the pin. */
  public readonly releaseTag: string;
  public readonly appUrl: pulumi.Output<string>;
  public readonly healthUrl: pulumi.Output<string>;
  /** Where the gates wrote their JSON results, relative to the project root. */
  public readonly reportDir: string;

  constructor(name: string, args: ReleasePipelineArgs, opts?: pulumi.ComponentResourceOptions) {
    super("slipway:pipeline:ReleasePipeline", name, {}, opts);

    const c = args.config;
    const dir = args.projectDir ?? ".";
    const pin = c.release.pin;
    const target = c.deploy.target;
    this.mode = pin === undefined ? "release" : "rollback";
    this.releaseTag = pin ?? c.release.version;
    this.reportDir =
      pin === undefined ? releaseReportDir(c.release.version) : rollbackReportDir(pin);
    const reportDir = this.reportDir;
    const child = { parent: this };

    this.registry = new Registry(
      `${name}-registry`,
      {
        target,
        name: c.registry.name,
        create: c.registry.create,
        subscriptionTier: c.registry.subscriptionTier,
        credentialHours: c.registry.credentialHours,
        server: c.registry.server,
      },
      child,
    );
    this.repository = this.registry.repository(c.app.name);

    let digest: pulumi.Output<string>;
    if (pin === undefined) {
      const version = c.release.version;
      const dockerfile = c.app.dockerfile ?? `${c.app.context}/Dockerfile`;
      const targets = [c.app.targets.builder, c.app.targets.runtime];

      this.checks = new PreflightChecks(
        `${name}-checks`,
        {
          projectDir: dir,
          reportDir,
          dockerfile,
          targets,
          buildArgs: { ...c.app.buildArgs, BASE_IMAGE: c.baseImage },
          requireDigest: c.environment === "prod",
          triggers: [version, c.baseImage],
        },
        child,
      );
      this.base = new BaseImage(
        `${name}-base`,
        { ref: c.baseImage, projectDir: dir, reportDir, triggers: [version] },
        child,
      );

      // Registry layer cache: App Platform stacks build on CI machines that start cold. The local
      // target builds on the machine that runs it, whose daemon keeps its layers (and Docker's
      // default builder cannot export a registry cache).
      const cached = c.registry.cache && target === "app-platform";
      const build = {
        app: c.app.name,
        version,
        context: c.app.context,
        dockerfile,
        baseRef: this.base.ref,
        buildArgs: c.app.buildArgs,
        ...(cached ? { cacheRepository: this.registry.repository(`${c.app.name}-cache`) } : {}),
        ...(cached && this.registry.auth !== undefined ? { registryAuth: this.registry.auth } : {}),
        // App Platform runs linux/amd64.
        ...(target === "app-platform" ? { platform: "linux/amd64" as const } : {}),
        // Only the preflight: a build needs Docker and disk. The lint gates the push (`gates`), like
        // the base drift check; `baseRef` waits for the pull, not for the drift check.
        dependsOn: [this.checks.preflight],
      };
      this.builder = new BuilderImage(
        `${name}-builder`,
        { ...build, target: c.app.targets.builder },
        child,
      );
      this.runtime = new RuntimeImage(
        `${name}-runtime`,
        { ...build, target: c.app.targets.runtime },
        child,
      );

      const gates: Record<string, pulumi.Input<string>> = {
        preflight: this.checks.preflightVerdict,
        lint: this.checks.lintVerdict,
        base: this.base.driftVerdict,
      };
      if (c.tests.enabled) {
        this.testGate = new TestGate(
          `${name}-test`,
          {
            projectDir: dir,
            reportDir,
            image: this.builder.ref,
            digest: this.builder.digest,
            command: c.tests.command,
            coverageMin: c.tests.coverageMin,
            env: c.tests.env,
            network: c.tests.network,
          },
          child,
        );
        gates.test = this.testGate.verdict;
      }
      this.smokeGate = new SmokeGate(
        `${name}-smoke`,
        {
          projectDir: dir,
          reportDir,
          image: this.runtime.ref,
          digest: this.runtime.digest,
          maxSize: c.smoke.maxSize,
          versionCommand: c.app.versionCommand,
          expectVersion: c.app.expectVersion,
          paths: c.app.requiredPaths,
          imports: c.app.requiredImports,
          nonRoot: c.app.nonRoot,
          ...(c.smoke.boot
            ? {
                boot: {
                  port: c.app.port,
                  healthPath: c.app.healthPath,
                  timeout: c.app.bootTimeout,
                },
              }
            : {}),
        },
        child,
      );
      gates.smoke = this.smokeGate.verdict;
      if (c.scan.enabled) {
        this.scanGate = new ScanGate(
          `${name}-scan`,
          {
            projectDir: dir,
            reportDir,
            image: this.runtime.ref,
            digest: this.runtime.digest,
            severity: c.scan.severity,
            ignoreUnfixed: c.scan.ignoreUnfixed,
            allowlist: c.scan.allowlist,
            requireStatement: c.scan.requireStatement,
            trivyImage: c.scan.trivyImage,
            report: c.scan.report,
            baseImage: this.base.ref,
            baseline: c.scan.baseline,
          },
          child,
        );
        gates.scan = this.scanGate.verdict;
      }

      this.published = new PublishedImage(
        `${name}-publish`,
        {
          projectDir: dir,
          reportDir,
          localImage: this.runtime.ref,
          imageDigest: this.runtime.digest,
          repository: this.repository,
          version,
          tagLatest: c.release.tagLatest,
          gates,
          dockerConfigJson: this.registry.dockerConfigJson,
          auth: this.registry.auth,
          insecure: this.registry.insecure,
        },
        child,
      );
      digest = this.published.digest;
    } else {
      this.rollback = new RollbackTarget(
        `${name}-rollback`,
        {
          projectDir: dir,
          reportDir,
          repository: this.repository,
          pin,
          repointLatest: c.release.repointLatest,
          dockerConfigJson: this.registry.dockerConfigJson,
        },
        child,
      );
      digest = this.rollback.digest;
    }
    this.digest = digest;
    this.imageRef = pulumi.interpolate`${this.repository}@${digest}`;

    const alerts = c.deploy.alerts;
    this.deployment = new AppDeployment(
      `${name}-deploy`,
      {
        target,
        digest,
        appName: appName(c.app.name, c.environment),
        service: c.app.name,
        region: c.deploy.region,
        port: c.app.port,
        healthPath: c.app.healthPath,
        healthCheck: c.deploy.healthCheck,
        instanceCount: c.deploy.instanceCount,
        instanceSizeSlug: c.deploy.instanceSizeSlug,
        env: c.deploy.env,
        secretEnv: pick(args.secretEnv, c.deploy.secretEnv),
        database: c.deploy.database,
        preDeployCommand: c.deploy.preDeployCommand,
        alerts: {
          emails: alerts.emails,
          slack: alerts.slackChannels
            .filter((channel) => args.slackWebhooks[channel] !== undefined)
            .map((channel) => ({ channel, url: pulumi.secret(args.slackWebhooks[channel]) })),
          cpuPercent: alerts.cpuPercent,
          memPercent: alerts.memPercent,
          restarts: alerts.restarts,
        },
        local: {
          repository: this.repository,
          localPort: c.deploy.localPort,
          containerName: `slipway-${c.app.name}-${args.stack}`,
        },
      },
      child,
    );
    this.appUrl = this.deployment.url;
    this.healthUrl = this.deployment.healthUrl;

    this.verification = new Verification(
      `${name}-verify`,
      {
        projectDir: dir,
        reportDir,
        url: this.deployment.healthUrl,
        triggers: [digest, this.deployment.deploymentId],
        timeout: c.deploy.verifyTimeout,
      },
      child,
    );

    const skipped: Record<string, string> = {};
    if (pin === undefined && !c.tests.enabled) skipped.test = "tests.enabled is false";
    if (pin === undefined && !c.scan.enabled) skipped.scan = "scan.enabled is false";
    this.report = new ReleaseReport(
      `${name}-report`,
      {
        projectDir: dir,
        reportDir,
        version: this.releaseTag,
        mode: this.mode,
        stack: args.stack,
        image:
          pin !== undefined && pin.startsWith("sha256:")
            ? pulumi.interpolate`${this.repository}@${pin}`
            : pulumi.interpolate`${this.repository}:${this.releaseTag}`,
        digest,
        ...(pin === undefined ? { baseImage: c.baseImage } : {}),
        skipped,
        verified: this.verification.verdict,
      },
      child,
    );

    this.registerOutputs({
      mode: this.mode,
      repository: this.repository,
      digest: this.digest,
      imageRef: this.imageRef,
      releaseTag: this.releaseTag,
      appUrl: this.appUrl,
      healthUrl: this.healthUrl,
      reportDir: this.reportDir,
      releaseReport: this.report.summary,
    });
  }
}

/** The secret values of the names config asks for, each kept secret. */
function pick(
  values: Record<string, pulumi.Input<string>>,
  names: string[],
): Record<string, pulumi.Input<string>> {
  const out: Record<string, pulumi.Input<string>> = {};
  for (const key of names) {
    const value = values[key];
    if (value !== undefined) out[key] = pulumi.secret(value);
  }
  return out;
}
