import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import {
  ConfigError,
  loadReleaseSettings,
  OFFLINE_SECRET_PLACEHOLDER,
  withOfflineSecrets,
} from "../../stacks";
import { engineConfig } from "./config-fixtures";

/** The loader under Pulumi's mock runtime, with config handed over as the engine does. */

const SECRETS = "slipway:secrets";
const PASSWORD = "correct-horse-battery-staple";
const WEBHOOK = "https://hooks.slack.com/services/T000/B000/XXXXSECRETXXXX";
/** App Platform stacks need the DigitalOcean token: the registry credential (stacks/load.ts). */
const TOKEN_KEY = "digitalocean:token";
const TOKEN = "dop_v1_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/** The committed prod stack as the engine hands it over, with the token set as `--secret`. */
function prodConfig(extra: Record<string, string> = {}): Record<string, string> {
  return { ...engineConfig("prod"), [TOKEN_KEY]: TOKEN, ...extra };
}

async function useStack(
  stack: string,
  config: Record<string, string>,
  secretKeys: string[] = [],
): Promise<void> {
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => ({ id: `${args.name}-id`, state: args.inputs }),
      call: (args) => args.inputs,
    },
    "slipway",
    stack,
    false,
  );
  pulumi.runtime.setAllConfig(config, secretKeys);
}

function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((value) => resolve(value)));
}

/** The ConfigError the loader throws (fails when it loads). */
function loadError(): ConfigError {
  try {
    loadReleaseSettings();
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error;
  }
  assert.fail("expected loadReleaseSettings to throw a ConfigError");
}

const prodSecrets = JSON.stringify({
  ODOO_ADMIN_PASSWD: PASSWORD,
  slack: { "odoo-releases": WEBHOOK },
});

describe("config loader (pulumi mocks)", () => {
  after(() => pulumi.runtime.setAllConfig({}, []));

  it("loads the prod stack with its secrets as secret Outputs", async () => {
    await useStack("prod", prodConfig({ [SECRETS]: prodSecrets }), [SECRETS, TOKEN_KEY]);
    const settings = loadReleaseSettings();
    assert.equal(settings.stack, "prod");
    assert.equal(settings.config.environment, "prod");
    assert.equal(settings.config.deploy.instanceCount, 2);
    assert.deepEqual(Object.keys(settings.secretEnv), ["ODOO_ADMIN_PASSWD"]);
    assert.deepEqual(Object.keys(settings.slackWebhooks), ["odoo-releases"]);
    const password = settings.secretEnv.ODOO_ADMIN_PASSWD;
    const webhook = settings.slackWebhooks["odoo-releases"];
    assert.equal(await pulumi.isSecret(password), true);
    assert.equal(await pulumi.isSecret(webhook), true);
    assert.equal(await valueOf(password), PASSWORD);
    assert.equal(await valueOf(webhook), WEBHOOK);
  });

  it("takes a secret the CLI stored as a number as its text", async () => {
    const secrets = JSON.stringify({
      ODOO_ADMIN_PASSWD: 123456,
      slack: { "odoo-releases": WEBHOOK },
    });
    await useStack("prod", prodConfig({ [SECRETS]: secrets }), [SECRETS, TOKEN_KEY]);
    assert.equal(await valueOf(loadReleaseSettings().secretEnv.ODOO_ADMIN_PASSWD), "123456");
  });

  it("loads the local stack as committed: no secrets asked, none given", async () => {
    await useStack("local", engineConfig("local"));
    const settings = loadReleaseSettings();
    assert.equal(settings.config.deploy.target, "local");
    assert.deepEqual(settings.secretEnv, {});
    assert.deepEqual(settings.slackWebhooks, {});
  });

  it("ignores other namespaces, secret or not (digitalocean:token)", async () => {
    await useStack(
      "local",
      { ...engineConfig("local"), "digitalocean:token": "dop_v1_x", "aws:region": "eu-west-1" },
      ["digitalocean:token"],
    );
    assert.equal(loadReleaseSettings().config.environment, "local");
  });

  it("rejects a secret env name or Slack channel that has no secret value", async () => {
    await useStack("prod", prodConfig(), [TOKEN_KEY]);
    const error = loadError();
    assert.ok(error.message.startsWith("CONFIG_INVALID: 2 problems"), error.message);
    assert.deepEqual(
      error.problems.map((l) => l.slice(0, l.indexOf(": "))),
      ["slipway:secrets.ODOO_ADMIN_PASSWD", "slipway:secrets.slack.odoo-releases"],
    );
    assert.match(error.message, /pulumi config set --secret --path 'secrets.ODOO_ADMIN_PASSWD'/);
  });

  it("throws ONE ConfigError listing plain, rule and secret problems together", async () => {
    const app = JSON.parse(engineConfig("prod")["slipway:app"]) as Record<string, unknown>;
    const config = {
      ...prodConfig(),
      "slipway:app": JSON.stringify({ ...app, port: "80x" }),
      "slipway:scan": JSON.stringify({ enabled: false }),
      "slipway:scna": JSON.stringify({}),
      [SECRETS]: JSON.stringify({ slack: { "odoo-releases": WEBHOOK } }),
    };
    await useStack("prod", config, [SECRETS, TOKEN_KEY]);
    const error = loadError();
    assert.ok(
      error.message.startsWith(
        'CONFIG_INVALID: 4 problems in the slipway config of stack "prod"\n',
      ),
    );
    assert.deepEqual(
      error.problems.map((l) => l.slice(0, l.indexOf(": "))),
      [
        "slipway:app.port",
        "slipway:scan.enabled",
        "slipway:scna",
        "slipway:secrets.ODOO_ADMIN_PASSWD",
      ],
    );
    for (const line of error.problems) assert.ok(error.message.includes(`\n${line}\n`), line);
  });

  it("checks the secret names even when the rest of the config is invalid", async () => {
    const config = { ...prodConfig(), "slipway:tests": JSON.stringify({}) };
    await useStack("prod", config, [TOKEN_KEY]);
    const paths = loadError().problems.map((l) => l.slice(0, l.indexOf(": ")));
    assert.ok(paths.includes("slipway:tests.command"));
    assert.ok(paths.includes("slipway:secrets.ODOO_ADMIN_PASSWD"));
  });

  it("does not call secrets unused when the list naming them is itself malformed", async () => {
    const deploy = JSON.parse(engineConfig("prod")["slipway:deploy"]) as Record<string, unknown>;
    const config = {
      ...prodConfig(),
      "slipway:deploy": JSON.stringify({ ...deploy, secretEnv: "ODOO_ADMIN_PASSWD" }),
      [SECRETS]: prodSecrets,
    };
    await useStack("prod", config, [SECRETS, TOKEN_KEY]);
    assert.deepEqual(loadError().problems, [
      'slipway:deploy.secretEnv: expected a list, got "ODOO_ADMIN_PASSWD"',
    ]);
  });

  it("never puts a secret value in its messages", async () => {
    const secrets = JSON.stringify({
      ODOO_ADMIN_PASSWD: { nested: PASSWORD },
      UNUSED_TOKEN: "leak-me-if-you-can",
      slack: { "odoo-releases": "http://leak-me.example/hook", other: WEBHOOK },
    });
    await useStack("prod", prodConfig({ [SECRETS]: secrets }), [SECRETS, TOKEN_KEY]);
    const error = loadError();
    assert.deepEqual(
      error.problems.map((l) => l.slice(0, l.indexOf(": "))),
      [
        "slipway:secrets.ODOO_ADMIN_PASSWD",
        "slipway:secrets.UNUSED_TOKEN",
        "slipway:secrets.slack.odoo-releases",
        "slipway:secrets.slack.other",
      ],
    );
    for (const value of [PASSWORD, "leak-me", WEBHOOK, "XXXXSECRETXXXX", TOKEN]) {
      assert.ok(!error.message.includes(value), `the message shows ${value}`);
    }
  });

  it("asks an App Platform stack for the DigitalOcean token, from config or DIGITALOCEAN_TOKEN", async () => {
    const saved = process.env.DIGITALOCEAN_TOKEN;
    delete process.env.DIGITALOCEAN_TOKEN;
    try {
      await useStack("prod", { ...engineConfig("prod"), [SECRETS]: prodSecrets }, [SECRETS]);
      assert.deepEqual(loadError().problems, [
        `slipway:registry: needs the DigitalOcean API token to push candidates and promote releases: pulumi config set --secret ${TOKEN_KEY} <token> (or export DIGITALOCEAN_TOKEN)`,
      ]);
      await useStack("prod", prodConfig({ [SECRETS]: prodSecrets, [TOKEN_KEY]: " " }), [
        SECRETS,
        TOKEN_KEY,
      ]);
      assert.match(loadError().problems.join("\n"), /^slipway:registry: needs the DigitalOcean/);
      process.env.DIGITALOCEAN_TOKEN = TOKEN;
      await useStack("prod", { ...engineConfig("prod"), [SECRETS]: prodSecrets }, [SECRETS]);
      assert.equal(loadReleaseSettings().stack, "prod");
    } finally {
      if (saved === undefined) delete process.env.DIGITALOCEAN_TOKEN;
      else process.env.DIGITALOCEAN_TOKEN = saved;
    }
  });

  it("rejects an empty secret value", async () => {
    const secrets = JSON.stringify({ ODOO_ADMIN_PASSWD: "", slack: { "odoo-releases": WEBHOOK } });
    await useStack("prod", prodConfig({ [SECRETS]: secrets }), [SECRETS, TOKEN_KEY]);
    assert.deepEqual(loadError().problems, ["slipway:secrets.ODOO_ADMIN_PASSWD: is empty"]);
  });

  it("rejects secrets stored in plain text (set without --secret)", async () => {
    await useStack("prod", prodConfig({ [SECRETS]: prodSecrets }), [TOKEN_KEY]);
    const error = loadError();
    assert.equal(error.problems.length, 1);
    assert.match(error.problems[0], /^slipway:secrets: is stored in plain text/);
    assert.ok(!error.message.includes(PASSWORD));
  });

  it("rejects a plain key that holds a secret (it would reach resource inputs in clear)", async () => {
    await useStack("prod", prodConfig({ [SECRETS]: prodSecrets }), [
      SECRETS,
      TOKEN_KEY,
      "slipway:deploy",
    ]);
    const error = loadError();
    assert.equal(error.problems.length, 1, error.message);
    assert.match(error.problems[0], /^slipway:deploy: holds a secret value/);
    assert.ok(!error.message.includes('ODOO_ADMIN_PASSWD"'), "no value of the key is shown");
  });

  it("reports a key that should be an object but is text, without a JSON error", async () => {
    await useStack("local", { ...engineConfig("local"), "slipway:app": "odoo" });
    assert.deepEqual(loadError().problems, ['slipway:app: expected an object, got "odoo"']);
  });

  it("needs slipway:environment on a stack not named after one", async () => {
    await useStack("feature-x", engineConfig("local"));
    assert.match(
      loadError().problems.join("\n"),
      /^slipway:environment: missing: stack "feature-x"/,
    );
    await useStack("feature-x", { ...engineConfig("local"), "slipway:environment": "local" });
    assert.equal(loadReleaseSettings().config.environment, "local");
  });

  it("is a RunError, so the Pulumi CLI prints the message without a stack trace", async () => {
    await useStack("prod", prodConfig(), [TOKEN_KEY]);
    assert.ok(pulumi.RunError.isInstance(loadError()));
  });
});

describe("config loader: offline plan secrets", () => {
  after(() => pulumi.runtime.setAllConfig({}, []));

  it("fills every secret the prod stack asks for with a placeholder, and says which", async () => {
    const offline = withOfflineSecrets(engineConfig("prod"));
    assert.deepEqual(offline.placeholders, [
      "secrets.ODOO_ADMIN_PASSWD",
      "secrets.slack.odoo-releases",
      TOKEN_KEY,
    ]);
    assert.deepEqual(offline.secretKeys, [SECRETS, TOKEN_KEY]);
    assert.equal(offline.config[TOKEN_KEY], OFFLINE_SECRET_PLACEHOLDER);
    await useStack("prod", offline.config, offline.secretKeys);
    const settings = loadReleaseSettings();
    assert.equal(await valueOf(settings.secretEnv.ODOO_ADMIN_PASSWD), OFFLINE_SECRET_PLACEHOLDER);
    assert.equal(await pulumi.isSecret(settings.slackWebhooks["odoo-releases"]), true);
  });

  it("replaces encrypted values it cannot read and keeps clear ones given with --set", () => {
    const config = {
      ...engineConfig("prod"),
      [SECRETS]: JSON.stringify({
        ODOO_ADMIN_PASSWD: { secure: "AAABAGx..." },
        slack: { "odoo-releases": WEBHOOK },
      }),
    };
    const offline = withOfflineSecrets(config);
    assert.deepEqual(offline.placeholders, ["secrets.ODOO_ADMIN_PASSWD", TOKEN_KEY]);
    assert.deepEqual(JSON.parse(offline.config[SECRETS]), {
      ODOO_ADMIN_PASSWD: OFFLINE_SECRET_PLACEHOLDER,
      slack: { "odoo-releases": WEBHOOK },
    });
    const clearToken = withOfflineSecrets({ ...config, [TOKEN_KEY]: TOKEN });
    assert.deepEqual(clearToken.placeholders, ["secrets.ODOO_ADMIN_PASSWD"]);
    assert.equal(clearToken.config[TOKEN_KEY], TOKEN);
    assert.deepEqual(clearToken.secretKeys, [SECRETS, TOKEN_KEY]);
    const encrypted = JSON.stringify({ secure: "AAABAHx..." });
    const sealedToken = withOfflineSecrets({ ...config, [TOKEN_KEY]: encrypted });
    assert.deepEqual(sealedToken.placeholders, ["secrets.ODOO_ADMIN_PASSWD", TOKEN_KEY]);
    assert.equal(sealedToken.config[TOKEN_KEY], OFFLINE_SECRET_PLACEHOLDER);
  });

  it("leaves a stack that asks for no secrets as it is", () => {
    const offline = withOfflineSecrets(engineConfig("local"));
    assert.deepEqual(offline, { config: engineConfig("local"), secretKeys: [], placeholders: [] });
  });
});
