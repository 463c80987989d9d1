#!/usr/bin/env python3
"""Server cost of partner-call setup: N members in N/2 pairs each run a browser-sized setup (offer and
answer of SDP_BYTES, CANDIDATES trickled candidates each way) through `call.signal`, for ROUNDS rounds
(`interviews.next` between them). Reports the server's CPU seconds (/proc/PID/stat) and its TCP bytes
(`ss -ti`) per call setup. Usage: python3 Scripts/bench/calls_bench.py [members] [rounds]
"""
import asyncio
import os
import pathlib
import re
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
from rt import create_room, join  # noqa: E402
from run_python_tests import Server  # noqa: E402

SDP_BYTES, CANDIDATES = 5200, 8  # about what Chromium sends for audio+video (browser test: 4.8-6 KB per description)


def cpu(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def tcp(port):
    out = subprocess.run(["ss", "-tinH", "state", "established", f"( sport = :{port} )"], capture_output=True, text=True).stdout
    return sum(int(x) for x in re.findall(r"bytes_sent:(\d+)", out)), sum(int(x) for x in re.findall(r"bytes_received:(\d+)", out))


async def setup(a, b, ca, cb):
    sdp = "v=0\r\n" + "a=x\r\n" * ((SDP_BYTES - 5) // 5)
    assert (await ca.request("call.signal", to=b, signal={"kind": "offer", "sdp": sdp}))["type"] == "ack"
    await cb.expect("call.signal")
    assert (await cb.request("call.signal", to=a, signal={"kind": "answer", "sdp": sdp}))["type"] == "ack"
    await ca.expect("call.signal")
    for i in range(CANDIDATES):
        cand = {"kind": "candidate", "candidate": {"candidate": f"candidate:{i} 1 udp 2122260223 192.0.2.{i} 5{i:04d} typ host generation 0 ufrag abcd network-id 1", "sdpMid": "0", "sdpMLineIndex": 0}}
        assert (await ca.request("call.signal", to=b, signal=cand))["type"] == "ack"
        assert (await cb.request("call.signal", to=a, signal=cand))["type"] == "ack"
    for _ in range(CANDIDATES):
        await ca.expect("call.signal")
        await cb.expect("call.signal")


async def main(server, n, rounds):
    fac, created, _ = await create_room(server)
    code = created["room"]
    joined = await asyncio.gather(*[join(server, code, f"M{i}", f"Org {i}") for i in range(n)])
    clients = {ack["member"]: c for c, ack, _ in joined}
    assert (await fac.request("interviews.start", turnSeconds=600))["type"] == "ack"
    pid = server.proc.pid
    total_cpu, total_calls = 0.0, 0
    s0, r0 = tcp(server.port)
    for rnd in range(1, rounds + 1):
        if rnd > 1:
            assert (await fac.request("interviews.next"))["type"] == "ack"
        pairs = {}
        for mid, c in clients.items():
            a = await c.expect("interview.assigned", round=rnd)
            pairs[a["pair"]] = sorted([mid] + [p["id"] for p in a["partners"]])
        for c in clients.values():
            c.inbox = [m for m in c.inbox if m["type"] != "call.ended"]
        c0, t0 = cpu(pid), time.time()
        await asyncio.gather(*[setup(p[0], p[1], clients[p[0]], clients[p[1]]) for p in pairs.values() if len(p) == 2])
        total_cpu += cpu(pid) - c0
        total_calls += sum(1 for p in pairs.values() if len(p) == 2)
        print(f"round {rnd}: {sum(1 for p in pairs.values() if len(p) == 2)} call setups in {time.time() - t0:.2f} s wall", flush=True)
    s1, r1 = tcp(server.port)
    print(f"{total_calls} call setups ({2 + 2 * CANDIDATES} signals each, SDP {SDP_BYTES} B): server CPU {total_cpu:.2f} s "
          f"= {1000 * total_cpu / total_calls:.2f} ms per setup; server TCP {(s1 - s0) / total_calls / 1024:.1f} KiB sent and "
          f"{(r1 - r0) / total_calls / 1024:.1f} KiB received per setup (includes rounds' events and acks)")


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    srv = Server(extra_env={"ROUNDTABLE_STORAGE_FSYNC": "none", "ROUNDTABLE_CALLS_SIGNALBURST": "100",
                            "ROUNDTABLE_TRANSPORT_MESSAGEBURST": "200"}).start()
    try:
        asyncio.run(main(srv, n, rounds))
    finally:
        srv.cleanup()
