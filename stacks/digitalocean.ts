/**
 * What DigitalOcean App Platform accepts, as closed lists, so that the config refuses in preview what the
 * API would refuse after a build (rules.ts uses them; docs/config.md points here). No Pulumi import.
 *
 * Source: DigitalOcean's OpenAPI spec, github.com/digitalocean/openapi at commit
 * 7c1300c479fed9c353cda9fc21cd968619552304 (2026-08-07):
 * - regions: `specification/resources/apps/models/app_spec.yml`, `region.enum`; the datacenters of
 *   each region: `specification/resources/apps/responses/examples.yml`, `regions`;
 * - instance sizes: `specification/resources/apps/models/app_component_instance_base.yml`,
 *   `instance_size_slug.oneOf` ("Size slug" and "Deprecated");
 * - single-instance sizes: `specification/resources/apps/models/apps_instance_size.yml` defines
 *   `single_instance_only` ("Indicates if the instance size allows more than one instance");
 *   `specification/resources/apps/responses/examples.yml`, `instance_sizes`, sets it on these two;
 * - database engines and their fields: `specification/resources/apps/models/app_database_spec.yml`
 *   (`engine.enum`; `db_name` is "The name of the MySQL or PostgreSQL database to configure", `db_user`
 *   "The name of the MySQL or PostgreSQL user to configure").
 * When DigitalOcean adds a region or size, add it here (and to docs/config.md's pointer, if named).
 */

/** App Platform region slugs (`app_spec.yml`). A region is not a datacenter: `fra`, not `fra1`. */
export const APP_PLATFORM_REGIONS = [
  "atl",
  "nyc",
  "sfo",
  "tor",
  "ams",
  "fra",
  "lon",
  "blr",
  "sgp",
  "syd",
] as const;

/** The datacenters of each region, where the spec's examples name them (for a "did you mean"). */
export const REGION_DATACENTERS: Readonly<Record<string, readonly string[]>> = {
  ams: ["ams3"],
  nyc: ["nyc1", "nyc3"],
  fra: ["fra1"],
  sfo: ["sfo3"],
  sgp: ["sgp1"],
  blr: ["blr1"],
  tor: ["tor1"],
  lon: ["lon1"],
};

/** Current instance size slugs (`app_component_instance_base.yml`, "Size slug"). */
export const INSTANCE_SIZES = [
  "apps-s-1vcpu-0.5gb",
  "apps-s-1vcpu-1gb-fixed",
  "apps-s-1vcpu-1gb",
  "apps-s-1vcpu-2gb",
  "apps-s-2vcpu-4gb",
  "apps-d-1vcpu-0.5gb",
  "apps-d-1vcpu-1gb",
  "apps-d-1vcpu-2gb",
  "apps-d-1vcpu-4gb",
  "apps-d-2vcpu-4gb",
  "apps-d-2vcpu-8gb",
  "apps-d-4vcpu-8gb",
  "apps-d-4vcpu-16gb",
  "apps-d-8vcpu-32gb",
] as const;

/**
 * Legacy slugs the API still takes, marked `deprecated` ("We strongly encourage customers to use the
 * new plans when creating or upgrading apps"). Accepted, with a notice: an existing app may run on one.
 */
export const DEPRECATED_INSTANCE_SIZES = [
  "basic-xxs",
  "basic-xs",
  "basic-s",
  "basic-m",
  "professional-xs",
  "professional-s",
  "professional-m",
  "professional-1l",
  "professional-l",
  "professional-xl",
] as const;

/** Sizes with `single_instance_only: true`: `instance_count` must be 1. */
export const SINGLE_INSTANCE_SIZES: readonly string[] = [
  "apps-s-1vcpu-0.5gb",
  "apps-s-1vcpu-1gb-fixed",
];

/** Every database engine of `app_database_spec.yml` (`UNSET` aside: Slipway always names one). */
export const DATABASE_ENGINES = [
  "PG",
  "MYSQL",
  "REDIS",
  "MONGODB",
  "KAFKA",
  "OPENSEARCH",
  "VALKEY",
] as const;

/** The engines Slipway binds today (config `deploy.database.engine`): a subset of DigitalOcean's. */
export const SUPPORTED_DATABASE_ENGINES = ["PG", "MYSQL", "REDIS"] as const;

/** The engines that take `db_name` / `db_user` ("the MySQL or PostgreSQL database/user"). */
export const ENGINES_WITH_DB_FIELDS: readonly string[] = ["PG", "MYSQL"];

export function isAppPlatformRegion(slug: string): boolean {
  return (APP_PLATFORM_REGIONS as readonly string[]).includes(slug);
}

/** The region a datacenter slug belongs to (`fra1` → `fra`), when the spec names it. */
export function regionOfDatacenter(slug: string): string | undefined {
  return Object.keys(REGION_DATACENTERS).find((region) =>
    REGION_DATACENTERS[region].includes(slug),
  );
}

export function isInstanceSize(slug: string): boolean {
  return (INSTANCE_SIZES as readonly string[]).includes(slug);
}

export function isDeprecatedInstanceSize(slug: string): boolean {
  return (DEPRECATED_INSTANCE_SIZES as readonly string[]).includes(slug);
}
