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
 * A Docker config.json document holding `username:password` for `host`: what the registry gates read
 * from `SLIPWAY_REGISTRY_AUTH` (gates/registry/credentials.ts).
 */
export function dockerConfigJsonFor(host: string, username: string, password: string): string {
  const auth = Buffer.from(`${username}:${password}`).toString("base64");
  return JSON.stringify({ auths: { [host]: { auth } } });
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
  /**
   * App Platform: the DigitalOcean API token (secret; `digitalocean:token` or DIGITALOCEAN_TOKEN, the
   * provider's own). DOCR takes it as both username and password. It is the registry credential of
   * every step, on purpose: DOCR credentials minted by `ContainerRegistryDockerCredentials` expire and
   * are renewed only by a refresh after expiry (terraform-provider-digitalocean
   * `resource_container_registry_docker_credentials.go`), so a plain `up` (a rollback days later)
   * would carry dead ones; the token is valid for as long as the provider itself can work, and it is
   * the same value on every `up` (no spurious change of the commands' inputs). Required for
   * `app-platform`.
   */
  token?: pulumi.Input<string>;
  /**
   * `local` only: the registry's `host:port`, adopted as given. Default `127.0.0.1:5000`. Slipway does
   * not run it: like DOCR, the registry outlives any release (destroying a stack must never delete
   * releases), so it is started outside the stack (scripts/e2e/registry.sh, or `docker run registry:2`).
   */
  server?: string;
}

/**
 * Where releases and candidates live. For App Platform: the account's DOCR registry, created or
 * adopted, and the API token as its credential (`dockerConfigJson` for the registry gates, `auth` for
 * the candidate builds), kept secret. For the local target: a loopback registry adopted as given, no
 * credentials (Docker, BuildKit and the gates talk plain HTTP to 127.0.0.0/8; no provider needs an auth
 * config for it).
 */
export class Registry extends pulumi.ComponentResource {
  /** The created registry (only when `create`). */
  public readonly registry?: digitalocean.ContainerRegistry;
  /** Registry host, e.g. `registry.digitalocean.com` or `127.0.0.1:5000`. */
  public readonly server: pulumi.Output<string>;
  /** Prefix of repository names: `registry.digitalocean.com/<name>`, or the local host. */
  public readonly endpoint: pulumi.Output<string>;
  /** The DOCR registry's name (what App Platform's DOCR image source implies). */
  public readonly registryName: pulumi.Output<string>;
  /** Docker config.json with the credentials (secret), for the registry gates. */
  public readonly dockerConfigJson?: pulumi.Output<string>;
  /** The same credentials as username and password (secret), for the candidate builds and cache. */
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
      if (args.token === undefined) throw new Error("Registry: app-platform needs the API token");
      const token = args.token;
      if (args.create === true) {
        this.registry = new digitalocean.ContainerRegistry(
          name,
          { name: args.name, subscriptionTierSlug: args.subscriptionTier ?? "basic" },
          { parent: this },
        );
        this.registryName = this.registry.name;
        this.endpoint = this.registry.endpoint;
        this.server = this.registry.serverUrl;
      } else {
        const existing = digitalocean.getContainerRegistryOutput(
          { name: args.name },
          { parent: this },
        );
        this.registryName = existing.name;
        this.endpoint = existing.endpoint;
        this.server = existing.serverUrl;
      }
      this.insecure = false;
      this.dockerConfigJson = pulumi.secret(
        pulumi
          .all([this.server, token])
          .apply(([host, secret]) => dockerConfigJsonFor(host, secret, secret)),
      );
      this.auth = pulumi.secret(
        pulumi
          .all([this.server, token])
          .apply(([host, secret]) => ({ address: host, username: secret, password: secret })),
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
