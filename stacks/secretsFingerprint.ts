import { scryptSync } from "node:crypto";

/**
 * A fingerprint of the App's secret environment values: it changes exactly when one of them does, and
 * says nothing usable about them (scrypt, salted with the stack's name, truncated). The program
 * exports it (`secretsFingerprint`, kept secret anyway) and compares it with the one its previous `up`
 * exported, to decide whether the App's SECRET values may be left as App Platform stored them (see
 * `AppDeploymentArgs.secretsUnchanged`). No Pulumi import: tested directly.
 */
export function secretsFingerprint(
  values: Readonly<Record<string, string>>,
  stack: string,
): string {
  const pairs = Object.keys(values)
    .sort()
    .map((name) => [name, values[name]]);
  const key = scryptSync(JSON.stringify(pairs), `slipway-secrets:${stack}`, 16, {
    N: 1 << 14,
    r: 8,
    p: 1,
  });
  return `scrypt:${key.toString("hex")}`;
}
