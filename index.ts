/**
 * Slipway: the container release procedure as one Pulumi program.
 *
 * Thin on purpose: read and validate the stack config (one CONFIG_INVALID error listing every problem,
 * thrown before any resource is registered), compose the {@link ReleasePipeline}, export its outputs.
 * The program is exported as an async function, which Pulumi calls; `npm run plan` and the unit tests
 * run this very function under Pulumi's mocks.
 */
import * as pulumi from "@pulumi/pulumi";
import { previousOutput, ReleasePipeline } from "./components";
import { loadReleaseSettings } from "./stacks";

async function slipway() {
  const settings = loadReleaseSettings();
  const c = settings.config;
  for (const notice of settings.notices) pulumi.log.warn(notice);
  // App Platform hands SECRET values back encrypted: they may stay as stored only when they are the
  // ones the previous `up` deployed (see AppDeploymentArgs.secretsUnchanged).
  const secretsUnchanged =
    c.deploy.target === "app-platform" &&
    (await previousOutput("secretsFingerprint")) === settings.secretsFingerprint;
  const pipeline = new ReleasePipeline("slipway", { ...settings, secretsUnchanged });
  return {
    /**
     * `release` (build candidates, gate, promote, deploy, verify), `promotion` (promote what
     * `release.promoteFrom` released) or `rollback` (deploy the pinned release).
     */
    mode: pipeline.mode,
    environment: c.environment,
    target: c.deploy.target,
    /** The version released, or the rollback pin. */
    releaseTag: pipeline.releaseTag,
    /** `HOST/REPO` of the app's releases. */
    repository: pipeline.repository,
    /** The manifest digest that runs (released, and deployed: the same). */
    imageDigest: pipeline.digest,
    /** The digest the gates judged: the runtime candidate, or the promoted stack's release. */
    candidateDigest: pipeline.candidateDigest,
    /** `HOST/REPO@sha256:...`. */
    imageRef: pipeline.imageRef,
    /** `HOST/REPO:<version>@sha256:...` as promoted (release and promotion mode). */
    releasedRef: pipeline.promotion?.ref,
    /** Promotion mode: the stack whose release this one promoted. */
    promotedFrom: pipeline.source?.stackName,
    /** The git commit the release was built from (config `release.commit`), or the promoted one's. */
    sourceCommit: c.release.commit ?? pipeline.source?.commit,
    /** The pinned release's digest as the registry resolved it (rollback mode). */
    rollbackDigest: pipeline.rollback?.resolvedDigest,
    appUrl: pipeline.appUrl,
    healthUrl: pipeline.healthUrl,
    /** The gates' JSON results, relative to the project directory. */
    reportDir: pipeline.reportDir,
    /** The release report: `{ verdict: READY | NOT READY, blockers: [codes], report: <path of report.md> }`. */
    releaseReport: pipeline.report.summary,
    /** Fingerprint of the App's secret values (secret): the next `up` compares it (see above). */
    secretsFingerprint: pulumi.secret(settings.secretsFingerprint),
  };
}

export = slipway;
