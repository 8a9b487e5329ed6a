#!/usr/bin/env bash
# rollback.sh STACK TAG: the one-step rollback. Sets release.pin to TAG (a version tag or sha256:
# digest already in the registry), runs `pulumi up` (nothing is built, tested, scanned or pushed: the
# pin is resolved to its digest, missing → ROLLBACK_TAG_NOT_FOUND naming the tags that exist, before
# anything changes; `latest` is re-pointed; the app is deployed by that digest and verified), checks
# that the stack now runs the pinned digest and that the app answers, and says how to unpin.
#
#   GH_TOKEN (optional): opens a pull request recording the pin in Pulumi.STACK.yaml (config-pr.sh).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

stack=${1:-}
tag=${2:-}
valid_stack "$stack"
[[ $tag =~ ^([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|sha256:[a-f0-9]{64})$ ]] ||
  die "'$tag' is neither a tag (v1.4.2) nor a digest (sha256:<64 hex>)"

previous=$(stack_output "$stack" releaseTag)
version=$(config_get "$stack" release.version)
log "rolling back stack $stack from ${previous:-(nothing deployed)} to $tag"
config_set "$stack" release.pin "$tag"

release_and_report "$stack" "$version" "$tag" "$previous"
set_output previous "$previous"
if ((UP_STATUS != 0)); then
  printf '::error::rollback of %s to %s failed (pulumi up exit %s): the report lists what stopped it (ROLLBACK_TAG_NOT_FOUND names the tags that exist)\n' \
    "$stack" "$tag" "$UP_STATUS" >&2
  exit "$UP_STATUS"
fi

# Verify: the stack runs the pinned digest, and the app answers on its health URL now.
resolved=$(json_field "$RESULTS_DIR/resolve.json" figures.digest)
deployed=$(stack_output "$stack" imageDigest)
if [[ -n $resolved && $deployed != "$resolved" ]]; then
  die "stack $stack reports digest $deployed, but $tag resolves to $resolved"
fi
url=$(stack_output "$stack" healthUrl)
if [[ -n $url ]]; then
  "$GATE" health --url "$url" --timeout "${VERIFY_TIMEOUT:-120}" --json "$CI_DIR/verify.json" ||
    die "the app does not answer on $url after the rollback: see the health result above"
fi
((REPORT_STATUS == 0)) || die "the rollback report is NOT READY: read it in the job summary"

body=$(mktemp)
cat >"$body" <<MD
Records the rollback of \`$stack\` to \`$tag\` (from \`${previous:-?}\`), done by the rollback workflow
(${GITHUB_SERVER_URL:-https://github.com}/${GITHUB_REPOSITORY:-?}/actions/runs/${GITHUB_RUN_ID:-?}).

Merge it so the repository says what the stack runs: until then, a release from \`main\` would roll
the stack forward again. To return to normal releases later, remove the pin:

\`\`\`sh
pulumi config rm --path release.pin --stack $stack
pulumi up --stack $stack
\`\`\`
MD
"$(dirname "$0")/config-pr.sh" "$stack" "rollback/$stack-${tag//:/-}" "Pin $stack to $tag (rollback)" "$body"

unpin="pulumi config rm --path release.pin --stack $stack && pulumi up --stack $stack"
summary "" "## Rolled back \`$stack\` to \`$tag\`" "" "Runs \`${deployed:-?}\`; health verified." "" \
  "To unpin (back to normal releases of \`release.version\`):" "" '```sh' "$unpin" '```'
log "rolled back $stack to $tag (${deployed:-?}); to unpin: $unpin"
