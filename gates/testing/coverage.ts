import { parseXml } from "./xml";

/**
 * Reads the total from coverage.py's machine output, never from the terminal table (whose rounded
 * `75%` may hide 74.6).
 *
 * The source is the Cobertura XML report (`--cov-report=xml:FILE`), not the JSON one: measured on
 * Debian bookworm's python3-pytest-cov 4.0.0, `--cov-report=json:...` is rejected ("invalid choice",
 * pytest exit 4), while `xml` is supported by every pytest-cov version. The root element carries the
 * exact counts coverage.py totals from: `lines-valid`/`lines-covered` and, with branch coverage,
 * `branches-valid`/`branches-covered`; the total percent is
 * `(lines-covered + branches-covered) / (lines-valid + branches-valid)`, which is coverage.py's own
 * `percent_covered` (100 when nothing was measured, as coverage.py says).
 */

export interface CoverageTotal {
  /** Exact percent covered (0-100). */
  percent: number;
  statements: number;
  coveredStatements: number;
  branches: number;
  coveredBranches: number;
}

export type CoverageRead = { ok: true; total: CoverageTotal } | { ok: false; problem: string };

function count(attributes: Record<string, string>, name: string): number | undefined {
  const text = attributes[name];
  if (text === undefined || !/^\d+$/.test(text.trim())) {
    return undefined;
  }
  return Number(text);
}

export function readCoverageXml(text: string): CoverageRead {
  const doc = parseXml(text);
  const root = doc.root;
  if (root === undefined || root.name !== "coverage") {
    return { ok: false, problem: "the coverage report is not Cobertura XML (no <coverage> root)" };
  }
  const statements = count(root.attributes, "lines-valid");
  const coveredStatements = count(root.attributes, "lines-covered");
  if (statements === undefined || coveredStatements === undefined) {
    // Very old reports have only rates: use line-rate (4 decimals) rather than give up.
    const rate = Number(root.attributes["line-rate"]);
    if (
      root.attributes["line-rate"] !== undefined &&
      Number.isFinite(rate) &&
      rate >= 0 &&
      rate <= 1
    ) {
      return {
        ok: true,
        total: {
          percent: rate * 100,
          statements: 0,
          coveredStatements: 0,
          branches: 0,
          coveredBranches: 0,
        },
      };
    }
    return { ok: false, problem: "the coverage report has no lines-valid/lines-covered totals" };
  }
  const branches = count(root.attributes, "branches-valid") ?? 0;
  const coveredBranches = count(root.attributes, "branches-covered") ?? 0;
  const measured = statements + branches;
  const covered = coveredStatements + coveredBranches;
  if (covered > measured) {
    return {
      ok: false,
      problem: "the coverage report's totals are inconsistent (covered > valid)",
    };
  }
  return {
    ok: true,
    total: {
      percent: measured === 0 ? 100 : (100 * covered) / measured,
      statements,
      coveredStatements,
      branches,
      coveredBranches,
    },
  };
}

/**
 * A percent truncated to two decimals (74.999 → 74.99, never a misleading 75.00 below a floor of 75).
 * The epsilon absorbs binary floating point (100 * 746 / 1000 is 74.6, but 74.6 * 100 is 7459.99...).
 */
export function truncatePercent(percent: number): number {
  return Math.floor(percent * 100 + 1e-6) / 100;
}

/** `74.62%`: two decimals, truncated (see {@link truncatePercent}). */
export function formatPercent(percent: number): string {
  return `${truncatePercent(percent).toFixed(2)}%`;
}
