#!/usr/bin/env bash
# Checks the deployment files: the systemd unit with `systemd-analyze verify`, the nginx site with
# `nginx -t` (throwaway self-signed certificate, temporary prefix; nothing under /etc is touched) and
# check_proxy_paths.py (that site in front of the built server, every spelling of /metrics refused).
# A missing tool is reported and skipped, not failed: CI images may lack systemd or nginx.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0

# --- systemd unit
if command -v systemd-analyze >/dev/null 2>&1; then
    # verify wants ExecStart's binary to exist: point it at the built one (or /bin/true) in a copy.
    bin="$ROOT/.build/debug/roundtable"
    [ -x "$bin" ] || bin=/bin/true
    sed "s#^ExecStart=/opt/roundtable/bin/roundtable #ExecStart=$bin #; s#^WorkingDirectory=.*#WorkingDirectory=/#" \
        Config/roundtable.service >"$tmp/roundtable.service"
    # Warnings about the absent system manager (containers, CI) are not about the unit: keep only real findings.
    out=$(SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no "$tmp/roundtable.service" 2>&1 || true)
    findings=$(printf '%s\n' "$out" | grep -F "roundtable.service" | grep -vE "Failed to (connect|prepare)|bus|Transport endpoint" || true)
    if [ -n "$findings" ]; then
        echo "FAIL systemd-analyze verify Config/roundtable.service:"
        printf '%s\n' "$findings"
        status=1
    else
        echo "PASS systemd-analyze verify Config/roundtable.service"
    fi
    # Hardening that must stay: the brief for this unit, checked literally.
    for key in "ProtectSystem=strict" "NoNewPrivileges=yes" "PrivateTmp=yes" "LimitNOFILE=20000" "Restart=on-failure" \
        "ReadWritePaths=/var/lib/roundtable" "DynamicUser=yes"; do
        grep -qx "$key" Config/roundtable.service || { echo "FAIL unit lacks $key"; status=1; }
    done
    grep -q '^ExecStart=.* --config ' Config/roundtable.service || { echo "FAIL ExecStart lacks --config"; status=1; }
else
    echo "SKIP systemd unit: systemd-analyze is not installed (apt-get install systemd)"
fi

# --- nginx site
if command -v nginx >/dev/null 2>&1 && command -v openssl >/dev/null 2>&1; then
    mkdir -p "$tmp/nginx/logs" "$tmp/nginx/conf"
    openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=roundtable.example.org" \
        -keyout "$tmp/nginx/key.pem" -out "$tmp/nginx/cert.pem" >/dev/null 2>&1
    sed "s#/etc/letsencrypt/live/roundtable.example.org/fullchain.pem#$tmp/nginx/cert.pem#; s#/etc/letsencrypt/live/roundtable.example.org/privkey.pem#$tmp/nginx/key.pem#" \
        Config/nginx-roundtable.conf >"$tmp/nginx/conf/roundtable.conf"
    # A minimal main config that includes the site the way conf.d does; pid and logs in the prefix.
    # (No `user`: as non-root nginx would warn about it.)
    cat >"$tmp/nginx/conf/nginx.conf" <<CONF
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/logs/error.log;
events {}
http {
    access_log $tmp/nginx/logs/access.log;
    client_body_temp_path $tmp/nginx/body;
    proxy_temp_path $tmp/nginx/proxy;
    include $tmp/nginx/conf/roundtable.conf;
}
CONF
    if out=$(nginx -t -p "$tmp/nginx" -c "$tmp/nginx/conf/nginx.conf" -e "$tmp/nginx/logs/error.log" 2>&1); then
        echo "PASS nginx -t Config/nginx-roundtable.conf"
    else
        echo "FAIL nginx -t Config/nginx-roundtable.conf:"
        printf '%s\n' "$out"
        status=1
    fi
    grep -q 'proxy_set_header Upgrade \$http_upgrade' Config/nginx-roundtable.conf || { echo "FAIL nginx: no WebSocket upgrade"; status=1; }
    # The site in front of the real server: every spelling of /metrics refused (raw TLS requests).
    rc=0
    python3 Scripts/tests/check_proxy_paths.py || rc=$?
    [ "$rc" -eq 0 ] || [ "$rc" -eq 77 ] || status=1
else
    echo "SKIP nginx site: nginx or openssl is not installed (apt-get install nginx-light openssl)"
fi
exit $status
