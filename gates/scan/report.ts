import { readFileSync } from "node:fs";
import { GateError } from "../result";
import { splitReport, type FindingList } from "./split";

/**
 * Reads and validates a Trivy JSON report (`trivy ... --format json`, SchemaVersion 2) into a flat list of
 * findings. Anything that is not exactly such a report fails closed with SCAN_REPORT_INVALID, naming the
 * JSON path of the first problem: a gate that cannot read its evidence must not let a release through.
 *
 * Trivy omits nearly every empty field (`Results` itself may be absent, a Result may have no
 * `Vulnerabilities`); JSON `null` is read as absent, as Go reads it. A wrong *type* or an unknown enum value
 * (Severity, Status, Class) is an error: guessing would decide a release on data we do not understand.
 */

export const SEVERITIES = ["UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL"] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Order of severities: UNKNOWN 0 ... CRITICAL 4. */
export const SEVERITY_RANK: Readonly<Record<Severity, number>> = {
  UNKNOWN: 0,
  LOW: 1,
  MEDIUM: 2,
  HIGH: 3,
  CRITICAL: 4,
};

export function isSeverity(value: unknown): value is Severity {
  return typeof value === "string" && Object.prototype.hasOwnProperty.call(SEVERITY_RANK, value);
}

/** Trivy's result classes (`types.ResultClass`). */
const RESULT_CLASSES = new Set([
  "os-pkgs",
  "lang-pkgs",
  "config",
  "secret",
  "license",
  "license-file",
  "custom",
]);

/** trivy-db's vulnerability statuses; `unknown` is normally omitted. */
const VULN_STATUSES = new Set([
  "unknown",
  "not_affected",
  "affected",
  "fixed",
  "under_investigation",
  "will_not_fix",
  "fix_deferred",
  "end_of_life",
]);

const MISCONF_STATUSES = new Set(["FAIL", "PASS", "EXCEPTION"]);

export type FindingKind = "vulnerability" | "secret" | "misconfiguration";

/**
 * One finding of the report, flattened. Every field is always set (empty string / 0 when the report has
 * none) so all findings share one shape, which keeps 100,000 of them cheap.
 */
export interface ScanFinding {
  kind: FindingKind;
  /** VulnerabilityID, secret RuleID, or misconfiguration AVDID (else ID). */
  id: string;
  /**
   * Misconfigurations: every other identifier Trivy matches an ignore entry on (see `misconfigurationAliases`).
   * Else empty (one shared array).
   */
  aliases: readonly string[];
  severity: Severity;
  /** The Result's Target (an image's OS, `Python`, a file path). */
  target: string;
  /** The Result's Class. */
  resultClass: string;
  pkgName: string;
  /** Language packages: the file the package was found in. */
  pkgPath: string;
  purl: string;
  installed: string;
  fixed: string;
  /** Vulnerabilities: Trivy's Status ("" when absent); misconfigurations: FAIL / PASS / EXCEPTION. */
  status: string;
  title: string;
  /** Secrets and misconfigurations: the line in `target`; else 0. */
  line: number;
  /**
   * The DiffID of the image layer Trivy found it in (`Layer.DiffID`), "" when the report does not say
   * (filesystem and repository scans, older reports): what tells base-image findings from the app's.
   */
  layer: string;
}

export interface ScanReport {
  /** Where the report came from (a file path), for messages. */
  source: string;
  artifactName: string;
  artifactType: string;
  createdAt: string;
  trivyVersion: string;
  /** `debian 10.1`, or "" when the report names no OS. */
  os: string;
  /** Trivy's `Metadata.OS.EOSL`: the OS release is past its end of support. */
  eosl: boolean;
  /** The image's layer DiffIDs, bottom first (`Metadata.DiffIDs`); empty when the report has none. */
  diffIds: string[];
  results: number;
  findings: ScanFinding[];
}

type Json = Record<string, unknown>;

const HOW_TO_MAKE =
  "expected the output of `trivy image --format json --output FILE REF` (SchemaVersion 2)";

function invalid(source: string, problem: string, extra: string[] = []): GateError {
  return new GateError("SCAN_REPORT_INVALID", `${source} ${problem}`, [...extra, HOW_TO_MAKE]);
}

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Field readers. `where` is the JSON path of the element being read, kept as a cursor (result index,
 * list, element index) and spelt out only on error: these run hundreds of thousands of times on a large
 * report, and must not allocate.
 */
class Reader {
  result = -1;
  list = "";
  element = -1;

  constructor(readonly source: string) {}

  where(): string {
    if (this.result < 0) return this.list === "" ? "(top level)" : this.list;
    const base = `Results[${this.result}]`;
    return this.list === "" ? base : `${base}.${this.list}[${this.element}]`;
  }

  fail(problem: string): never {
    throw invalid(this.source, `is not a valid Trivy report: ${this.where()}: ${problem}`);
  }

  optString(obj: Json, key: string): string {
    const value = obj[key];
    if (value === undefined || value === null) return "";
    if (typeof value !== "string") this.fail(`${key} must be a string`);
    return value;
  }

  reqString(obj: Json, key: string): string {
    const value = this.optString(obj, key);
    if (value === "") this.fail(`no ${key}`);
    return value;
  }

  optArray(obj: Json, key: string): unknown[] {
    const value = obj[key];
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) this.fail(`${key} must be an array`);
    return value;
  }

  /**
   * The severity as one of the SEVERITIES constants, not the string JSON.parse made: later lookups
   * keyed by it (counts, ranks, a sort over every blocking finding) then stay fast.
   */
  severity(obj: Json): Severity {
    const value = obj.Severity;
    switch (value) {
      case "CRITICAL":
        return "CRITICAL";
      case "HIGH":
        return "HIGH";
      case "MEDIUM":
        return "MEDIUM";
      case "LOW":
        return "LOW";
      // Trivy itself reads a missing severity as UNKNOWN (pkg/result/filter.go).
      case "UNKNOWN":
      case "":
      case undefined:
      case null:
        return "UNKNOWN";
      default:
        this.fail(`unknown Severity ${JSON.stringify(value)} (expected ${SEVERITIES.join(", ")})`);
    }
  }

  /** One string per distinct DiffID: an image has a few layers, a report 100,000 findings. */
  private readonly layers = new Map<string, string>();

  /** `Layer.DiffID`, or "" when the finding has no Layer. */
  layer(obj: Json): string {
    const layer = obj.Layer;
    if (layer === undefined || layer === null) return "";
    if (!isObject(layer)) this.fail("Layer must be an object");
    const diffId = this.optString(layer, "DiffID");
    const known = this.layers.get(diffId);
    if (known !== undefined) return known;
    this.layers.set(diffId, diffId);
    return diffId;
  }

  line(obj: Json, key: string): number {
    const value = obj[key];
    if (value === undefined || value === null) return 0;
    if (typeof value !== "number") this.fail(`${key} must be a number`);
    return value;
  }
}

function readVulnerability(
  r: Reader,
  v: unknown,
  target: string,
  resultClass: string,
): ScanFinding {
  if (!isObject(v)) r.fail("must be an object");
  const status = r.optString(v, "Status");
  if (status !== "" && !VULN_STATUSES.has(status)) {
    r.fail(`unknown Status ${JSON.stringify(status)}`);
  }
  let purl = "";
  const ident = v.PkgIdentifier;
  if (ident !== undefined && ident !== null) {
    if (!isObject(ident)) r.fail("PkgIdentifier must be an object");
    purl = r.optString(ident, "PURL");
  }
  return {
    kind: "vulnerability",
    id: r.reqString(v, "VulnerabilityID"),
    aliases: NO_ALIASES,
    severity: r.severity(v),
    target,
    resultClass,
    pkgName: r.optString(v, "PkgName"),
    pkgPath: r.optString(v, "PkgPath"),
    purl,
    installed: r.optString(v, "InstalledVersion"),
    fixed: r.optString(v, "FixedVersion"),
    status,
    title: r.optString(v, "Title"),
    line: 0,
    layer: r.layer(v),
  };
}

function readSecret(r: Reader, s: unknown, target: string, resultClass: string): ScanFinding {
  if (!isObject(s)) r.fail("must be an object");
  return {
    kind: "secret",
    id: r.reqString(s, "RuleID"),
    aliases: NO_ALIASES,
    severity: r.severity(s),
    target,
    resultClass,
    pkgName: r.optString(s, "Category"),
    pkgPath: "",
    purl: "",
    installed: "",
    fixed: "",
    status: "",
    title: r.optString(s, "Title"),
    line: r.line(s, "StartLine"),
    layer: r.layer(s),
  };
}

const NO_ALIASES: readonly string[] = [];

const CANONICAL_ID = /^([A-Z]+)-(\d+)$/;
const LEGACY_ID = /^([A-Z]+)(\d+)$/;

/**
 * The identifiers of a misconfiguration besides the one shown (`id`), in every form Trivy's ignore
 * matching accepts (pkg/result/filter.go: `ID`, `AVDID` and the rule's `Aliases`). Trivy matches on the
 * rule's aliases, which its JSON does not carry (`json:"-"`): a current report says only `"ID": "DS-0002"`
 * (integration/testdata/dockerfile.json.golden), an older one `"ID": "DS002", "AVDID": "AVD-DS-0002"`.
 * The forms are one rule's and derive from each other: the canonical `DS-0002`, the AVD ID `AVD-DS-0002`,
 * the legacy `DS002` (also the last segment of a built-in check's `Namespace`, `builtin.dockerfile.DS002`).
 * A rule's short code (`least-privilege-user`) is nowhere in the report and cannot be matched.
 */
export function misconfigurationAliases(
  id: string,
  avdId: string,
  namespace: string,
): readonly string[] {
  const shown = avdId !== "" ? avdId : id;
  const forms = new Set<string>([id, avdId]);
  const canonical = [id, avdId.replace(/^AVD-/, "")].find((x) => CANONICAL_ID.test(x));
  if (canonical !== undefined) {
    forms.add(canonical);
    forms.add(`AVD-${canonical}`);
    const [, prefix, digits] = CANONICAL_ID.exec(canonical) as RegExpExecArray;
    // DS-0002 → DS002, KSV-0014 → KSV014: the legacy IDs have three digits.
    forms.add(`${prefix}${String(Number(digits)).padStart(3, "0")}`);
  }
  if (namespace.startsWith("builtin.")) {
    const last = namespace.slice(namespace.lastIndexOf(".") + 1);
    if (LEGACY_ID.test(last)) forms.add(last);
  }
  forms.delete(shown);
  forms.delete("");
  return forms.size === 0 ? NO_ALIASES : [...forms];
}

function readMisconfiguration(
  r: Reader,
  m: unknown,
  target: string,
  resultClass: string,
): ScanFinding {
  if (!isObject(m)) r.fail("must be an object");
  const id = r.optString(m, "ID");
  const avdId = r.optString(m, "AVDID");
  if (id === "" && avdId === "") r.fail("no ID or AVDID");
  const status = r.reqString(m, "Status");
  if (!MISCONF_STATUSES.has(status)) r.fail(`unknown Status ${JSON.stringify(status)}`);
  let line = 0;
  const cause = m.CauseMetadata;
  if (cause !== undefined && cause !== null) {
    if (!isObject(cause)) r.fail("CauseMetadata must be an object");
    line = r.line(cause, "StartLine");
  }
  return {
    kind: "misconfiguration",
    id: avdId !== "" ? avdId : id,
    aliases: misconfigurationAliases(id, avdId, r.optString(m, "Namespace")),
    severity: r.severity(m),
    target,
    resultClass,
    pkgName: r.optString(m, "Type"),
    pkgPath: "",
    purl: "",
    installed: "",
    fixed: "",
    status,
    title: r.optString(m, "Title"),
    line,
    layer: r.layer(m),
  };
}

interface Metadata {
  os: string;
  eosl: boolean;
  diffIds: string[];
}

function readMetadata(r: Reader, doc: Json): Metadata {
  const meta = doc.Metadata;
  r.list = "Metadata";
  const none: Metadata = { os: "", eosl: false, diffIds: [] };
  if (meta === undefined || meta === null) return none;
  if (!isObject(meta)) r.fail("must be an object");
  const diffIds = r.optArray(meta, "DiffIDs");
  r.list = "Metadata.DiffIDs";
  if (!diffIds.every((d) => typeof d === "string")) r.fail("must be an array of strings");
  const os = meta.OS;
  r.list = "Metadata.OS";
  if (os === undefined || os === null) return { ...none, diffIds: diffIds as string[] };
  if (!isObject(os)) r.fail("must be an object");
  const family = r.optString(os, "Family");
  const name = r.optString(os, "Name");
  return { os: `${family} ${name}`.trim(), eosl: os.EOSL === true, diffIds: diffIds as string[] };
}

interface ResultInfo {
  target: string;
  resultClass: string;
}

/** Validates a parsed document and flattens the findings it holds; also returns each Result's target. */
function readDocument(doc: unknown, r: Reader): { report: ScanReport; results: ResultInfo[] } {
  const source = r.source;
  if (!isObject(doc)) {
    const what = Array.isArray(doc) ? "a JSON array" : `JSON ${doc === null ? "null" : typeof doc}`;
    throw invalid(source, `is not a Trivy report: the document is ${what}, not an object`);
  }
  if (!("SchemaVersion" in doc)) {
    throw invalid(source, "is not a Trivy report: it has no SchemaVersion");
  }
  if (doc.SchemaVersion !== 2) {
    throw invalid(
      source,
      `has SchemaVersion ${JSON.stringify(doc.SchemaVersion)}; this gate reads SchemaVersion 2`,
      ["SchemaVersion 2 is written by Trivy 0.20 and later: upgrade Trivy and scan again"],
    );
  }
  r.list = "Trivy";
  const trivyVersion = isObject(doc.Trivy) ? r.optString(doc.Trivy, "Version") : "";
  const { os, eosl, diffIds } = readMetadata(r, doc);
  r.list = "";
  const artifactName = r.optString(doc, "ArtifactName");
  const artifactType = r.optString(doc, "ArtifactType");
  const createdAt = r.optString(doc, "CreatedAt");
  const results = r.optArray(doc, "Results");
  const infos: ResultInfo[] = [];
  const findings: ScanFinding[] = [];
  for (let i = 0; i < results.length; i++) {
    const result = results[i];
    r.result = i;
    r.list = "";
    if (!isObject(result)) r.fail("must be an object");
    // Trivy writes `"Target": ""` for results that belong to no file (Class `custom`: a module's
    // CustomResources, spring4shell-jre11): valid output, so the target may be empty (a wrong type is not).
    const target = r.optString(result, "Target");
    const resultClass = r.optString(result, "Class");
    if (resultClass !== "" && !RESULT_CLASSES.has(resultClass)) {
      r.fail(`unknown Class ${JSON.stringify(resultClass)}`);
    }
    infos.push({ target, resultClass });
    for (const list of LISTS) {
      r.list = "";
      const items = r.optArray(result, list);
      readItems(r, i, list, 0, items, infos[i], findings);
    }
  }
  r.result = -1;
  r.list = "";
  const report: ScanReport = {
    source,
    artifactName,
    artifactType,
    createdAt,
    trivyVersion,
    os,
    eosl,
    diffIds,
    results: results.length,
    findings,
  };
  return { report, results: infos };
}

const LISTS: readonly FindingList[] = ["Vulnerabilities", "Secrets", "Misconfigurations"];

const READERS: Record<
  FindingList,
  (r: Reader, item: unknown, target: string, resultClass: string) => ScanFinding
> = {
  Vulnerabilities: readVulnerability,
  Secrets: readSecret,
  Misconfigurations: readMisconfiguration,
};

/** Reads elements `first...` of `Results[result].<list>` into `out`. */
function readItems(
  r: Reader,
  result: number,
  list: FindingList,
  first: number,
  items: unknown[],
  info: ResultInfo,
  out: ScanFinding[],
): void {
  const read = READERS[list];
  r.result = result;
  r.list = list;
  for (let j = 0; j < items.length; j++) {
    r.element = first + j;
    out.push(read(r, items[j], info.target, info.resultClass));
  }
}

/** Validates a parsed JSON document as a Trivy report and flattens its findings. */
export function reportFromJson(doc: unknown, source: string): ScanReport {
  return readDocument(doc, new Reader(source)).report;
}

/** JSON.parse with Trivy-report messages for what is not JSON. */
function parseJson(text: string, source: string): unknown {
  // A UTF-8 byte order mark is not JSON, but some editors add one; it changes nothing else.
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (body.trim() === "") throw invalid(source, "is empty");
  try {
    return JSON.parse(body);
  } catch (err) {
    const message = (err as Error).message;
    const truncated = /end of (JSON )?input|Unterminated/i.test(message);
    throw invalid(
      source,
      truncated ? `is truncated JSON (${message})` : `is not valid JSON (${message})`,
    );
  }
}

/** Parses the text of a report as one JSON document (the plain path). */
export function parseReport(text: string, source: string): ScanReport {
  return reportFromJson(parseJson(text, source), source);
}

/**
 * Parses a report's bytes: the findings arrays in batches (see split.ts), the rest as one document. Falls
 * back to the plain path whenever the bytes are not shaped as expected or a piece is not valid JSON, so
 * the outcome is always the plain path's, with less memory.
 */
export function parseReportBytes(bytes: Buffer, source: string, batchBytes?: number): ScanReport {
  const plain = () => parseReport(bytes.toString("utf8"), source);
  const split = splitReport(bytes, batchBytes);
  if (split === undefined) return plain();
  let skeleton: unknown;
  try {
    skeleton = JSON.parse(split.skeleton);
  } catch {
    return plain();
  }
  const r: Reader = new Reader(source);
  const { report, results } = readDocument(skeleton, r);
  // Elements read so far per list, so that messages give an element's index in the report.
  const seen = new Map<string, number>();
  for (const batch of split.batches) {
    let items: unknown[];
    try {
      items = JSON.parse(`[${bytes.toString("utf8", batch.start, batch.end)}]`) as unknown[];
    } catch {
      return plain();
    }
    const key = `${batch.result}.${batch.list}`;
    const first = seen.get(key) ?? 0;
    seen.set(key, first + items.length);
    readItems(r, batch.result, batch.list, first, items, results[batch.result], report.findings);
  }
  return report;
}

/** Reads a report file's bytes; one that cannot be read is SCAN_REPORT_INVALID, naming `source`. */
export function readReportBytes(path: string, source: string = path): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw invalid(source, `cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
}

/** Reads and parses a report file; `source` names it in messages (default: the path). */
export function readReport(path: string, source: string = path): ScanReport {
  return parseReportBytes(readReportBytes(path, source), source);
}
