"""A minimal TURN (RFC 5766/8656) Allocate client over UDP with long-term credentials (RFC 5389 §10.2),
for checking which credentials a TURN server accepts. Standard library only.

    allocate("127.0.0.1", 3478, username, password) -> ("ok", relayed (ip, port)) | ("error", code, reason)
"""
import hashlib
import hmac
import os
import socket
import struct
import zlib

MAGIC = 0x2112A442
ALLOCATE, REFRESH = 0x0003, 0x0004
SUCCESS, ERROR = 0x0100, 0x0110
USERNAME, MESSAGE_INTEGRITY, ERROR_CODE, REALM, NONCE = 0x0006, 0x0008, 0x0009, 0x0014, 0x0015
REQUESTED_TRANSPORT, LIFETIME, XOR_RELAYED_ADDRESS, FINGERPRINT = 0x0019, 0x000D, 0x0016, 0x8028


def _attr(t, value):
    pad = (4 - len(value) % 4) % 4
    return struct.pack("!HH", t, len(value)) + value + b"\0" * pad


def _message(method, tid, attrs, key=None):
    body = b"".join(_attr(t, v) for t, v in attrs)
    if key is not None:
        # MESSAGE-INTEGRITY covers the header (length including the MI attribute) and what precedes it.
        head = struct.pack("!HHI12s", method, len(body) + 24, MAGIC, tid)
        body += _attr(MESSAGE_INTEGRITY, hmac.new(key, head + body, hashlib.sha1).digest())
    head = struct.pack("!HHI12s", method, len(body) + 8, MAGIC, tid)
    crc = (zlib.crc32(head + body) ^ 0x5354554E) & 0xFFFFFFFF
    body += _attr(FINGERPRINT, struct.pack("!I", crc))
    return struct.pack("!HHI12s", method, len(body), MAGIC, tid) + body


def _parse(data):
    mtype, length, magic, tid = struct.unpack("!HHI12s", data[:20])
    attrs, i = {}, 20
    while i < 20 + length:
        t, n = struct.unpack("!HH", data[i:i + 4])
        attrs.setdefault(t, data[i + 4:i + 4 + n])
        i += 4 + n + (4 - n % 4) % 4
    return mtype, tid, attrs


def _error(attrs):
    v = attrs.get(ERROR_CODE, b"\0\0\0\0")
    return (v[2] & 7) * 100 + v[3], v[4:].decode("utf-8", "replace")


def _xor_address(v):
    port = struct.unpack("!H", v[2:4])[0] ^ (MAGIC >> 16)
    ip = struct.unpack("!I", v[4:8])[0] ^ MAGIC
    return socket.inet_ntoa(struct.pack("!I", ip)), port


def _roundtrip(sock, server, msg, tid):
    for _ in range(5):
        sock.sendto(msg, server)
        try:
            while True:
                data, _ = sock.recvfrom(4096)
                mtype, rtid, attrs = _parse(data)
                if rtid == tid:
                    return mtype, attrs
        except socket.timeout:
            continue
    raise TimeoutError("no answer from the TURN server")


def allocate(host, port, username, password, timeout=0.5):
    server = (host, port)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(timeout)
    try:
        transport = _attr(REQUESTED_TRANSPORT, bytes([17, 0, 0, 0]))[4:]  # UDP
        tid = os.urandom(12)
        mtype, attrs = _roundtrip(sock, server, _message(ALLOCATE, tid, [(REQUESTED_TRANSPORT, transport)]), tid)
        if mtype != ALLOCATE | ERROR or _error(attrs)[0] != 401:
            return ("error", *_error(attrs)) if mtype == ALLOCATE | ERROR else ("unexpected", mtype)
        realm, nonce = attrs[REALM], attrs[NONCE]
        key = hashlib.md5(username.encode() + b":" + realm + b":" + password.encode()).digest()
        tid = os.urandom(12)
        auth = [(REQUESTED_TRANSPORT, transport), (USERNAME, username.encode()), (REALM, realm), (NONCE, nonce)]
        mtype, attrs = _roundtrip(sock, server, _message(ALLOCATE, tid, auth, key), tid)
        if mtype == ALLOCATE | ERROR:
            return ("error", *_error(attrs))
        if mtype != ALLOCATE | SUCCESS:
            return ("unexpected", mtype)
        relayed = _xor_address(attrs[XOR_RELAYED_ADDRESS])
        # Release the allocation (Refresh with lifetime 0).
        tid = os.urandom(12)
        refresh = [(LIFETIME, struct.pack("!I", 0)), (USERNAME, username.encode()), (REALM, realm), (NONCE, nonce)]
        _roundtrip(sock, server, _message(REFRESH, tid, refresh, key), tid)
        return ("ok", relayed)
    finally:
        sock.close()
