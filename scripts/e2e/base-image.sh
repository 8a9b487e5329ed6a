#!/usr/bin/env bash
# base-image.sh — the Python base image the e2e apps build FROM, made from Debian packages (Docker Hub is
# unreachable here): mmdebstrap with the machine's own apt sources (bookworm: python3 3.11) piped into
# `docker import`, pushed to the local registry and printed pinned BY DIGEST, like a real base
# (`NAME:TAG@sha256:...`), on stdout; everything else goes to stderr.
# Reuse: when the local daemon already holds the image built from the same recipe (label
# org.slipway.base.recipe), mmdebstrap is skipped and the image is only (re)pushed.
# Env: SLIPWAY_E2E_REGISTRY (default 127.0.0.1:5000), SLIPWAY_E2E_STATE (default /tmp/slipway-e2e).
set -euo pipefail

registry=${SLIPWAY_E2E_REGISTRY:-127.0.0.1:5000}
state=${SLIPWAY_E2E_STATE:-/tmp/slipway-e2e}
docker=/usr/bin/docker
ref=$registry/slipway-base/python:3.11-bookworm
sources=/etc/apt/sources.list.d/debian.sources
[[ -f $sources ]] || sources=/etc/apt/sources.list

# What goes in: the test tools for builder stages; FastAPI, gunicorn, uvicorn for the FastAPI sample and
# python3-httpx for its TestClient; passwd for `useradd` in runtime stages. The `essential` variant has no
# apt: the images never install packages themselves (no network in builds), so apt would be dead weight.
packages=(python3 python3-pytest python3-coverage python3-pytest-cov python3-fastapi python3-httpx python3-uvicorn gunicorn passwd)
recipe_version=1
recipe=$(printf '%s\n' "$recipe_version" "${packages[@]}" | sha256sum | cut -c1-16)

log() { echo "base-image: $*" >&2; }

mkdir -p "$state"
existing=$("$docker" image inspect "$ref" --format '{{index .Config.Labels "org.slipway.base.recipe"}}' 2>/dev/null || true)
if [[ $existing == "$recipe" ]]; then
  log "reusing $ref from the local daemon (recipe $recipe): no mmdebstrap"
else
  log "building $ref with mmdebstrap (bookworm, variant essential, sources $sources): ${packages[*]}"
  started=$SECONDS
  include=$(IFS=,; echo "${packages[*]}")
  mmdebstrap --quiet --variant=essential --include="$include" \
    --aptopt='Acquire::Languages "none"' \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    bookworm - "$sources" |
    "$docker" import \
      --change 'CMD ["python3"]' \
      --change 'ENV LANG=C.UTF-8' \
      --change 'ENV PYTHONDONTWRITEBYTECODE=1' \
      --change "LABEL org.slipway.base.recipe=$recipe" \
      --change 'LABEL org.opencontainers.image.description="Debian bookworm python3 3.11, pytest, coverage, FastAPI, gunicorn (Slipway e2e base)"' \
      - "$ref" >/dev/null
  log "built in $((SECONDS - started))s: $("$docker" image inspect "$ref" --format '{{.Id}} {{.Size}} bytes')"
fi

log "pushing $ref"
"$docker" push --quiet "$ref" >&2
digest=$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$ref")
pinned=$ref@$digest
echo "$pinned" >"$state/base-image.ref"
log "pinned: $pinned (also in $state/base-image.ref)"
echo "$pinned"
