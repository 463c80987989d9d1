#!/usr/bin/env bash
# Where a coalesced broadcast's server CPU goes, Roundtable or the lws floor (issue 20, parts 2 and 4): 200 members,
# MSGS broadcasts with WINDOW in flight (as in bench.sh's pairs), server on core 0 and rtbench on core 1; counts the
# server's system calls over the broadcast phase (sendto per delivery is how much it coalesced) and, with
# PERF_RECORD=1, records a profile (-g) of it. Roundtable also leaves its /metrics (journal durable latency).
#   Scripts/bench/bcast_profile.sh rt|floor [OUT] [MSGS] [WINDOW]     (RT_BIN: release roundtable; needs linux-perf)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WHO=$1; OUT=${2:-/tmp/bcast-profile}; MSGS=${3:-20000}; W=${4:-16}
mkdir -p "$OUT"; WORK=$(mktemp -d /tmp/bcastprof.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
ulimit -n 20000
gcc -O2 -Wall -o "$WORK/rtbench" "$ROOT/Scripts/bench/rtbench.c" -lm
if [ "$WHO" = rt ]; then
    env ROUNDTABLE_STORAGE_FSYNC=none ROUNDTABLE_TRANSPORT_MESSAGESPERSECOND=100000 ROUNDTABLE_TRANSPORT_MESSAGEBURST=100000 \
        ROUNDTABLE_TRANSPORT_MAXCONNECTIONSPERADDRESS=19900 ROUNDTABLE_TRANSPORT_MAXCONNECTIONS=19800 \
        ROUNDTABLE_LIMITS_MAXMEMBERSPERROOM=20000 ROUNDTABLE_TRANSPORT_JOINTIMEOUTSECONDS=600 \
        taskset -c 0 "${RT_BIN:?RT_BIN=path of a release roundtable}" serve --port 0 --data-dir "$WORK/d" \
        --port-file "$WORK/port" >"$WORK/server.log" 2>&1 &
    SPID=$!
    for _ in $(seq 1 100); do [ -s "$WORK/port" ] && break; sleep 0.1; done
    PORT=$(tr -d '[:space:]' <"$WORK/port"); ARGS="--mode rt"
else
    gcc -O2 -Wall -o "$WORK/lws_floor" "$ROOT/Scripts/bench/peers/lws_floor.c" -lwebsockets
    PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    taskset -c 0 "$WORK/lws_floor" "$PORT" >"$WORK/server.log" 2>&1 &
    SPID=$!; sleep 0.5; ARGS="--mode plain --path /ws"
fi
# shellcheck disable=SC2086
taskset -c 1 "$WORK/rtbench" bcast $ARGS --port "$PORT" --server-pid "$SPID" --members 200 --msgs "$MSGS" --window "$W" \
    --payload 64 --duration 60 --out "$OUT/bcast-$WHO.json" --label "$WHO" >"$WORK/gen.log" 2>&1 &
GPID=$!
# From the first broadcast (the generator logs it) to the last.
for _ in $(seq 1 600); do grep -q 'broadcast:' "$WORK/gen.log" && break; sleep 0.05; done
perf stat -e 'syscalls:sys_enter_sendto,syscalls:sys_enter_poll,syscalls:sys_enter_sched_yield,syscalls:sys_enter_futex,context-switches' \
    -p "$SPID" -o "$OUT/syscalls-$WHO.txt" &
STPID=$!
if [ -n "${PERF_RECORD:-}" ]; then perf record -F 2999 -g -p "$SPID" -o "$OUT/perf-$WHO.data" 2>/dev/null & RPID=$!; fi
wait "$GPID" || true
kill -INT "$STPID"; wait "$STPID" || true
if [ -n "${PERF_RECORD:-}" ]; then
    kill -INT "$RPID"; wait "$RPID" || true
    { perf report -i "$OUT/perf-$WHO.data" --no-children -g none --sort dso --stdio 2>/dev/null | grep -E '^ +[0-9]+\.[0-9]+%' | head -12 || true; } >"$OUT/perf-dso-$WHO.txt"
    { perf report -i "$OUT/perf-$WHO.data" --no-children -g none --sort sym --stdio 2>/dev/null | grep -E '^ +[0-9]+\.[0-9]+%' | head -60 || true; } >"$OUT/perf-sym-$WHO.txt"
fi
[ "$WHO" = rt ] && curl -s "http://127.0.0.1:$PORT/metrics" >"$OUT/metrics-$WHO.txt"
kill "$SPID"; wait "$SPID" 2>/dev/null || true
python3 - "$OUT" "$WHO" <<'PY'
import json, re, sys
out, who = sys.argv[1:]
b = json.load(open(f"{out}/bcast-{who}.json"))
n = {m.group(2): int(m.group(1).replace(",", "")) for m in re.finditer(r"^\s*([\d,]+)\s+(\S+)", open(f"{out}/syscalls-{who}.txt").read(), re.M)}
d = b["deliveries"]
print(f"{who}: {d} deliveries, {b['server_cpu_us_per_delivery']:.3f} us CPU each, "
      f"{d / n['syscalls:sys_enter_sendto']:.2f} deliveries per sendto, {d / n['syscalls:sys_enter_poll']:.0f} per poll() pass")
PY
