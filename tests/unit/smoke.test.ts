import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { createServer, Server } from "node:http";
import type { AddressInfo } from "node:net";
import { parseSpec, runSmoke, smokeResult } from "../../gates/smoke";
import type { Clock, PollOutcome } from "../../gates/health/poll";
import type { Probe } from "../../gates/health/probe";
import {
  bootArgs,
  checksArgs,
  checksScript,
  checksScriptArgs,
  ChecksSpec,
  historyArgs,
  IMPORTS_PY,
  inspectArgs,
  logsArgs,
  needsChecksRun,
  portArgs,
  removeArgs,
  stateArgs,
} from "../../gates/smoke/args";
import {
  FAST_POLL,
  joinOutcomes,
  pollInPhases,
  pollPhases,
  SLOW_POLL_INTERVAL_MS,
} from "../../gates/smoke/boot";
import {
  bootExited,
  checkImports,
  checkPaths,
  checkSize,
  checkUser,
  checkVersion,
  describeLayer,
  importCode,
  instructionOf,
  isRootUser,
  parseHistory,
  parseHostPort,
  parseInspect,
  parseState,
  RunOutput,
} from "../../gates/smoke/checks";
import { scriptLines, splitChecksRun } from "../../gates/smoke/checksRun";
import { DockerRule, runGate, scriptedDocker, ScriptedDocker } from "./helpers/scriptedDocker";

// Captured from the real engine (Docker 20.10, an image built FROM a `docker import`ed base).
const HISTORY = [
  '{"Comment":"","CreatedAt":"2026-11-21T09:49:30Z","CreatedBy":"CMD [\\"gunicorn\\" \\"-k\\" \\"uvicorn.workers.UvicornWorker\\" \\"-b\\" \\"0.0.0.0:8000\\" \\"main:app\\"]","CreatedSince":"2026-11-21T09:49:30Z","ID":"sha256:61a1","Size":"0"}',
  '{"Comment":"buildkit.dockerfile.v0","CreatedAt":"2026-11-21T09:49:30Z","CreatedBy":"COPY main.py /srv/ # buildkit","CreatedSince":"2026-11-21T09:49:30Z","ID":"<missing>","Size":"232"}',
  '{"Comment":"buildkit.dockerfile.v0","CreatedAt":"2026-11-21T09:49:30Z","CreatedBy":"RUN /bin/sh -c pip install -r requirements.txt # buildkit","CreatedSince":"2026-11-21T09:49:30Z","ID":"<missing>","Size":"1650000000"}',
  '{"Comment":"Imported from -","CreatedAt":"2026-11-21T09:44:08Z","CreatedBy":"","CreatedSince":"2026-11-21T09:44:08Z","ID":"<missing>","Size":"184940382"}',
].join("\n");

const STATE_EXITED =
  '{"Status":"exited","Running":false,"Paused":false,"Restarting":false,"OOMKilled":false,"Dead":false,"Pid":0,"ExitCode":3,"Error":"","StartedAt":"2026-11-21T09:57:56.805708181Z","FinishedAt":"2026-11-21T09:57:57.919536441Z"}';
const STATE_RUNNING =
  '{"Status":"running","Running":true,"Paused":false,"Restarting":false,"OOMKilled":false,"Dead":false,"Pid":4242,"ExitCode":0,"Error":""}';

/** The FastAPI build report's failure: gunicorn exits 3 when its worker cannot import a module. */
const GUNICORN_LOG = `[2024-05-02 10:14:07 +0000] [1] [INFO] Starting gunicorn 21.2.0
[2024-05-02 10:14:07 +0000] [1] [INFO] Listening at: http://0.0.0.0:8000 (1)
[2024-05-02 10:14:07 +0000] [7] [INFO] Booting worker with pid: 7
[2024-05-02 10:14:08 +0000] [7] [ERROR] Exception in worker process
Traceback (most recent call last):
  File "/app/app/telemetry.py", line 3, in <module>
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
ModuleNotFoundError: No module named 'opentelemetry.exporter'
[2024-05-02 10:14:08 +0000] [7] [INFO] Worker exiting (pid: 7)
[2024-05-02 10:14:08 +0000] [1] [ERROR] Worker (pid:7) exited with code 3
[2024-05-02 10:14:08 +0000] [1] [ERROR] Reason: Worker failed to boot.
`;

function inspectJson(size: number, user: string): string {
  return JSON.stringify([
    {
      Id: "sha256:61a11e73ca77717c2394db6f1f1385787fa1f48c56ac6d04ad321fa927ebc997",
      RepoTags: ["app:1"],
      RepoDigests: [],
      Size: size,
      Config: { User: user, Env: ["PATH=/usr/bin"], Cmd: ["gunicorn"], Entrypoint: null },
    },
  ]);
}

const done = (output: string, exitCode: number | null = 0): RunOutput => ({
  exitCode,
  timedOut: false,
  output,
});

describe("smoke checks (pure)", () => {
  it("reads size, user and id from docker image inspect", () => {
    const facts = parseInspect(inspectJson(660_000_000, "appuser"));
    assert.equal(facts.sizeBytes, 660_000_000);
    assert.equal(facts.user, "appuser");
    assert.match(facts.id, /^sha256:61a1/);
    assert.throws(() => parseInspect("[]"));
    assert.throws(() => parseInspect('[{"Id":"x"}]'), /no Size/);
  });

  it("reads layers in bytes from docker history, skipping unreadable lines", () => {
    const layers = parseHistory(`${HISTORY}\nnot json\n`);
    assert.equal(layers.length, 4);
    assert.equal(layers[2]?.sizeBytes, 1_650_000_000);
    assert.equal(layers[3]?.comment, "Imported from -");
    // Docker's human sizes are read too, should --human=false ever be ignored.
    assert.equal(
      parseHistory('{"ID":"x","Size":"185MB","CreatedBy":""}')[0]?.sizeBytes,
      185_000_000,
    );
  });

  it("names the instruction behind a layer for legacy and BuildKit histories", () => {
    assert.equal(
      instructionOf("/bin/sh -c #(nop)  COPY dir:abc in /app "),
      "COPY dir:abc in /app ",
    );
    assert.equal(instructionOf("/bin/sh -c apt-get update"), "RUN apt-get update");
    assert.equal(instructionOf("|2 A=1 B=2 /bin/sh -c pip install x"), "RUN pip install x");
    assert.equal(instructionOf("RUN /bin/sh -c pip install x # buildkit"), "RUN pip install x");
    assert.equal(instructionOf("COPY main.py /srv/ # buildkit"), "COPY main.py /srv/");
    assert.equal(
      describeLayer({ id: "", sizeBytes: 1, createdBy: "", comment: "Imported from -" }),
      "(Imported from -)",
    );
    assert.equal(
      describeLayer({ id: "", sizeBytes: 1, createdBy: "", comment: "" }),
      "(no instruction recorded)",
    );
  });

  it("passes an image within the size budget", () => {
    const c = checkSize(1_999_999_999, 2_000_000_000, "2GB");
    assert.equal(c.ok, true);
    assert.equal(c.figures.sizeBytes, 1_999_999_999);
    assert.deepEqual(c.findings, []);
  });

  it("lists the largest layers as findings within budget too (for the release report), not in details", () => {
    const c = checkSize(1_900_000_000, 2_000_000_000, "2GB", parseHistory(HISTORY), 2);
    assert.equal(c.ok, true);
    assert.deepEqual(c.details, []);
    assert.deepEqual(c.findings, [
      {
        layer: "<missing>",
        sizeBytes: 1_650_000_000,
        createdBy: "RUN /bin/sh -c pip install -r requirements.txt # buildkit",
      },
      { layer: "<missing>", sizeBytes: 184_940_382, createdBy: "" },
    ]);
  });

  it("blocks with IMAGE_SIZE_EXCEEDED listing the largest layers first", () => {
    const c = checkSize(2_300_000_000, 2_000_000_000, "2GB", parseHistory(HISTORY), 3);
    assert.equal(c.code, "IMAGE_SIZE_EXCEEDED");
    assert.equal(
      c.summary,
      "image is 2.3 GB (2300000000 bytes), over the 2GB budget (2000000000 bytes) by 300 MB",
    );
    assert.deepEqual(c.details, [
      "largest layers:",
      "  1.65 GB  RUN pip install -r requirements.txt",
      "   185 MB  (Imported from -)",
      "    232 B  COPY main.py /srv/",
    ]);
    assert.equal(c.findings.length, 3);
  });

  it("still blocks on size when the layer history is unavailable", () => {
    const c = checkSize(3e9, 2e9, "2GB", []);
    assert.equal(c.code, "IMAGE_SIZE_EXCEEDED");
    assert.deepEqual(c.details, ["(the layer history could not be read)"]);
  });

  it("treats an unset user, root and uid 0 (whatever the group) as root", () => {
    for (const user of ["", "root", "0", "0:0", "root:staff", " 0 "])
      assert.equal(isRootUser(user), true, user);
    for (const user of ["appuser", "1000", "1000:1000", "odoo", "rootless"])
      assert.equal(isRootUser(user), false, user);
  });

  it("blocks with RUNS_AS_ROOT and says when no USER is set", () => {
    const c = checkUser("");
    assert.equal(c.code, "RUNS_AS_ROOT");
    assert.equal(c.summary, "the image runs as root (no USER in the image)");
    assert.equal(checkUser("0:0").code, "RUNS_AS_ROOT");
    assert.equal(checkUser("odoo").ok, true);
  });

  it("passes a version command that prints the expected text", () => {
    const c = checkVersion(
      "odoo --version",
      "Odoo Server 16.0",
      done("Odoo Server 16.0+e-20240101\n"),
    );
    assert.equal(c.ok, true);
    assert.equal(c.figures.version, "Odoo Server 16.0+e-20240101");
  });

  it("blocks with ENTRYPOINT_ERROR on an unexpected version, a failing command or a timeout", () => {
    const wrong = checkVersion("odoo --version", "Odoo Server 16.0", done("Odoo Server 15.0\n"));
    assert.equal(wrong.code, "ENTRYPOINT_ERROR");
    assert.equal(
      wrong.summary,
      '`odoo --version` printed "Odoo Server 15.0", expected it to contain "Odoo Server 16.0"',
    );
    const failed = checkVersion("odoo --version", undefined, done("sh: 1: odoo: not found\n", 127));
    assert.equal(failed.code, "ENTRYPOINT_ERROR");
    assert.equal(failed.summary, "`odoo --version` exited 127");
    assert.deepEqual(failed.details, ["| sh: 1: odoo: not found"]);
    const slow = checkVersion("odoo --version", undefined, {
      exitCode: null,
      timedOut: true,
      output: "",
    });
    assert.equal(slow.code, "ENTRYPOINT_ERROR");
    assert.match(slow.summary, /did not finish in time/);
  });

  it("blocks with CONTAINER_START_FAILURE when docker cannot start the image for a check", () => {
    const c = checkVersion(
      "x",
      undefined,
      done("docker: Error response from daemon: OCI runtime create failed\n", 125),
    );
    assert.equal(c.code, "CONTAINER_START_FAILURE");
  });

  it("passes when every path exists and blocks with MISSING_ADDONS naming the missing ones", () => {
    assert.equal(checkPaths(["/mnt/extra-addons"], done("SLIPWAY-PATHS-DONE\n")).ok, true);
    const c = checkPaths(
      ["/mnt/extra-addons", "/etc/odoo/odoo.conf", "/opt/x"],
      done("SLIPWAY-MISSING /mnt/extra-addons\nSLIPWAY-MISSING /opt/x\nSLIPWAY-PATHS-DONE\n"),
    );
    assert.equal(c.code, "MISSING_ADDONS");
    assert.equal(c.summary, "missing from the image: /mnt/extra-addons, /opt/x");
    assert.deepEqual(c.findings, [
      { path: "/mnt/extra-addons", present: false },
      { path: "/opt/x", present: false },
    ]);
  });

  it("fails closed when the path script did not run", () => {
    const c = checkPaths(["/x"], done('exec: "sh": executable file not found in $PATH\n', 127));
    assert.equal(c.code, "CONTAINER_START_FAILURE");
  });

  const importLine = (r: object): string => `SLIPWAY-IMPORT ${JSON.stringify(r)}`;

  it("passes when every module imports", () => {
    const c = checkImports(
      ["fastapi", "odoo"],
      done(
        [
          importLine({ module: "fastapi", ok: true }),
          importLine({ module: "odoo", ok: true }),
        ].join("\n"),
      ),
    );
    assert.equal(c.ok, true);
    assert.equal(c.summary, "2 modules import (fastapi, odoo)");
  });

  it("blocks with IMPORT_ERROR naming every module that failed, in one run", () => {
    const c = checkImports(
      ["fastapi", "opentelemetry.exporter", "psycopg2"],
      done(
        [
          importLine({ module: "fastapi", ok: true }),
          importLine({
            module: "opentelemetry.exporter",
            ok: false,
            error: "ModuleNotFoundError: No module named 'opentelemetry.exporter'",
            missing: "opentelemetry.exporter",
          }),
          importLine({
            module: "psycopg2",
            ok: false,
            error: "ImportError: libpq.so.5: cannot open shared object file",
            missing: null,
          }),
        ].join("\n"),
      ),
    );
    assert.equal(c.code, "IMPORT_ERROR");
    assert.equal(
      c.summary,
      "cannot import modules opentelemetry.exporter, psycopg2: ModuleNotFoundError: No module named 'opentelemetry.exporter'",
    );
    assert.deepEqual(c.details, [
      "opentelemetry.exporter: ModuleNotFoundError: No module named 'opentelemetry.exporter'",
      "psycopg2: ImportError: libpq.so.5: cannot open shared object file",
    ]);
    assert.equal(c.figures.importsFailed, 2);
  });

  it("blocks with ANTHROPIC_SDK_MISSING when anthropic is the first module that fails", () => {
    const c = checkImports(
      ["anthropic"],
      done(
        importLine({
          module: "anthropic",
          ok: false,
          error: "ModuleNotFoundError: No module named 'anthropic'",
          missing: "anthropic",
        }),
      ),
    );
    assert.equal(c.code, "ANTHROPIC_SDK_MISSING");
    assert.equal(
      c.summary,
      "cannot import module 'anthropic': ModuleNotFoundError: No module named 'anthropic'",
    );
    assert.equal(importCode("anthropic.types"), "ANTHROPIC_SDK_MISSING");
    assert.equal(importCode("anthropicx"), "IMPORT_ERROR");
  });

  it("names the dependency actually missing when it differs from the module asked for", () => {
    const c = checkImports(
      ["app.main"],
      done(
        importLine({
          module: "app.main",
          ok: false,
          error: "ModuleNotFoundError: No module named 'jwt'",
          missing: "jwt",
        }),
      ),
    );
    assert.deepEqual(c.details, ["app.main: ModuleNotFoundError: No module named 'jwt'"]);
    const other = checkImports(
      ["app.main"],
      done(
        importLine({
          module: "app.main",
          ok: false,
          error: "ImportError: circular import",
          missing: "app.util",
        }),
      ),
    );
    assert.deepEqual(other.details, ["app.main: ImportError: circular import (missing: app.util)"]);
  });

  it("blames the first unreported module when the interpreter dies mid-run", () => {
    const c = checkImports(
      ["ok", "crasher", "later"],
      done(`${importLine({ module: "ok", ok: true })}\nSegmentation fault (core dumped)\n`, 139),
    );
    assert.equal(c.code, "IMPORT_ERROR");
    assert.deepEqual(c.details, [
      "crasher: the import run ended here (exit 139): no report",
      "later: not reached",
    ]);
  });

  it("says so when the image has no python at all", () => {
    const c = checkImports(["anthropic", "x"], done("SLIPWAY-NO-PYTHON\n", 127));
    assert.equal(c.code, "ANTHROPIC_SDK_MISSING");
    assert.match(c.summary, /no python3 or python on the image's PATH/);
    assert.equal(
      checkImports(["x"], done("docker: Error response from daemon: x\n", 125)).code,
      "CONTAINER_START_FAILURE",
    );
  });

  it("reads the container state and the published port", () => {
    assert.deepEqual(parseState(STATE_EXITED), {
      running: false,
      status: "exited",
      exitCode: 3,
      oomKilled: false,
      error: "",
    });
    assert.equal(parseState(STATE_RUNNING).running, true);
    assert.equal(parseHostPort("127.0.0.1:32770\n"), 32770);
    assert.equal(parseHostPort("0.0.0.0:49153\n[::]:49153\n"), 49153);
    assert.equal(parseHostPort(""), undefined);
  });

  it("names the module of the FastAPI report's boot failure, with gunicorn's exit code and log tail", () => {
    const c = bootExited(parseState(STATE_EXITED), GUNICORN_LOG, false);
    assert.equal(c.code, "CONTAINER_START_FAILURE");
    assert.equal(
      c.summary,
      "the container exited with code 3 during boot: ModuleNotFoundError: No module named 'opentelemetry.exporter'",
    );
    assert.equal(c.details[0], "cannot import module 'opentelemetry.exporter'");
    assert.ok(
      c.details.includes(
        "| [2024-05-02 10:14:08 +0000] [1] [ERROR] Reason: Worker failed to boot.",
      ),
    );
    assert.equal(c.figures.bootExitCode, 3);
  });

  it("explains an exit without an import error: OOM, the engine's error, a database hint", () => {
    const oom = bootExited(
      { running: false, status: "exited", exitCode: 137, oomKilled: true, error: "" },
      "",
      true,
    );
    assert.equal(
      oom.summary,
      "the container exited with code 137 right after answering its health check: killed for lack of memory (OOMKilled)",
    );
    const db = bootExited(
      { running: false, status: "exited", exitCode: 1, oomKilled: false, error: "" },
      'psycopg2.OperationalError: could not connect to server: Connection refused\n\tIs the server running on host "db" and accepting TCP/IP connections on port 5432?\n',
      false,
    );
    assert.equal(db.summary, "the container exited with code 1 during boot");
    assert.match(db.details[0] ?? "", /database connection error/);
  });

  it("lets the first failing check decide the code and reports every failure", () => {
    const facts = parseInspect(inspectJson(3e9, ""));
    const r = smokeResult(
      "app:1",
      facts,
      [
        checkSize(3e9, 2e9, "2GB"),
        checkPaths(
          ["/mnt/extra-addons"],
          done("SLIPWAY-MISSING /mnt/extra-addons\nSLIPWAY-PATHS-DONE\n"),
        ),
        checkUser(""),
      ],
      {},
    );
    assert.equal(r.verdict, "block");
    assert.equal(r.code, "IMAGE_SIZE_EXCEEDED");
    assert.match(r.summary, /\(\+2 more failing: MISSING_ADDONS, RUNS_AS_ROOT\)$/);
    assert.equal(r.details.filter((d) => d.startsWith("FAIL")).length, 3);
    assert.equal(r.figures.user, "root");
    const ok = smokeResult("app:1", parseInspect(inspectJson(1e9, "app")), [checkUser("app")], {});
    assert.equal(ok.verdict, "pass");
    assert.equal(ok.summary, "app:1: 1 check passed");
  });
});

/** What the one check container prints when version, paths and imports all pass. */
const COMBINED_OK = [
  "SLIPWAY-PATHS-DONE",
  "SLIPWAY-VERSION Python 3.11.2",
  "SLIPWAY-VERSION-EXIT 0",
  'SLIPWAY-IMPORT {"module": "fastapi", "ok": true}',
  "SLIPWAY-IMPORTS-EXIT 0",
  "",
].join("\n");

const ALL_CHECKS: ChecksSpec = {
  versionCmd: "python3 --version",
  paths: ["/srv"],
  imports: ["fastapi"],
};

describe("smoke check container output (pure)", () => {
  /** The three checks judged from one container run, as the gate does. */
  const judge = (spec: ChecksSpec, run: RunOutput) => {
    const split = splitChecksRun(spec, run);
    return {
      version:
        split.version === undefined
          ? undefined
          : checkVersion(spec.versionCmd ?? "", "Python 3.11", split.version),
      paths: split.paths === undefined ? undefined : checkPaths(spec.paths, split.paths),
      imports: split.imports === undefined ? undefined : checkImports(spec.imports, split.imports),
    };
  };

  it("gives each check its own lines and exit code", () => {
    const split = splitChecksRun(ALL_CHECKS, done(COMBINED_OK));
    assert.deepEqual(split.version, { exitCode: 0, timedOut: false, output: "Python 3.11.2\n" });
    assert.deepEqual(split.paths, { exitCode: 0, timedOut: false, output: "SLIPWAY-PATHS-DONE\n" });
    assert.deepEqual(split.imports, {
      exitCode: 0,
      timedOut: false,
      output: 'SLIPWAY-IMPORT {"module": "fastapi", "ok": true}\n',
    });
    const checks = judge(ALL_CHECKS, done(COMBINED_OK));
    assert.deepEqual(
      [checks.version?.ok, checks.paths?.ok, checks.imports?.ok],
      [true, true, true],
    );
  });

  it("returns only the checks asked for", () => {
    const split = splitChecksRun({ paths: ["/srv"], imports: [] }, done("SLIPWAY-PATHS-DONE\n"));
    assert.deepEqual(Object.keys(split), ["paths"]);
  });

  it("keeps the codes of each check: a failing version command, a missing path, a failed import", () => {
    const output = [
      "SLIPWAY-MISSING /srv",
      "SLIPWAY-PATHS-DONE",
      'SLIPWAY-IMPORT {"module": "fastapi", "ok": false, "error": "ModuleNotFoundError: No module named \'fastapi\'", "missing": "fastapi"}',
      "SLIPWAY-VERSION sh: 1: python3: not found",
      "SLIPWAY-VERSION-EXIT 127",
      "SLIPWAY-IMPORTS-EXIT 0",
    ].join("\n");
    const checks = judge(ALL_CHECKS, done(output));
    assert.equal(checks.version?.code, "ENTRYPOINT_ERROR");
    assert.equal(checks.version?.summary, "`python3 --version` exited 127");
    assert.deepEqual(checks.version?.details, ["| sh: 1: python3: not found"]);
    assert.equal(checks.paths?.code, "MISSING_ADDONS");
    assert.equal(checks.paths?.summary, "missing from the image: /srv");
    assert.equal(checks.imports?.code, "IMPORT_ERROR");
  });

  it("blocks the version alone with ENTRYPOINT_ERROR when it hangs and the container is stopped", () => {
    const output = [
      "SLIPWAY-PATHS-DONE",
      "SLIPWAY-VERSION starting...",
      'SLIPWAY-IMPORT {"module": "fastapi", "ok": true}',
      "SLIPWAY-IMPORTS-EXIT 0",
    ].join("\n");
    const checks = judge(ALL_CHECKS, { exitCode: null, timedOut: true, output });
    assert.equal(checks.version?.code, "ENTRYPOINT_ERROR");
    assert.equal(checks.version?.summary, "`python3 --version` did not finish in time");
    assert.equal(checks.version?.figures.version, "starting...");
    assert.equal(checks.paths?.ok, true);
    assert.equal(checks.imports?.ok, true);
  });

  it("blocks the imports alone when the interpreter hangs, as a killed import run", () => {
    const output = [
      "SLIPWAY-PATHS-DONE",
      "SLIPWAY-VERSION Python 3.11.2",
      "SLIPWAY-VERSION-EXIT 0",
    ].join("\n");
    const checks = judge(ALL_CHECKS, { exitCode: null, timedOut: true, output });
    assert.equal(checks.version?.ok, true);
    assert.equal(checks.paths?.ok, true);
    assert.equal(checks.imports?.code, "IMPORT_ERROR");
    assert.deepEqual(checks.imports?.details, [
      "fastapi: the import run ended here (exit killed): no report",
    ]);
  });

  it("gives every check docker's error when the container could not start (exit 125)", () => {
    const said = "docker: Error response from daemon: OCI runtime create failed: boom.\n";
    const split = splitChecksRun(ALL_CHECKS, done(said, 125));
    assert.deepEqual(split.version, { exitCode: 125, timedOut: false, output: said });
    const checks = judge(ALL_CHECKS, done(said, 125));
    assert.deepEqual(
      [checks.version?.code, checks.paths?.code, checks.imports?.code],
      ["CONTAINER_START_FAILURE", "CONTAINER_START_FAILURE", "CONTAINER_START_FAILURE"],
    );
    assert.deepEqual(checks.version?.details, [
      "| docker: Error response from daemon: OCI runtime create failed: boom.",
    ]);
  });

  it("reads an image without sh as each check did alone (exit 127 from docker)", () => {
    const said =
      'docker: Error response from daemon: failed to create shim task: exec: "sh": executable file not found in $PATH: unknown.\n';
    const checks = judge(ALL_CHECKS, done(said, 127));
    assert.equal(checks.version?.code, "ENTRYPOINT_ERROR");
    assert.equal(checks.version?.summary, "`python3 --version` exited 127");
    assert.equal(checks.paths?.code, "CONTAINER_START_FAILURE");
    assert.equal(checks.imports?.code, "IMPORT_ERROR");
  });

  it("says so when the image has no python, whatever else passed", () => {
    const output = "SLIPWAY-PATHS-DONE\nSLIPWAY-NO-PYTHON\nSLIPWAY-IMPORTS-EXIT 127\n";
    const spec = { paths: ["/srv"], imports: ["anthropic"] };
    const split = splitChecksRun(spec, done(output));
    assert.deepEqual(split.imports, {
      exitCode: 127,
      timedOut: false,
      output: "SLIPWAY-NO-PYTHON\n",
    });
    assert.equal(judge(spec, done(output)).imports?.code, "ANTHROPIC_SDK_MISSING");
  });

  it("cuts a marker off the text an unterminated line left in front of it", () => {
    assert.deepEqual(scriptLines("warming upSLIPWAY-IMPORTS-EXIT 0\nSLIPWAY-PATHS-DONE\n"), [
      "warming up",
      "SLIPWAY-IMPORTS-EXIT 0",
      "SLIPWAY-PATHS-DONE",
    ]);
    // A version line is taken whole, whatever it contains.
    assert.deepEqual(scriptLines("SLIPWAY-VERSION a SLIPWAY-MISSING b\n"), [
      "SLIPWAY-VERSION a SLIPWAY-MISSING b",
    ]);
    const split = splitChecksRun(
      { imports: ["m"], paths: [] },
      done('SLIPWAY-IMPORT {"module": "m", "ok": true}\nbyeSLIPWAY-IMPORTS-EXIT 0\n'),
    );
    assert.deepEqual(split.imports, {
      exitCode: 0,
      timedOut: false,
      output: 'SLIPWAY-IMPORT {"module": "m", "ok": true}\nbye\n',
    });
  });
});

describe("smoke check script (run by the local sh and python3)", () => {
  const hasPython = spawnSync("sh", ["-c", "command -v python3 || command -v python"]).status === 0;

  /** Runs the container's script with this machine's sh, as `docker run ... sh -c SCRIPT ...` does. */
  const runScript = (spec: ChecksSpec) => {
    const r = spawnSync("sh", ["-c", checksScript(spec), ...checksScriptArgs(spec)], {
      encoding: "utf8",
    });
    return { exitCode: r.status, timedOut: false, output: r.stdout + r.stderr };
  };

  it("reports exactly the missing paths, spaces included", () => {
    const spec = { paths: ["/tmp", "/nonexistent/slipway", "/nonexistent/a b", "/"], imports: [] };
    const run = runScript(spec);
    assert.equal(
      run.output,
      "SLIPWAY-MISSING /nonexistent/slipway\nSLIPWAY-MISSING /nonexistent/a b\nSLIPWAY-PATHS-DONE\n",
    );
    const paths = splitChecksRun(spec, run).paths;
    assert.ok(paths);
    assert.equal(
      checkPaths(spec.paths, paths).summary,
      "missing from the image: /nonexistent/slipway, /nonexistent/a b",
    );
  });

  it("keeps the version command's output (stderr too, no final newline) and its own exit code", () => {
    const spec = {
      versionCmd:
        "echo 'Odoo Server 16.0'; printf '%s\\n' 'warn: \\x  ' >&2; printf 'last'; exit 3",
      paths: [],
      imports: [],
    };
    const split = splitChecksRun(spec, runScript(spec));
    assert.deepEqual(split.version, {
      exitCode: 3,
      timedOut: false,
      output: "Odoo Server 16.0\nwarn: \\x  \nlast\n",
    });
    const notFound = { versionCmd: "slipway-no-such-command --version", paths: [], imports: [] };
    const c = checkVersion(
      notFound.versionCmd,
      undefined,
      splitChecksRun(notFound, runScript(notFound)).version ?? done(""),
    );
    assert.equal(c.code, "ENTRYPOINT_ERROR");
    assert.equal(c.summary, "`slipway-no-such-command --version` exited 127");
  });

  it("tries every module in one interpreter and reports each", function () {
    if (!hasPython) this.skip(); // no Python on this machine: the e2e suite runs it in a real image
    const spec = {
      versionCmd: "echo v1",
      paths: ["/tmp"],
      imports: ["json", "slipway_no_such_module", "os.path"],
    };
    const run = runScript(spec);
    assert.equal(run.exitCode, 0, run.output);
    const split = splitChecksRun(spec, run);
    assert.equal(split.version?.output, "v1\n");
    assert.equal(split.paths?.output, "SLIPWAY-PATHS-DONE\n");
    assert.equal(split.imports?.exitCode, 0);
    const c = checkImports(spec.imports, split.imports ?? done(""));
    assert.equal(c.code, "IMPORT_ERROR");
    assert.deepEqual(c.details, [
      "slipway_no_such_module: ModuleNotFoundError: No module named 'slipway_no_such_module'",
    ]);
  });

  it("reports paths and imports while the version command still hangs", async function () {
    if (!hasPython) this.skip();
    const spec = {
      versionCmd: "echo starting; exec sleep 600",
      paths: ["/nonexistent/x"],
      imports: ["json"],
    };
    // The container's timeout, stood in for by killing the script once the other checks have reported.
    const child = spawn("sh", ["-c", checksScript(spec), ...checksScriptArgs(spec)], {
      detached: true,
      stdio: ["ignore", "pipe", "ignore"],
    });
    const stop = () => process.kill(-(child.pid ?? 0), "SIGKILL");
    const guard = setTimeout(stop, 15_000); // never leave `sleep 600` behind, even if this test fails
    let output = "";
    const closed = new Promise<void>((resolve) => child.on("close", () => resolve()));
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      output += chunk;
      if (output.includes("SLIPWAY-IMPORTS-EXIT") && output.includes("SLIPWAY-VERSION starting")) {
        stop();
      }
    });
    await closed;
    clearTimeout(guard);
    const checks = splitChecksRun(spec, { exitCode: null, timedOut: true, output });
    assert.ok(checks.version && checks.paths && checks.imports);
    const version = checkVersion(spec.versionCmd, undefined, checks.version);
    assert.equal(version.code, "ENTRYPOINT_ERROR");
    assert.match(version.summary, /did not finish in time/);
    assert.equal(checkPaths(spec.paths, checks.paths).code, "MISSING_ADDONS");
    assert.equal(checkImports(spec.imports, checks.imports).ok, true);
  });
});

describe("smoke boot poll", () => {
  /** A clock that only moves when the poll sleeps or a request takes time: no real waiting. */
  const virtual = () => {
    let t = 0;
    const pauses: number[] = [];
    const clock: Clock = {
      now: () => t,
      sleep: (ms) => {
        pauses.push(ms);
        t += ms;
        return Promise.resolve();
      },
    };
    return { clock, pauses, advance: (ms: number) => (t += ms), at: () => t };
  };

  it("polls every 100 ms for the first 3 s, then every 250 ms", () => {
    assert.deepEqual(FAST_POLL, { forMs: 3000, intervalMs: 100 });
    assert.equal(SLOW_POLL_INTERVAL_MS, 250);
    assert.deepEqual(pollPhases(60_000), [
      { untilMs: 3000, intervalMs: 100 },
      { untilMs: 60_000, intervalMs: 250 },
    ]);
    assert.deepEqual(pollPhases(2000), [{ untilMs: 2000, intervalMs: 100 }]);
    assert.deepEqual(pollPhases(60_000, 500), [{ untilMs: 60_000, intervalMs: 500 }]);
  });

  it("sees an app that answers after 150 ms at the next 100 ms attempt", async () => {
    const v = virtual();
    const probe = (): Promise<Probe> => {
      v.advance(5);
      return Promise.resolve(v.at() >= 150 ? { status: 200, ms: 5 } : { error: "refused", ms: 5 });
    };
    const outcome = await pollInPhases(
      pollPhases(60_000),
      { url: "http://127.0.0.1:1/health", requestTimeoutMs: 2000 },
      { clock: v.clock, probe },
    );
    assert.equal(outcome.ok, true);
    assert.equal(outcome.attempts, 3);
    assert.equal(outcome.last?.atMs, 215);
  });

  it("numbers and times attempts across phases as one poll, within the budget", async () => {
    const v = virtual();
    const seen: Array<[number, number]> = [];
    const probe = (): Promise<Probe> => {
      v.advance(10);
      return Promise.resolve({ status: 503, statusText: "Service Unavailable", ms: 10 });
    };
    const outcome = await pollInPhases(
      pollPhases(4000),
      { url: "http://127.0.0.1:1/health", requestTimeoutMs: 2000 },
      { clock: v.clock, probe, onAttempt: (a) => seen.push([a.n, a.atMs]) },
    );
    assert.equal(outcome.ok, false);
    assert.ok(v.pauses.slice(0, 20).every((p) => p === 100));
    assert.ok(v.pauses.slice(-2).every((p) => p <= 250));
    assert.ok(v.pauses.includes(250), "slower after the first seconds");
    assert.ok(v.at() <= 4000, `ended at ${v.at()} ms`);
    assert.deepEqual(
      seen.map(([n]) => n),
      seen.map((_, i) => i + 1),
    );
    assert.ok(seen.every(([, at], i) => i === 0 || at > (seen[i - 1]?.[1] ?? 0)));
    assert.equal(outcome.attempts, seen.length);
    assert.deepEqual(outcome.last?.n, seen.length);
    assert.deepEqual(outcome.seen, [
      { problem: "503 Service Unavailable (expected 200)", count: seen.length },
    ]);
  });

  it("joins two phases' outcomes: counts, problems seen, and the last attempt shifted", () => {
    const attempt = (n: number, atMs: number, problem: string) => ({
      n,
      atMs,
      probe: { ms: 1 },
      ok: false,
      problem,
    });
    const first: PollOutcome = {
      ok: false,
      attempts: 2,
      elapsedMs: 2900,
      last: attempt(2, 2900, "refused"),
      seen: [{ problem: "refused", count: 2 }],
    };
    const next: PollOutcome = {
      ok: false,
      attempts: 3,
      elapsedMs: 600,
      last: attempt(3, 600, "503"),
      stopped: "the container exited with code 1",
      seen: [
        { problem: "refused", count: 1 },
        { problem: "503", count: 2 },
      ],
    };
    assert.deepEqual(joinOutcomes(first, next, 3000), {
      ok: false,
      attempts: 5,
      elapsedMs: 3600,
      last: attempt(5, 3600, "503"),
      stopped: "the container exited with code 1",
      seen: [
        { problem: "refused", count: 3 },
        { problem: "503", count: 2 },
      ],
    });
    assert.deepEqual(first.seen, [{ problem: "refused", count: 2 }], "inputs untouched");
  });
});

describe("smoke docker arguments", () => {
  it("builds every docker argv the gate runs", () => {
    assert.deepEqual(inspectArgs("app:1"), ["image", "inspect", "app:1"]);
    assert.deepEqual(historyArgs("app:1"), [
      "history",
      "--no-trunc",
      "--human=false",
      "--format",
      "{{json .}}",
      "app:1",
    ]);
    assert.deepEqual(
      checksArgs("app:1", "slipway-smoke-check-1", {
        versionCmd: "odoo --version",
        paths: ["/mnt/extra-addons", "/a b"],
        imports: ["odoo", "anthropic"],
      }),
      [
        "run",
        "--rm",
        "--pull",
        "never",
        "--name",
        "slipway-smoke-check-1",
        "--label",
        "slipway.gate=smoke",
        "--network",
        "none",
        "--entrypoint",
        "sh",
        "app:1",
        "-c",
        checksScript({ versionCmd: "x", paths: ["/"], imports: ["m"] }),
        "slipway-smoke",
        "odoo --version",
        IMPORTS_PY,
        "2",
        "/mnt/extra-addons",
        "/a b",
        "odoo",
        "anthropic",
      ],
    );
    // Only the parts asked for: the script reads its arguments in that order.
    assert.deepEqual(checksScriptArgs({ paths: [], imports: ["m"] }), [
      "slipway-smoke",
      IMPORTS_PY,
      "m",
    ]);
    assert.doesNotMatch(checksScript({ paths: ["/"], imports: [] }), /python|SLIPWAY-VERSION/);
    assert.equal(needsChecksRun({ paths: [], imports: [] }), false);
    assert.equal(needsChecksRun({ versionCmd: "true", paths: [], imports: [] }), true);
    assert.deepEqual(bootArgs("app:1", "slipway-smoke-1", 8069), [
      "run",
      "-d",
      "--pull",
      "never",
      "--name",
      "slipway-smoke-1",
      "--label",
      "slipway.gate=smoke",
      "-p",
      "127.0.0.1::8069",
      "app:1",
    ]);
    assert.deepEqual(portArgs("n", 8069), ["port", "n", "8069/tcp"]);
    assert.deepEqual(stateArgs("n"), ["inspect", "--format", "{{json .State}}", "n"]);
    assert.deepEqual(logsArgs("n", 50), ["logs", "--tail", "50", "n"]);
    assert.deepEqual(removeArgs("n"), ["rm", "-f", "n"]);
  });
});

describe("smoke gate CLI with a scripted docker", () => {
  let docker: ScriptedDocker;
  let server: Server | undefined;
  let appPort = 0;
  let status = 200;

  beforeEach(async () => {
    docker = scriptedDocker();
    status = 200;
    server = createServer((_req, res) => {
      res.statusCode = status;
      res.end(status === 200 ? "ok" : "starting");
    });
    await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
    appPort = (server.address() as AddressInfo).port;
  });
  afterEach(async () => {
    docker.cleanup();
    await new Promise<void>((resolve) => server?.close(() => resolve()));
  });

  const rules = (
    overrides: {
      state?: string;
      port?: number;
      size?: number;
      user?: string;
      extra?: DockerRule[];
    } = {},
  ): DockerRule[] => [
    ...(overrides.extra ?? []),
    { when: ["{{json .State}}"], stdout: overrides.state ?? STATE_RUNNING },
    {
      when: ["image", "inspect"],
      stdout: inspectJson(overrides.size ?? 660_000_000, overrides.user ?? "appuser"),
    },
    { when: ["history"], stdout: HISTORY },
    { when: ["slipway-smoke"], stdout: COMBINED_OK },
    { when: ["run", "-d"], stdout: "4f1c0ffee\n" },
    { when: ["port"], stdout: `127.0.0.1:${overrides.port ?? appPort}\n` },
    { when: ["logs"], stderr: GUNICORN_LOG },
    { when: ["rm", "-f"], stdout: "removed\n" },
  ];

  const ALL = [
    "smoke",
    "--image",
    "app:1",
    "--max-size",
    "2GB",
    "--version-cmd",
    "python3 --version",
    "--expect-version",
    "Python 3.11",
    "--path",
    "/srv",
    "--import",
    "fastapi",
    "--non-root",
    "--boot",
    "--port",
    "8000",
    "--health-path",
    "/health",
    "--boot-timeout",
    "2",
  ];

  it("passes every check, boots, and removes the container it started", async () => {
    docker.setRules(rules());
    const r = await runGate(ALL, docker.env);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^PASS smoke: app:1: 6 checks passed/);
    const figures = r.json?.figures as Record<string, unknown>;
    assert.equal(figures.sizeBytes, 660_000_000);
    assert.equal(figures.user, "appuser");
    assert.equal(typeof figures.bootSeconds, "number");
    const calls = docker.calls();
    const run = calls.find((c) => c[0] === "run" && c[1] === "-d");
    assert.ok(run);
    const name = run[run.indexOf("--name") + 1] ?? "";
    assert.match(name, /^slipway-smoke-[0-9a-f]{12}$/);
    assert.deepEqual(run.slice(-3), ["-p", "127.0.0.1::8000", "app:1"]);
    assert.deepEqual(calls[calls.length - 1], ["rm", "-f", name]);
    // version, paths and imports: one container, not three.
    const checkRuns = calls.filter((c) => c[0] === "run" && c[1] === "--rm");
    assert.equal(checkRuns.length, 1);
    assert.deepEqual(checkRuns[0]?.slice(-3), ["1", "/srv", "fastapi"]);
    // The largest layers are findings even within budget (the release report lists them).
    const layers = (r.json?.findings as Array<Record<string, unknown>>).filter(
      (f) => f.check === "size" && typeof f.sizeBytes === "number",
    );
    assert.deepEqual(
      layers.map((l) => l.sizeBytes),
      [1_650_000_000, 184_940_382, 232, 0],
    );
  });

  it("blocks with CONTAINER_START_FAILURE naming the module when the app dies at boot", async () => {
    const closed = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, "127.0.0.1", () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    docker.setRules(rules({ state: STATE_EXITED, port: closed }));
    const r = await runGate(
      [
        "smoke",
        "--image",
        "app:1",
        "--boot",
        "--port",
        "8000",
        "--health-path",
        "/health",
        "--boot-timeout",
        "5",
      ],
      docker.env,
    );
    assert.equal(r.code, 1);
    assert.match(
      r.stdout,
      /^CONTAINER_START_FAILURE: the container exited with code 3 during boot: ModuleNotFoundError: No module named 'opentelemetry.exporter'/,
    );
    assert.match(r.stdout, /Reason: Worker failed to boot\./);
    const calls = docker.calls();
    assert.deepEqual(calls[calls.length - 1]?.slice(0, 2), ["rm", "-f"]);
  });

  it("blocks with HEALTH_CHECK_FAIL and the last status when the app never answers 200", async () => {
    status = 503;
    docker.setRules(rules());
    const r = await runGate(
      [
        "smoke",
        "--image",
        "app:1",
        "--boot",
        "--port",
        "8000",
        "--health-path",
        "/health",
        "--boot-timeout",
        "0.6",
      ],
      docker.env,
    );
    assert.equal(r.code, 1);
    assert.match(
      r.stdout,
      /^HEALTH_CHECK_FAIL: no 200 from \/health \(port 8000\) within 600 ms: last 503 Service Unavailable/,
    );
    const calls = docker.calls();
    assert.deepEqual(calls[calls.length - 1]?.slice(0, 2), ["rm", "-f"]);
  });

  it("reports every failing check; the first decides the code", async () => {
    docker.setRules(
      rules({
        size: 2_300_000_000,
        user: "",
        extra: [
          {
            when: ["slipway-smoke"],
            stdout: [
              "SLIPWAY-MISSING /srv",
              "SLIPWAY-PATHS-DONE",
              "SLIPWAY-VERSION Python 3.9.2",
              "SLIPWAY-VERSION-EXIT 0",
              `SLIPWAY-IMPORT {"module": "fastapi", "ok": false, "error": "ModuleNotFoundError: No module named 'fastapi'", "missing": "fastapi"}`,
              "SLIPWAY-IMPORTS-EXIT 0",
              "",
            ].join("\n"),
          },
        ],
      }),
    );
    const r = await runGate(ALL, docker.env);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^IMAGE_SIZE_EXCEEDED: image is 2\.3 GB/);
    assert.match(
      r.stdout,
      /\+4 more failing: ENTRYPOINT_ERROR, MISSING_ADDONS, IMPORT_ERROR, RUNS_AS_ROOT/,
    );
    assert.match(r.stdout, /1\.65 GB {2}RUN pip install -r requirements\.txt/);
    assert.ok(docker.calls().some((c) => c[0] === "history"));
  });

  it("blocks with CONTAINER_START_FAILURE when the image is not on the engine, and runs nothing", async () => {
    docker.setRules([
      {
        when: ["image", "inspect"],
        exit: 1,
        stdout: "[]\n",
        stderr: "Error: No such image: app:1\n",
      },
    ]);
    const r = await runGate(
      ["smoke", "--image", "app:1", "--boot", "--port", "8000", "--health-path", "/h"],
      docker.env,
    );
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^CONTAINER_START_FAILURE: image app:1 is not on this Docker engine/);
    assert.match(r.stdout, /docker image inspect exited 1: Error: No such image: app:1/);
    assert.equal(docker.calls().length, 1);
  });

  it("blocks with CONTAINER_START_FAILURE when docker run -d fails, and still removes the container", async () => {
    docker.setRules(
      rules({
        extra: [
          {
            when: ["run", "-d"],
            exit: 127,
            stderr:
              'docker: Error response from daemon: failed to create shim task: exec: "gunicorn": executable file not found in $PATH: unknown.\n',
          },
        ],
      }),
    );
    const r = await runGate(
      ["smoke", "--image", "app:1", "--boot", "--port", "8000", "--health-path", "/h"],
      docker.env,
    );
    assert.equal(r.code, 1);
    assert.match(
      r.stdout,
      /^CONTAINER_START_FAILURE: the container did not start: docker run -d exited 127/,
    );
    const calls = docker.calls();
    assert.deepEqual(calls[calls.length - 1]?.slice(0, 2), ["rm", "-f"]);
  });

  it("removes the check container that outlives its budget, by name, and blocks each check it ran", async () => {
    docker.setRules(rules({ extra: [{ when: ["slipway-smoke"], sleepMs: 10_000 }] }));
    const spec = parseSpec({
      image: "app:1",
      "version-cmd": "odoo --version",
      path: ["/srv"],
      import: ["odoo"],
    });
    const ctx = { now: () => new Date(0), env: docker.env, progress: () => undefined };
    const r = await runSmoke(spec, ctx, 300);
    assert.equal(r.code, "ENTRYPOINT_ERROR");
    assert.match(r.summary, /`odoo --version` did not finish in time/);
    assert.match(r.summary, /\(\+2 more failing: CONTAINER_START_FAILURE, IMPORT_ERROR\)$/);
    const calls = docker.calls();
    const run = calls.find((c) => c.includes("slipway-smoke")) ?? [];
    const name = run[run.indexOf("--name") + 1] ?? "";
    assert.match(name, /^slipway-smoke-check-[0-9a-f]{12}$/);
    assert.deepEqual(calls[calls.length - 1], ["rm", "-f", name]);
    assert.ok(!calls.some((c) => c[0] === "history"), "no --max-size: no layer history");
  });

  it("runs the check container beside the boot, and the order of codes stays fixed whatever ends first", async () => {
    docker.setRules(
      rules({
        extra: [
          // The boot fails at once; the check container answers much later.
          { when: ["run", "-d"], exit: 125, stderr: "docker: Error response from daemon: boom.\n" },
          {
            when: ["slipway-smoke"],
            sleepMs: 1500,
            stdout: COMBINED_OK.replace("Python 3.11.2", "Python 3.9.2"),
          },
        ],
      }),
    );
    const r = await runGate(ALL, docker.env);
    assert.equal(r.code, 1);
    assert.match(
      r.stdout,
      /^ENTRYPOINT_ERROR: `python3 --version` printed "Python 3\.9\.2", expected it to contain "Python 3\.11" \(\+1 more failing: CONTAINER_START_FAILURE\)/,
    );
    const t = r.json?.timings as Record<string, number>;
    // One after the other, the gate would take at least checks + boot after the inspect.
    assert.ok(
      (t.total ?? 0) - (t.inspect ?? 0) < (t.checks ?? 0) + (t.boot ?? 0),
      JSON.stringify(t),
    );
    const calls = docker.calls();
    assert.deepEqual(calls[calls.length - 1]?.slice(0, 2), ["rm", "-f"]);
  });

  for (const [why, argv] of [
    ["--image is missing", []],
    ["--expect-version comes without --version-cmd", ["--image", "a", "--expect-version", "1"]],
    ["--boot comes without --port", ["--image", "a", "--boot", "--health-path", "/h"]],
    ["--port comes without --boot", ["--image", "a", "--port", "80"]],
    ["--health-path is relative", ["--image", "a", "--boot", "--port", "80", "--health-path", "h"]],
    ["--max-size is not a size", ["--image", "a", "--max-size", "huge"]],
    ["--import is not a module name", ["--image", "a", "--import", "no-dashes"]],
    ["--path is relative", ["--image", "a", "--path", "srv"]],
    [
      "--port is out of range",
      ["--image", "a", "--boot", "--port", "70000", "--health-path", "/h"],
    ],
  ] as const) {
    it(`exits 2 (usage) when ${why}`, async () => {
      const r = await runGate(["smoke", ...argv], docker.env);
      assert.equal(r.code, 2);
      assert.deepEqual(docker.calls(), []);
    });
  }
});
