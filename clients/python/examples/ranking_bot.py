#!/usr/bin/env python3
"""Ranking bot: watches a room as an observer and, each time a poll over needs closes, posts the ranked
needs: printed, appended to a file as one JSON line, and/or POSTed as JSON to a webhook.

    python3 clients/python/examples/ranking_bot.py --url ws://127.0.0.1:8080/ws --room E7Z98H5K \\
        [--output ranked.jsonl] [--webhook https://chat.example.org/hook] [--polls N]

What it posts: {"room", "poll", "question", "needs": [{"rank", "need", "text", "score", "support", "tied"}]},
the room's needs ranking as an observer sees it right after the close (the `needs.ranking` notice that
follows `poll.closed`; the list covers the polls whose results observers may see, docs/PROTOCOL.md#needsranking).
Only the standard library; reconnects with its token when the connection drops.
"""
import argparse
import json
import pathlib
import sys
import time
import urllib.request

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from roundtable_client import ConnectionClosed, RoundtableClient  # noqa: E402

SETTLE = 2.0  # seconds to wait for the needs.ranking that follows a close (coalesced every resultsIntervalMs)


def post(report, args):
    line = json.dumps(report, ensure_ascii=False)
    print(f"Poll {report['poll']} closed: {report['question']}")
    for n in report["needs"]:
        print(f"  {n['rank']:>2}. {n['text']}  (score {n['score']:.2f}, {n['support']} ballots{', tied' if n['tied'] else ''})")
    sys.stdout.flush()
    if args.output:
        with open(args.output, "a", encoding="utf-8") as f:
            f.write(line + "\n")
    if args.webhook:
        req = urllib.request.Request(args.webhook, data=line.encode(), headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(req, timeout=10) as r:
            r.read()


def watch(rt, args, seen_polls, done):
    polls = {}  # id -> poll as last seen (question, overNeeds)
    ranking = None
    pending = []  # closed polls over needs waiting for the ranking that follows: (poll, deadline)
    while len(done) < (args.polls or float("inf")):
        msg = rt.next(timeout=0.2)
        now = time.monotonic()
        if msg is not None:
            t = msg["type"]
            if t == "room.state":
                polls = {p["id"]: p for p in msg["polls"]}
                ranking = msg["ranking"]
            elif t in ("poll.opened", "poll.closed"):
                polls[msg["poll"]["id"]] = msg["poll"]
                if t == "poll.closed" and msg["poll"]["overNeeds"] and msg["poll"]["id"] not in seen_polls:
                    seen_polls.add(msg["poll"]["id"])
                    pending.append((msg["poll"], now + SETTLE))
                    ranking = None  # wait for the ranking computed after the close
            elif t == "needs.ranking":
                ranking = msg
        for poll, deadline in list(pending):
            if ranking is not None or now >= deadline:
                pending.remove((poll, deadline))
                needs = (ranking or {"needs": []})["needs"]
                post({"room": rt.room, "poll": poll["id"], "question": poll["question"],
                      "needs": [{k: n[k] for k in ("rank", "need", "text", "score", "support", "tied")} for n in needs]}, args)
                done.append(poll["id"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", default="ws://127.0.0.1:8080/ws")
    ap.add_argument("--room", required=True)
    ap.add_argument("--name", default="Ranking bot")
    ap.add_argument("--output", help="append each ranking as a JSON line to this file")
    ap.add_argument("--webhook", help="POST each ranking as JSON to this URL")
    ap.add_argument("--polls", type=int, default=0, help="exit after this many closed polls (0: run until stopped)")
    ap.add_argument("--insecure", action="store_true", help="accept a self-signed wss:// certificate")
    args = ap.parse_args()

    seen, done, token = set(), [], None
    while True:
        try:
            url = args.url.rstrip("/")
            if url.endswith("/ws"):  # /ws/{code}: a cluster proxy routes it to the room's home node
                url += "/" + args.room
            rt = RoundtableClient(url, insecure=args.insecure)
            if token:  # a resume by state: the bot needs the current polls, not the missed events
                rt.join(args.room, token=token)
            else:
                ack = rt.join(args.room, name=args.name, role="observer")
                token = ack["token"]
                print(f"Watching room {ack['room']} as observer {ack['member']}", flush=True)
            watch(rt, args, seen, done)
            rt.close()
            return 0
        except (ConnectionClosed, ConnectionError, OSError) as e:
            print(f"connection lost ({e}); reconnecting in 2 s", file=sys.stderr, flush=True)
            time.sleep(2)


if __name__ == "__main__":
    sys.exit(main())
