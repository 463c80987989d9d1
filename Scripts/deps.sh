#!/usr/bin/env bash
# Installs what building and testing Roundtable needs on Debian 12, only when missing.
set -euo pipefail
need=()
# node-qrcode-generator: the QR encoder the wall screen and the console use (copied into web/vendor below).
# libev-dev, libwebsockets-evlib-ev: server.eventLoop = libev (the loop library and lws' plugin for it).
for pkg in libwebsockets-dev libssl-dev libjemalloc-dev pkg-config node-qrcode-generator libev-dev libwebsockets-evlib-ev; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ "${1:-}" = "--test" ]; then
  for pkg in python3 python3-pip; do
    command -v "${pkg%%-*}" >/dev/null 2>&1 || need+=("$pkg")
  done
  # The browser test reads the wall's QR code back from a screenshot.
  command -v zbarimg >/dev/null 2>&1 || need+=(zbar-tools)
  # Deployment checks (nginx -t) and the cluster test (HAProxy).
  command -v nginx >/dev/null 2>&1 || need+=(nginx-light)
  command -v haproxy >/dev/null 2>&1 || need+=(haproxy)
  # The TURN server the call tests relay through (Scripts/coturn.sh).
  command -v turnserver >/dev/null 2>&1 || need+=(coturn)
  # The JavaScript client's tests (node --test Scripts/tests/client/): Node, tsc for its declarations,
  # and `ws` for the test against the real server on Node before 22.
  command -v node >/dev/null 2>&1 || need+=(nodejs)
  command -v tsc >/dev/null 2>&1 || need+=(node-typescript)
  [ -d /usr/share/nodejs/ws ] || need+=(node-ws)
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
  # The contract checks (docs/schema, docs/openapi.yaml): jsonschema from Debian (4.10 knows draft
  # 2020-12), openapi-spec-validator from PyPI.
  # Debian's package only serves Debian's own python3; a python3 first in PATH from elsewhere (pyenv on
  # these machines) needs PyPI's, so check the import again after apt.
  if ! python3 -c "import jsonschema" 2>/dev/null; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-jsonschema >/dev/null 2>&1 || true
    python3 -c "import jsonschema" 2>/dev/null || python3 -m pip install -q jsonschema 2>/dev/null \
      || python3 -m pip install -q --break-system-packages jsonschema
  fi
  python3 -c "import openapi_spec_validator" 2>/dev/null || python3 -m pip install -q openapi-spec-validator 2>/dev/null \
    || python3 -m pip install -q --break-system-packages openapi-spec-validator
fi
# The page loads the QR encoder from web/vendor/ (the server serves only its web root); the file comes from
# Debian's package, so security updates reach it with the next run of this script.
mkdir -p "$(dirname "${BASH_SOURCE[0]}")/../web/vendor"
cp -f /usr/share/javascript/qrcode-generator/qrcode.js "$(dirname "${BASH_SOURCE[0]}")/../web/vendor/qrcode-generator.js"
command -v swift >/dev/null 2>&1 || export PATH="/opt/swift/usr/bin:$PATH"
command -v swift >/dev/null 2>&1 || { echo "Swift 6 toolchain not found (expected on PATH or at /opt/swift)"; exit 1; }
