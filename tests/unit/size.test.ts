import assert from "node:assert/strict";
import { formatSize, parseSize } from "../../gates/size";

describe("size parsing", () => {
  const cases: Array<[string, number]> = [
    ["2GB", 2_000_000_000],
    ["1.5GiB", 1_610_612_736],
    ["500MB", 500_000_000],
    ["500 MB", 500_000_000],
    ["10kB", 10_000],
    ["10KiB", 10_240],
    ["1TiB", 2 ** 40],
    ["3TB", 3e12],
    ["2gb", 2_000_000_000],
    ["1048576", 1_048_576],
    ["42B", 42],
    [" 7MiB ", 7 * 2 ** 20],
    ["0", 0],
  ];
  for (const [text, bytes] of cases) {
    it(`reads "${text}" as ${bytes} bytes`, () => {
      assert.equal(parseSize(text), bytes);
    });
  }

  it("uses decimal GB (10^9) and binary GiB (2^30): 2GB is less than 2GiB", () => {
    assert.ok(parseSize("2GB") < parseSize("2GiB"));
    assert.equal(parseSize("1GiB") - parseSize("1GB"), 73_741_824);
  });

  for (const bad of ["", "GB", "-1GB", "2 gigabytes", "1.5", "1.5B", "2PB", "1e3", "2GB extra"]) {
    it(`rejects "${bad}" with a RangeError`, () => {
      assert.throws(() => parseSize(bad), RangeError);
    });
  }
});

describe("size formatting", () => {
  const cases: Array<[number, string]> = [
    [0, "0 B"],
    [999, "999 B"],
    [1000, "1 kB"],
    [184_949_531, "185 MB"],
    [660_000_000, "660 MB"],
    [2_310_000_000, "2.31 GB"],
    [999_999_999, "1 GB"],
    [84_949_531, "84.9 MB"],
    [-5_000_000, "-5 MB"],
  ];
  for (const [bytes, text] of cases) {
    it(`shows ${bytes} bytes as "${text}" (decimal units, 3 significant digits)`, () => {
      assert.equal(formatSize(bytes), text);
    });
  }

  it("shows binary units on request", () => {
    assert.equal(formatSize(1_610_612_736, { binary: true }), "1.5 GiB");
    assert.equal(formatSize(1023, { binary: true }), "1023 B");
    assert.equal(formatSize(1024, { binary: true }), "1 KiB");
  });

  it("round-trips what it parses, to three significant digits", () => {
    assert.equal(formatSize(parseSize("2GB")), "2 GB");
    assert.equal(formatSize(parseSize("1.5GiB")), "1.61 GB");
  });
});
