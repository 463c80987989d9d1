#!/usr/bin/env python3
"""The shipped nginx site in front of the real server: no spelling of /metrics gets through.

Starts `.build/debug/roundtable serve` on an ephemeral loopback port, then nginx from
Config/nginx-roundtable.conf with only what a loopback run needs changed (listen addresses on
127.0.0.1, the upstream port, a throwaway self-signed certificate, a temporary prefix). Requests
go out over raw TLS sockets so that no client library normalises the request target. Every
spelling of /metrics must be answered 403 or 404 without metrics in the body; canonical
routes must still be proxied (200), so the check is not passing because nothing works.

Also prints what the server alone answers for each spelling (for the record: lws 4.1.6
normalises //, /./, /../ and %XX before the server sees the path; docs/SECURITY.md).

Exit status 0 when everything holds, 1 on a leak or a broken route, 77 when nginx, openssl
or the built server is missing (reported as SKIP).
"""
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BINARY = ROOT / ".build/debug/roundtable"
HOST = "roundtable.example.org"

METRICS_SPELLINGS = [
    "/metrics", "/metrics?x=1", "/metrics;", "/metrics;x", "/metrics;x=1?y", "/metrics&x", "/metrics%3Bx",
    "//metrics", "///metrics", "/./metrics", "/x/../metrics", "/ws/../metrics", "/x/..;/metrics",
    "/%6detrics", "/%6Detrics", "/%2fmetrics", "/.%2fmetrics", "/%2e/metrics", "/x/%2e%2e/metrics",
    "/metrics/", "/metrics/.", "/METRICS", "/metrics%20", "/metrics+", "/metrics#x",
    "http://roundtable.example.org/metrics", "http://127.0.0.1/metrics", "/metrics%00",
]
CANONICAL_OK = ["/healthz", "/readyz", "/", "/app.js", "/healthz?probe=1"]
# Report routes reach the server (401: no bearer key), for rooms and communities alike; spellings the server
# would normalise into them are refused by nginx itself (404), so what nginx matched is what the server serves.
REPORTS_REACH_SERVER = ["/rooms/E7Z98H5K/report.json", "/communities/C7Q2M9XK4T/report.json",
                        "/communities/c7q2m9xk4t/report.md"]
REPORTS_REFUSED = ["/communities//C7Q2M9XK4T/report.json", "/communities/%437Q2M9XK4T/report.json",
                   "/communities%2FC7Q2M9XK4T/report.json", "/x/../communities/C7Q2M9XK4T/report.json",
                   "/communities/./C7Q2M9XK4T/report.json"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def raw_get(port, target, tls, timeout=5.0):
    """One request with the target written byte for byte; returns (status, body)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    if tls:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.set_alpn_protocols(["http/1.1"])
        sock = ctx.wrap_socket(sock, server_hostname=HOST)
    try:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n".encode("latin-1"))
        data = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except (ssl.SSLError, ConnectionResetError):
                break
            if not chunk:
                break
            data += chunk
    finally:
        sock.close()
    m = re.match(rb"HTTP/1\.[01] (\d{3})", data)
    status = int(m.group(1)) if m else None
    body = data.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in data else b""
    return status, body


def wait_port(port, proc, what, seconds=15):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited early")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on {port} within {seconds} s")


def nginx_site(tmp, server_port, tls_port, plain_port):
    conf = (ROOT / "Config/nginx-roundtable.conf").read_text()
    edits = [
        ("server 127.0.0.1:8080;", f"server 127.0.0.1:{server_port};"),
        ("listen 80;", f"listen 127.0.0.1:{plain_port};"),
        ("listen [::]:80;", ""),
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{tls_port} ssl http2;"),
        ("listen [::]:443 ssl http2;", ""),
        ("/etc/letsencrypt/live/roundtable.example.org/fullchain.pem", f"{tmp}/cert.pem"),
        ("/etc/letsencrypt/live/roundtable.example.org/privkey.pem", f"{tmp}/key.pem"),
    ]
    for old, new in edits:
        if old not in conf:
            raise RuntimeError(f"Config/nginx-roundtable.conf no longer contains {old!r}: update this test")
        conf = conf.replace(old, new)
    (Path(tmp) / "conf").mkdir()
    (Path(tmp) / "logs").mkdir()
    (Path(tmp) / "conf/roundtable.conf").write_text(conf)
    (Path(tmp) / "conf/nginx.conf").write_text(f"""pid {tmp}/nginx.pid;
error_log {tmp}/logs/error.log;
events {{}}
http {{
    access_log {tmp}/logs/access.log;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    include {tmp}/conf/roundtable.conf;
}}
""")


def main():
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if not nginx or not shutil.which("openssl") or not BINARY.exists():
        print("SKIP check_proxy_paths: needs nginx, openssl and a built .build/debug/roundtable")
        return 77
    tmp = tempfile.mkdtemp(prefix="rt-proxy-")
    os.chmod(tmp, 0o755)  # nginx workers run as nobody when the master is root
    procs = []
    failures = []
    try:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", f"/CN={HOST}",
                        "-keyout", f"{tmp}/key.pem", "-out", f"{tmp}/cert.pem"], check=True, capture_output=True)
        server_port, tls_port, plain_port = free_port(), free_port(), free_port()
        log = open(f"{tmp}/server.log", "wb")
        server = subprocess.Popen([str(BINARY), "serve", "--host", "127.0.0.1", "--port", str(server_port),
                                   "--data-dir", f"{tmp}/data", "--web-root", str(ROOT / "web")],
                                  stdout=log, stderr=log)
        procs.append(server)
        wait_port(server_port, server, "roundtable")
        nginx_site(tmp, server_port, tls_port, plain_port)
        ng = subprocess.Popen([nginx, "-p", tmp, "-c", f"{tmp}/conf/nginx.conf", "-e", f"{tmp}/logs/error.log",
                               "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        procs.append(ng)
        wait_port(tls_port, ng, "nginx")

        for path in CANONICAL_OK:
            status, _ = raw_get(tls_port, path, tls=True)
            ok = status == 200
            print(f"{'PASS' if ok else 'FAIL'} via nginx {path!r} -> {status} (want 200)")
            if not ok:
                failures.append(path)
        for path in REPORTS_REACH_SERVER:
            status, body = raw_get(tls_port, path, tls=True)
            ok = status == 401 and b"unauthorized" in body
            print(f"{'PASS' if ok else 'FAIL'} via nginx {path!r} -> {status} (want the server's 401)")
            if not ok:
                failures.append(path)
        for path in REPORTS_REFUSED:
            status, body = raw_get(tls_port, path, tls=True)
            ok = status in (400, 404) and b"unauthorized" not in body
            print(f"{'PASS' if ok else 'FAIL'} via nginx {path!r} -> {status} (want nginx's 404)")
            if not ok:
                failures.append(path)
        for path in METRICS_SPELLINGS:
            status, body = raw_get(tls_port, path, tls=True)
            direct, _ = raw_get(server_port, path, tls=False)
            ok = status in (400, 403, 404) and b"roundtable_" not in body
            print(f"{'PASS' if ok else 'FAIL'} via nginx {path!r} -> {status} (server alone: {direct})")
            if not ok:
                failures.append(path)
    finally:
        for p in reversed(procs):
            p.terminate()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        if failures and os.path.exists(f"{tmp}/logs/error.log"):
            print("--- nginx error.log ---\n" + open(f"{tmp}/logs/error.log").read()[-3000:])
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        total = len(METRICS_SPELLINGS) + len(CANONICAL_OK) + len(REPORTS_REACH_SERVER) + len(REPORTS_REFUSED)
        print(f"FAIL check_proxy_paths: {len(failures)} of {total}: {failures}")
        return 1
    print(f"PASS check_proxy_paths: {len(METRICS_SPELLINGS)} spellings of /metrics refused by nginx, "
          f"{len(CANONICAL_OK)} routes proxied, {len(REPORTS_REACH_SERVER)} report routes reach the server, "
          f"{len(REPORTS_REFUSED)} non-canonical report spellings refused")
    return 0


if __name__ == "__main__":
    sys.exit(main())
