import * as pulumi from "@pulumi/pulumi";

/** Arguments of {@link ReleaseSource}. */
export interface ReleaseSourceArgs {
  /**
   * The stack whose release is promoted (config `release.promoteFrom`): `dev`, or a full
   * `<organization>/<project>/<stack>` name.
   */
  stack: string;
}

/** The full stack name a `StackReference` needs: a bare stack name is taken in this org and project. */
export function qualifiedStackName(stack: string, organization: string, project: string): string {
  return stack.includes("/") ? stack : `${organization}/${project}/${stack}`;
}

/**
 * What another stack released and verified, read with a Pulumi `StackReference` (the outputs that
 * stack's program exports: `imageDigest`, `releaseTag`, `repository`, `sourceCommit`, `releaseReport`).
 * A promoting stack (prod) builds nothing and runs no tests: it re-scans this digest, requires its
 * evidence READY, promotes it under its own version tag, deploys and verifies it.
 */
export class ReleaseSource extends pulumi.ComponentResource {
  public readonly reference: pulumi.StackReference;
  /** The stack read, fully qualified. */
  public readonly stackName: string;
  /** The released and verified manifest digest. */
  public readonly digest: pulumi.Output<string>;
  /** The source's version tag. */
  public readonly version: pulumi.Output<string>;
  /** The source's repository (`HOST/REPO`). */
  public readonly repository: pulumi.Output<string>;
  /** The git commit the source release was built from (empty when it did not say). */
  public readonly commit: pulumi.Output<string>;
  /** The source release report's verdict: READY or NOT READY. */
  public readonly verdict: pulumi.Output<string>;

  constructor(name: string, args: ReleaseSourceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("slipway:registry:ReleaseSource", name, {}, opts);

    this.stackName = qualifiedStackName(args.stack, pulumi.getOrganization(), pulumi.getProject());
    this.reference = new pulumi.StackReference(
      `${name}-stack`,
      { name: this.stackName },
      {
        parent: this,
      },
    );
    const text = (key: string) =>
      this.reference.requireOutput(key).apply((value) => String(value as string));
    this.digest = text("imageDigest");
    this.version = text("releaseTag");
    this.repository = text("repository");
    this.commit = this.reference.getOutput("sourceCommit").apply((value) => String(value ?? ""));
    this.verdict = this.reference
      .requireOutput("releaseReport")
      .apply((report) => String((report as { verdict?: unknown } | undefined)?.verdict ?? ""));

    this.registerOutputs({
      digest: this.digest,
      version: this.version,
      repository: this.repository,
      commit: this.commit,
      verdict: this.verdict,
    });
  }
}
