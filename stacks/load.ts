import * as pulumi from "@pulumi/pulumi";
import { CODES } from "../gates/codes";
import {
  formatProblems,
  keysAt,
  NAMESPACE,
  PathSegment,
  Problem,
  problemsFromIssues,
} from "./errors";
import { configNotices, releaseConfigSchema } from "./rules";
import { secretsFingerprint } from "./secretsFingerprint";
import { isEnvironment, ReleaseConfig } from "./schema";

/**
 * The one config loader: every `slipway:*` key of the stack → a validated {@link ReleaseConfig} with its
 * defaults, plus the secrets as secret Outputs. Any problem, anywhere, ends in ONE {@link ConfigError}
 * listing all of them, thrown before a single resource is registered (so `pulumi preview` fails, and
 * nothing is built).
 */

/** The config key holding every secret value (`pulumi config set --secret --path secrets.<NAME>`). */
export const SECRETS_KEY = "secrets";
/** Inside `slipway:secrets`: the Slack webhook URLs, one per channel of `deploy.alerts.slackChannels`. */
export const SLACK_KEY = "slack";
/** Top-level keys whose value is text, not an object. */
const TEXT_KEYS: ReadonlySet<string> = new Set(["environment", "baseImage"]);

/**
 * The config is invalid. The message is `CONFIG_INVALID: ...` followed by one line per problem,
 * `slipway:<path>: <what is wrong>`, and what to do. A `pulumi.RunError`, so the Pulumi CLI prints the
 * message alone, without a stack trace of the program.
 */
export class ConfigError extends pulumi.RunError {
  readonly code = "CONFIG_INVALID" as const;
  /** The problem lines, `slipway:<path>: <message>`, ordered by path. */
  readonly problems: readonly string[];

  constructor(stack: string, problems: readonly string[]) {
    const count = problems.length === 1 ? "1 problem" : `${problems.length} problems`;
    super(
      [
        `CONFIG_INVALID: ${count} in the ${NAMESPACE} config of stack "${stack}"`,
        ...problems,
        `${CODES.CONFIG_INVALID.remedy} The keys are described in docs/config.md.`,
      ].join("\n"),
    );
    this.name = "ConfigError";
    this.problems = problems;
  }
}

/** What the program needs from the config: the validated config and the secrets, still secret. */
export interface ReleaseSettings {
  stack: string;
  /** Validated, defaults applied. */
  config: ReleaseConfig;
  /** `deploy.secretEnv` name → its secret value. */
  secretEnv: Record<string, pulumi.Output<string>>;
  /** `deploy.alerts.slackChannels` channel → its secret webhook URL. */
  slackWebhooks: Record<string, pulumi.Output<string>>;
  /**
   * App Platform: the DigitalOcean API token the provider uses (`digitalocean:token`, else
   * DIGITALOCEAN_TOKEN), secret: the registry credential of the builds and the registry gates.
   */
  registryToken?: pulumi.Output<string>;
  /** `secretsFingerprint` of the `deploy.secretEnv` values: changes exactly when one of them does. */
  secretsFingerprint: string;
  /**
   * Warnings about what preview cannot check (`slipway:<path>: ...`, from rules.ts `configNotices`):
   * index.ts logs each with `pulumi.log.warn`. Never a reason to fail.
   */
  notices: string[];
}

/** Where the DigitalOcean provider takes its token from; the registry steps take the same. */
export const TOKEN_CONFIG = "digitalocean:token";
export const TOKEN_ENV = "DIGITALOCEAN_TOKEN";

/** The result of checking the plain config: the config when valid, and every problem found. */
export interface ConfigCheck {
  config?: ReleaseConfig;
  problems: Problem[];
}

const knownKeys = (path: readonly PathSegment[]) => {
  const keys = keysAt(releaseConfigSchema, path);
  return path.length === 0 && keys !== undefined ? [...keys, SECRETS_KEY] : keys;
};

/**
 * Checks the plain config of a stack (every `slipway:*` key, without the prefix; `secrets` is ignored
 * here: the loader reads it as secrets). `environment` defaults to the stack name when the stack is
 * named `dev`, `prod` or `local`; a stack so named cannot claim another environment (a `prod` stack
 * cannot opt out of prod's rules).
 */
export function checkReleaseConfig(raw: Record<string, unknown>, stack: string): ConfigCheck {
  const input: Record<string, unknown> = { ...raw };
  delete input[SECRETS_KEY];
  const problems: Problem[] = [];

  if (input.environment === undefined) {
    if (isEnvironment(stack)) {
      input.environment = stack;
    } else {
      problems.push({
        path: ["environment"],
        message: `missing: stack "${stack}" is not named dev, prod or local, so say which rules it follows: pulumi config set slipway:environment prod (or dev, local)`,
      });
    }
  } else if (isEnvironment(stack) && input.environment !== stack) {
    problems.push({
      path: ["environment"],
      message: `is ${JSON.stringify(input.environment)} but the stack is named "${stack}": a stack named after an environment follows its rules (pulumi config rm slipway:environment)`,
    });
  }

  const result = releaseConfigSchema.safeParse(input);
  if (!result.success) {
    const issues = result.error.issues.filter(
      // Already said better above.
      (issue) => !(input.environment === undefined && issue.path.join(".") === "environment"),
    );
    problems.push(...problemsFromIssues(issues, input, knownKeys));
  }
  return result.success && problems.length === 0 ? { config: result.data, problems } : { problems };
}

/**
 * Pure: the plain config of a stack (keys without the `slipway:` prefix) → the validated config with
 * its defaults, or ONE {@link ConfigError} listing every problem. Secrets are not its business.
 */
export function parseReleaseConfig(raw: Record<string, unknown>, stack: string): ReleaseConfig {
  const checked = checkReleaseConfig(raw, stack);
  if (checked.config === undefined) throw new ConfigError(stack, formatProblems(checked.problems));
  return checked.config;
}

// ---- secrets ---------------------------------------------------------------------------------

/** What is known about `slipway:secrets` without looking at a value: which names have one. */
export interface SecretInventory {
  /** Names under `secrets` that hold a usable text value. */
  env: Set<string>;
  /** Channels under `secrets.slack` that hold an https URL. */
  slack: Set<string>;
  problems: Problem[];
}

const HOW_TO_SET = "pulumi config set --secret --path";

function isText(value: unknown): value is string | number | boolean {
  return typeof value === "string" || typeof value === "number" || typeof value === "boolean";
}

/**
 * Takes stock of the secrets object (`pulumi.runtime.getConfig("slipway:secrets")`, JSON) without ever
 * putting a value in a message: only names, and whether each value has the right form (text, not
 * empty; Slack: an https URL).
 */
export function inspectSecrets(json: string | undefined): SecretInventory {
  const inventory: SecretInventory = { env: new Set(), slack: new Set(), problems: [] };
  if (json === undefined) return inventory;
  const problem = (path: PathSegment[], message: string) =>
    inventory.problems.push({ path: [SECRETS_KEY, ...path], message });
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    parsed = undefined;
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    problem(
      [],
      `expected an object of named secrets (value not shown): set each with ${HOW_TO_SET} 'secrets.<NAME>' <value>`,
    );
    return inventory;
  }
  for (const [name, value] of Object.entries(parsed)) {
    if (name === SLACK_KEY) {
      if (value === null || typeof value !== "object" || Array.isArray(value)) {
        problem(
          [SLACK_KEY],
          `expected an object of channel webhook URLs: ${HOW_TO_SET} 'secrets.slack.<channel>' <url>`,
        );
        continue;
      }
      for (const [channel, url] of Object.entries(value as Record<string, unknown>)) {
        if (typeof url === "string" && url.startsWith("https://")) inventory.slack.add(channel);
        else problem([SLACK_KEY, channel], "expected an https:// webhook URL (value not shown)");
      }
    } else if (!isText(value)) {
      problem([name], "expected a text value (value not shown)");
    } else if (String(value).length === 0) {
      problem([name], "is empty");
    } else {
      inventory.env.add(name);
    }
  }
  return inventory;
}

/** The secret names a config asks for; a list is undefined when the config does not say clearly. */
export interface SecretNames {
  env?: readonly string[];
  slack?: readonly string[];
}

/**
 * Best effort when the config did not validate: the names it seems to ask for, so those checks still
 * run. A list that is absent means its default (none); one that is not a list of text is unknown.
 */
function namesFromRaw(raw: Record<string, unknown>): SecretNames {
  const list = (value: unknown): readonly string[] | undefined => {
    if (value === undefined) return [];
    return Array.isArray(value) && value.every((v) => typeof v === "string") ? value : undefined;
  };
  const isObject = (value: unknown): value is Record<string, unknown> =>
    value !== null && typeof value === "object" && !Array.isArray(value);
  const deploy = raw.deploy;
  if (!isObject(deploy)) return {};
  const alerts = deploy.alerts;
  return {
    env: list(deploy.secretEnv),
    slack: alerts === undefined ? [] : isObject(alerts) ? list(alerts.slackChannels) : undefined,
  };
}

/**
 * Every name asked for has a value, and every value is asked for (an unused secret is usually a
 * misspelt name). A list of names that is unknown (`undefined`) is not checked either way.
 */
export function secretProblems(inventory: SecretInventory, names: SecretNames): Problem[] {
  const problems: Problem[] = [];
  const malformed = (path: readonly PathSegment[]) =>
    inventory.problems.some((p) => p.path.join("\u0000") === path.join("\u0000"));
  const check = (
    wanted: readonly string[] | undefined,
    present: ReadonlySet<string>,
    prefix: PathSegment[],
    how: { listKey: string; set: string; value: string },
  ) => {
    if (wanted === undefined) return;
    const dotted = prefix.join(".");
    for (const name of new Set(wanted)) {
      const path = [...prefix, name];
      if (present.has(name) || malformed(path)) continue;
      problems.push({
        path,
        message: `missing: ${how.listKey} names it; set ${how.set} with ${HOW_TO_SET} '${dotted}.${name}' <${how.value}>`,
      });
    }
    for (const name of present) {
      if (wanted.includes(name)) continue;
      problems.push({
        path: [...prefix, name],
        message: `unused: add it to ${how.listKey}, or remove it (pulumi config rm --path '${dotted}.${name}')`,
      });
    }
  };
  check(names.env, inventory.env, [SECRETS_KEY], {
    listKey: "deploy.secretEnv",
    set: "it",
    value: "value",
  });
  check(names.slack, inventory.slack, [SECRETS_KEY, SLACK_KEY], {
    listKey: "deploy.alerts.slackChannels",
    set: "its webhook URL",
    value: "url",
  });
  return problems;
}

// ---- the loader ------------------------------------------------------------------------------

/**
 * Whether a config key was set with `--secret`. `isConfigSecret` is exported by @pulumi/pulumi's
 * runtime (it knows the engine's secret keys) but absent from its typings; where it is missing, the
 * checks that use it are skipped rather than guessed.
 */
function secretKeyCheck(): ((key: string) => boolean) | undefined {
  const runtime = pulumi.runtime as typeof pulumi.runtime & {
    isConfigSecret?: (key: string) => boolean;
  };
  return typeof runtime.isConfigSecret === "function" ? runtime.isConfigSecret : undefined;
}

/** Every `slipway:*` key but `secrets`, read as Pulumi stores it (objects via `getObject`). */
function readPlainConfig(config: pulumi.Config): {
  raw: Record<string, unknown>;
  problems: Problem[];
  /** Keys left unread because they hold a secret (their own problem says so). */
  withheld: Set<string>;
} {
  const raw: Record<string, unknown> = {};
  const problems: Problem[] = [];
  const withheld = new Set<string>();
  const isSecret = secretKeyCheck();
  const prefix = `${NAMESPACE}:`;
  for (const fullKey of Object.keys(pulumi.runtime.allConfig()).sort()) {
    if (!fullKey.startsWith(prefix)) continue;
    const key = fullKey.slice(prefix.length);
    if (key === SECRETS_KEY) continue;
    if (isSecret?.(fullKey) === true) {
      // Read as plain config, a secret would land in resource inputs and the state in clear text.
      problems.push({
        path: [key],
        message: `holds a secret value: Slipway reads secrets only from slipway:secrets; set it there (${HOW_TO_SET} 'secrets.<NAME>' <value>, listed in deploy.secretEnv) and remove it here (pulumi config rm ${fullKey})`,
      });
      withheld.add(key);
      continue;
    }
    if (TEXT_KEYS.has(key)) {
      raw[key] = config.get(key);
      continue;
    }
    try {
      raw[key] = config.getObject<unknown>(key);
    } catch {
      // Not JSON: keep the text, so the schema says what it expected instead.
      raw[key] = config.get(key);
    }
  }
  return { raw, problems, withheld };
}

function textOf(value: unknown): string {
  return isText(value) ? String(value) : "";
}

/**
 * Reads and validates the current stack's config (`pulumi.getStack()`, `new pulumi.Config("slipway")`).
 *
 * Secrets: `slipway:secrets` is one secret object (`pulumi config set --secret --path
 * secrets.ODOO_ADMIN_PASSWD ...`, `secrets.slack.<channel>` for Slack webhooks). Its presence and form
 * are checked synchronously, in preview, from `pulumi.runtime.getConfig` (the raw value the engine
 * passed in: no Output, no warning, and nothing printed — only names reach messages). The values
 * handed on come from `Config.getSecretObject`, so they are secret Outputs from the start.
 *
 * @throws ConfigError listing every problem (plain keys, rules, secrets) at once.
 */
export function loadReleaseSettings(): ReleaseSettings {
  const stack = pulumi.getStack();
  const config = new pulumi.Config(NAMESPACE);
  const read = readPlainConfig(config);
  const checked = checkReleaseConfig(read.raw, stack);

  const secretsKey = `${NAMESPACE}:${SECRETS_KEY}`;
  const secretsJson = pulumi.runtime.getConfig(secretsKey);
  const inventory = inspectSecrets(secretsJson);
  const names: SecretNames =
    checked.config !== undefined
      ? { env: checked.config.deploy.secretEnv, slack: checked.config.deploy.alerts.slackChannels }
      : read.withheld.has("deploy")
        ? {}
        : namesFromRaw(read.raw);
  const problems = [
    ...read.problems,
    // A withheld key is reported once, as holding a secret, not again as missing.
    ...checked.problems.filter((p) => !read.withheld.has(String(p.path[0]))),
    ...inventory.problems,
    ...secretProblems(inventory, names),
  ];
  if (secretsJson !== undefined && secretKeyCheck()?.(secretsKey) === false) {
    problems.push({
      path: [SECRETS_KEY],
      message: `is stored in plain text (set without --secret): remove it (pulumi config rm ${secretsKey}) and set each value with ${HOW_TO_SET} 'secrets.<NAME>' <value>`,
    });
  }
  const token = pulumi.runtime.getConfig(TOKEN_CONFIG) ?? process.env[TOKEN_ENV];
  if (checked.config?.deploy.target === "app-platform" && (token ?? "").trim() === "") {
    problems.push({
      path: ["registry"],
      message: `needs the DigitalOcean API token to push candidates and promote releases: pulumi config set --secret ${TOKEN_CONFIG} <token> (or export ${TOKEN_ENV})`,
    });
  }
  if (problems.length > 0 || checked.config === undefined) {
    throw new ConfigError(stack, formatProblems(problems));
  }

  const secretEnv: Record<string, pulumi.Output<string>> = {};
  const slackWebhooks: Record<string, pulumi.Output<string>> = {};
  const secrets = config.getSecretObject<Record<string, unknown>>(SECRETS_KEY);
  if (secrets !== undefined) {
    for (const name of checked.config.deploy.secretEnv) {
      secretEnv[name] = secrets.apply((all) => textOf(all[name]));
    }
    for (const channel of checked.config.deploy.alerts.slackChannels) {
      slackWebhooks[channel] = secrets.apply((all) =>
        textOf((all[SLACK_KEY] as Record<string, unknown> | undefined)?.[channel]),
      );
    }
  }
  const plainSecrets = JSON.parse(secretsJson ?? "{}") as Record<string, unknown>;
  const wanted: Record<string, string> = {};
  for (const name of checked.config.deploy.secretEnv) wanted[name] = textOf(plainSecrets[name]);
  return {
    stack,
    config: checked.config,
    secretEnv,
    slackWebhooks,
    secretsFingerprint: secretsFingerprint(wanted, stack),
    notices: configNotices(checked.config),
    ...(checked.config.deploy.target === "app-platform" && token !== undefined
      ? { registryToken: pulumi.secret(token) }
      : {}),
  };
}

// ---- offline plan ------------------------------------------------------------------------------

/** The value the offline plan stands in for a secret it cannot have. Never deployed: see below. */
export const OFFLINE_SECRET_PLACEHOLDER = "offline-placeholder";
const OFFLINE_SLACK_PLACEHOLDER = "https://hooks.slack.com/services/OFFLINE/PLACEHOLDER";

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A `{ secure: "..." }` leaf as a stack file holds an encrypted value. */
function isSecureLeaf(value: unknown): boolean {
  return (
    value !== null &&
    typeof value === "object" &&
    Object.keys(value).length === 1 &&
    typeof (value as Record<string, unknown>).secure === "string"
  );
}

/**
 * For the offline plan only (`npm run plan`, which runs the program under Pulumi's mocks without the
 * CLI, so without the stack's encryption key): completes a stack's config map (`slipway:<key>` →
 * the value as Pulumi passes it, JSON for objects) with placeholder values for every secret the config
 * asks for and does not hold in clear, including encrypted `{secure: ...}` leaves it cannot decrypt.
 *
 * The loader itself never invents a secret: under `pulumi preview/up` a missing secret is a config
 * error. Only this function, called by the plan, fills the gaps, and it says which (`placeholders`),
 * so the plan can print them. The plan prints every secret as `[secret]` anyway.
 */
export function withOfflineSecrets(config: Readonly<Record<string, string>>): {
  config: Record<string, string>;
  secretKeys: string[];
  placeholders: string[];
} {
  const secretsKey = `${NAMESPACE}:${SECRETS_KEY}`;
  const parse = (key: string): Record<string, unknown> => {
    try {
      const value: unknown = JSON.parse(config[key] ?? "{}");
      return value !== null && typeof value === "object" ? (value as Record<string, unknown>) : {};
    } catch {
      return {};
    }
  };
  const names = namesFromRaw({ deploy: parse(`${NAMESPACE}:deploy`) });
  const secrets = parse(secretsKey);
  const slackValue = secrets[SLACK_KEY];
  const slack: Record<string, unknown> =
    slackValue !== null && typeof slackValue === "object" ? { ...slackValue } : {};
  const placeholders: string[] = [];
  const fill = (
    bag: Record<string, unknown>,
    wanted: readonly string[],
    placeholder: string,
    prefix: string,
  ) => {
    const keys = new Set([...Object.keys(bag).filter((k) => isSecureLeaf(bag[k])), ...wanted]);
    for (const key of keys) {
      if (bag[key] !== undefined && !isSecureLeaf(bag[key])) continue;
      bag[key] = placeholder;
      placeholders.push(`${prefix}${key}`);
    }
  };
  fill(secrets, names.env ?? [], OFFLINE_SECRET_PLACEHOLDER, `${SECRETS_KEY}.`);
  fill(slack, names.slack ?? [], OFFLINE_SLACK_PLACEHOLDER, `${SECRETS_KEY}.${SLACK_KEY}.`);
  if (Object.keys(slack).length > 0) secrets[SLACK_KEY] = slack;

  const out = { ...config };
  if (Object.keys(secrets).length > 0) out[secretsKey] = JSON.stringify(secrets);
  const secretKeys = secretsKey in out ? [secretsKey] : [];
  const cloud = parse(`${NAMESPACE}:deploy`).target === "app-platform";
  if (cloud && (out[TOKEN_CONFIG] === undefined || isSecureLeaf(safeJson(out[TOKEN_CONFIG])))) {
    out[TOKEN_CONFIG] = OFFLINE_SECRET_PLACEHOLDER;
    placeholders.push(TOKEN_CONFIG);
  }
  if (out[TOKEN_CONFIG] !== undefined) secretKeys.push(TOKEN_CONFIG);
  return { config: out, secretKeys, placeholders };
}
