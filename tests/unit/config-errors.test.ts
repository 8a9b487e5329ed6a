import assert from "node:assert/strict";
import { z } from "zod";
import {
  closestKey,
  configPath,
  describeIssue,
  formatProblems,
  keysAt,
  problemsFromIssues,
  showValue,
  valueAt,
} from "../../stacks/errors";
import { baseConfigSchema } from "../../stacks/schema";

/** The problem lines zod issues of `schema` on `input` turn into. */
function lines(schema: z.ZodType, input: unknown): string[] {
  const result = schema.safeParse(input);
  assert.ok(!result.success, "expected the input to be rejected");
  return formatProblems(
    problemsFromIssues(result.error.issues, input, (path) => keysAt(schema, path)),
  );
}

describe("config errors: paths in Pulumi's form", () => {
  it("writes the top-level key after the namespace, then dots and indexes", () => {
    assert.equal(configPath(["scan", "severity", 1]), "slipway:scan.severity[1]");
    assert.equal(configPath(["app", "port"]), "slipway:app.port");
    assert.equal(configPath(["baseImage"]), "slipway:baseImage");
    assert.equal(configPath(["deploy", "alerts", "emails", 0]), "slipway:deploy.alerts.emails[0]");
  });

  it("quotes keys --path could not read after a dot", () => {
    assert.equal(configPath(["tests", "env", "1BAD"]), 'slipway:tests.env["1BAD"]');
    assert.equal(configPath(["app", "buildArgs", "a.b"]), 'slipway:app.buildArgs["a.b"]');
    assert.equal(
      configPath(["secrets", "slack", "odoo-releases"]),
      "slipway:secrets.slack.odoo-releases",
    );
  });

  it("takes another namespace and an empty path", () => {
    assert.equal(configPath(["token"], "digitalocean"), "digitalocean:token");
    assert.equal(configPath([]), "slipway:");
  });
});

describe("config errors: messages from zod issues", () => {
  const schema = z.strictObject({
    port: z.number().min(1).max(65535),
    severity: z.array(z.enum(["HIGH", "CRITICAL"])).min(1),
    name: z.string().min(1),
    email: z.email(),
    tag: z.string().regex(/^v/, { message: "expected a tag like v1" }),
    env: z.record(z.string().regex(/^[A-Z]+$/, { message: "expected upper case" }), z.string()),
    nested: z.strictObject({ enabled: z.boolean() }),
  });
  const valid = {
    port: 80,
    severity: ["HIGH"],
    name: "x",
    email: "a@example.com",
    tag: "v1",
    env: {},
    nested: { enabled: true },
  };

  it("names the enum's options and the value found", () => {
    assert.deepEqual(lines(schema, { ...valid, severity: ["HIGH", "SEVERE"] }), [
      'slipway:severity[1]: expected one of HIGH, CRITICAL; got "SEVERE"',
    ]);
  });

  it("says missing for an absent key and the type found otherwise", () => {
    const withoutName: Record<string, unknown> = { ...valid };
    delete withoutName.name;
    assert.deepEqual(lines(schema, withoutName), ["slipway:name: missing: expected text"]);
    assert.deepEqual(lines(schema, { ...valid, port: "80x" }), [
      'slipway:port: expected a number, got "80x"',
    ]);
    assert.deepEqual(lines(schema, { ...valid, nested: [] }), [
      "slipway:nested: expected an object, got a list",
    ]);
    assert.deepEqual(lines(schema, { ...valid, nested: { enabled: "yes" } }), [
      'slipway:nested.enabled: expected true or false, got "yes"',
    ]);
  });

  it("states ranges with their bound", () => {
    assert.deepEqual(lines(schema, { ...valid, port: 0 }), [
      "slipway:port: expected a number >= 1, got 0",
    ]);
    assert.deepEqual(lines(schema, { ...valid, port: 70000 }), [
      "slipway:port: expected a number <= 65535, got 70000",
    ]);
    assert.deepEqual(lines(schema, { ...valid, severity: [] }), [
      "slipway:severity: must not be empty: expected at least one item",
    ]);
    assert.deepEqual(lines(schema, { ...valid, name: "" }), ["slipway:name: must not be empty"]);
  });

  it("keeps the schema's own words for formats, and zod's format name otherwise", () => {
    assert.deepEqual(lines(schema, { ...valid, tag: "1" }), [
      'slipway:tag: expected a tag like v1, got "1"',
    ]);
    assert.deepEqual(lines(schema, { ...valid, email: "ops" }), [
      'slipway:email: expected a valid email, got "ops"',
    ]);
  });

  it("names a bad record key at its own path", () => {
    assert.deepEqual(lines(schema, { ...valid, env: { lower: "x" } }), [
      "slipway:env.lower: invalid name: expected upper case",
    ]);
  });

  it("reports each unknown key on its own line, with a guess when one is close", () => {
    assert.deepEqual(lines(schema, { ...valid, prot: 1, zzzzzz: 2 }), [
      "slipway:prot: unknown key: did you mean port?",
      "slipway:zzzzzz: unknown key: expected one of port, severity, name, email, tag, env, nested",
    ]);
    assert.deepEqual(lines(schema, { ...valid, nested: { enabeld: true } }), [
      "slipway:nested.enabeld: unknown key: did you mean enabled?",
      "slipway:nested.enabled: missing: expected true or false",
    ]);
  });

  it("sorts by path and drops repeated lines", () => {
    assert.deepEqual(
      formatProblems([
        { path: ["scan", "enabled"], message: "b" },
        { path: ["app", "port"], message: "a" },
        { path: ["scan", "enabled"], message: "b" },
      ]),
      ["slipway:app.port: a", "slipway:scan.enabled: b"],
    );
  });

  it("passes custom (rule) messages through unchanged", () => {
    const refined = z.object({ a: z.number() }).superRefine((_v, ctx) => {
      ctx.addIssue({ code: "custom", path: ["a"], message: "prod requires more" });
    });
    assert.deepEqual(lines(refined, { a: 1 }), ["slipway:a: prod requires more"]);
  });

  it("describes a union that matched nothing without zod's wording", () => {
    const union = z.union([z.number(), z.boolean()]);
    const result = union.safeParse("x");
    assert.ok(!result.success);
    assert.equal(describeIssue(result.error.issues[0], "x"), "matches none of the accepted forms");
  });
});

describe("config errors: helpers", () => {
  it("shows values short, and never a whole object", () => {
    assert.equal(showValue("abc"), '"abc"');
    assert.equal(showValue("x".repeat(100)).length, 62);
    assert.equal(showValue({ password: "hunter2" }), "an object");
    assert.equal(showValue([1]), "a list");
    assert.equal(showValue(undefined), "nothing");
    assert.equal(showValue(null), "null");
    assert.equal(showValue(false), "false");
  });

  it("finds values by path and nothing past a leaf", () => {
    assert.equal(valueAt({ a: { b: [1, 2] } }, ["a", "b", 1]), 2);
    assert.equal(valueAt({ a: 1 }, ["a", "b"]), undefined);
  });

  it("guesses only close keys", () => {
    assert.equal(closestKey("prot", ["port", "name"]), "port");
    assert.equal(closestKey("healthpath", ["healthPath", "port"]), "healthPath");
    assert.equal(closestKey("coverage", ["coverageMin", "command"]), "coverageMin");
    assert.equal(closestKey("memory", ["memPercent", "restarts"]), undefined);
    assert.equal(closestKey("xyz", ["port"]), undefined);
  });

  it("lists the keys the schema accepts at a path, through defaults and arrays", () => {
    assert.deepEqual(keysAt(baseConfigSchema, ["deploy", "healthCheck"]), [
      "initialDelaySeconds",
      "periodSeconds",
      "timeoutSeconds",
      "failureThreshold",
      "successThreshold",
    ]);
    assert.ok(keysAt(baseConfigSchema, [])?.includes("baseImage"));
    assert.equal(keysAt(baseConfigSchema, ["app", "port"]), undefined);
    assert.equal(keysAt(baseConfigSchema, ["nope"]), undefined);
  });
});
