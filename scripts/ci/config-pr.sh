#!/usr/bin/env bash
# config-pr.sh STACK BRANCH TITLE BODY_FILE: opens a pull request with this checkout's change to
# Pulumi.STACK.yaml (a rollback's pin, a rebuild's new base digest and version), so the repository says
# what the stack runs: without it, the next release from main would undo the change.
#
#   GH_TOKEN, GITHUB_REPOSITORY, GITHUB_SERVER_URL: the token needs contents: write and pull-requests:
#   write, and the repository must allow GitHub Actions to create pull requests (Settings → Actions).
# When the pull request cannot be opened, the diff and the commands to commit it are printed instead
# (a warning, not a failure: the stack itself is already changed).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

stack=${1:-}
branch=${2:-}
title=${3:-}
body=${4:-}
valid_stack "$stack"
[[ -n $branch && -n $title && -f $body ]] || die "usage: config-pr.sh STACK BRANCH TITLE BODY_FILE"
file="Pulumi.$stack.yaml"

cd "$ROOT"
if git diff --quiet -- "$file"; then
  log "$file is unchanged: no pull request"
  exit 0
fi
summary "" "### Change to $file" "" '```diff' "$(git diff -- "$file")" '```'

fallback() {
  warn "$1: commit the change yourself: git checkout -b $branch && git commit -m '$title' $file && git push origin $branch"
  exit 0
}
[[ -n ${GH_TOKEN:-} && -n ${GITHUB_REPOSITORY:-} ]] || fallback "no GH_TOKEN/GITHUB_REPOSITORY"

git -c user.name="github-actions[bot]" -c user.email="41898282+github-actions[bot]@users.noreply.github.com" \
  commit --quiet -m "$title" -- "$file" || fallback "git commit failed"
host=${GITHUB_SERVER_URL:-https://github.com}
remote="https://${host#https://}/${GITHUB_REPOSITORY}.git"
# The token reaches git through a credential helper that reads GH_TOKEN from the environment (the
# single quotes keep it unexpanded here: the helper's shell expands it, in printf, a builtin), never
# through the remote URL, which would put it in git's argv.
# shellcheck disable=SC2016 # expanded by the credential helper's shell, on purpose
git -c credential.helper= \
  -c 'credential.helper=!f() { test "$1" = get && printf "username=x-access-token\npassword=%s\n" "$GH_TOKEN"; }; f' \
  push --quiet --force "$remote" "HEAD:refs/heads/$branch" || fallback "git push of $branch was refused"
url=$(gh pr create --repo "$GITHUB_REPOSITORY" --base main --head "$branch" --title "$title" --body-file "$body" 2>/dev/null) ||
  url=$(gh pr view --repo "$GITHUB_REPOSITORY" "$branch" --json url --jq .url 2>/dev/null) ||
  fallback "gh pr create failed (are pull requests by GitHub Actions allowed?)"
log "pull request: $url"
summary "" "Pull request recording it: $url"
set_output pull-request "$url"
