#!/usr/bin/env bash
# Durability tests in short form (after `swift build`): kill -9 crash cycles, then the full-disk test.
# Both always run; the exit status is non-zero if either failed.
set -u
cd "$(dirname "$0")/../.."
status=0
timeout -k 5 110 python3 Scripts/crash-test.py --short || status=1
timeout -k 5 170 bash Scripts/disk-full-test.sh || status=1
exit $status
