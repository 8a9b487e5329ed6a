import assert from "node:assert/strict";
import { ConfigError, parseReleaseConfig, RULES } from "../../stacks";
import { rawConfig, withValues } from "./config-fixtures";

/** The problem lines of the ConfigError that parsing throws (fails when nothing is thrown). */
function problems(raw: Record<string, unknown>, stack: string): string[] {
  try {
    parseReleaseConfig(raw, stack);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return [...error.problems];
  }
  assert.fail(`expected stack ${stack} to be rejected`);
}

/** prod's rules one by one: the change that breaks each, the path named, what dev/local make of it. */
const prodRules: {
  id: string;
  changes: Record<string, unknown>;
  path: string;
  /** dev accepts the same change (prod is stricter, not different). */
  devAccepts: boolean;
  /** Other paths the change cannot help breaking too. */
  also?: string[];
}[] = [
  {
    id: "prod-base-image-pinned",
    changes: { baseImage: "python:3.11-slim-bullseye" },
    path: "slipway:baseImage",
    devAccepts: true,
  },
  {
    id: "prod-scan-enabled",
    changes: { "scan.enabled": false },
    path: "slipway:scan.enabled",
    devAccepts: true,
  },
  {
    id: "prod-scan-severities",
    changes: { "scan.severity": ["CRITICAL"] },
    path: "slipway:scan.severity",
    devAccepts: true,
  },
  {
    id: "prod-scan-severities",
    changes: { "scan.severity": ["MEDIUM", "HIGH"] },
    path: "slipway:scan.severity",
    devAccepts: true,
  },
  {
    id: "prod-scan-no-report",
    changes: { "scan.report": "reports/trivy.json" },
    path: "slipway:scan.report",
    devAccepts: true,
  },
  {
    id: "prod-baseline-explicit",
    changes: { "scan.baseline": ".slipway/releases/v1.4.2/trivy.json" },
    path: "slipway:scan.baseline",
    devAccepts: true,
  },
  {
    id: "prod-baseline-explicit",
    changes: {
      "scan.baseline": ".slipway/releases/v1.4.2/trivy.json",
      "scan.allowBaselineInProd": false,
    },
    path: "slipway:scan.baseline",
    devAccepts: true,
  },
  {
    id: "prod-allowlist-statements",
    changes: { "scan.allowlist": ".trivyignore.yaml" },
    path: "slipway:scan.requireStatement",
    devAccepts: true,
  },
  {
    id: "prod-tests-enabled",
    changes: { "tests.enabled": false },
    path: "slipway:tests.enabled",
    devAccepts: true,
  },
  {
    id: "prod-coverage-floor",
    changes: { "tests.coverageMin": 74.9 },
    path: "slipway:tests.coverageMin",
    devAccepts: true,
  },
  {
    id: "prod-alert-destination",
    changes: { "deploy.alerts.emails": [], "deploy.alerts.slackChannels": [] },
    path: "slipway:deploy.alerts",
    devAccepts: true,
  },
  {
    id: "prod-target-app-platform",
    changes: {
      "deploy.target": "local",
      "registry.server": "127.0.0.1:5000",
      "deploy.instanceCount": 1,
      "deploy.database": undefined,
      "deploy.alerts": undefined,
    },
    path: "slipway:deploy.target",
    devAccepts: true,
    also: ["slipway:deploy.alerts"],
  },
  {
    id: "prod-smoke-boot",
    changes: { "smoke.boot": false },
    path: "slipway:smoke.boot",
    devAccepts: true,
  },
  {
    id: "prod-non-root",
    changes: { "app.nonRoot": false },
    path: "slipway:app.nonRoot",
    devAccepts: true,
  },
  {
    id: "prod-promotes",
    changes: { "release.promoteFrom": undefined },
    path: "slipway:release.promoteFrom",
    devAccepts: true,
  },
  {
    id: "promote-or-build",
    changes: { "release.buildFromSource": true },
    path: "slipway:release.buildFromSource",
    devAccepts: false,
  },
  {
    id: "version-not-latest",
    changes: { "release.version": "latest" },
    path: "slipway:release.version",
    devAccepts: false,
  },
];

describe("config: prod rules", () => {
  it("accepts the committed prod stack", () => {
    assert.equal(parseReleaseConfig(rawConfig("prod"), "prod").environment, "prod");
  });

  for (const r of prodRules) {
    it(`${r.id}: prod rejects ${JSON.stringify(r.changes)} at ${r.path}`, () => {
      const lines = problems(withValues(rawConfig("prod"), r.changes), "prod");
      const paths = lines.map((l) => l.slice(0, l.indexOf(": ")));
      assert.deepEqual(paths.sort(), [r.path, ...(r.also ?? [])].sort(), lines.join("\n"));
      const line = lines.find((l) => l.startsWith(`${r.path}: `)) ?? "";
      if (r.id.startsWith("prod-")) assert.match(line, /prod/);
    });

    it(`${r.id}: dev ${r.devAccepts ? "accepts" : "rejects"} the same change`, () => {
      const raw = withValues(rawConfig("prod"), r.changes);
      if (r.devAccepts) {
        assert.equal(parseReleaseConfig(raw, "dev").environment, "dev");
      } else {
        assert.ok(problems(raw, "dev").some((l) => l.startsWith(`${r.path}: `)));
      }
    });
  }

  it("promotes dev's release in the committed prod stack", () => {
    const config = parseReleaseConfig(rawConfig("prod"), "prod");
    assert.equal(config.release.promoteFrom, "dev");
    assert.equal(config.release.buildFromSource, false);
  });

  it("builds prod from source only with the explicit switch release.buildFromSource", () => {
    const raw = withValues(rawConfig("prod"), {
      "release.promoteFrom": undefined,
      "release.buildFromSource": true,
    });
    const config = parseReleaseConfig(raw, "prod");
    assert.equal(config.release.promoteFrom, undefined);
    assert.equal(config.release.buildFromSource, true);
  });

  it("says how to fix prod-promotes: promote from dev, or build from source explicitly", () => {
    const lines = problems(
      withValues(rawConfig("prod"), { "release.promoteFrom": undefined }),
      "prod",
    );
    assert.equal(lines.length, 1, lines.join("\n"));
    assert.match(lines[0], /pulumi config set --path release\.promoteFrom dev/);
    assert.match(lines[0], /release\.buildFromSource true/);
  });

  it("accepts a full <organization>/<project>/<stack> name to promote from, and refuses a partial one", () => {
    const full = withValues(rawConfig("prod"), { "release.promoteFrom": "acme-org/slipway/dev" });
    assert.equal(parseReleaseConfig(full, "prod").release.promoteFrom, "acme-org/slipway/dev");
    const partial = withValues(rawConfig("prod"), { "release.promoteFrom": "slipway/dev" });
    assert.ok(problems(partial, "prod").some((l) => l.startsWith("slipway:release.promoteFrom: ")));
  });

  it("accepts more than prod requires: MEDIUM added to the severities, a higher floor", () => {
    const raw = withValues(rawConfig("prod"), {
      "scan.severity": ["MEDIUM", "HIGH", "CRITICAL"],
      "tests.coverageMin": 90,
    });
    assert.equal(parseReleaseConfig(raw, "prod").tests.coverageMin, 90);
  });

  it("accepts a Slack channel alone as prod's alert destination", () => {
    const raw = withValues(rawConfig("prod"), { "deploy.alerts.emails": [] });
    assert.deepEqual(parseReleaseConfig(raw, "prod").deploy.alerts.slackChannels, [
      "odoo-releases",
    ]);
  });

  it("accepts an allowlist in prod when every entry must carry a statement", () => {
    const raw = withValues(rawConfig("prod"), {
      "scan.allowlist": ".trivyignore.yaml",
      "scan.requireStatement": true,
    });
    assert.equal(parseReleaseConfig(raw, "prod").scan.allowlist, ".trivyignore.yaml");
  });

  it("accepts baseline mode in prod when scan.allowBaselineInProd chooses it", () => {
    const raw = withValues(rawConfig("prod"), {
      "scan.baseline": ".slipway/releases/v1.4.2/trivy.json",
      "scan.allowBaselineInProd": true,
    });
    const scan = parseReleaseConfig(raw, "prod").scan;
    assert.equal(scan.baseline, ".slipway/releases/v1.4.2/trivy.json");
    assert.equal(scan.allowBaselineInProd, true);
  });

  it("defaults scan.allowBaselineInProd to false, and has no baseline unless one is set", () => {
    const scan = parseReleaseConfig(rawConfig("prod"), "prod").scan;
    assert.equal(scan.allowBaselineInProd, false);
    assert.equal(scan.baseline, undefined);
  });

  it("lists every prod problem at once, not the first one", () => {
    const raw = withValues(rawConfig("prod"), {
      baseImage: "python:3.11-slim-bullseye",
      "scan.enabled": false,
      "scan.severity": ["CRITICAL"],
      "tests.enabled": false,
      "tests.coverageMin": 60,
      "deploy.alerts": undefined,
      "smoke.boot": false,
    });
    const paths = problems(raw, "prod").map((l) => l.slice(0, l.indexOf(": ")));
    assert.deepEqual(paths, [
      "slipway:baseImage",
      "slipway:deploy.alerts",
      "slipway:scan.enabled",
      "slipway:scan.severity",
      "slipway:smoke.boot",
      "slipway:tests.coverageMin",
      "slipway:tests.enabled",
    ]);
  });

  // A rule must not wait for unrelated keys to be fixed first (zod skips refinements after an
  // aborting issue; the schema avoids those, and this keeps it so).
  const unrelated: Record<string, unknown>[] = [
    { "app.port": 80.5 },
    { "app.port": "80x" },
    { "app.name": "Odoo" },
    { "app.prot": 1 },
    { "release.version": "v 1" },
    { "tests.command": undefined },
    { "scan.severity": ["SEVERE"] },
    { "release.promoteFrom": "acme/dev" },
    { "deploy.healthCheck.periodSeconds": 1.5 },
    { "deploy.database": { engine: "PG" } },
    { "deploy.env": { "bad-name": "x" } },
    { smoke: "2GB" },
    { scna: {} },
  ];
  for (const breakage of unrelated) {
    it(`reports a prod rule together with an unrelated problem (${JSON.stringify(breakage)})`, () => {
      const raw = withValues(rawConfig("prod"), { ...breakage, "deploy.alerts": undefined });
      const lines = problems(raw, "prod");
      assert.ok(
        lines.some((l) => l.startsWith("slipway:deploy.alerts: prod requires")),
        lines.join("\n"),
      );
      assert.ok(lines.length >= 2, lines.join("\n"));
    });
  }
});

describe("config: dev and local", () => {
  it("lets dev run without tests, scan or alerts, on an unpinned base", () => {
    const raw = withValues(rawConfig("dev"), {
      baseImage: "python:3.11-slim-bullseye",
      "tests.enabled": false,
      "tests.coverageMin": 0,
      "scan.enabled": false,
      "deploy.alerts": undefined,
    });
    const config = parseReleaseConfig(raw, "dev");
    assert.equal(config.tests.enabled, false);
    assert.equal(config.scan.enabled, false);
  });

  it("lets dev and local gate on what changed without prod's switch", () => {
    for (const stack of ["dev", "local"] as const) {
      const raw = withValues(rawConfig(stack), {
        "scan.baseline": ".slipway/releases/v1.4.2/trivy.json",
      });
      assert.equal(
        parseReleaseConfig(raw, stack).scan.baseline,
        ".slipway/releases/v1.4.2/trivy.json",
      );
    }
  });

  it("lets dev deploy to a local container too", () => {
    const raw = withValues(rawConfig("local"), { environment: undefined });
    assert.equal(parseReleaseConfig(raw, "dev").deploy.target, "local");
  });

  it("lets local judge a report file, skip alerts and run with no secrets", () => {
    const raw = withValues(rawConfig("local"), {
      "scan.trivyImage": undefined,
      "scan.report": "tests/fixtures/trivy/sl-micro-rancher5.4.json",
    });
    const config = parseReleaseConfig(raw, "local");
    assert.equal(config.scan.report, "tests/fixtures/trivy/sl-micro-rancher5.4.json");
    assert.deepEqual(config.deploy.alerts.emails, []);
  });

  it("accepts localhost and [::1] as the local registry", () => {
    for (const server of ["localhost:5000", "[::1]:5000", "127.0.0.2"]) {
      const raw = withValues(rawConfig("local"), { "registry.server": server });
      assert.equal(parseReleaseConfig(raw, "local").registry.server, server);
    }
  });

  it("accepts registry.digitalocean.com as the App Platform registry host", () => {
    const raw = withValues(rawConfig("dev"), { "registry.server": "registry.digitalocean.com" });
    assert.equal(parseReleaseConfig(raw, "dev").registry.server, "registry.digitalocean.com");
  });

  it("accepts a rollback pin by tag or digest that differs from the version", () => {
    const digest = `sha256:${"a".repeat(64)}`;
    for (const pin of ["v1.4.1", digest]) {
      const raw = withValues(rawConfig("prod"), { "release.pin": pin });
      assert.equal(parseReleaseConfig(raw, "prod").release.pin, pin);
    }
  });
});

describe("config: the rule list", () => {
  it("gives every rule an id and at least one environment and need", () => {
    for (const r of RULES) {
      assert.match(r.id, /^[a-z][a-z-]+$/);
      assert.ok(r.environments.length > 0 && r.needs.length > 0, r.id);
    }
  });

  it("binds the prod- rules to prod only and the local- environment rule to local only", () => {
    for (const r of RULES.filter((x) => x.id.startsWith("prod-"))) {
      assert.deepEqual(r.environments, ["prod"], r.id);
    }
    assert.deepEqual(RULES.find((r) => r.id === "local-target-local")?.environments, ["local"]);
  });
});
