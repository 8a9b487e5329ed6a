import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { baseConfigSchema, parseReleaseConfig, ReleaseConfig, RULES } from "../../stacks";
import { ROOT, STACKS, rawConfig, stackFile, withValue } from "./config-fixtures";

/** Every leaf key path of the schema (`app.port`, `deploy.alerts.emails`), for the docs check. */
function leafPaths(): string[] {
  const out: string[] = [];
  type Def = {
    type: string;
    shape?: Record<string, { _zod: { def: Def } }>;
    innerType?: { _zod: { def: Def } };
    out?: { _zod: { def: Def } };
  };
  const unwrap = (def: Def): Def => {
    let current = def;
    for (;;) {
      if (current.innerType !== undefined) current = current.innerType._zod.def;
      else if (current.type === "pipe" && current.out !== undefined) current = current.out._zod.def;
      else return current;
    }
  };
  const walk = (def: Def, prefix: string) => {
    const real = unwrap(def);
    if (real.type !== "object" || real.shape === undefined) {
      out.push(prefix);
      return;
    }
    for (const [key, child] of Object.entries(real.shape)) {
      walk(child._zod.def, prefix === "" ? key : `${prefix}.${key}`);
    }
  };
  walk(baseConfigSchema._zod.def as unknown as Def, "");
  return out;
}

describe("config: the committed stack files", () => {
  for (const stack of STACKS) {
    it(`parses Pulumi.${stack}.yaml as committed, under its own rules`, () => {
      const config = parseReleaseConfig(rawConfig(stack), stack);
      assert.equal(config.environment, stack);
      assert.equal(config.app.name, "odoo");
      assert.equal(config.app.context, "examples/odoo");
      assert.equal(config.app.port, 8069);
      assert.equal(config.app.healthPath, "/web/health");
      assert.equal(config.app.expectVersion, "Odoo Server 16.0");
      assert.ok(config.baseImage.startsWith("python:3.11-slim-bullseye@sha256:"));
      assert.notEqual(config.release.version, "latest");
    });

    it(`keeps secrets out of Pulumi.${stack}.yaml (only secure: values may ever appear there)`, () => {
      const text = readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8");
      const secrets = stackFile(stack)["slipway:secrets"];
      const leaves = (value: unknown): unknown[] =>
        value !== null && typeof value === "object" && !("secure" in value)
          ? Object.values(value).flatMap(leaves)
          : [value];
      for (const leaf of leaves(secrets ?? {})) {
        assert.ok(leaf !== null && typeof leaf === "object" && "secure" in leaf, "a plain secret");
      }
      assert.doesNotMatch(text, /hooks\.slack\.com\/services\/T/);
    });
  }

  it("has prod release on App Platform with two instances, an alert email and a secret env", () => {
    const config = parseReleaseConfig(rawConfig("prod"), "prod");
    assert.equal(config.deploy.target, "app-platform");
    assert.equal(config.deploy.region, "fra");
    assert.equal(config.deploy.instanceCount, 2);
    assert.ok(config.deploy.alerts.emails.length >= 1);
    assert.deepEqual(config.deploy.secretEnv, ["ODOO_ADMIN_PASSWD"]);
    assert.ok(config.tests.coverageMin >= 75);
  });

  it("has the local stack deploy a local container from a loopback registry, no secrets", () => {
    const config = parseReleaseConfig(rawConfig("local"), "local");
    assert.equal(config.deploy.target, "local");
    assert.equal(config.registry.server, "127.0.0.1:5000");
    assert.deepEqual(config.deploy.secretEnv, []);
    assert.deepEqual(config.deploy.alerts.slackChannels, []);
    // It scans its image for real (a trivy on PATH, else this pinned image): no fixture report.
    assert.equal(config.scan.report, undefined);
    assert.match(config.scan.trivyImage ?? "", /^aquasec\/trivy:[\w.]+@sha256:[a-f0-9]{64}$/);
  });

  it("declares no config defaults in Pulumi.yaml (the schema holds the only copy)", () => {
    const project = parse(readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as Record<
      string,
      unknown
    >;
    assert.equal(project.name, "slipway");
    assert.deepEqual(project.runtime, {
      name: "nodejs",
      options: { typescript: true, packagemanager: "npm" },
    });
    assert.equal(project.config, undefined);
  });
});

describe("config: defaults", () => {
  const minimal = {
    app: { name: "odoo", context: "examples/odoo", port: 8069, healthPath: "/web/health" },
    baseImage: "python:3.11-slim-bullseye",
    release: { version: "v1" },
    tests: { command: "pytest" },
    registry: { name: "acme" },
    deploy: { target: "app-platform" },
  };

  it("fills every omitted key with its documented default", () => {
    const config: ReleaseConfig = parseReleaseConfig(minimal, "dev");
    assert.deepEqual(config.app.targets, { builder: "builder", runtime: "runtime" });
    assert.deepEqual(config.app.buildArgs, {});
    assert.equal(config.app.dockerfile, undefined);
    assert.equal(config.app.nonRoot, true);
    assert.equal(config.app.bootTimeout, 60);
    assert.equal(config.release.repointLatest, true);
    assert.equal(config.release.tagLatest, true);
    assert.equal(config.tests.enabled, true);
    assert.equal(config.tests.coverageMin, 75);
    assert.deepEqual(config.smoke, { maxSize: "2GB", boot: true });
    assert.deepEqual(config.scan, {
      enabled: true,
      severity: ["HIGH", "CRITICAL"],
      ignoreUnfixed: false,
      requireStatement: false,
      allowBaselineInProd: false,
      scanners: ["vuln", "secret"],
      offline: false,
      sbom: true,
    });
    assert.equal(config.scan.trivy, undefined);
    assert.equal(config.registry.create, false);
    assert.equal(config.registry.subscriptionTier, "basic");
    assert.equal(config.registry.cache, true);
    assert.equal("credentialHours" in config.registry, false, "no credential is minted any more");
    assert.equal(
      "candidateRepository" in config.registry,
      false,
      "candidates live in the app's own repository",
    );
    assert.equal(config.release.promoteFrom, undefined);
    assert.equal(config.release.buildFromSource, false);
    assert.equal(config.release.commit, undefined);
    assert.equal(config.release.rollbackReason, undefined);
    assert.equal(config.app.builder, undefined);
    assert.equal(config.deploy.verifyBody, undefined);
    assert.equal(config.deploy.verifyPath, undefined);
    assert.equal(config.deploy.region, "fra");
    assert.equal(config.deploy.instanceCount, 1);
    assert.equal(config.deploy.instanceSizeSlug, "apps-s-1vcpu-1gb");
    assert.deepEqual(config.deploy.alerts, {
      emails: [],
      slackChannels: [],
      cpuPercent: 80,
      memPercent: 80,
      restarts: 3,
    });
    assert.deepEqual(config.deploy.healthCheck, {
      initialDelaySeconds: 20,
      periodSeconds: 10,
      timeoutSeconds: 5,
      failureThreshold: 6,
      successThreshold: 1,
    });
    assert.equal(config.deploy.verifyTimeout, 300);
    assert.equal(config.deploy.localPort, 18069);
  });

  it("fills the defaults inside a partly given object", () => {
    const config = parseReleaseConfig(
      withValue(minimal, "deploy.healthCheck", { periodSeconds: 30 }),
      "dev",
    );
    assert.equal(config.deploy.healthCheck.periodSeconds, 30);
    assert.equal(config.deploy.healthCheck.failureThreshold, 6);
  });

  it("takes the environment from the stack name when the stack is dev, prod or local", () => {
    assert.equal(parseReleaseConfig(minimal, "dev").environment, "dev");
    assert.equal(
      parseReleaseConfig({ ...minimal, environment: "dev" }, "feature-x").environment,
      "dev",
    );
  });

  it("takes numbers and booleans the CLI stored where text is expected, and decimal strings as numbers", () => {
    // `pulumi config set --path release.version 2` stores the number 2; `... coverageMin 80.5` the string "80.5".
    const config = parseReleaseConfig(
      {
        ...minimal,
        release: { version: 2 },
        tests: { command: "pytest", coverageMin: "80.5", env: { WORKERS: 4, DEBUG: false } },
      },
      "dev",
    );
    assert.equal(config.release.version, "2");
    assert.equal(config.tests.coverageMin, 80.5);
    assert.deepEqual(config.tests.env, { WORKERS: "4", DEBUG: "false" });
  });

  it("ignores slipway:secrets (the loader reads it as secrets)", () => {
    const config = parseReleaseConfig({ ...minimal, secrets: { A: "x" } }, "dev");
    assert.equal((config as unknown as Record<string, unknown>).secrets, undefined);
  });
});

describe("config: docs/config.md", () => {
  const docs = readFileSync(path.join(ROOT, "docs", "config.md"), "utf8");

  it("documents every key of the schema", () => {
    const keys = leafPaths();
    assert.ok(keys.length > 50 && keys.includes("deploy.healthCheck.periodSeconds"), keys.join());
    const missing = keys.filter((key) => !docs.includes(`\`${key}\``));
    assert.deepEqual(missing, []);
  });

  it("documents every environment rule by its id", () => {
    const missing = [...new Set(RULES.map((r) => r.id))].filter(
      (id) => !docs.includes(`\`${id}\``),
    );
    assert.deepEqual(missing, []);
  });
});
