#!/usr/bin/env bash
# Installs what the browser tests need, only when missing: Debian's chromium and chromium-driver,
# and Selenium from PyPI. Safe to call (or source) from Scripts/test.sh.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
{ command -v chromedriver >/dev/null 2>&1 || [ -x /usr/bin/chromedriver ]; } || need+=(chromium-driver)
# The run-of-show test reads the wall's QR code back from a screenshot.
command -v zbarimg >/dev/null 2>&1 || need+=(zbar-tools)
[ -f /usr/share/javascript/qrcode-generator/qrcode.js ] || need+=(node-qrcode-generator)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
python3 -c "import selenium" 2>/dev/null || python3 -m pip install -q selenium 2>/dev/null \
  || python3 -m pip install -q --break-system-packages selenium
# Accessibility checks (axe-core, bundled as axe.min.js in this PyPI package).
python3 -c "import axe_selenium_python" 2>/dev/null || python3 -m pip install -q axe-selenium-python 2>/dev/null \
  || python3 -m pip install -q --break-system-packages axe-selenium-python
# The web page's QR encoder, from Debian's package (see Scripts/deps.sh).
mkdir -p "$(dirname "${BASH_SOURCE[0]}")/../../../web/vendor"
cp -f /usr/share/javascript/qrcode-generator/qrcode.js "$(dirname "${BASH_SOURCE[0]}")/../../../web/vendor/qrcode-generator.js"
