import * as digitalocean from "@pulumi/digitalocean";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { localContainerSpec, type LocalContainerSpec } from "../gates/commands";
import {
  appPlatformSpec,
  type AlertSettings,
  type DatabaseBinding,
  type HealthCheckThresholds,
} from "./appSpec";

/** The local target's settings. */
export interface LocalDeploymentArgs {
  /** `HOST/REPO` in the loopback registry the release was pushed to. */
  repository: pulumi.Input<string>;
  /** Loopback port the container is published on (config `deploy.localPort`). */
  localPort: number;
  /** Container name (one per stack). */
  containerName: string;
}

/** Arguments of {@link AppDeployment}. */
export interface AppDeploymentArgs {
  /** `app-platform` (a `digitalocean.App`) or `local` (a `docker.Container`). Plain: it decides the resources. */
  target: "app-platform" | "local";
  /** The release's manifest digest: the app runs exactly this image, never a tag. */
  digest: pulumi.Input<string>;
  /** App name (App Platform; unique in the account). */
  appName: string;
  /** Service name and DOCR repository name (config `app.name`). */
  service: string;
  /** App Platform region (config `deploy.region`). */
  region: string;
  /** Port the app listens on in the container (config `app.port`). */
  port: number;
  /** Health path (config `app.healthPath`). */
  healthPath: string;
  /** App Platform health check thresholds (config `deploy.healthCheck`). */
  healthCheck: HealthCheckThresholds;
  /** Instances (config `deploy.instanceCount`). */
  instanceCount: number;
  /** Instance size (config `deploy.instanceSizeSlug`). */
  instanceSizeSlug: string;
  /** Plain environment (config `deploy.env`). */
  env: Record<string, string>;
  /** Secret environment, by name (config `deploy.secretEnv`, values from `slipway:secrets`). */
  secretEnv: Record<string, pulumi.Input<string>>;
  /** Managed database binding (App Platform). Default none. */
  database?: DatabaseBinding;
  /** PRE_DEPLOY job command (App Platform). Default none. */
  preDeployCommand?: string;
  /** Alert thresholds and destinations (App Platform). */
  alerts: AlertSettings;
  /** Required for the local target. */
  local?: LocalDeploymentArgs;
}

/**
 * Deploys the release by digest. App Platform: a `digitalocean.App` whose service image is the DOCR
 * repository at the release digest (App Platform does not redeploy an unchanged tag, and a re-pushed
 * tag can take an hour to be seen), with its health check, size, envs (secrets as SECRET), optional
 * database and PRE_DEPLOY job, and alerts. Local: the image pulled from the loopback registry by digest
 * and run as a container published on 127.0.0.1, with a health check; it is replaced (stopped first:
 * same name and port) when the digest changes.
 */
export class AppDeployment extends pulumi.ComponentResource {
  public readonly app?: digitalocean.App;
  public readonly pull?: docker.RemoteImage;
  public readonly container?: docker.Container;
  /** The local container as plain data (rendered as `docker run` by the e2e suite). */
  public readonly containerSpec?: pulumi.Output<LocalContainerSpec>;
  /** The deployed digest. */
  public readonly digest: pulumi.Output<string>;
  /** Base URL of the live app, without a trailing slash. */
  public readonly url: pulumi.Output<string>;
  /** `url` + the health path: what the verification polls. */
  public readonly healthUrl: pulumi.Output<string>;
  /** Changes with every deployment (App Platform's active deployment, or the container's id). */
  public readonly deploymentId: pulumi.Output<string>;

  constructor(name: string, args: AppDeploymentArgs, opts?: pulumi.ComponentResourceOptions) {
    super("slipway:deploy:AppDeployment", name, {}, opts);

    this.digest = pulumi.output(args.digest);
    if (args.target === "local") {
      const local = args.local;
      if (local === undefined) throw new Error("AppDeployment: the local target needs `local`");
      const spec = pulumi.all([local.repository, args.digest]).apply(([repository, digest]) =>
        localContainerSpec({
          name: local.containerName,
          repository,
          digest,
          port: args.port,
          localPort: local.localPort,
          healthPath: args.healthPath,
          env: args.env,
          secretEnv: Object.keys(args.secretEnv),
        }),
      );
      this.containerSpec = spec;
      this.pull = new docker.RemoteImage(
        `${name}-pull`,
        // Kept locally: the container being replaced may still use the previous image.
        { name: spec.image, keepLocally: true },
        { parent: this },
      );
      const secretNames = Object.keys(args.secretEnv).sort();
      this.container = new docker.Container(
        `${name}-container`,
        {
          name: spec.name,
          image: this.pull.repoDigest,
          ports: [{ internal: args.port, external: local.localPort, ip: "127.0.0.1" }],
          envs: [
            ...Object.keys(args.env)
              .filter((key) => !secretNames.includes(key))
              .sort()
              .map((key) => `${key}=${args.env[key]}`),
            ...secretNames.map((key) => pulumi.interpolate`${key}=${args.secretEnv[key]}`),
          ],
          restart: spec.restart,
          healthcheck: spec.healthcheck.apply((hc) => ({
            tests: ["CMD-SHELL", hc.command],
            interval: `${hc.intervalSeconds}s`,
            timeout: `${hc.timeoutSeconds}s`,
            retries: hc.retries,
            startPeriod: `${hc.startPeriodSeconds}s`,
          })),
          mustRun: true,
        },
        { parent: this, deleteBeforeReplace: true },
      );
      this.url = pulumi.output(`http://127.0.0.1:${local.localPort}`);
      this.deploymentId = this.container.id;
    } else {
      this.app = new digitalocean.App(
        `${name}-app`,
        {
          spec: appPlatformSpec({
            name: args.appName,
            service: args.service,
            region: args.region,
            repository: args.service,
            digest: args.digest,
            port: args.port,
            healthPath: args.healthPath,
            healthCheck: args.healthCheck,
            instanceCount: args.instanceCount,
            instanceSizeSlug: args.instanceSizeSlug,
            env: args.env,
            secretEnv: args.secretEnv,
            database: args.database,
            preDeployCommand: args.preDeployCommand,
            alerts: args.alerts,
          }),
        },
        { parent: this },
      );
      this.url = this.app.liveUrl.apply((url) => url.replace(/\/+$/, ""));
      this.deploymentId = this.app.activeDeploymentId;
    }
    this.healthUrl = this.url.apply((url) => `${url}${args.healthPath}`);

    this.registerOutputs({
      app: this.app,
      pull: this.pull,
      container: this.container,
      containerSpec: this.containerSpec,
      digest: this.digest,
      url: this.url,
      healthUrl: this.healthUrl,
      deploymentId: this.deploymentId,
    });
  }
}
