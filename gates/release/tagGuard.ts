import { describeFailure, runDocker } from "../docker";
import type { Gate } from "../gate";
import { isDigest, isTag } from "../imageRef";
import type { FetchedManifest, RegistryClient } from "../registry/client";
import { openRepository, requiredFlag } from "../registry/open";
import { block, GateError, pass, UsageError } from "../result";

const INSPECT_TIMEOUT_MS = 30_000;

/**
 * The local image ID (`docker image inspect --format {{.Id}}`): the digest of the image's config,
 * which a push keeps. With the containerd image store it is the index digest instead; both are
 * compared. The Docker CLI is env SLIPWAY_DOCKER (default `docker`), run without a shell.
 */
export async function localImageId(image: string, env: NodeJS.ProcessEnv): Promise<string> {
  const result = await runDocker(["image", "inspect", "--format", "{{.Id}}", image], {
    env,
    timeoutMs: INSPECT_TIMEOUT_MS,
  });
  if (result.exitCode !== 0) {
    if (/no such (image|object)/i.test(result.stderr)) {
      throw new GateError("BUILD_FAILURE", `the local image ${image} does not exist`, [
        "build (and load) the runtime image before the push",
        describeFailure(result),
      ]);
    }
    throw new GateError("DOCKER_UNAVAILABLE", `cannot inspect the local image ${image}`, [
      describeFailure(result),
    ]);
  }
  const id = result.stdout.trim();
  if (!isDigest(id)) {
    throw new GateError(
      "DOCKER_UNAVAILABLE",
      `docker image inspect printed "${id}", not an image ID`,
    );
  }
  return id;
}

/**
 * Every digest that identifies the image a registry tag holds: the manifest's own digest, its config
 * digest (the image ID), and for an index each runnable platform manifest and its config.
 */
export async function identitiesOf(
  client: RegistryClient,
  repository: string,
  fetched: FetchedManifest,
): Promise<string[]> {
  const ids = [fetched.digest];
  if (fetched.manifest.kind === "image") return [...ids, fetched.manifest.configDigest];
  for (const entry of fetched.manifest.manifests) {
    if (entry.attestation) continue;
    ids.push(entry.digest);
    const child = await client.getManifest(repository, entry.digest);
    if (child.found && child.manifest.kind === "image") ids.push(child.manifest.configDigest);
  }
  return ids;
}

/**
 * `tag-guard`: releases are immutable. Before pushing VERSION, the registry's VERSION tag must be
 * absent (a new version) or hold this very image (the push is a no-op); anything else is
 * TAG_IMMUTABLE.
 */
const gate: Gate = {
  name: "tag-guard",
  summary: "refuse to overwrite a version tag that holds another image",
  usage: [
    "--repository HOST/REPO  registry repository, e.g. registry.digitalocean.com/acme/odoo",
    "--tag VERSION           the version tag about to be pushed",
    "--image LOCAL_REF       the local image about to be pushed (docker image inspect)",
    "docker binary: env SLIPWAY_DOCKER (default docker)",
  ],
  options: { repository: { type: "string" }, tag: { type: "string" }, image: { type: "string" } },
  async run(flags, ctx) {
    const { client, repository, name } = openRepository(requiredFlag(flags, "repository"), ctx.env);
    const tag = requiredFlag(flags, "tag");
    if (!isTag(tag)) throw new UsageError(`--tag ${tag}: not a valid tag`);
    const image = requiredFlag(flags, "image");

    const localId = await localImageId(image, ctx.env);
    const remote = await client.getManifest(repository, tag);
    const figures = { repository: name, tag, image, localId };
    if (!remote.found) {
      return pass("tag-guard", `${name}:${tag} does not exist yet: new version`, { figures });
    }
    const ids = await identitiesOf(client, repository, remote);
    const remoteFigures = { ...figures, remoteDigest: remote.digest, kind: remote.manifest.kind };
    if (ids.includes(localId)) {
      return pass("tag-guard", `${name}:${tag} already released, identical: push is a no-op`, {
        figures: remoteFigures,
      });
    }
    const remoteConfigs = ids.slice(1).join(", ");
    return block(
      "tag-guard",
      "TAG_IMMUTABLE",
      `${name}:${tag} already holds another image (${remote.digest})`,
      {
        details: [
          `registry: ${name}:${tag} = ${remote.digest} (image ${remoteConfigs.length > 0 ? remoteConfigs : "?"})`,
          `local: ${image} = ${localId}`,
          "a released version is never overwritten: bump release.version",
        ],
        figures: remoteFigures,
      },
    );
  },
};

export default gate;
