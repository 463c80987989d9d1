#!/usr/bin/env bash
# System calls per delivery in fan-out rounds (1,000 members, 30 rounds, no flood), poll vs libev: strace -c of the
# server for 6 s once the room is set up. strace slows the server: read the counts, not the times.
#   RT_BIN=path Scripts/bench/evlib_syscalls.sh
set -euo pipefail
RT_BIN=${RT_BIN:?release binary of roundtable}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${OUT:-$ROOT/docs/bench/raw-evlib/profile}
WORK=$(mktemp -d /tmp/evstrace.XXXXXX)
ulimit -n 20000
gcc -O2 -o "$WORK/rtbench" "$ROOT/Scripts/bench/rtbench.c" -lm
for loop in poll libev; do
    rm -f "$WORK/port" "$WORK/gen.log"
    ROUNDTABLE_SERVER_EVENTLOOP=$loop ROUNDTABLE_STORAGE_FSYNC=none ROUNDTABLE_TRANSPORT_MESSAGESPERSECOND=100000 \
    ROUNDTABLE_TRANSPORT_MESSAGEBURST=100000 ROUNDTABLE_TRANSPORT_MAXCONNECTIONSPERADDRESS=19900 \
    ROUNDTABLE_TRANSPORT_MAXCONNECTIONS=19800 ROUNDTABLE_LIMITS_MAXMEMBERSPERROOM=20000 \
        taskset -c 0 "$RT_BIN" serve --port 0 --data-dir "$WORK/d-$loop" --port-file "$WORK/port" >"$WORK/server-$loop.log" 2>&1 &
    SPID=$!
    for _ in $(seq 1 100); do [ -s "$WORK/port" ] && break; sleep 0.1; done
    taskset -c 1 "$WORK/rtbench" fanout --port "$(cat "$WORK/port")" --server-pid "$SPID" --members 1000 --rounds 30 \
        --gap-ms 300 --msgs 0 --concurrency 100 --setup-timeout 400 --out "$WORK/f-$loop.json" --label "$loop" >"$WORK/gen.log" 2>&1 &
    GPID=$!
    for _ in $(seq 1 600); do grep -q 'receivers' "$WORK/gen.log" && break; sleep 0.1; done
    timeout -s INT 6 strace -c -f -p "$SPID" -o "$OUT/strace-1000-$loop.txt" || true
    wait "$GPID" || true
    kill "$SPID"; wait "$SPID" 2>/dev/null || true
done
rm -rf "$WORK"
