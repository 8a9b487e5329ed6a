#!/usr/bin/env bash
# redis-image.sh — the Redis service image of the e2e suite (the FastAPI sample's cache), made like
# postgres-image.sh: mmdebstrap (bookworm, variant essential) with Debian's redis-server and an
# entrypoint of ours, `docker import`, pushed to the local registry, printed pinned BY DIGEST on stdout.
# The entrypoint serves on every interface of the run's network, with REDIS_PASSWORD (required: the gate
# generates it per run) as the password. Readiness: `REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli ping`.
# Env: SLIPWAY_E2E_REGISTRY (default 127.0.0.1:5000), SLIPWAY_E2E_STATE (default /tmp/slipway-e2e).
set -euo pipefail

registry=${SLIPWAY_E2E_REGISTRY:-127.0.0.1:5000}
state=${SLIPWAY_E2E_STATE:-/tmp/slipway-e2e}
docker=/usr/bin/docker
ref=$registry/slipway-infra/redis:7-bookworm
sources=/etc/apt/sources.list.d/debian.sources
[[ -f $sources ]] || sources=/etc/apt/sources.list

packages=(redis-server)
variant=essential
recipe_version=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/slipway-redis" <<'ENTRY'
#!/bin/sh
set -eu
: "${REDIS_PASSWORD:?REDIS_PASSWORD is required}"
# The password through redis-server's stdin config, never on its command line (ps would show it).
printf 'bind 0.0.0.0\nprotected-mode no\ndir /tmp\nrequirepass %s\n' "$REDIS_PASSWORD" | exec redis-server -
ENTRY
chmod 755 "$work/slipway-redis"
recipe=$( { printf '%s\n' "$recipe_version" "$variant" "${packages[@]}"; cat "$work/slipway-redis"; } | sha256sum | cut -c1-16)

log() { echo "redis-image: $*" >&2; }

mkdir -p "$state"
existing=$("$docker" image inspect "$ref" --format '{{index .Config.Labels "org.slipway.redis.recipe"}}' 2>/dev/null || true)
if [[ $existing == "$recipe" ]]; then
  log "reusing $ref from the local daemon (recipe $recipe): no mmdebstrap"
else
  log "building $ref with mmdebstrap (bookworm, variant $variant): ${packages[*]}"
  started=$SECONDS
  include=$(IFS=,; echo "${packages[*]}")
  partial=$ref-partial-$$
  trap 'rm -rf "$work"; "$docker" rmi "$partial" >/dev/null 2>&1 || true' EXIT
  mmdebstrap --quiet --variant="$variant" --include="$include" \
    --aptopt='Acquire::Languages "none"' \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --customize-hook="copy-in $work/slipway-redis /usr/local/bin" \
    bookworm - "$sources" |
    "$docker" import \
      --change 'USER redis' \
      --change 'EXPOSE 6379' \
      --change 'ENTRYPOINT ["/usr/local/bin/slipway-redis"]' \
      --change "LABEL org.slipway.redis.recipe=$recipe" \
      --change 'LABEL org.opencontainers.image.description="Debian bookworm redis-server (Slipway e2e service)"' \
      - "$partial" >/dev/null
  "$docker" tag "$partial" "$ref"
  log "built in $((SECONDS - started))s: $("$docker" image inspect "$ref" --format '{{.Id}} {{.Size}} bytes')"
fi

log "pushing $ref"
"$docker" push --quiet "$ref" >&2
digest=$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$ref")
pinned=$ref@$digest
echo "$pinned" >"$state/redis-image.ref"
log "pinned: $pinned (also in $state/redis-image.ref)"
echo "$pinned"
