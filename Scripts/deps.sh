#!/usr/bin/env bash
# Installs what building and testing Roundtable needs on Debian 12, only when missing.
set -euo pipefail
need=()
for pkg in libwebsockets-dev libssl-dev libjemalloc-dev pkg-config; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ "${1:-}" = "--test" ]; then
  for pkg in python3 python3-pip; do
    command -v "${pkg%%-*}" >/dev/null 2>&1 || need+=("$pkg")
  done
  # Deployment checks (nginx -t) and the cluster test (HAProxy).
  command -v nginx >/dev/null 2>&1 || need+=(nginx-light)
  command -v haproxy >/dev/null 2>&1 || need+=(haproxy)
  # The TURN server the call tests relay through (Scripts/coturn.sh).
  command -v turnserver >/dev/null 2>&1 || need+=(coturn)
fi
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
if [ "${1:-}" = "--test" ]; then
  # The third-party client the integration scenario uses: Python websockets (PyPI).
  python3 -c "import websockets" 2>/dev/null || python3 -m pip install -q websockets 2>/dev/null \
    || python3 -m pip install -q --break-system-packages websockets
fi
command -v swift >/dev/null 2>&1 || export PATH="/opt/swift/usr/bin:$PATH"
command -v swift >/dev/null 2>&1 || { echo "Swift 6 toolchain not found (expected on PATH or at /opt/swift)"; exit 1; }
