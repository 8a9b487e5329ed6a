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

/**
 * Enums of the app spec that the offline plan checks its doctl YAML against (same spec commit):
 * `app_variable_definition.yml` (env `type`, `scope`), `apps_image_source_spec.yml` (`registry_type`),
 * `app_alert_spec_rule.yml`, `app_alert_spec_operator.yml`, `app_alert_spec_window.yml`.
 */
export const SPEC_ENUMS: Readonly<Record<string, readonly string[]>> = {
  "envs.type": ["GENERAL", "SECRET"],
  "envs.scope": ["UNSET", "RUN_TIME", "BUILD_TIME", "RUN_AND_BUILD_TIME"],
  "image.registry_type": ["DOCKER_HUB", "DOCR", "GHCR"],
  "alerts.rule": [
    "UNSPECIFIED_RULE",
    "CPU_UTILIZATION",
    "MEM_UTILIZATION",
    "RESTART_COUNT",
    "DEPLOYMENT_FAILED",
    "DEPLOYMENT_LIVE",
    "DOMAIN_FAILED",
    "DOMAIN_LIVE",
    "AUTOSCALE_FAILED",
    "AUTOSCALE_SUCCEEDED",
    "FUNCTIONS_ACTIVATION_COUNT",
    "FUNCTIONS_AVERAGE_DURATION_MS",
    "FUNCTIONS_ERROR_RATE_PER_MINUTE",
    "FUNCTIONS_AVERAGE_WAIT_TIME_MS",
    "FUNCTIONS_ERROR_COUNT",
    "FUNCTIONS_GB_RATE_PER_SECOND",
    "REQUESTS_PER_SECOND",
    "REQUEST_DURATION_P95_MS",
  ],
  "alerts.operator": ["UNSPECIFIED_OPERATOR", "GREATER_THAN", "LESS_THAN"],
  "alerts.window": [
    "UNSPECIFIED_WINDOW",
    "FIVE_MINUTES",
    "TEN_MINUTES",
    "THIRTY_MINUTES",
    "ONE_HOUR",
  ],
  "databases.engine": ["UNSET", ...DATABASE_ENGINES],
};

/**
 * The closed values of an app spec in doctl's form (snake_case) that App Platform would refuse: region,
 * instance sizes and counts, and the enums of {@link SPEC_ENUMS}. One line per problem, with its
 * path in the spec (`services[0].instance_size_slug`); none when all is known.
 */
export function appSpecEnumProblems(spec: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const list = (value: unknown): Record<string, unknown>[] =>
    Array.isArray(value) ? (value as Record<string, unknown>[]) : [];
  const check = (where: string, enumKey: string, value: unknown) => {
    if (value === undefined) return;
    const allowed = SPEC_ENUMS[enumKey];
    if (!allowed.includes(String(value))) {
      problems.push(`${where}: "${String(value)}" is not one of ${allowed.join(", ")}`);
    }
  };
  const alerts = (where: string, items: unknown) =>
    list(items).forEach((alert, i) => {
      for (const field of ["rule", "operator", "window"]) {
        check(`${where}alerts[${i}].${field}`, `alerts.${field}`, alert[field]);
      }
    });
  if (spec.region !== undefined && !isAppPlatformRegion(String(spec.region))) {
    problems.push(
      `region: "${String(spec.region)}" is not one of ${APP_PLATFORM_REGIONS.join(", ")}`,
    );
  }
  alerts("", spec.alerts);
  list(spec.databases).forEach((db, i) =>
    check(`databases[${i}].engine`, "databases.engine", db.engine),
  );
  for (const kind of ["services", "workers", "jobs"]) {
    list(spec[kind]).forEach((component, i) => {
      const where = `${kind}[${i}].`;
      const size = component.instance_size_slug;
      if (
        size !== undefined &&
        !isInstanceSize(String(size)) &&
        !isDeprecatedInstanceSize(String(size))
      ) {
        problems.push(`${where}instance_size_slug: "${String(size)}" is not an App Platform size`);
      }
      if (
        SINGLE_INSTANCE_SIZES.includes(String(size)) &&
        Number(component.instance_count ?? 1) > 1
      ) {
        problems.push(`${where}instance_count: ${String(size)} allows one instance only`);
      }
      const image = component.image as Record<string, unknown> | undefined;
      check(`${where}image.registry_type`, "image.registry_type", image?.registry_type);
      list(component.envs).forEach((env, j) => {
        check(`${where}envs[${j}].type`, "envs.type", env.type);
        check(`${where}envs[${j}].scope`, "envs.scope", env.scope);
      });
      alerts(where, component.alerts);
    });
  }
  return problems;
}
