"""A small Roundtable client over Python `websockets`, for the scenarios."""
import asyncio
import json
import ssl

import websockets

from contract import Wire


class CheckedSocket:
    """A `websockets` connection whose every frame is checked against docs/schema (see contract.py).

    `send` takes only requests the schema describes; `send_raw` is for hostile-input tests that send
    malformed frames on purpose. Everything received must be a message the schema describes.
    """

    def __init__(self, ws, name="client"):
        self._ws = ws
        self.wire = Wire(name)

    async def send(self, data):
        self.wire.sent(data)
        await self._ws.send(data)

    async def send_raw(self, data):
        self.wire.sent_raw(data)
        await self._ws.send(data)

    async def recv(self):
        data = await self._ws.recv()
        self.wire.received(data)
        return data

    def __aiter__(self):
        return self

    async def __anext__(self):
        try:
            return await self.recv()
        except websockets.ConnectionClosedOK:
            raise StopAsyncIteration

    def __getattr__(self, name):
        return getattr(self._ws, name)


class Client:
    def __init__(self, ws):
        self.ws = ws
        self.inbox = []
        self.ref = 0

    @classmethod
    async def connect(cls, server, **kw):
        if server.tls and "ssl" not in kw:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            kw["ssl"] = ctx
        ws = await websockets.connect(server.url(), max_size=None, **kw)
        return cls(CheckedSocket(ws))

    async def send(self, msg, raw=False):
        """`raw=True`: a request that breaks docs/schema on purpose (hostile input); not validated."""
        text = json.dumps(msg)
        await (self.ws.send_raw(text) if raw else self.ws.send(text))

    async def next(self, timeout=10):
        if self.inbox:
            return self.inbox.pop(0)
        return json.loads(await asyncio.wait_for(self.ws.recv(), timeout))

    async def request(self, type_, raw=False, **fields):
        """Sends a request and returns its reply (ack or error); other messages are kept for `expect`.

        `raw=True` marks a request that breaks docs/schema on purpose (it is sent unvalidated)."""
        self.ref += 1
        ref = f"r{self.ref}"
        await self.send(dict(type=type_, ref=ref, **fields), raw=raw)
        while True:
            msg = json.loads(await asyncio.wait_for(self.ws.recv(), 10))
            if msg.get("ref") == ref and msg["type"] in ("ack", "error"):
                return msg
            self.inbox.append(msg)

    async def expect(self, type_, timeout=10, **match):
        """Returns the first message of this type (and matching fields), skipping others."""
        for i, m in enumerate(self.inbox):
            if m["type"] == type_ and all(m.get(k) == v for k, v in match.items()):
                return self.inbox.pop(i)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            left = deadline - loop.time()
            if left <= 0:
                raise AssertionError(f"no {type_} {match} within {timeout}s; inbox: {self.inbox[-5:]}")
            m = json.loads(await asyncio.wait_for(self.ws.recv(), left))
            if m["type"] == type_ and all(m.get(k) == v for k, v in match.items()):
                return m
            self.inbox.append(m)

    async def close(self):
        await self.ws.close()


async def create_room(server, title="Launch", name="Facilitator"):
    fac = await Client.connect(server)
    ack = await fac.request("room.create", title=title, name=name, organization="TTA Center")
    assert ack["type"] == "ack", ack
    state = await fac.expect("room.state")
    return fac, ack, state


async def join(server, code, name, org="", **extra):
    c = await Client.connect(server)
    if name is not None:  # a resume (token) sends no name
        extra = dict(extra, name=name)
    ack = await c.request("room.join", room=code, organization=org, **extra)
    assert ack["type"] == "ack", ack
    state = await c.expect("room.state") if ack.get("resumed", "state") == "state" else None
    return c, ack, state
