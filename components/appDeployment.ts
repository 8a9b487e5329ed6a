import * as digitalocean from "@pulumi/digitalocean";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { localContainerSpec, type LocalContainerSpec } from "../gates/commands";
import { appPlatformSpec, secretValuePaths, type AppSpecInput } from "./appSpec";

/** The local target's settings. */
export interface LocalDeploymentArgs {
  /** `HOST/REPO` in the loopback registry the release was pushed to. */
  repository: pulumi.Input<string>;
  /** Loopback port the container is published on (config `deploy.localPort`). */
  localPort: number;
  /** Container name (one per stack). */
  containerName: string;
}

/**
 * Arguments of {@link AppDeployment}: the app spec's fields (the local target uses the port, health path
 * and environment of them), except its name and repository, which come from `appName` and `service`.
 */
export interface AppDeploymentArgs extends Omit<AppSpecInput, "name" | "repository"> {
  /** `app-platform` (a `digitalocean.App`) or `local` (a `docker.Container`). Plain: it decides the resources. */
  target: "app-platform" | "local";
  /** App name (App Platform; unique in the account). */
  appName: string;
  /** Required for the local target. */
  local?: LocalDeploymentArgs;
  /**
   * App Platform: the secret values are the ones the last `up` deployed (their fingerprint is the one
   * it exported). App Platform returns SECRET env values encrypted (`EV[1:...]`) and the provider
   * stores them so (terraform-provider-digitalocean `app_spec.go` `flattenAppEnvs`; issues #514,
   * #1603; pulumi-digitalocean #624), so the program's plaintext always differs from the state: every
   * `up` would update the App and start a deployment. When true, the SECRET values are
   * `ignoreChanges`d (the engine keeps the stored ones): an `up` with nothing changed shows no diff.
   * When a secret changed it is false, the plaintext goes out, and the App deploys. Plain: it decides
   * a resource option. Default false (always send the values).
   */
  secretsUnchanged?: boolean;
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
      const specInput = { ...args, name: args.appName, repository: args.service };
      this.app = new digitalocean.App(
        `${name}-app`,
        // The spec reads only its own fields: `target`, `appName` and `local` ride along unused.
        { spec: appPlatformSpec(specInput) },
        {
          parent: this,
          ...(args.secretsUnchanged === true ? { ignoreChanges: secretValuePaths(specInput) } : {}),
        },
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
