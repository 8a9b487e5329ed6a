import * as digitalocean from "@pulumi/digitalocean";
import * as pulumi from "@pulumi/pulumi";
import { isLoopbackHost } from "../gates/imageRef";

/** DigitalOcean Container Registry's host. */
export const DOCR_HOST = "registry.digitalocean.com";

/** The loopback registry the local target uses when `registry.server` names none. */
export const DEFAULT_LOCAL_REGISTRY = "127.0.0.1:5000";

/** Username and password for one registry host. */
export interface RegistryAuth {
  address: string;
  username: string;
  password: string;
}

/**
 * The credentials for `host` in a Docker config.json document (`{"auths":{host:{auth:base64(user:pass)}}}`,
 * the shape of DigitalOcean's `dockerCredentials`), for the resources that take a username and password.
 *
 * @throws Error naming the host when the document has no usable entry for it (the message never
 *   contains the document).
 */
export function dockerConfigAuth(dockerConfigJson: string, host: string): RegistryAuth {
  let auths: Record<string, { auth?: string; username?: string; password?: string }> | undefined;
  try {
    auths = (JSON.parse(dockerConfigJson) as { auths?: typeof auths }).auths;
  } catch {
    throw new Error(`registry credentials for ${host}: not a Docker config.json document`);
  }
  const entry = auths?.[host] ?? auths?.[`https://${host}`];
  if (entry?.username !== undefined && entry.password !== undefined) {
    return { address: host, username: entry.username, password: entry.password };
  }
  const decoded = Buffer.from(entry?.auth ?? "", "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon <= 0) throw new Error(`registry credentials for ${host}: no auth entry for that host`);
  return { address: host, username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** Arguments of {@link Registry}. */
export interface RegistryArgs {
  /**
   * `app-platform`: DigitalOcean Container Registry; `local`: a registry on this machine's loopback.
   * Plain: it decides which resources exist.
   */
  target: "app-platform" | "local";
  /** DOCR registry name (config `registry.name`). Ignored for `local`. */
  name: string;
  /**
   * Create the registry (true) or adopt the account's existing one (false, the default: DOCR allows
   * one registry per account, so most stacks adopt it with `getContainerRegistry`).
   */
  create?: boolean;
  /** DOCR subscription tier when created. Default `basic` (starter allows one repository only). */
  subscriptionTier?: "starter" | "basic" | "professional";
  /** Hours the write credentials minted for this release stay valid. Default 1. */
  credentialHours?: number;
  /**
   * `local` only: the registry's `host:port`, adopted as given. Default `127.0.0.1:5000`. Slipway does
   * not run it: like DOCR, the registry outlives any release (destroying a stack must never delete
   * releases), so it is started outside the stack (scripts/e2e/registry.sh, or `docker run registry:2`).
   */
  server?: string;
}

/**
 * Where releases are pushed. For App Platform: the account's DOCR registry, created or adopted, and
 * short-lived write credentials minted for this release, kept secret (`dockerConfigJson` for the
 * registry gates, `auth` for the push). For the local target: a loopback registry adopted as given,
 * no credentials (Docker talks plain HTTP to 127.0.0.0/8).
 */
export class Registry extends pulumi.ComponentResource {
  /** The created registry (only when `create`). */
  public readonly registry?: digitalocean.ContainerRegistry;
  /** The write credentials (App Platform only). */
  public readonly credentials?: digitalocean.ContainerRegistryDockerCredentials;
  /** Registry host, e.g. `registry.digitalocean.com` or `127.0.0.1:5000`. */
  public readonly server: pulumi.Output<string>;
  /** Prefix of repository names: `registry.digitalocean.com/<name>`, or the local host. */
  public readonly endpoint: pulumi.Output<string>;
  /** The DOCR registry's name (what App Platform's DOCR image source implies). */
  public readonly registryName: pulumi.Output<string>;
  /** Docker config.json with the write credentials (secret), for the registry gates. */
  public readonly dockerConfigJson?: pulumi.Output<string>;
  /** The same credentials as username and password (secret), for the push and the build cache. */
  public readonly auth?: pulumi.Output<RegistryAuth>;
  /** A loopback registry: plain HTTP, no TLS to verify. */
  public readonly insecure: boolean;

  constructor(name: string, args: RegistryArgs, opts?: pulumi.ComponentResourceOptions) {
    super("slipway:registry:Registry", name, {}, opts);

    if (args.target === "local") {
      const server = args.server ?? DEFAULT_LOCAL_REGISTRY;
      this.server = pulumi.output(server);
      this.endpoint = pulumi.output(server);
      this.registryName = pulumi.output(server);
      this.insecure = isLoopbackHost(server);
    } else {
      let registryName: pulumi.Output<string>;
      let endpoint: pulumi.Output<string>;
      let server: pulumi.Output<string>;
      if (args.create === true) {
        this.registry = new digitalocean.ContainerRegistry(
          name,
          { name: args.name, subscriptionTierSlug: args.subscriptionTier ?? "basic" },
          { parent: this },
        );
        registryName = this.registry.name;
        endpoint = this.registry.endpoint;
        server = this.registry.serverUrl;
      } else {
        const existing = digitalocean.getContainerRegistryOutput(
          { name: args.name },
          { parent: this },
        );
        registryName = existing.name;
        endpoint = existing.endpoint;
        server = existing.serverUrl;
      }
      this.credentials = new digitalocean.ContainerRegistryDockerCredentials(
        `${name}-write`,
        {
          registryName,
          write: true,
          expirySeconds: (args.credentialHours ?? 1) * 3600,
        },
        { parent: this },
      );
      this.registryName = registryName;
      this.endpoint = endpoint;
      this.server = server;
      this.insecure = false;
      this.dockerConfigJson = pulumi.secret(this.credentials.dockerCredentials);
      this.auth = pulumi.secret(
        pulumi
          .all([this.credentials.dockerCredentials, server])
          .apply(([json, host]) => dockerConfigAuth(json, host)),
      );
    }

    this.registerOutputs({
      server: this.server,
      endpoint: this.endpoint,
      registryName: this.registryName,
      dockerConfigJson: this.dockerConfigJson,
      auth: this.auth,
    });
  }

  /** `HOST/.../<repository>` of one repository in this registry. */
  public repository(repository: string): pulumi.Output<string> {
    return pulumi.interpolate`${this.endpoint}/${repository}`;
  }
}
