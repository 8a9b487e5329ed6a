import assert from "node:assert/strict";
import { ConfigError, parseReleaseConfig } from "../../stacks";
import {
  APP_PLATFORM_REGIONS,
  INSTANCE_SIZES,
  SINGLE_INSTANCE_SIZES,
} from "../../stacks/digitalocean";
import { configNotices } from "../../stacks/rules";
import { rawConfig, StackName, withValues } from "./config-fixtures";

/** The lines of the ConfigError for `changes` on a committed stack file (fails when none is thrown). */
function problemLines(stack: StackName, changes: Record<string, unknown>): string[] {
  try {
    parseReleaseConfig(withValues(rawConfig(stack), changes), stack);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return [...error.problems];
  }
  assert.fail(`expected stack ${stack} with ${JSON.stringify(changes)} to be rejected`);
}

/** The one line at `path`; fails when there is none. */
function lineAt(lines: readonly string[], path: string): string {
  const found = lines.filter((l) => l.startsWith(`${path}: `));
  assert.equal(found.length, 1, `expected one line for ${path} in:\n${lines.join("\n")}`);
  return found[0];
}

describe("config: refuses in preview what DigitalOcean App Platform refuses", () => {
  it("refuses a region App Platform does not have, listing every region", () => {
    const line = lineAt(problemLines("dev", { "deploy.region": "mars" }), "slipway:deploy.region");
    assert.match(line, /"mars" is not an App Platform region/);
    for (const region of APP_PLATFORM_REGIONS) assert.ok(line.includes(region), region);
  });

  it("refuses a datacenter slug and names its region", () => {
    const line = lineAt(problemLines("prod", { "deploy.region": "nyc3" }), "slipway:deploy.region");
    assert.match(line, /datacenter of region nyc: use nyc/);
    assert.match(line, /allowed: atl, nyc, sfo, tor, ams, fra, lon, blr, sgp, syd$/);
  });

  it("accepts every App Platform region", () => {
    for (const region of APP_PLATFORM_REGIONS) {
      parseReleaseConfig(withValues(rawConfig("prod"), { "deploy.region": region }), "prod");
    }
  });

  it("ignores the region of a local target (it deploys no App)", () => {
    parseReleaseConfig(withValues(rawConfig("local"), { "deploy.region": "mars" }), "local");
  });

  it("refuses an instance size slug that does not exist, listing the sizes", () => {
    const lines = problemLines("dev", { "deploy.instanceSizeSlug": "apps-s-1vcpu-3gb" });
    const line = lineAt(lines, "slipway:deploy.instanceSizeSlug");
    assert.match(line, /"apps-s-1vcpu-3gb" is not an App Platform instance size/);
    for (const size of INSTANCE_SIZES) assert.ok(line.includes(size), size);
  });

  it("refuses a Droplet size slug as an instance size", () => {
    const lines = problemLines("prod", { "deploy.instanceSizeSlug": "s-1vcpu-1gb" });
    assert.match(lineAt(lines, "slipway:deploy.instanceSizeSlug"), /allowed: apps-s-1vcpu-0\.5gb/);
  });

  it("refuses more than one instance on each single-instance size, naming sizes that scale", () => {
    for (const size of SINGLE_INSTANCE_SIZES) {
      const lines = problemLines("prod", {
        "deploy.instanceSizeSlug": size,
        "deploy.instanceCount": 2,
      });
      const line = lineAt(lines, "slipway:deploy.instanceCount");
      assert.match(line, new RegExp(`is 2, but ${size.replace(/\./g, "\\.")} allows one instance`));
      assert.match(line, /a size that scales: .*apps-s-1vcpu-1gb,/);
    }
  });

  it("accepts one instance on a single-instance size", () => {
    parseReleaseConfig(
      withValues(rawConfig("dev"), {
        "deploy.instanceSizeSlug": "apps-s-1vcpu-0.5gb",
        "deploy.instanceCount": 1,
      }),
      "dev",
    );
  });

  it("accepts a deprecated legacy size, with a notice", () => {
    const config = parseReleaseConfig(
      withValues(rawConfig("dev"), { "deploy.instanceSizeSlug": "basic-xs" }),
      "dev",
    );
    const notice = configNotices(config).find((n) =>
      n.startsWith("slipway:deploy.instanceSizeSlug: "),
    );
    assert.match(notice ?? "", /"basic-xs" is a deprecated legacy size/);
  });

  for (const field of ["dbName", "dbUser"] as const) {
    it(`refuses ${field} for a REDIS database (only PG and MYSQL take it)`, () => {
      const lines = problemLines("prod", {
        "deploy.database": { clusterName: "cache", engine: "REDIS", [field]: "odoo" },
      });
      const line = lineAt(lines, `slipway:deploy.database.${field}`);
      assert.match(
        line,
        new RegExp(`engine REDIS does not take ${field} \\(only PG and MYSQL do\\)`),
      );
    });
  }

  it("accepts dbName and dbUser for MYSQL and PG", () => {
    for (const engine of ["MYSQL", "PG"]) {
      parseReleaseConfig(
        withValues(rawConfig("prod"), {
          "deploy.database": { clusterName: "db", engine, dbName: "odoo", dbUser: "odoo" },
        }),
        "prod",
      );
    }
  });

  it("lists every DigitalOcean refusal of one config at once", () => {
    const lines = problemLines("prod", {
      "deploy.region": "fra1",
      "deploy.instanceSizeSlug": "apps-s-1vcpu-1gb-fixed",
      "deploy.instanceCount": 3,
      "deploy.database": { clusterName: "cache", engine: "REDIS", dbUser: "odoo" },
    });
    for (const path of ["deploy.region", "deploy.instanceCount", "deploy.database.dbUser"]) {
      lineAt(lines, `slipway:${path}`);
    }
  });
});

describe("config notices: what preview cannot check is said, not refused", () => {
  it("warns that alert emails must belong to team members, naming them", () => {
    const config = parseReleaseConfig(rawConfig("prod"), "prod");
    const notices = configNotices(config);
    const notice = notices.find((n) => n.startsWith("slipway:deploy.alerts.emails: "));
    assert.ok(notice !== undefined, notices.join("\n"));
    assert.match(notice, /members of the DigitalOcean team/);
    assert.match(notice, /odoo-ops@example\.com is a team member/);
  });

  it("says nothing when no email is set", () => {
    const config = parseReleaseConfig(
      withValues(rawConfig("dev"), { "deploy.alerts.emails": [] }),
      "dev",
    );
    assert.deepEqual(configNotices(config), []);
  });

  it("says nothing for the local target", () => {
    assert.deepEqual(configNotices(parseReleaseConfig(rawConfig("local"), "local")), []);
  });
});
