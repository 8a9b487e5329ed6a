import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import "./harness/hooks";
import {
  buildSpec,
  digestRef,
  dockerBuildCommand,
  GateServiceSpec,
  promoteCommand,
  pushedDigest,
  smokeGateCommand,
  TestGateSpec,
  testGateCommand,
  SmokeGateSpec,
} from "../../gates/commands";
import { FASTAPI, ODOO } from "./harness/apps";
import { DOCKER, OPEN_REGISTRY, PROJECT_ROOT, script } from "./harness/environment";
import { sh, ShellResult } from "./harness/shell";
import { suite } from "./harness/suite";

/**
 * Issue 10 on the real engine: the Odoo-shaped sample with a real PostgreSQL (Debian's postgresql-15,
 * scripts/e2e/postgres-image.sh) for its tests and its boot, and the procedure's checks raised for
 * real by broken variants or configs. Each blocked gate is followed by what the pipeline chains after
 * it, the push, only on exit 0: the registry of this file's own namespace must then hold no tag.
 * After every run, passed or failed, nothing the services orchestration started is left (containers and
 * networks carry the label `slipway.run`).
 */
describe("procedure checks with real services (PostgreSQL from Debian packages)", function () {
  this.timeout(10 * 60_000);
  const namespace = `e2e-checks-${randomBytes(4).toString("hex")}`;
  const repository = `${OPEN_REGISTRY}/${namespace}/odoo`;
  const app = `e2e-checks-${randomBytes(3).toString("hex")}`;
  let postgres = "";
  let redis = "";

  /** The candidates by `<sample>/<variant>/<target>`: `REPO@sha256:...`, as the pipeline names them. */
  const candidates = new Map<string, string>();
  const image = (variant: string, target: "builder" | "runtime", sample = ODOO) => {
    const ref = candidates.get(`${sample.name}/${variant}/${target}`);
    assert.ok(ref !== undefined, `no candidate ${sample.name}/${variant}/${target}`);
    return ref;
  };

  /** Builds a variant's stage and pushes it as a candidate (the good ones into `odoo-good`). */
  const build = async (variant: string, target: "builder" | "runtime", sample = ODOO) => {
    const into =
      sample !== ODOO
        ? `${OPEN_REGISTRY}/${namespace}/${app}-fastapi`
        : variant === "good"
          ? `${OPEN_REGISTRY}/${namespace}/odoo-good`
          : repository;
    const run = await sh(
      dockerBuildCommand(
        buildSpec({
          version: variant,
          context: sample.context,
          dockerfile: sample.dockerfile,
          target,
          baseRef: suite.baseRef,
          ...(variant === "good" ? {} : { buildArgs: { VARIANT: variant } }),
          candidateRepository: into,
          cache: false,
        }),
        DOCKER,
      ),
    );
    assert.equal(run.exitCode, 0, run.output);
    const digest = pushedDigest(run.stdout);
    assert.ok(digest !== undefined, run.output);
    candidates.set(`${sample.name}/${variant}/${target}`, digestRef(into, digest));
  };

  /** The database of SOP step 7 (`-e POSTGRES_HOST=db`), as a stack's tests.services / smoke.services. */
  const database = (expose: Record<string, string> = {}): GateServiceSpec => ({
    name: "db",
    image: postgres,
    env: { POSTGRES_USER: "odoo", POSTGRES_DB: "odoo" },
    ready: "/usr/lib/postgresql/15/bin/pg_isready -h 127.0.0.1 -U odoo",
    readyTimeout: 60,
    expose: {
      POSTGRES_HOST: "db",
      POSTGRES_PORT: "5432",
      POSTGRES_USER: "odoo",
      POSTGRES_DB: "odoo",
      ...expose,
    },
    credentials: ["POSTGRES_PASSWORD"],
  });

  const leftovers = () =>
    execFileSync(DOCKER, ["ps", "-a", "--filter", "label=slipway.run", "--format", "{{.Names}}"], {
      encoding: "utf8",
    }).trim() +
    execFileSync(
      DOCKER,
      ["network", "ls", "--filter", "label=slipway.run", "--format", "{{.Name}}"],
      { encoding: "utf8" },
    ).trim();

  /** The gate, then the promotion only when it let the release through (as the pipeline chains them). */
  const gateThenPush = async (gate: string, candidate: string, version: string) => {
    const result = await sh(gate);
    if (result.exitCode === 0) {
      const at = candidate.lastIndexOf("@");
      const promoted = await sh(
        promoteCommand({
          reportDir: suite.workDir,
          repository: candidate.slice(0, at),
          digest: candidate.slice(at + 1),
          version,
        }),
      );
      assert.equal(promoted.exitCode, 0, promoted.output);
    }
    assert.equal(leftovers(), "", "services left behind");
    return result;
  };

  /** The blocked runs push (if at all) to `<namespace>/odoo`; the good one to `odoo-good`. */
  const tags = async (repo = "odoo"): Promise<string[]> => {
    const response = await fetch(`http://${OPEN_REGISTRY}/v2/${namespace}/${repo}/tags/list`);
    if (response.status === 404) return [];
    const body = (await response.json()) as { tags: string[] | null };
    return [...(body.tags ?? [])].filter((tag) => !tag.startsWith("candidate-")).sort();
  };

  const assertBlocked = async (result: ShellResult, code: string) => {
    assert.equal(result.exitCode, 1, result.output);
    assert.match(result.firstLine, new RegExp(`^${code}: `), result.output);
    assert.deepEqual(await tags(), [], "a blocked gate released something");
  };

  const testGate = (spec: Omit<TestGateSpec, "reportDir" | "command">) =>
    testGateCommand({ reportDir: suite.workDir, command: ODOO.testCommand, ...spec });
  const smokeGate = (spec: Omit<SmokeGateSpec, "reportDir">) =>
    smokeGateCommand({ reportDir: suite.workDir, ...spec });
  const boot = (services: GateServiceSpec[]) => ({
    port: ODOO.port,
    healthPath: ODOO.healthPath,
    timeout: ODOO.bootTimeout,
    services,
  });

  /** A service image script's last line: the image pinned by digest. */
  const serviceImage = (name: string): string => {
    const ref = execFileSync("bash", [script(name)], {
      cwd: PROJECT_ROOT,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
    })
      .trim()
      .split("\n")
      .pop() as string;
    assert.match(ref, /@sha256:[0-9a-f]{64}$/);
    return ref;
  };

  before(async function () {
    postgres = serviceImage("postgres-image.sh");
    redis = serviceImage("redis-image.sh");
    for (const [variant, target] of [
      ["good", "builder"],
      ["good", "runtime"],
      ["bandit-finding", "builder"],
      ["broken-addon", "runtime"],
    ] as const) {
      await build(variant, target);
    }
    await build("good", "builder", FASTAPI);
    await build("good", "runtime", FASTAPI);
  });

  after(async function () {
    const images = [...candidates.values()];
    await sh(`${DOCKER} rmi -f ${images.join(" ")} >/dev/null 2>&1 || true`);
  });

  it("runs the tests against a real PostgreSQL (a table written and read), boots connected, releases", async function () {
    const tested = await gateThenPush(
      testGate({ image: image("good", "builder"), coverageMin: 75, services: [database()] }),
      image("good", "builder"),
      "tested",
    );
    assert.equal(tested.exitCode, 0, tested.output);
    assert.match(tested.output, /service "db" ready in \d+ ms/);
    // The database test is skipped without POSTGRES_HOST: 13 passed, none skipped, means it ran.
    assert.match(tested.firstLine, /^PASS test: 13 passed/);
    const smoked = await gateThenPush(
      smokeGate({
        image: image("good", "runtime"),
        wkhtmltopdf: "0.12.6",
        boot: boot([database()]),
      }),
      image("good", "runtime"),
      "1.0.0",
    );
    assert.equal(smoked.exitCode, 0, smoked.output);
    assert.match(smoked.output, /booted and answered 200/);
    assert.deepEqual(await tags("odoo-good"), ["1.0.0", "tested"]);
  });

  it("runs the FastAPI sample's tests and boot with PostgreSQL and Redis (written and read)", async function () {
    const services: GateServiceSpec[] = [
      database({ POSTGRES_USER: "odoo" }),
      {
        name: "cache",
        image: redis,
        ready: 'REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli ping | grep -q PONG',
        readyTimeout: 30,
        expose: { REDIS_HOST: "cache", REDIS_PORT: "6379" },
        credentials: ["REDIS_PASSWORD"],
      },
    ];
    const tested = await sh(
      testGateCommand({
        reportDir: suite.workDir,
        image: image("good", "builder", FASTAPI),
        command: FASTAPI.testCommand,
        coverageMin: FASTAPI.coverageMin,
        services,
      }),
    );
    assert.equal(tested.exitCode, 0, tested.output);
    // The real-backends test is skipped without both: every test passed, none skipped.
    assert.match(tested.firstLine, /^PASS test: \d+ passed, coverage/, tested.output);
    const smoked = await sh(
      smokeGate({
        image: image("good", "runtime", FASTAPI),
        boot: { port: FASTAPI.port, healthPath: FASTAPI.healthPath, timeout: 30, services },
      }),
    );
    assert.equal(smoked.exitCode, 0, smoked.output);
    assert.match(smoked.output, /service "cache" ready in \d+ ms/);
    assert.equal(leftovers(), "", "services left behind");
  });

  it("SECURITY_VULN: bandit in the builder image finds subprocess with shell=True, listed by file:line", async function () {
    const result = await gateThenPush(
      testGate({
        image: image("bandit-finding", "builder"),
        bandit: { paths: ["custom_addons/"] },
        services: [database()],
      }),
      image("bandit-finding", "builder"),
      "1.0.1",
    );
    await assertBlocked(result, "SECURITY_VULN");
    assert.match(
      result.output,
      /B602 custom_addons\/slipway_invoice\/models\/pdf_export\.py:5 HIGH\/HIGH/,
    );
  });

  it("PIP_DEPENDENCY_CONFLICT: pip check in the builder carries pip's own line (Debian's fastapi/starlette)", async function () {
    const result = await gateThenPush(
      testGate({ image: image("good", "builder"), pipCheck: true }),
      image("good", "builder"),
      "1.0.2",
    );
    await assertBlocked(result, "PIP_DEPENDENCY_CONFLICT");
    assert.match(
      result.output,
      /\| fastapi \S+ has requirement starlette[^,]*,.* but you have starlette /,
    );
  });

  it("WKHTMLTOPDF_MISMATCH: the runtime image's wkhtmltopdf is not the configured version", async function () {
    const result = await gateThenPush(
      smokeGate({ image: image("good", "runtime"), wkhtmltopdf: "0.12.5" }),
      image("good", "runtime"),
      "1.0.3",
    );
    await assertBlocked(result, "WKHTMLTOPDF_MISMATCH");
    assert.match(result.firstLine, /found 0\.12\.6, expected 0\.12\.5/);
  });

  it("MODULE_LOAD_ERROR: an addon fails to load while health answers 200; the code names it", async function () {
    const result = await gateThenPush(
      smokeGate({ image: image("broken-addon", "runtime"), boot: boot([database()]) }),
      image("broken-addon", "runtime"),
      "1.0.4",
    );
    await assertBlocked(result, "MODULE_LOAD_ERROR");
    assert.match(result.firstLine, /module failed to load: slipway_broken/);
    assert.match(result.output, /Couldn't load module slipway_broken/);
  });

  it("DATABASE_CONNECTION_ERROR: the app logs in as a user the database refuses; the app's own line", async function () {
    const result = await gateThenPush(
      smokeGate({
        image: image("good", "runtime"),
        boot: boot([database({ POSTGRES_USER: "intruder" })]),
      }),
      image("good", "runtime"),
      "1.0.5",
    );
    await assertBlocked(result, "DATABASE_CONNECTION_ERROR");
    assert.match(result.firstLine, /password authentication failed for user "intruder"/);
    assert.match(result.output, /check: the database service runs/);
  });

  it("SERVICE_NOT_READY: a service that never gets ready stops the run before the tests, and is removed", async function () {
    const result = await gateThenPush(
      testGate({
        image: image("good", "builder"),
        services: [{ ...database(), ready: "exit 1", readyTimeout: 3 }],
      }),
      image("good", "builder"),
      "1.0.6",
    );
    await assertBlocked(result, "SERVICE_NOT_READY");
    assert.match(result.firstLine, /service "db" was not ready within 3 s/);
  });
});
