#!/usr/bin/env python3
"""Idle memory per connection from evlib_abab.sh idle runs with AB_JEMSTATS=1.

idle_mem_summary.py DIR A_NAME B_NAME [--bins]
Per cycle: server RSS per connection (rtbench) and jemalloc's allocated / active / resident growth per
connection, 1 s before the generator finished (inside the 3 s hold), over the server's first sample.
allocated = live heap; resident - active = pages freed but kept by jemalloc (dirty, decays after 10 s).
--bins: per size class, live bytes per connection B - A in each cycle (the classes that moved most).
"""
import glob, json, os, re, statistics, sys

d, a, b = sys.argv[1:4]


def load(name, i):
    f = os.path.join(d, f"idle-5000-{name}-{i}.json")
    j = json.load(open(f))
    n = j["connections_open"]
    r = {"rss": j["server_rss_per_connection_kib"]}
    jem = f[:-5] + ".jem"
    if os.path.exists(jem):
        end = int(open(f[:-5] + ".end").read())
        rows = [list(map(int, l.split())) for l in open(jem) if l.strip()]
        base, pick = rows[0], [x for x in rows if x[0] <= end - 1000][-1]
        r.update(alloc=(pick[1] - base[1]) / n / 1024, active=(pick[2] - base[2]) / n / 1024, resident=(pick[3] - base[3]) / n / 1024)
        bins = [l.split() for l in open(jem + ".bins") if l.strip()]
        bb, bp = bins[0], [x for x in bins if int(x[0]) <= end - 1000][-1]
        cls = lambda row: {int(k): int(v) for k, v in (x.split(":") for x in row[1:])}
        cb, cp = cls(bb), cls(bp)
        r["bins"] = {k: (cp.get(k, 0) - cb.get(k, 0)) * k / n for k in set(cb) | set(cp)}
    return r


cycles = sorted({int(m.group(1)) for f in glob.glob(os.path.join(d, f"idle-5000-{a}-*.json")) if (m := re.search(r"-(\d+)\.json$", f))})
cycles = [i for i in cycles if os.path.exists(os.path.join(d, f"idle-5000-{b}-{i}.json"))]
keys = [("rss", "RSS KiB/conn"), ("alloc", "allocated KiB/conn"), ("active", "active KiB/conn"), ("resident", "resident KiB/conn")]
rows = {i: (load(a, i), load(b, i)) for i in cycles}
print(f"| cycle | " + " | ".join(f"{t} {a} / {b} (ratio)" for _, t in keys) + " |")
print("|---" * (len(keys) + 1) + "|")
for i, (x, y) in rows.items():
    cells = [f"{x[k]:.2f} / {y[k]:.2f} ({y[k] / x[k]:.3f}×)" if k in x and k in y else "–" for k, _ in keys]
    print(f"| {i} | " + " | ".join(cells) + " |")
print()
for k, t in keys:
    xs = [r[0][k] for r in rows.values() if k in r[0]]
    ys = [r[1][k] for r in rows.values() if k in r[1]]
    if not xs or not ys:
        continue
    ratios = [r[1][k] / r[0][k] for r in rows.values() if k in r[0] and k in r[1]]
    higher = sum(1 for q in ratios if q > 1)
    print(f"{t}: median {a} {statistics.median(xs):.2f}, {b} {statistics.median(ys):.2f}, "
          f"ratio of medians {statistics.median(ys) / statistics.median(xs):.3f}×, per-cycle median {statistics.median(ratios):.3f}× "
          f"[{min(ratios):.3f}–{max(ratios):.3f}], {b} higher in {higher} of {len(ratios)}")
if "--bins" in sys.argv:
    for i, (x, y) in rows.items():
        if "bins" not in x:
            continue
        diff = {k: y["bins"].get(k, 0) - x["bins"].get(k, 0) for k in set(x["bins"]) | set(y["bins"])}
        top = sorted(diff.items(), key=lambda kv: -abs(kv[1]))[:4]
        print(f"cycle {i} size classes {b} - {a} (bytes/conn): " + ", ".join(f"{k} B: {v:+.0f}" for k, v in top))
