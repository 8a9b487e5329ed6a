import * as pulumi from "@pulumi/pulumi";
import { releaseReportDir, rollbackReportDir } from "../gates/commands";
import type { ReleaseConfig } from "../stacks/schema";
import { AppDeployment } from "./appDeployment";
import { appName } from "./appSpec";
import { BaseImage } from "./baseImage";
import { BuilderImage } from "./builderImage";
import { PreflightChecks } from "./checks";
import { ReleaseEvidence } from "./evidence";
import { fileFingerprint } from "./fingerprint";
import { Promotion } from "./promotion";
import { Registry } from "./registry";
import { ReleaseReport } from "./releaseReport";
import { ReleaseSource } from "./releaseSource";
import { RollbackTarget } from "./rollbackTarget";
import { RuntimeImage } from "./runtimeImage";
import { ScanGate } from "./scanGate";
import { SmokeGate } from "./smokeGate";
import { TestGate } from "./testGate";
import { Verification } from "./verification";
import { verdictOf } from "./gateCommand";

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
  /** App Platform: the DigitalOcean API token (secret), the registry credential. */
  registryToken?: pulumi.Input<string>;
  /**
   * The App's secret values are the ones the previous `up` deployed: they may stay as App Platform
   * stored them (`AppDeploymentArgs.secretsUnchanged`). Default false.
   */
  secretsUnchanged?: boolean;
  /**
   * Project root, the gate commands' working directory. Default `.`: Pulumi starts the command
   * provider in the project directory, and a relative path keeps the state the same on every machine
   * (an absolute one would re-run every gate when the checkout moves).
   */
  projectDir?: string;
}

/**
 * `release`: build candidates, gate them, promote, deploy, verify. `promotion`: promote what another
 * stack released (re-scan, promote, deploy, verify). `rollback`: resolve the pin, deploy it, verify.
 */
export type PipelineMode = "release" | "promotion" | "rollback";

/** The mode a config asks for: a pin wins (rollback is always possible), then `promoteFrom`. */
export function pipelineMode(release: ReleaseConfig["release"]): PipelineMode {
  if (release.pin !== undefined) return "rollback";
  return release.promoteFrom === undefined ? "release" : "promotion";
}

/**
 * The release procedure as one component, addressed by digest from the build on (the registry is the
 * source of truth: nothing after a build reads an image that exists only in one machine's daemon):
 *
 * ```
 * release:   preflight → builder build, pushed as candidate → test gate (builder@digest) ──┐
 *                      → runtime build, pushed as candidate → smoke gate (runtime@digest) ─┼→ promote
 *            lint, base drift (beside the builds) ─────────→ scan gate (runtime@digest) ──┘  (:version,
 *                                                                                              :latest)
 * promotion: source stack's digest (StackReference) → scan gate (re-scan) → promote
 * rollback:  resolve the pin → retag latest
 *            ... → deploy by digest → verify → report
 * ```
 *
 * The builds wait only for the preflight (Docker up, disk to spare). The promotion's inputs carry every
 * gate's verdict (its decision and the digest it judged), so it cannot start before they all passed and
 * a failed gate releases nothing: no version tag, `latest` unmoved, no deploy; the candidate stays in the
 * registry and the gate's result names it. The deploy uses the digest the promotion printed: the
 * candidate's, the released and the deployed digest are one. In promotion mode nothing is built or
 * tested; in rollback mode (`release.pin`) nothing is built, tested, scanned or promoted. Either way the
 * release report comes last.
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
  public readonly source?: ReleaseSource;
  public readonly promotion?: Promotion;
  public readonly rollback?: RollbackTarget;
  public readonly deployment: AppDeployment;
  public readonly verification: Verification;
  public readonly report: ReleaseReport;
  /** The evidence bound to the released digest (release and promotion mode). */
  public readonly evidence?: ReleaseEvidence;
  /** `HOST/REPO` of the app's releases. */
  public readonly repository: pulumi.Output<string>;
  /** The digest judged by the gates (release: the runtime candidate; promotion: the source's). */
  public readonly candidateDigest?: pulumi.Output<string>;
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
    const version = c.release.version;
    this.mode = pipelineMode(c.release);
    this.releaseTag = pin ?? version;
    this.reportDir = pin === undefined ? releaseReportDir(version) : rollbackReportDir(pin);
    const reportDir = this.reportDir;
    const child = { parent: this };

    this.registry = new Registry(
      `${name}-registry`,
      {
        target,
        name: c.registry.name,
        create: c.registry.create,
        subscriptionTier: c.registry.subscriptionTier,
        server: c.registry.server,
        token: args.registryToken,
      },
      child,
    );
    this.repository = this.registry.repository(c.app.name);
    const auth = this.registry.dockerConfigJson;

    const gates: Record<string, pulumi.Input<string>> = {};
    const scan = (image: pulumi.Input<string>, baseImage?: pulumi.Input<string>) => {
      if (!c.scan.enabled) return undefined;
      const read = [c.scan.allowlist, c.scan.baseline].filter((p): p is string => p !== undefined);
      return new ScanGate(
        `${name}-scan`,
        {
          projectDir: dir,
          reportDir,
          image,
          inputsFingerprint: read.map((path) => fileFingerprint(dir, path)),
          severity: c.scan.severity,
          ignoreUnfixed: c.scan.ignoreUnfixed,
          allowlist: c.scan.allowlist,
          requireStatement: c.scan.requireStatement,
          trivyImage: c.scan.trivyImage,
          report: c.scan.report,
          scanners: c.scan.scanners,
          offline: c.scan.offline,
          sbom: c.scan.sbom,
          trivy: c.scan.trivy,
          dockerConfigJson: auth,
          baseImage,
          baseline: c.scan.baseline,
        },
        child,
      );
    };

    let digest: pulumi.Output<string>;
    if (this.mode === "release") {
      const dockerfile = c.app.dockerfile ?? `${c.app.context}/Dockerfile`;
      this.checks = new PreflightChecks(
        `${name}-checks`,
        {
          projectDir: dir,
          reportDir,
          dockerfile,
          dockerfileFingerprint: fileFingerprint(dir, dockerfile),
          targets: [c.app.targets.builder, c.app.targets.runtime],
          buildArgs: { ...c.app.buildArgs, BASE_IMAGE: c.baseImage },
          requireDigest: c.environment === "prod",
        },
        child,
      );
      this.base = new BaseImage(
        `${name}-base`,
        { ref: c.baseImage, projectDir: dir, reportDir },
        child,
      );
      const build = {
        version,
        context: c.app.context,
        dockerfile,
        baseRef: this.base.ref,
        buildArgs: c.app.buildArgs,
        // Candidates live in the app's own repository, as `candidate-*` tags: DOCR's starter tier
        // allows one repository, and the promotion copies a manifest within a repository only.
        candidateRepository: this.repository,
        // The local target builds on the machine that runs it, whose daemon keeps its layers (and
        // Docker's default builder cannot export a registry cache).
        cache: c.registry.cache && target === "app-platform",
        ...(c.app.builder === undefined ? {} : { builder: c.app.builder }),
        ...(this.registry.auth === undefined ? {} : { registryAuth: this.registry.auth }),
        // App Platform runs linux/amd64.
        ...(target === "app-platform" ? { platform: "linux/amd64" as const } : {}),
        // Only the preflight: a build needs Docker and disk. The lint and the drift check gate the
        // promotion (`gates`), not the builds.
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
      this.candidateDigest = this.runtime.digest;

      gates.preflight = this.checks.preflightVerdict;
      gates.lint = this.checks.lintVerdict;
      gates.base = this.base.driftVerdict;
      if (c.tests.enabled) {
        this.testGate = new TestGate(
          `${name}-test`,
          {
            projectDir: dir,
            reportDir,
            image: this.builder.ref,
            command: c.tests.command,
            coverageMin: c.tests.coverageMin,
            env: c.tests.env,
            network: c.tests.network,
            bandit: c.tests.bandit,
            pipCheck: c.tests.pipCheck,
            services: c.tests.services,
            dockerConfigJson: auth,
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
          maxSize: c.smoke.maxSize,
          versionCommand: c.app.versionCommand,
          expectVersion: c.app.expectVersion,
          paths: c.app.requiredPaths,
          imports: c.app.requiredImports,
          nonRoot: c.app.nonRoot,
          pipCheck: c.smoke.pipCheck,
          wkhtmltopdf: c.smoke.wkhtmltopdf,
          dockerConfigJson: auth,
          ...(c.smoke.boot
            ? {
                boot: {
                  port: c.app.port,
                  healthPath: c.app.healthPath,
                  timeout: c.app.bootTimeout,
                  moduleErrorPatterns: c.smoke.moduleErrorPatterns,
                  dbErrorPatterns: c.smoke.dbErrorPatterns,
                  services: c.smoke.services,
                },
              }
            : {}),
        },
        child,
      );
      gates.smoke = this.smokeGate.verdict;
      this.scanGate = scan(this.runtime.ref, this.base.ref);
    } else if (this.mode === "promotion") {
      this.source = new ReleaseSource(
        `${name}-source`,
        { stack: c.release.promoteFrom ?? "" },
        child,
      );
      this.candidateDigest = this.source.digest;
      this.scanGate = scan(pulumi.interpolate`${this.repository}@${this.source.digest}`);
    }
    if (this.scanGate !== undefined) gates.scan = this.scanGate.verdict;

    if (this.candidateDigest !== undefined) {
      this.promotion = new Promotion(
        `${name}-promote`,
        {
          projectDir: dir,
          reportDir,
          repository: this.repository,
          digest: this.candidateDigest,
          version,
          tagLatest: c.release.tagLatest,
          gates,
          ...(this.source === undefined
            ? {}
            : { requireEvidence: true, sourceVerdict: this.source.verdict }),
          dockerConfigJson: auth,
        },
        child,
      );
      digest = this.promotion.digest;
    } else {
      this.rollback = new RollbackTarget(
        `${name}-rollback`,
        {
          projectDir: dir,
          reportDir,
          repository: this.repository,
          pin: pin ?? "",
          repointLatest: c.release.repointLatest,
          overrideReason: c.release.rollbackReason,
          dockerConfigJson: auth,
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
        secretsUnchanged: args.secretsUnchanged ?? false,
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
    const verifyPath = c.deploy.verifyPath ?? c.app.healthPath;
    this.healthUrl = this.deployment.url.apply((url) => `${url}${verifyPath}`);

    this.verification = new Verification(
      `${name}-verify`,
      {
        projectDir: dir,
        reportDir,
        url: this.healthUrl,
        triggers: [this.deployment.deploymentId],
        timeout: c.deploy.verifyTimeout,
        ...(c.deploy.verifyBody === undefined
          ? {}
          : {
              expectBody:
                c.deploy.verifyBody === "version" ? pulumi.output(this.releaseTag) : digest,
            }),
      },
      child,
    );

    const skipped: Record<string, string> = {};
    if (this.mode === "release" && !c.tests.enabled) skipped.test = "tests.enabled is false";
    if (this.mode !== "rollback" && !c.scan.enabled) skipped.scan = "scan.enabled is false";
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
        ...(this.candidateDigest === undefined ? {} : { candidateDigest: this.candidateDigest }),
        deployedDigest: this.deployment.digest,
        ...(this.mode === "release" ? { baseImage: c.baseImage } : {}),
        ...(this.source === undefined ? {} : { promotedFrom: this.source.stackName }),
        ...(c.release.commit === undefined ? {} : { commit: c.release.commit }),
        skipped,
        verified: this.verification.verdict,
      },
      child,
    );

    if (this.mode !== "rollback") {
      this.evidence = new ReleaseEvidence(
        `${name}-evidence`,
        {
          projectDir: dir,
          reportDir,
          repository: this.repository,
          digest,
          gates: [...Object.keys(gates), "promote", "health"],
          reported: verdictOf(this.report.run),
          dockerConfigJson: auth,
        },
        child,
      );
    }

    this.registerOutputs({
      mode: this.mode,
      repository: this.repository,
      candidateDigest: this.candidateDigest,
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
