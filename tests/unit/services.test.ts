import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GateError, UsageError } from "../../gates/result";
import { serviceRunArgs } from "../../gates/services/args";
import { generateCredentials, withServices } from "../../gates/services/run";
import { parseServices, ServiceSpec } from "../../gates/services/spec";
import { shellJoin, smokeGateCommand, testGateCommand } from "../../gates/commands";
import { smokeSchema, testsSchema } from "../../stacks/schema";
import { runGate } from "./helpers/scriptedDocker";

const DIGEST = `sha256:${"a".repeat(64)}`;
const PG = {
  name: "db",
  image: `127.0.0.1:5000/e2e/postgres@${DIGEST}`,
  env: { POSTGRES_USER: "odoo", POSTGRES_DB: "odoo" },
  ready: "pg_isready -h 127.0.0.1 -U odoo",
  readyTimeout: 5,
  expose: { POSTGRES_HOST: "db", POSTGRES_PORT: "5432" },
  credentials: ["POSTGRES_PASSWORD"],
};

describe("service specs (--services JSON)", () => {
  it("reads a service with its defaults", () => {
    const [s] = parseServices(
      JSON.stringify([{ name: "cache", image: `redis@${DIGEST}`, ready: "redis-cli ping" }]),
    );
    assert.deepEqual(s, {
      name: "cache",
      image: `redis@${DIGEST}`,
      env: {},
      ready: "redis-cli ping",
      readyTimeout: 60,
      expose: {},
      credentials: [],
    });
  });

  for (const [why, services, message] of [
    ["an image not pinned by digest", [{ ...PG, image: "postgres:15" }], /pinned by digest/],
    ["a name that is no DNS label", [{ ...PG, name: "My DB" }], /lowercase DNS label/],
    ["no ready command", [{ ...PG, ready: " " }], /ready must be a shell command/],
    [
      "a credential also set in plain env",
      [{ ...PG, env: { POSTGRES_PASSWORD: "x" } }],
      /generated credential/,
    ],
    ["two services of one name", [PG, PG], /two services are named "db"/],
    ["not a list", PG, /JSON array/],
  ] as const) {
    it(`refuses ${why}`, () => {
      assert.throws(
        () => parseServices(JSON.stringify(services)),
        (e: unknown) => e instanceof UsageError && message.test(e.message),
      );
    });
  }

  it("passes credentials to docker by name only, never their value", () => {
    const [s] = parseServices(JSON.stringify([PG]));
    const args = serviceRunArgs(s as ServiceSpec, "slipway-svc-1-db", "slipway-net-1", "1", "test");
    assert.deepEqual(args.slice(args.indexOf("--network")), [
      "--network",
      "slipway-net-1",
      "--network-alias",
      "db",
      "-e",
      "POSTGRES_DB=odoo",
      "-e",
      "POSTGRES_USER=odoo",
      "-e",
      "POSTGRES_PASSWORD",
      PG.image,
    ]);
    assert.ok(args.includes("slipway.run=1"));
  });

  it("generates a fresh value per credential and per run", () => {
    const a = generateCredentials(["POSTGRES_PASSWORD", "REDIS_PASSWORD", "POSTGRES_PASSWORD"]);
    const b = generateCredentials(["POSTGRES_PASSWORD"]);
    assert.deepEqual(Object.keys(a), ["POSTGRES_PASSWORD", "REDIS_PASSWORD"]);
    assert.match(a.POSTGRES_PASSWORD ?? "", /^[0-9a-f]{48}$/);
    assert.notEqual(a.POSTGRES_PASSWORD, b.POSTGRES_PASSWORD);
  });

  it("renders tests.services and smoke.services as one --services flag the gates parse back", () => {
    const test = testGateCommand({
      reportDir: "r",
      image: "b:1",
      command: "pytest",
      services: [PG],
    });
    const json = /--services '([^']*)'/.exec(test)?.[1] ?? "";
    assert.deepEqual(
      parseServices(json),
      [PG].map((s) => ({ ...s, env: { POSTGRES_DB: "odoo", POSTGRES_USER: "odoo" } })),
    );
    const smoke = smokeGateCommand({
      reportDir: "r",
      image: "a:1",
      boot: { port: 8069, healthPath: "/web/health", services: [PG] },
    });
    assert.ok(smoke.includes(`--services ${shellJoin([json])}`));
  });
});

/**
 * A fake docker for the orchestration: records each call's argv and the POSTGRES_PASSWORD it saw in its
 * environment; `exec` fails until the Nth call (the service getting ready), or always (never ready).
 */
function fakeDocker(dir: string, readyAfter: number | "never", runFails = false): string {
  const path = join(dir, "docker");
  writeFileSync(
    path,
    `#!${process.execPath}
const fs = require("node:fs");
const args = process.argv.slice(2);
fs.appendFileSync(${JSON.stringify(join(dir, "calls.jsonl"))}, JSON.stringify({ args, pw: process.env.POSTGRES_PASSWORD ?? null }) + "\\n");
const count = (f) => { const p = ${JSON.stringify(dir)} + "/" + f; const n = (fs.existsSync(p) ? Number(fs.readFileSync(p, "utf8")) : 0) + 1; fs.writeFileSync(p, String(n)); return n; };
if (args[0] === "exec") {
  const n = count("exec");
  const ready = ${JSON.stringify(readyAfter)};
  if (ready === "never" || n < ready) { process.stderr.write("127.0.0.1:5432 - no response\\n"); process.exit(2); }
  process.stdout.write("127.0.0.1:5432 - accepting connections\\n");
} else if (args[0] === "run" && ${JSON.stringify(runFails)}) {
  process.stderr.write("docker: Error response from daemon: manifest unknown.\\n"); process.exit(125);
} else if (args[0] === "logs") {
  process.stdout.write("LOG:  database system is starting up\\n");
}
`,
  );
  chmodSync(path, 0o755);
  return path;
}

const callsOf = (dir: string) =>
  readFileSync(join(dir, "calls.jsonl"), "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as { args: string[]; pw: string | null });

describe("withServices (fake docker)", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "slipway-services-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const deps = (docker: string) => ({
    env: { PATH: process.env.PATH, SLIPWAY_DOCKER: docker },
    progress: () => undefined,
    pollMs: 1,
  });
  const services = () => parseServices(JSON.stringify([PG]));

  it("starts the network and the service, waits until ready, hands the app its env, removes everything", async () => {
    const docker = fakeDocker(dir, 3);
    const seen = await withServices(services(), "test", deps(docker), async (h) => h);
    const calls = callsOf(dir);
    assert.deepEqual(
      calls.map((c) => c.args.slice(0, 2).join(" ")),
      [
        "network create",
        "run -d",
        "exec " + `slipway-svc-${seen.runId}-db`,
        `exec slipway-svc-${seen.runId}-db`,
        `exec slipway-svc-${seen.runId}-db`,
        "rm -f",
        "network rm",
      ],
    );
    assert.deepEqual(seen.env, [
      ["POSTGRES_HOST", "db"],
      ["POSTGRES_PORT", "5432"],
    ]);
    assert.deepEqual(seen.credentialNames, ["POSTGRES_PASSWORD"]);
    const password = seen.childEnv.POSTGRES_PASSWORD ?? "";
    assert.match(password, /^[0-9a-f]{48}$/);
    // The value reached docker through its environment, and no argv ever held it.
    assert.equal(calls[1]?.pw, password);
    assert.ok(calls.every((c) => !c.args.some((a) => a.includes(password))));
    assert.deepEqual(calls[5]?.args, ["rm", "-f", "-v", `slipway-svc-${seen.runId}-db`]);
    assert.deepEqual(calls[6]?.args, ["network", "rm", seen.network]);
  });

  it("fails with SERVICE_NOT_READY naming the service, never runs the work, and still removes everything", async () => {
    const docker = fakeDocker(dir, "never");
    const [pg] = services();
    let ran = false;
    await assert.rejects(
      withServices(
        [{ ...(pg as ServiceSpec), readyTimeout: 0.3 }],
        "smoke",
        deps(docker),
        async () => {
          ran = true;
        },
      ),
      (e: unknown) =>
        e instanceof GateError &&
        e.code === "SERVICE_NOT_READY" &&
        /^service "db" was not ready within 0.3 s/.test(e.message) &&
        e.details.includes("| LOG:  database system is starting up"),
    );
    assert.equal(ran, false);
    const last = callsOf(dir)
      .slice(-2)
      .map((c) => c.args.slice(0, 2).join(" "));
    assert.deepEqual(last, ["rm -f", "network rm"]);
  });

  it("removes the services when the work itself throws", async () => {
    const docker = fakeDocker(dir, 1);
    await assert.rejects(
      withServices(services(), "test", deps(docker), async () => {
        throw new Error("boom");
      }),
      /boom/,
    );
    const last = callsOf(dir)
      .slice(-2)
      .map((c) => c.args.slice(0, 2).join(" "));
    assert.deepEqual(last, ["rm -f", "network rm"]);
  });

  it("blocks the test gate with SERVICE_NOT_READY when a service image cannot start, cleaning up", async () => {
    const docker = fakeDocker(dir, 1, true);
    const r = await runGate(
      ["test", "--image", "b:1", "--cmd", "pytest", "--services", JSON.stringify([PG])],
      { PATH: process.env.PATH, SLIPWAY_DOCKER: docker },
    );
    assert.equal(r.code, 1);
    assert.match(
      r.stdout,
      /^SERVICE_NOT_READY: service "db" did not start: docker run -d exited 125/,
    );
    const kinds = callsOf(dir).map((c) => c.args.slice(0, 2).join(" "));
    assert.ok(kinds.includes("rm -f") && kinds.includes("network rm"), kinds.join(", "));
    assert.ok(!kinds.some((k) => k.startsWith("run --rm")), "the tests never ran");
  });
});

describe("tests.services / smoke.services in the stack schema", () => {
  const pg = { ...PG, readyTimeout: 30 };

  it("takes a pinned service with its readiness and credentials, and the checks' keys", () => {
    const tests = testsSchema.parse({
      command: "pytest",
      services: [pg],
      bandit: { paths: ["custom_addons/"] },
      pipCheck: true,
    });
    assert.equal(tests.services?.[0]?.name, "db");
    assert.deepEqual(tests.bandit, {
      paths: ["custom_addons/"],
      severity: "MEDIUM",
      confidence: "MEDIUM",
    });
    const smoke = smokeSchema.parse({ services: [pg], wkhtmltopdf: "0.12.6", pipCheck: true });
    assert.equal(smoke.wkhtmltopdf, "0.12.6");
  });

  it("refuses an unpinned service image, network with services, and a module pattern without its group", () => {
    assert.equal(
      testsSchema.safeParse({ command: "pytest", services: [{ ...pg, image: "postgres:15" }] })
        .success,
      false,
    );
    const both = testsSchema.safeParse({ command: "pytest", network: "n", services: [pg] });
    assert.equal(both.success, false);
    assert.match(JSON.stringify(both.error?.issues), /exclude each other/);
    assert.equal(smokeSchema.safeParse({ moduleErrorPatterns: ["failed (\\w+)"] }).success, false);
    assert.equal(smokeSchema.safeParse({ wkhtmltopdf: "latest" }).success, false);
  });
});
