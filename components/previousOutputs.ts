import * as pulumi from "@pulumi/pulumi";
import { qualifiedStackName } from "./releaseSource";

/**
 * One output of this very stack as its previous `up` left it (`undefined` when it has none yet), read
 * with a StackReference to itself before anything is registered, so the program can decide a resource
 * option on it (an option cannot wait for an Output). Works in preview too: a StackReference is a read.
 */
export async function previousOutput(key: string): Promise<unknown> {
  const self = qualifiedStackName(pulumi.getStack(), pulumi.getOrganization(), pulumi.getProject());
  const reference = new pulumi.StackReference("slipway-previous", { name: self });
  const details = await reference.getOutputDetails(key);
  return details.secretValue ?? details.value;
}
