#!/usr/bin/env python3
"""Latency against room size from docs/bench/summary.json: Roundtable's vote -> last poll.results
delivery (p50, p99), and broadcast send -> last delivery for Roundtable and each peer."""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

summary, out = sys.argv[1], sys.argv[2]
S = json.load(open(summary))
fan = S.get("fanout", {})
sizes = sorted(int(n) for n in fan)
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))


def series(who, key):
    xs, ys = [], []
    for n in sizes:
        v = fan[str(n)].get(who, {}).get(key)
        if v is not None and v >= 0:
            xs.append(n)
            ys.append(v)
    return xs, ys


for key, style, label in (("vote_to_last_ms_p50", "o-", "p50"), ("vote_to_last_ms_p99", "s--", "p99"),
                          ("vote_to_first_ms_p50", "^:", "first member, p50")):
    xs, ys = series("rt", key)
    if xs:
        ax1.plot(xs, ys, style, label=label)
ax1.axhline(100, color="red", lw=0.8, ls="--", label="target p99 100 ms")
ax1.set_title("Roundtable: vote → coalesced poll.results at last member")
ax1.set_xlabel("members in the room")
ax1.set_ylabel("ms")
ax1.grid(alpha=0.3)
ax1.legend(fontsize=8)

names = {"rt": "Roundtable (room.announce)", "lws": "lws test server (mirror)", "gorilla": "Go gorilla", "node": "Node ws"}
for who in ("rt", "lws", "gorilla", "node"):
    xs, ys = series(who, "bcast_last_ms_p50")
    if xs:
        ax2.plot(xs, ys, "o-", label=names[who] + " p50")
ax2.set_title("Broadcast flood (window 4): send → last receiver")
ax2.set_xlabel("connections receiving")
ax2.set_ylabel("ms")
ax2.grid(alpha=0.3)
ax2.legend(fontsize=8)
fig.suptitle(f"{S.get('date', '')}  commit {S.get('commit', '')[:10]}  server on 1 core, generator on the other", fontsize=9)
fig.tight_layout()
fig.savefig(out, dpi=110)
print(f"wrote {out}")
