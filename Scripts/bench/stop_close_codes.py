"""Graceful stop at scale: N plain WebSocket clients (Python websockets, core 1) on a server (core 0) with
server.eventLoop LOOP; SIGTERM; counts the close codes the clients saw (all must be 1001) and the server's CPU
from the signal to its exit. PERF=1 also records the stop with perf into /tmp/close-LOOP.data.

    ulimit -n 20000; python3 Scripts/bench/stop_close_codes.py libev 9000 [path/to/roundtable]
"""
import asyncio, os, subprocess, sys, tempfile, time, collections
import websockets
N = int(sys.argv[2]); loop = sys.argv[1]
BIN = sys.argv[3] if len(sys.argv) > 3 else ".build/release/roundtable"
async def main():
    d = tempfile.mkdtemp(prefix="rt-close-")
    env = dict(os.environ, ROUNDTABLE_SERVER_EVENTLOOP=loop, ROUNDTABLE_STORAGE_FSYNC="none",
               ROUNDTABLE_TRANSPORT_MAXCONNECTIONSPERADDRESS="19900")
    p = subprocess.Popen(["taskset", "-c", "0", BIN, "serve", "--port", "0", "--data-dir", d + "/d", "--port-file", d + "/port"], env=env,
                         stdout=open(d + "/log", "w"), stderr=subprocess.STDOUT)
    for _ in range(100):
        if os.path.exists(d + "/port") and open(d + "/port").read().strip(): break
        await asyncio.sleep(0.1)
    port = int(open(d + "/port").read())
    conns = []
    for i in range(0, N, 200):
        conns += await asyncio.gather(*[websockets.connect(f"ws://127.0.0.1:{port}/ws", open_timeout=30, ping_interval=None) for _ in range(min(200, N - i))])
    def cpu():
        f = open(f"/proc/{p.pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
    c0 = cpu()
    perf = subprocess.Popen(["perf", "record", "-F", "1999", "-p", str(p.pid), "-o", f"/tmp/close-{loop}.data"], stderr=subprocess.DEVNULL) if os.environ.get("PERF") else None
    if perf: await asyncio.sleep(0.5)
    t = time.time(); p.terminate()
    async def code(ws):
        try:
            await asyncio.wait_for(ws.wait_closed(), 20)
        except asyncio.TimeoutError:
            return "timeout"
        return ws.close_code
    codes = collections.Counter(await asyncio.gather(*[code(c) for c in conns]))
    _, status, ru = os.wait4(p.pid, 0)
    print(loop, N, dict(codes), f"{time.time()-t:.2f}s", f"server CPU during stop {ru.ru_utime + ru.ru_stime - c0:.2f}s", "exit", status >> 8)
os.sched_setaffinity(0, {1})
asyncio.run(main())
