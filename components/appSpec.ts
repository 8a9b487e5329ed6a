import type * as digitalocean from "@pulumi/digitalocean";
import type * as pulumi from "@pulumi/pulumi";

/**
 * The App Platform app spec of a release, as plain data (with the digest and the secret values as
 * Inputs), and its doctl form for the offline plan. No resources here: `AppDeployment` passes the
 * spec to `digitalocean.App`, the tests and `npm run plan` read it.
 */

type AppSpec = digitalocean.types.input.AppSpec;

/** App Platform health check thresholds (config `deploy.healthCheck`). */
export interface HealthCheckThresholds {
  initialDelaySeconds: number;
  periodSeconds: number;
  timeoutSeconds: number;
  failureThreshold: number;
  successThreshold: number;
}

/** Alert settings (config `deploy.alerts`) with the Slack webhook URLs (secrets) resolved per channel. */
export interface AlertSettings {
  emails: string[];
  slack: { channel: string; url: pulumi.Input<string> }[];
  cpuPercent: number;
  memPercent: number;
  restarts: number;
}

/** A managed database bound to the app (config `deploy.database`). */
export interface DatabaseBinding {
  clusterName: string;
  engine: "PG" | "MYSQL" | "REDIS";
  dbName?: string;
  dbUser?: string;
}

/** The app spec of a release; {@link AppDeploymentArgs} takes the same fields from config. */
export interface AppSpecInput {
  /** App name, unique in the account (see {@link appName}). */
  name: string;
  /** Service (component) name: the app's name (config `app.name`). */
  service: string;
  /** App Platform region slug, e.g. `fra` (config `deploy.region`). */
  region: string;
  /** DOCR repository name (the registry is the account's own: `registry` stays empty for DOCR). */
  repository: string;
  /** The release's manifest digest: the service runs exactly this image, never a tag. */
  digest: pulumi.Input<string>;
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
  /** Secret variables (`type: SECRET`), by name (config `deploy.secretEnv`, values from `slipway:secrets`). */
  secretEnv: Record<string, pulumi.Input<string>>;
  /** Managed database binding. Default none. */
  database?: DatabaseBinding;
  /** Command of a PRE_DEPLOY job on the same image (e.g. an Odoo module upgrade). Default none. */
  preDeployCommand?: string;
  /** Alert thresholds and destinations. */
  alerts: AlertSettings;
}

/** The database component's name in the spec; its bindable variables are `${db.DATABASE_URL}`... */
export const DATABASE_COMPONENT = "db";

/** Alert window for the resource alerts. */
const WINDOW = "FIVE_MINUTES";

/**
 * The App name: the config's app name for prod, `<name>-<environment>` otherwise, so a dev and a
 * prod stack can live in one account (App names are unique per account, 2-32 characters).
 */
export function appName(name: string, environment: string): string {
  if (environment === "prod") return name;
  return `${name}-${environment}`.slice(0, 32).replace(/-+$/, "");
}

interface Destinations {
  emails?: string[];
  slackWebhooks?: { channel: string; url: pulumi.Input<string> }[];
}

function destinations(alerts: AlertSettings): Destinations {
  const out: Destinations = {};
  if (alerts.emails.length > 0) out.emails = [...alerts.emails];
  if (alerts.slack.length > 0) out.slackWebhooks = alerts.slack.map((s) => ({ ...s }));
  return out;
}

/** Plain variables in key order, then secret ones (`SECRET`), runtime scope. */
function envs(input: AppSpecInput) {
  const plain = { ...input.env };
  if (
    input.database !== undefined &&
    plain.DATABASE_URL === undefined &&
    input.secretEnv.DATABASE_URL === undefined
  ) {
    plain.DATABASE_URL = `\${${DATABASE_COMPONENT}.DATABASE_URL}`;
  }
  const secretNames = Object.keys(input.secretEnv).sort();
  return [
    ...Object.keys(plain)
      .filter((key) => !secretNames.includes(key))
      .sort()
      .map((key) => ({ key, value: plain[key], scope: "RUN_TIME", type: "GENERAL" })),
    ...secretNames.map((key) => ({
      key,
      value: input.secretEnv[key],
      scope: "RUN_TIME",
      type: "SECRET",
    })),
  ];
}

/** The `digitalocean.App` spec of a release. */
export function appPlatformSpec(input: AppSpecInput): AppSpec {
  const dest = destinations(input.alerts);
  const hasDest = Object.keys(dest).length > 0;
  const withDest = hasDest ? { destinations: dest } : {};
  const image = { registryType: "DOCR", repository: input.repository, digest: input.digest };
  const variables = envs(input);
  return {
    name: input.name,
    region: input.region,
    alerts: ["DEPLOYMENT_FAILED", "DEPLOYMENT_LIVE", "DOMAIN_FAILED"].map((rule) => ({
      rule,
      ...withDest,
    })),
    services: [
      {
        name: input.service,
        image,
        httpPort: input.port,
        instanceCount: input.instanceCount,
        instanceSizeSlug: input.instanceSizeSlug,
        healthCheck: { httpPath: input.healthPath, port: input.port, ...input.healthCheck },
        envs: variables,
        alerts: [
          { rule: "CPU_UTILIZATION", value: input.alerts.cpuPercent },
          { rule: "MEM_UTILIZATION", value: input.alerts.memPercent },
          { rule: "RESTART_COUNT", value: input.alerts.restarts },
        ].map((a) => ({ ...a, operator: "GREATER_THAN", window: WINDOW, ...withDest })),
      },
    ],
    ...(input.preDeployCommand === undefined
      ? {}
      : {
          jobs: [
            {
              name: "pre-deploy",
              kind: "PRE_DEPLOY",
              image,
              runCommand: input.preDeployCommand,
              instanceCount: 1,
              instanceSizeSlug: input.instanceSizeSlug,
              envs: variables,
            },
          ],
        }),
    ...(input.database === undefined
      ? {}
      : {
          databases: [
            {
              name: DATABASE_COMPONENT,
              engine: input.database.engine,
              clusterName: input.database.clusterName,
              production: true,
              ...(input.database.dbName === undefined ? {} : { dbName: input.database.dbName }),
              ...(input.database.dbUser === undefined ? {} : { dbUser: input.database.dbUser }),
            },
          ],
        }),
  };
}

/**
 * The paths (as `ignoreChanges` takes them) of every SECRET env value in the App's spec: the service's
 * and the PRE_DEPLOY job's. Only the names matter (the values may be unknown Outputs), so the paths are
 * those of a spec built with the same names.
 */
export function secretValuePaths(input: AppSpecInput): string[] {
  const names = Object.fromEntries(Object.keys(input.secretEnv).map((key) => [key, ""]));
  // Built here from plain values only, so the plain JSON view of it is exact.
  type Component = { envs?: { type?: string }[] };
  const spec = JSON.parse(JSON.stringify(appPlatformSpec({ ...input, secretEnv: names }))) as {
    services?: Component[];
    jobs?: Component[];
  };
  const paths: string[] = [];
  const collect = (kind: string, list: Component[] | undefined) =>
    (list ?? []).forEach((component, i) =>
      (component.envs ?? []).forEach((env, j) => {
        if (env.type === "SECRET") paths.push(`spec.${kind}[${i}].envs[${j}].value`);
      }),
    );
  collect("services", spec.services);
  collect("jobs", spec.jobs);
  return paths;
}

/** `instanceSizeSlug` → `instance_size_slug`. */
function snake(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** Where an alert's destinations went (doctl's spec has none: the provider sets them through the API). */
export interface AlertDestinations {
  /** `alerts[0]` or `services[0].alerts[1]`, in the doctl spec. */
  path: string;
  rule: string;
  destinations: unknown;
}

function convert(value: unknown, path: string, found: AlertDestinations[]): unknown {
  if (Array.isArray(value)) return value.map((v, i) => convert(v, `${path}[${i}]`, found));
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  const obj = value as Record<string, unknown>;
  const isAlert = /(^|\.)alerts\[\d+\]$/.test(path);
  // `name` first, the rest in key order: as people write app specs.
  const keys = Object.keys(obj).sort((a, b) =>
    a === "name" ? -1 : b === "name" ? 1 : a < b ? -1 : a > b ? 1 : 0,
  );
  for (const key of keys) {
    if (obj[key] === undefined) continue;
    if (isAlert && key === "destinations") {
      found.push({ path, rule: String(obj.rule), destinations: convert(obj[key], "", []) });
      continue;
    }
    const name = snake(key);
    out[name] = convert(obj[key], path === "" ? name : `${path}.${name}`, found);
  }
  return out;
}

/**
 * The spec in doctl's app spec form (`doctl apps spec validate` reads it): snake_case keys, and no
 * alert `destinations`, which are not part of App Platform's spec (the provider sets them through the
 * alerts API after the deploy): they are returned beside it.
 */
export function doctlAppSpec(spec: unknown): {
  spec: Record<string, unknown>;
  alertDestinations: AlertDestinations[];
} {
  const found: AlertDestinations[] = [];
  const converted = convert(spec, "", found) as Record<string, unknown>;
  return { spec: converted, alertDestinations: found };
}
