import { GateError } from "../result";

/**
 * What a verdict records about the scanner: Trivy's version and its vulnerability DB's, read from
 * `trivy version --format json` (pkg/types/version.go `VersionInfo`; the DB fields are trivy-db's
 * `metadata.Metadata`: Version, NextUpdate, UpdatedAt, DownloadedAt). Trivy omits `VulnerabilityDB` when
 * its cache holds none: then `db` is undefined, and a gate asked to find vulnerabilities fails closed.
 */
export interface TrivyDb {
  /** The DB schema version (2 for Trivy's current DB). */
  version: number;
  /** When the DB was built upstream: how fresh the vulnerability data is. */
  updatedAt: string;
  downloadedAt: string;
  nextUpdate: string;
}

export interface TrivyInfo {
  /** Trivy's version (`dev` for builds outside Trivy's release process, such as cdxgen's). */
  version: string;
  db: TrivyDb | undefined;
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function text(obj: Json, key: string): string {
  const value = obj[key];
  return typeof value === "string" ? value : "";
}

/** Parses `trivy version --format json`; anything else is SCANNER_UNAVAILABLE (Trivy is not what we think). */
export function trivyInfoFromJson(output: string, source: string): TrivyInfo {
  let doc: unknown;
  try {
    doc = JSON.parse(output);
  } catch {
    doc = undefined;
  }
  if (!isObject(doc) || typeof doc.Version !== "string") {
    throw new GateError(
      "SCANNER_UNAVAILABLE",
      `${source} did not print Trivy's version as JSON ({"Version": ...})`,
      [
        output.trim().slice(0, 200),
        "check that the binary is Trivy (`trivy version --format json`)",
      ],
    );
  }
  const db = doc.VulnerabilityDB;
  return {
    version: doc.Version,
    db: isObject(db)
      ? {
          version: typeof db.Version === "number" ? db.Version : 0,
          updatedAt: text(db, "UpdatedAt"),
          downloadedAt: text(db, "DownloadedAt"),
          nextUpdate: text(db, "NextUpdate"),
        }
      : undefined,
  };
}

/** The verdict's figures about the scanner. */
export function trivyFigures(
  info: TrivyInfo,
  scanners: readonly string[],
): Record<string, string | number | boolean> {
  return {
    scanners: scanners.join(","),
    "trivy.version": info.version,
    "trivy.db": info.db !== undefined,
    "trivy.db.version": info.db?.version ?? 0,
    "trivy.db.updatedAt": info.db?.updatedAt ?? "",
    "trivy.db.downloadedAt": info.db?.downloadedAt ?? "",
  };
}
