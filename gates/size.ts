/**
 * Sizes as people write them in config (`2GB`, `1.5GiB`, `500MB`, `1048576`) and as gates print them.
 *
 * Units follow their names, as Docker's own CLI does: decimal `kB/KB`, `MB`, `GB`, `TB` are powers of
 * 1000 (`2GB` = 2 000 000 000 bytes, which is how `docker image ls` reports sizes), binary `KiB`, `MiB`,
 * `GiB`, `TiB` are powers of 1024 (`1.5GiB` = 1 610 612 736 bytes). Unit letters are case-insensitive and
 * always mean bytes (`2gb` is 2 GB, not gigabits). A bare number is bytes.
 */

const UNITS: Record<string, number> = {
  B: 1,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  TB: 1e12,
  KIB: 2 ** 10,
  MIB: 2 ** 20,
  GIB: 2 ** 30,
  TIB: 2 ** 40,
};

const SIZE = /^(\d+(?:\.\d+)?)\s*([KMGT]i?B|B)?$/i;

/**
 * Parses a size into bytes (an integer, rounded to the nearest byte).
 * @throws RangeError on anything else (negative, empty, unknown unit, a fraction of a byte).
 */
export function parseSize(text: string): number {
  const match = SIZE.exec(text.trim());
  if (match === null) {
    throw new RangeError(
      `"${text}" is not a size: expected e.g. 2GB, 1.5GiB, 500MB or a byte count`,
    );
  }
  const [, amount, unit] = match as unknown as [string, string, string | undefined];
  const factor = UNITS[(unit ?? "B").toUpperCase()];
  if (factor === undefined) {
    throw new RangeError(`"${text}": unknown size unit`);
  }
  const bytes = Number(amount) * factor;
  if (factor === 1 && !Number.isInteger(bytes)) {
    throw new RangeError(`"${text}": a byte count must be a whole number`);
  }
  if (!Number.isSafeInteger(Math.round(bytes))) {
    throw new RangeError(`"${text}" is too large`);
  }
  return Math.round(bytes);
}

/**
 * Bytes for people, in decimal units like `docker image ls` (`660 MB`, `2.31 GB`, `999 B`), with three
 * significant digits; `binary: true` gives `1.5 GiB`.
 */
export function formatSize(bytes: number, options: { binary?: boolean } = {}): string {
  const base = options.binary === true ? 1024 : 1000;
  const units =
    options.binary === true ? ["B", "KiB", "MiB", "GiB", "TiB"] : ["B", "kB", "MB", "GB", "TB"];
  const sign = bytes < 0 ? "-" : "";
  let value = Math.abs(bytes);
  let unit = 0;
  while (value >= base && unit < units.length - 1) {
    value /= base;
    unit += 1;
  }
  if (unit === 0) {
    return `${sign}${Math.round(value)} B`;
  }
  // Three significant digits, without trailing zeros: 1.5 GB, 12.3 MB, 660 MB.
  let shown = Number(value.toPrecision(3));
  if (shown >= base && unit < units.length - 1) {
    shown = Number((shown / base).toPrecision(3));
    unit += 1;
  }
  return `${sign}${shown} ${units[unit]}`;
}
