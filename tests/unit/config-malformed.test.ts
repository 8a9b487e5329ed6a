import assert from "node:assert/strict";
import { ConfigError, parseReleaseConfig } from "../../stacks";
import { DIGEST, rawConfig, StackName, withValues } from "./config-fixtures";

/**
 * Malformed configs, table-driven: a committed stack file, a few changes, and the `slipway:<path>`
 * the error must name (plus a word of what it must say). Each must fail with ONE ConfigError whose
 * message starts `CONFIG_INVALID: ` and holds that path on a line of its own.
 */
interface Case {
  name: string;
  stack?: StackName;
  /** Run under this stack name instead of the file's (default: the file's). */
  as?: string;
  changes: Record<string, unknown>;
  path: string;
  says?: RegExp;
}

const cases: Case[] = [
  // ---- types, formats and ranges (schema.ts) ----
  {
    name: "a port that is not a number",
    changes: { "app.port": "80x" },
    path: "slipway:app.port",
    says: /expected a number, got "80x"/,
  },
  {
    name: "a port out of range",
    changes: { "app.port": 70000 },
    path: "slipway:app.port",
    says: /<= 65535/,
  },
  {
    name: "a fractional port",
    changes: { "app.port": 80.5 },
    path: "slipway:app.port",
    says: /whole number/,
  },
  {
    name: "an app name with capitals",
    changes: { "app.name": "Odoo" },
    path: "slipway:app.name",
    says: /lowercase/,
  },
  {
    name: "a missing app name",
    changes: { "app.name": undefined },
    path: "slipway:app.name",
    says: /missing/,
  },
  {
    name: "a health path without /",
    changes: { "app.healthPath": "web/health" },
    path: "slipway:app.healthPath",
  },
  {
    name: "an absolute build context",
    changes: { "app.context": "/srv/odoo" },
    path: "slipway:app.context",
    says: /relative/,
  },
  {
    name: "a relative required path",
    changes: { "app.requiredPaths": ["/mnt/extra-addons", "mnt/x"] },
    path: "slipway:app.requiredPaths[1]",
  },
  {
    name: "a required import that is not a module name",
    changes: { "app.requiredImports": ["odoo", "odoo-addons"] },
    path: "slipway:app.requiredImports[1]",
  },
  {
    name: "a mistyped app key",
    changes: { "app.prot": 8069 },
    path: "slipway:app.prot",
    says: /did you mean port\?/,
  },
  {
    name: "a build arg name with a dash",
    changes: { "app.buildArgs": { "PIP-INDEX": "x" } },
    path: "slipway:app.buildArgs.PIP-INDEX",
    says: /environment variable name/,
  },
  {
    name: "a base image with an upper-case repository",
    changes: { baseImage: "Python:3.11" },
    path: "slipway:baseImage",
    says: /image reference/,
  },
  {
    name: "a base image with a bad digest",
    changes: { baseImage: "python:3.11@sha256:1234" },
    path: "slipway:baseImage",
  },
  {
    name: "a version with a space",
    changes: { "release.version": "v 1" },
    path: "slipway:release.version",
    says: /Docker tag/,
  },
  {
    name: "a pin that is a broken digest",
    changes: { "release.pin": "sha256:abc" },
    path: "slipway:release.pin",
    says: /tag like v1.4.2 or a digest/,
  },
  {
    name: "an empty test command",
    changes: { "tests.command": "" },
    path: "slipway:tests.command",
    says: /must not be empty/,
  },
  {
    name: "a coverage floor over 100",
    changes: { "tests.coverageMin": 101 },
    path: "slipway:tests.coverageMin",
    says: /<= 100/,
  },
  {
    name: "a test env name starting with a digit",
    changes: { "tests.env": { "1BAD": "x" } },
    path: 'slipway:tests.env["1BAD"]',
  },
  {
    name: "a size budget in words",
    changes: { "smoke.maxSize": "two gigs" },
    path: "slipway:smoke.maxSize",
    says: /size like 2GB/,
  },
  {
    name: "an unknown severity",
    changes: { "scan.severity": ["HIGH", "SEVERE"] },
    path: "slipway:scan.severity[1]",
    says: /expected one of UNKNOWN, LOW, MEDIUM, HIGH, CRITICAL; got "SEVERE"/,
  },
  {
    name: "an empty severity list",
    changes: { "scan.severity": [] },
    path: "slipway:scan.severity",
    says: /must not be empty/,
  },
  {
    name: "a scan switch that is text",
    changes: { "scan.enabled": "yes" },
    path: "slipway:scan.enabled",
    says: /true or false/,
  },
  {
    name: "a Trivy image not pinned by digest",
    changes: { "scan.trivyImage": "aquasec/trivy:0.58.1" },
    path: "slipway:scan.trivyImage",
    says: /pinned by digest/,
  },
  {
    name: "a registry name with capitals",
    changes: { "registry.name": "ACME" },
    path: "slipway:registry.name",
  },
  {
    name: "an unknown DOCR tier",
    changes: { "registry.subscriptionTier": "gold" },
    path: "slipway:registry.subscriptionTier",
    says: /starter, basic, professional/,
  },
  {
    name: "a registry server with a scheme",
    stack: "local",
    changes: { "registry.server": "http://127.0.0.1:5000" },
    path: "slipway:registry.server",
    says: /no scheme/,
  },
  {
    name: "an unknown deploy target",
    changes: { "deploy.target": "kubernetes" },
    path: "slipway:deploy.target",
    says: /app-platform, local/,
  },
  {
    name: "a region written out",
    changes: { "deploy.region": "frankfurt" },
    path: "slipway:deploy.region",
  },
  {
    name: "zero instances",
    changes: { "deploy.instanceCount": 0 },
    path: "slipway:deploy.instanceCount",
    says: />= 1/,
  },
  {
    name: "an alert email without a domain",
    changes: { "deploy.alerts.emails": ["ops"] },
    path: "slipway:deploy.alerts.emails[0]",
    says: /email address/,
  },
  {
    name: "a Slack channel written with #",
    stack: "prod",
    changes: { "deploy.alerts.slackChannels": ["#odoo-releases"] },
    path: "slipway:deploy.alerts.slackChannels[0]",
    says: /without #/,
  },
  {
    name: "a health check period of zero",
    changes: { "deploy.healthCheck.periodSeconds": 0 },
    path: "slipway:deploy.healthCheck.periodSeconds",
  },
  {
    name: "a database without its cluster",
    changes: { "deploy.database": { engine: "PG" } },
    path: "slipway:deploy.database.clusterName",
    says: /missing/,
  },
  {
    name: "a database engine in lower case",
    stack: "prod",
    changes: { "deploy.database.engine": "pg" },
    path: "slipway:deploy.database.engine",
  },
  {
    name: "a privileged local port",
    stack: "local",
    changes: { "deploy.localPort": 80 },
    path: "slipway:deploy.localPort",
    says: />= 1024/,
  },
  {
    name: "a secret env name with a dash",
    changes: { "deploy.secretEnv": ["ODOO-PASS"] },
    path: "slipway:deploy.secretEnv[0]",
  },
  {
    name: "an object key given as text",
    changes: { deploy: "app-platform" },
    path: "slipway:deploy",
    says: /expected an object, got "app-platform"/,
  },
  {
    name: "a mistyped top-level key",
    changes: { scna: { enabled: true } },
    path: "slipway:scna",
    says: /did you mean scan\?/,
  },
  {
    name: "an unknown environment",
    as: "feature-x",
    changes: { environment: "staging" },
    path: "slipway:environment",
    says: /dev, prod, local/,
  },
  // ---- rules (rules.ts) ----
  {
    name: "a version called latest",
    changes: { "release.version": "latest" },
    path: "slipway:release.version",
    says: /never a version/,
  },
  {
    name: "a pin on latest",
    changes: { "release.pin": "latest" },
    path: "slipway:release.pin",
    says: /cannot pin `latest`/,
  },
  {
    name: "a pin equal to the version",
    changes: { "release.version": "v1.4.3", "release.pin": "v1.4.3" },
    path: "slipway:release.pin",
    says: /remove the pin/,
  },
  {
    name: "an expected version without a version command",
    changes: { "app.versionCommand": undefined },
    path: "slipway:app.expectVersion",
    says: /needs app.versionCommand/,
  },
  {
    name: "a BASE_IMAGE build arg",
    changes: { "app.buildArgs": { BASE_IMAGE: "python:3.12" } },
    path: "slipway:app.buildArgs.BASE_IMAGE",
    says: /slipway:baseImage/,
  },
  {
    name: "a secret env name also in plain env",
    changes: { "deploy.env": { ODOO_ADMIN_PASSWD: "admin" } },
    path: "slipway:deploy.secretEnv[0]",
    says: /also a plain variable/,
  },
  {
    name: "a secret env named slack",
    changes: { "deploy.secretEnv": ["slack"] },
    path: "slipway:deploy.secretEnv[0]",
    says: /reserved/,
  },
  {
    name: "a repeated severity",
    changes: { "scan.severity": ["HIGH", "CRITICAL", "HIGH"] },
    path: "slipway:scan.severity[2]",
    says: /listed twice/,
  },
  {
    name: "a report file and a Trivy image together",
    changes: { "scan.report": "trivy.json", "scan.trivyImage": `aquasec/trivy:0.58.1@${DIGEST}` },
    path: "slipway:scan.trivyImage",
    says: /conflicts with scan.report/,
  },
  {
    name: "a baseline report outside the project",
    changes: { "scan.baseline": "/srv/releases/v1.4.2/trivy.json" },
    path: "slipway:scan.baseline",
    says: /relative to the project/,
  },
  {
    name: "a baseline switch that is text",
    changes: { "scan.allowBaselineInProd": "yes" },
    path: "slipway:scan.allowBaselineInProd",
  },
  {
    name: "a prod baseline without its explicit switch",
    stack: "prod",
    changes: { "scan.baseline": ".slipway/releases/v1.4.2/trivy.json" },
    path: "slipway:scan.baseline",
    says: /scan\.allowBaselineInProd true/,
  },
  {
    name: "a foreign registry host for App Platform",
    changes: { "registry.server": "ghcr.io" },
    path: "slipway:registry.server",
    says: /DOCR/,
  },
  {
    name: "a datacenter slug as App Platform region",
    changes: { "deploy.region": "fra1" },
    path: "slipway:deploy.region",
    says: /region fra: use fra\)/,
  },
  {
    name: "a local stack deploying to App Platform",
    stack: "local",
    changes: { "deploy.target": "app-platform" },
    path: "slipway:deploy.target",
    says: /local container/,
  },
  {
    name: "a local registry on another machine",
    stack: "local",
    changes: { "registry.server": "10.0.0.5:5000" },
    path: "slipway:registry.server",
    says: /not a loopback host/,
  },
  {
    name: "a local target without a registry server",
    stack: "local",
    changes: { "registry.server": undefined },
    path: "slipway:registry.server",
    says: /missing/,
  },
  {
    name: "a local target with two instances",
    stack: "local",
    changes: { "deploy.instanceCount": 2 },
    path: "slipway:deploy.instanceCount",
    says: /one container/,
  },
  {
    name: "a local target with a managed database",
    stack: "local",
    changes: { "deploy.database": { clusterName: "pg" } },
    path: "slipway:deploy.database",
    says: /only App Platform/,
  },
  {
    name: "a local target creating a DOCR registry",
    stack: "local",
    changes: { "registry.create": true },
    path: "slipway:registry.create",
  },
  {
    name: "a dev stack claiming prod",
    changes: { environment: "prod" },
    path: "slipway:environment",
    says: /stack is named "dev"/,
  },
  {
    name: "a stack of another name without an environment",
    as: "staging",
    changes: {},
    path: "slipway:environment",
    says: /not named dev, prod or local/,
  },
];

describe("config: malformed configs are rejected with their config path", () => {
  it("has at least 30 cases", () => assert.ok(cases.length >= 30, String(cases.length)));

  for (const c of cases) {
    const stack = c.stack ?? "dev";
    it(`rejects ${c.name} at ${c.path} (${stack})`, () => {
      const raw = withValues(rawConfig(stack), c.changes);
      let caught: unknown;
      try {
        parseReleaseConfig(raw, c.as ?? stack);
      } catch (error) {
        caught = error;
      }
      assert.ok(caught instanceof ConfigError, "expected a ConfigError");
      assert.ok(caught.message.startsWith("CONFIG_INVALID: "), caught.message);
      const lines = caught.message.split("\n").filter((l) => l.startsWith(`${c.path}: `));
      assert.ok(lines.length > 0, `no line for ${c.path} in:\n${caught.message}`);
      if (c.says !== undefined) {
        assert.ok(
          lines.some((l) => c.says?.test(l)),
          `no line for ${c.path} matching ${String(c.says)} in:\n${caught.message}`,
        );
      }
    });
  }
});
