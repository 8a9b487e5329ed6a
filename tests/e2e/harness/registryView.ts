/**
 * An independent view of a registry's content, straight from the Distribution API (not through the
 * gates' own registry client, which is what is under test): every repository, every tag and the
 * manifest digest each tag points at. Taken before and after a failure to prove nothing changed.
 */

/** Media types a registry may serve a manifest as. Without them, Distribution answers an old schema1
 * manifest whose digest differs from the one Docker and skopeo report. */
const MANIFEST_ACCEPT = [
  "application/vnd.docker.distribution.manifest.v2+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.oci.image.index.v1+json",
].join(", ");

export interface Credentials {
  user: string;
  password: string;
}

/** `{ "repo": { "tag": "sha256:..." } }`, repositories and tags sorted. */
export type RegistryContent = Record<string, Record<string, string>>;

function headers(
  credentials: Credentials | undefined,
  extra: Record<string, string> = {},
): Record<string, string> {
  if (credentials === undefined) return extra;
  const basic = Buffer.from(`${credentials.user}:${credentials.password}`).toString("base64");
  return { Authorization: `Basic ${basic}`, ...extra };
}

async function getJson<T>(url: string, credentials?: Credentials): Promise<T> {
  const response = await fetch(url, { headers: headers(credentials) });
  if (!response.ok) throw new Error(`GET ${url}: ${response.status}`);
  return (await response.json()) as T;
}

/** Every repository → tag → manifest digest of the registry at `host` (plain HTTP: loopback). */
export async function registryContent(
  host: string,
  credentials?: Credentials,
): Promise<RegistryContent> {
  const base = `http://${host}/v2`;
  const catalog = await getJson<{ repositories: string[] | null }>(
    `${base}/_catalog?n=1000`,
    credentials,
  );
  const content: RegistryContent = {};
  for (const repo of [...(catalog.repositories ?? [])].sort()) {
    const list = await getJson<{ tags: string[] | null }>(`${base}/${repo}/tags/list`, credentials);
    const tags: Record<string, string> = {};
    for (const tag of [...(list.tags ?? [])].sort()) {
      const response = await fetch(`${base}/${repo}/manifests/${tag}`, {
        method: "HEAD",
        headers: headers(credentials, { Accept: MANIFEST_ACCEPT }),
      });
      if (!response.ok) throw new Error(`HEAD ${repo}:${tag}: ${response.status}`);
      tags[tag] = response.headers.get("docker-content-digest") ?? "?";
    }
    content[repo] = tags;
  }
  return content;
}

/** The manifest digest `repo:tag` points at now, or undefined when the tag does not exist. */
export async function tagDigest(
  host: string,
  repo: string,
  tag: string,
  credentials?: Credentials,
): Promise<string | undefined> {
  return (await registryContent(host, credentials))[repo]?.[tag];
}
