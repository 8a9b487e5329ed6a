import { join } from "node:path";
import { PROJECT_ROOT } from "./environment";

/**
 * Trivy cannot run on this machine (no Docker Hub for its image, no binary, no vulnerability DB
 * download), so the scan gate reads real Trivy JSON reports from the Trivy repository's own test
 * data (tests/fixtures/trivy, see SOURCES.md there): reports of other images, not of those built here.
 */
const TRIVY_FIXTURES = join(PROJECT_ROOT, "tests", "fixtures", "trivy");

/** A container image with no vulnerabilities: passes. */
export const TRIVY_CLEAN = join(TRIVY_FIXTURES, "sl-micro-rancher5.4.json");
/** debian-buster: CVE-2019-18224 in libidn2-0, CRITICAL, fixed upstream: blocks with SECURITY_CRITICAL. */
export const TRIVY_CRITICAL = join(TRIVY_FIXTURES, "debian-buster.json");
