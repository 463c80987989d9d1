#!/usr/bin/env bash
# Three Roundtable nodes behind HAProxy on loopback: runs a cross-node scenario (rooms on every node,
# members through HAProxy, kill -9 and restart of one node, no acknowledged vote lost, other nodes
# unaffected), then stops everything it started. `--short` is the form the test command runs.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v haproxy >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq haproxy >/dev/null
fi
[ -x .build/debug/roundtable ] || swift build --product roundtable
exec python3 Scripts/tests/cluster_scenario.py "$@"
