#!/usr/bin/env bash
# Runs coturn (Debian package `coturn`) for Roundtable partner calls, on loopback by default.
#
#   ROUNDTABLE_CALLS_TURNSECRET=... Scripts/coturn.sh start [--dir D] [--port P] [--relay-ports MIN-MAX]
#   Scripts/coturn.sh stop [--dir D]
#   ROUNDTABLE_CALLS_TURNSECRET=... Scripts/coturn.sh run [...]        # in the foreground
#
# The shared secret comes only from the environment and goes into a private (0600) copy of
# Config/turnserver.conf in D (default /tmp/roundtable-coturn), never onto the command line (ps shows
# command lines). The server must be started with the same secret and a calls.turnUrls entry
# turn:127.0.0.1:P (see docs/OPERATIONS.md). `start` waits until the port answers, prints the pid.
set -euo pipefail
cd "$(dirname "$0")/.."
action="${1:-}"; shift || true
dir=/tmp/roundtable-coturn; port=3478; relay=""
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) dir="$2"; shift 2 ;;
    --port) port="$2"; shift 2 ;;
    --relay-ports) relay="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
pidfile="$dir/turnserver.pid"

case "$action" in
  start|run)
    command -v turnserver >/dev/null 2>&1 || { echo "turnserver not found: apt-get install coturn (Scripts/deps.sh --test installs it)" >&2; exit 1; }
    secret="${ROUNDTABLE_CALLS_TURNSECRET:-}"
    [ -n "$secret" ] || { echo "set ROUNDTABLE_CALLS_TURNSECRET (the same secret the Roundtable server uses)" >&2; exit 1; }
    mkdir -p "$dir"; chmod 700 "$dir"
    conf="$dir/turnserver.conf"
    umask 077
    { grep -v '^\s*static-auth-secret' Config/turnserver.conf
      echo "static-auth-secret=$secret"
      echo "listening-port=$port"
      echo "pidfile=$pidfile"
      echo "log-file=$dir/turnserver.log"
      if [ -n "$relay" ]; then echo "min-port=${relay%-*}"; echo "max-port=${relay#*-}"; fi
    } > "$conf"
    if [ "$action" = run ]; then exec turnserver -c "$conf"; fi
    if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then echo "already running: pid $(cat "$pidfile")"; exit 0; fi
    rm -f "$pidfile"
    turnserver -c "$conf" >/dev/null 2>&1 &
    pid=$!
    echo "$pid" > "$pidfile"
    # Ready once the listening port answers a STUN binding request.
    for _ in $(seq 1 100); do
      if python3 - "$port" <<'PY' 2>/dev/null; then echo "$pid"; exit 0; fi
import os, socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(0.1)
s.sendto(struct.pack("!HHI12s", 1, 0, 0x2112A442, os.urandom(12)), ("127.0.0.1", int(sys.argv[1])))
sys.exit(0 if s.recv(2048)[:2] == b"\x01\x01" else 1)
PY
      kill -0 "$pid" 2>/dev/null || { echo "turnserver exited; see $dir/turnserver.log*" >&2; exit 1; }
      sleep 0.1
    done
    echo "turnserver did not answer on 127.0.0.1:$port" >&2; kill "$pid" 2>/dev/null || true; exit 1 ;;
  stop)
    if [ -f "$pidfile" ]; then
      pid="$(cat "$pidfile")"
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
      rm -f "$pidfile"
    fi ;;
  *) echo "usage: $0 start|stop|run [--dir D] [--port P] [--relay-ports MIN-MAX]" >&2; exit 2 ;;
esac
