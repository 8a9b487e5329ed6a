import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { validateWorkflow } from "@action-validator/core";
import { parse } from "yaml";
import { block, GateResult, pass } from "../../gates/result";

/**
 * The CI workflows (.github/workflows) and the scripts they run (scripts/ci). Validity comes from a
 * kept validator (@action-validator/core: GitHub's workflow schema, plus job and glob checks); the
 * properties the release procedure relies on are asserted on the parsed YAML; the scripts' key
 * behaviour (rollback sets release.pin, then `pulumi up`, then verifies) runs for real against a
 * recording stand-in for the `pulumi` CLI.
 */

const ROOT = join(__dirname, "..", "..");
const WORKFLOWS = join(ROOT, ".github", "workflows");

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface Job {
  "runs-on": string;
  if?: string;
  needs?: string | string[];
  environment?: string | { name: string; url?: string };
  concurrency?: { group: string; "cancel-in-progress"?: boolean };
  permissions?: Record<string, string>;
  strategy?: { matrix?: Record<string, unknown> };
  env?: Record<string, string>;
  steps: Step[];
}
interface Workflow {
  name: string;
  on: Record<string, unknown>;
  env?: Record<string, string>;
  permissions?: Record<string, string>;
  jobs: Record<string, Job>;
}

const files = readdirSync(WORKFLOWS)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort();
const text = (file: string): string => readFileSync(join(WORKFLOWS, file), "utf8");
const workflow = (file: string): Workflow => parse(text(file)) as Workflow;
const allJobs = (): Array<{ file: string; id: string; job: Job }> =>
  files.flatMap((file) =>
    Object.entries(workflow(file).jobs).map(([id, job]) => ({ file, id, job })),
  );
const environmentOf = (job: Job): string | undefined =>
  typeof job.environment === "string" ? job.environment : job.environment?.name;

/**
 * The action commits the workflows may use, each checked against its own repository or against
 * independent pins of it (see docs/operations.md, "Pinned actions"). Moving one is a reviewed change:
 * update it here with how the new commit was verified.
 */
const VERIFIED: Record<string, { sha: string; version: string }> = {
  // CHANGELOG.md at this commit in actions/checkout opens with "## V5.0.0".
  "actions/checkout": { sha: "08c6903cd8c0fde910a37f88322edcfb5dd907a8", version: "v5.0.0" },
  // A commit of actions/setup-node; pinned as v5.0.0 in independent public workflows.
  "actions/setup-node": { sha: "a0853c24544627f65ddf259abe73b1d18a591444", version: "v5.0.0" },
  // Pinned as v7.0.0 (the Node 24 release, May 2026) in independent public workflows.
  "pulumi/actions": { sha: "8e5e406f4007fca908480587cb9893c07090f58d", version: "v7.0.0" },
  // package.json at this commit in actions/upload-artifact says "version": "4.6.2".
  "actions/upload-artifact": { sha: "ea165f8d65b6e75b540449e92b4886f43607fa02", version: "v4.6.2" },
  // The v4.3.0 tag of docker/setup-buildx-action resolves to this commit (git rev-parse
  // v4.3.0^{commit} in a clone of it); its action.yml runs node24, driver default docker-container.
  "docker/setup-buildx-action": {
    sha: "37fe631027851001ddb9b187196cc803df7f5f0e",
    version: "v4.3.0",
  },
};

describe("CI workflows", () => {
  it("are the pull request, release, rollback and weekly security rebuild workflows", () => {
    assert.deepEqual(files, [
      "pull-request.yml",
      "release.yml",
      "rollback.yml",
      "weekly-security-rebuild.yml",
    ]);
  });

  for (const file of files) {
    it(`${file} is a valid workflow (@action-validator/core)`, () => {
      assert.deepEqual(validateWorkflow(text(file)).errors, []);
    });
  }

  it("the validator does reject a broken workflow (an unknown key, a job that needs a missing one)", () => {
    const broken = text("release.yml")
      .replace("    steps:\n", "    step:\n")
      .replace("    runs-on: ubuntu-24.04\n", "    runs-on: ubuntu-24.04\n    needs: [nope]\n");
    const codes = validateWorkflow(broken).errors.map((e) => e.code);
    assert.ok(codes.includes("unresolved_job"), codes.join(", "));
    assert.ok(codes.length >= 2, codes.join(", "));
  });

  it("pins every action by a full commit SHA with its version in a comment", () => {
    let count = 0;
    for (const file of files) {
      const lines = text(file)
        .split("\n")
        .filter((l) => /^\s*(-\s+)?uses:/.test(l));
      for (const line of lines) {
        count++;
        assert.match(
          line,
          /^\s*(-\s+)?uses: [\w.-]+\/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$/,
          `${file}: ${line.trim()}`,
        );
      }
      // Every `uses` the YAML holds is on such a line (none hides in a flow mapping).
      const parsed = Object.values(workflow(file).jobs).flatMap((j) =>
        j.steps.filter((s) => s.uses !== undefined),
      );
      assert.equal(parsed.length, lines.length, file);
    }
    assert.ok(count > 0);
  });

  it("uses only the verified commits, one per action", () => {
    for (const file of files) {
      for (const line of text(file).split("\n")) {
        const m = /uses: ([\w.-]+\/[\w.-]+)[\w./-]*@([0-9a-f]{40}) # (v[\d.]+)$/.exec(line);
        if (m === null) continue;
        const [, action, sha, version] = m;
        assert.deepEqual({ sha, version }, VERIFIED[action], `${file}: ${action}`);
      }
    }
  });

  it("runs no Trivy GitHub Action, and names the Trivy image only pinned by digest", () => {
    for (const file of files) {
      const src = text(file);
      assert.doesNotMatch(src, /aquasecurity\/(trivy-action|setup-trivy)/, file);
      for (const ref of src.match(/[\w.-]*\/?aquas\w*\/trivy[^\s"']*/g) ?? []) {
        assert.match(ref, /^aquasec\/trivy:[\w.-]+@sha256:[0-9a-f]{64}$/, `${file}: ${ref}`);
      }
    }
    const weekly = workflow("weekly-security-rebuild.yml");
    assert.match(weekly.env?.TRIVY_IMAGE ?? "", /@sha256:[0-9a-f]{64}$/);
  });

  it("rebuilds for security every Sunday at 02:00 UTC", () => {
    const on = workflow("weekly-security-rebuild.yml").on as {
      schedule: Array<{ cron: string }>;
      workflow_dispatch: unknown;
    };
    assert.deepEqual(on.schedule, [{ cron: "0 2 * * 0" }]);
    assert.ok(on.workflow_dispatch !== undefined, "it can also be run by hand");
  });

  it("the weekly rebuild checks the base and the running image, then rebuilds only when told to", () => {
    const jobs = workflow("weekly-security-rebuild.yml").jobs;
    for (const stack of ["dev", "prod"]) {
      const check = jobs[`check-${stack}`];
      const rebuild = jobs[`rebuild-${stack}`];
      assert.ok(check.steps.some((s) => s.run === `scripts/ci/weekly-check.sh ${stack}`));
      assert.ok(rebuild.steps.some((s) => s.run === `scripts/ci/weekly-rebuild.sh ${stack}`));
      assert.equal(rebuild.needs, `check-${stack}`);
      assert.match(
        rebuild.if ?? "",
        new RegExp(`needs\\.check-${stack}\\.outputs\\.rebuild == 'true'`),
      );
    }
  });

  it("takes the rollback's tag as a required input, passed to the script through the environment", () => {
    const rollback = workflow("rollback.yml");
    const inputs = (
      rollback.on.workflow_dispatch as {
        inputs: Record<string, { type: string; required?: boolean; options?: string[] }>;
      }
    ).inputs;
    assert.equal(inputs.tag.type, "string");
    assert.equal(inputs.tag.required, true);
    assert.deepEqual(inputs.stack.options, ["prod", "dev"]);
    assert.equal(rollback.env?.ROLLBACK_TAG, "${{ inputs.tag }}");
    for (const stack of ["dev", "prod"]) {
      assert.ok(
        rollback.jobs[stack].steps.some(
          (s) => s.run === `scripts/ci/rollback.sh ${stack} "$ROLLBACK_TAG"`,
        ),
        stack,
      );
    }
  });

  it("promotes to prod only through the production environment (its required reviewers)", () => {
    const prodJobs = allJobs().filter(({ job }) =>
      job.steps.some((s) =>
        /^(VERSION_SUFFIX=\S+ )?scripts\/ci\/(release|rollback|weekly-rebuild)\.sh prod\b/.test(
          s.run ?? "",
        ),
      ),
    );
    assert.deepEqual(
      prodJobs.map(({ file, id }) => `${file}:${id}`),
      ["release.yml:prod", "rollback.yml:prod", "weekly-security-rebuild.yml:rebuild-prod"],
    );
    for (const { file, id, job } of prodJobs) {
      assert.equal(environmentOf(job), "production", `${file}:${id}`);
    }
    // Promotion is a release tag or a manual run; a push to main is dev's.
    const release = workflow("release.yml");
    assert.deepEqual(release.on.push, { branches: ["main"], tags: ["v*"] });
    assert.ok(release.on.workflow_dispatch !== undefined);
    assert.match(release.jobs.prod.if ?? "", /startsWith\(github\.ref, 'refs\/tags\/v'\)/);
    assert.match(
      release.jobs.prod.if ?? "",
      /github\.event_name == 'workflow_dispatch' && inputs\.stack == 'prod'/,
    );
    assert.match(release.jobs.dev.if ?? "", /github\.ref == 'refs\/heads\/main'/);
    assert.equal(environmentOf(release.jobs.dev), undefined);
  });

  it("previews dev and prod on pull requests and posts the offline plan of dev", () => {
    const pr = workflow("pull-request.yml");
    assert.ok(pr.on.pull_request !== undefined);
    assert.deepEqual(pr.jobs.preview.strategy?.matrix?.stack, ["dev", "prod"]);
    assert.ok(pr.jobs.preview.steps.some((s) => s.run === 'scripts/ci/preview.sh "$STACK"'));
    assert.ok(pr.jobs.plan.steps.some((s) => s.run === "scripts/ci/plan-comment.sh dev"));
    assert.equal(pr.jobs.plan.permissions?.["pull-requests"], "write");
    assert.match(
      readFileSync(join(ROOT, "scripts/ci/plan-comment.sh"), "utf8"),
      /npm run --silent plan -- --stack "\$stack"/,
    );
  });

  it("runs one pulumi operation per stack at a time, across workflows", () => {
    for (const { file, id, job } of allJobs()) {
      const stack = /scripts\/ci\/(?:release|rollback|weekly-rebuild)\.sh (dev|prod)\b/.exec(
        job.steps.map((s) => s.run ?? "").join("\n"),
      )?.[1];
      if (stack === undefined) continue;
      assert.deepEqual(
        job.concurrency,
        { group: `pulumi-${stack}`, "cancel-in-progress": false },
        `${file}:${id}`,
      );
    }
  });

  it("notifies when a release, rollback or rebuild fails, and keeps its report", () => {
    for (const { file, id, job } of allJobs()) {
      if (
        !job.steps.some((s) => /scripts\/ci\/(release|rollback|weekly-\w+)\.sh/.test(s.run ?? ""))
      )
        continue;
      const notify = job.steps.find((s) => /^scripts\/ci\/notify\.sh /.test(s.run ?? ""));
      assert.equal(notify?.if, "failure()", `${file}:${id}`);
      assert.equal(
        notify?.env?.SLACK_WEBHOOK_URL,
        "${{ secrets.SLACK_WEBHOOK_URL }}",
        `${file}:${id}`,
      );
      if (/^check-/.test(id)) continue;
      const keep = job.steps.find((s) => s.uses?.startsWith("actions/upload-artifact@"));
      assert.equal(keep?.if, "always()", `${file}:${id}`);
      assert.equal(keep?.with?.path, ".slipway/", `${file}:${id}`);
    }
  });

  it("keeps logic in scripts: one-line run steps, no expression spliced into a shell", () => {
    for (const { file, id, job } of allJobs()) {
      for (const step of job.steps) {
        if (step.run === undefined) continue;
        assert.equal(step.run.trim().split("\n").length, 1, `${file}:${id}: ${step.run}`);
        assert.doesNotMatch(step.run, /\$\{\{/, `${file}:${id}: ${step.run}`);
        const script = /scripts\/ci\/[\w-]+\.sh/.exec(step.run)?.[0];
        if (script !== undefined) accessSync(join(ROOT, script), constants.X_OK);
      }
    }
  });

  it("gives jobs only the permissions they need (read by default)", () => {
    for (const file of files) {
      const w = workflow(file);
      assert.ok(w.permissions !== undefined, `${file} sets its permissions`);
    }
    assert.deepEqual(workflow("release.yml").permissions, { contents: "read" });
    assert.deepEqual(workflow("pull-request.yml").permissions, { contents: "read" });
  });
});

// ---------------------------------------------------------------------------------------------------
// The scripts, against a recording stand-in for the pulumi CLI

/**
 * A `pulumi` that records its arguments and keeps config and stack outputs as files: enough for the
 * CI scripts' calls (`config get/set --stack S --path K [V]`, `stack output --stack S NAME`, `up`,
 * which copies prepared gate results into the results directory and exits FAKE_UP_STATUS). A stack
 * output is read from `outputs/S/NAME` when that exists (another stack's outputs), else `outputs/NAME`.
 */
const FAKE_PULUMI = `#!/usr/bin/env bash
printf '%s\\n' "$*" >>"$FAKE_STATE/calls.log"
path=""; stack=""; args=()
while (($#)); do
  case $1 in
    --stack) stack=$2; shift ;;
    --path) path=$2; shift ;;
    --yes|--non-interactive|--diff|--json) ;;
    *) args+=("$1") ;;
  esac
  shift
done
case "\${args[0]} \${args[1]:-}" in
  "config get") [[ -f $FAKE_STATE/config/$path ]] && cat "$FAKE_STATE/config/$path" || exit 1 ;;
  "config set") mkdir -p "$FAKE_STATE/config"; printf '%s' "\${args[2]}" >"$FAKE_STATE/config/$path" ;;
  "stack output") o=$FAKE_STATE/outputs/$stack/\${args[2]}; [[ -f $o ]] || o=$FAKE_STATE/outputs/\${args[2]}
                  [[ -f $o ]] && cat "$o" || exit 1 ;;
  up*) if [[ -n \${FAKE_UP_RESULTS:-} ]]; then mkdir -p "$FAKE_UP_INTO"; cp "$FAKE_UP_RESULTS"/* "$FAKE_UP_INTO"/; fi
       echo "Updating (\${FAKE_UP_STATUS:-0})"; exit "\${FAKE_UP_STATUS:-0}" ;;
  *) echo "fake pulumi: unexpected \${args[*]}" >&2; exit 3 ;;
esac
`;

const DIGEST = `sha256:${"c".repeat(64)}`;

interface Harness {
  state: string;
  out: string;
  bin: string;
  results: string;
}

function harness(config: Record<string, string>, outputs: Record<string, string>): Harness {
  const base = mkdtempSync(join(tmpdir(), "slipway-ci-"));
  const h = {
    state: join(base, "state"),
    out: join(base, "out"),
    bin: join(base, "bin"),
    results: join(base, "results"),
  };
  for (const dir of [
    h.state,
    h.out,
    h.bin,
    h.results,
    join(h.state, "config"),
    join(h.state, "outputs"),
  ]) {
    mkdirSync(dir, { recursive: true });
  }
  writeFileSync(join(h.bin, "pulumi"), FAKE_PULUMI, { mode: 0o755 });
  for (const [k, v] of Object.entries(config)) writeFileSync(join(h.state, "config", k), v);
  for (const [k, v] of Object.entries(outputs)) {
    mkdirSync(dirname(join(h.state, "outputs", k)), { recursive: true });
    writeFileSync(join(h.state, "outputs", k), v);
  }
  return h;
}

function writeResults(h: Harness, results: GateResult[]): void {
  for (const r of results) writeFileSync(join(h.results, `${r.gate}.json`), JSON.stringify(r));
}

function run(
  h: Harness,
  script: string,
  args: string[],
  env: Record<string, string> = {},
): { status: number | null; output: string; calls: string[] } {
  const result = spawnSync("bash", [join(ROOT, "scripts", "ci", script), ...args], {
    encoding: "utf8",
    env: {
      PATH: `${h.bin}:${process.env.PATH ?? ""}`,
      HOME: process.env.HOME ?? "/tmp",
      FAKE_STATE: h.state,
      SLIPWAY_OUT_ROOT: h.out,
      ...env,
    },
    timeout: 60_000,
  });
  const log = join(h.state, "calls.log");
  return {
    status: result.status,
    output: `${result.stdout}${result.stderr}`,
    calls: existsSync(log) ? readFileSync(log, "utf8").trim().split("\n") : [],
  };
}

const configOf = (h: Harness, key: string): string | undefined => {
  const file = join(h.state, "config", key);
  return existsSync(file) ? readFileSync(file, "utf8") : undefined;
};

describe("CI scripts (against a recording pulumi)", () => {
  let made: Harness[] = [];
  const make = (config: Record<string, string>, outputs: Record<string, string>): Harness => {
    const h = harness(config, outputs);
    made.push(h);
    return h;
  };
  before(() => {
    assert.ok(
      existsSync(join(ROOT, "dist", "gates", "report", "gate.js")),
      "the scripts run bin/slipway-gate: build it first (npm run build; npm ci does it)",
    );
  });
  afterEach(() => {
    for (const h of made) rmSync(join(h.state, ".."), { recursive: true, force: true });
    made = [];
  });

  const stackOutputs = {
    releaseTag: "v1.4.3",
    repository: "registry.digitalocean.com/acme/odoo",
    imageDigest: DIGEST,
  };

  it("rollback sets release.pin to the tag, then runs pulumi up, verifies the digest and says how to unpin", () => {
    const h = make(
      { "release.version": "v1.4.3", baseImage: "python:3.11@sha256:" + "a".repeat(64) },
      stackOutputs,
    );
    writeResults(h, [
      pass("resolve", `v1.4.2 is ${DIGEST}`, {
        figures: {
          repository: "registry.digitalocean.com/acme/odoo",
          ref: "v1.4.2",
          digest: DIGEST,
        },
      }),
      pass("health", "GET https://odoo/web/health answered 200"),
    ]);
    const { status, output, calls } = run(h, "rollback.sh", ["prod", "v1.4.2"], {
      FAKE_UP_RESULTS: h.results,
      FAKE_UP_INTO: join(h.out, ".slipway", "rollbacks", "v1.4.2"),
    });
    assert.equal(status, 0, output);
    const pin = calls.indexOf("config set --stack prod --path release.pin v1.4.2");
    const up = calls.findIndex((c) => c.startsWith("up "));
    assert.ok(pin >= 0 && up > pin, calls.join("\n"));
    assert.equal(calls[up], "up --yes --non-interactive --diff --stack prod");
    assert.equal(configOf(h, "release.pin"), "v1.4.2");
    assert.match(
      output,
      /to unpin: pulumi config rm --path release\.pin --stack prod && pulumi up --stack prod/,
    );
    const report = readFileSync(join(h.out, ".slipway", "ci", "prod", "report.md"), "utf8");
    assert.match(report, /^# Rollback report: v1\.4\.2 \(prod\)\n\n\*\*READY\*\*/);
  });

  it("rollback refuses what is neither a tag nor a digest, before touching the stack", () => {
    const h = make({ "release.version": "v1.4.3" }, stackOutputs);
    const { status, output, calls } = run(h, "rollback.sh", ["prod", "v1.4.2; rm -rf /"]);
    assert.equal(status, 1);
    assert.match(output, /is neither a tag/);
    assert.deepEqual(calls, []);
  });

  it("a failed rollback exits with pulumi's status and a report naming ROLLBACK_TAG_NOT_FOUND", () => {
    const h = make({ "release.version": "v1.4.3" }, stackOutputs);
    writeResults(h, [
      block(
        "resolve",
        "ROLLBACK_TAG_NOT_FOUND",
        "v1.4.9 is not in registry.digitalocean.com/acme/odoo",
        {
          details: ["tags: v1.4.1, v1.4.2, v1.4.3"],
        },
      ),
    ]);
    const { status } = run(h, "rollback.sh", ["prod", "v1.4.9"], {
      FAKE_UP_RESULTS: h.results,
      FAKE_UP_INTO: join(h.out, ".slipway", "rollbacks", "v1.4.9"),
      FAKE_UP_STATUS: "255",
    });
    assert.equal(status, 255);
    const result = JSON.parse(
      readFileSync(join(h.out, ".slipway", "ci", "prod", "report.json"), "utf8"),
    ) as GateResult;
    assert.equal(result.code, "ROLLBACK_TAG_NOT_FOUND");
    assert.equal(result.figures.readiness, "NOT READY");
  });

  it("a release tag must equal the stack's release.version: refused before pulumi up", () => {
    const h = make({ "release.version": "v1.4.3" }, stackOutputs);
    const { status, output, calls } = run(h, "release.sh", ["prod"], { EXPECT_VERSION: "v1.4.4" });
    assert.equal(status, 1);
    assert.match(output, /tag v1\.4\.4 does not match release\.version v1\.4\.3 of stack prod/);
    assert.ok(!calls.some((c) => c.startsWith("up")), calls.join("\n"));
  });

  it("each push to main is its own dev version, scanned with the pinned Trivy when the stack names none", () => {
    const h = make({ "release.version": "v1.5.0-dev" }, stackOutputs);
    const trivy = `aquasec/trivy:0.69.3@sha256:${"b".repeat(64)}`;
    const { status, output, calls } = run(h, "release.sh", ["dev"], {
      VERSION_SUFFIX: "3f9c2ab",
      TRIVY_IMAGE: trivy,
    });
    assert.equal(status, 0, output);
    assert.equal(configOf(h, "release.version"), "v1.5.0-dev-3f9c2ab");
    assert.equal(configOf(h, "scan.trivyImage"), trivy);
    assert.ok(calls.indexOf("up --yes --non-interactive --diff --stack dev") > 0);
    // Nothing re-ran (a successful up with unchanged inputs): the gates are marked so, and it is READY.
    const dir = join(h.out, ".slipway", "releases", "v1.5.0-dev-3f9c2ab");
    assert.match(
      readFileSync(join(dir, "scan.skipped"), "utf8"),
      /^not re-run: nothing it checks changed/,
    );
    const release = JSON.parse(readFileSync(join(dir, "release.json"), "utf8")) as Record<
      string,
      string
    >;
    assert.deepEqual(
      [release.version, release.mode, release.image, release.digest, release.previous],
      [
        "v1.5.0-dev-3f9c2ab",
        "release",
        "registry.digitalocean.com/acme/odoo:v1.5.0-dev-3f9c2ab",
        DIGEST,
        "v1.4.3",
      ],
    );
    // The registry-side promotion is one of the release's gates; the push era's tag-guard is not.
    assert.match(
      readFileSync(join(dir, "promote.skipped"), "utf8"),
      /^not re-run: nothing it checks changed/,
    );
    assert.ok(!existsSync(join(dir, "tag-guard.skipped")), "no tag-guard any more");
    const report = JSON.parse(
      readFileSync(join(h.out, ".slipway", "ci", "dev", "report.json"), "utf8"),
    ) as GateResult;
    assert.equal(report.figures.readiness, "READY");
  });

  it("a failed release exits with pulumi's status; its report blocks with the gate's code", () => {
    const h = make({ "release.version": "v1.4.4" }, stackOutputs);
    writeResults(h, [
      pass("preflight", "Docker answers"),
      pass("lint", "2 stages"),
      pass("base", "current"),
      block("test", "TEST_FAILURE", "2 failing tests"),
    ]);
    const { status } = run(h, "release.sh", ["prod"], {
      FAKE_UP_RESULTS: h.results,
      FAKE_UP_INTO: join(h.out, ".slipway", "releases", "v1.4.4"),
      FAKE_UP_STATUS: "255",
    });
    assert.equal(status, 255);
    const dir = join(h.out, ".slipway", "releases", "v1.4.4");
    assert.ok(
      !existsSync(join(dir, "scan.skipped")),
      "after a failed up, a missing gate is not run",
    );
    const release = JSON.parse(readFileSync(join(dir, "release.json"), "utf8")) as Record<
      string,
      string
    >;
    assert.equal(release.digest, undefined, "the outputs still hold the previous release's digest");
    const result = JSON.parse(
      readFileSync(join(h.out, ".slipway", "ci", "prod", "report.json"), "utf8"),
    ) as GateResult;
    assert.equal(result.code, "TEST_FAILURE");
  });
});

// ---------------------------------------------------------------------------------------------------
// No secret on a command line (issue 9 item 7)

/**
 * Every secret the workflows hand the scripts, each with a value that cannot appear by chance. A
 * process's argv is readable by any user of the machine (`ps`), so none may reach one.
 */
const SECRETS: Record<string, string> = {
  DIGITALOCEAN_TOKEN: "dop_v1_SECRETdigitalocean0000000000000000000000000000000000000000",
  PULUMI_ACCESS_TOKEN: "pul-SECRETpulumi000000000000000000000000",
  PULUMI_CONFIG_PASSPHRASE: "SECRET-passphrase-0000",
  SLACK_WEBHOOK_URL: "https://hooks.slack.com/services/T000/B000/SECRETslack0000",
  SMTP_URL: "smtps://mailer:SECRETinurl@smtp.example.com:465",
  SMTP_USER: "SECRETsmtpuser",
  SMTP_PASSWORD: "SECRET-smtp-password",
  GH_TOKEN: "ghs_SECRETgithubtoken000000000000000000",
};

/** The real tools the scripts run, wrapped so that each records its argv before running. */
const WRAPPED = [
  "bash",
  "node",
  "base64",
  "tr",
  "mktemp",
  "rm",
  "mkdir",
  "cat",
  "head",
  "tee",
  "dirname",
  "xargs",
  "echo",
  "cp",
  "date",
];

/** Fakes that record their argv (and, for curl, the config it reads on stdin; for docker, its auth). */
const FAKE_TOOLS: Record<string, string> = {
  docker: `case $1 in pull) cp "$DOCKER_CONFIG/config.json" "$FAKE_STATE/docker-config.json" 2>/dev/null; exit 0 ;; esac; exit 0`,
  curl: `cat >>"$FAKE_STATE/curl-stdin.txt"; exit 0`,
  git: `for a in "$@"; do case $a in diff) for b in "$@"; do [[ $b == --quiet ]] && exit 1; done; echo "-old +new"; exit 0 ;; esac; done; exit 0`,
  gh: `echo https://github.com/acme/odoo/pull/7`,
  // The gate CLI (SLIPWAY_GATE): a pass for every gate, written where --json says.
  "slipway-gate": `out=""; while (($#)); do [[ $1 == --json ]] && out=$2; shift; done; [[ -n $out ]] && printf '{"gate":"fake","decision":"pass","summary":"ok","details":[],"figures":{}}' >"$out"; exit 0`,
};

interface ArgvRun {
  status: number | null;
  output: string;
  /** Every argv a tool was started with, one line each: `tool arg arg ...`. */
  argv: string[];
  state: string;
}

/**
 * Runs a CI script with PATH holding only recording tools (a tool missing from them fails the run,
 * so none escapes the record), and every secret in the environment.
 */
function runRecorded(
  script: string,
  args: string[],
  options: { config?: Record<string, string>; outputs?: Record<string, string> } = {},
  env: Record<string, string> = {},
): ArgvRun {
  const h = harness(options.config ?? {}, options.outputs ?? {});
  const argvLog = join(h.state, "argv.log");
  const record = `printf '%s\\n' "\${0##*/} $*" >>"$ARGV_LOG"`;
  // The recording pulumi fake calls tools too: the wrapped ones, from this PATH.
  writeFileSync(join(h.bin, "pulumi"), FAKE_PULUMI.replace("\n", `\n${record}\n`), { mode: 0o755 });
  for (const tool of WRAPPED) {
    const real = spawnSync("bash", ["-c", `type -P ${tool}`], { encoding: "utf8" }).stdout.trim();
    assert.ok(real !== "", `${tool} is installed`);
    writeFileSync(join(h.bin, tool), `#!/bin/bash\n${record}\nexec ${real} "$@"\n`, {
      mode: 0o755,
    });
  }
  for (const [tool, body] of Object.entries(FAKE_TOOLS)) {
    writeFileSync(join(h.bin, tool), `#!/bin/bash\n${record}\n${body}\n`, { mode: 0o755 });
  }
  const result = spawnSync("/bin/bash", [join(ROOT, "scripts", "ci", script), ...args], {
    encoding: "utf8",
    env: {
      PATH: h.bin,
      HOME: h.state,
      FAKE_STATE: h.state,
      ARGV_LOG: argvLog,
      SLIPWAY_OUT_ROOT: h.out,
      SLIPWAY_GATE: join(h.bin, "slipway-gate"),
      ...SECRETS,
      ...env,
    },
    timeout: 60_000,
  });
  return {
    status: result.status,
    output: `${result.stdout}${result.stderr}`,
    argv: existsSync(argvLog) ? readFileSync(argvLog, "utf8").trim().split("\n") : [],
    state: h.state,
  };
}

/** The argv lines holding a secret value, named by the secret (none is the only right answer). */
function leaks(argv: readonly string[]): string[] {
  return argv.flatMap((line) =>
    Object.entries(SECRETS)
      .filter(([, value]) => line.includes(value))
      .map(([name]) => `${name} in: ${line}`),
  );
}

describe("CI scripts put no secret on a command line (recording tools)", () => {
  const cleanup: string[] = [];
  afterEach(() => {
    for (const state of cleanup.splice(0)) {
      rmSync(join(state, ".."), { recursive: true, force: true });
    }
  });
  const recorded = (...args: Parameters<typeof runRecorded>): ArgvRun => {
    const run = runRecorded(...args);
    cleanup.push(run.state);
    assert.doesNotMatch(
      run.output,
      /command not found|No such file or directory/,
      "every tool is a recording one",
    );
    return run;
  };

  it("the workflows hand secrets to steps only through env (never an action input or a run line)", () => {
    for (const { file, id, job } of allJobs()) {
      for (const step of job.steps) {
        const exposed = JSON.stringify({ run: step.run, with: step.with });
        assert.doesNotMatch(exposed, /secrets\./, `${file}:${id}: ${step.name ?? ""}`);
      }
    }
  });

  it("the recording would catch a secret in an argv (a docker login with the token as user)", () => {
    const argv = [
      `docker login registry.digitalocean.com --username ${SECRETS.DIGITALOCEAN_TOKEN}`,
    ];
    assert.deepEqual(leaks(argv), [`DIGITALOCEAN_TOKEN in: ${argv[0]}`]);
  });

  it("weekly-check pulls from DOCR with the token in a private Docker config, not in docker's argv", () => {
    const run = recorded("weekly-check.sh", ["prod"], {
      config: { baseImage: `python:3.11@sha256:${"a".repeat(64)}` },
      outputs: { imageRef: `registry.digitalocean.com/acme/odoo@${DIGEST}` },
    });
    assert.equal(run.status, 0, run.output);
    assert.ok(
      run.argv.includes(`docker pull --quiet registry.digitalocean.com/acme/odoo@${DIGEST}`),
      run.argv.join("\n"),
    );
    assert.ok(!run.argv.some((l) => l.startsWith("docker login")), "no docker login");
    const config = JSON.parse(readFileSync(join(run.state, "docker-config.json"), "utf8")) as {
      auths: Record<string, { auth: string }>;
    };
    const auth = Buffer.from(config.auths["registry.digitalocean.com"].auth, "base64").toString();
    assert.equal(auth, `${SECRETS.DIGITALOCEAN_TOKEN}:${SECRETS.DIGITALOCEAN_TOKEN}`);
    assert.deepEqual(leaks(run.argv), []);
  });

  it("notify hands curl the Slack webhook and the SMTP credentials on stdin, not in its argv", () => {
    const run = recorded(
      "notify.sh",
      ["prod", "release"],
      {},
      {
        MAIL_FROM: "slipway@example.com",
        MAIL_TO: "ops@example.com",
      },
    );
    assert.equal(run.status, 0, run.output);
    const curls = run.argv.filter((l) => l.startsWith("curl "));
    assert.equal(curls.length, 2, run.argv.join("\n"));
    for (const line of curls) assert.match(line, /^curl --config - /);
    const stdin = readFileSync(join(run.state, "curl-stdin.txt"), "utf8");
    assert.ok(stdin.includes(`url = "${SECRETS.SLACK_WEBHOOK_URL}"`), stdin);
    assert.ok(stdin.includes(`url = "${SECRETS.SMTP_URL}"`), stdin);
    assert.ok(stdin.includes(`user = "${SECRETS.SMTP_USER}:${SECRETS.SMTP_PASSWORD}"`), stdin);
    assert.deepEqual(leaks(run.argv), []);
  });

  it("config-pr pushes with a credential helper reading GH_TOKEN, not a token in the remote URL", () => {
    const body = join(tmpdir(), `slipway-pr-body-${process.pid}.md`);
    writeFileSync(body, "why\n");
    try {
      const run = recorded(
        "config-pr.sh",
        ["prod", "rollback/prod", "Roll back", body],
        {},
        {
          GITHUB_REPOSITORY: "acme/odoo",
        },
      );
      assert.equal(run.status, 0, run.output);
      const push = run.argv.find((l) => l.startsWith("git ") && l.includes(" push "));
      assert.ok(push !== undefined, run.argv.join("\n"));
      assert.match(
        push,
        /https:\/\/github\.com\/acme\/odoo\.git HEAD:refs\/heads\/rollback\/prod$/,
      );
      assert.match(push, /credential\.helper=!f\(\).*"\$GH_TOKEN"/);
      assert.deepEqual(leaks(run.argv), []);
    } finally {
      rmSync(body, { force: true });
    }
  });

  for (const [script, args, config] of [
    ["release.sh", ["dev"], { "release.version": "v1.5.0-dev" }],
    ["release.sh", ["prod"], { "release.version": "v1.5.0" }],
    ["rollback.sh", ["prod", "v1.4.2"], { "release.version": "v1.5.0" }],
    ["weekly-rebuild.sh", ["dev"], { "release.version": "v1.5.0-dev" }],
  ] as const) {
    it(`${script} ${args.join(" ")} passes no secret in any argv`, () => {
      const run = recorded(script, [...args], { config: { ...config } });
      assert.ok(
        run.argv.some((l) => l.startsWith("pulumi ")),
        run.argv.join("\n"),
      );
      assert.deepEqual(leaks(run.argv), []);
    });
  }
});

// ---------------------------------------------------------------------------------------------------
// Promotion: prod releases what dev released (issue 8 item 6)

describe("CI release: prod promotes dev's release of the tagged commit (recording pulumi)", () => {
  const COMMIT = "3f9c2ab" + "0".repeat(33);
  const OTHER = "9e8d7c6" + "1".repeat(33);
  const READY = JSON.stringify({ verdict: "READY", version: "v1.5.0-dev-3f9c2ab" }, null, 2);
  let made: Harness[] = [];
  afterEach(() => {
    for (const h of made) rmSync(join(h.state, ".."), { recursive: true, force: true });
    made = [];
  });
  const make = (devOutputs: Record<string, string>): Harness => {
    const outputs: Record<string, string> = {
      "prod/releaseTag": "v1.4.3",
      "prod/repository": "registry.digitalocean.com/acme/odoo",
      "prod/imageDigest": DIGEST,
    };
    for (const [k, v] of Object.entries(devOutputs)) outputs[`dev/${k}`] = v;
    const h = harness({ "release.version": "v1.5.0", "release.promoteFrom": "dev" }, outputs);
    made.push(h);
    return h;
  };
  const ups = (calls: string[]) => calls.filter((c) => c.startsWith("up "));

  it("promotes when dev's sourceCommit is the tagged commit and its report is READY", () => {
    const h = make({ sourceCommit: COMMIT, releaseReport: READY, imageDigest: DIGEST });
    const { status, output, calls } = run(h, "release.sh", ["prod"], {
      GITHUB_SHA: COMMIT,
      EXPECT_VERSION: "v1.5.0",
    });
    assert.equal(status, 0, output);
    assert.deepEqual(ups(calls), ["up --yes --non-interactive --diff --stack prod"]);
    assert.match(
      output,
      new RegExp(`promoting to prod what dev released from ${COMMIT} \\(READY\\)`),
    );
    const read = calls.indexOf("stack output --stack dev sourceCommit");
    assert.ok(read >= 0 && read < calls.indexOf(ups(calls)[0]), calls.join("\n"));
    // A promoting stack records no commit of its own, and its report says what it did not run.
    assert.equal(configOf(h, "release.commit"), undefined);
    const dir = join(h.out, ".slipway", "releases", "v1.5.0");
    assert.match(readFileSync(join(dir, "test.skipped"), "utf8"), /^not run on a promotion: dev/);
    // The report is a promotion's: it needs scan, promote and health (not re-run: unchanged).
    const release = JSON.parse(readFileSync(join(dir, "release.json"), "utf8")) as Record<
      string,
      string
    >;
    assert.deepEqual(
      [release.mode, release.promotedFrom, release.image, release.digest],
      ["promotion", "dev", "registry.digitalocean.com/acme/odoo:v1.5.0", DIGEST],
    );
    for (const gate of ["scan", "promote", "health"]) {
      assert.match(
        readFileSync(join(dir, `${gate}.skipped`), "utf8"),
        /^not re-run: nothing it checks changed/,
        gate,
      );
    }
    assert.ok(!existsSync(join(dir, "tag-guard.skipped")), "no tag-guard any more");
    const report = JSON.parse(
      readFileSync(join(h.out, ".slipway", "ci", "prod", "report.json"), "utf8"),
    ) as GateResult;
    assert.equal(report.figures.readiness, "READY");
    assert.match(output, /^readiness=READY$/m);
  });

  it("refuses, before pulumi up, when dev's current release is another commit", () => {
    const h = make({ sourceCommit: OTHER, releaseReport: READY });
    const { status, output, calls } = run(h, "release.sh", ["prod"], { GITHUB_SHA: COMMIT });
    assert.equal(status, 1);
    assert.match(
      output,
      new RegExp(
        `dev's current release was built from commit ${OTHER}, not ${COMMIT} .*Wait for the dev release of ${COMMIT}`,
      ),
    );
    assert.deepEqual(ups(calls), []);
  });

  it("refuses when dev's release of the commit is NOT READY", () => {
    const h = make({
      sourceCommit: COMMIT,
      releaseReport: JSON.stringify({ verdict: "NOT READY" }),
    });
    const { status, output, calls } = run(h, "release.sh", ["prod"], { GITHUB_SHA: COMMIT });
    assert.equal(status, 1);
    assert.match(output, /dev's release of \w+ is NOT READY, not READY: read dev's release report/);
    assert.deepEqual(ups(calls), []);
  });

  it("reads a releaseReport exported as JSON text too", () => {
    const h = make({ sourceCommit: COMMIT, releaseReport: JSON.stringify(READY) });
    const { status, output } = run(h, "release.sh", ["prod"], { GITHUB_SHA: COMMIT });
    assert.equal(status, 0, output);
  });

  it("refuses when dev has released nothing yet (no sourceCommit)", () => {
    const h = make({});
    const { status, output, calls } = run(h, "release.sh", ["prod"], { GITHUB_SHA: COMMIT });
    assert.equal(status, 1);
    assert.match(output, /stack dev has no sourceCommit output .*Release \w+ on dev first/);
    assert.deepEqual(ups(calls), []);
  });

  it("dev records the commit it releases (release.commit) before its pulumi up", () => {
    const h = harness({ "release.version": "v1.5.0-dev" }, { releaseTag: "v1.4.3" });
    made.push(h);
    const { status, output, calls } = run(h, "release.sh", ["dev"], {
      GITHUB_SHA: COMMIT,
      VERSION_SUFFIX: "3f9c2ab",
    });
    assert.equal(status, 0, output);
    const set = calls.indexOf(`config set --stack dev --path release.commit ${COMMIT}`);
    assert.ok(set >= 0 && set < calls.indexOf(ups(calls)[0]), calls.join("\n"));
    assert.ok(!calls.some((c) => c.includes("sourceCommit")), "dev checks no other stack");
  });

  it("a rollback of prod promotes nothing: no check of dev", () => {
    const h = make({ sourceCommit: OTHER, releaseReport: READY });
    const { calls } = run(h, "rollback.sh", ["prod", "v1.4.2"], { GITHUB_SHA: COMMIT });
    assert.ok(!calls.some((c) => c.includes("--stack dev")), calls.join("\n"));
    assert.equal(ups(calls).length, 1);
  });

  it("the weekly rebuild of prod promotes dev's rebuild under a new prod version, building nothing", () => {
    const h = make({ sourceCommit: COMMIT, releaseReport: READY });
    const { status, output, calls } = run(h, "weekly-rebuild.sh", ["prod"], {
      GITHUB_SHA: COMMIT,
      BASE_NEXT: `python:3.11@sha256:${"d".repeat(64)}`,
    });
    assert.equal(status, 0, output);
    assert.match(configOf(h, "release.version") ?? "", /^v1\.5\.0-rebuild\.\d{8}$/);
    assert.equal(configOf(h, "app.buildArgs.SLIPWAY_REBUILD"), undefined, "no rebuild arg");
    assert.equal(configOf(h, "baseImage"), undefined, "the base is dev's business");
    assert.ok(calls.includes("stack output --stack dev sourceCommit"), calls.join("\n"));
  });

  it("the weekly rebuild of prod refuses when dev's release is not this run's commit", () => {
    const h = make({ sourceCommit: OTHER, releaseReport: READY });
    const { status, calls } = run(h, "weekly-rebuild.sh", ["prod"], { GITHUB_SHA: COMMIT });
    assert.equal(status, 1);
    assert.deepEqual(ups(calls), []);
  });
});

describe("CI workflows: builders and promotion", () => {
  it("sets up a docker-container buildx builder before every pulumi up that builds, and only there", () => {
    for (const { file, id, job } of allJobs()) {
      const runs = job.steps.map((s) => s.run ?? "").join("\n");
      const builds = /scripts\/ci\/(release|weekly-rebuild)\.sh dev\b/.test(runs);
      const index = job.steps.findIndex((s) => s.uses?.startsWith("docker/setup-buildx-action@"));
      if (!builds) {
        assert.equal(index, -1, `${file}:${id} builds nothing (prod promotes)`);
        continue;
      }
      assert.ok(index >= 0, `${file}:${id}`);
      assert.equal(job.steps[index].with?.driver, "docker-container", `${file}:${id}`);
      const up = job.steps.findIndex((s) => /scripts\/ci\/\S+\.sh dev\b/.test(s.run ?? ""));
      assert.ok(index < up, `${file}:${id}: the builder comes before the release`);
    }
  });

  it("the prod release job promotes (release.sh prod, no build) under the production environment", () => {
    const prod = workflow("release.yml").jobs.prod;
    const step = prod.steps.find((s) => s.run === "scripts/ci/release.sh prod");
    assert.match(step?.name ?? "", /promotes dev's release of this commit/);
    assert.equal(environmentOf(prod), "production");
  });
});
