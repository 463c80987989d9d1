#!/usr/bin/env bash
# Runs every test: Swift unit and integration tests, the third-party client scenarios, the JavaScript client's
# tests (node, installed by deps.sh) and the browser suites.
set -euo pipefail
cd "$(dirname "$0")/.."
source Scripts/deps.sh --test
swift build --build-tests 2>&1 | tee /tmp/roundtable-swift-build.log
bash Scripts/tests/check_house.sh /tmp/roundtable-swift-build.log
swift test --skip-build 2>&1 | tee /tmp/roundtable-swift-test.log
python3 Scripts/tests/contract_drift.py
python3 Scripts/tests/run_python_tests.py
# The same server on lws' built-in poll loop (server.eventLoop; libev is the default): rooms, polls and the
# lifecycle (archive, restart) again.
ROUNDTABLE_SERVER_EVENTLOOP=poll python3 Scripts/tests/run_python_tests.py scenario_rooms scenario_polls scenario_lifecycle
bash Scripts/tests/check_deploy_files.sh
bash Scripts/tests/run_durability_tests.sh
bash Scripts/cluster.sh --short
bash Scripts/tests/browser/deps.sh
python3 Scripts/tests/browser/run_browser_tests.py
python3 Scripts/tests/browser/run_show_browser_tests.py
python3 Scripts/tests/browser/run_community_browser_tests.py
python3 Scripts/tests/browser/run_cluster_browser_tests.py
node --test Scripts/tests/client/
python3 Scripts/tests/browser/run_call_tests.py
