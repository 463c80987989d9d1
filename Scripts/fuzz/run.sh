#!/usr/bin/env bash
# Builds and runs the libFuzzer harnesses for a bounded time.
#
#   Scripts/fuzz/run.sh                  # both targets, 60 s each
#   Scripts/fuzz/run.sh decoder 300      # one target, 300 s
#   FUZZ_JOBS=2 Scripts/fuzz/run.sh      # parallel workers (-fork)
#
# Targets: decoder (DecoderFuzz.swift: one frame through RequestDecoder + JSON round trip) and
# session (SessionFuzz.swift: frames through RequestDecoder into a Coordinator, with invariants and
# journal replay). Package.swift has no fuzz product, so this compiles RoundtableCore and
# RoundtableWire straight from Sources/ with swiftc into one module (the `import RoundtableCore`
# lines are stripped from a copy), instrumented with -sanitize=fuzzer,address.
#
# Crashes are written to $OUT/artifacts/<target>/crash-* ; reproduce one with
#   $OUT/<target>-fuzz $OUT/artifacts/<target>/crash-...
# The growing corpus lives in $OUT/corpus/<target> (seeded from Scripts/fuzz/corpus/<target>).
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v swiftc >/dev/null 2>&1 || export PATH="/opt/swift/usr/bin:$PATH"
OUT=${OUT:-/tmp/roundtable-fuzz}
targets=${1:-all}
seconds=${2:-60}
jobs=${FUZZ_JOBS:-1}
mkdir -p "$OUT/src"
rm -f "$OUT"/src/*.swift

# One module: Core + Wire sources, import lines between them removed.
i=0
while IFS= read -r f; do
    i=$((i + 1))
    sed -e '/^import RoundtableCore$/d' "$f" >"$OUT/src/$(printf '%03d' $i)-$(basename "$f")"
done < <(find Sources/RoundtableCore Sources/RoundtableWire -name '*.swift' | sort)

build() {
    local name=$1 harness=$2
    if [ ! -x "$OUT/$name-fuzz" ] || [ -n "$(find Sources/RoundtableCore Sources/RoundtableWire "$harness" -newer "$OUT/$name-fuzz" -name '*.swift' | head -1)" ]; then
        echo "== building $name-fuzz"
        swiftc -sanitize=fuzzer,address -parse-as-library -O -g -swift-version 6 \
            -enable-upcoming-feature ExistentialAny -module-name RoundtableFuzz \
            "$OUT"/src/*.swift "$harness" -o "$OUT/$name-fuzz"
    fi
}

runone() {
    local name=$1
    mkdir -p "$OUT/corpus/$name" "$OUT/artifacts/$name"
    cp -n Scripts/fuzz/corpus/$name/* "$OUT/corpus/$name/" 2>/dev/null || true
    echo "== running $name-fuzz for ${seconds}s"
    local fork=()
    [ "$jobs" -gt 1 ] && fork=(-fork="$jobs" -ignore_crashes=1)
    # -max_len: the server refuses frames over maxFrameBytes (64 KiB) before decoding.
    "$OUT/$name-fuzz" "$OUT/corpus/$name" -dict=Scripts/fuzz/json.dict -max_total_time="$seconds" \
        -max_len=65536 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$OUT/artifacts/$name/" "${fork[@]}" 2>&1 | tee "$OUT/$name.log" | grep -E "^#[0-9]+ +(DONE|pulse)|ERROR|SUMMARY|Test unit written|stat::|==[0-9]+==" || true
    local crashes
    crashes=$(ls "$OUT/artifacts/$name" | wc -l)
    echo "== $name: $crashes artifact(s) in $OUT/artifacts/$name"
    [ "$crashes" -eq 0 ]
}

status=0
if [ "$targets" = all ] || [ "$targets" = decoder ]; then build decoder Scripts/fuzz/DecoderFuzz.swift; runone decoder || status=1; fi
if [ "$targets" = all ] || [ "$targets" = session ]; then build session Scripts/fuzz/SessionFuzz.swift; runone session || status=1; fi
exit $status
