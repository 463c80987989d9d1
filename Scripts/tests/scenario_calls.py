"""Partner calls (WebRTC signaling) over a real third-party WebSocket client (Python websockets), and
TURN credentials checked by a real coturn (Scripts/coturn.sh) with a small TURN Allocate client.

Only current partners reach each other; oversized and flooding signals get the documented errors;
signaling after the round ends is refused and the call ends with `call.ended`; signals are never
journaled or logged; minted TURN credentials are accepted by coturn, expired and forged ones refused.
"""
import asyncio
import base64
import hashlib
import hmac
import os
import pathlib
import secrets
import socket
import subprocess
import time

from rt import create_room, join
from turn_client import allocate

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


TURN_PORT = _free_udp_port()
TURN_SECRET = secrets.token_hex(16)
TURN_ENV = {
    "ROUNDTABLE_CALLS_STUNURLS": f'["stun:127.0.0.1:{TURN_PORT}"]',
    "ROUNDTABLE_CALLS_TURNURLS": f'["turn:127.0.0.1:{TURN_PORT}?transport=udp"]',
    "ROUNDTABLE_CALLS_TURNSECRET": TURN_SECRET,
    "ROUNDTABLE_CALLS_CREDENTIALTTLSECONDS": "120",
}


async def paired_room(server, n):
    """A facilitator and n members in round 1; returns (fac, {member id: client}, {member id: partner ids})."""
    fac, created, _ = await create_room(server)
    code = created["room"]
    joined = await asyncio.gather(*[join(server, code, f"M{i}", f"Org {i}") for i in range(n)])
    clients = {ack["member"]: c for c, ack, _ in joined}
    ack = await fac.request("interviews.start", turnSeconds=600, reportSeconds=60, partnerGraceSeconds=600)
    assert ack["type"] == "ack", ack
    partners = {}
    for mid, c in clients.items():
        a = await c.expect("interview.assigned", round=1)
        partners[mid] = [p["id"] for p in a["partners"]]
    return fac, code, clients, partners


def offer(marker="roundtable-test"):
    return {"kind": "offer", "sdp": f"v=0\r\no=- 4611 2 IN IP4 127.0.0.1\r\ns={marker}\r\nt=0 0\r\n"}


async def quiet(client, seconds=0.3):
    """Messages that arrive within `seconds` (plus anything already kept)."""
    out = list(client.inbox)
    client.inbox.clear()
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while (left := end - loop.time()) > 0:
        try:
            import json
            out.append(json.loads(await asyncio.wait_for(client.ws.recv(), left)))
        except asyncio.TimeoutError:
            break
    return out


async def test_partners_receive_signals_strangers_are_refused(server):
    fac, code, clients, partners = await paired_room(server, 4)
    a = min(clients)
    b = partners[a][0]
    stranger = next(m for m in clients if m != a and m not in partners[a])
    marker = "sdp-marker-" + secrets.token_hex(6)
    ack = await clients[a].request("call.signal", to=b, signal=offer(marker))
    assert ack["type"] == "ack", ack
    got = await clients[b].expect("call.signal")
    assert got["from"] == a and got["round"] == 1 and got["signal"]["kind"] == "offer" and marker in got["signal"]["sdp"], got
    assert "seq" not in got and "room" not in got, "a notice, not a room event"
    # Unknown fields are not relayed: only kind and sdp.
    ack = await clients[b].request("call.signal", raw=True, to=a, signal={"kind": "answer", "sdp": "v=0\r\n", "note": "x"})  # an unknown field: outside the schema on purpose
    assert ack["type"] == "ack", ack
    ans = await clients[a].expect("call.signal")
    assert ans["signal"] == {"kind": "answer", "sdp": "v=0\r\n"}, ans
    cand = {"kind": "candidate", "candidate": {"candidate": "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host", "sdpMid": "0", "sdpMLineIndex": 0}}
    assert (await clients[a].request("call.signal", to=b, signal=cand))["type"] == "ack"
    assert (await clients[b].expect("call.signal"))["signal"] == cand
    # `session` (which peer connection a signal belongs to) is relayed with every kind; out of range is refused.
    for sig in ({"kind": "answer", "sdp": "v=0\r\n", "session": 2**53 - 1}, dict(cand, session=0), {"kind": "ready", "session": 41}):
        assert (await clients[b].request("call.signal", to=a, signal=sig))["type"] == "ack"
        assert (await clients[a].expect("call.signal"))["signal"] == sig
    for bad in (-1, 2**53, "7", 1.5):
        err = await clients[a].request("call.signal", raw=True, to=b, signal={"kind": "ready", "session": bad})  # invalid on purpose
        assert err["code"] == "invalid_field" and "signal.session" in err["message"], (bad, err)

    err = await clients[a].request("call.signal", to=stranger, signal=offer())
    assert err["type"] == "error" and err["code"] == "not_partner", err
    err = await fac.request("call.signal", to=a, signal=offer())
    assert err["code"] == "not_partner", err
    err = await clients[a].request("call.signal", raw=True, to=b, signal={"kind": "shout"})  # invalid on purpose
    assert err["code"] == "invalid_field" and "signal.kind" in err["message"], err
    err = await clients[a].request("call.signal", raw=True, to=b, signal={"kind": "offer"})  # invalid on purpose
    assert err["code"] == "invalid_field" and "signal.sdp" in err["message"], err
    assert not [m for m in await quiet(clients[stranger]) if m["type"] == "call.signal"], "the stranger got nothing"
    # Never stored, never logged: not in the journal, snapshots or the log.
    await fac.request("need.submit", text="a durable change after the signals")
    await asyncio.sleep(0.3)
    data = pathlib.Path(server.data)
    stored = b"".join(p.read_bytes() for p in data.rglob("*") if p.is_file() and p.name != "server.log")
    assert marker.encode() not in stored, "an SDP reached the data folder"
    assert marker not in server.read_log(), "an SDP reached the server log"


async def test_oversized_and_flooding_signals_get_documented_errors(server):
    _, _, clients, partners = await paired_room(server, 2)
    a, b = sorted(clients)
    big = {"kind": "offer", "sdp": "v=0\r\n" + "a" * 16_400}
    err = await clients[a].request("call.signal", to=b, signal=big)
    assert err["type"] == "error" and err["code"] == "signal_too_large" and "16384" in err["message"], err
    # Flood: 36 candidates at once (under the connection's own messageBurst of 40, so every reply keeps
    # its ref). The member's signal bucket holds signalBurst (30) and refills at signalsPerSecond (10).
    n = 36
    for i in range(n):
        await clients[a].send({"type": "call.signal", "ref": f"f{i}", "to": b, "signal": {"kind": "candidate", "candidate": {"candidate": f"c{i}"}}})
    replies = {}
    while len(replies) < n:
        m = await clients[a].next()
        if m.get("ref", "").startswith("f"):
            replies[m["ref"]] = m
    codes = [replies[f"f{i}"].get("code", "ok") for i in range(n)]
    assert codes.count("ok") in range(30, 33) and set(codes) == {"ok", "rate_limited"}, codes
    limited = next(replies[f"f{i}"] for i in range(n) if codes[i] == "rate_limited")
    assert "signalsPerSecond" in limited["message"], limited
    got = [m for m in await quiet(clients[b], 0.5) if m["type"] == "call.signal"]
    assert len(got) == codes.count("ok"), (len(got), codes.count("ok"))
    await asyncio.sleep(1.1)  # refilled: the connection is still open and signals pass again
    assert (await clients[a].request("call.signal", to=b, signal=offer()))["type"] == "ack"


async def test_signaling_after_the_round_is_refused_and_calls_end(server):
    fac, _, clients, partners = await paired_room(server, 2)
    a, b = sorted(clients)
    assert (await clients[a].request("call.signal", to=b, signal=offer()))["type"] == "ack"
    ack = await fac.request("interviews.next")
    assert ack["type"] == "ack" and ack["round"] == 2, ack
    for m in (a, b):
        ended = await clients[m].expect("call.ended")
        assert ended == {"type": "call.ended", "round": 1, "pair": 1, "reason": "new-round"}, ended
        await clients[m].expect("interview.assigned", round=2)
    assert (await clients[a].request("call.signal", to=b, signal=offer()))["type"] == "ack"
    assert (await fac.request("interviews.end"))["type"] == "ack"
    for m in (a, b):
        assert (await clients[m].expect("call.ended"))["reason"] == "interviews-ended"
    err = await clients[a].request("call.signal", to=b, signal=offer())
    assert err["code"] == "interviews_inactive", err
    err = await clients[a].request("call.ice")
    assert err["code"] == "interviews_inactive", err


def _password(username, secret=TURN_SECRET):
    return base64.b64encode(hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()).decode()


async def test_coturn_accepts_minted_credentials_and_refuses_expired_or_forged(server):
    tmp = pathlib.Path(server.data) / "coturn"
    env = dict(os.environ, ROUNDTABLE_CALLS_TURNSECRET=TURN_SECRET)
    relay = f"{40000 + TURN_PORT % 20000}-{40000 + TURN_PORT % 20000 + 20}"
    subprocess.run(["bash", str(ROOT / "Scripts/coturn.sh"), "start", "--dir", str(tmp), "--port", str(TURN_PORT),
                    "--relay-ports", relay], check=True, env=env, capture_output=True, timeout=30)
    try:
        _, _, clients, partners = await paired_room(server, 2)
        a, b = sorted(clients)
        ice = await clients[a].request("call.ice")
        assert ice["type"] == "ack", ice
        stun, turn = ice["iceServers"]
        assert stun == {"urls": [f"stun:127.0.0.1:{TURN_PORT}"]}, stun
        user, password = turn["username"], turn["credential"]
        expiry, rid = user.split(":")
        assert abs(int(expiry) - (time.time() + 120)) < 5 and len(rid) == 16, user
        assert str(a) != rid and "M0" not in user, "the username does not identify the member"
        assert password == _password(user), "base64(HMAC-SHA1(secret, username))"
        loop = asyncio.get_running_loop()
        ok = await loop.run_in_executor(None, allocate, "127.0.0.1", TURN_PORT, user, password)
        assert ok[0] == "ok" and ok[1][0] == "127.0.0.1", ok
        theirs = (await clients[b].request("call.ice"))["iceServers"][1]
        assert theirs["username"] != user
        assert (await loop.run_in_executor(None, allocate, "127.0.0.1", TURN_PORT, theirs["username"], theirs["credential"]))[0] == "ok"
        # Forged: right username, wrong password; a password made with another secret.
        bad = await loop.run_in_executor(None, allocate, "127.0.0.1", TURN_PORT, user, password[:-2] + "A=")
        assert bad[:2] == ("error", 401), bad
        other = await loop.run_in_executor(None, allocate, "127.0.0.1", TURN_PORT, user, _password(user, "not-the-secret"))
        assert other[:2] == ("error", 401), other
        # Expired: correctly signed, but its time has passed.
        old = f"{int(time.time()) - 5}:{rid}"
        expired = await loop.run_in_executor(None, allocate, "127.0.0.1", TURN_PORT, old, _password(old))
        assert expired[:2] == ("error", 401), expired
        assert TURN_SECRET not in server.read_log(), "the secret reached the log"
    finally:
        subprocess.run(["bash", str(ROOT / "Scripts/coturn.sh"), "stop", "--dir", str(tmp)], timeout=30)


test_coturn_accepts_minted_credentials_and_refuses_expired_or_forged.server_args = {"extra_env": TURN_ENV}
