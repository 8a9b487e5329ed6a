# shellcheck shell=bash
# Helpers shared by the CI scripts (sourced, not run). The workflows in .github/workflows call the
# scripts beside this file; every step also works from a shell on a developer's machine (logged in to
# the same Pulumi backend), where the GitHub-only parts (step summary, outputs) are skipped.
#
# Stack outputs the scripts read (index.ts exports them): releaseTag, imageDigest, imageRef, repository,
# healthUrl, sourceCommit, releaseReport. Config keys they read or set: release.version, release.pin,
# release.promoteFrom, release.commit, baseImage, app.buildArgs.SLIPWAY_REBUILD, scan.severity,
# scan.trivyImage (the public config contract).

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# SLIPWAY_GATE stands in another gate CLI (tests: a recording fake).
GATE=${SLIPWAY_GATE:-$ROOT/bin/slipway-gate}
# Where the pipeline writes the gates' results (.slipway/releases, .slipway/rollbacks: the project
# root, its working directory) and the scripts their own files (.slipway/ci/STACK: pulumi's log, the
# report). The workflows upload .slipway/ as the run's evidence. SLIPWAY_OUT_ROOT moves both (tests).
OUT_ROOT=${SLIPWAY_OUT_ROOT:-$ROOT}
CI_DIR_BASE="$OUT_ROOT/.slipway/ci"

log() { printf '==> %s\n' "$*" >&2; }
warn() { printf '::warning::%s\n' "$*" >&2; }
die() {
  printf '::error::%s\n' "$*" >&2
  exit 1
}

# Appends lines to the job's summary page (GitHub), or does nothing elsewhere.
summary() {
  if [[ -n ${GITHUB_STEP_SUMMARY:-} ]]; then printf '%s\n' "$@" >>"$GITHUB_STEP_SUMMARY"; fi
}

# Sets a step output (GitHub), or prints it elsewhere.
set_output() {
  if [[ -n ${GITHUB_OUTPUT:-} ]]; then
    printf '%s=%s\n' "$1" "$2" >>"$GITHUB_OUTPUT"
  else
    printf '%s=%s\n' "$1" "$2" >&2
  fi
}

# No secret on a command line: any user of the machine can read every process's argv (`ps`), and CI
# logs may print it. Secrets reach tools through the environment, stdin or a private file only; the
# helpers below do that with shell builtins (printf never starts a process). tests/unit/workflows.test.ts
# runs the scripts with recording stand-ins for every tool and checks no secret value is in an argv.

# A curl config line, `NAME = "VALUE"`, for `curl --config -` (options read from stdin): how a secret
# URL or user:password reaches curl.
curl_option() { # NAME VALUE
  local value=${2//\\/\\\\}
  value=${value//\"/\\\"}
  printf '%s = "%s"\n' "$1" "$value"
}

# Logs Docker in to HOST with the token in the environment variable VAR, without `docker login`
# (whose --username would put it in argv): writes a private Docker config (DOCKER_CONFIG, a fresh
# 0700 directory removed on exit) whose auth entry is the token as user and password, as
# `doctl registry login` does for DOCR. base64 reads it on stdin.
docker_auth_from_env() { # HOST VAR
  local host=$1 var=$2 auth
  [[ -n ${!var:-} ]] || die "$var is not set: cannot log in to $host"
  DOCKER_AUTH_DIR=$(mktemp -d)
  trap 'rm -rf "$DOCKER_AUTH_DIR"' EXIT
  auth=$(printf '%s:%s' "${!var}" "${!var}" | base64 | tr -d '\n')
  (umask 077 && printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$host" "$auth" >"$DOCKER_AUTH_DIR/config.json")
  export DOCKER_CONFIG=$DOCKER_AUTH_DIR
}

valid_stack() {
  [[ ${1:-} =~ ^(dev|prod|local)$ ]] || die "unknown stack '${1:-}': expected dev, prod or local"
}

# The stack's config value at a path (`release.version`), or nothing (exit 0) when it is not set.
config_get() {
  pulumi config get --stack "$1" --path "$2" 2>/dev/null || true
}

# Sets a config value in this checkout's stack file only: the workflow that does it says which
# change to commit (or opens the pull request itself).
config_set() {
  pulumi config set --stack "$1" --path "$2" "$3" >/dev/null
}

# A stack output, or nothing when the stack has none yet (first release) or no such output.
stack_output() {
  pulumi stack output --stack "$1" "$2" 2>/dev/null || true
}

# Reads a field of a JSON file (`json_field FILE figures.current`); nothing when absent.
json_field() {
  node -e '
    const [file, path] = process.argv.slice(1);
    let v;
    try { v = JSON.parse(require("fs").readFileSync(file, "utf8")); } catch { process.exit(0); }
    for (const k of path.split(".")) { if (v === null || typeof v !== "object") { v = undefined; break; } v = v[k]; }
    if (v !== undefined && v !== null) process.stdout.write(typeof v === "string" ? v : JSON.stringify(v));
  ' "$1" "$2"
}

# The directory the pipeline writes a release's gate results to: the same function the components
# use (gates/commands.ts, compiled to dist/ by `npm ci`), so the two never disagree.
results_dir() { # VERSION [PIN]
  node -e '
    const c = require(process.argv[1]);
    const [version, pin] = process.argv.slice(2);
    process.stdout.write(pin ? c.rollbackReportDir(pin) : c.releaseReportDir(version));
  ' "$ROOT/dist/gates/commands.js" "$1" "${2:-}"
}

# Writes release.json when the pipeline has not: what this run knows of the release (the report
# prints the image, its digest, the base and the rollback target from it). MODE (release, promotion or
# rollback) decides the gates the report needs; a promotion also names the stack it promoted from.
# The digest is taken from the stack outputs only after a successful `pulumi up` (UPDATED=1): after a
# failed one they still describe the previous release.
write_release_json() { # DIR STACK VERSION MODE PREVIOUS UPDATED [PROMOTED_FROM]
  local dir=$1 stack=$2 version=$3 mode=$4 previous=$5 updated=$6 from=${7:-}
  [[ -f $dir/release.json ]] && return 0
  mkdir -p "$dir"
  local repository digest="" base
  repository=$(stack_output "$stack" repository)
  if [[ $updated == 1 ]]; then digest=$(stack_output "$stack" imageDigest); fi
  base=$(config_get "$stack" baseImage)
  # shellcheck disable=SC2016 # JavaScript template literals, not shell expansions
  RELEASE_VERSION=$version RELEASE_MODE=$mode RELEASE_STACK=$stack RELEASE_PREVIOUS=$previous \
    RELEASE_FROM=$from RELEASE_REPOSITORY=$repository RELEASE_DIGEST=$digest RELEASE_BASE=$base RELEASE_COMMIT=${GITHUB_SHA:-} \
    node -e '
      const { serializeReleaseInfo } = require(process.argv[1]);
      const e = process.env;
      const info = { version: e.RELEASE_VERSION, mode: e.RELEASE_MODE, stack: e.RELEASE_STACK };
      if (e.RELEASE_REPOSITORY) {
        const at = e.RELEASE_VERSION.startsWith("sha256:") ? "@" : ":";
        info.image = `${e.RELEASE_REPOSITORY}${at}${e.RELEASE_VERSION}`;
      }
      if (/^sha256:[a-f0-9]{64}$/.test(e.RELEASE_DIGEST ?? "")) info.digest = e.RELEASE_DIGEST;
      if (e.RELEASE_BASE) info.baseImage = e.RELEASE_BASE;
      if (e.RELEASE_PREVIOUS) info.previous = e.RELEASE_PREVIOUS;
      if (e.RELEASE_COMMIT) info.commit = e.RELEASE_COMMIT;
      if (e.RELEASE_FROM) info.promotedFrom = e.RELEASE_FROM;
      process.stdout.write(serializeReleaseInfo(info));
    ' "$ROOT/dist/gates/report/release.js" >"$dir/release.json"
}

# After a successful `pulumi up`, a gate with no result did not run because nothing it checks changed
# (its command's triggers are the digests it checked, and Pulumi keeps a command in its state only
# when it succeeded): mark it so, instead of letting the report call it "not run".
mark_unchanged() { # DIR GATE...
  local dir=$1 gate
  shift
  for gate in "$@"; do
    if [[ ! -f $dir/$gate.json && ! -f $dir/$gate.skipped ]]; then
      printf 'not re-run: nothing it checks changed since the last successful pulumi up (it passed then)\n' \
        >"$dir/$gate.skipped"
    fi
  done
}

# The scan gate runs Trivy from PATH, else from the image scan.trivyImage names. CI runners have no
# trivy: when the stack names no image either, this run uses $TRIVY_IMAGE (pinned by digest in the
# workflow) rather than fail with SCANNER_UNAVAILABLE.
ensure_scanner() { # STACK
  command -v trivy >/dev/null && return 0
  [[ -n $(config_get "$1" scan.trivyImage) || -z ${TRIVY_IMAGE:-} ]] && return 0
  [[ $TRIVY_IMAGE =~ @sha256:[a-f0-9]{64}$ ]] || die "TRIVY_IMAGE must be pinned by digest: $TRIVY_IMAGE"
  log "scan.trivyImage not set for $1: scanning with $TRIVY_IMAGE"
  config_set "$1" scan.trivyImage "$TRIVY_IMAGE"
}

# The stack a stack promotes from (config release.promoteFrom, e.g. prod → dev), or nothing when it
# builds its own images.
promote_source() { # STACK
  config_get "$1" release.promoteFrom
}

# Before a promotion: the source stack's current release must be the commit being released, and
# its report READY. Reads the source stack's outputs `sourceCommit` (config release.commit, set by CI
# before its `up`) and `releaseReport` ({verdict: READY|NOT READY, ...}). Dies saying what happened and
# what to do otherwise.
check_promotion() { # STACK SOURCE COMMIT
  local stack=$1 from=$2 commit=$3 source_commit verdict
  source_commit=$(stack_output "$from" sourceCommit)
  [[ -n $source_commit ]] ||
    die "cannot promote to $stack: stack $from has no sourceCommit output (no release of $from yet, or released without release.commit). Release $commit on $from first (push it to main), then run this again."
  if [[ $source_commit != "$commit" ]]; then
    die "cannot promote to $stack: $from's current release was built from commit $source_commit, not $commit (the commit being released). Wait for the $from release of $commit to finish (a push to main releases $from) and re-run this job, or tag the commit $from released ($source_commit)."
  fi
  mkdir -p "$CI_DIR_BASE"
  # --json: the output as JSON whatever its type (an object, or JSON text exported as a string).
  pulumi stack output --stack "$from" releaseReport --json >"$CI_DIR_BASE/$from-release-report.json" 2>/dev/null || true
  verdict=$(node -e '
    let v;
    try { v = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); } catch { process.exit(0); }
    if (typeof v === "string") { try { v = JSON.parse(v); } catch { process.exit(0); } }
    if (v !== null && typeof v === "object" && typeof v.verdict === "string") process.stdout.write(v.verdict);
  ' "$CI_DIR_BASE/$from-release-report.json")
  if [[ $verdict != READY ]]; then
    die "cannot promote to $stack: $from's release of $commit is ${verdict:-of unknown verdict (no releaseReport output)}, not READY: read $from's release report, fix it and release $from again."
  fi
  log "promoting to $stack what $from released from $commit (READY)"
}

# The commit this run releases: GitHub's, else this checkout's.
release_commit() {
  if [[ -n ${GITHUB_SHA:-} ]]; then
    printf '%s' "$GITHUB_SHA"
  else
    git -C "$ROOT" rev-parse HEAD 2>/dev/null || true
  fi
}

# Marks the gates a promotion does not run (the source stack ran them on the same digest).
mark_promoted() { # DIR FROM GATE...
  local dir=$1 from=$2 gate
  shift 2
  for gate in "$@"; do
    if [[ ! -f $dir/$gate.json && ! -f $dir/$gate.skipped ]]; then
      printf 'not run on a promotion: %s ran it on the same digest, and its report was READY\n' "$from" \
        >"$dir/$gate.skipped"
    fi
  done
}

# Runs `pulumi up` on a stack and assembles the release report, whatever the outcome.
# Sets: UP_STATUS (pulumi's exit code), REPORT_STATUS (the report gate's), CI_DIR, RESULTS_DIR.
# The report goes to $CI_DIR/report.md (+ report.json) and the job summary.
# The report's mode is the pipeline's: rollback with a pin, promotion with PROMOTE_FROM (it needs
# scan, promote, health), else release (preflight, lint, base, test, smoke, scan, promote, health).
release_and_report() { # STACK VERSION PIN PREVIOUS [PROMOTE_FROM]
  local stack=$1 version=$2 pin=$3 previous=$4 from=${5:-} mode=release
  if [[ -n $pin ]]; then
    mode=rollback
    from=""
  else
    ensure_scanner "$stack"
    if [[ -n $from ]]; then mode=promotion; fi
  fi
  CI_DIR="$CI_DIR_BASE/$stack"
  RESULTS_DIR="$OUT_ROOT/$(results_dir "$version" "$pin")"
  rm -rf "$CI_DIR" "$RESULTS_DIR"
  mkdir -p "$CI_DIR"

  log "pulumi up --stack $stack ($mode ${pin:-$version})"
  set +e
  (cd "$ROOT" && pulumi up --yes --non-interactive --diff --stack "$stack") 2>&1 | tee "$CI_DIR/pulumi-up.log"
  UP_STATUS=${PIPESTATUS[0]}
  set -e

  write_release_json "$RESULTS_DIR" "$stack" "${pin:-$version}" "$mode" "$previous" \
    "$((UP_STATUS == 0 ? 1 : 0))" "$from"
  if ((UP_STATUS == 0)); then
    case $mode in
      rollback) mark_unchanged "$RESULTS_DIR" resolve health ;;
      promotion)
        mark_promoted "$RESULTS_DIR" "$from" preflight lint base test smoke
        mark_unchanged "$RESULTS_DIR" scan promote health
        ;;
      *) mark_unchanged "$RESULTS_DIR" preflight lint base test smoke scan promote health ;;
    esac
  fi

  set +e
  "$GATE" report --from "$RESULTS_DIR" --out "$CI_DIR/report.md" --json "$CI_DIR/report.json" \
    ${previous:+--previous "$previous"}
  # shellcheck disable=SC2034 # read by the scripts that call this function
  REPORT_STATUS=$?
  set -e
  if [[ -f $CI_DIR/report.md ]]; then
    summary "$(cat "$CI_DIR/report.md")"
  fi
  set_output report "$CI_DIR/report.md"
  set_output readiness "$(json_field "$CI_DIR/report.json" figures.readiness)"
  set_output code "$(json_field "$CI_DIR/report.json" code)"
}
