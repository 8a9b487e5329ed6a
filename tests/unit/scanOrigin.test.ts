import assert from "node:assert/strict";
import { join } from "node:path";
import { detailLines, figuresOf, findingRecord, originLine } from "../../gates/scan/format";
import {
  attributor,
  countOrigins,
  layerRelation,
  originOf,
  parseRootFsLayers,
  type BaseLayers,
} from "../../gates/scan/origin";
import { baselineKeys, evaluate, type PolicyOutcome } from "../../gates/scan/policy";
import { readReport, type ScanFinding, type ScanReport } from "../../gates/scan/report";

const FIXTURES = join(__dirname, "..", "fixtures", "trivy");
const APP_IMAGE = readReport(join(FIXTURES, "derived", "debian-buster-app-layer.json"));
const DEBIAN = readReport(join(FIXTURES, "debian-buster.json"));
const BASE = "sha256:78c1b9419976227e05be9d243b7fa583bea44a5258e52018b2af4cdfe23d148d";
const APP = "sha256:a3e30fc00f95f88f6fcc8977d5ae1dabecd3f14f12a799a1c1bf66eb1f1b22b1";
const OTHER = `sha256:${"c".repeat(64)}`;
const NOW = new Date("2025-01-05T02:00:00Z");

const finding = (layer: string): ScanFinding => ({ ...APP_IMAGE.findings[0], layer });

/** The app image's report, against debian-buster's as the baseline, attributed with `base`. */
function outcomeOf(base: BaseLayers, report: ScanReport = APP_IMAGE): PolicyOutcome {
  return evaluate(report.findings, {
    threshold: "HIGH",
    ignoreUnfixed: false,
    now: NOW,
    baseline: baselineKeys(DEBIAN.findings),
    originOf: attributor(base),
  });
}

describe("scan: base image or app (--base-image)", () => {
  describe("reading docker image inspect's RootFS.Layers", () => {
    it("reads the JSON array of DiffIDs, as printed with a trailing newline", () => {
      assert.deepEqual(parseRootFsLayers(`["${BASE}","${APP}"]\n`), { layers: [BASE, APP] });
    });

    it("says what is wrong with anything else, an image without layers included", () => {
      const cases: [string, RegExp][] = [
        ["", /unexpected output of docker image inspect: \(empty\)/],
        ["<no value>", /unexpected output/],
        ["null", /lists no layers/],
        ["[]", /lists no layers/],
        ['{"a":1}', /unexpected output of docker image inspect: \{"a":1\}/],
        ['["sha256:abc"]', /holds "sha256:abc", not a sha256 DiffID/],
        [`["${BASE}", 7]`, /holds 7/],
      ];
      for (const [stdout, problem] of cases) {
        const parsed = parseRootFsLayers(stdout);
        assert.ok("problem" in parsed, stdout);
        assert.match(parsed.problem, problem);
      }
    });
  });

  describe("the origin of a finding", () => {
    const layers = new Set([BASE]);

    it("is base in one of the base's layers, app in any other, unknown without a layer", () => {
      assert.equal(originOf(finding(BASE), layers), "base");
      assert.equal(originOf(finding(APP), layers), "app");
      assert.equal(originOf(finding(""), layers), "unknown");
    });

    it("is unknown for every finding when the base's layers could not be read", () => {
      const origin = attributor({ ref: "debian:buster", error: "No such image" });
      for (const layer of [BASE, APP, ""]) assert.equal(origin(finding(layer)), "unknown");
    });

    it("counts by origin", () => {
      assert.deepEqual(countOrigins(["base", "app", "base"]), { base: 2, app: 1, unknown: 0 });
      assert.deepEqual(countOrigins([]), { base: 0, app: 0, unknown: 0 });
    });
  });

  describe("how the base's layers sit in the image", () => {
    it("is a prefix when the image was built on the base", () => {
      assert.equal(layerRelation([BASE, APP], [BASE]), "prefix");
      assert.equal(layerRelation([BASE], [BASE]), "prefix");
    });

    it("is not a prefix when the image starts otherwise or is shorter than the base", () => {
      assert.equal(layerRelation([OTHER, BASE, APP], [BASE]), "not-prefix");
      assert.equal(layerRelation([BASE], [BASE, APP]), "not-prefix");
    });

    it("is unknown when the report lists no image layers", () => {
      assert.equal(layerRelation([], [BASE]), "unknown");
    });
  });

  describe("what the gate says", () => {
    const base: BaseLayers = { ref: "debian:buster", layers: [BASE] };
    const options = { threshold: "HIGH" as const, ignoreUnfixed: false, base };

    it("labels each blocking and carried-over line, and counts each section by origin", () => {
      const lines = detailLines(APP_IMAGE, outcomeOf(base), options);
      assert.deepEqual(
        lines.filter((l) => /^(blocking|carried over)|\[(base|app|unknown)\]$/.test(l)),
        [
          "blocking: 1 finding (1 unique ID); origin: base 0, app 1, unknown 0",
          "  CVE-2019-18224 CRITICAL libidn2-dev 2.0.5-1 → 2.0.5-1+deb10u1 in slipway/app:1.0 (debian 10.1) [app]",
          "carried over from the baseline (not blocking): 1 finding; origin: base 1, app 0, unknown 0",
          "  CVE-2019-18224 CRITICAL libidn2-0 2.0.5-1 → 2.0.5-1+deb10u1 in slipway/app:1.0 (debian 10.1) [base]",
        ],
      );
    });

    it("says the base is the image's first layers", () => {
      assert.match(
        originLine(APP_IMAGE, base),
        /^origin: the base image debian:buster is the image's first 1 of 2 layers; \[base\]: found in one of them; /,
      );
    });

    it("warns when the image does not start with the base's layers", () => {
      const other: BaseLayers = { ref: "debian:bullseye", layers: [OTHER] };
      assert.match(
        originLine(APP_IMAGE, other),
        /^origin: the base image debian:bullseye has 1 layer, but the image's 2 layers do not start with them/,
      );
    });

    it("says why the base could not be read, and that every origin is unknown", () => {
      const missing: BaseLayers = {
        ref: "debian:buster",
        error: "docker image inspect exited 1: Error: No such image: debian:buster",
      };
      const lines = detailLines(APP_IMAGE, outcomeOf(missing), { ...options, base: missing });
      assert.ok(
        lines.includes(
          "origin: cannot read the layers of the base image debian:buster (docker image inspect exited 1: Error: No such image: debian:buster): every finding's origin is unknown (pull the base image to tell base from app; the verdict does not depend on it)",
        ),
        lines.join("\n"),
      );
      assert.ok(
        lines.includes("blocking: 1 finding (1 unique ID); origin: base 0, app 0, unknown 1"),
      );
    });

    it("puts origin and layer in the --json records and the counts in the figures", () => {
      const outcome = outcomeOf(base);
      assert.deepEqual(
        outcome.blocking.map(findingRecord).map((r) => [r.package, r.origin, r.layer]),
        [["libidn2-dev", "app", APP]],
      );
      const figures = figuresOf(APP_IMAGE, outcome, { ...options, allowlistEntries: 0 });
      assert.deepEqual(
        Object.fromEntries(
          Object.entries(figures).filter(([k]) => /origin|^baseImage|^image\./.test(k)),
        ),
        {
          baseImage: "debian:buster",
          "baseImage.inspected": true,
          "baseImage.layers": 1,
          "image.layers": 2,
          "blocking.origin.base": 0,
          "blocking.origin.app": 1,
          "blocking.origin.unknown": 0,
          "carriedOver.origin.base": 1,
          "carriedOver.origin.app": 0,
          "carriedOver.origin.unknown": 0,
          "allowlisted.origin.base": 0,
          "allowlisted.origin.app": 0,
          "allowlisted.origin.unknown": 0,
        },
      );
    });

    it("adds nothing about origins when no base image was given", () => {
      const outcome = evaluate(APP_IMAGE.findings, {
        threshold: "HIGH",
        ignoreUnfixed: false,
        now: NOW,
      });
      const plain = { threshold: "HIGH" as const, ignoreUnfixed: false };
      assert.ok(detailLines(APP_IMAGE, outcome, plain).every((l) => !/origin|\[app\]/.test(l)));
      assert.ok(outcome.blocking.map(findingRecord).every((r) => !("origin" in r)));
      const figures = figuresOf(APP_IMAGE, outcome, { ...plain, allowlistEntries: 0 });
      assert.ok(Object.keys(figures).every((k) => !/origin|baseImage/.test(k)));
    });
  });
});
