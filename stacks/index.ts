/** The config layer's public names: the schema, the environment rules, the loader and its error. */
export {
  baseConfigSchema,
  ENVIRONMENTS,
  isEnvironment,
  sizeString,
  tagName,
  type Environment,
  type ReleaseConfig,
  type Severity,
} from "./schema";
export {
  applyRules,
  DOCR_HOST,
  PROD_COVERAGE_MIN,
  releaseConfigSchema,
  RULES,
  type Rule,
} from "./rules";
export { configPath, formatProblem, formatProblems, NAMESPACE, type Problem } from "./errors";
export {
  checkReleaseConfig,
  ConfigError,
  loadReleaseSettings,
  OFFLINE_SECRET_PLACEHOLDER,
  parseReleaseConfig,
  SECRETS_KEY,
  SLACK_KEY,
  withOfflineSecrets,
  type ReleaseSettings,
} from "./load";
