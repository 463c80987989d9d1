#!/usr/bin/env bash
# Installs what the browser tests need, only when missing: Debian's chromium and chromium-driver,
# and Selenium from PyPI. Safe to call (or source) from Scripts/test.sh.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
{ command -v chromedriver >/dev/null 2>&1 || [ -x /usr/bin/chromedriver ]; } || need+=(chromium-driver)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
python3 -c "import selenium" 2>/dev/null || python3 -m pip install -q selenium 2>/dev/null \
  || python3 -m pip install -q --break-system-packages selenium
