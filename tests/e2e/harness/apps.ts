/**
 * The sample apps under examples/, described by the same facts a stack config gives Slipway
 * (`app.*`, `tests.*`, `smoke.*`): Slipway is generic, each is just "an app".
 */
export interface AppUnderTest {
  /** `app.name`: the registry repository and the local container's name. */
  name: string;
  /** `app.context` / `app.dockerfile`, relative to the project root. */
  context: string;
  dockerfile: string;
  /** `app.port` / `app.healthPath`. */
  port: number;
  healthPath: string;
  /** `tests.command` / `tests.coverageMin`. */
  testCommand: string;
  coverageMin: number;
  /** `app.versionCommand` / `app.expectVersion`. */
  versionCommand?: string;
  expectVersion?: string;
  /** `app.requiredPaths` / `app.requiredImports`. */
  requiredPaths: string[];
  requiredImports: string[];
  /** `app.bootTimeout`, seconds. */
  bootTimeout: number;
  /** `deploy.localPort`: where the local target publishes it on loopback. */
  localPort: number;
}

/** The Odoo-shaped app of SOP-BUILD-001 (examples/odoo). */
export const ODOO: AppUnderTest = {
  name: "odoo",
  context: "examples/odoo",
  dockerfile: "examples/odoo/Dockerfile",
  port: 8069,
  healthPath: "/web/health",
  testCommand: "pytest custom_addons/ --cov",
  coverageMin: 75,
  versionCommand: "odoo --version",
  expectVersion: "Odoo Server 16.0",
  requiredPaths: ["/mnt/extra-addons"],
  requiredImports: ["odoo_server"],
  bootTimeout: 30,
  localPort: 18069,
};

/** The FastAPI service of the second team's build report (examples/fastapi). */
export const FASTAPI: AppUnderTest = {
  name: "fastapi",
  context: "examples/fastapi",
  dockerfile: "examples/fastapi/Dockerfile",
  port: 8000,
  healthPath: "/health",
  testCommand: "pytest tests/ --cov",
  coverageMin: 75,
  requiredPaths: ["/srv/app"],
  requiredImports: ["fastapi", "uvicorn", "gunicorn"],
  bootTimeout: 30,
  localPort: 18000,
};
