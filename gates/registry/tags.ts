/**
 * The next page of a paginated tag list: the `rel="next"` target of a `Link` header
 * (`</v2/app/tags/list?last=v9&n=100>; rel="next"`), resolved against the current URL.
 */
export function nextPageUrl(link: string | null, current: string): string | undefined {
  if (link === null) return undefined;
  for (const part of link.split(/,(?=\s*<)/)) {
    const match = /^\s*<([^>]*)>\s*;(.*)$/.exec(part);
    if (match === null) continue;
    const params = match[2] ?? "";
    if (/(?:^|;)\s*rel\s*=\s*"?(?:[^";]*\s)?next(?:\s[^";]*)?"?\s*(?:;|$)/i.test(params)) {
      try {
        return new URL(match[1] ?? "", current).toString();
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

const VERSION = /^v?(\d+(?:\.\d+)*)(?:[-+.]?(.*))?$/i;

interface VersionKey {
  numbers: number[];
  /** A pre-release or build suffix (`rc1`, `slim`): sorts before the plain release. */
  suffix: string;
}

function versionKey(tag: string): VersionKey | undefined {
  const match = VERSION.exec(tag);
  if (match === null) return undefined;
  return { numbers: (match[1] ?? "").split(".").map(Number), suffix: match[2] ?? "" };
}

function compareVersionsDesc(a: VersionKey, b: VersionKey): number {
  const length = Math.max(a.numbers.length, b.numbers.length);
  for (let i = 0; i < length; i += 1) {
    const diff = (b.numbers[i] ?? 0) - (a.numbers[i] ?? 0);
    if (diff !== 0) return diff;
  }
  if (a.suffix === b.suffix) return 0;
  if (a.suffix === "") return -1;
  if (b.suffix === "") return 1;
  return b.suffix.localeCompare(a.suffix, "en", { numeric: true });
}

/**
 * Tags in the order a person picking a rollback target wants: version-looking tags newest first
 * (`v1.10.0` before `v1.9.2`, a release before its `-rc`), then the other tags alphabetically.
 */
export function sortTags(tags: readonly string[]): string[] {
  const versions: { tag: string; key: VersionKey }[] = [];
  const others: string[] = [];
  for (const tag of tags) {
    const key = versionKey(tag);
    if (key === undefined) others.push(tag);
    else versions.push({ tag, key });
  }
  versions.sort((a, b) => compareVersionsDesc(a.key, b.key) || a.tag.localeCompare(b.tag));
  others.sort((a, b) => a.localeCompare(b));
  return [...versions.map((v) => v.tag), ...others];
}

/** A tag list for a message: sorted, at most `max` shown, the rest counted. */
export function describeTags(tags: readonly string[], max = 20): string {
  if (tags.length === 0) return "(none)";
  const sorted = sortTags(tags);
  const shown = sorted.slice(0, max).join(", ");
  return sorted.length > max ? `${shown} ... and ${sorted.length - max} more` : shown;
}
