"""A small Roundtable client in Python: the standard library only (Python 3.8+).

It carries its own minimal RFC 6455 client (text frames, masking, fragments, ping/pong, close; `ws://` and
`wss://`), so it runs on a fresh machine without pip: copy this one file. It is blocking and
single-threaded, which suits bots and scripts; a web app should use web/client.js.

    from roundtable_client import RoundtableClient
    rt = RoundtableClient("ws://127.0.0.1:8080/ws")
    ack = rt.join("E7Z98H5K", name="Ranking bot", role="observer")
    for msg in rt.messages():          # events and notices, in order
        print(msg["type"])

Protocol: docs/PROTOCOL.md; machine-readable: docs/asyncapi.json and docs/schema/.
"""
import base64
import hashlib
import json
import os
import socket
import ssl
import struct
import time
import urllib.parse

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class RoundtableError(Exception):
    """An `error` reply: `code` is the server's stable code (docs/PROTOCOL.md#errors)."""

    def __init__(self, reply):
        super().__init__(f"{reply.get('code')}: {reply.get('message')}")
        self.code = reply.get("code")
        self.reply = reply


class ConnectionClosed(Exception):
    def __init__(self, code=None, reason=""):
        super().__init__(f"connection closed ({code} {reason})".strip())
        self.code = code
        self.reason = reason


class WebSocket:
    """A blocking WebSocket client connection (text messages only)."""

    def __init__(self, url, timeout=10, subprotocol="roundtable", insecure=False):
        u = urllib.parse.urlsplit(url)
        scheme = {"http": "ws", "https": "wss"}.get(u.scheme, u.scheme)
        if scheme not in ("ws", "wss"):
            raise ValueError(f"not a ws:// or wss:// URL: {url}")
        port = u.port or (443 if scheme == "wss" else 80)
        path = (u.path or "/") + (f"?{u.query}" if u.query else "")
        sock = socket.create_connection((u.hostname, port), timeout=timeout)
        if scheme == "wss":
            ctx = ssl.create_default_context()
            if insecure:  # self-signed development certificates (Scripts/dev-cert.sh)
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
            sock = ctx.wrap_socket(sock, server_hostname=u.hostname)
        self.sock = sock
        self.buf = b""
        self.closed = None
        key = base64.b64encode(os.urandom(16)).decode()
        host = u.hostname if u.port is None else f"{u.hostname}:{u.port}"
        lines = [f"GET {path} HTTP/1.1", f"Host: {host}", "Upgrade: websocket", "Connection: Upgrade",
                 f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
        if subprotocol:
            lines.append(f"Sec-WebSocket-Protocol: {subprotocol}")
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = self._read_until(b"\r\n\r\n").decode("latin-1")
        status, *header_lines = head.split("\r\n")
        if " 101 " not in status + " ":
            raise ConnectionError(f"handshake refused: {status}")
        headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines if h)}
        want = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
        if headers.get("sec-websocket-accept") != want:
            raise ConnectionError("handshake: bad Sec-WebSocket-Accept")

    def _read_until(self, marker):
        while marker not in self.buf:
            self._fill()
        head, _, self.buf = self.buf.partition(marker)
        return head

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionClosed(1006, "connection lost")
        self.buf += chunk

    def _read(self, n):
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _send_frame(self, opcode, payload):
        n = len(payload)
        head = bytes([0x80 | opcode])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack("!Q", n)
        mask = os.urandom(4)
        body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(head + mask + body)

    def send(self, text):
        if self.closed:
            raise ConnectionClosed(*self.closed)
        self._send_frame(0x1, text.encode("utf-8"))

    def recv(self, timeout=None):
        """The next text message; None when `timeout` (seconds) passes first. Answers pings."""
        if self.closed:
            raise ConnectionClosed(*self.closed)
        deadline = None if timeout is None else time.monotonic() + timeout
        parts, first_opcode = [], None
        while True:
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0 and not self.buf:
                    return None
                self.sock.settimeout(max(left, 0.001))
            else:
                self.sock.settimeout(None)
            try:
                b0, b1 = self._read(2)
            except (socket.timeout, TimeoutError):
                return None
            self.sock.settimeout(None)  # the rest of a frame that has started is read in full
            opcode, fin, n = b0 & 0x0F, b0 & 0x80, b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._read(8))[0]
            mask = self._read(4) if b1 & 0x80 else None
            payload = self._read(n)
            if mask:
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            if opcode == 0x9:  # ping
                self._send_frame(0xA, payload)
                continue
            if opcode == 0xA:  # pong
                continue
            if opcode == 0x8:  # close: answer it and stop
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                reason = payload[2:].decode("utf-8", "replace")
                try:
                    self._send_frame(0x8, payload[:2])
                except OSError:
                    pass
                self.closed = (code, reason)
                self.sock.close()
                raise ConnectionClosed(code, reason)
            if opcode in (0x1, 0x2):
                first_opcode = opcode
            parts.append(payload)
            if fin:
                data = b"".join(parts)
                if first_opcode == 0x2:
                    parts = []
                    continue  # the protocol is text only
                return data.decode("utf-8")

    def close(self, code=1000):
        if not self.closed:
            try:
                self._send_frame(0x8, struct.pack("!H", code))
            except OSError:
                pass
            self.closed = (code, "")
            self.sock.close()


class RoundtableClient:
    """Requests with `ref`s and replies; everything else (events, notices) waits in `inbox` for `messages()`."""

    def __init__(self, url, timeout=10, insecure=False):
        self.ws = WebSocket(url, timeout=timeout, insecure=insecure)
        self.timeout = timeout
        self.inbox = []
        self.ref = 0
        self.room = None
        self.last_seq = 0

    def request(self, type_, **fields):
        """Sends `{type, ref, ...fields}`; returns the `ack`, raises RoundtableError on an `error`."""
        self.ref += 1
        ref = f"py{self.ref}"
        self.ws.send(json.dumps(dict(type=type_, ref=ref, **fields)))
        deadline = time.monotonic() + self.timeout
        while True:
            left = deadline - time.monotonic()
            text = self.ws.recv(timeout=max(left, 0)) if left > 0 else None
            if text is None:
                raise TimeoutError(f"no reply to {type_} within {self.timeout}s")
            msg = json.loads(text)
            if msg.get("ref") == ref and msg.get("type") in ("ack", "error"):
                if msg["type"] == "error":
                    raise RoundtableError(msg)
                return msg
            self._keep(msg)

    def _keep(self, msg):
        if "seq" in msg and msg.get("type") != "room.state":
            self.last_seq = max(self.last_seq, msg["seq"])
        elif msg.get("type") == "room.state":
            self.last_seq = msg["seq"]
        self.inbox.append(msg)

    def create(self, title, name, organization="", **extra):
        ack = self.request("room.create", title=title, name=name, organization=organization, **extra)
        self.room = ack["room"]
        return ack

    def join(self, room, name=None, role=None, organization=None, token=None, since=None, **extra):
        """A new member or observer (name, role), or a resume (token, since)."""
        fields = dict(room=room, **extra)
        for k, v in (("name", name), ("role", role), ("organization", organization), ("token", token), ("since", since)):
            if v is not None:
                fields[k] = v
        ack = self.request("room.join", **fields)
        self.room = ack["room"]
        return ack

    def next(self, timeout=None):
        """The next event or notice; None when `timeout` passes first."""
        if self.inbox:
            return self.inbox.pop(0)
        text = self.ws.recv(timeout=timeout)
        if text is None:
            return None
        msg = json.loads(text)
        self._keep(msg)
        return self.inbox.pop(0)

    def messages(self):
        """Every event and notice, in order, until the connection closes."""
        while True:
            try:
                msg = self.next()
            except ConnectionClosed:
                return
            if msg is not None:
                yield msg

    def close(self):
        self.ws.close()
