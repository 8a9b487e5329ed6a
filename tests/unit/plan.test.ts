import assert from "node:assert/strict";
import { parse } from "yaml";
import { appSpecLines, secretPlaceholder } from "../../scripts/plan";
import { appSpecEnumProblems } from "../../stacks/digitalocean";
import { SECRET_MASK } from "./harness";

/** An App spec as the program hands it to the provider (camelCase), secrets masked as the plan has them. */
function appSpec(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: "odoo",
    region: "fra",
    alerts: [
      {
        rule: "DEPLOYMENT_FAILED",
        destinations: {
          emails: ["ops@example.com"],
          slackWebhooks: [{ channel: "odoo-releases", url: SECRET_MASK }],
        },
      },
    ],
    services: [
      {
        name: "odoo",
        instanceSizeSlug: "apps-s-1vcpu-2gb",
        instanceCount: 2,
        image: { registryType: "DOCR", repository: "odoo", digest: `sha256:${"a".repeat(64)}` },
        envs: [
          { key: "MODE", scope: "RUN_TIME", type: "GENERAL", value: "prod" },
          { key: "ODOO_ADMIN_PASSWD", scope: "RUN_TIME", type: "SECRET", value: SECRET_MASK },
        ],
        alerts: [
          {
            rule: "CPU_UTILIZATION",
            operator: "GREATER_THAN",
            value: 80,
            window: "FIVE_MINUTES",
            destinations: { emails: ["ops@example.com"] },
          },
        ],
      },
    ],
    ...overrides,
  };
}

/** The YAML block of the printed spec (its lines between the header and the destinations), parsed. */
function printedSpec(lines: string[]): Record<string, unknown> {
  return parse(lines[1]) as Record<string, unknown>;
}

describe("offline plan: the App spec in doctl's YAML, usable as printed", () => {
  it("marks each secret env SECRET with a placeholder naming the pulumi config key that fills it", () => {
    const spec = printedSpec(appSpecLines(appSpec()));
    const envs = (spec.services as { envs: Record<string, string>[] }[])[0].envs;
    assert.deepEqual(envs[1], {
      key: "ODOO_ADMIN_PASSWD",
      scope: "RUN_TIME",
      type: "SECRET",
      value: "<secret: pulumi config slipway:secrets.ODOO_ADMIN_PASSWD>",
    });
    assert.equal(envs[0].value, "prod", "plain values stay as they are");
    assert.ok(!appSpecLines(appSpec()).join("\n").includes(SECRET_MASK), "no bare mask is left");
  });

  it("prints every alert's destinations, Slack URLs as placeholders naming their config key", () => {
    const lines = appSpecLines(appSpec());
    const at = lines.findIndex((l) => l.startsWith("alert destinations ("));
    assert.ok(at > 0, lines.join("\n"));
    assert.match(lines[at], /emails must belong to members of the app's team/);
    const destinations = parse(lines[at + 1]) as Record<string, unknown>[];
    assert.deepEqual(destinations, [
      {
        rules: ["DEPLOYMENT_FAILED"],
        emails: ["ops@example.com"],
        slack_webhooks: [
          { channel: "odoo-releases", url: secretPlaceholder("secrets.slack.odoo-releases") },
        ],
      },
      { rules: ["CPU_UTILIZATION"], emails: ["ops@example.com"] },
    ]);
  });

  it("says what was checked instead of claiming doctl accepts it", () => {
    const text = appSpecLines(appSpec()).join("\n");
    assert.doesNotMatch(text, /doctl apps spec validate accepts it/);
    assert.match(text, /checked offline: the field names and enums of App Platform's spec/);
    assert.match(text, /# checked: region, instance size and count, env, image and alert values/);
  });

  it("flags, in a YAML comment, the closed values App Platform would refuse", () => {
    const lines = appSpecLines(
      appSpec({
        region: "fra1",
        services: [{ name: "odoo", instanceSizeSlug: "apps-s-1vcpu-0.5gb", instanceCount: 2 }],
      }),
    );
    const flagged = lines.find((l) => l.includes("# NOT App Platform's:")) ?? "";
    assert.match(flagged, /region: "fra1" is not one of atl, nyc/);
    assert.match(
      flagged,
      /services\[0\]\.instance_count: apps-s-1vcpu-0\.5gb allows one instance only/,
    );
  });

  it("checks the enums of envs, images, alerts and databases", () => {
    const problems = appSpecEnumProblems({
      databases: [{ engine: "POSTGRES" }],
      services: [
        {
          image: { registry_type: "ECR" },
          envs: [{ type: "PLAIN", scope: "RUNTIME" }],
          alerts: [{ rule: "CPU", operator: "ABOVE", window: "ONE_DAY" }],
        },
      ],
    });
    assert.deepEqual(
      problems.map((p) => p.split(":")[0]),
      [
        "databases[0].engine",
        "services[0].image.registry_type",
        "services[0].envs[0].type",
        "services[0].envs[0].scope",
        "services[0].alerts[0].rule",
        "services[0].alerts[0].operator",
        "services[0].alerts[0].window",
      ],
    );
    assert.deepEqual(appSpecEnumProblems(parse(appSpecLines(appSpec())[1]) as never), []);
  });
});
