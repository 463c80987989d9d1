#!/usr/bin/env bash
# Makes a self-signed certificate for local wss:// testing: Config/dev-cert.pem and Config/dev-key.pem
# (or the two paths given). Point tls.certificate and tls.privateKey at them.
set -euo pipefail
cert="${1:-Config/dev-cert.pem}"; key="${2:-Config/dev-key.pem}"
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=localhost" \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$key" -out "$cert" 2>/dev/null
echo "wrote $cert and $key"
