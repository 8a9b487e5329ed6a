import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { ReleasePipeline } from "../../components";
import { dockerConfigJsonFor } from "../../components/registry";
import { loadReleaseSettings } from "../../stacks";
import {
  leaves,
  merge,
  MOCK_REGISTRY_TOKEN,
  PROJECT,
  type Recorded,
  runStack,
  runUnderMocks,
  SECRET_MASK,
  stackConfig,
  toPulumiConfig,
  valueOf,
} from "./harness";

type Env = "dev" | "prod" | "local";

/** The stack's config as committed: prod promotes what dev released (rule `prod-promotes`). */
function committed(env: Env): Record<string, unknown> {
  const config = stackConfig(env);
  return env === "prod" ? merge(config, { release: { promoteFrom: "dev" } }) : config;
}

/** prod building from source (`release.buildFromSource`): the release mode on App Platform with a database. */
const PROD_BUILD = merge(stackConfig("prod"), { release: { buildFromSource: true } });

/** Malformed configs, each with the config path its error must name. */
const BAD: { stack: Env; patch: Record<string, unknown>; path: string }[] = [
  { stack: "prod", patch: { baseImage: "python:3.11-slim-bullseye" }, path: "slipway:baseImage" },
  { stack: "prod", patch: { scan: { enabled: false } }, path: "slipway:scan.enabled" },
  { stack: "prod", patch: { release: { version: "latest" } }, path: "slipway:release.version" },
  { stack: "prod", patch: { tests: { coverageMin: 50 } }, path: "slipway:tests.coverageMin" },
  { stack: "dev", patch: { app: { port: "http" } }, path: "slipway:app.port" },
  { stack: "dev", patch: { deploy: { target: "kubernetes" } }, path: "slipway:deploy.target" },
  {
    stack: "dev",
    patch: { scan: { severity: ["HIGH", "SEVERE"] } },
    path: "slipway:scan.severity[1]",
  },
  { stack: "dev", patch: { release: { pin: "latest" } }, path: "slipway:release.pin" },
  {
    stack: "local",
    patch: { registry: { server: "registry.example.com" } },
    path: "slipway:registry.server",
  },
  { stack: "dev", patch: { app: { unknownKey: true } }, path: "slipway:app" },
];

describe("config errors", () => {
  for (const bad of BAD) {
    it(`rejects ${bad.path} in the ${bad.stack} stack before any resource is registered`, async () => {
      const { run, error } = await runStack(bad.stack, merge(stackConfig(bad.stack), bad.patch));
      assert.ok(error instanceof Error, "the program throws");
      assert.match(error.message, /^CONFIG_INVALID: /);
      assert.ok(error.message.includes(bad.path), `${error.message}\nshould name ${bad.path}`);
      assert.deepEqual(run.resources, []);
      assert.deepEqual(run.calls, []);
    });
  }

  it("lists every problem in one error", async () => {
    const config = merge(stackConfig("prod"), {
      baseImage: "python:3.11-slim-bullseye",
      scan: { enabled: false },
      tests: { coverageMin: 10 },
    });
    const { run, error } = await runStack("prod", config);
    assert.ok(error instanceof Error);
    for (const path of ["slipway:baseImage", "slipway:scan.enabled", "slipway:tests.coverageMin"]) {
      assert.ok(error.message.includes(path), `names ${path}`);
    }
    assert.equal(run.resources.length, 0);
  });

  it("rejects a secret the config asks for and the stack does not hold, naming it only", async () => {
    const config = merge(stackConfig("dev"), { secrets: { ODOO_ADMIN_PASSWD: "x" } });
    delete (config.secrets as Record<string, unknown>).POSTGRES_PASSWORD;
    const { run, error } = await runStack("dev", config);
    assert.ok(error instanceof Error);
    assert.ok(error.message.includes("slipway:secrets.POSTGRES_PASSWORD"));
    assert.ok(!error.message.includes("dev-pg-password"));
    assert.equal(run.resources.length, 0);
  });
});

/** The recorded graph, in an order that does not depend on scheduling. */
function snapshot(resources: Recorded[]) {
  return resources
    .map((r) => ({ urn: r.urn, parent: r.parentUrn, inputs: r.inputs, secrets: r.secretPaths }))
    .sort((a, b) => (a.urn < b.urn ? -1 : a.urn > b.urn ? 1 : 0));
}

describe("determinism", () => {
  for (const env of ["dev", "prod", "local"] as const) {
    it(`gives identical inputs on a second evaluation of the ${env} stack (no spurious diffs)`, async () => {
      const first = await runStack(env, committed(env));
      const second = await runStack(env, committed(env));
      assert.equal(first.error, undefined, String(first.error));
      assert.deepEqual(snapshot(second.run.resources), snapshot(first.run.resources));
      assert.deepEqual(second.outputs, first.outputs);
    });
  }

  it("gives identical inputs on a second evaluation of a prod release built from source", async () => {
    const first = await runStack("prod", PROD_BUILD);
    const second = await runStack("prod", PROD_BUILD);
    assert.equal(first.error, undefined, String(first.error));
    assert.deepEqual(snapshot(second.run.resources), snapshot(first.run.resources));
    assert.deepEqual(second.outputs, first.outputs);
  });

  it("gives identical inputs on a second evaluation of a rollback", async () => {
    const config = merge(committed("prod"), { release: { pin: "v1.4.1" } });
    const first = await runStack("prod", config);
    const second = await runStack("prod", config);
    assert.equal(first.error, undefined, String(first.error));
    assert.deepEqual(snapshot(second.run.resources), snapshot(first.run.resources));
  });
});

/** Every input path whose value contains one of `secrets`. */
function pathsHolding(value: unknown, secrets: string[], path = ""): string[] {
  if (typeof value === "string") {
    return secrets.some((s) => value.includes(s)) ? [path] : [];
  }
  if (Array.isArray(value))
    return value.flatMap((v, i) => pathsHolding(v, secrets, `${path}[${i}]`));
  if (value !== null && typeof value === "object") {
    return Object.entries(value).flatMap(([k, v]) =>
      pathsHolding(v, secrets, path === "" ? k : `${path}.${k}`),
    );
  }
  return [];
}

/** Whether `path` lies within a secret input (Pulumi marks secrets per top-level input). */
function withinSecret(path: string, secretPaths: string[]): boolean {
  return secretPaths.some(
    (p) => path === p || path.startsWith(`${p}.`) || path.startsWith(`${p}[`),
  );
}

describe("secrets", () => {
  const registryToken = [
    MOCK_REGISTRY_TOKEN,
    Buffer.from(`${MOCK_REGISTRY_TOKEN}:${MOCK_REGISTRY_TOKEN}`).toString("base64"),
  ];

  const stacks: [string, Env, Record<string, unknown>][] = [
    ["dev", "dev", committed("dev")],
    ["prod (promotion)", "prod", committed("prod")],
    ["prod (built from source)", "prod", PROD_BUILD],
    ["local", "local", committed("local")],
  ];
  for (const [label, env, config] of stacks) {
    it(`marks every input that carries a secret as secret in the ${label} stack`, async () => {
      const secrets = [...leaves(config.secrets), ...registryToken];
      const { run, error } = await runStack(env, config);
      assert.equal(error, undefined, String(error));
      let carriers = 0;
      for (const resource of run.resources) {
        for (const path of pathsHolding(resource.inputs, secrets)) {
          carriers += 1;
          assert.ok(
            withinSecret(path, resource.secretPaths),
            `${resource.type} ${resource.name}: ${path} carries a secret but is not marked secret`,
          );
        }
        assert.deepEqual(
          pathsHolding(resource.printable, secrets),
          [],
          `${resource.name} prints no secret`,
        );
      }
      assert.ok(carriers > 0, "the stack has secrets in its inputs");
    });
  }

  it("hands the registry gates and the builds the DigitalOcean token, as secrets", async () => {
    const { run, error } = await runStack("prod", PROD_BUILD);
    assert.equal(error, undefined, String(error));
    const promote = run.find("command:local:Command", "slipway-promote-promote");
    assert.deepEqual(promote.secretPaths, ["environment"]);
    assert.equal(
      (promote.inputs.environment as Record<string, string>).SLIPWAY_REGISTRY_AUTH,
      dockerConfigJsonFor("registry.digitalocean.com", MOCK_REGISTRY_TOKEN, MOCK_REGISTRY_TOKEN),
    );
    assert.equal(
      (promote.printable.environment as Record<string, string>).SLIPWAY_REGISTRY_AUTH,
      SECRET_MASK,
    );
    for (const name of ["slipway-builder-image", "slipway-runtime-image"]) {
      const build = run.find("docker-build:index:Image", name);
      assert.deepEqual(build.secretPaths, ["registries"], name);
      assert.deepEqual(build.inputs.registries, [
        {
          address: "registry.digitalocean.com",
          username: MOCK_REGISTRY_TOKEN,
          password: MOCK_REGISTRY_TOKEN,
        },
      ]);
      assert.deepEqual(build.printable.registries, [
        { address: "registry.digitalocean.com", username: SECRET_MASK, password: SECRET_MASK },
      ]);
    }
  });

  it("keeps the pipeline's credential and secret outputs secret (pulumi.isSecret)", async () => {
    const config = PROD_BUILD;
    const { result, error } = await runUnderMocks(
      () => new ReleasePipeline("slipway", loadReleaseSettings()),
      {
        stack: "prod",
        config: { ...toPulumiConfig(config), "digitalocean:token": MOCK_REGISTRY_TOKEN },
        secretKeys: [`${PROJECT}:secrets`, "digitalocean:token"],
      },
    );
    assert.equal(error, undefined, String(error));
    assert.ok(result !== undefined);
    const registry = result.registry;
    assert.ok(registry.dockerConfigJson !== undefined && registry.auth !== undefined);
    assert.equal(await pulumi.isSecret(registry.dockerConfigJson), true);
    assert.equal(await pulumi.isSecret(registry.auth), true);
    assert.equal(await pulumi.isSecret(registry.endpoint), false);
    assert.equal(await pulumi.isSecret(result.digest), false, "a digest is not a secret");
    const settings = await runUnderMocks(() => loadReleaseSettings(), {
      stack: "prod",
      config: { ...toPulumiConfig(config), "digitalocean:token": MOCK_REGISTRY_TOKEN },
      secretKeys: [`${PROJECT}:secrets`, "digitalocean:token"],
    });
    const token = settings.result?.registryToken;
    assert.ok(token !== undefined, "the token is read from digitalocean:token");
    assert.equal(await pulumi.isSecret(pulumi.output(token)), true);
    for (const value of [
      ...Object.values(settings.result?.secretEnv ?? {}),
      ...Object.values(settings.result?.slackWebhooks ?? {}),
    ]) {
      assert.equal(await pulumi.isSecret(value), true);
      assert.ok((await valueOf(value)).length > 0);
    }
  });
});
