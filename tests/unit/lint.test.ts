import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { lintDockerfile, parseBuildArgs } from "../../gates/lint";
import { isRoot } from "../../gates/lint/checks";
import { expandVariables } from "../../gates/lint/expand";
import { buildModel } from "../../gates/lint/model";
import type { GateResult } from "../../gates/result";
import { runCli } from "./helpers/registryGates";

const FIXTURES = join(__dirname, "..", "fixtures", "dockerfiles");
const DIGEST = "sha256:9e25f400253a5fa3191813d6a67eb801ca1e6f012b3bd2588fa6920b59e3eba6";

interface Options {
  requireDigest?: boolean;
  targets?: string[];
  buildArgs?: Record<string, string>;
}

function lintText(content: string, options: Options = {}): GateResult {
  return lintDockerfile(
    content,
    { requireDigest: options.requireDigest ?? false, targets: options.targets ?? [] },
    new Map(Object.entries(options.buildArgs ?? {})),
  );
}

function lintFixture(name: string, options: Options = {}): GateResult {
  return lintText(readFileSync(join(FIXTURES, name), "utf8"), options);
}

/** `CODE@line` for every finding, in report order. */
function codes(result: GateResult): string[] {
  return result.findings.map((f) => `${String(f.code)}@${f.line ?? "-"}`);
}

describe("lint gate: bases", () => {
  it("passes the Odoo multi-stage Dockerfile whose ARG BASE_IMAGE is pinned", () => {
    const result = lintFixture("multistage.Dockerfile", {
      requireDigest: true,
      targets: ["builder", "runtime"],
    });
    assert.equal(result.verdict, "pass", result.details.join("\n"));
    assert.equal(result.figures.finalUser, "odoo");
    assert.equal(result.figures.externalBases, 2);
  });

  it("blocks unpinned bases with BASE_IMAGE_UNPINNED under --require-digest, naming each line", () => {
    const result = lintFixture("unpinned.Dockerfile", { requireDigest: true });
    assert.equal(result.verdict, "block");
    assert.equal(result.code, "BASE_IMAGE_UNPINNED");
    assert.deepEqual(codes(result), ["BASE_IMAGE_UNPINNED@1", "BASE_IMAGE_UNPINNED@4"]);
    assert.match(
      result.summary,
      /^line 1: FROM python:3\.11-slim-bullseye \(stage builder\) is not pinned/,
    );
  });

  it("only warns on unpinned bases without --require-digest", () => {
    const result = lintFixture("unpinned.Dockerfile");
    assert.equal(result.verdict, "warn");
    assert.equal(result.code, "BASE_IMAGE_UNPINNED");
  });

  it("warns with BASE_IMAGE_LATEST on untagged and :latest bases, even when pinned", () => {
    const result = lintFixture("latest.Dockerfile");
    assert.equal(result.verdict, "warn");
    assert.deepEqual(codes(result), [
      "BASE_IMAGE_UNPINNED@1",
      "BASE_IMAGE_LATEST@1",
      "BASE_IMAGE_LATEST@4",
    ]);
    assert.match(String(result.findings[1]?.message), /has no tag/);
  });

  it("checks the base after substituting a --build-arg for an ARG without default", () => {
    const pinned = lintFixture("arg-no-default.Dockerfile", {
      requireDigest: true,
      buildArgs: { BASE_IMAGE: `python:3.11@${DIGEST}` },
    });
    // The second FROM uses ${REGISTRY} and ${DEBIAN_TAG:-bookworm}: unpinned after substitution.
    assert.deepEqual(codes(pinned), ["BASE_IMAGE_UNPINNED@6"]);
    assert.match(
      String(pinned.findings[0]?.message),
      /\(= 127\.0\.0\.1:5000\/base\/debian:bookworm\)/,
    );
    const overridden = lintFixture("arg-no-default.Dockerfile", {
      requireDigest: true,
      buildArgs: {
        BASE_IMAGE: `python:3.11@${DIGEST}`,
        REGISTRY: "registry.digitalocean.com/acme",
        DEBIAN_TAG: `trixie@${DIGEST}`,
      },
    });
    // DEBIAN_TAG is not declared by an ARG: Docker ignores it, so the default applies.
    assert.deepEqual(codes(overridden), ["BASE_IMAGE_UNPINNED@6"]);
    assert.match(
      String(overridden.findings[0]?.message),
      /registry\.digitalocean\.com\/acme\/base\/debian:bookworm/,
    );
    assert.match(overridden.details.join("\n"), /not declared by any ARG \(ignored\): DEBIAN_TAG/);
  });

  it("blocks with DOCKERFILE_SYNTAX when FROM expands to nothing, naming the missing build arg", () => {
    const result = lintFixture("arg-no-default.Dockerfile");
    assert.equal(result.code, "DOCKERFILE_SYNTAX");
    assert.match(result.summary, /^line 3: .*--build-arg BASE_IMAGE=/);
  });

  it("does not treat FROM scratch or FROM <earlier stage> as a base", () => {
    const result = lintFixture("scratch.Dockerfile", { requireDigest: true });
    assert.equal(result.verdict, "pass", result.details.join("\n"));
    assert.equal(result.figures.externalBases, 1);
    const stages = buildModel(
      readFileSync(join(FIXTURES, "user-inherited.Dockerfile"), "utf8"),
      new Map(),
    );
    assert.deepEqual(
      stages.stages.map((s) => s.base.kind),
      ["external", "stage", "stage", "stage"],
    );
  });

  it("treats a FROM naming a later stage as an external image", () => {
    const result = lintText(
      `FROM runtime AS builder\nUSER app\nFROM python:3.11@${DIGEST} AS runtime\nUSER app\n`,
      { requireDigest: true },
    );
    assert.deepEqual(codes(result), ["BASE_IMAGE_UNPINNED@1", "BASE_IMAGE_LATEST@1"]);
  });

  it("reports a malformed base reference as DOCKERFILE_SYNTAX", () => {
    const result = lintText("ARG TAG=3.11\nFROM python:${TAG}@sha256:abc\nUSER app\n");
    assert.equal(result.code, "DOCKERFILE_SYNTAX");
    assert.match(result.summary, /not a digest/);
  });
});

describe("lint gate: stages and users", () => {
  it("blocks with MISSING_STAGE naming the stages that exist", () => {
    const result = lintFixture("multistage.Dockerfile", { targets: ["builder", "test"] });
    assert.equal(result.code, "MISSING_STAGE");
    // With a target missing the shipped stage is the last one (runtime, USER odoo): no root finding.
    assert.deepEqual(codes(result), ["MISSING_STAGE@-"]);
    assert.match(result.summary, /target "test" is not a stage .*\(stages: builder, runtime\)/);
  });

  it("blocks with RUNS_AS_ROOT when the final stage has no USER over an external base", () => {
    const result = lintFixture("root-final.Dockerfile");
    assert.equal(result.code, "RUNS_AS_ROOT");
    assert.deepEqual(codes(result), ["RUNS_AS_ROOT@5"]);
    assert.match(result.summary, /the final stage runtime runs as root: no USER in stage runtime/);
  });

  it("blocks with RUNS_AS_ROOT when the last USER is uid 0", () => {
    const result = lintFixture("user-root.Dockerfile");
    assert.deepEqual(codes(result), ["RUNS_AS_ROOT@5"]);
  });

  it("inherits USER through FROM <stage>, case-insensitively", () => {
    const result = lintFixture("user-inherited.Dockerfile", { targets: ["runtime"] });
    assert.equal(result.verdict, "pass", result.details.join("\n"));
    assert.equal(result.figures.finalUser, "app");
  });

  it("checks the last stage when no target is named", () => {
    const result = lintFixture("user-inherited.Dockerfile");
    assert.equal(result.code, "RUNS_AS_ROOT");
    assert.match(result.summary, /final stage debug runs as root: USER root at line 13/);
  });

  it("inherits root from an earlier stage without USER", () => {
    const result = lintFixture("inherited-root.Dockerfile");
    assert.equal(result.code, "RUNS_AS_ROOT");
    assert.match(result.summary, /inherited from stage base/);
  });

  it("resolves USER from a stage ARG that inherits the global default, or a build arg", () => {
    const text = "ARG U=app\nFROM python:3.11@" + DIGEST + "\nARG U\nUSER ${U}\n";
    assert.equal(lintText(text).figures.finalUser, "app");
    assert.equal(lintText(text, { buildArgs: { U: "root" } }).code, "RUNS_AS_ROOT");
    const env = "FROM python:3.11@" + DIGEST + "\nENV APP_USER=svc\nUSER ${APP_USER}:${APP_USER}\n";
    assert.equal(lintText(env).figures.finalUser, "svc:svc");
  });

  it("recognises root user spellings", () => {
    for (const user of ["root", "0", "0:0", "root:staff", "000", ""])
      assert.equal(isRoot(user), true, user);
    for (const user of ["app", "1000", "1000:0", "rooty", "10"])
      assert.equal(isRoot(user), false, user);
  });
});

describe("lint gate: syntax", () => {
  it("reports every parser error with its line as DOCKERFILE_SYNTAX", () => {
    const result = lintFixture("syntax.Dockerfile");
    assert.equal(result.verdict, "block");
    assert.equal(result.code, "DOCKERFILE_SYNTAX");
    assert.deepEqual(codes(result), [
      "DOCKERFILE_SYNTAX@3",
      "DOCKERFILE_SYNTAX@4",
      "DOCKERFILE_SYNTAX@5",
      "DOCKERFILE_SYNTAX@6",
    ]);
    assert.match(
      result.details.join("\n"),
      /line 4: DOCKERFILE_SYNTAX \(error\) Unknown instruction: COPPY/,
    );
  });

  it("blocks an empty Dockerfile", () => {
    const result = lintText("");
    assert.equal(result.code, "DOCKERFILE_SYNTAX");
    assert.match(result.summary, /No source image/);
  });

  it("reports style warnings without blocking, and errors before them decide", () => {
    const result = lintText(`from python:3.11@${DIGEST}\nMAINTAINER me\nUSER app\n`);
    assert.equal(result.verdict, "warn");
    assert.equal(result.code, "DOCKERFILE_SYNTAX");
    const mixed = lintText(`FROM python:3.11\nmaintainer me\n`, { requireDigest: true });
    assert.equal(mixed.verdict, "block");
    assert.deepEqual(
      codes(mixed),
      [
        "BASE_IMAGE_UNPINNED@1",
        "DOCKERFILE_SYNTAX@2",
        "DOCKERFILE_SYNTAX@2",
        "RUNS_AS_ROOT@1",
      ].sort((a, b) => Number(a.split("@")[1]) - Number(b.split("@")[1])),
    );
    assert.equal(mixed.code, "BASE_IMAGE_UNPINNED");
  });
});

describe("lint gate CLI", () => {
  it("exits 1 with the first blocking code on the first line", async () => {
    const run = await runCli([
      "lint",
      "--dockerfile",
      join(FIXTURES, "unpinned.Dockerfile"),
      "--require-digest",
      "--target",
      "builder",
      "--target",
      "runtime",
    ]);
    assert.equal(run.code, 1);
    assert.match(run.stdout, /^BASE_IMAGE_UNPINNED: line 1: /);
  });

  it("exits 0 on warnings only", async () => {
    const run = await runCli(["lint", "--dockerfile", join(FIXTURES, "latest.Dockerfile")]);
    assert.equal(run.code, 0);
    assert.match(run.stdout, /^BASE_IMAGE_UNPINNED: /);
  });

  it("fails closed on a missing Dockerfile and rejects a malformed --build-arg", async () => {
    const missing = await runCli(["lint", "--dockerfile", join(FIXTURES, "nope.Dockerfile")]);
    assert.equal(missing.code, 1);
    assert.match(missing.stdout, /^DOCKERFILE_SYNTAX: cannot read the Dockerfile/);
    const bad = await runCli([
      "lint",
      "--dockerfile",
      join(FIXTURES, "multistage.Dockerfile"),
      "--build-arg",
      "NOVALUE",
    ]);
    assert.equal(bad.code, 2);
    assert.equal((await runCli(["lint"])).code, 2);
  });
});

describe("Dockerfile variable expansion", () => {
  const vars: Record<string, string> = { A: "python", EMPTY: "", TAG: "3.11" };
  const lookup = (name: string): string | undefined => vars[name];

  for (const [text, expected, unset] of [
    ["$A:$TAG", "python:3.11", []],
    ["${A}:${TAG}-slim", "python:3.11-slim", []],
    ["${MISSING:-debian}", "debian", []],
    ["${EMPTY:-x}", "x", []],
    ["${EMPTY-x}", "", []],
    ["${A:+set}", "set", []],
    ["${MISSING:+set}", "", []],
    ["${MISSING:-${A}:${TAG}}", "python:3.11", []],
    ["${MISSING}/app", "/app", ["MISSING"]],
    ["\\$A", "$A", []],
    ["cost $5", "cost $5", []],
  ] as const) {
    it(`expands ${JSON.stringify(text)} to ${JSON.stringify(expected)}`, () => {
      assert.deepEqual(expandVariables(text, lookup), { value: expected, unset: [...unset] });
    });
  }

  it("parses --build-arg values, the last one winning", () => {
    assert.deepEqual(
      [...parseBuildArgs(["A=1", "B=x=y", "A=2", "C="])],
      [
        ["A", "2"],
        ["B", "x=y"],
        ["C", ""],
      ],
    );
  });
});
