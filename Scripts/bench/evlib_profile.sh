#!/usr/bin/env bash
# Where the server's CPU goes in fan-out rounds, poll vs libev: a room of N (default 5,000), 40 result rounds
# (no flood), `perf record` of the server from the first round to the end, then perf report by symbol.
#   RT_BIN=path Scripts/bench/evlib_profile.sh [N] [OUT]       (needs linux-perf; root or perf_event_paranoid <= 1)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
N=${1:-5000}; OUT=${2:-$ROOT/docs/bench/raw-evlib/profile}
WORK=$(mktemp -d /tmp/evprof.XXXXXX)
ulimit -n 20000
mkdir -p "$OUT"
gcc -O2 -Wall -o "$WORK/rtbench" "$ROOT/Scripts/bench/rtbench.c" -lm
for loop in poll libev; do
    rm -f "$WORK/port" "$WORK/gen.log" # a stale log would start perf during the setup
    ROUNDTABLE_SERVER_EVENTLOOP=$loop ROUNDTABLE_STORAGE_FSYNC=none ROUNDTABLE_TRANSPORT_MESSAGESPERSECOND=100000 \
    ROUNDTABLE_TRANSPORT_MESSAGEBURST=100000 ROUNDTABLE_TRANSPORT_MAXCONNECTIONSPERADDRESS=19900 \
    ROUNDTABLE_TRANSPORT_MAXCONNECTIONS=19800 ROUNDTABLE_LIMITS_MAXMEMBERSPERROOM=20000 \
        taskset -c 0 "$RT_BIN" serve --port 0 --data-dir "$WORK/d-$loop" --port-file "$WORK/port" >"$WORK/server-$loop.log" 2>&1 &
    SPID=$!
    for _ in $(seq 1 100); do [ -s "$WORK/port" ] && break; sleep 0.1; done
    taskset -c 1 "$WORK/rtbench" fanout --port "$(cat "$WORK/port")" --server-pid "$SPID" --members "$N" --rounds 40 \
        --gap-ms 300 --msgs 0 --concurrency 100 --setup-timeout 400 --out "$OUT/fanout-$N-$loop.json" --label "$loop" \
        >"$WORK/gen.log" 2>&1 &
    GPID=$!
    # Start recording once the room is set up (the generator logs the receivers), stop when the rounds end.
    for _ in $(seq 1 600); do grep -q 'receivers' "$WORK/gen.log" && break; sleep 0.1; done
    perf record -F 1999 -g -p "$SPID" -o "$WORK/perf-$loop.data" 2>/dev/null &
    PPID_=$!
    wait "$GPID" || true
    kill -INT "$PPID_"; wait "$PPID_" || true
    # Flat: self time by symbol, then by library (kernel, lws, libev, the server).
    { perf report -i "$WORK/perf-$loop.data" --no-children -g none --sort sym --stdio 2>/dev/null | grep -E '^ +[0-9]+\.[0-9]+%' | head -45 || true; } \
        >"$OUT/perf-$N-$loop.txt"
    { perf report -i "$WORK/perf-$loop.data" --no-children -g none --sort dso --stdio 2>/dev/null | grep -E '^ +[0-9]+\.[0-9]+%' | head -12 || true; } \
        >"$OUT/perf-dso-$N-$loop.txt"
    kill "$SPID"; wait "$SPID" 2>/dev/null || true
done
rm -rf "$WORK"
echo "profiles in $OUT" >&2
