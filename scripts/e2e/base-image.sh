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

# What goes in, like the real `python:3.11-slim-*` images: Debian with apt (variant `apt`: Essential
# packages + apt, so Dockerfiles `apt-get install` their system packages, as SOP step 2's builder does
# with wkhtmltopdf and postgresql-client, from the machine's own mirror), the machine's sources inside,
# apt's package lists removed (mmdebstrap's default clean-up: a Dockerfile runs `apt-get update` first).
# The Python side is offline (no PyPI here), so the modules a real image would `pip install` are Debian
# packages already in the base: the test tools for builder stages; FastAPI, gunicorn, uvicorn for the
# FastAPI sample and python3-httpx for its TestClient; passwd for `useradd` in runtime stages.
# The dpkg path excludes and apt options below stay in the image (/etc/dpkg/dpkg.cfg.d/99mmdebstrap,
# /etc/apt/apt.conf.d/99mmdebstrap), so packages installed later skip docs too; docker-clean (written
# after the bootstrap, which needs its downloads) leaves no .deb behind, as in the Debian images.
packages=(python3 python3-pytest python3-coverage python3-pytest-cov python3-fastapi python3-httpx python3-uvicorn gunicorn passwd)
variant=apt
recipe_version=2
recipe=$(printf '%s\n' "$recipe_version" "$variant" "${packages[@]}" | sha256sum | cut -c1-16)

log() { echo "base-image: $*" >&2; }

mkdir -p "$state"
existing=$("$docker" image inspect "$ref" --format '{{index .Config.Labels "org.slipway.base.recipe"}}' 2>/dev/null || true)
if [[ $existing == "$recipe" ]]; then
  log "reusing $ref from the local daemon (recipe $recipe): no mmdebstrap"
else
  log "building $ref with mmdebstrap (bookworm, variant $variant, sources $sources): ${packages[*]}"
  started=$SECONDS
  include=$(IFS=,; echo "${packages[*]}")
  # Imported under a temporary name and tagged only once mmdebstrap succeeded: a failed bootstrap still
  # hands `docker import` a (truncated) stream, and that image must never pass for the base.
  partial=$ref-partial-$$
  trap '"$docker" rmi "$partial" >/dev/null 2>&1 || true' EXIT
  # shellcheck disable=SC2016 # the hook's $1 is mmdebstrap's (the chroot), not ours
  mmdebstrap --quiet --variant="$variant" --include="$include" \
    --aptopt='Acquire::Languages "none"' \
    --customize-hook='echo "APT::Keep-Downloaded-Packages \"false\";" >"$1/etc/apt/apt.conf.d/docker-clean"' \
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
      --change 'LABEL org.opencontainers.image.description="Debian bookworm with apt, python3 3.11, pytest, coverage, FastAPI, gunicorn (Slipway e2e base)"' \
      - "$partial" >/dev/null
  "$docker" tag "$partial" "$ref"
  log "built in $((SECONDS - started))s: $("$docker" image inspect "$ref" --format '{{.Id}} {{.Size}} bytes')"
fi

log "pushing $ref"
"$docker" push --quiet "$ref" >&2
digest=$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$ref")
pinned=$ref@$digest
echo "$pinned" >"$state/base-image.ref"
log "pinned: $pinned (also in $state/base-image.ref)"
echo "$pinned"
