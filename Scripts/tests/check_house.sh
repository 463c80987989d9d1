#!/usr/bin/env bash
# Housekeeping checks (issue #17), cheap enough to run on every test run:
#   1. RoundtableCore imports nothing: the pure domain reaches no module, not even Foundation or Glibc.
#   2. The Swift build printed no warning for our own sources (Sources/, Tests/).
#   3. swift-format (the toolchain's, configured by .swift-format) finds nothing in Sources/ and Tests/.
# Usage: check_house.sh [BUILD_LOG]. BUILD_LOG is the output of `swift build --build-tests`, which
# Scripts/test.sh tees to a file. CI builds from scratch, so that log holds every file's warnings; after a
# local incremental build it holds only the files recompiled, so a clean local run is weaker than CI's.
# Without BUILD_LOG only the import check runs.
set -euo pipefail
cd "$(dirname "$0")/../.."
status=0

# --- 1. RoundtableCore imports nothing (any spelling: `import`, `public import`, `@testable import`, ...).
imports=$(grep -rnE '^[[:space:]]*(@[A-Za-z_]+[[:space:]]+)*((public|package|internal|fileprivate|private)[[:space:]]+)?import[[:space:]]' \
    Sources/RoundtableCore --include='*.swift' || true)
if [ -n "$imports" ]; then
    echo "FAIL: Sources/RoundtableCore must import nothing:"
    echo "$imports"
    status=1
else
    echo "ok: Sources/RoundtableCore imports nothing"
fi

# --- 2. No compiler warnings in our sources.
if [ $# -ge 1 ]; then
    log=$1
    [ -f "$log" ] || { echo "FAIL: no build log at $log"; exit 1; }
    # Dependencies (swift-log, swift-argument-parser) are built with warnings suppressed; keep only ours anyway.
    root=$PWD
    warnings=$(grep -E "warning:" "$log" | grep -E "(^|$root/)(Sources|Tests)/" | sort -u || true)
    if [ -n "$warnings" ]; then
        echo "FAIL: the build printed warnings:"
        echo "$warnings"
        status=1
    else
        echo "ok: no compiler warnings in Sources/ or Tests/ ($log)"
    fi
fi

# --- 3. Formatting: `swift format -i -r -p Sources Tests` fixes what this reports.
if swift format lint -r --strict -p Sources Tests; then
    echo "ok: swift format lint finds nothing in Sources/ or Tests/"
else
    echo "FAIL: swift format lint (fix with: swift format -i -r -p Sources Tests)"
    status=1
fi

exit $status
