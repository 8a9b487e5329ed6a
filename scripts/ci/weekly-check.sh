#!/usr/bin/env bash
# weekly-check.sh STACK: should the weekly security rebuild rebuild this stack? Yes when
#   - the base image moved: its tag resolves to another digest than the one pinned (the `base` gate
#     re-resolves it; the new pin is handed to the rebuild), or
#   - the image running now has vulnerabilities with a fix at the stack's blocking severities (the
#     `scan` gate on it with --ignore-unfixed and the stack's allowlist), or
#   - FORCE=true (a manual run).
# Outputs (GitHub step outputs): rebuild=true|false, reason, base-next (the reference to pin, if moved).
#
#   TRIVY_IMAGE  the scanner, pinned by digest, when the stack does not name one (scan.trivyImage).
#   DIGITALOCEAN_TOKEN  to pull the running image from DOCR: written into a private Docker config
#                       (lib.sh docker_auth_from_env), never passed on a command line.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

stack=${1:-}
valid_stack "$stack"
work="$CI_DIR_BASE/$stack-weekly"
rm -rf "$work"
mkdir -p "$work"
reasons=()

# 1. The base: re-resolve its tag. Drift is a warning of the gate (exit 0); a registry that cannot be
#    asked is a warning too, and leaves the question open (no rebuild for it).
base=$(config_get "$stack" baseImage)
[[ -n $base ]] || die "baseImage is not set for stack $stack"
"$GATE" base --ref "$base" --json "$work/base.json" || die "the base gate could not check $base"
base_next=""
case "$(json_field "$work/base.json" code)" in
  BASE_IMAGE_DRIFT)
    base_next=$(json_field "$work/base.json" figures.next)
    if [[ -n $base_next ]]; then reasons+=("the base moved: pin $base_next"); fi
    ;;
  "") log "base: $base is current" ;;
  *) warn "base drift of $base unknown: $(json_field "$work/base.json" summary)" ;;
esac

# 2. The image running now: fixable vulnerabilities at the stack's blocking severities.
image=$(stack_output "$stack" imageRef)
if [[ -z $image ]]; then
  log "nothing released on $stack yet: no image to scan"
else
  host=${image%%/*}
  if [[ $host == registry.digitalocean.com && -n ${DIGITALOCEAN_TOKEN:-} ]]; then
    docker_auth_from_env "$host" DIGITALOCEAN_TOKEN
  fi
  docker pull --quiet "$image" >/dev/null || die "cannot pull $image to scan it"
  severity=$(config_get "$stack" scan.severity | node -e '
    let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      try { const v = JSON.parse(s); process.stdout.write(Array.isArray(v) ? v.join(",") : ""); } catch {}
    });')
  trivy=$(config_get "$stack" scan.trivyImage)
  trivy=${trivy:-${TRIVY_IMAGE:-}}
  allowlist=$(config_get "$stack" scan.allowlist)
  set +e
  "$GATE" scan --image "$image" --ignore-unfixed --severity "${severity:-HIGH,CRITICAL}" \
    ${trivy:+--trivy-image "$trivy"} ${allowlist:+--allowlist "$ROOT/$allowlist"} --json "$work/scan.json"
  scan_status=$?
  set -e
  code=$(json_field "$work/scan.json" code)
  if ((scan_status != 0)); then
    case $code in
      SECURITY_HIGH | SECURITY_CRITICAL) reasons+=("$(json_field "$work/scan.json" summary)") ;;
      *) die "the scan of $image could not decide (${code:-exit $scan_status}): see its output above" ;;
    esac
  fi
fi

if [[ ${FORCE:-false} == true ]]; then reasons+=("forced by the person who ran it"); fi

rebuild=false
((${#reasons[@]} > 0)) && rebuild=true
reason=$(IFS=';'; echo "${reasons[*]:-nothing moved: the base is current and the running image has no fixable findings}")
set_output rebuild "$rebuild"
set_output reason "$reason"
set_output base-next "$base_next"
summary "## Weekly security check of \`$stack\`" "" "- base: \`$base\`${base_next:+ → \`$base_next\`}" \
  "- running image: \`${image:-none}\`" "- rebuild: **$rebuild** ($reason)"
log "$stack: rebuild=$rebuild ($reason)"
