#!/usr/bin/env bash
# run.sh — the end-to-end part of `.ci/run`: installs the environment's Debian packages, starts a Docker
# engine and the two registries, builds (or reuses) the base image, runs the e2e suite, and stops what it
# started whatever the outcome (trap). Extra arguments go to mocha (e.g. --grep rollback).
set -euo pipefail
cd "$(dirname "$0")/../.."

export SLIPWAY_DOCKER=/usr/bin/docker
export DOCKER_BUILDKIT=1

# shellcheck disable=SC2317 # called by the EXIT trap
stop_all() {
  local status=$?
  echo "run: stopping what was started"
  bash scripts/e2e/registry.sh stop || true
  bash scripts/e2e/docker.sh stop || true
  exit "$status"
}
trap stop_all EXIT

started=$SECONDS
bash scripts/e2e/install.sh
bash scripts/e2e/docker.sh start
bash scripts/e2e/registry.sh start
base_started=$SECONDS
bash scripts/e2e/base-image.sh >/dev/null
echo "run: base image ready in $((SECONDS - base_started))s"

# The suite's own hooks find everything up (the scripts are idempotent) and leave it to the trap.
suite_started=$SECONDS
status=0
SLIPWAY_E2E_SKIP_INSTALL=1 SLIPWAY_E2E_KEEP=1 npx mocha --timeout 600000 'tests/e2e/**/*.test.ts' "$@" ||
  status=$?
echo "run: e2e ${SECONDS}s in all: $((suite_started - started))s environment, $((SECONDS - suite_started))s suite (exit $status)"
exit "$status"
