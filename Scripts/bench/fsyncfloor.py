#!/usr/bin/env python3
"""fsyncfloor — the storage device's own floor for group commit, beside the fsync-always runs.

Appends SIZE bytes and calls fdatasync, COUNT times back to back, in a file on the same filesystem as the
server's data folder: what one journal group commit costs at least. A vote acknowledged under
`storage.fsync: always` waits for at least one such commit (on average about one and a half), so an ack p99
below this floor's p99 is not reachable on the machine.

Usage: fsyncfloor.py PATH [COUNT=2000] [SIZE=4096]   (prints one JSON line; PATH is created and removed)
"""
import json
import os
import sys
import time

path = sys.argv[1]
count = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
size = int(sys.argv[3]) if len(sys.argv) > 3 else 4096
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
buf = b"x" * size
lat = []
try:
    for _ in range(count):
        t = time.perf_counter()
        os.write(fd, buf)
        os.fdatasync(fd)
        lat.append((time.perf_counter() - t) * 1000)
finally:
    os.close(fd)
    os.unlink(path)
lat.sort()


def q(p):
    return round(lat[min(len(lat) - 1, int(p / 100 * len(lat)))], 3)


print(json.dumps({"scenario": "fsyncfloor", "commits": count, "bytes_per_commit": size, "commit_ms_p50": q(50), "commit_ms_p90": q(90),
                  "commit_ms_p99": q(99), "commit_ms_max": round(lat[-1], 3), "commits_per_s": round(count / (sum(lat) / 1000))}))
