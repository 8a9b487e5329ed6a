/** Re-exports only: one component per file. */
export * from "./appDeployment";
export * from "./appSpec";
export * from "./baseImage";
export * from "./builderImage";
export * from "./checks";
export * from "./dockerBuild";
export * from "./gateCommand";
export * from "./publishedImage";
export * from "./registry";
export * from "./releasePipeline";
export * from "./releaseReport";
export * from "./rollbackTarget";
export * from "./runtimeImage";
export * from "./scanGate";
export * from "./smokeGate";
export * from "./testGate";
export * from "./verification";
