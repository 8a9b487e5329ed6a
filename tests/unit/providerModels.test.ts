/**
 * What the program does under the providers' own behaviour, as the harness models it (each model cites
 * its provider source in tests/unit/harness.ts): docker-build's push and digest, preview, the engine's
 * plan for an `up` after an `up`, the command provider's triggers, StackReference reads.
 */
import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DOCR_HOST, dockerConfigJsonFor } from "../../components/registry";
import { parseVerdictLine, verdictLine, type GateResult } from "../../gates/result";
import {
  type Action,
  DEV_RELEASE,
  defaultStdout,
  fakeDigest,
  merge,
  MOCK_REGISTRY_TOKEN,
  type MockRun,
  type MockRunOptions,
  plannedActions,
  runStack,
  stackConfig,
  T,
} from "./harness";

type Env = "dev" | "local";

/** One `up` of a stack config; fails the test on a config error. */
async function up(
  env: "dev" | "prod" | "local",
  config: Record<string, unknown>,
  options: Omit<MockRunOptions, "stack" | "config" | "secretKeys"> = {},
): Promise<{ run: MockRun; outputs: Record<string, unknown> }> {
  const outcome = await runStack(env, config, options);
  assert.equal(outcome.error, undefined, String(outcome.error));
  return { run: outcome.run, outputs: outcome.outputs ?? {} };
}

/** The planned action of one resource (`command:local:Command::slipway-scan-run`). */
function actionOf(plan: Map<string, Action>, type: string, name: string): Action | undefined {
  return plan.get(`${type}::${name}`);
}

/** The plan as `name → action`, for failure messages. */
function show(plan: Map<string, Action>): string {
  return [...plan].map(([key, action]) => `${key.split("::")[1]}: ${action}`).join("\n");
}

/**
 * The stack config with no SECRET env in the App. App Platform returns a SECRET env's value encrypted
 * (the harness's App model), so an App whose program passes plaintext secrets differs from its state
 * on every `up` until the App ignores that read-back: that is the App's own test. These tests plan
 * everything else, the App's non-secret spec included.
 */
function withoutSecretEnv(config: Record<string, unknown>): Record<string, unknown> {
  const { secrets, ...rest } = merge(config, { deploy: { secretEnv: [] } });
  const slack = (secrets as { slack?: unknown } | undefined)?.slack;
  return slack === undefined ? rest : { ...rest, secrets: { slack } };
}

const DEV = withoutSecretEnv(stackConfig("dev"));
const PROD_PROMOTING = withoutSecretEnv(
  merge(stackConfig("prod"), { release: { promoteFrom: "dev" } }),
);

describe("docker-build Image: push and digest", () => {
  for (const env of ["dev", "local"] as const) {
    it(`every build pushes: the gates judge registry digests, never a daemon-local image (${env})`, async () => {
      const { run } = await up(env, stackConfig(env));
      const builds = run.all(T.build);
      assert.equal(builds.length, 2);
      const repository =
        env === "local" ? "127.0.0.1:5000/odoo" : "registry.digitalocean.com/acme/odoo";
      const pushed = new Set<string>();
      for (const build of builds) {
        assert.equal(build.inputs.push, true, build.name);
        assert.equal(build.inputs.load, undefined, `${build.name} loads nothing into the daemon`);
        const digest = String(build.state.digest);
        const tag = (build.inputs.tags as string[])[0];
        // The provider reports a manifest digest only for a pushed build: the push happened.
        assert.ok(run.effects.includes(`push ${tag}@${digest}`), run.effects.join("\n"));
        pushed.add(`${repository}@${digest}`);
      }
      const images = run
        .all(T.command)
        .filter((c) => /^bin\/slipway-gate (test|smoke|scan) /.test(String(c.inputs.create)))
        .flatMap((c) => [...String(c.inputs.create).matchAll(/ --image (\S+)/g)].map((m) => m[1]));
      assert.ok(images.length >= 2, "the test and smoke gates name an image");
      for (const image of images) {
        assert.ok(pushed.has(image), `${image} is a pushed build's <repository>@<digest>`);
      }
    });
  }

  it("takes the manifest digest the push gave, not the digest a load-only build would have", async () => {
    // Same inputs, pushed or not: the digests differ (`manifest:` vs `local:`), so a gate given a
    // loaded image's digest could never find it in the registry.
    const { run } = await up("local", stackConfig("local"));
    const build = run.find(T.build, "slipway-runtime-image");
    const seed = (pushed: boolean) => {
      const rest: Record<string, unknown> = { ...build.inputs };
      delete rest.registries;
      return fakeDigest(
        `${pushed ? "manifest" : "local"}:${JSON.stringify({ ...rest, context: "v1" })}`,
      );
    };
    assert.equal(build.state.digest, seed(true));
    assert.notEqual(seed(true), seed(false));
  });
});

describe("preview", () => {
  for (const env of ["dev", "local"] as const) {
    it(`a preview builds nothing, pushes nothing, exports no cache and runs no command (${env})`, async () => {
      const outcome = await runStack(env, stackConfig(env), {
        preview: true,
        // Nothing is known in preview: let the run end when nothing more registers.
        fail: () => undefined,
      });
      assert.equal(outcome.error, undefined, String(outcome.error));
      const { run } = outcome;
      assert.deepEqual(run.effects, []);
      const builds = run.all(T.build);
      assert.equal(builds.length, 2, "the builds are planned");
      for (const build of builds) {
        assert.equal(build.inputs.buildOnPreview, false, build.name);
      }
      assert.ok(run.get(T.command, "slipway-checks-preflight") !== undefined);
    });
  }

  it("a build left to docker-build's default would build and export cache in preview", async () => {
    // What buildOnPreview: false prevents, on the same model: the default (true) builds in preview.
    const { run } = await up("dev", stackConfig("dev"));
    const build = run.find(T.build, "slipway-runtime-image");
    assert.equal(build.inputs.buildOnPreview, false);
    assert.ok(Array.isArray(build.inputs.cacheTo) && build.inputs.cacheTo.length > 0);
  });
});

describe("an up after an up (the engine's plan)", () => {
  for (const env of ["dev", "local"] as const) {
    it(`an up with nothing changed runs nothing again (${env})`, async () => {
      const config = env === "dev" ? DEV : stackConfig(env);
      const first = await up(env, config);
      const second = await up(env, config);
      const plan = plannedActions(first.run, second.run);
      assert.ok(plan.size > 10, show(plan));
      const changed = [...plan].filter(([, action]) => action !== "same");
      assert.deepEqual(changed, [], show(plan));
    });
  }

  it("a changed file rebuilds and re-runs exactly the gates that judge the new digests", async () => {
    const first = await up("dev", stackConfig("dev"), { contextVersion: "v1" });
    const second = await up("dev", stackConfig("dev"), { contextVersion: "v2" });
    const plan = plannedActions(first.run, second.run);
    for (const name of ["slipway-builder-image", "slipway-runtime-image"]) {
      assert.equal(actionOf(plan, T.build, name), "update", `${name} rebuilds\n${show(plan)}`);
    }
    for (const name of [
      "slipway-test-run",
      "slipway-smoke-run",
      "slipway-scan-run",
      "slipway-promote-promote",
    ]) {
      const action = actionOf(plan, T.command, name);
      assert.ok(action === "update" || action === "replace", `${name} runs again: ${action}`);
    }
    for (const name of ["slipway-checks-preflight", "slipway-checks-lint", "slipway-base-drift"]) {
      assert.equal(actionOf(plan, T.command, name), "same", `${name} judges nothing that changed`);
    }
    assert.equal(actionOf(plan, T.app, "slipway-deploy-app"), "update", "the new digest deploys");
  });

  it("a changed allowlist re-runs the scan and nothing else before the promotion", async () => {
    // The same path with other content: the command line is the same, only the fingerprint differs.
    const allowlist = `tests/fixtures/trivy/allowlist/.provider-models-${process.pid}.trivyignore`;
    const file = join(__dirname, "..", "..", allowlist);
    const config = merge(DEV, { scan: { allowlist } });
    try {
      writeFileSync(file, "CVE-2019-18224\n");
      const first = await up("dev", config);
      writeFileSync(file, "CVE-2019-18224\nCVE-2022-40897\n");
      const second = await up("dev", config);
      const plan = plannedActions(first.run, second.run);
      assert.equal(actionOf(plan, T.command, "slipway-scan-run"), "replace", show(plan));
      const others = [...plan].filter(
        ([key, action]) => !key.endsWith("::slipway-scan-run") && action !== "same",
      );
      // The scan decides the same about the same digest: the promotion's triggers do not move.
      assert.deepEqual(others, [], show(plan));
    } finally {
      rmSync(file, { force: true });
    }
  });

  it("a gate that decides the same with other words changes nothing downstream", async () => {
    const reworded = (create: string, name: string) => {
      const line = defaultStdout(create).trimEnd().split("\n").pop() ?? "";
      return `PASS ${name}: said differently, at ${name.length} o'clock\n${line}\n`;
    };
    const first = await up("dev", DEV);
    const second = await up("dev", DEV, { commandStdout: reworded });
    const before = first.run.find(T.command, "slipway-promote-promote");
    const after = second.run.find(T.command, "slipway-promote-promote");
    assert.notEqual(
      String(after.state.stdout).split("\n")[0],
      String(before.state.stdout).split("\n")[0],
      "the human text differs",
    );
    assert.deepEqual(after.inputs.triggers, before.inputs.triggers);
    const plan = plannedActions(first.run, second.run);
    assert.deepEqual(
      [...plan].filter(([, action]) => action !== "same"),
      [],
      show(plan),
    );
  });

  it("a gate that decides otherwise about the same digest re-runs the promotion", async () => {
    const warned = (create: string) => {
      const line = parseVerdictLine(defaultStdout(create));
      if (line.gate !== "scan") return defaultStdout(create);
      const result = {
        gate: "scan",
        verdict: "warn",
        code: "SECURITY_HIGH" as const,
        summary: "",
        details: [],
        findings: [],
        figures: {},
        timings: {},
      } satisfies GateResult;
      return `WARN scan\n${verdictLine(result, line.subject)}\n`;
    };
    const first = await up("dev", stackConfig("dev"));
    const second = await up("dev", stackConfig("dev"), { commandStdout: warned });
    const plan = plannedActions(first.run, second.run);
    assert.equal(actionOf(plan, T.command, "slipway-promote-promote"), "replace", show(plan));
  });
});

describe("registry credentials", () => {
  const auth = dockerConfigJsonFor(DOCR_HOST, MOCK_REGISTRY_TOKEN, MOCK_REGISTRY_TOKEN);
  const envOf = (run: MockRun, name: string) =>
    (run.find(T.command, name).inputs.environment as Record<string, string> | undefined)
      ?.SLIPWAY_REGISTRY_AUTH;

  it("no registry credential in state can expire: a rollback days later authenticates with the token", async () => {
    const release = await up("dev", stackConfig("dev"));
    const rollback = await up("dev", merge(stackConfig("dev"), { release: { pin: "v1.4.1" } }));
    for (const run of [release.run, rollback.run]) {
      assert.deepEqual(run.all(T.credentials), [], "nothing minted, nothing to expire");
    }
    assert.equal(envOf(release.run, "slipway-promote-promote"), auth);
    assert.equal(envOf(rollback.run, "slipway-rollback-resolve"), auth);
    assert.equal(envOf(rollback.run, "slipway-rollback-retag"), auth);
    for (const build of release.run.all(T.build)) {
      assert.deepEqual(build.inputs.registries, [
        { address: DOCR_HOST, username: MOCK_REGISTRY_TOKEN, password: MOCK_REGISTRY_TOKEN },
      ]);
    }
    // The same credential on every run: a second up changes no gate's environment.
    const again = await up("dev", stackConfig("dev"));
    const plan = plannedActions(release.run, again.run);
    assert.equal(actionOf(plan, T.command, "slipway-promote-promote"), "same", show(plan));
  });
});

describe("retainOnDelete", () => {
  it("switching to rollback never deletes a release: the builds are retained on delete", async () => {
    const release = await up("dev", stackConfig("dev"));
    const rollback = await up("dev", merge(stackConfig("dev"), { release: { pin: "v1.4.1" } }));
    const plan = plannedActions(release.run, rollback.run);
    for (const name of ["slipway-builder-image", "slipway-runtime-image"]) {
      assert.equal(actionOf(plan, T.build, name), "delete", show(plan));
      assert.equal(
        release.run.find(T.build, name).retainOnDelete,
        true,
        `${name}: the engine forgets it, the registry keeps the candidate`,
      );
    }
    // The promotion leaves the stack too; it has no delete command, so no tag is removed.
    assert.equal(actionOf(plan, T.command, "slipway-promote-promote"), "delete");
    assert.equal(release.run.find(T.command, "slipway-promote-promote").inputs.delete, undefined);
  });

  for (const env of ["dev", "local"] as const satisfies readonly Env[]) {
    it(`retains every build on delete, and nothing else needs it (${env})`, async () => {
      const { run } = await up(env, stackConfig(env));
      for (const resource of run.resources.filter((r) => r.custom)) {
        assert.equal(resource.retainOnDelete, resource.type === T.build, resource.name);
      }
    });
  }
});

describe("StackReference", () => {
  it("a promotion reads what the source stack exported", async () => {
    const released = fakeDigest("dev-released-elsewhere");
    const dev = { ...DEV_RELEASE, imageDigest: released, candidateDigest: released };
    const { run, outputs } = await up(
      "prod",
      merge(stackConfig("prod"), { release: { promoteFrom: "dev" } }),
      { stacks: { "acme-org/slipway/dev": dev } },
    );
    assert.match(
      String(run.find(T.command, "slipway-promote-promote").inputs.create),
      new RegExp(` --digest ${released} `),
    );
    assert.match(
      String(run.find(T.command, "slipway-scan-run").inputs.create),
      new RegExp(` --image registry\\.digitalocean\\.com/acme/odoo@${released} `),
    );
    assert.equal(outputs.imageDigest, released);
    assert.equal(outputs.sourceCommit, DEV_RELEASE.sourceCommit);
  });

  it("a promotion re-runs when the source stack releases a new digest, and only then", async () => {
    const config = PROD_PROMOTING;
    const first = await up("prod", config);
    const same = await up("prod", config);
    assert.deepEqual(
      [...plannedActions(first.run, same.run)].filter(([, a]) => a !== "same"),
      [],
    );
    const newer = { ...DEV_RELEASE, imageDigest: fakeDigest("dev-next") };
    const next = await up("prod", config, { stacks: { "acme-org/slipway/dev": newer } });
    const plan = plannedActions(first.run, next.run);
    assert.equal(actionOf(plan, T.command, "slipway-scan-run"), "replace", show(plan));
    assert.equal(actionOf(plan, T.command, "slipway-promote-promote"), "replace", show(plan));
    assert.equal(actionOf(plan, T.app, "slipway-deploy-app"), "update", show(plan));
  });
});
