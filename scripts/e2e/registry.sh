#!/usr/bin/env bash
# registry.sh start|stop [open|auth] — OCI registries for the e2e suite, from Debian's docker-registry.
#   open: 127.0.0.1:5000, no auth.   auth: 127.0.0.1:5001, htpasswd basic auth
#   ($SLIPWAY_E2E_REGISTRY_USER / $SLIPWAY_E2E_REGISTRY_PASSWORD, defaults slipway / slipway-e2e-secret).
# Filesystem storage under the state directory, deletes enabled. Each start is idempotent (a registry whose
# recorded PID still runs is left as is) and waits until GET /v2/ answers.
#   stop NAME: stops that registry (by its recorded PID) and keeps its storage: a later `start NAME` serves
#              the same tags again (the suite's "registry down" case).
#   stop:      stops both and deletes their storage.
# State directory: $SLIPWAY_E2E_STATE (default /tmp/slipway-e2e).
set -euo pipefail

state=${SLIPWAY_E2E_STATE:-/tmp/slipway-e2e}
root=$state/registry
user=${SLIPWAY_E2E_REGISTRY_USER:-slipway}
password=${SLIPWAY_E2E_REGISTRY_PASSWORD:-slipway-e2e-secret}
declare -A ports=([open]=5000 [auth]=5001)

running() { [[ -f $root/$1.pid ]] && kill -0 "$(cat "$root/$1.pid")" 2>/dev/null; }

write_config() {
  local name=$1 dir=$root/$1
  mkdir -p "$dir/data"
  {
    echo "version: 0.1"
    echo "log: {level: warn, accesslog: {disabled: true}}"
    echo "storage:"
    echo "  filesystem: {rootdirectory: $dir/data}"
    echo "  delete: {enabled: true}"
    echo "  cache: {blobdescriptor: inmemory}"
    echo "http:"
    echo "  addr: 127.0.0.1:${ports[$name]}"
    echo "  headers: {X-Content-Type-Options: [nosniff]}"
    if [[ $name == auth ]]; then
      echo "auth:"
      echo "  htpasswd: {realm: slipway-e2e, path: $dir/htpasswd}"
    fi
  } >"$dir/config.yml"
  if [[ $name == auth ]]; then
    htpasswd -Bbc "$dir/htpasswd" "$user" "$password" 2>/dev/null
  fi
}

start_one() {
  local name=$1 port=${ports[$1]}
  if running "$name"; then
    echo "registry: $name already running (pid $(cat "$root/$name.pid"), 127.0.0.1:$port)"
    return 0
  fi
  if curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$port/v2/"; then
    echo "registry: something not started by this script listens on 127.0.0.1:$port" >&2
    exit 1
  fi
  write_config "$name"
  echo "registry: starting $name on 127.0.0.1:$port (storage $root/$name/data)"
  setsid /usr/bin/docker-registry serve "$root/$name/config.yml" >"$root/$name.log" 2>&1 </dev/null &
  echo $! >"$root/$name.pid"
  local started=$SECONDS status
  while :; do
    status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$port/v2/" || true)
    [[ $status == 200 || $status == 401 ]] && break
    if ! running "$name" || ((SECONDS - started >= 20)); then
      echo "registry: $name did not come up; last log lines:" >&2
      tail -n 20 "$root/$name.log" >&2
      exit 1
    fi
    sleep 0.1
  done
  echo "registry: $name answers (GET /v2/ -> $status, pid $(cat "$root/$name.pid"))"
}

stop_one() {
  local name=$1 pid
  if [[ ! -f $root/$name.pid ]]; then
    echo "registry: $name not started by this script"
    return 0
  fi
  pid=$(cat "$root/$name.pid")
  if kill -0 "$pid" 2>/dev/null; then
    echo "registry: stopping $name (pid $pid)"
    kill -TERM "$pid"
    local started=$SECONDS
    while kill -0 "$pid" 2>/dev/null; do
      if ((SECONDS - started >= 10)); then
        kill -KILL "$pid" 2>/dev/null || true
        break
      fi
      sleep 0.1
    done
  fi
  rm -f "$root/$name.pid"
}

names() {
  if [[ -n ${1:-} ]]; then
    [[ -n ${ports[$1]:-} ]] || {
      echo "registry: unknown registry '$1' (open|auth)" >&2
      exit 2
    }
    echo "$1"
  else
    echo open auth
  fi
}

case "${1:-}" in
  start)
    mkdir -p "$root"
    for n in $(names "${2:-}"); do start_one "$n"; done
    ;;
  stop)
    for n in $(names "${2:-}"); do stop_one "$n"; done
    if [[ -z ${2:-} && -d $root ]]; then
      echo "registry: deleting storage $root"
      rm -rf "$root"
    fi
    ;;
  *)
    echo "usage: $0 start|stop [open|auth]" >&2
    exit 2
    ;;
esac
