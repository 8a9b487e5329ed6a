#!/usr/bin/env bash
# postgres-image.sh — the PostgreSQL service image of the e2e suite (tests.services / smoke.services),
# made from Debian's packages like base-image.sh makes the Python base (Docker Hub is unreachable here):
# mmdebstrap (bookworm, variant essential: no apt inside, nothing a service needs) with postgresql-15,
# an entrypoint of ours (below) copied in, piped into `docker import`, pushed to the local registry and
# printed pinned BY DIGEST on stdout; everything else goes to stderr.
# Reuse: when the local daemon already holds the image of the same recipe (label
# org.slipway.postgres.recipe), mmdebstrap is skipped and the image is only (re)pushed.
# Env: SLIPWAY_E2E_REGISTRY (default 127.0.0.1:5000), SLIPWAY_E2E_STATE (default /tmp/slipway-e2e).
#
# The entrypoint behaves like the official image's for the variables the suite uses: POSTGRES_USER
# (default postgres), POSTGRES_PASSWORD (required: the gate generates it per run), POSTGRES_DB (default
# the user). It runs as the image's user `postgres`, initialises the cluster on first start (password
# auth, scram-sha-256, for every TCP client; the database made with `postgres --single`, so no
# temporary server ever listens), then execs postgres on all interfaces of the run's network.
# Readiness: `/usr/lib/postgresql/15/bin/pg_isready -h 127.0.0.1` inside the container.
set -euo pipefail

registry=${SLIPWAY_E2E_REGISTRY:-127.0.0.1:5000}
state=${SLIPWAY_E2E_STATE:-/tmp/slipway-e2e}
docker=/usr/bin/docker
ref=$registry/slipway-infra/postgres:15-bookworm
sources=/etc/apt/sources.list.d/debian.sources
[[ -f $sources ]] || sources=/etc/apt/sources.list

packages=(postgresql-15)
variant=essential
recipe_version=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/slipway-postgres" <<'ENTRY'
#!/bin/sh
set -eu
: "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is required}"
user=${POSTGRES_USER:-postgres}
db=${POSTGRES_DB:-$user}
bin=/usr/lib/postgresql/15/bin
data=${PGDATA:-/var/lib/postgresql/data}
if [ ! -s "$data/PG_VERSION" ]; then
  mkdir -p "$data"
  pw=$(mktemp)
  printf '%s\n' "$POSTGRES_PASSWORD" >"$pw"
  "$bin/initdb" --pgdata="$data" --username="$user" --pwfile="$pw" --auth-local=trust \
    --auth-host=scram-sha-256 --encoding=UTF8 --no-instructions >/dev/null
  rm -f "$pw"
  echo "host all all 0.0.0.0/0 scram-sha-256" >>"$data/pg_hba.conf"
  if [ "$db" != postgres ]; then
    echo "CREATE DATABASE \"$db\" OWNER \"$user\";" | "$bin/postgres" --single -D "$data" -j postgres >/dev/null
  fi
fi
exec "$bin/postgres" -D "$data" -c listen_addresses='*' -c unix_socket_directories=/tmp
ENTRY
chmod 755 "$work/slipway-postgres"
recipe=$( { printf '%s\n' "$recipe_version" "$variant" "${packages[@]}"; cat "$work/slipway-postgres"; } | sha256sum | cut -c1-16)

log() { echo "postgres-image: $*" >&2; }

mkdir -p "$state"
existing=$("$docker" image inspect "$ref" --format '{{index .Config.Labels "org.slipway.postgres.recipe"}}' 2>/dev/null || true)
if [[ $existing == "$recipe" ]]; then
  log "reusing $ref from the local daemon (recipe $recipe): no mmdebstrap"
else
  log "building $ref with mmdebstrap (bookworm, variant $variant): ${packages[*]}"
  started=$SECONDS
  include=$(IFS=,; echo "${packages[*]}")
  partial=$ref-partial-$$
  trap 'rm -rf "$work"; "$docker" rmi "$partial" >/dev/null 2>&1 || true' EXIT
  # shellcheck disable=SC2016 # the hooks' $1 is mmdebstrap's (the chroot), not ours
  mmdebstrap --quiet --variant="$variant" --include="$include" \
    --aptopt='Acquire::Languages "none"' \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --customize-hook="copy-in $work/slipway-postgres /usr/local/bin" \
    --customize-hook='rm -rf "$1"/var/lib/postgresql/15 "$1"/etc/postgresql/15' \
    --customize-hook='mkdir -p "$1"/var/lib/postgresql/data && chroot "$1" chown -R postgres:postgres /var/lib/postgresql' \
    bookworm - "$sources" |
    "$docker" import \
      --change 'USER postgres' \
      --change 'ENV LANG=C.UTF-8' \
      --change 'EXPOSE 5432' \
      --change 'ENTRYPOINT ["/usr/local/bin/slipway-postgres"]' \
      --change "LABEL org.slipway.postgres.recipe=$recipe" \
      --change 'LABEL org.opencontainers.image.description="Debian bookworm postgresql-15 (Slipway e2e service)"' \
      - "$partial" >/dev/null
  "$docker" tag "$partial" "$ref"
  log "built in $((SECONDS - started))s: $("$docker" image inspect "$ref" --format '{{.Id}} {{.Size}} bytes')"
fi

log "pushing $ref"
"$docker" push --quiet "$ref" >&2
digest=$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$ref")
pinned=$ref@$digest
echo "$pinned" >"$state/postgres-image.ref"
log "pinned: $pinned (also in $state/postgres-image.ref)"
echo "$pinned"
