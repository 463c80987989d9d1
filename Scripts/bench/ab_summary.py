#!/usr/bin/env python3
"""Summarises a folder written by Scripts/bench/evlib_abab.sh: per scenario and metric, the median of each side
with every run in brackets, and the ratio B/A of the medians. Prints Markdown; --json FILE also writes the numbers.

    Scripts/bench/ab_summary.py docs/bench/raw-evlib [--a poll --b libev] [--json out.json]
"""
import argparse
import glob
import json
import os
import re
import statistics

METRICS = {
    "launch-5000-250": [("server_cores", "server cores"), ("server_cpu_ms_per_join", "server CPU ms per join"),
                        ("join_ack_ms_p99", "join ack p99 ms"), ("messages_per_joiner", "messages per joiner")],
    "fanout-1000": [("vote_to_last_ms_p99", "vote → last p99 ms"), ("vote_to_last_ms_p50", "vote → last p50 ms"),
                    ("rounds_server_cpu_ms_per_1k_deliveries", "rounds: server µs per delivery"),
                    ("server_cpu_us_per_delivery", "flood: server µs per delivery"),
                    ("deliveries_per_s", "flood: deliveries/s")],
    "votes-none-50000": [("acked_per_s", "acked votes/s"), ("ack_ms_p50", "ack p50 ms"), ("ack_ms_p99", "ack p99 ms"),
                         ("server_cpu_us_per_vote", "server µs per vote")],
    "idle-5000": [("server_rss_per_connection_kib", "RSS KiB per connection"), ("setup_seconds", "setup s")],
    "floor-send-1000": [("wall_ms_p99", "kernel floor wall p99 ms"), ("wall_ms_p50", "kernel floor wall p50 ms"),
                        ("send_cpu_us_per_send_p50", "kernel floor µs CPU per send")],
}
METRICS["fanout-5000"] = METRICS["fanout-1000"]
METRICS["votes-none-20000"] = METRICS["votes-none-50000"]
METRICS["floor-send-5000"] = METRICS["floor-send-1000"]


def fmt(x):
    if x is None:
        return "—"
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.3g}" if abs(x) < 10 else f"{x:.1f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("folder")
    ap.add_argument("--a", default="poll")
    ap.add_argument("--b", default="libev")
    ap.add_argument("--json")
    args = ap.parse_args()
    runs = {}  # (scenario, side) -> [dict], in cycle order
    for path in sorted(glob.glob(os.path.join(args.folder, "*.json"))):
        name = os.path.basename(path)[:-5]
        m = re.match(r"(.+)-(%s|%s)-(\d+)$" % (re.escape(args.a), re.escape(args.b)), name)
        fm = re.match(r"(floor-send-\d+)-(\d+)$", name)
        try:
            d = json.load(open(path))
        except (OSError, ValueError):
            continue
        if m:
            runs.setdefault((m.group(1), m.group(2)), []).append((int(m.group(3)), d))
        elif fm:
            runs.setdefault((fm.group(1), "floor"), []).append((int(fm.group(2)), d))
    out = {}
    print(f"| scenario | metric | {args.a} median [runs] | {args.b} median [runs] | {args.b}/{args.a} of medians | per-cycle {args.b}/{args.a} |")
    print("|---|---|---|---|---|---|")
    for scen, metrics in METRICS.items():
        for key, label in metrics:
            if scen.startswith("floor"):
                vals = [d.get(key) for _, d in sorted(runs.get((scen, "floor"), []), key=lambda t: t[0])]
                vals = [v for v in vals if isinstance(v, (int, float))]
                if vals:
                    med = statistics.median(vals)
                    out.setdefault(scen, {})[key] = {"median": med, "runs": vals}
                    print(f"| {scen} | {label} | {fmt(med)} [{', '.join(fmt(v) for v in vals)}] | | | |")
                continue
            # Ratios within a cycle (A and B ran back to back), which cancel most of a neighbour's slow minute.
            by_cycle = [{i: d.get(key) for i, d in runs.get((scen, side), [])} for side in (args.a, args.b)]
            pairs = [by_cycle[1][i] / by_cycle[0][i] for i in sorted(by_cycle[0]) if i in by_cycle[1]
                     and isinstance(by_cycle[0][i], (int, float)) and isinstance(by_cycle[1][i], (int, float)) and by_cycle[0][i] > 0]
            sides = []
            for side in (args.a, args.b):
                vals = [d.get(key) for _, d in sorted(runs.get((scen, side), []), key=lambda t: t[0])]
                vals = [v for v in vals if isinstance(v, (int, float)) and v >= 0]
                sides.append(vals)
            if not any(sides):
                continue
            meds = [statistics.median(v) if v else None for v in sides]
            ratio = meds[1] / meds[0] if meds[0] and meds[1] is not None else None
            out.setdefault(scen, {})[key] = {args.a: sides[0], args.b: sides[1], "ratio": ratio, "cycle_ratios": pairs}
            cells = [f"{fmt(m)} [{', '.join(fmt(v) for v in vals)}]" for m, vals in zip(meds, sides)]
            pc = f"{statistics.median(pairs):.2f}× [{', '.join(f'{p:.2f}' for p in pairs)}]" if pairs else "—"
            print(f"| {scen} | {label} | {cells[0]} | {cells[1]} | {fmt(ratio) if ratio else '—'}× | {pc} |")
    if args.json:
        json.dump(out, open(args.json, "w"), indent=1)


if __name__ == "__main__":
    main()
