#!/usr/bin/env bash
# The main job on its embedded default: one whole release of the sample Odoo-shaped app (examples/odoo) on
# the `local` stack, with Docker alone and Pulumi's file state backend (no cloud account, no Pulumi Cloud).
#   build builder → test gate → build runtime → smoke gate (boot + health) → scan → push v + latest to a
#   registry on 127.0.0.1:5000 → run the release as a container on 127.0.0.1:18069 → health verification
# Extra arguments go to `pulumi up` (e.g. --skip-preview). Needs: Docker with buildx, the Pulumi CLI, Node 20.
#
# The builds push their candidates to the loopback registry. @pulumi/docker-build does not support
# Docker's default `docker` build driver, so this makes a `docker-container` builder (Pulumi.local.yaml:
# app.builder) on the host's network (its BuildKit then reaches 127.0.0.1:5000), which speaks plain HTTP
# to that registry.
set -euo pipefail
cd "$(dirname "$0")/.."

# The registry the local stack pushes to (Pulumi.local.yaml: registry.server). Pinned by digest.
REGISTRY_IMAGE="registry:2.8.3@sha256:a3d8aaa63ed8681a604f1dea0aa03f100d5895b6a58ace528858a7b332415373"

command -v pulumi >/dev/null || { echo "needs the Pulumi CLI (https://www.pulumi.com/docs/install/)" >&2; exit 2; }
docker info >/dev/null 2>&1 || { echo "DOCKER_UNAVAILABLE: start Docker and check \`docker info\`" >&2; exit 1; }
[ -d node_modules ] || npm ci
[ -f dist/gates/cli.js ] || npm run build

if ! curl -fsS -o /dev/null http://127.0.0.1:5000/v2/; then
  echo "local-up: starting a registry on 127.0.0.1:5000 (container slipway-registry; it outlives releases)"
  docker run -d --restart unless-stopped -p 127.0.0.1:5000:5000 --name slipway-registry "$REGISTRY_IMAGE" >/dev/null
fi

BUILDER=slipway-local
if ! docker buildx inspect "$BUILDER" >/dev/null 2>&1; then
  echo "local-up: creating the buildx builder $BUILDER (docker-container driver, host network)"
  buildkitd_config=$(mktemp)
  printf '[registry."127.0.0.1:5000"]\n  http = true\n  insecure = true\n' >"$buildkitd_config"
  docker buildx create --name "$BUILDER" --driver docker-container --driver-opt network=host \
    --buildkitd-config "$buildkitd_config" >/dev/null
  rm -f "$buildkitd_config"
fi

mkdir -p .pulumi-state
export PULUMI_BACKEND_URL="file://$PWD/.pulumi-state"
# The local stack holds no secrets; an empty passphrase keeps the file backend from prompting.
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE-}"
pulumi stack select --create local
pulumi up --yes "$@"
