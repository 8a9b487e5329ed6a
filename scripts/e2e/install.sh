#!/usr/bin/env bash
# Installs the e2e environment's Debian packages (Docker engine, registry, skopeo, mmdebstrap, htpasswd),
# only those missing. Idempotent: a second run installs nothing and does not touch apt's lists.
set -euo pipefail

# package -> a file it installs (checked instead of dpkg's database: faster, and says what we need).
declare -A wanted=(
  [docker.io]=/usr/sbin/dockerd
  [docker-registry]=/usr/bin/docker-registry
  [skopeo]=/usr/bin/skopeo
  [mmdebstrap]=/usr/bin/mmdebstrap
  [apache2-utils]=/usr/bin/htpasswd
)

missing=()
for pkg in "${!wanted[@]}"; do
  if [[ -x "${wanted[$pkg]}" ]]; then
    echo "install: $pkg present (${wanted[$pkg]})"
  else
    missing+=("$pkg")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "install: nothing to install"
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "install: missing ${missing[*]} and not root: run as root (apt-get install)" >&2
  exit 1
fi

echo "install: apt-get update"
apt-get update -qq
echo "install: apt-get install ${missing[*]}"
# The packaged docker.io wants to start its own daemon through systemd/init scripts: there is no init
# here, and docker.sh starts dockerd itself, so policy-rc.d keeps the post-install scripts from trying.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod +x "$policy"
  created_policy=1
fi
trap 'if [[ $created_policy -eq 1 ]]; then rm -f "$policy"; fi' EXIT
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install: done"
