/**
 * Package URLs (`pkg:deb/debian/libidn2-0@2.0.5-1?arch=amd64`) for the `purls:` of `.trivyignore.yaml`,
 * parsed per the purl spec and matched as Trivy matches them (pkg/purl `Match`): type, namespace and name
 * equal; the constraint's version and subpath, when it has them, equal; every qualifier of the constraint
 * present with the same value in the target.
 */

export interface Purl {
  type: string;
  namespace: string;
  name: string;
  version: string;
  qualifiers: ReadonlyMap<string, string>;
  subpath: string;
}

function decode(part: string): string {
  return decodeURIComponent(part);
}

/** Types whose namespace and name are case-insensitive (packageurl-go lowercases them). */
const CASE_INSENSITIVE = new Set([
  "alpm",
  "apk",
  "bitbucket",
  "composer",
  "deb",
  "github",
  "gitlab",
]);

/** Parses a purl; returns undefined when it is not one. */
export function parsePurl(text: string): Purl | undefined {
  const m = /^pkg:\/*(.*)$/i.exec(text.trim());
  if (m === null) return undefined;
  let rest = m[1];
  let subpath = "";
  let qualifierText = "";
  try {
    const hash = rest.indexOf("#");
    if (hash >= 0) {
      subpath = rest
        .slice(hash + 1)
        .split("/")
        .filter((s) => s !== "" && s !== "." && s !== "..")
        .map(decode)
        .join("/");
      rest = rest.slice(0, hash);
    }
    const question = rest.indexOf("?");
    if (question >= 0) {
      qualifierText = rest.slice(question + 1);
      rest = rest.slice(0, question);
    }
    const slash = rest.indexOf("/");
    if (slash <= 0) return undefined;
    const type = rest.slice(0, slash).toLowerCase();
    if (!/^[a-z.+-][a-z0-9.+-]*$/.test(type)) return undefined;
    rest = rest.slice(slash + 1).replace(/\/+$/, "");
    let version = "";
    const at = rest.lastIndexOf("@");
    if (at >= 0) {
      version = decode(rest.slice(at + 1));
      rest = rest.slice(0, at);
    }
    const segments = rest.split("/").filter((s) => s !== "");
    if (segments.length === 0) return undefined;
    let name = decode(segments[segments.length - 1]);
    let namespace = segments.slice(0, -1).map(decode).join("/");
    if (CASE_INSENSITIVE.has(type)) {
      name = name.toLowerCase();
      namespace = namespace.toLowerCase();
    } else if (type === "pypi") {
      name = name.toLowerCase().replace(/_/g, "-");
    }
    const qualifiers = new Map<string, string>();
    for (const pair of qualifierText.split("&")) {
      if (pair === "") continue;
      const eq = pair.indexOf("=");
      if (eq <= 0) return undefined;
      const value = decode(pair.slice(eq + 1));
      if (value !== "") qualifiers.set(pair.slice(0, eq).toLowerCase(), value);
    }
    return { type, namespace, name, version, qualifiers, subpath };
  } catch {
    // decodeURIComponent: a malformed %-escape.
    return undefined;
  }
}

/** Whether `target` (a finding's package) satisfies `constraint` (an allowlist entry's purl). */
export function purlMatches(constraint: Purl, target: Purl): boolean {
  if (
    constraint.type !== target.type ||
    constraint.namespace !== target.namespace ||
    constraint.name !== target.name
  ) {
    return false;
  }
  if (constraint.version !== "" && constraint.version !== target.version) return false;
  if (constraint.subpath !== "" && constraint.subpath !== target.subpath) return false;
  for (const [key, value] of constraint.qualifiers) {
    if (target.qualifiers.get(key) !== value) return false;
  }
  return true;
}
