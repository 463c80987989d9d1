"""Rooms and presence over a real third-party WebSocket client (Python websockets)."""
import asyncio
import json
import urllib.request

import websockets
from rt import Client, create_room, join


async def test_create_join_presence_two_tabs_resume(server):
    fac, created, state = await create_room(server)
    code = created["room"]
    assert len(code) == 8 and state["seq"] == 2 and state["you"]["role"] == "facilitator"

    ann, ann_ack, ann_state = await join(server, code, "Ann", "Org A")
    assert ann_state["seq"] == 3
    joined = await fac.expect("member.joined")
    assert joined["seq"] == 3 and joined["member"]["name"] == "Ann"

    # A second tab of the same member: no presence change, both tabs get events.
    tab2, ack2, _ = await join(server, code, None, token=ann_ack["token"])
    assert ack2["member"] == ann_ack["member"]
    bob, _, _ = await join(server, code, "Bob", "Org B")
    for c in (fac, ann, tab2):
        e = await c.expect("member.joined")
        assert e["member"]["name"] == "Bob"

    await ann.close()
    await tab2.close()
    off = await fac.expect("member.presence", online=False)
    assert off["member"] == ann_ack["member"]
    since = off["seq"]

    upd = await bob.request("member.update", expertise=["Grant Writing", "evaluation"], bio="I run a food bank")
    assert upd["type"] == "ack"

    # Resume with `since`: the missed event arrives, gap-free, before our own presence change.
    again, ack3, _ = await join(server, code, None, token=ann_ack["token"], since=since)
    assert ack3["resumed"] == "events", ack3
    missed = await again.expect("member.updated")
    assert missed["seq"] == since + 1 and missed["member"]["expertise"] == ["grant writing", "evaluation"]
    on = await again.expect("member.presence", online=True)
    assert on["seq"] == since + 2


async def test_bad_input_gets_clear_errors(server):
    fac, created, _ = await create_room(server)
    c = await Client.connect(server)
    for raw, code in [("{nope", "bad_json"), ("[1,2]", "bad_json"), ('"x"', "bad_json"),
                      ('{"type":"warp.drive"}', "unknown_type"), ('{"type":42}', "invalid_field"),
                      ('{"ref":"a"}', "invalid_field"),
                      ('{"type":"room.join","room":7,"name":"x"}', "invalid_field"),
                      ('{"type":"member.update","name":"x"}', "not_joined"),
                      ('{"type":"room.join","room":"ZZZZZZZZ","name":"x"}', "room_not_found"),
                      ('{"type":"room.join","room":"%s","token":"forged"}' % created["room"], "bad_credentials"),
                      ('{"type":"room.join","room":"%s","facilitatorKey":"forged","name":"x"}' % created["room"], "bad_credentials"),
                      ('{"type":"room.join","room":"%s","name":"%s"}' % (created["room"], "n" * 81), "too_large"),
                      ('[' * 100 + ']' * 100, "bad_json")]:
        await c.ws.send_raw(raw)
        m = json.loads(await asyncio.wait_for(c.ws.recv(), 5))
        assert m["type"] == "error" and m["code"] == code, (raw[:40], m)
    await c.ws.send_raw(b"\x01\x02")
    m = json.loads(await asyncio.wait_for(c.ws.recv(), 5))
    assert m["code"] == "binary_unsupported", m

    # A member asking for facilitator things is refused; the room goes on.
    m_ack = await c.request("room.join", room=created["room"], name="Mallory")
    assert m_ack["type"] == "ack"
    r = await c.request("member.remove", member=1)
    assert r["code"] == "not_facilitator", r

    # Oversized message: close 1009, others unaffected.
    big = await Client.connect(server)
    await big.ws.send_raw("x" * 70000)
    try:
        await asyncio.wait_for(big.ws.recv(), 5)
        raise AssertionError("expected close")
    except websockets.ConnectionClosed as e:
        assert e.rcvd is not None and e.rcvd.code == 1009, e
    ok = await fac.request("member.update", bio="still here")
    assert ok["type"] == "ack"


async def test_remove_member_closes_their_connections_and_kills_token(server):
    fac, created, _ = await create_room(server)
    code = created["room"]
    eve, eve_ack, _ = await join(server, code, "Eve")
    r = await fac.request("member.remove", member=eve_ack["member"])
    assert r["type"] == "ack"
    left = await fac.expect("member.left")
    assert left["reason"] == "removed"
    try:
        while True:
            await asyncio.wait_for(eve.ws.recv(), 5)
    except websockets.ConnectionClosed as e:
        assert e.rcvd.code == 4001, e
    again = await Client.connect(server)
    r = await again.request("room.join", room=code, token=eve_ack["token"])
    assert r["code"] == "bad_credentials", r


async def test_http_health_and_static(server):
    base = f"http://127.0.0.1:{server.port}"
    body = json.loads(urllib.request.urlopen(base + "/healthz", timeout=5).read())
    assert body["status"] == "ok"
    deadline = asyncio.get_running_loop().time() + 5
    while True:
        try:
            ready = urllib.request.urlopen(base + "/readyz", timeout=5)
            assert ready.status == 200
            break
        except urllib.error.HTTPError as e:
            assert e.code == 503
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.1)
    page = urllib.request.urlopen(base + "/r/ABCDEFGH", timeout=5).read().decode()
    assert "<html" in page.lower()
    try:
        urllib.request.urlopen(base + "/../../etc/passwd", timeout=5)
        raise AssertionError("path traversal served")
    except urllib.error.HTTPError as e:
        assert e.code == 404


async def test_tls_wss_round_trip_and_old_protocols_refused(server):
    import ssl
    fac, created, state = await create_room(server)
    ann, ack, _ = await join(server, created["room"], "Ann")
    assert (await fac.expect("member.joined"))["member"]["name"] == "Ann"
    # TLS 1.1 must be refused: the server's minimum is TLS 1.2.
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ssl.TLSVersion.TLSv1
    ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    try:
        ctx.set_ciphers("ALL:@SECLEVEL=0")
        r, w = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", server.port, ssl=ctx), 5)
        w.close()
        raise AssertionError("TLS 1.1 handshake accepted")
    except (ssl.SSLError, ConnectionResetError, OSError):
        pass

test_tls_wss_round_trip_and_old_protocols_refused.server_args = {"tls": True}


async def test_inspect_summarizes_a_stopped_servers_folder_without_changing_it(server):
    import hashlib
    import os
    import subprocess
    fac, created, _ = await create_room(server, title="Inspect me")
    await fac.request("need.submit", text="Funding", tags=["money"])
    await fac.close()
    server.stop()
    data = os.path.join(server.data, "d")

    def digest():
        h = hashlib.sha256()
        for root, _, files in sorted(os.walk(data)):
            for f in sorted(files):
                if f != "LOCK":
                    h.update(open(os.path.join(root, f), "rb").read())
        return h.hexdigest()

    before = digest()
    binary = os.path.join(os.path.dirname(__file__), "..", "..", ".build/debug/roundtable")
    out = subprocess.run([binary, "inspect", data, "--events"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert f'room {created["room"]} "Inspect me"' in out.stdout, out.stdout
    assert "needs 1" in out.stdout and "journal segments:" in out.stdout
    events = [json.loads(l) for l in out.stdout.splitlines() if l.startswith("{")]
    assert any(e["op"]["op"] == "needAdded" for e in events), events[-3:]
    assert [e["lsn"] for e in events] == list(range(events[0]["lsn"], events[0]["lsn"] + len(events)))
    assert digest() == before, "inspect changed the data folder"


async def test_origin_allow_list_and_create_token(server):
    good = await Client.connect(server, origin="https://good.example")
    ack = await good.request("room.create", title="T", name="F")
    assert ack["code"] == "not_allowed", ack  # createToken is configured: loopback alone is not enough
    ack = await good.request("room.create", title="T", name="F", createToken="wrong")
    assert ack["code"] == "not_allowed", ack
    ack = await good.request("room.create", title="T", name="F", createToken="s3cret")
    assert ack["type"] == "ack", ack
    try:
        await Client.connect(server, origin="https://evil.example")
        raise AssertionError("a browser from a foreign origin was let in")
    except websockets.InvalidStatus:
        pass
    except websockets.InvalidHandshake:
        pass
    plain = await Client.connect(server)  # non-browser clients send no Origin
    r = await plain.request("room.join", room=ack["room"], name="Ann")
    assert r["type"] == "ack", r

test_origin_allow_list_and_create_token.server_args = {"extra_env": {
    "ROUNDTABLE_TRANSPORT_ALLOWEDORIGINS": '["https://good.example"]', "ROUNDTABLE_ROOMS_CREATETOKEN": "s3cret"}}


async def test_readme_demo_command_opens_a_room_others_can_join(server):
    """The README's demo is `roundtable demo`: nothing beyond the binary. The room it opens is real:
    a member joining with the printed code sees Ann and her need; the printed facilitator link's key
    makes a second facilitator; the links name the node the demo was pointed at."""
    import re
    import subprocess
    from run_python_tests import ROOT
    out = await asyncio.to_thread(
        subprocess.run, [str(ROOT / ".build/debug/roundtable"), "demo", "--url", f"http://127.0.0.1:{server.port}"],
        capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    base = f"http://127.0.0.1:{server.port}"
    m = re.search(re.escape(base) + r"/r/([0-9A-Z]+)#key=([0-9a-f]+)", out.stdout)
    assert m, out.stdout
    code, key = m.group(1), m.group(2)
    assert f"{base}/r/{code}\n" in out.stdout, out.stdout
    bob, ack, state = await join(server, code, "Bob", "Clinic")
    assert ack["role"] == "member"
    assert sorted(mem["name"] for mem in state["members"]) == ["Ann", "Bob", "Fay"], state["members"]
    assert [n["text"] for n in state["needs"]] == ["Volunteer scheduling across sites"], state["needs"]
    co, ack2, _ = await join(server, code, "Cora", facilitatorKey=key)
    assert ack2["role"] == "facilitator", ack2
    for c in (bob, co):
        await c.close()
    # A node that is not there: a clear message and a failing exit status, not a hang.
    down = await asyncio.to_thread(
        subprocess.run, [str(ROOT / ".build/debug/roundtable"), "demo", "--url", "http://127.0.0.1:1"],
        capture_output=True, text=True, timeout=30)
    assert down.returncode != 0 and "is the server running" in down.stderr, (down.returncode, down.stderr)
