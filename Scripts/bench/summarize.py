#!/usr/bin/env python3
"""Collects the generator's JSON results (docs/bench/raw/*.json) into summary.json and summary.md:
medians, per-pair ratios of Roundtable against each peer (median, min-max), and the targets."""
import argparse
import datetime
import glob
import json
import os
import platform
import re
import statistics
import subprocess

ap = argparse.ArgumentParser()
ap.add_argument("raw")
ap.add_argument("out")
ap.add_argument("--commit", default="")
ap.add_argument("--dirty", default="0")
ap.add_argument("--seconds", type=int, default=0)
a = ap.parse_args()

runs = {}
for f in sorted(glob.glob(os.path.join(a.raw, "*.json"))):
    try:
        runs[os.path.basename(f)[:-5]] = json.load(open(f))
    except Exception as e:  # a run that died leaves a partial file
        print(f"skipping {f}: {e}")


def med(xs):
    xs = [x for x in xs if x is not None and x >= 0]
    return statistics.median(xs) if xs else None


def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def loadavg():
    try:
        return open("/proc/loadavg").read().split()[:3]
    except OSError:
        return []


S = {
    "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    "commit": a.commit,
    "uncommitted_source_changes": int(a.dirty),
    "bench_seconds": a.seconds,
    "machine": {"cpu": cpu_model(), "cores": os.cpu_count(), "kernel": platform.release(),
                "loadavg_at_end": loadavg()},
}

# idle
S["idle"] = {k: {x: v.get(x) for x in ("label", "members", "rooms", "connections_open", "server_rss_before_kib",
                                          "server_rss_after_kib", "server_rss_per_connection_kib", "setup_seconds",
                                          "errors", "dropped")}
             for k, v in runs.items() if k.startswith("idle-")}

# votes
S["votes"] = {k: {x: v.get(x) for x in ("label", "members", "offered_rate", "acked_per_s", "ack_ms_p50", "ack_ms_p99",
                                           "ack_ms_p999", "ack_ms_max", "server_cpu_s_per_100k_votes",
                                           "server_cpu_us_per_vote", "server_core_utilisation",
                                           "client_core_utilisation", "client_bound", "vote_errors",
                                           "votes_shed_client_window_full", "votes_unacked_at_end", "first_error")}
              for k, v in runs.items() if k.startswith("votes-")}

# cost: CPU per vote at fixed offered rates (issue 20, part 3) and the idle server's CPU
S["cost"] = {k: {x: v.get(x) for x in ("label", "offered_rate", "acked_per_s", "ack_ms_p50", "ack_ms_p99",
                                          "server_cpu_us_per_vote", "server_core_utilisation", "client_core_utilisation",
                                          "client_bound", "vote_errors", "votes_unacked_at_end", "connections_open",
                                          "server_cpu_s_hold", "server_cores_hold")}
             for k, v in runs.items() if k.startswith("cost-")}

# fan-out: roundtable rounds + broadcast flood per size, peers' flood at the same sizes
fan = {}
for k, v in runs.items():
    m = re.match(r"fanout-(\w+)-(\d+)$", k)
    if not m:
        continue
    who, n = m.group(1), int(m.group(2))
    d = fan.setdefault(n, {})
    keep = ("receivers", "setup_seconds", "vote_to_last_ms_p50", "vote_to_last_ms_p99", "vote_to_last_ms_max",
            "vote_to_first_ms_p50", "vote_ack_ms_p50", "round_delivery_rate_per_s_p50", "rounds_ok",
            "rounds_timed_out", "missing_deliveries", "rounds_server_cpu_ms_per_1k_deliveries",
            "bcast_receivers", "deliveries_per_s", "server_cpu_us_per_delivery", "bcast_last_ms_p50",
            "bcast_last_ms_p99", "bytes_per_delivery", "client_bound", "client_core_utilisation", "errors", "dropped")
    d[who] = {x: v.get(x) for x in keep if x in v}
S["fanout"] = {str(n): fan[n] for n in sorted(fan)}
# the kernel's send floor measured next to each fan-out size (Scripts/bench/sendfloor.c, `send` mode)
S["fanout_floor"] = {}
for k, v in runs.items():
    m = re.match(r"sendfloor-(\d+)$", k)
    if m:
        rt = S["fanout"].get(m.group(1), {}).get("rt", {})
        e = {x: v.get(x) for x in ("n", "wall_ms_p50", "wall_ms_p99", "send_cpu_us_per_send_p50")}
        if rt.get("vote_to_last_ms_p99") and v.get("wall_ms_p99"):
            e["rt_p99_over_floor_p99"] = rt["vote_to_last_ms_p99"] / v["wall_ms_p99"]
            e["rt_p50_over_floor_p50"] = rt["vote_to_last_ms_p50"] / v["wall_ms_p50"]
        S["fanout_floor"][m.group(1)] = e

S["churn"] = {k: v for k, v in runs.items() if k.startswith("churn-")}

# launch: M members join one room, paced or flat out, per event loop (launch-rt-<loop>-<members>-<rate>;
# older runs without the loop in the name were the poll loop)
S["launch"] = {}
for k, v in runs.items():
    m = re.match(r"launch-rt-(?:(poll|libev)-)?(\d+)-(\d+)$", k)
    if m:
        S["launch"][f"{m.group(1) or 'poll'}-{m.group(2)}-{m.group(3)}"] = {
            x: v.get(x) for x in ("members", "offered_joins_per_s", "joined", "joins_per_s", "join_ack_ms_p50", "join_ack_ms_p99",
                                  "server_cores", "server_cpu_ms_per_join", "messages_per_joiner", "errors")}

# broadcast pairs, per window: 16 in flight lets a server coalesce frames per send; 1 is paced (nobody can).
# Files: bcast-w<window>-<who>-vs-<peer>-<pair>.json; older runs without -w<window> used 16.
pairs_by_window = {}
for k, v in runs.items():
    m = re.match(r"bcast(?:-w(\d+))?-(\w+?)-vs-(\w+)-(\d+)$", k)
    if m:
        window = int(m.group(1) or 16)
        side = "rt" if m.group(2) == "rt" else "peer"
        pairs_by_window.setdefault(window, {}).setdefault(m.group(3), {}).setdefault(int(m.group(4)), {})[side] = v
metrics = ("server_cpu_us_per_delivery", "deliveries_per_s", "bcast_last_ms_p50", "bcast_last_ms_p99",
           "bytes_per_delivery", "server_core_utilisation", "client_core_utilisation")


def broadcast_summary(pairs):
    out = {}
    for peer, byi in sorted(pairs.items()):
        full = [(i, p) for i, p in sorted(byi.items()) if "rt" in p and "peer" in p]
        e = {"pairs": len(full), "client_bound_runs": sum(int(bool(p[w].get("client_bound"))) for _, p in full for w in p)}
        for side in ("rt", "peer"):
            e[side] = {mname: med([p[side].get(mname) for _, p in full]) for mname in metrics}
            e[side]["runs"] = [{mname: p[side].get(mname) for mname in metrics} for _, p in full]
        ratios = [p["rt"]["server_cpu_us_per_delivery"] / p["peer"]["server_cpu_us_per_delivery"] for _, p in full
                  if (p["peer"].get("server_cpu_us_per_delivery") or 0) > 0 and (p["rt"].get("server_cpu_us_per_delivery") or 0) > 0]
        if ratios:
            e["cpu_per_delivery_ratio_rt_over_peer"] = {"median": statistics.median(ratios), "min": min(ratios),
                                                        "max": max(ratios), "all": ratios}
        out[peer] = e
    return out


S["broadcast"] = broadcast_summary(pairs_by_window.get(16, {}))
S["broadcast_paced"] = broadcast_summary(pairs_by_window.get(1, {}))

# targets
T = []
idle = [v for k, v in S["idle"].items() if k.startswith("idle-rt-")]
big = max(idle, key=lambda v: v.get("connections_open") or 0) if idle else None
if big:
    T.append({"target": "~19,000 idle members at <= 8 KiB server memory each",
              "measured": f"{big['connections_open']} connected, {big['server_rss_per_connection_kib']:.2f} KiB each",
              "met": (big["connections_open"] or 0) >= 18900 and (big["server_rss_per_connection_kib"] or 99) <= 8})
vn = S["votes"].get("votes-none-50000")
if vn:
    T.append({"target": "50,000 acked votes/s, fsync none, p99 ack < 50 ms",
              "measured": f"{vn['acked_per_s']:.0f}/s, p99 {vn['ack_ms_p99']:.1f} ms",
              "met": vn["acked_per_s"] >= 49000 and 0 <= vn["ack_ms_p99"] < 50})
va = S["votes"].get("votes-always-20000")
if va:
    T.append({"target": ">= 20,000 acked votes/s, fsync always (group commit)",
              "measured": f"{va['acked_per_s']:.0f}/s, p99 {va['ack_ms_p99']:.1f} ms",
              "met": va["acked_per_s"] >= 19600})
ca = S["cost"].get("cost-always-50000")
if ca:
    ff = runs.get("fsyncfloor") or {}
    floor = f"; device fdatasync p50 {ff['commit_ms_p50']:.1f} / p99 {ff['commit_ms_p99']:.1f} ms" if ff else ""
    T.append({"target": ">= 50,000 acked votes/s, fsync always, p99 ack < 10 ms",
              "measured": f"{ca['acked_per_s']:.0f}/s, p99 {ca['ack_ms_p99']:.1f} ms{floor}",
              "met": ca["acked_per_s"] >= 49000 and 0 <= ca["ack_ms_p99"] < 10})
f5 = S["fanout"].get("5000", {}).get("rt")
if f5:
    p99 = f5.get("vote_to_last_ms_p99")
    T.append({"target": "fan-out to 5,000: p99 vote -> last delivery < 100 ms",
              "measured": f"p99 {p99:.1f} ms (p50 {f5.get('vote_to_last_ms_p50'):.1f})" if p99 is not None else "no rounds",
              "met": p99 is not None and 0 <= p99 < 100 and not f5.get("rounds_timed_out")})
for loop in ("poll", "libev"):
    paced = S["launch"].get(f"{loop}-5000-250")
    if paced:
        T.append({"target": f"launch of 5,000 at 250 joins/s ({loop} loop): <= 0.3 core, <= 10 messages per joiner, ack p99 < 100 ms",
                  "measured": f"{paced['server_cores']:.2f} core, {paced['messages_per_joiner']:.1f} messages/joiner, p99 {paced['join_ack_ms_p99']:.1f} ms",
                  "met": paced["server_cores"] <= 0.3 and paced["messages_per_joiner"] <= 10 and paced["join_ack_ms_p99"] < 100})
    for n, floor in (("5000", 3000), ("10000", 2000)):
        fill = S["launch"].get(f"{loop}-{n}-0")
        if fill:
            T.append({"target": f"fill one room to {int(n):,} at >= {floor:,} joins/s ({loop} loop), ack p99 < 100 ms",
                      "measured": f"{fill['joins_per_s']:.0f} joins/s, p99 {fill['join_ack_ms_p99']:.1f} ms",
                      "met": fill["joins_per_s"] >= floor and fill["join_ack_ms_p99"] < 100})
for n in ("5000", "10000"):
    e = S["fanout_floor"].get(n, {})
    if "rt_p99_over_floor_p99" in e:
        T.append({"target": f"fan-out to {int(n):,}: p99 vote -> last delivery within 1.15x of the kernel send floor (sendfloor, {e['n']:,} sends, same run)",
                  "measured": f"{e['rt_p99_over_floor_p99']:.2f}x (p99 {S['fanout'][n]['rt']['vote_to_last_ms_p99']:.1f} ms vs floor {e['wall_ms_p99']:.1f} ms)",
                  "met": e["rt_p99_over_floor_p99"] <= 1.15})
b = S["broadcast"]
for label, table in (("16 in flight", S["broadcast"]), ("paced, 1 in flight", S["broadcast_paced"])):
    f = table.get("floor", {}).get("cpu_per_delivery_ratio_rt_over_peer")
    if f:
        T.append({"target": f"server CPU per delivered broadcast within 1.3x of the lws floor (same write path; {label})",
                  "measured": f"{f['median']:.2f}x (min {f['min']:.2f}, max {f['max']:.2f})", "met": f["median"] <= 1.3})
    fs = table.get("floorsized", {})
    if fs.get("cpu_per_delivery_ratio_rt_over_peer"):
        r = fs["cpu_per_delivery_ratio_rt_over_peer"]
        T.append({"target": f"server CPU per delivered broadcast within 1.3x of the lws floor sending frames of Roundtable's size "
                            f"(same write path, same bytes: {fs['peer']['bytes_per_delivery']:.0f} vs {fs['rt']['bytes_per_delivery']:.0f} B; {label})",
                  "measured": f"{r['median']:.2f}x (min {r['min']:.2f}, max {r['max']:.2f})", "met": r["median"] <= 1.3})
    for peer in ("lws", "gorilla", "node"):
        r = table.get(peer, {}).get("cpu_per_delivery_ratio_rt_over_peer")
        if r:
            T.append({"target": f"server CPU per delivered broadcast below {peer} ({label})",
                      "measured": f"{r['median']:.2f}x (min {r['min']:.2f}, max {r['max']:.2f})", "met": r["median"] < 1.0})
S["targets"] = T

os.makedirs(a.out, exist_ok=True)
json.dump(S, open(os.path.join(a.out, "summary.json"), "w"), indent=1)


def fmt(x, d=1):
    if x is None:
        return "—"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, (int, float)):
        if abs(x) >= 1000:
            return f"{x:,.0f}"
        return f"{x:.{d}f}"
    return str(x)


L = [f"# Benchmark summary {S['date']} (commit {a.commit[:10]}, {a.dirty} uncommitted source changes)", ""]
L += ["## Targets", "", "| target | measured | met |", "|---|---|---|"]
L += [f"| {t['target']} | {t['measured']} | {'yes' if t['met'] else '**no**'} |" for t in T]
L += ["", "## Idle", "", "| run | connections | RSS before → after (KiB) | KiB/conn | setup s |", "|---|---|---|---|---|"]
for k, v in sorted(S["idle"].items()):
    L.append(f"| {k} | {v['connections_open']} | {v['server_rss_before_kib']} → {v['server_rss_after_kib']} | "
             f"{fmt(v['server_rss_per_connection_kib'], 2)} | {fmt(v['setup_seconds'])} |")
L += ["", "## Vote storm", "", "| run | offered/s | acked/s | p50 ms | p99 ms | p99.9 ms | server CPU s /100k | server core | client core |",
      "|---|---|---|---|---|---|---|---|---|"]
for k, v in sorted(S["votes"].items()):
    L.append(f"| {k} | {fmt(v['offered_rate'])} | {fmt(v['acked_per_s'])} | {fmt(v['ack_ms_p50'], 2)} | {fmt(v['ack_ms_p99'], 2)} | "
             f"{fmt(v['ack_ms_p999'], 2)} | {fmt(v['server_cpu_s_per_100k_votes'], 2)} | {fmt(v['server_core_utilisation'], 2)} | "
             f"{fmt(v['client_core_utilisation'], 2)}{' (client-bound)' if v['client_bound'] else ''} |")
if S["cost"]:
    L += ["", "## CPU per vote at fixed offered rates (cost, not 1/rate)", "",
          "| run | offered/s | acked/s | p50 ms | p99 ms | µs server CPU per vote | server core | client core |", "|---|---|---|---|---|---|---|---|"]
    ff = runs.get("fsyncfloor")
    if ff:
        L.append(f"- the device's group-commit floor (write {ff['bytes_per_commit']} B + fdatasync, {ff['commits']} back to back): "
                 f"p50 {fmt(ff['commit_ms_p50'], 2)} / p90 {fmt(ff['commit_ms_p90'], 2)} / p99 {fmt(ff['commit_ms_p99'], 2)} ms, "
                 f"{ff['commits_per_s']} commits/s: an fsync-always ack waits for at least one")
    for k, v in sorted(S["cost"].items()):
        if k.startswith("cost-idle"):
            continue
        L.append(f"| {k} | {fmt(v['offered_rate'])} | {fmt(v['acked_per_s'])} | {fmt(v['ack_ms_p50'], 2)} | {fmt(v['ack_ms_p99'], 2)} | "
                 f"{fmt(v['server_cpu_us_per_vote'], 2)} | {fmt(v['server_core_utilisation'], 2)} | "
                 f"{fmt(v['client_core_utilisation'], 2)}{' (client-bound)' if v['client_bound'] else ''} |")
    for k, v in sorted(S["cost"].items()):
        if k.startswith("cost-idle"):
            L.append(f"- {k}: {v['connections_open']} members connected, server CPU over the hold {fmt(v['server_cpu_s_hold'], 3)} s "
                     f"({fmt(v['server_cores_hold'], 4)} cores)")
L += ["", "## Fan-out", "", "| size | server | setup s | vote→last p50 / p99 ms | vote→first p50 | flood deliveries/s | µs CPU/delivery | send→last p50 ms | B/msg |",
      "|---|---|---|---|---|---|---|---|---|"]
for n, d in S["fanout"].items():
    for who, v in sorted(d.items()):
        L.append(f"| {n} | {who} | {fmt(v.get('setup_seconds'))} | {fmt(v.get('vote_to_last_ms_p50'))} / {fmt(v.get('vote_to_last_ms_p99'))} | "
                 f"{fmt(v.get('vote_to_first_ms_p50'))} | {fmt(v.get('deliveries_per_s'))} | {fmt(v.get('server_cpu_us_per_delivery'), 2)} | "
                 f"{fmt(v.get('bcast_last_ms_p50'))} | {fmt(v.get('bytes_per_delivery'), 0)} |")
if S["fanout_floor"]:
    L += ["", "Kernel send floor beside each size (sendfloor `send`: one 200-byte send() per connection, no WebSocket):", "",
          "| size | floor sends | floor p50 / p99 ms | rt vote→last p50 / p99 ms | rt/floor p50 | rt/floor p99 |", "|---|---|---|---|---|---|"]
    for n, e in sorted(S["fanout_floor"].items(), key=lambda kv: int(kv[0])):
        rt = S["fanout"].get(n, {}).get("rt", {})
        L.append(f"| {n} | {e.get('n')} | {fmt(e.get('wall_ms_p50'))} / {fmt(e.get('wall_ms_p99'))} | {fmt(rt.get('vote_to_last_ms_p50'))} / "
                 f"{fmt(rt.get('vote_to_last_ms_p99'))} | {fmt(e.get('rt_p50_over_floor_p50'), 2)} | {fmt(e.get('rt_p99_over_floor_p99'), 2)} |")
if S["launch"]:
    L += ["", "## Launch: one room filled, paced or flat out", "",
          "| loop-members-rate | joins/s | ack p50 / p99 ms | server cores | ms CPU/join | messages/joiner | errors |", "|---|---|---|---|---|---|---|"]
    for k, v in sorted(S["launch"].items()):
        L.append(f"| {k} | {fmt(v['joins_per_s'])} | {fmt(v['join_ack_ms_p50'], 2)} / {fmt(v['join_ack_ms_p99'], 2)} | {fmt(v['server_cores'], 2)} | "
                 f"{fmt(v['server_cpu_ms_per_join'], 3)} | {fmt(v['messages_per_joiner'], 1)} | {v['errors']} |")
L += ["", "## Churn", ""]
for k, v in S["churn"].items():
    L.append(f"- {k}: {fmt(v.get('joins_per_s'))} joins/s (offered {fmt(v.get('offered_ops_per_s'))}), join p50 {fmt(v.get('join_ms_p50'), 2)} ms, "
             f"p99 {fmt(v.get('join_ms_p99'), 2)} ms, errors {v.get('errors')}, dropped {v.get('dropped')}, unfinished {v.get('ops_unfinished')}, "
             f"resumed with events {v.get('resumed_with_events')} / with state {v.get('resumed_with_state')}, server {fmt(v.get('server_cpu_ms_per_join'), 3)} ms CPU per join")
for title, table in (("Broadcast pairs, 16 in flight: servers may coalesce (medians)", S["broadcast"]),
                     ("Broadcast pairs, paced: 1 in flight, nobody coalesces (medians)", S["broadcast_paced"])):
    if not table:
        continue
    L += ["", f"## {title}", "",
          "| peer | pairs | rt µs CPU/delivery | peer µs CPU/delivery | ratio rt/peer median (min–max) | rt deliveries/s | peer deliveries/s | rt B/msg | peer B/msg |",
          "|---|---|---|---|---|---|---|---|---|"]
    for peer, e in table.items():
        r = e.get("cpu_per_delivery_ratio_rt_over_peer", {})
        L.append(f"| {peer} | {e['pairs']} | {fmt(e['rt']['server_cpu_us_per_delivery'], 2)} | {fmt(e['peer']['server_cpu_us_per_delivery'], 2)} | "
                 f"{fmt(r.get('median'), 2)} ({fmt(r.get('min'), 2)}–{fmt(r.get('max'), 2)}) | {fmt(e['rt']['deliveries_per_s'])} | "
                 f"{fmt(e['peer']['deliveries_per_s'])} | {fmt(e['rt']['bytes_per_delivery'], 0)} | {fmt(e['peer']['bytes_per_delivery'], 0)} |")
open(os.path.join(a.out, "summary.md"), "w").write("\n".join(L) + "\n")
print("\n".join(L))
