import { GateError } from "../result";

/**
 * The release's SBOM: the CycloneDX JSON Trivy converts from the scan's own report (`trivy convert`),
 * validated against the CycloneDX schema of the version it declares (`@cyclonedx/cyclonedx-library`'s
 * strict JSON validator, over ajv), and summarized for the verdict and the release report: what it
 * describes, its components by type, the operating system.
 *
 * An SBOM that does not validate is SBOM_INVALID: evidence nobody can read is not evidence.
 */

export interface SbomSummary {
  /** `1.5`, as the document declares it. */
  specVersion: string;
  /** The described artifact (`metadata.component.name`): the image reference scanned. */
  subject: string;
  components: number;
  /** Components by CycloneDX type (`library`, `operating-system`, ...), in key order. */
  byType: Record<string, number>;
  /** The operating-system component: Trivy names it by family (`debian`) and version (`12.15`). */
  os: { name: string; version: string } | undefined;
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function invalid(source: string, problem: string, details: string[] = []): GateError {
  return new GateError("SBOM_INVALID", `${source} ${problem}`, [
    ...details,
    "the SBOM is Trivy's CycloneDX conversion of the scan's report (`trivy convert --format cyclonedx`): re-run the scan; if it persists, the Trivy build writes CycloneDX this schema rejects",
  ]);
}

/** Summarizes a parsed CycloneDX document (no validation: see `validateSbom`). */
export function summarizeSbom(doc: unknown, source: string): SbomSummary {
  if (!isObject(doc) || doc.bomFormat !== "CycloneDX") {
    throw invalid(source, 'is not a CycloneDX JSON document (no "bomFormat": "CycloneDX")');
  }
  const components = Array.isArray(doc.components) ? doc.components : [];
  const byType: Record<string, number> = {};
  let os: SbomSummary["os"];
  for (const c of components) {
    if (!isObject(c)) continue;
    const type = typeof c.type === "string" ? c.type : "unknown";
    byType[type] = (byType[type] ?? 0) + 1;
    if (type === "operating-system" && os === undefined) {
      os = {
        name: typeof c.name === "string" ? c.name : "",
        version: typeof c.version === "string" ? c.version : "",
      };
    }
  }
  const sorted: Record<string, number> = {};
  for (const key of Object.keys(byType).sort()) sorted[key] = byType[key];
  const meta = isObject(doc.metadata) ? doc.metadata : {};
  const subject = isObject(meta.component) && typeof meta.component.name === "string";
  return {
    specVersion: typeof doc.specVersion === "string" ? doc.specVersion : "",
    subject: subject ? ((meta.component as Json).name as string) : "",
    components: components.length,
    byType: sorted,
    os,
  };
}

/**
 * Validates an SBOM's text against the CycloneDX JSON schema of its `specVersion` and summarizes it.
 * Throws SBOM_INVALID naming the first schema violations.
 */
export async function validateSbom(text: string, source: string): Promise<SbomSummary> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw invalid(source, `is not JSON (${(err as Error).message})`);
  }
  const summary = summarizeSbom(doc, source);
  // Loaded here: the library and ajv are only needed when an SBOM is made.
  const { Spec, Validation } =
    require("@cyclonedx/cyclonedx-library") as typeof import("@cyclonedx/cyclonedx-library");
  const version = Object.values(Spec.Version).find((v) => v === summary.specVersion);
  if (version === undefined) {
    throw invalid(
      source,
      `declares specVersion "${summary.specVersion}", which is not a CycloneDX version this gate validates`,
      [`known: ${Object.values(Spec.Version).join(", ")}`],
    );
  }
  const errors = await new Validation.JsonStrictValidator(version).validate(text);
  if (errors !== null && errors !== undefined) {
    const list = Array.isArray(errors)
      ? (errors as { instancePath?: string; message?: string }[])
      : [];
    throw invalid(
      source,
      `does not validate against the CycloneDX ${summary.specVersion} JSON schema`,
      list
        .slice(0, 10)
        .map((e) => `${e.instancePath === "" ? "(document)" : e.instancePath}: ${e.message}`),
    );
  }
  return summary;
}

/** The verdict's figures about the SBOM (flat, like every gate figure). */
export function sbomFigures(path: string, s: SbomSummary): Record<string, string | number> {
  const figures: Record<string, string | number> = {
    sbom: path,
    "sbom.format": `CycloneDX ${s.specVersion}`,
    "sbom.subject": s.subject,
    "sbom.components": s.components,
    "sbom.os": s.os === undefined ? "" : `${s.os.name} ${s.os.version}`.trim(),
  };
  for (const [type, n] of Object.entries(s.byType)) figures[`sbom.components.${type}`] = n;
  return figures;
}
