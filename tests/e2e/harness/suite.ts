import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AUTH_REGISTRY, OPEN_REGISTRY, PROJECT_ROOT, script } from "./environment";
import { removeDeployed } from "./pipeline";

/**
 * The suite's environment, brought up once before the first test and torn down after the last
 * (mocha root hooks: every e2e test file imports this module). Each script is idempotent and says
 * what it does; what they started they stop, by PID (scripts/e2e/*.sh); the containers the suite
 * deployed are removed by ID.
 *
 * SLIPWAY_E2E_KEEP=1 leaves the engine and registries running afterwards (for `npm run bench`, or
 * to run the suite again quickly); scripts/e2e/run.sh stops them in any case.
 */

export interface SuiteState {
  /** The base image, pinned by digest, as scripts/e2e/base-image.sh printed it. */
  baseRef: string;
  /** A temporary directory of the suite's own: gate results, changed copies of the apps. */
  workDir: string;
  /**
   * This run's namespace in both registries, like a DOCR registry name (`registry.digitalocean.com/
   * <name>/<repo>`): every run releases `1.0.0` afresh while the registries (and the base image in
   * them) live on between runs.
   */
  namespace: string;
  /** `127.0.0.1:5000/<namespace>` and `127.0.0.1:5001/<namespace>`: what a release's `registry` is. */
  openRegistry: string;
  authRegistry: string;
}

export const suite: SuiteState = {
  baseRef: "",
  workDir: "",
  namespace: "",
  openRegistry: "",
  authRegistry: "",
};

/** The repository key of an app in {@link registryContent}'s view: `<namespace>/<app>`. */
export function repoKey(app: { name: string }): string {
  return `${suite.namespace}/${app.name}`;
}

function runScript(name: string, ...args: string[]): string {
  const started = Date.now();
  const stdout = execFileSync("bash", [script(name), ...args], {
    cwd: PROJECT_ROOT,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  process.stderr.write(`      (${name} ${args.join(" ")}: ${Date.now() - started} ms)\n`);
  return stdout;
}

export function bringUp(): void {
  if (process.env.SLIPWAY_E2E_SKIP_INSTALL !== "1") runScript("install.sh");
  runScript("docker.sh", "start");
  runScript("registry.sh", "start");
  const printed = runScript("base-image.sh").trim().split("\n");
  suite.baseRef = printed[printed.length - 1];
  // bin/slipway-gate runs dist/: compile the gates as they are now.
  execFileSync("npm", ["run", "--silent", "build"], { cwd: PROJECT_ROOT, stdio: "inherit" });
  suite.workDir = mkdtempSync(join(tmpdir(), "slipway-e2e-run-"));
  suite.namespace = `e2e-${Date.now().toString(36)}`;
  suite.openRegistry = `${OPEN_REGISTRY}/${suite.namespace}`;
  suite.authRegistry = `${AUTH_REGISTRY}/${suite.namespace}`;
}

export async function tearDown(): Promise<void> {
  await removeDeployed();
  if (suite.workDir !== "") rmSync(suite.workDir, { recursive: true, force: true });
  if (process.env.SLIPWAY_E2E_KEEP === "1") return;
  runScript("registry.sh", "stop");
  runScript("docker.sh", "stop");
}

/**
 * A copy of an app's build context with one file changed (the second release of the suite, and the
 * "different content under an existing version" of TAG_IMMUTABLE). Returns the copy's directory.
 */
export function changedCopy(
  context: string,
  file: string,
  change: (text: string) => string,
  name: string,
): string {
  const dir = join(suite.workDir, name);
  cpSync(join(PROJECT_ROOT, context), dir, { recursive: true });
  const path = join(dir, file);
  const before = readFileSync(path, "utf8");
  const after = change(before);
  if (after === before) throw new Error(`changedCopy: ${file} unchanged`);
  writeFileSync(path, after);
  return dir;
}
