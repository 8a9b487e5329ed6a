import { readFileSync } from "node:fs";
import { extname } from "node:path";
import { GateError } from "../result";
import { compileGlob, GlobError } from "./glob";
import { parsePurl, Purl, purlMatches } from "./purl";
import type { FindingKind, ScanFinding } from "./report";

/**
 * The allowlist, in Trivy's own two formats, with Trivy's meaning (pkg/result/ignore.go):
 *
 * - `.trivyignore`: one ID per line (`CVE-2019-18224 exp:2025-06-30 # reason`), `#` comments and blank
 *   lines skipped; an ID applies to vulnerabilities, secrets and misconfigurations alike.
 * - `.trivyignore.yaml` / `.yml`: lists `vulnerabilities`, `misconfigurations`, `secrets`, `licenses` of
 *   `{id, paths, purls, statement, expired_at}`. `paths` are doublestar globs matched against the Result
 *   Target or the package's PkgPath; `purls` match the package (a finding without a PURL matches, as in
 *   Trivy).
 * - Expiry: the date means midnight UTC at the start of that day; like Trivy (`ExpiredAt.Before(now)`) the
 *   entry stops applying once the clock is past that instant.
 *
 * Stricter than Trivy, on purpose (a gate must not guess): an unreadable file, a malformed `exp:` date
 * (Trivy warns and skips the line), an unknown key (a misspelt `expired_at` would never expire), an entry
 * without `id`, a bad glob or purl, or `purls` outside `vulnerabilities` are ALLOWLIST_INVALID.
 */

export type AllowlistSection = "vulnerabilities" | "misconfigurations" | "secrets" | "licenses";

const SECTION_KINDS: Readonly<Record<AllowlistSection, readonly FindingKind[]>> = {
  vulnerabilities: ["vulnerability"],
  misconfigurations: ["misconfiguration"],
  secrets: ["secret"],
  // Licenses are not a finding this gate evaluates: such entries are validated, never matched.
  licenses: [],
};

const ALL_KINDS: readonly FindingKind[] = ["vulnerability", "secret", "misconfiguration"];

export interface AllowlistEntry {
  id: string;
  /** `all` for a `.trivyignore` line. */
  section: AllowlistSection | "all";
  /** Which findings the entry can match. */
  kinds: readonly FindingKind[];
  paths: readonly string[];
  purls: readonly string[];
  /** "" when the entry has none. */
  statement: string;
  /** The date as written (`2025-06-30`), "" when the entry never expires. */
  expires: string;
  /** The instant the entry stops applying (midnight UTC of `expires`). */
  expiresAt: Date | undefined;
  /** `file:line`, for messages. */
  source: string;
  /** Position in the file: when several entries match, the first one applies (as in Trivy). */
  order: number;
  pathPatterns: readonly RegExp[];
  purlConstraints: readonly Purl[];
}

export interface Allowlist {
  file: string;
  format: "trivyignore" | "yaml";
  entries: AllowlistEntry[];
}

function invalid(file: string, problems: string[]): GateError {
  const head =
    problems.length === 1
      ? `${file}: ${problems[0]}`
      : `${file} has ${problems.length} problems: ${problems[0]}`;
  return new GateError("ALLOWLIST_INVALID", head, problems.length > 1 ? problems : []);
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** A UTC instant from calendar fields, or undefined when a field is out of range. */
function instant(
  y: number,
  mo: number,
  d: number,
  h = 0,
  mi = 0,
  s = 0,
  ms = 0,
  offsetMinutes = 0,
): Date | undefined {
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo)) return undefined;
  if (h > 23 || mi > 59 || s > 59) return undefined;
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d);
  date.setUTCHours(h, mi, s, ms);
  return new Date(date.getTime() - offsetMinutes * 60_000);
}

/** `.trivyignore`'s `exp:` value: exactly Go's layout `2006-01-02`. */
export function parseExpDate(text: string): Date | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  return m === null ? undefined : instant(+m[1], +m[2], +m[3]);
}

/**
 * `.trivyignore.yaml`'s `expired_at`: the timestamp forms yaml.v3 decodes into a Go time.Time
 * (`2006-1-2`, `2006-1-2T15:4:5.999Z07:00`, `2006-1-2 15:4:5`); without a zone it is UTC.
 */
export function parseYamlTimestamp(text: string): Date | undefined {
  const m =
    /^(\d{4})-(\d{1,2})-(\d{1,2})(?:(?:[Tt]|[ \t]+)(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d+))?[ \t]*(Z|[+-]\d{1,2}(?::?\d{2})?)?)?$/.exec(
      text.trim(),
    );
  if (m === null) return undefined;
  let offset = 0;
  const zone = m[8];
  if (zone !== undefined && zone !== "Z") {
    const z = /^([+-])(\d{1,2}):?(\d{2})?$/.exec(zone);
    if (z === null) return undefined;
    offset = (z[1] === "-" ? -1 : 1) * (+z[2] * 60 + +(z[3] ?? "0"));
  }
  const ms = m[7] === undefined ? 0 : Math.floor(+`0.${m[7]}` * 1000);
  return instant(+m[1], +m[2], +m[3], +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0), ms, offset);
}

/** Whether the entry no longer applies at `now`. */
export function isExpired(entry: AllowlistEntry, now: Date): boolean {
  return entry.expiresAt !== undefined && entry.expiresAt.getTime() < now.getTime();
}

/** A comment line that titles what follows (`# --- Base image ---`, `## CVEs`, `# Accepted:`). */
const HEADING = /^(#{2,}|[-=*#~_]{3,}|.*:$|.*[-=*~_]{3,}$)/;

/**
 * Whether lines[i] (an entry) stands alone: the next line is blank, a comment or the end of the file.
 * A comment block above a run of entries is a heading of the group, not one entry's statement.
 */
function standsAlone(lines: readonly string[], i: number): boolean {
  const next = lines[i + 1]?.trim() ?? "";
  return next === "" || next.startsWith("#");
}

/**
 * Parses a `.trivyignore` file. An entry's statement is the `#` comment on its line, else the comment
 * block directly above it when that block is about this entry alone: the entry is not followed directly
 * by another entry (then the block heads a group) and no line of the block is a heading (`# --- X ---`,
 * `## X`, `# X:`). A comment separated by a blank line belongs to no entry.
 */
export function parseTrivyignore(text: string, file: string): Allowlist {
  const entries: AllowlistEntry[] = [];
  const problems: string[] = [];
  let comments: string[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === "") {
      comments = [];
      continue;
    }
    if (line.startsWith("#")) {
      comments.push(line);
      continue;
    }
    const source = `${file}:${i + 1}`;
    const fields = line.split(/\s+/);
    const id = fields[0];
    // Trivy takes the first field starting with `exp:`, wherever it is on the line.
    const exp = fields.find((f) => f.startsWith("exp:"));
    let expires = "";
    let expiresAt: Date | undefined;
    if (exp !== undefined) {
      expires = exp.slice("exp:".length);
      expiresAt = parseExpDate(expires);
      if (expiresAt === undefined) {
        problems.push(`line ${i + 1}: ${id}: ${exp} is not a date (expected exp:yyyy-mm-dd)`);
      }
    }
    const hash = line.indexOf("#");
    const trailing = hash >= 0 ? line.slice(hash).replace(/^#+\s*/, "") : "";
    const above =
      comments.length > 0 && standsAlone(lines, i) && !comments.some((c) => HEADING.test(c))
        ? comments.map((c) => c.replace(/^#+\s*/, "")).join(" ")
        : "";
    const statement = (trailing !== "" ? trailing : above).trim();
    comments = [];
    entries.push({
      id,
      section: "all",
      kinds: ALL_KINDS,
      paths: [],
      purls: [],
      statement,
      expires,
      expiresAt,
      source,
      order: entries.length,
      pathPatterns: [],
      purlConstraints: [],
    });
  }
  if (problems.length > 0) throw invalid(file, problems);
  return { file, format: "trivyignore", entries };
}

const ENTRY_KEYS = new Set(["id", "paths", "purls", "statement", "expired_at"]);

function stringList(value: unknown, key: string, where: string, problems: string[]): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) {
    problems.push(`${where}: ${key} must be a list of strings`);
    return [];
  }
  return value as string[];
}

/** Parses a `.trivyignore.yaml` document. */
export function parseTrivyignoreYaml(text: string, file: string): Allowlist {
  // Loaded here, not at the top: only YAML allowlists pay for the parser.
  const YAML = require("yaml") as typeof import("yaml");
  const lineCounter = new YAML.LineCounter();
  // The core schema keeps `2025-06-30` a string (YAML 1.1 would make it a Date in local time).
  const doc = YAML.parseDocument(text, { lineCounter, schema: "core", uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw invalid(
      file,
      doc.errors.map((e) => `not valid YAML: ${e.message.split("\n")[0]}`),
    );
  }
  const root = doc.contents;
  const entries: AllowlistEntry[] = [];
  if (root === null || (YAML.isScalar(root) && root.value === null)) {
    return { file, format: "yaml", entries };
  }
  const sections = Object.keys(SECTION_KINDS).join(", ");
  if (!YAML.isMap(root)) {
    throw invalid(file, [`the top level must be a mapping with ${sections}`]);
  }
  const problems: string[] = [];
  for (const pair of root.items) {
    const key = YAML.isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
    if (!Object.prototype.hasOwnProperty.call(SECTION_KINDS, key)) {
      problems.push(`unknown section ${JSON.stringify(key)} (expected ${sections})`);
      continue;
    }
    const section = key as AllowlistSection;
    const list = pair.value;
    if (list === null || (YAML.isScalar(list) && list.value === null)) continue;
    if (!YAML.isSeq(list)) {
      problems.push(`${section} must be a list of entries`);
      continue;
    }
    for (const item of list.items) {
      const node = item as { range?: [number, number, number] };
      const line = node.range === undefined ? 0 : lineCounter.linePos(node.range[0]).line;
      const source = `${file}:${line}`;
      const where = `line ${line} (${section})`;
      if (!YAML.isMap(item)) {
        problems.push(
          `${where}: an entry must be a mapping with id, paths, purls, statement, expired_at`,
        );
        continue;
      }
      const entry = parseYamlEntry(
        item.toJSON() as Record<string, unknown>,
        section,
        where,
        problems,
      );
      if (entry !== undefined) entries.push({ ...entry, source, order: entries.length });
    }
  }
  if (problems.length > 0) throw invalid(file, problems);
  return { file, format: "yaml", entries };
}

function parseYamlEntry(
  raw: Record<string, unknown>,
  section: AllowlistSection,
  where: string,
  problems: string[],
): Omit<AllowlistEntry, "source" | "order"> | undefined {
  const before = problems.length;
  for (const key of Object.keys(raw)) {
    if (!ENTRY_KEYS.has(key)) {
      problems.push(
        `${where}: unknown key ${JSON.stringify(key)} (expected id, paths, purls, statement, expired_at)`,
      );
    }
  }
  const id = raw.id;
  if (typeof id !== "string" || id.trim() === "") {
    problems.push(`${where}: no id (every entry names the ID it allowlists)`);
  }
  const label = `${where} ${typeof id === "string" ? id : ""}`.trim();
  const paths = stringList(raw.paths, "paths", label, problems);
  const pathPatterns: RegExp[] = [];
  for (const p of paths) {
    try {
      pathPatterns.push(compileGlob(p));
    } catch (err) {
      if (!(err instanceof GlobError)) throw err;
      problems.push(`${label}: ${err.message}`);
    }
  }
  const purls = stringList(raw.purls, "purls", label, problems);
  if (purls.length > 0 && section !== "vulnerabilities") {
    problems.push(`${label}: purls apply only to vulnerabilities`);
  }
  const purlConstraints: Purl[] = [];
  for (const text of purls) {
    const purl = parsePurl(text);
    if (purl === undefined) problems.push(`${label}: ${JSON.stringify(text)} is not a package URL`);
    else purlConstraints.push(purl);
  }
  let statement = "";
  if (raw.statement !== undefined && raw.statement !== null) {
    if (typeof raw.statement !== "string") problems.push(`${label}: statement must be text`);
    else statement = raw.statement.trim();
  }
  let expires = "";
  let expiresAt: Date | undefined;
  if (raw.expired_at !== undefined && raw.expired_at !== null) {
    expires = String(raw.expired_at);
    expiresAt = typeof raw.expired_at === "string" ? parseYamlTimestamp(raw.expired_at) : undefined;
    if (expiresAt === undefined) {
      problems.push(
        `${label}: expired_at ${JSON.stringify(raw.expired_at)} is not a date (yyyy-mm-dd)`,
      );
    }
  }
  if (problems.length > before || typeof id !== "string") return undefined;
  return {
    id: id.trim(),
    section,
    kinds: SECTION_KINDS[section],
    paths,
    purls,
    statement,
    expires,
    expiresAt,
    pathPatterns,
    purlConstraints,
  };
}

/** Reads an allowlist file; `.yaml`/`.yml` is `.trivyignore.yaml`, anything else `.trivyignore` (as Trivy decides). */
export function readAllowlist(file: string): Allowlist {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw invalid(file, [`cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`]);
  }
  const ext = extname(file).toLowerCase();
  return ext === ".yaml" || ext === ".yml"
    ? parseTrivyignoreYaml(text, file)
    : parseTrivyignore(text, file);
}

/**
 * `--require-statement`: every entry must say why (statement) and until when (expiry). Throws one
 * ALLOWLIST_INVALID naming every entry that lacks either.
 */
export function requireStatements(allowlist: Allowlist): void {
  const problems: string[] = [];
  for (const e of allowlist.entries) {
    const missing = [e.statement === "" ? "statement" : "", e.expires === "" ? "expiry" : ""]
      .filter((m) => m !== "")
      .join(" and ");
    if (missing !== "") problems.push(`${e.source}: ${e.id} has no ${missing}`);
  }
  if (problems.length === 0) return;
  const what =
    allowlist.format === "yaml"
      ? "give each entry a `statement:` and an `expired_at: yyyy-mm-dd`"
      : "give each line an `exp:yyyy-mm-dd` and a `# reason` (on the line or the comment just above)";
  throw new GateError(
    "ALLOWLIST_INVALID",
    `${problems.length} allowlist ${problems.length === 1 ? "entry lacks" : "entries lack"} a statement or an expiry (--require-statement): ${problems[0]}`,
    [...problems, what],
  );
}

const NO_MATCH: readonly AllowlistEntry[] = [];

/** Finds the entries matching a finding, in file order; built once per run (lookups by ID). */
export class AllowlistIndex {
  private readonly byKind = new Map<FindingKind, Map<string, AllowlistEntry[]>>();
  private readonly purlCache = new Map<string, Purl | undefined>();

  constructor(entries: readonly AllowlistEntry[]) {
    for (const kind of ALL_KINDS) this.byKind.set(kind, new Map());
    for (const entry of entries) {
      for (const kind of entry.kinds) {
        const byId = this.byKind.get(kind) as Map<string, AllowlistEntry[]>;
        const list = byId.get(entry.id);
        if (list === undefined) byId.set(entry.id, [entry]);
        else list.push(entry);
      }
    }
  }

  match(finding: ScanFinding): readonly AllowlistEntry[] {
    const byId = this.byKind.get(finding.kind) as Map<string, AllowlistEntry[]>;
    const direct = byId.get(finding.id);
    // Misconfigurations match on any of their identifiers (ID, AVDID, the legacy DS002 form), as
    // Trivy's MatchMisconfiguration does with the rule's aliases.
    if (finding.aliases.length === 0) {
      if (direct === undefined) return NO_MATCH;
      const hits = direct.filter((e) => this.applies(e, finding));
      return hits.length === 0 ? NO_MATCH : hits;
    }
    const found = new Set<AllowlistEntry>(direct ?? []);
    for (const alias of finding.aliases) for (const e of byId.get(alias) ?? []) found.add(e);
    if (found.size === 0) return NO_MATCH;
    const candidates = [...found].sort((a, b) => a.order - b.order);
    const hits = candidates.filter((e) => this.applies(e, finding));
    return hits.length === 0 ? NO_MATCH : hits;
  }

  private applies(entry: AllowlistEntry, f: ScanFinding): boolean {
    if (entry.pathPatterns.length > 0) {
      const onPath = entry.pathPatterns.some(
        (re) => re.test(f.target) || (f.pkgPath !== "" && re.test(f.pkgPath)),
      );
      if (!onPath) return false;
    }
    if (entry.purlConstraints.length > 0 && f.purl !== "") {
      let target = this.purlCache.get(f.purl);
      if (target === undefined && !this.purlCache.has(f.purl)) {
        target = parsePurl(f.purl);
        this.purlCache.set(f.purl, target);
      }
      // A finding whose PURL cannot be read is not allowlisted by a purl entry: it keeps blocking.
      if (target === undefined) return false;
      const t = target;
      return entry.purlConstraints.some((c) => purlMatches(c, t));
    }
    return true;
  }
}
