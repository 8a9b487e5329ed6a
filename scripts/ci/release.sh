#!/usr/bin/env bash
# release.sh STACK: one release of a stack from CI: `pulumi up`, then the release report (READY or
# NOT READY, in the job summary and .slipway/ci/STACK/report.md), whatever pulumi's outcome.
#
# A stack that builds (dev) records the commit it releases: release.commit (GITHUB_SHA, else this
# checkout's HEAD), exported as its `sourceCommit` output. A stack that promotes (prod: config
# release.promoteFrom dev) builds nothing: before its `up`, the source stack's current release must
# be this very commit (its `sourceCommit`) and READY (its `releaseReport.verdict`), else it refuses,
# saying why and what to do.
#
#   EXPECT_VERSION  a release tag (v1.4.2): the stack's committed release.version must equal it, so
#                   the tag, the stack file and the pushed image tag all say the same version.
#   VERSION_SUFFIX  appended to release.version for this run only. dev releases every push to main and
#                   version tags are immutable (TAG_IMMUTABLE), so each push is its own version:
#                   v1.5.0-dev → v1.5.0-dev-3f9c2ab.
#
# Exit: pulumi's status when `pulumi up` failed; 1 when it succeeded but the report is NOT READY;
# 0 when released and READY.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

stack=${1:-}
valid_stack "$stack"

previous=$(stack_output "$stack" releaseTag)
from=$(promote_source "$stack")
commit=$(release_commit)
version=$(config_get "$stack" release.version)
pin=$(config_get "$stack" release.pin)
[[ -n $version ]] || die "release.version is not set for stack $stack (Pulumi.$stack.yaml)"

if [[ -n ${EXPECT_VERSION:-} ]]; then
  if [[ -n $pin ]]; then
    die "stack $stack is pinned to $pin (release.pin, a rollback): unpin it before releasing $EXPECT_VERSION: pulumi config rm --path release.pin --stack $stack, commit Pulumi.$stack.yaml, tag again"
  fi
  if [[ $version != "$EXPECT_VERSION" ]]; then
    die "tag $EXPECT_VERSION does not match release.version $version of stack $stack: pulumi config set --path release.version $EXPECT_VERSION --stack $stack, commit Pulumi.$stack.yaml and tag that commit"
  fi
fi
if [[ -n ${VERSION_SUFFIX:-} && -z $pin ]]; then
  version="$version-$VERSION_SUFFIX"
  config_set "$stack" release.version "$version"
fi
if [[ -n $pin ]]; then
  from="" # a pinned stack rolls back to its own release: nothing is promoted
elif [[ -n $from ]]; then
  [[ -n $commit ]] || die "cannot promote to $stack: no commit to compare with $from's (GITHUB_SHA is unset and $ROOT is no git checkout)"
  check_promotion "$stack" "$from" "$commit"
elif [[ -n $commit ]]; then
  config_set "$stack" release.commit "$commit"
fi

release_and_report "$stack" "$version" "$pin" "$previous" "$from"
set_output version "${pin:-$version}"
set_output previous "$previous"

if ((UP_STATUS != 0)); then
  printf '::error::pulumi up --stack %s failed (exit %s): the report lists what stopped it\n' "$stack" "$UP_STATUS" >&2
  exit "$UP_STATUS"
fi
if ((REPORT_STATUS != 0)); then
  die "pulumi up --stack $stack succeeded but the release report is NOT READY: read it before relying on this release"
fi
set_output url "$(stack_output "$stack" appUrl)"
log "released ${pin:-$version} on $stack: READY"
