#!/usr/bin/env bash
# Installs what is missing, builds in release and runs a Roundtable node on 127.0.0.1:8080 with ./data.
# Extra arguments go to `roundtable serve` (e.g. --port 9000).
set -euo pipefail
cd "$(dirname "$0")/.."
source Scripts/deps.sh
swift build -c release --product roundtable
exec .build/release/roundtable serve --config Config/roundtable.json "$@"
