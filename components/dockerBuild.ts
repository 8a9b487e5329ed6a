import * as dockerBuild from "@pulumi/docker-build";
import * as pulumi from "@pulumi/pulumi";
import { buildSpec, digestRef, type BuildSpec } from "../gates/commands";

/** Registry credentials for the candidate push and the layer cache (username and password are secrets). */
export interface BuildRegistryAuth {
  address: string;
  username: string;
  password: string;
}

/** What {@link BuilderImage} and {@link RuntimeImage} share: the build of one Dockerfile stage. */
export interface StageImageArgs {
  /** Release version: part of the candidate tag (`candidate-<version>-<target>`). */
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
   * `HOST/REPO` the candidate is pushed to: the app's own repository (DOCR's starter tier allows one
   * repository, and the promotion tags a manifest within its repository).
   */
  candidateRepository: pulumi.Input<string>;
  /**
   * Import and export a registry layer cache (`<candidateRepository>:buildcache-<target>`, mode max).
   * Exporting needs a BuildKit builder that can (the `docker-container` driver); a failed export is
   * ignored (`ignoreError`), never a failed release. Default false.
   */
  cache?: boolean;
  /** Credentials for the registry (secret). Default: the builder's own (`~/.docker/config.json`). */
  registryAuth?: pulumi.Input<BuildRegistryAuth>;
  /**
   * The buildx builder to use (config `app.builder`): docker-build 0.0.22 does not support Docker's
   * default `docker` driver; without a name it takes the current builder if it can, else another that
   * works, else creates a `docker-container` one (`host.go` `builderFor`). Such a builder's BuildKit
   * runs in a container, so pushing to a registry on the host's loopback needs one created with
   * `--driver-opt network=host` (scripts/local-up.sh does). Default: docker-build's choice.
   */
  builder?: string;
  /** Target platform (`linux/amd64` for App Platform). Default: the build host's. */
  platform?: "linux/amd64" | "linux/arm64";
  /**
   * Checks that must pass before anything is built (preflight: Docker answers, enough disk). They
   * produce nothing the build consumes (putting their results in build args would bust the layer
   * cache), so this is the one plain `dependsOn` of the pipeline. Default none.
   */
  dependsOn?: pulumi.Input<pulumi.Resource>[];
}

/**
 * Builds one stage with `@pulumi/docker-build` and pushes it as a candidate: `push: true` under the
 * candidate tag (never a release tag), so `digest` is the manifest digest in the registry
 * (docker-build `image.go`: the digest is the registry's only for an exported image; for a load-only
 * build it is a local image ID, and `Read` keeps such state on a machine that never had the image).
 * Every later step names the image `<candidateRepository>@<digest>`: the registry is the source of
 * truth, and a fresh runner pulls what it needs.
 *
 * `buildOnPreview: false`: docker-build's default (true) builds during a preview and exports cache
 * manifests even then (`export.go`); a Slipway preview builds nothing, pushes nothing, exports no cache,
 * and shows the digests as unknown.
 */
export abstract class StageImageComponent extends pulumi.ComponentResource {
  public readonly image: dockerBuild.Image;
  /** The build as plain data (`buildSpec`), the same the e2e suite renders as `docker build` + `push`. */
  public readonly spec: pulumi.Output<BuildSpec>;
  /** The candidate's manifest digest in the registry: what every gate judges. */
  public readonly digest: pulumi.Output<string>;
  /** `<candidateRepository>@<digest>`: the exact image, wherever it runs. */
  public readonly ref: pulumi.Output<string>;

  protected constructor(
    type: string,
    name: string,
    target: string,
    args: StageImageArgs,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super(type, name, {}, opts);

    const spec = pulumi
      .all([args.baseRef, args.candidateRepository])
      .apply(([baseRef, candidateRepository]) =>
        buildSpec({
          version: args.version,
          context: args.context,
          dockerfile: args.dockerfile,
          target,
          baseRef,
          buildArgs: args.buildArgs,
          candidateRepository,
          cache: args.cache ?? false,
          platform: args.platform,
        }),
      );
    this.spec = spec;
    this.image = new dockerBuild.Image(
      `${name}-image`,
      {
        context: { location: args.context },
        dockerfile: { location: args.dockerfile },
        target,
        buildArgs: spec.buildArgs,
        tags: [spec.candidate],
        ...(args.platform === undefined ? {} : { platforms: [args.platform] }),
        cacheFrom: spec.cacheFrom.apply((refs) => refs.map((ref) => ({ registry: { ref } }))),
        cacheTo: spec.cacheTo.apply((refs) =>
          refs.map((ref) => ({
            registry: {
              ref,
              mode: dockerBuild.CacheMode.Max,
              imageManifest: true,
              ociMediaTypes: true,
              ignoreError: true,
            },
          })),
        ),
        ...(args.registryAuth === undefined ? {} : { registries: [args.registryAuth] }),
        ...(args.builder === undefined ? {} : { builder: { name: args.builder } }),
        push: true,
        buildOnPreview: false,
      },
      {
        parent: this,
        // docker-build's Delete removes the image from the registry too (`image.go` `Delete`:
        // `ManifestDelete` for every tag@digest). The candidate's manifest IS the release's (same
        // digest), and a rollback or promotion run registers no build: without this, switching a
        // stack to rollback mode would delete the release it runs. A release is never deleted.
        retainOnDelete: true,
        ...(args.dependsOn === undefined ? {} : { dependsOn: args.dependsOn }),
      },
    );
    this.digest = this.image.digest;
    this.ref = pulumi
      .all([args.candidateRepository, this.image.digest])
      .apply(([repository, digest]) => digestRef(repository, digest));

    this.registerOutputs({
      image: this.image,
      spec: this.spec,
      digest: this.digest,
      ref: this.ref,
    });
  }
}
