import assert from "node:assert/strict";
import { doctlAppSpec } from "../../components/appSpec";
import { main, parsePath, setPath, unsetPath } from "../../scripts/plan";
import { rawConfig } from "./config-fixtures";
import { capturingOutput } from "./helpers/cli";
import { merge, runStack, stackConfig } from "./harness";

/** Runs the plan in-process, capturing what it prints. */
const plan = (...argv: string[]) => capturingOutput(() => main(argv));

interface PlannedResource {
  type: string;
  name: string;
  parent: string | null;
  inputs: Record<string, unknown>;
}

describe("npm run plan", () => {
  for (const stack of ["dev", "prod", "local"]) {
    it(`prints the ${stack} stack's resources as JSON, every one with its parent, secrets masked`, async () => {
      const { code, stdout } = await plan("--stack", stack, "--json");
      assert.equal(code, 0);
      const { resources } = JSON.parse(stdout) as { resources: PlannedResource[] };
      const names = new Set(resources.map((r) => r.name));
      for (const r of resources) {
        assert.deepEqual(Object.keys(r), ["type", "name", "parent", "inputs"]);
        // Roots: the pipeline, and on App Platform the read of this stack's own previous outputs.
        if (r.type !== "slipway:pipeline:ReleasePipeline" && r.name !== "slipway-previous") {
          assert.ok(r.parent !== null && names.has(r.parent), `${r.name} has a parent`);
        }
      }
      assert.doesNotMatch(
        stdout,
        /offline-placeholder|hooks\.slack\.com\/services\/OFFLINE|mock-registry-token/,
      );
      const types = new Set(resources.map((r) => r.type));
      // The committed prod stack promotes dev's release: it builds and tests nothing.
      const building = [
        "slipway:checks:PreflightChecks",
        "slipway:images:BaseImage",
        "slipway:images:BuilderImage",
        "slipway:images:RuntimeImage",
        "slipway:gates:TestGate",
        "slipway:gates:SmokeGate",
        "docker-build:index:Image",
      ];
      const promoting = ["slipway:registry:ReleaseSource"];
      const steps = [
        "slipway:registry:Registry",
        ...(stack === "prod" ? promoting : building),
        "slipway:gates:ScanGate",
        "slipway:registry:Promotion",
        "slipway:deploy:AppDeployment",
        "slipway:deploy:Verification",
        "slipway:report:ReleaseReport",
      ];
      for (const step of steps) {
        assert.ok(types.has(step), `the committed ${stack} stack registers ${step}`);
      }
      for (const absent of [
        ...(stack === "prod" ? building : promoting),
        "slipway:registry:PublishedImage",
        "docker:index/tag:Tag",
        "docker:index/registryImage:RegistryImage",
        "digitalocean:index/containerRegistryDockerCredentials:ContainerRegistryDockerCredentials",
      ]) {
        assert.ok(!types.has(absent), `the committed ${stack} stack registers no ${absent}`);
      }
      assert.ok(resources.length >= (stack === "prod" ? 14 : 20), String(resources.length));
      assert.equal(
        names.has("slipway-source-stack"),
        stack === "prod",
        "only the promoting stack reads another stack's release",
      );
      const commands = resources.filter((r) => r.type === "command:local:Command");
      assert.ok(commands.every((c) => String(c.inputs.create).startsWith("bin/slipway-gate ")));
    });
  }

  it("prints the gate commands, the image refs and the App spec in doctl's form for humans", async () => {
    const { code, stdout } = await plan("--stack", "prod");
    assert.equal(code, 0);
    assert.match(stdout, /^Slipway plan: stack prod \(environment prod, target app-platform\)/);
    assert.match(stdout, /, mode promotion of v\S+\n/);
    assert.match(stdout, /Promotes from stack acme-org\/slipway\/dev: /);
    const digest =
      /run: +bin\/slipway-gate scan --image registry\.digitalocean\.com\/acme\/odoo@(sha256:[a-f0-9]{64}) --scanners vuln,secret --sbom \.slipway\/releases\/v\S+\/sbom\.cdx\.json --severity HIGH,CRITICAL /.exec(
        stdout,
      )?.[1];
    assert.ok(digest !== undefined, "the scan judges the promoted digest");
    assert.match(
      stdout,
      new RegExp(
        `run: +bin/slipway-gate promote --repository registry\\.digitalocean\\.com/acme/odoo --digest ${digest} --version v\\S+ --latest --require-evidence --source-verdict READY `,
      ),
    );
    assert.match(stdout, new RegExp(`digest: ${digest}\n`), "the App runs the promoted digest");
    assert.doesNotMatch(stdout, /push: |keepRemotely|slipway-gate (test|smoke) /);
    assert.match(stdout, /app spec, doctl's YAML \(checked offline: [^\n]*\):\n +name: odoo\n/);
    assert.match(stdout, /registry_type: DOCR/);
    assert.match(stdout, /value: "<secret: pulumi config slipway:secrets\.ODOO_ADMIN_PASSWD>"/);
    assert.doesNotMatch(stdout, /registryType|httpPort|instanceCount/);
  });

  it("applies --set with pulumi config set --path semantics", async () => {
    const { code, stdout } = await plan("--stack", "local", "--set", "app.port=8070", "--json");
    assert.equal(code, 0);
    const { resources } = JSON.parse(stdout) as { resources: PlannedResource[] };
    const smoke = resources.find((r) => r.name === "slipway-smoke-run");
    assert.match(String(smoke?.inputs.create), / --port 8070 /);
    const container = resources.find((r) => r.name === "slipway-deploy-container");
    assert.deepEqual((container?.inputs.ports as { internal: number }[])[0].internal, 8070);
  });

  it("scans the local stack's image for real, with the pinned Trivy image, not a report file", async () => {
    const { code, stdout } = await plan("--stack", "local", "--json");
    assert.equal(code, 0);
    const { resources } = JSON.parse(stdout) as { resources: PlannedResource[] };
    const scan = String(resources.find((r) => r.name === "slipway-scan-run")?.inputs.create);
    const local = rawConfig("local") as {
      baseImage: string;
      release: { version: string };
      registry: { server?: string };
      scan: { trivyImage: string };
    };
    const digest = /^bin\/slipway-gate scan --image \S+@(sha256:[a-f0-9]{64}) /.exec(scan)?.[1];
    assert.ok(digest !== undefined, scan);
    assert.doesNotMatch(scan, /--report /);
    // The scan judges the runtime candidate the smoke gate judged and the promotion releases.
    const smoke = String(resources.find((r) => r.name === "slipway-smoke-run")?.inputs.create);
    const promote = String(
      resources.find((r) => r.name === "slipway-promote-promote")?.inputs.create,
    );
    assert.match(smoke, new RegExp(` --image \\S+@${digest} `));
    assert.match(promote, new RegExp(` --digest ${digest} `));
    // Trivy's own report and the SBOM (when a Trivy binary is on the machine: the image cannot
    // convert one) are kept beside the gate results, and findings are attributed to the base.
    const dir = `.slipway/releases/${local.release.version}`;
    const repository = `${local.registry.server ?? "127.0.0.1:5000"}/odoo`;
    assert.equal(
      scan,
      `bin/slipway-gate scan --image ${repository}@${digest} ` +
        `--trivy-image ${local.scan.trivyImage} --scanners vuln,secret --sbom ${dir}/sbom.cdx.json ` +
        `--severity HIGH,CRITICAL ` +
        `--keep-report ${dir}/trivy.json --base-image ${local.baseImage} ` +
        `--print-verdict --json ${dir}/scan.json`,
    );
  });

  it("takes prod's baseline mode only with its explicit switch", async () => {
    const baseline = "scan.baseline=.slipway/releases/v1.4.2/trivy.json";
    const refused = await plan("--stack", "prod", "--set", baseline, "--json");
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /slipway:scan\.baseline: prod blocks on every finding/);
    const chosen = await plan(
      "--stack",
      "prod",
      "--set",
      baseline,
      "--set",
      "scan.allowBaselineInProd=true",
      "--json",
    );
    assert.equal(chosen.code, 0, chosen.stderr);
    const { resources } = JSON.parse(chosen.stdout) as { resources: PlannedResource[] };
    const scan = String(resources.find((r) => r.name === "slipway-scan-run")?.inputs.create);
    assert.match(
      scan,
      / --baseline \.slipway\/releases\/v1\.4\.2\/trivy\.json --print-verdict --json /,
    );
  });

  it("swaps a key for one it conflicts with: --unset before --set", async () => {
    const { code, stdout, stderr } = await plan(
      "--stack",
      "local",
      "--unset",
      "scan.trivyImage",
      "--set",
      "scan.report=tests/fixtures/trivy/sl-micro-rancher5.4.json",
      "--json",
    );
    assert.equal(code, 0, stderr);
    const { resources } = JSON.parse(stdout) as { resources: PlannedResource[] };
    const scan = String(resources.find((r) => r.name === "slipway-scan-run")?.inputs.create);
    assert.match(scan, / --report tests\/fixtures\/trivy\/sl-micro-rancher5\.4\.json /);
    assert.doesNotMatch(scan, /--trivy-image/);
    // Without the --unset the two conflict, as `pulumi config set` alone would leave them.
    const both = await plan("--stack", "local", "--set", "scan.report=r.json", "--json");
    assert.equal(both.code, 2);
    assert.match(both.stderr, /conflicts with scan\.report/);
  });

  it("says what each build waits for: the preflight only, not the lint or the drift check", async () => {
    const { code, stdout } = await plan("--stack", "dev");
    assert.equal(code, 0);
    const waits = stdout.match(/^ +waits: +(.*)$/gm) ?? [];
    const builds = stdout.match(/slipway-(builder|runtime)-image {2}\[[^\]]+\]\n(?: {6}.*\n)*/g);
    assert.equal(builds?.length, 2);
    for (const build of builds ?? []) {
      const line = /waits: +(.*)\n/.exec(build)?.[1] ?? "";
      const names = line.split(", ");
      assert.ok(names.includes("slipway-checks-preflight"), line);
      assert.ok(!names.includes("slipway-base-pull"), line);
      assert.ok(!names.includes("slipway-checks-lint"), line);
      assert.ok(!names.includes("slipway-base-drift"), line);
    }
    assert.ok(waits.length > 5);
  });

  it("plans a rollback with --set release.pin", async () => {
    const { code, stdout } = await plan(
      "--stack",
      "local",
      "--set",
      "release.pin=v0.0.9",
      "--json",
    );
    assert.equal(code, 0);
    const { resources } = JSON.parse(stdout) as { resources: PlannedResource[] };
    const types = resources.map((r) => r.type);
    assert.ok(!types.includes("docker-build:index:Image"));
    assert.ok(!types.includes("docker:index/registryImage:RegistryImage"));
    assert.ok(!types.includes("slipway:registry:Promotion"));
    assert.ok(!types.includes("slipway:gates:ScanGate"));
    assert.ok(resources.some((r) => r.name === "slipway-rollback-resolve"));
  });

  it("prints the config errors and exits 2", async () => {
    const { code, stdout, stderr } = await plan(
      "--stack",
      "prod",
      "--set",
      "scan.enabled=false",
      "--set",
      "release.version=latest",
    );
    assert.equal(code, 2);
    assert.equal(stdout, "");
    assert.match(stderr, /^CONFIG_INVALID: /);
    assert.match(stderr, /slipway:scan\.enabled/);
    assert.match(stderr, /slipway:release\.version/);
  });

  it("exits 2 on a usage error", async () => {
    assert.equal((await plan()).code, 2);
    assert.equal((await plan("--stack", "staging")).code, 2);
    assert.equal((await plan("--stack", "dev", "--set", "noequals")).code, 2);
  });
});

describe("config paths for --set", () => {
  it("removes a value at a path with --unset, leaving the rest (pulumi config rm --path)", () => {
    const config: Record<string, unknown> = {
      "slipway:scan": { trivyImage: "t", severity: ["HIGH", "CRITICAL"] },
      "slipway:baseImage": "b",
    };
    unsetPath(config, "scan.trivyImage");
    unsetPath(config, "scan.severity[0]");
    unsetPath(config, "baseImage");
    unsetPath(config, "deploy.env.MISSING");
    assert.deepEqual(config, { "slipway:scan": { severity: ["CRITICAL"] } });
  });

  it("parses dotted keys, indexes and quoted keys", () => {
    assert.deepEqual(parsePath("app.port"), ["app", "port"]);
    assert.deepEqual(parsePath("app.requiredPaths[1]"), ["app", "requiredPaths", 1]);
    assert.deepEqual(parsePath('deploy.env["A.B"]'), ["deploy", "env", "A.B"]);
  });

  it("types booleans and integers inside objects, keeps top-level values text", () => {
    const config: Record<string, unknown> = { "slipway:app": { port: 8069 } };
    setPath(config, "app.port", "8070");
    setPath(config, "smoke.boot", "false");
    setPath(config, "smoke.maxSize", "1.5GB");
    setPath(config, "environment", "dev");
    setPath(config, "app.requiredPaths[0]", "/mnt/extra-addons");
    setPath(config, "baseImage", "42");
    assert.deepEqual(config, {
      "slipway:app": { port: 8070, requiredPaths: ["/mnt/extra-addons"] },
      "slipway:smoke": { boot: false, maxSize: "1.5GB" },
      "slipway:environment": "dev",
      "slipway:baseImage": "42",
    });
  });
});

/**
 * The fields of App Platform's app spec (godo's AppSpec JSON names; doctl decodes the spec with unknown
 * fields disallowed), for the parts Slipway writes.
 */
const DOCTL_FIELDS: Record<string, string[]> = {
  app: [
    "name",
    "services",
    "static_sites",
    "workers",
    "jobs",
    "functions",
    "databases",
    "domains",
    "region",
    "envs",
    "alerts",
    "ingress",
    "egress",
    "features",
    "maintenance",
  ],
  service: [
    "name",
    "git",
    "github",
    "image",
    "gitlab",
    "bitbucket",
    "dockerfile_path",
    "build_command",
    "run_command",
    "source_dir",
    "environment_slug",
    "envs",
    "instance_size_slug",
    "instance_count",
    "autoscaling",
    "http_port",
    "protocol",
    "routes",
    "health_check",
    "cors",
    "internal_ports",
    "alerts",
    "log_destinations",
    "termination",
    "liveness_health_check",
  ],
  job: [
    "name",
    "git",
    "github",
    "image",
    "gitlab",
    "bitbucket",
    "dockerfile_path",
    "build_command",
    "run_command",
    "source_dir",
    "environment_slug",
    "envs",
    "instance_size_slug",
    "instance_count",
    "kind",
    "alerts",
    "log_destinations",
    "termination",
  ],
  database: [
    "name",
    "engine",
    "version",
    "size",
    "num_nodes",
    "production",
    "cluster_name",
    "db_name",
    "db_user",
  ],
  alert: ["rule", "disabled", "operator", "value", "window"],
  env: ["key", "value", "scope", "type"],
  image: [
    "registry",
    "registry_type",
    "registry_credentials",
    "repository",
    "tag",
    "digest",
    "deploy_on_push",
  ],
  healthCheck: [
    "path",
    "initial_delay_seconds",
    "period_seconds",
    "timeout_seconds",
    "success_threshold",
    "failure_threshold",
    "http_path",
    "port",
  ],
};

function assertFields(object: unknown, kind: string, where: string): Record<string, unknown> {
  assert.ok(object !== null && typeof object === "object", `${where} is an object`);
  const record = object as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    assert.ok(DOCTL_FIELDS[kind].includes(key), `${where}.${key} is not a field of the app spec`);
  }
  return record;
}

describe("the App spec in doctl's form", () => {
  for (const stack of ["dev", "prod"] as const) {
    it(`uses only App Platform's spec fields and values for the ${stack} stack`, async () => {
      // prod as committed: it promotes dev's release (the App is the same in either mode).
      const config = stackConfig(stack);
      const { run, error } = await runStack(
        stack,
        stack === "prod" ? merge(config, { release: { promoteFrom: "dev" } }) : config,
      );
      assert.equal(error, undefined, String(error));
      const app = run.find("digitalocean:index/app:App", "slipway-deploy-app");
      const { spec, alertDestinations } = doctlAppSpec(app.inputs.spec);
      const top = assertFields(spec, "app", "spec");
      assert.match(String(top.name), /^[a-z][a-z0-9-]{0,30}[a-z0-9]$/);
      const components = [
        ...((top.services as unknown[]) ?? []).map(
          (s, i) => ["service", s, `services[${i}]`] as const,
        ),
        ...((top.jobs as unknown[]) ?? []).map((j, i) => ["job", j, `jobs[${i}]`] as const),
      ];
      for (const [kind, component, where] of components) {
        const c = assertFields(component, kind, where);
        const image = assertFields(c.image, "image", `${where}.image`);
        assert.equal(image.registry_type, "DOCR");
        assert.equal(image.registry, undefined, "DOCR images name no registry");
        assert.equal(image.tag, undefined, "deployed by digest, never a tag");
        assert.match(String(image.digest), /^sha256:[a-f0-9]{64}$/);
        for (const [i, env] of ((c.envs as unknown[]) ?? []).entries()) {
          const e = assertFields(env, "env", `${where}.envs[${i}]`);
          assert.ok(["GENERAL", "SECRET"].includes(String(e.type)));
          assert.equal(e.scope, "RUN_TIME");
        }
        for (const [i, alert] of ((c.alerts as unknown[]) ?? []).entries()) {
          const a = assertFields(alert, "alert", `${where}.alerts[${i}]`);
          assert.ok(
            ["CPU_UTILIZATION", "MEM_UTILIZATION", "RESTART_COUNT"].includes(String(a.rule)),
          );
          assert.equal(a.operator, "GREATER_THAN");
          assert.equal(a.window, "FIVE_MINUTES");
        }
        if (kind === "service")
          assertFields(c.health_check, "healthCheck", `${where}.health_check`);
        if (kind === "job") assert.equal(c.kind, "PRE_DEPLOY");
      }
      for (const [i, alert] of ((top.alerts as unknown[]) ?? []).entries()) {
        const a = assertFields(alert, "alert", `alerts[${i}]`);
        assert.ok(
          ["DEPLOYMENT_FAILED", "DEPLOYMENT_LIVE", "DOMAIN_FAILED"].includes(String(a.rule)),
        );
      }
      for (const [i, db] of ((top.databases as unknown[]) ?? []).entries()) {
        assertFields(db, "database", `databases[${i}]`);
      }
      // Destinations are set through the alerts API, beside the spec: every alert has them.
      assert.equal(alertDestinations.length, 6);
    });
  }
});
