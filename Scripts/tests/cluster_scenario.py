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
        env = dict(os.environ, ROUNDTABLE_CLUSTER_NODEPREFIX=prefix,
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
        shutil.copy(os.path.join(ROOT, "Config/cluster/nodes.map"), os.path.join(self.dir, "nodes.map"))
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
    prefixes = {r["code"][0] for r in rooms}
    check("rooms created through HAProxy land on all three nodes", prefixes == set(PREFIXES), str(prefixes))

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
    await asyncio.sleep(1.5)  # HAProxy notices through its health checks
    b_room = next(r for r in rooms if r["code"].startswith("B"))
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{cluster.front}/r/{b_room['code']}", timeout=3)
        check("a room on the dead node answers node_unavailable", False, "got 200")
    except urllib.error.HTTPError as e:
        body = e.read().decode()
        check("a room on the dead node answers node_unavailable", e.code == 503 and "node_unavailable" in body, body)
    for r in rooms:
        if r["code"].startswith("B"):
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
            if r["code"].startswith("B"):
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

    # 5. The other nodes never noticed: their rooms' members still hold their connections and ballots.
    untouched = True
    for r in rooms:
        if r["code"].startswith("B"):
            continue
        st_ok = (await r["members"][-1]["conn"].request("member.update", bio="still here"))["type"] == "ack"
        untouched = untouched and st_ok
    check("rooms on A and C kept their connections through B's crash", untouched)

    for r in rooms:
        for m in r["members"]:
            if r["code"][0] != "B":
                await m["conn"].ws.close()
        await r["fac"].ws.close() if r["code"][0] != "B" else None
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
