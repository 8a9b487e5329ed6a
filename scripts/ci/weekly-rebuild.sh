#!/usr/bin/env bash
# weekly-rebuild.sh STACK: the security rebuild of a stack, when weekly-check.sh said so.
# A stack that builds (dev) rebuilds as below; a stack that promotes (prod: release.promoteFrom dev)
# builds nothing: it takes a new version and promotes the source stack's current release, which must
# be this run's commit and READY (check_promotion: the workflow rebuilds dev first, in the same run).
#   - a new version for it, so the immutable version tags stay true: <release.version>-rebuild.<date>;
#   - the new base pin when the base moved (BASE_NEXT);
#   - app.buildArgs.SLIPWAY_REBUILD=<date>: a changed build arg rebuilds the images (a Dockerfile that
#     declares `ARG SLIPWAY_REBUILD` before its package upgrade step gets fresh packages past it);
#   - `pulumi up`: every gate runs again on the new image, which is pushed only if they all pass.
# The app is deployed by digest, so it is redeployed only when the rebuilt image's digest differs
# from the one running (an identical rebuild changes nothing); the script says which happened. Then a
# pull request records the new version and base pin in Pulumi.STACK.yaml (config-pr.sh).
#
#   BASE_NEXT  the base reference to pin (weekly-check.sh's base-next), or empty.
#   REASON     why (weekly-check.sh's reason): in the summary and the pull request.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

stack=${1:-}
valid_stack "$stack"
if [[ -n $(config_get "$stack" release.pin) ]]; then
  warn "stack $stack is pinned (release.pin: a rollback): no security rebuild until it is unpinned"
  exit 0
fi

previous=$(stack_output "$stack" releaseTag)
old_digest=$(stack_output "$stack" imageDigest)
version=$(config_get "$stack" release.version)
stamp=$(date -u +%Y%m%d)
new_version="${version%%-rebuild.*}-rebuild.$stamp"
from=$(promote_source "$stack")
commit=$(release_commit)
if [[ -n $from ]]; then
  [[ -n $commit ]] || die "cannot promote to $stack: no commit to compare with $from's (GITHUB_SHA is unset)"
  check_promotion "$stack" "$from" "$commit"
  config_set "$stack" release.version "$new_version"
else
  config_set "$stack" release.version "$new_version"
  if [[ -n ${BASE_NEXT:-} ]]; then config_set "$stack" baseImage "$BASE_NEXT"; fi
  config_set "$stack" app.buildArgs.SLIPWAY_REBUILD "$stamp"
  if [[ -n $commit ]]; then config_set "$stack" release.commit "$commit"; fi
fi

release_and_report "$stack" "$new_version" "" "$previous" "$from"
set_output version "$new_version"
if ((UP_STATUS != 0)); then
  printf '::error::the security rebuild of %s failed (pulumi up exit %s): the report lists what stopped it\n' "$stack" "$UP_STATUS" >&2
  exit "$UP_STATUS"
fi
((REPORT_STATUS == 0)) || die "the rebuild report is NOT READY: read it in the job summary"

new_digest=$(stack_output "$stack" imageDigest)
if [[ -n $new_digest && $new_digest == "$old_digest" ]]; then
  outcome="the rebuilt image is identical ($new_digest): nothing was redeployed"
else
  outcome="deployed $new_digest (was ${old_digest:-nothing})"
fi
set_output deployed "$([[ $new_digest != "$old_digest" ]] && echo true || echo false)"
summary "" "## Security rebuild of \`$stack\`: $new_version" "" "- why: ${REASON:-manual}" "- $outcome"
log "$stack: $new_version: $outcome"

body=$(mktemp)
cat >"$body" <<MD
The weekly security rebuild released \`$new_version\` on \`$stack\`
(${GITHUB_SERVER_URL:-https://github.com}/${GITHUB_REPOSITORY:-?}/actions/runs/${GITHUB_RUN_ID:-?}).

- why: ${REASON:-manual}
- $outcome

Merge it so the repository says what the stack runs: until then, a release from \`main\` would build
the old base and version again.
MD
"$(dirname "$0")/config-pr.sh" "$stack" "security-rebuild/$stack-$stamp" \
  "Security rebuild of $stack: $new_version" "$body"
