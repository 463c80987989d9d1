#!/usr/bin/env python3
"""Three nodes behind HAProxy: placement, routing, a node crash, and isolation between nodes."""
import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import websockets

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("ROUNDTABLE_BIN", os.path.join(ROOT, ".build/debug/roundtable"))
PREFIXES = ["A", "B", "C"]
# Node -> cluster.nodePrefix for this test. Prefixes of one to three characters, with digits the server folds
# look-alikes into (O->0, I/L->1), so the test proves HAProxy routes on the whole normalised prefix. The test
# writes its own nodes.map in the shipped format (Config/cluster/nodes.map keeps the simple A/B/C example).
NODE_PREFIX = {"A": "A", "B": "B1", "C": "C0"}
BACKEND = {"A": "node_a", "B": "node_b", "C": "node_c"}
METRICS_SPELLINGS = [
    "/metrics", "/metrics;x", "/metrics;", "//metrics", "/./metrics", "/x/../metrics", "/%6detrics", "/%6Detrics",
    "/METRICS", "/Metrics", "/metrics/", "/metrics?x=1", "/metrics%3bx", "/%2fmetrics", "/r/../metrics",
    "/%2e/metrics", "/metric%73", "/%256detrics", "http://127.0.0.1/metrics", "/metrics#x", "/metrics%00",
]


def node_of(code):
    """The node whose prefix starts the (canonical) code."""
    return next(n for n, p in NODE_PREFIX.items() if code.startswith(p))


def raw_http(port, target, method="GET", headers=""):
    """One request written byte for byte (HTTP clients would normalise the path): (status, headers, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}Connection: close\r\n\r\n".encode())
        data = b""
        deadline = time.time() + 5
        while time.time() < deadline:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return lines[0], headers, body


def status_of(status_line):
    parts = status_line.split()
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0


def spellings(code):
    """Ways people type a code: lower case, and look-alikes of the prefix's digits (0 as O, 1 as I or L)."""
    out = {code.lower()}
    for a, bs in (("0", "Oo"), ("1", "IiLl")):
        if a in code[:3]:
            for b in bs:
                out.add(code[:3].replace(a, b) + code[3:])
    return sorted(out)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="rt-cluster-")
        self.ports = {p: free_port() for p in PREFIXES}
        self.front = free_port()
        self.nodes = {}
        self.haproxy = None

    def start_node(self, prefix):
        env = dict(os.environ, ROUNDTABLE_CLUSTER_NODEPREFIX=NODE_PREFIX[prefix],
                   ROUNDTABLE_TRANSPORT_MESSAGESPERSECOND="1000", ROUNDTABLE_TRANSPORT_MESSAGEBURST="1000")
        log = open(os.path.join(self.dir, f"node-{prefix}.log"), "ab")
        # HAProxy connects from 127.0.0.1: room creation stays allowed (loopback), as in a same-host deployment.
        self.nodes[prefix] = subprocess.Popen(
            [BIN, "serve", "--port", str(self.ports[prefix]), "--data-dir", os.path.join(self.dir, f"data-{prefix}"),
             "--web-root", os.path.join(ROOT, "web")], stdout=log, stderr=log, env=env,
            preexec_fn=lambda: signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT]))
        wait_http(f"http://127.0.0.1:{self.ports[prefix]}/readyz", 20)

    def start(self):
        for p in PREFIXES:
            self.start_node(p)
        cfg = open(os.path.join(ROOT, "Config/haproxy.cfg")).read()
        with open(os.path.join(self.dir, "nodes.map"), "w") as f:
            f.write("".join(f"{NODE_PREFIX[n]} {BACKEND[n]}\n" for n in PREFIXES))
        shutil.copy(os.path.join(ROOT, "Config/cluster/503.http"), os.path.join(self.dir, "503.http"))
        cfg = (cfg.replace("@PORT_FRONT@", str(self.front)).replace("@PORT_A@", str(self.ports["A"]))
               .replace("@PORT_B@", str(self.ports["B"])).replace("@PORT_C@", str(self.ports["C"]))
               .replace("@MAP@", os.path.join(self.dir, "nodes.map")).replace("@ERRORS@", self.dir))
        path = os.path.join(self.dir, "haproxy.cfg")
        open(path, "w").write(cfg)
        check = subprocess.run(["haproxy", "-c", "-f", path], capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError("haproxy -c failed: " + check.stdout + check.stderr)
        log = open(os.path.join(self.dir, "haproxy.log"), "ab")
        self.haproxy = subprocess.Popen(["haproxy", "-db", "-f", path], stdout=log, stderr=log)
        wait_http(f"http://127.0.0.1:{self.front}/healthz", 10)
        time.sleep(1.2)  # let the health checks mark every server up

    def kill(self, prefix):
        self.nodes[prefix].send_signal(signal.SIGKILL)
        self.nodes[prefix].wait()

    def stop(self):
        for p in self.nodes.values():
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
        if self.haproxy and self.haproxy.poll() is None:
            self.haproxy.terminate()
            self.haproxy.wait(5)
        shutil.rmtree(self.dir, ignore_errors=True)

    def ws(self, code=None):
        return f"ws://127.0.0.1:{self.front}/ws" + (f"/{code}" if code else "")


def wait_http(url, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(url, timeout=2).status == 200:
                return
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} not ready in {seconds}s")


class Conn:
    def __init__(self, ws):
        self.ws, self.n = ws, 0

    @classmethod
    async def open(cls, url):
        return cls(await websockets.connect(url, open_timeout=5))

    async def request(self, type_, **f):
        self.n += 1
        ref = f"r{self.n}"
        await self.ws.send(json.dumps(dict(type=type_, ref=ref, **f)))
        while True:
            m = json.loads(await asyncio.wait_for(self.ws.recv(), 5))
            if m.get("ref") == ref:
                return m

    async def state(self):
        while True:
            m = json.loads(await asyncio.wait_for(self.ws.recv(), 5))
            if m["type"] == "room.state":
                return m


async def communities(cluster, check):
    """Communities live on the node that created them (the id begins with its prefix) with all their sessions;
    HAProxy routes /ws/{id} and /communities/{id}/... there, however the id and the path are spelled."""
    found = {}
    for i in range(12):  # round robin over ready nodes: a community on each node
        c = await Conn.open(cluster.ws())
        ack = await c.request("community.create", name=f"Network {i}")
        await c.ws.close()
        assert ack["type"] == "ack", ack
        found.setdefault(node_of(ack["community"]), {"community": ack["community"], "facilitatorKey": ack["facilitatorKey"]})
        if len(found) == 3:
            break
    check("communities created through HAProxy land on all three nodes, ids beginning with the node's prefix",
          set(found) == set(PREFIXES), str(found))
    for node, cred in sorted(found.items()):
        cid = cred["community"]
        # Only the node named by the prefix holds it (asked directly, without HAProxy).
        held = []
        for other in PREFIXES:
            c = await Conn.open(f"ws://127.0.0.1:{cluster.ports[other]}/ws")
            held.append((other, (await c.request("community.export", **cred))["type"] == "ack"))
            await c.ws.close()
        check(f"community {cid} is held by node {node} only", held == [(n, n == node) for n in PREFIXES], str(held))
        # Community requests and session creation on /ws/{id}, every spelling, reach that node.
        for j, spelled in enumerate([cid] + spellings(cid)):
            ok = 0
            for k in range(3):  # a wrong route would hit the right node by chance one time in three
                c = await Conn.open(cluster.ws(spelled))
                imp = await c.request("community.import", members=[{"name": f"Member {j}.{k}"}], **cred)
                ok += imp["type"] == "ack"
                await c.ws.close()
            check(f"community.import on /ws/{spelled} reaches node {node}", ok == 3, f"{ok}/3 acknowledged")
        placed = []
        for _ in range(3):
            c = await Conn.open(cluster.ws(cid.lower()))
            ack = await c.request("room.create", title="Session", name="Fay", **cred)
            placed.append(node_of(ack["room"]) if ack["type"] == "ack" else ack.get("code"))
            await c.ws.close()
        check(f"room.create with community {cid} on /ws/{{id}} opens its sessions on node {node}",
              placed == [node] * 3, str(placed))
        cred["members"] = 3 * (1 + len(spellings(cid)))
        # Reports: the community's node knows it (401 for a wrong key, 200 with the right one); any other says 404.
        enc = "".join(f"%{ord(ch):02X}" for ch in cid[:2]) + cid[2:]
        served = [f"/communities/{x}/report.json" for x in [cid] + spellings(cid) + [enc]] + [
            f"/communities%2F{cid}/report.json", f"/communities/{cid}%2Freport.json"]
        for target in served:
            codes = [status_of(raw_http(cluster.front, target, headers="Authorization: Bearer wrong\r\n")[0])
                     for _ in range(3)]
            check(f"{target} reaches node {node}", codes == [401] * 3, str(codes))
        good = [status_of(raw_http(cluster.front, f"/communities/{cid.lower()}/report.{fmt}",
                                   headers=f"Authorization: Bearer {cred['facilitatorKey']}\r\n")[0])
                for fmt in ("json", "csv", "md")]
        check(f"the community report of {cid} is served through HAProxy in every format", good == [200] * 3, str(good))
        # Spellings the server does not serve are refused the same way every time, never by a node chosen at random.
        refused = [f"/communities/{cid}/report.json/", f"/communities//{cid}/report.json", f"/x/../communities/{cid}/report.json",
                   f"/communities/./{cid}/report.json", f"/communities/{cid}/../{cid}/report.json", f"/COMMUNITIES/{cid}/report.json"]
        for target in refused:
            codes = [status_of(raw_http(cluster.front, target, headers="Authorization: Bearer wrong\r\n")[0])
                     for _ in range(3)]
            check(f"{target} is refused (404) every time", codes == [404] * 3, str(codes))
    st, _, body = raw_http(cluster.front, "/communities/ZC12345678/report.json", headers="Authorization: Bearer x\r\n")
    check("/communities/ with an unknown prefix answers 404 community_not_found",
          status_of(st) == 404 and b"community_not_found" in body, f"{st} {body[:120]!r}")
    return found


async def scenario(cluster, rooms_per_node, voters):
    checks = []

    def check(name, ok, detail=""):
        checks.append((name, bool(ok)))
        print(("PASS " if ok else "FAIL ") + name + (f": {detail}" if detail and not ok else ""), flush=True)

    # 1. Rooms created through HAProxy land on every node (round robin over ready nodes).
    rooms = []
    for _ in range(rooms_per_node * 3):
        fac = await Conn.open(cluster.ws())
        ack = await fac.request("room.create", title="Launch", name="Fay")
        await fac.state()
        poll = await fac.request("poll.create", question="Priorities?", kind="ranking", options=["a", "b", "c"],
                                 anonymous=False, open=True)
        rooms.append({"code": ack["room"], "fac": fac, "poll": poll["poll"], "members": []})
    prefixes = {node_of(r["code"]) for r in rooms}
    check("rooms created through HAProxy land on all three nodes", prefixes == set(PREFIXES), str(prefixes))

    # 1b. Routing follows the server's code normalisation: every spelling of a code reaches its node.
    for r in rooms[:3]:
        for spelled in spellings(r["code"]):
            ok = 0
            for _ in range(3):  # a wrong route would hit the right node by chance one time in three
                c = await Conn.open(cluster.ws(spelled))
                ack = await c.request("room.join", room=spelled, name="speller")
                ok += ack["type"] == "ack" and ack["room"] == r["code"]
                await c.ws.close()
            check(f"/ws/{spelled} reaches the node of {r['code']}", ok == 3, f"{ok}/3 joins acknowledged")
            # Reports too: the room's node knows the room (401 for a wrong key), any other would say 404.
            codes = [status_of(raw_http(cluster.front, f"/rooms/{spelled}/report.json",
                                        headers="Authorization: Bearer wrong\r\n")[0]) for _ in range(3)]
            check(f"/rooms/{spelled}/report.json reaches the node of {r['code']}", codes == [401] * 3, str(codes))
        st, _, _ = raw_http(cluster.front, f"/r/{spellings(r['code'])[0]}")
        check(f"the page /r/{spellings(r['code'])[0]} is served", status_of(st) == 200, st)

    # 1c. A code whose prefix maps to no node gets a clear 404, over HTTP and as a failed WebSocket handshake.
    st, hdr, body = raw_http(cluster.front, "/r/ZZZZZZZZ")
    check("/r/ with an unknown prefix answers 404 room_not_found", status_of(st) == 404 and b"room_not_found" in body,
          f"{st} {body[:120]!r}")
    try:
        await (await Conn.open(cluster.ws("ZZZZZZZZ"))).ws.close()
        check("/ws/ with an unknown prefix fails its handshake with 404", False, "handshake accepted")
    except websockets.exceptions.InvalidStatus as e:
        check("/ws/ with an unknown prefix fails its handshake with 404", e.response.status_code == 404,
              str(e.response.status_code))

    # 1c'. Communities and their sessions.
    comms = await communities(cluster, check)

    # 1d. /metrics stays internal whatever the spelling; the nodes themselves still serve it (for scrapers).
    st, _, body = raw_http(cluster.ports["A"], "/metrics")
    check("a node serves /metrics directly", status_of(st) == 200 and b"roundtable_" in body, st)
    for target in METRICS_SPELLINGS:
        st, _, body = raw_http(cluster.front, target)
        check(f"HAProxy refuses {target}", status_of(st) in (400, 403, 404) and b"roundtable_" not in body,
              f"{st} {body[:80]!r}")
    for target in ("/", "/client.js", "/healthz"):
        st, _, _ = raw_http(cluster.front, target)
        check(f"HAProxy still serves {target}", status_of(st) == 200, st)

    # 2. Members reach their room through HAProxy and vote; remember every acknowledged ballot.
    rnd = random.Random(7)
    for r in rooms:
        for i in range(voters):
            c = await Conn.open(cluster.ws(r["code"]))
            ack = await c.request("room.join", room=r["code"], name=f"m{i}")
            assert ack["type"] == "ack", ack
            await c.state()
            ballot = rnd.sample([1, 2, 3], 3)
            v = await c.request("vote.cast", poll=r["poll"], ranking=ballot)
            r["members"].append({"conn": c, "token": ack["token"], "ballot": ballot if v["type"] == "ack" else None})
    acked = sum(1 for r in rooms for m in r["members"] if m["ballot"])
    check("members reach their rooms through HAProxy and every vote is acknowledged", acked == len(rooms) * voters,
          f"{acked} acked")

    # 3. Kill node B: its rooms answer a clear error; rooms on A and C keep working.
    cluster.kill("B")
    # Room creation right after the crash (before health checks notice) goes to a live node at once.
    for i in range(3):  # round robin: one of three lands on B first
        t0 = time.time()
        try:
            fac = await Conn.open(cluster.ws())
            ack = await fac.request("room.create", title="After the crash", name="Fay")
            await fac.ws.close()
            took = time.time() - t0
            check(f"creation {i + 1} right after a node died goes to a live node quickly",
                  ack["type"] == "ack" and node_of(ack["room"]) != "B" and took < 1.5, f"{took:.2f}s {ack}")
        except Exception as e:
            check(f"creation {i + 1} right after a node died goes to a live node quickly", False,
                  f"{time.time() - t0:.2f}s {e!r}")
    await asyncio.sleep(1.5)  # HAProxy notices through its health checks
    b_room = next(r for r in rooms if node_of(r["code"]) == "B")
    st, hdr, body = raw_http(cluster.front, f"/rooms/{b_room['code']}/report.json")
    check("the dead node's 503 is a proper HTTP/1.1 answer",
          st.startswith("HTTP/1.1 503") and hdr.get("content-length") == str(len(body))
          and hdr.get("connection", "").lower() == "close" and b"node_unavailable" in body, f"{st} {hdr} {body!r}")
    try:
        await (await Conn.open(cluster.ws(b_room["code"]))).ws.close()
        check("a WebSocket client reads 503 for a room on the dead node", False, "handshake accepted")
    except websockets.exceptions.InvalidStatus as e:
        check("a WebSocket client reads 503 for a room on the dead node", e.response.status_code == 503,
              str(e.response.status_code))
    except Exception as e:
        check("a WebSocket client reads 503 for a room on the dead node", False, repr(e))
    if "B" in comms:
        st, _, body = raw_http(cluster.front, f"/communities/{comms['B']['community']}/report.json",
                               headers="Authorization: Bearer wrong\r\n")
        check("a community on the dead node answers 503 node_unavailable", status_of(st) == 503 and b"node_unavailable" in body,
              f"{st} {body[:120]!r}")
    st, _, _ = raw_http(cluster.front, f"/r/{b_room['code']}")
    check("the page of a room on the dead node still loads (from a live node)", status_of(st) == 200, st)
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{cluster.front}/rooms/{b_room['code']}/report.json", timeout=3)
        check("a room on the dead node answers node_unavailable", False, "got 200")
    except urllib.error.HTTPError as e:
        body = e.read().decode()
        check("a room on the dead node answers node_unavailable", e.code == 503 and "node_unavailable" in body, body)
    for r in rooms:
        if node_of(r["code"]) == "B":
            continue
        m = r["members"][0]
        ballot = [3, 2, 1]
        v = await m["conn"].request("vote.cast", poll=r["poll"], ranking=ballot)
        if v["type"] == "ack":
            m["ballot"] = ballot
        check(f"room {r['code']} on a live node keeps serving while B is down", v["type"] == "ack", str(v))

    # 4. Restart B on its data folder; its members reconnect through HAProxy and resume; nothing acked is lost.
    cluster.start_node("B")
    await asyncio.sleep(1.5)
    lost = 0
    for r in rooms:
        for m in r["members"]:
            if node_of(r["code"]) == "B":
                c = await Conn.open(cluster.ws(r["code"]))
                ack = await c.request("room.join", room=r["code"], token=m["token"])
                if ack["type"] != "ack":
                    lost += 1
                    continue
                st = await c.state()
                poll = next(p for p in st["polls"] if p["id"] == r["poll"])
                if poll.get("yourBallot", {}).get("ranking") != m["ballot"]:
                    lost += 1
                await c.ws.close()
    check("node B restarted: members resume through HAProxy, no acknowledged vote lost", lost == 0, f"{lost} lost")
    if "B" in comms:
        c = await Conn.open(cluster.ws(comms["B"]["community"]))
        cred = {k: comms["B"][k] for k in ("community", "facilitatorKey")}
        e = await c.request("community.export", **cred)
        await c.ws.close()
        got = len(e.get("members", [])), len(e.get("sessions", []))
        check("node B restarted: its community keeps every acknowledged member and session",
              got == (comms["B"]["members"], 3), f"{got} vs {(comms['B']['members'], 3)}: {e.get('code')}")

    # 5. The other nodes never noticed: their rooms' members still hold their connections and ballots.
    untouched = True
    for r in rooms:
        if node_of(r["code"]) == "B":
            continue
        st_ok = (await r["members"][-1]["conn"].request("member.update", bio="still here"))["type"] == "ack"
        untouched = untouched and st_ok
    check("rooms on A and C kept their connections through B's crash", untouched)

    for r in rooms:
        for m in r["members"]:
            if node_of(r["code"]) != "B":
                await m["conn"].ws.close()
        await r["fac"].ws.close() if node_of(r["code"]) != "B" else None
    return checks


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--short", action="store_true", help="small sizes for the test command")
    args = ap.parse_args()
    cluster = Cluster()
    try:
        cluster.start()
        checks = asyncio.run(asyncio.wait_for(
            scenario(cluster, rooms_per_node=2 if args.short else 5, voters=3 if args.short else 20), 120))
    except Exception as e:
        print(f"FAIL cluster scenario: {e!r}")
        for name in sorted(os.listdir(cluster.dir)) if os.path.isdir(cluster.dir) else []:
            if name.endswith(".log"):
                print(f"--- {name} ---\n" + open(os.path.join(cluster.dir, name), errors="replace").read()[-2000:])
        checks = [("cluster scenario ran", False)]
    finally:
        cluster.stop()
    passed = sum(1 for _, ok in checks if ok)
    print(f"cluster test: {passed} passed, {len(checks) - passed} failed")
    sys.exit(0 if passed == len(checks) else 1)


if __name__ == "__main__":
    main()
