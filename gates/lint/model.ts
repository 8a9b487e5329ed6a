import { DockerfileParser, From, Instruction, Property } from "dockerfile-ast";
import { expandVariables } from "./expand";

/**
 * What the lint rules need from a Dockerfile: the global ARGs (before the first FROM, the only ones
 * a FROM can use), and per stage its base after ARG substitution and its USER instructions.
 * Lines are 1-based, as editors and `docker build` errors show them.
 */
export interface GlobalArg {
  name: string;
  /** The value FROM lines see: the --build-arg override, else the expanded default; undefined if unset. */
  value: string | undefined;
  line: number;
}

export interface UserInstruction {
  line: number;
  /** As written: `${APP_USER}:app`. */
  raw: string;
  /** After ARG/ENV substitution. */
  user: string;
}

export type StageBase =
  /** `FROM <earlier stage>`: inherits that stage's filesystem and user. */
  | { kind: "stage"; parent: number }
  /** `FROM scratch`: an empty filesystem, not an image. */
  | { kind: "scratch" }
  /** An image from a registry. */
  | { kind: "external"; image: string }
  /** No usable image name (missing, or empty after substitution). */
  | { kind: "invalid"; image: string; unset: string[] };

export interface Stage {
  index: number;
  /** `AS name`, lower-cased as Docker does; undefined for an unnamed stage. */
  name?: string;
  line: number;
  /** The FROM image as written (`${BASE_IMAGE}`). */
  raw: string;
  base: StageBase;
  users: UserInstruction[];
}

export interface DockerfileModel {
  globalArgs: GlobalArg[];
  stages: Stage[];
  /** Build args given that no global or stage ARG declares (Docker ignores them, with a warning). */
  unusedBuildArgs: string[];
}

/** ARGs BuildKit defines for every build, usable in FROM without a declaration. */
const AUTOMATIC_ARGS: Record<string, string> = {
  BUILDPLATFORM: "linux/amd64",
  BUILDOS: "linux",
  BUILDARCH: "amd64",
  TARGETPLATFORM: "linux/amd64",
  TARGETOS: "linux",
  TARGETARCH: "amd64",
};

function lineOf(instruction: Instruction): number {
  return instruction.getRange().start.line + 1;
}

function propertiesOf(instruction: Instruction): Property[] {
  const keyword = instruction.getKeyword();
  if (keyword === "ARG" || keyword === "ENV") {
    const withProps = instruction as unknown as {
      getProperties?: () => Property[];
      getProperty?: () => Property | null;
    };
    if (withProps.getProperties !== undefined) return withProps.getProperties();
    const one = withProps.getProperty?.();
    return one === null || one === undefined ? [] : [one];
  }
  return [];
}

export function buildModel(
  content: string,
  buildArgs: ReadonlyMap<string, string>,
): DockerfileModel {
  const dockerfile = DockerfileParser.parse(content);
  const escape = dockerfile.getEscapeCharacter();
  const declared = new Set<string>();

  const globals = new Map<string, string | undefined>();
  const globalArgs: GlobalArg[] = [];
  for (const arg of dockerfile.getInitialARGs()) {
    const property = arg.getProperty();
    if (property === null) continue;
    const name = property.getName();
    declared.add(name);
    const raw = property.getValue();
    const fallback =
      raw === null
        ? undefined
        : expandVariables(raw, (n) => globals.get(n) ?? AUTOMATIC_ARGS[n], escape).value;
    const value = buildArgs.get(name) ?? fallback;
    globals.set(name, value);
    globalArgs.push({ name, value, line: lineOf(arg) });
  }
  const globalLookup = (name: string): string | undefined =>
    globals.has(name) ? globals.get(name) : AUTOMATIC_ARGS[name];

  const stages: Stage[] = [];
  let current: Stage | undefined;
  /** Variables visible in the current stage: its ARGs and ENVs (ENV is also inherited from a parent stage). */
  let scope = new Map<string, string | undefined>();
  const envOf = new Map<number, Map<string, string | undefined>>();

  for (const instruction of dockerfile.getInstructions()) {
    const keyword = instruction.getKeyword();
    if (keyword === "FROM") {
      if (current !== undefined) envOf.set(current.index, scope);
      const from = instruction as From;
      const raw = from.getImage() ?? "";
      const expanded = expandVariables(raw, globalLookup, escape);
      const image = expanded.value.trim();
      const stageName = from.getBuildStage()?.toLowerCase();
      const parent = stages.findIndex(
        (s) => s.name !== undefined && s.name === image.toLowerCase(),
      );
      let base: StageBase;
      if (image === "") {
        base = { kind: "invalid", image, unset: expanded.unset };
      } else if (parent !== -1) {
        base = { kind: "stage", parent };
      } else if (image.toLowerCase() === "scratch") {
        base = { kind: "scratch" };
      } else {
        base = { kind: "external", image };
      }
      current = {
        index: stages.length,
        ...(stageName === undefined ? {} : { name: stageName }),
        line: lineOf(instruction),
        raw,
        base,
        users: [],
      };
      stages.push(current);
      scope = new Map(base.kind === "stage" ? (envOf.get(base.parent) ?? []) : []);
      continue;
    }
    if (current === undefined) continue;
    const lookup = (name: string): string | undefined =>
      scope.has(name) ? scope.get(name) : undefined;
    if (keyword === "ARG") {
      for (const property of propertiesOf(instruction)) {
        const name = property.getName();
        declared.add(name);
        const raw = property.getValue();
        const value =
          buildArgs.get(name) ??
          (raw === null ? globals.get(name) : expandVariables(raw, lookup, escape).value);
        scope.set(name, value);
      }
    } else if (keyword === "ENV") {
      for (const property of propertiesOf(instruction)) {
        const raw = property.getValue() ?? "";
        scope.set(property.getName(), expandVariables(raw, lookup, escape).value);
      }
    } else if (keyword === "USER") {
      const raw = (instruction.getArgumentsContent() ?? "").trim();
      current.users.push({
        line: lineOf(instruction),
        raw,
        user: expandVariables(raw, lookup, escape).value.trim(),
      });
    }
  }

  const unusedBuildArgs = [...buildArgs.keys()].filter((name) => !declared.has(name));
  return { globalArgs, stages, unusedBuildArgs };
}
