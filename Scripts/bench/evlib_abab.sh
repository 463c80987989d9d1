#!/usr/bin/env bash
# A/B/A/B benchmark of two Roundtable server set-ups on this 2-core box (server on core 0, rtbench on
# core 1), each run on a fresh server, A and B alternating inside every cycle so neighbours' noise hits both.
#
# Default (issue 20, event loops): A = poll, B = libev (server.eventLoop), same binary.
#   Scripts/bench/evlib_abab.sh                  3 cycles of: launch 5,000 at 250/s, fan-out 1,000 and 5,000
#                                                (20 result rounds + a 60-message broadcast flood), then the
#                                                kernel's send floor (sendfloor send N) at 1,000 and 5,000
# Two builds (issue 17 before/after):
#   A_BIN=/path/before B_BIN=/path/after A_NAME=before B_NAME=after A_LOOP=poll B_LOOP=poll \
#   AB_SCENARIOS="votes fanout1000 fanout5000 idle" Scripts/bench/evlib_abab.sh     (votes20000: 20,000 offered, not 50,000)
# AB_JEMSTATS=1: idle runs also record jemalloc's counters (Scripts/bench/jemstats.c, LD_PRELOAD) in
#   idle-5000-NAME-N.jem (+ .jem.bins, per size class) and the generator's end time in .end; summarise
#   with Scripts/bench/idle_mem_summary.py OUT A_NAME B_NAME.
# Env: AB_CYCLES (3), AB_FIRST (number of the first cycle, to add cycles to a folder), AB_OUT (docs/bench/raw-evlib), RT_BIN (default: release build of this tree, built first).
# Summarise with Scripts/bench/ab_summary.py OUT.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${AB_OUT:-$ROOT/docs/bench/raw-evlib}
CYCLES=${AB_CYCLES:-3}
SCEN=${AB_SCENARIOS:-"launch fanout1000 fanout5000 floor"}
A_NAME=${A_NAME:-poll}; B_NAME=${B_NAME:-libev}
A_LOOP=${A_LOOP:-poll}; B_LOOP=${B_LOOP:-libev}
WORK=$(mktemp -d /tmp/abab.XXXXXX)
ulimit -n 20000
mkdir -p "$OUT"
SPID=""
cleanup() { [ -n "$SPID" ] && kill -9 "$SPID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
say() { printf '[abab %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

if [ -z "${RT_BIN:-}" ] && { [ -z "${A_BIN:-}" ] || [ -z "${B_BIN:-}" ]; }; then
    export PATH=/opt/swift/usr/bin:$PATH
    swift build -c release --product roundtable --package-path "$ROOT" --scratch-path "$ROOT/.build-abab" >&2
    RT_BIN=$ROOT/.build-abab/release/roundtable
fi
A_BIN=${A_BIN:-$RT_BIN}; B_BIN=${B_BIN:-$RT_BIN}
gcc -O2 -Wall -o "$WORK/rtbench" "$ROOT/Scripts/bench/rtbench.c" -lm
gcc -O2 -Wall -o "$WORK/sendfloor" "$ROOT/Scripts/bench/sendfloor.c" -lpthread
gen() { taskset -c 1 "$WORK/rtbench" "$@"; }
JEMOUT=""
[ -n "${AB_JEMSTATS:-}" ] && gcc -O2 -Wall -shared -fPIC -o "$WORK/jemstats.so" "$ROOT/Scripts/bench/jemstats.c" -ljemalloc -lpthread

start_rt() { # start_rt BIN LOOP FSYNC
    local d; d=$(mktemp -d "$WORK/data.XXXX"); rm -f "$WORK/port"
    env ${JEMOUT:+LD_PRELOAD=$WORK/jemstats.so JEMSTATS_OUT=$JEMOUT} ROUNDTABLE_SERVER_EVENTLOOP="$2" ROUNDTABLE_STORAGE_FSYNC="$3" \
        ROUNDTABLE_TRANSPORT_MESSAGESPERSECOND=100000 ROUNDTABLE_TRANSPORT_MESSAGEBURST=100000 \
        ROUNDTABLE_TRANSPORT_MAXCONNECTIONSPERADDRESS=19900 ROUNDTABLE_TRANSPORT_MAXCONNECTIONS=19800 \
        ROUNDTABLE_LIMITS_MAXMEMBERSPERROOM=20000 ROUNDTABLE_TRANSPORT_JOINTIMEOUTSECONDS=600 \
        taskset -c 0 "$1" serve --port 0 --data-dir "$d" --port-file "$WORK/port" >"$WORK/server.log" 2>&1 &
    SPID=$!
    for _ in $(seq 1 100); do [ -s "$WORK/port" ] && break; sleep 0.1; done
    [ -s "$WORK/port" ] || { tail -20 "$WORK/server.log" >&2; echo "server did not start" >&2; exit 1; }
    SPORT=$(tr -d '[:space:]' <"$WORK/port")
    sleep 0.3
}
stop_rt() {
    kill "$SPID" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$SPID" 2>/dev/null || true; wait "$SPID" 2>/dev/null || true; SPID=""
}

run_one() { # run_one NAME BIN LOOP SCENARIO CYCLE
    local name=$1 bin=$2 loop=$3 s=$4 i=$5 f
    case $s in
        launch)
            f=$OUT/launch-5000-250-$name-$i.json; say "$s $name (cycle $i)"; start_rt "$bin" "$loop" none
            gen launch --port "$SPORT" --server-pid "$SPID" --members 5000 --rate 250 --concurrency 50 --hold 3 \
                --setup-timeout 300 --out "$f" --label "$name" >"$WORK/gen.log" 2>&1 || tail -5 "$WORK/gen.log" >&2
            stop_rt ;;
        fanout*)
            local n=${s#fanout}; f=$OUT/fanout-$n-$name-$i.json; say "$s $name (cycle $i)"; start_rt "$bin" "$loop" none
            gen fanout --port "$SPORT" --server-pid "$SPID" --members "$n" --rounds 20 --gap-ms 300 --msgs 60 --window 4 \
                --duration 60 --concurrency 100 --setup-timeout 400 --out "$f" --label "$name" >"$WORK/gen.log" 2>&1 \
                || tail -5 "$WORK/gen.log" >&2
            stop_rt ;;
        votes*)
            local rate=${s#votes}; rate=${rate:-50000}
            f=$OUT/votes-none-$rate-$name-$i.json; say "$s $name (cycle $i)"; start_rt "$bin" "$loop" none
            gen votes --port "$SPORT" --server-pid "$SPID" --members 200 --rate "$rate" --warmup 2 --duration 10 \
                --inflight 32 --out "$f" --label "$name" >"$WORK/gen.log" 2>&1 || tail -5 "$WORK/gen.log" >&2
            stop_rt ;;
        idle)
            f=$OUT/idle-5000-$name-$i.json; say "$s $name (cycle $i)"
            if [ -n "${AB_JEMSTATS:-}" ]; then JEMOUT=${f%.json}.jem; rm -f "$JEMOUT" "$JEMOUT.bins"; fi
            start_rt "$bin" "$loop" none
            gen idle --port "$SPORT" --server-pid "$SPID" --members 5000 --room-size 100 --hold 3 --concurrency 200 \
                --setup-timeout 240 --out "$f" --label "$name" >"$WORK/gen.log" 2>&1 || tail -5 "$WORK/gen.log" >&2
            date +%s%3N >"${f%.json}.end"; JEMOUT=""
            stop_rt ;;
    esac
}

FIRST=${AB_FIRST:-1}
for i in $(seq "$FIRST" $((FIRST + CYCLES - 1))); do
    for s in $SCEN; do
        if [ "$s" = floor ]; then
            # The kernel's own floor in the same cycle: one 200-byte send() per connection, no WebSocket.
            for n in 1000 5000; do
                say "floor send $n (cycle $i)"
                "$WORK/sendfloor" send "$n" 20 | tail -1 >"$OUT/floor-send-$n-$i.json"
            done
            continue
        fi
        run_one "$A_NAME" "$A_BIN" "$A_LOOP" "$s" "$i"
        run_one "$B_NAME" "$B_BIN" "$B_LOOP" "$s" "$i"
    done
done
say "done: $OUT"
