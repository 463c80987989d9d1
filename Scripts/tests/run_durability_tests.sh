#!/usr/bin/env bash
# Durability tests in short form (after `swift build`): kill -9 crash cycles under storage.fsync always (the writer
# thread) and everysec (the service thread writes the journal itself), then the full-disk test (both policies).
# All always run; the exit status is non-zero if any failed.
set -u
cd "$(dirname "$0")/../.."
status=0
timeout -k 5 110 python3 Scripts/crash-test.py --short || status=1
timeout -k 5 110 python3 Scripts/crash-test.py --short --fsync everysec || status=1
timeout -k 5 170 bash Scripts/disk-full-test.sh || status=1
exit $status
