import * as dockerBuild from "@pulumi/docker-build";
import * as pulumi from "@pulumi/pulumi";
import { buildSpec, localImageRef, type BuildSpec } from "../gates/commands";

/** Registry credentials for the build's layer cache (username and password are secrets). */
export interface BuildRegistryAuth {
  address: string;
  username: string;
  password: string;
}

/** What {@link BuilderImage} and {@link RuntimeImage} share: the build of one Dockerfile stage. */
export interface StageImageArgs {
  /** App name: the local image is `slipway/<app>:<version>-<target>`. */
  app: string;
  /** Release version (part of the local tag). */
  version: string;
  /** Build context directory, relative to the project root. */
  context: string;
  /** Dockerfile path, relative to the project root. */
  dockerfile: string;
  /** The pinned base reference (`BaseImage.ref`), passed as the `BASE_IMAGE` build arg. */
  baseRef: pulumi.Input<string>;
  /** Extra build args. Default none. `BASE_IMAGE` always comes from `baseRef`. */
  buildArgs?: Record<string, string>;
  /**
   * `HOST/REPO` of the registry layer cache (`<repo>:buildcache-<target>`, `cacheFrom` + `cacheTo`
   * mode max). Default: no registry cache (the local daemon's layer cache only). Exporting a
   * registry cache needs a BuildKit builder that can (`docker buildx create --driver docker-container`).
   */
  cacheRepository?: pulumi.Input<string>;
  /** Credentials for the cache registry (secret). Default none. */
  registryAuth?: pulumi.Input<BuildRegistryAuth>;
  /** Target platform (`linux/amd64` for App Platform). Default: the build host's. */
  platform?: "linux/amd64" | "linux/arm64";
  /**
   * Checks that must pass before anything is built (preflight: Docker answers, enough disk). They
   * produce nothing the build consumes (putting their results in build args would bust the layer
   * cache), so this is the one plain `dependsOn` of the pipeline. Default none.
   */
  dependsOn?: pulumi.Input<pulumi.Resource>[];
}

/** A built stage: the image resource, its spec, and the local reference the gates check. */
export interface StageImage {
  image: dockerBuild.Image;
  /** The build as plain data (the same spec the e2e suite renders as `docker build`). */
  spec: pulumi.Output<BuildSpec>;
  /** The local reference of the built image (`slipway/<app>:<version>-<target>`), once built. */
  ref: pulumi.Output<string>;
  /** The build's digest, once built: the gates' trigger. */
  digest: pulumi.Output<string>;
}

/**
 * Builds one stage with `@pulumi/docker-build`: `push: false` (a build never publishes anything),
 * loaded into the local Docker daemon so the gates check the exact image, tagged with the spec's
 * local tag.
 */
export function stageImage(
  name: string,
  target: string,
  args: StageImageArgs,
  parent: pulumi.Resource,
): StageImage {
  const spec = pulumi
    .all([args.baseRef, args.cacheRepository])
    .apply(([baseRef, cacheRepository]) =>
      buildSpec({
        app: args.app,
        version: args.version,
        context: args.context,
        dockerfile: args.dockerfile,
        target,
        baseRef,
        buildArgs: args.buildArgs,
        cacheRepository,
        platform: args.platform,
      }),
    );
  const image = new dockerBuild.Image(
    name,
    {
      context: { location: args.context },
      dockerfile: { location: args.dockerfile },
      target,
      buildArgs: spec.buildArgs,
      tags: spec.tags,
      ...(args.platform === undefined ? {} : { platforms: [args.platform] }),
      cacheFrom: spec.cacheFrom.apply((refs) => refs.map((ref) => ({ registry: { ref } }))),
      cacheTo: spec.cacheTo.apply((refs) =>
        refs.map((ref) => ({
          registry: {
            ref,
            mode: dockerBuild.CacheMode.Max,
            imageManifest: true,
            ociMediaTypes: true,
          },
        })),
      ),
      ...(args.registryAuth === undefined ? {} : { registries: [args.registryAuth] }),
      push: false,
      load: true,
    },
    { parent, ...(args.dependsOn === undefined ? {} : { dependsOn: args.dependsOn }) },
  );
  const plainRef = localImageRef(args.app, args.version, target);
  return {
    image,
    spec,
    ref: pulumi.all([image.tags, image.digest]).apply(([tags]) => (tags ?? [])[0] ?? plainRef),
    digest: image.digest,
  };
}

/**
 * What {@link BuilderImage} and {@link RuntimeImage} share: one Dockerfile stage built by
 * {@link stageImage} as a child of the component, with its spec, local reference and digest as outputs.
 * The subclasses only name the type token and the default target.
 */
export abstract class StageImageComponent extends pulumi.ComponentResource implements StageImage {
  public readonly image: dockerBuild.Image;
  /** The build as plain data (`buildSpec`), the same the e2e suite renders as `docker build`. */
  public readonly spec: pulumi.Output<BuildSpec>;
  /** Local reference of the built image: what the gates check. */
  public readonly ref: pulumi.Output<string>;
  /** Digest of the build: the gates' trigger. */
  public readonly digest: pulumi.Output<string>;

  protected constructor(
    type: string,
    name: string,
    target: string,
    args: StageImageArgs,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super(type, name, {}, opts);
    const built = stageImage(`${name}-image`, target, args, this);
    this.image = built.image;
    this.spec = built.spec;
    this.ref = built.ref;
    this.digest = built.digest;
    this.registerOutputs({
      image: this.image,
      spec: this.spec,
      ref: this.ref,
      digest: this.digest,
    });
  }
}
