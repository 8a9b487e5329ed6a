import type * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { pushSpec, tagGuardCommand } from "../gates/commands";
import { gateCommand, registryAuthEnv, verdictOf } from "./gateCommand";
import type { RegistryAuth } from "./registry";

/** Arguments of {@link PublishedImage}. */
export interface PublishedImageArgs {
  /** Project root: the tag guard's working directory. */
  projectDir: string;
  /** Directory of the release's gate results, relative to the project root. */
  reportDir: string;
  /** The scanned runtime image's local reference (`RuntimeImage.ref`): what is pushed. */
  localImage: pulumi.Input<string>;
  /** Its build digest: a new image means a new push. */
  imageDigest: pulumi.Input<string>;
  /** `HOST/REPO` to push to, e.g. `registry.digitalocean.com/acme/odoo`. */
  repository: pulumi.Input<string>;
  /** The version tag (config `release.version`; never `latest`). */
  version: string;
  /** Also push `:latest`. Default true (config `release.tagLatest`). */
  tagLatest?: boolean;
  /**
   * The verdict of every gate the release passed (`gate name → verdict`), e.g. `{ test, smoke, scan }`.
   * They are the push's inputs (its `triggers`): the push cannot start before every gate has passed,
   * and a failed gate means no push.
   */
  gates: Record<string, pulumi.Input<string>>;
  /** Docker config.json with write credentials (secret), for the tag guard. Default: none. */
  dockerConfigJson?: pulumi.Input<string>;
  /** Username and password (secret) for the push. Default: the Docker daemon's own credentials. */
  auth?: pulumi.Input<RegistryAuth>;
  /** The registry is a loopback one (plain HTTP). Default false. */
  insecure?: boolean;
}

/**
 * SOP step 6: the scanned image, tagged `:<version>` and `:latest` and pushed, once every gate has
 * passed. The `tag-guard` gate runs first: a version tag that already holds a different image is
 * TAG_IMMUTABLE (releases are immutable). `keepRemotely: true` on both pushes: destroying the stack,
 * or replacing a push, never deletes a release from the registry (deleting a tag deletes its
 * manifest). `digest` is the registry's digest of the pushed version: what the deploy uses.
 */
export class PublishedImage extends pulumi.ComponentResource {
  public readonly tagGuard: command.local.Command;
  public readonly versionTag: docker.Tag;
  public readonly versionPush: docker.RegistryImage;
  public readonly latestTag?: docker.Tag;
  public readonly latestPush?: docker.RegistryImage;
  /** `HOST/REPO`. */
  public readonly repository: pulumi.Output<string>;
  /** The pushed version's manifest digest (`sha256:...`). */
  public readonly digest: pulumi.Output<string>;
  /** `HOST/REPO:<version>@sha256:...`. */
  public readonly ref: pulumi.Output<string>;

  constructor(name: string, args: PublishedImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("slipway:registry:PublishedImage", name, {}, opts);

    const gateNames = Object.keys(args.gates).sort();
    const spec = pulumi.all([args.localImage, args.repository]).apply(([localImage, repository]) =>
      pushSpec({
        localImage,
        repository,
        version: args.version,
        tagLatest: args.tagLatest ?? true,
      }),
    );
    this.repository = pulumi.output(args.repository);

    this.tagGuard = gateCommand(
      `${name}-tag-guard`,
      {
        dir: args.projectDir,
        create: pulumi
          .all([args.repository, args.localImage])
          .apply(([repository, image]) =>
            tagGuardCommand({ reportDir: args.reportDir, repository, tag: args.version, image }),
          ),
        // The gates' verdicts make the guard (and so everything after it) wait for every gate.
        triggers: [args.imageDigest, ...gateNames.map((g) => args.gates[g])],
        environment: registryAuthEnv(args.dockerConfigJson),
      },
      this,
    );
    const guardVerdict = verdictOf(this.tagGuard);

    const triggers: Record<string, pulumi.Input<string>> = {
      image: args.imageDigest,
      "tag-guard": guardVerdict,
    };
    for (const gate of gateNames) triggers[`gate-${gate}`] = args.gates[gate];
    const push = {
      keepRemotely: true,
      ...(args.insecure === true ? { insecureSkipVerify: true } : {}),
      ...(args.auth === undefined ? {} : { authConfig: args.auth }),
    };

    this.versionTag = new docker.Tag(
      `${name}-tag-version`,
      {
        sourceImage: args.localImage,
        targetImage: spec.targets[0],
        tagTriggers: [args.imageDigest, guardVerdict],
      },
      { parent: this },
    );
    this.versionPush = new docker.RegistryImage(
      `${name}-push-version`,
      { name: this.versionTag.targetImage, triggers, ...push },
      { parent: this },
    );
    this.digest = this.versionPush.sha256Digest;

    if (args.tagLatest ?? true) {
      this.latestTag = new docker.Tag(
        `${name}-tag-latest`,
        {
          sourceImage: args.localImage,
          targetImage: spec.targets[1],
          // After the version push: `latest` never names an image the version tag does not.
          tagTriggers: [args.imageDigest, this.digest],
        },
        { parent: this },
      );
      this.latestPush = new docker.RegistryImage(
        `${name}-push-latest`,
        {
          name: this.latestTag.targetImage,
          triggers: { ...triggers, version: this.digest },
          ...push,
        },
        { parent: this },
      );
    }
    this.ref = pulumi.interpolate`${this.repository}:${args.version}@${this.digest}`;

    this.registerOutputs({
      tagGuard: this.tagGuard,
      versionTag: this.versionTag,
      versionPush: this.versionPush,
      latestTag: this.latestTag,
      latestPush: this.latestPush,
      repository: this.repository,
      digest: this.digest,
      ref: this.ref,
    });
  }
}
