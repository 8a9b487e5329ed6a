#!/usr/bin/env bash
# preview.sh STACK: `pulumi preview` of a stack for a pull request: what `pulumi up` would change,
# and the config errors (every problem with its config path) before anything is built.
# The output goes to the log and the job summary; the exit status is pulumi's.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

stack=${1:-}
valid_stack "$stack"

out=$(mktemp)
set +e
(cd "$ROOT" && pulumi preview --stack "$stack" --diff --non-interactive) 2>&1 | tee "$out"
status=${PIPESTATUS[0]}
set -e

verdict=$([[ $status == 0 ]] && echo "succeeded" || echo "FAILED (exit $status)")
summary "## pulumi preview --stack $stack: $verdict" "" "~~~text" "$(tail -n 300 "$out")" "~~~"
exit "$status"
