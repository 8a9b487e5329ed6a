#!/usr/bin/env bash
# docker.sh start|stop — a Docker engine for the e2e suite.
#   start: when `/usr/bin/docker info` already answers, uses that engine and records nothing (stop will then
#          leave it alone). Otherwise starts `dockerd` in the background (root; log and pid file in the state
#          directory) and waits until `docker info` answers (bounded: DOCKERD_WAIT seconds, default 30).
#   stop:  stops only the dockerd this script started, by the PID it recorded.
# Never starts a second daemon beside a running one (one with --bridge=none deletes the first's docker0).
# State directory: $SLIPWAY_E2E_STATE (default /tmp/slipway-e2e).
set -euo pipefail

state=${SLIPWAY_E2E_STATE:-/tmp/slipway-e2e}
docker=/usr/bin/docker
pidfile=$state/dockerd.pid
log=$state/dockerd.log
wait_s=${DOCKERD_WAIT:-30}

answers() { "$docker" info >/dev/null 2>&1; }

start() {
  mkdir -p "$state"
  if answers; then
    echo "docker: an engine already answers ($($docker info --format '{{.ServerVersion}}')); not starting one"
    return 0
  fi
  if [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    echo "docker: dockerd $(cat "$pidfile") (ours) is running but does not answer yet; waiting"
  else
    if pgrep -x dockerd >/dev/null; then
      echo "docker: a dockerd runs (pid $(pgrep -x dockerd | tr '\n' ' ')) but does not answer; not starting a second" >&2
      exit 1
    fi
    echo "docker: starting /usr/sbin/dockerd (log $log)"
    # setsid: its own session, so the caller's Ctrl-C or exit does not take it down mid-suite.
    setsid /usr/sbin/dockerd >"$log" 2>&1 </dev/null &
    echo $! >"$pidfile"
  fi
  local started=$SECONDS
  until answers; do
    if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      echo "docker: dockerd exited; last log lines:" >&2
      tail -n 20 "$log" >&2
      rm -f "$pidfile"
      exit 1
    fi
    if ((SECONDS - started >= wait_s)); then
      echo "docker: dockerd did not answer within ${wait_s}s; last log lines:" >&2
      tail -n 20 "$log" >&2
      exit 1
    fi
    sleep 0.2
  done
  echo "docker: dockerd $(cat "$pidfile") answers ($($docker info --format '{{.ServerVersion}}')) after $((SECONDS - started))s"
}

stop() {
  if [[ ! -f $pidfile ]]; then
    echo "docker: no dockerd started by this script; leaving the engine alone"
    return 0
  fi
  local pid
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    echo "docker: stopping dockerd $pid"
    kill -TERM "$pid"
    local started=$SECONDS
    while kill -0 "$pid" 2>/dev/null; do
      if ((SECONDS - started >= 30)); then
        echo "docker: dockerd $pid still running after 30s; sending KILL" >&2
        kill -KILL "$pid" 2>/dev/null || true
        break
      fi
      sleep 0.2
    done
  else
    echo "docker: dockerd $pid already gone"
  fi
  rm -f "$pidfile"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
