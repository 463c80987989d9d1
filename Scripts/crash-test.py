#!/usr/bin/env python3
"""Crash test: acknowledged votes survive `kill -9` (storage.fsync: always, or --fsync everysec / none).

Starts `.build/debug/roundtable serve` on a temp data folder, lets K members of one room keep casting and
changing ballots in a named ranking poll as fast as acks come back, `kill -9`s the server at a random
(seeded) moment, restarts it on the same data folder, reconnects every member with its token and checks
from `room.state` that:

  * each member's `yourBallot` is their last acknowledged ballot or the one in flight at the kill (never an
    older one, never one nobody sent);
  * the poll's `ballots` count and per-option Borda scores equal a recomputation from those ballots.

The room, the poll and the members carry over from cycle to cycle, and snapshots are taken every few hundred
events (`ROUNDTABLE_STORAGE_SNAPSHOTEVERYEVENTS`), so later cycles recover from snapshot + journal.

Rooms are archived after 1 s without anyone connected (`rooms.archiveAfterIdleSeconds`), and a second,
"quiet" room is archived and reopened over and over during the load: its facilitator comes back (which
reopens it), submits a need, leaves, waits 1–3 s. After each kill every acknowledged need must be in it
(archive and reopen crash-safety); when the main room was archived during the restart, its facilitator
reopens it first, as a real one would.

A community is under load at the same time (Scripts/tests/durability_community.py): members imported one by
one, backlog needs flipped between open and addressed, new communities created, and whole sessions held
(room.create with the community, needs submitted, room.close hands them to the backlog). After each kill, the
community's export must hold every acknowledged member, status, session, harvested need and community, and
nothing that was neither acknowledged nor in flight.

Under `everysec` and `none` the service thread itself writes the journal and acknowledges once write() has
returned: a kill -9 must lose nothing acknowledged there either, since the page cache outlives the process
(only a power cut may cost everysec its last second).

Usage: python3 Scripts/crash-test.py [--cycles N] [--clients K] [--seconds S] [--seed X] [--short] [--keep]
                                     [--fsync always|everysec|none]
Exit status is non-zero on any lost acknowledged vote or any mismatch. The last line is
`crash test: N passed, M failed` (counting cycles).
"""
import argparse
import asyncio
import itertools
import json
import os
import pathlib
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import websockets

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "Scripts/tests"))
from reference import borda  # noqa: E402  (the shared independent recomputation)
from durability_community import CommunityLoad  # noqa: E402
BINARY = ROOT / ".build/debug/roundtable"
# 9! = 362,880 distinct full rankings: every ballot a member sends must differ from all its earlier ones, and
# a member sends thousands per cycle (7 options ran out after ~8 fast cycles and the generator spun forever).
OPTIONS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india"]
REQUEST_TIMEOUT = 10.0


class ServerProcess:
    """One `roundtable serve` at a time on a fixed data folder; every process started is tracked and killed."""

    def __init__(self, workdir, env):
        self.workdir = workdir
        self.data = os.path.join(workdir, "data")
        self.port_file = os.path.join(workdir, "port")
        self.log_path = os.path.join(workdir, "server.log")
        self.env = dict(os.environ, **env)
        self.proc = None
        self.port = None
        self.starts = 0

    def start(self, timeout=20):
        if os.path.exists(self.port_file):
            os.unlink(self.port_file)
        self.starts += 1
        with open(self.log_path, "ab") as log:
            log.write(f"\n===== start #{self.starts} =====\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                [str(BINARY), "serve", "--port", "0", "--data-dir", self.data, "--port-file", self.port_file,
                 "--web-root", str(ROOT / "web")],
                stdout=log, stderr=log, env=self.env, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if os.path.exists(self.port_file):
                text = open(self.port_file).read().strip()
                if text:
                    self.port = int(text)
                    return
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited early (status {self.proc.returncode}); log tail:\n{self.log_tail()}")
            time.sleep(0.02)
        raise RuntimeError(f"server did not write its port file within {timeout} s")

    def kill9(self):
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def url(self):
        return f"ws://127.0.0.1:{self.port}/ws"

    def log_text(self):
        try:
            return open(self.log_path, errors="replace").read()
        except OSError:
            return ""

    def log_tail(self, n=40):
        return "\n".join(self.log_text().splitlines()[-n:])

    def last_start_log(self):
        text = self.log_text()
        return text[text.rfind("===== start #"):]


class Conn:
    """A bare client: requests by ref; everything else is dropped except `room.state`, which is kept."""

    def __init__(self, ws):
        self.ws = ws
        self.ref = 0
        self.states = []

    @classmethod
    async def open(cls, url):
        ws = await asyncio.wait_for(websockets.connect(url, max_size=None, open_timeout=5, close_timeout=1), 10)
        return cls(ws)

    async def request(self, type_, **fields):
        self.ref += 1
        ref = f"r{self.ref}"
        await asyncio.wait_for(self.ws.send(json.dumps(dict(type=type_, ref=ref, **fields))), REQUEST_TIMEOUT)
        deadline = time.monotonic() + REQUEST_TIMEOUT
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no reply to {type_} within {REQUEST_TIMEOUT} s")
            msg = json.loads(await asyncio.wait_for(self.ws.recv(), left))
            if msg.get("ref") == ref and msg.get("type") in ("ack", "error"):
                return msg
            if msg.get("type") == "room.state":
                self.states.append(msg)

    async def room_state(self, timeout=REQUEST_TIMEOUT):
        if self.states:
            return self.states.pop(0)
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no room.state")
            msg = json.loads(await asyncio.wait_for(self.ws.recv(), left))
            if msg.get("type") == "room.state":
                return msg

    async def close(self):
        try:
            await asyncio.wait_for(self.ws.close(), 2)
        except Exception:
            pass


class Member:
    def __init__(self, index, rng):
        self.index = index
        self.name = f"Voter {index:02d}"
        self.rng = rng
        self.token = None
        self.member_id = None
        self.conn = None
        self.acked = []          # every acknowledged ballot, oldest first (tuples of option ids)
        self.sent = set()        # every ballot ever sent, so a new one is always distinguishable
        self.in_flight = None    # sent, no reply seen (yet)
        self.cycle_acks = 0
        self.errors = {}

    def last_acked(self):
        return self.acked[-1] if self.acked else None

    def new_ballot(self, option_ids):
        for _ in range(10_000):
            b = tuple(self.rng.sample(option_ids, len(option_ids)))
            if b not in self.sent:
                self.sent.add(b)
                return b
        raise RuntimeError(f"{self.name}: no unused ranking left after {len(self.sent)} ballots")


async def join_with_retry(url, room, deadline, reopen_token=None, **fields):
    """room.join, retrying `not_ready` (recovery) and connection refusals until `deadline`; an archived room
    is first reopened by its facilitator (`reopen_token`)."""
    last = None
    while time.monotonic() < deadline:
        conn = None
        try:
            conn = await Conn.open(url)
            ack = await conn.request("room.join", room=room, **fields)
            if ack["type"] == "ack":
                return conn, ack
            last = ack
            await conn.close()
            if ack.get("code") == "room_archived" and reopen_token:
                fac, _ = await join_with_retry(url, room, deadline, token=reopen_token)
                await fac.close()
                continue
            if ack.get("code") not in ("not_ready", "storage_unavailable", "rate_limited"):
                raise AssertionError(f"room.join refused: {ack}")
        except (OSError, websockets.WebSocketException, asyncio.TimeoutError, TimeoutError) as e:
            last = e
            if conn:
                await conn.close()
        await asyncio.sleep(0.1)
    raise AssertionError(f"could not join {room} before the deadline; last: {last!r}")


async def vote_loop(member, poll, option_ids, stop):
    """Casts a new ballot as soon as the previous one is answered, until `stop` or the connection dies."""
    conn = member.conn
    while not stop.is_set():
        ballot = member.new_ballot(option_ids)
        member.in_flight = ballot
        try:
            reply = await conn.request("vote.cast", poll=poll, ranking=list(ballot))
        except (websockets.WebSocketException, OSError, asyncio.TimeoutError, TimeoutError):
            return  # the server is gone (or stuck): `in_flight` may or may not have landed
        member.in_flight = None
        if reply["type"] == "ack":
            member.acked.append(ballot)
            member.cycle_acks += 1
        else:
            code = reply.get("code", "?")
            member.errors[code] = member.errors.get(code, 0) + 1
            if code == "rate_limited":
                await asyncio.sleep(0.05)


class QuietRoom:
    """A room whose facilitator keeps leaving it alone long enough to be archived, then coming back."""

    def __init__(self, rng):
        self.rng = rng
        self.code = None
        self.token = None
        self.acked = []        # need texts acknowledged
        self.in_flight = None  # sent, no reply seen
        self.visits = 0
        self.count = 0

    async def loop(self, url, stop):
        while not stop.is_set():
            conn = None
            try:
                conn, _ = await join_with_retry(url, self.code, time.monotonic() + REQUEST_TIMEOUT, token=self.token)
                self.visits += 1
                self.count += 1
                text = f"quiet need {self.count}"
                self.in_flight = text
                reply = await conn.request("need.submit", text=text)
                self.in_flight = None
                if reply["type"] == "ack":
                    self.acked.append(text)
            except (websockets.WebSocketException, OSError, asyncio.TimeoutError, TimeoutError, AssertionError):
                return  # the server is gone: `in_flight` may or may not have landed
            finally:
                if conn:
                    await conn.close()
            try:
                await asyncio.wait_for(stop.wait(), self.rng.uniform(1.0, 3.0))
            except asyncio.TimeoutError:
                pass

    async def verify(self, url, deadline):
        conn, _ = await join_with_retry(url, self.code, deadline, token=self.token)
        try:
            state = await conn.room_state()
        finally:
            await conn.close()
        texts = {n["text"] for n in state.get("needs", [])}
        problems = [f"quiet room: acknowledged need {t!r} missing after recovery" for t in self.acked if t not in texts]
        extra = texts - set(self.acked) - {self.in_flight}
        problems += [f"quiet room: need {t!r} was never acknowledged nor in flight" for t in sorted(extra)]
        # What the server shows is the truth from here on.
        self.acked = sorted(texts & (set(self.acked) | {self.in_flight}))
        self.in_flight = None
        return problems


async def close_all(members, extra=()):
    await asyncio.gather(*(m.conn.close() for m in members if m.conn), *(c.close() for c in extra),
                         return_exceptions=True)
    for m in members:
        m.conn = None


def sabotage(data):
    """Checks the checker: cuts the newest journal segment short, as a broken fsync would; the run must FAIL."""
    jdir = os.path.join(data, "journal")
    segs = sorted(os.path.join(jdir, n) for n in os.listdir(jdir) if n.endswith(".wal"))
    if segs:
        with open(segs[-1], "rb") as f:
            # Under fsync always the segment is pre-sized with zeros: cut into its records, not its zeros.
            size = len(f.read().rstrip(b"\0"))
        os.truncate(segs[-1], max(size - 4000, size // 2))
        print(f"   sabotage: cut {os.path.basename(segs[-1])} from {size} to {os.path.getsize(segs[-1])} bytes")


async def run(args):
    rng = random.Random(args.seed)
    workdir = tempfile.mkdtemp(prefix="rt-crash-")
    env = {
        "ROUNDTABLE_STORAGE_FSYNC": args.fsync,
        "ROUNDTABLE_STORAGE_SNAPSHOTEVERYEVENTS": str(args.snapshot_every),
        "ROUNDTABLE_TRANSPORT_MESSAGESPERSECOND": "1000",
        "ROUNDTABLE_TRANSPORT_MESSAGEBURST": "1000",
        "ROUNDTABLE_ROOMS_ARCHIVEAFTERIDLESECONDS": "1",
    }
    server = ServerProcess(workdir, env)
    passed = failed = 0
    total_acked = total_lost = 0
    snapshot_recoveries = 0
    problems_all = []
    fac = None
    members = [Member(i + 1, random.Random(rng.random())) for i in range(args.clients)]
    try:
        server.start()
        deadline = time.monotonic() + 20
        fac = await Conn.open(server.url())
        created = None
        while time.monotonic() < deadline:
            created = await fac.request("room.create", title="Crash test", name="Facilitator")
            if created["type"] == "ack" or created.get("code") != "not_ready":
                break
            await asyncio.sleep(0.1)
        assert created and created["type"] == "ack", created
        room = created["room"]
        fac_token = created["token"]
        poll_ack = await fac.request("poll.create", question="Which first?", kind="ranking", options=OPTIONS,
                                     open=True, anonymous=False)
        assert poll_ack["type"] == "ack", poll_ack
        poll = poll_ack["poll"]
        await fac.close()
        fac = None
        quiet = QuietRoom(random.Random(rng.random()))
        qfac = await Conn.open(server.url())
        q = await qfac.request("room.create", title="Quiet room", name="Quiet facilitator")
        await qfac.close()
        assert q["type"] == "ack", q
        quiet.code, quiet.token = q["room"], q["token"]
        archived_before = 0
        community = CommunityLoad(random.Random(rng.random()), lambda: Conn.open(server.url()))
        cconn = await Conn.open(server.url())
        await community.setup(cconn)
        await cconn.close()

        # Members join once; afterwards they always come back with their token.
        async def first_join(m):
            m.conn, ack = await join_with_retry(server.url(), room, time.monotonic() + 20, reopen_token=fac_token, name=m.name)
            m.token, m.member_id = ack["token"], ack["member"]
            state = await m.conn.room_state()
            return state

        states = await asyncio.wait_for(asyncio.gather(*(first_join(m) for m in members)), 60)
        option_ids = [o["id"] for o in states[0]["polls"][0]["options"]]
        assert len(option_ids) == len(OPTIONS), states[0]["polls"][0]

        for cycle in range(1, args.cycles + 1):
            # ---- load, then kill -9 at a random moment ----
            for m in members:
                m.cycle_acks = 0
                m.in_flight = None
            stop = asyncio.Event()
            tasks = [asyncio.create_task(vote_loop(m, poll, option_ids, stop)) for m in members]
            tasks.append(asyncio.create_task(quiet.loop(server.url(), stop)))
            tasks.append(asyncio.create_task(community.loop(stop)))
            kill_after = rng.uniform(args.seconds * 0.4, args.seconds)
            await asyncio.sleep(kill_after)
            server.kill9()
            done, pending = await asyncio.wait(tasks, timeout=REQUEST_TIMEOUT + 5)
            stop.set()
            for t in pending:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await close_all(members)
            cycle_acks = sum(m.cycle_acks for m in members)
            in_flight = sum(1 for m in members if m.in_flight is not None)
            total_acked += cycle_acks
            snaps_before = server.log_text().count("snapshot written")

            if args.sabotage:
                sabotage(server.data)

            # ---- restart on the same data folder and verify ----
            t0 = time.monotonic()
            server.start()
            problems = []
            observed = {}
            deadline = time.monotonic() + 30

            async def rejoin(m):
                m.conn, ack = await join_with_retry(server.url(), room, deadline, reopen_token=fac_token, token=m.token)
                assert ack["member"] == m.member_id, (ack, m.member_id)
                return await m.conn.room_state()

            try:
                states = await asyncio.wait_for(asyncio.gather(*(rejoin(m) for m in members)), 45)
            except Exception as e:
                problems.append(f"reconnect failed: {e!r}")
                states = []
            recovery_s = time.monotonic() - t0
            try:
                problems += await quiet.verify(server.url(), deadline)
            except Exception as e:
                problems.append(f"quiet room: could not verify: {e!r}")
            try:
                problems += await community.verify(deadline)
            except Exception as e:
                problems.append(f"community: could not verify: {e!r}")
            archived_total = server.log_text().count("room archived")
            archived_cycle, archived_before = archived_total - archived_before, archived_total
            log = server.last_start_log()
            m_rec = re.search(r"journal\.records=(\d+) .*?snapshot\.lsn=(\d+)", log)
            from_snapshot = bool(m_rec and int(m_rec.group(2)) > 0)
            snapshot_recoveries += from_snapshot

            lost = 0
            landed = 0
            results = None
            for m, st in zip(members, states):
                p = next((p for p in st.get("polls", []) if p["id"] == poll), None)
                if p is None:
                    problems.append(f"{m.name}: poll {poll} missing from room.state")
                    continue
                results = p.get("results")
                yb = p.get("yourBallot")
                got = tuple(yb["ranking"]) if yb else None
                observed[m.index] = got
                # m.acked starts each cycle with what the server showed at the last verification.
                allowed = {m.last_acked(), m.in_flight}
                if got in allowed:
                    landed += got is not None and got == m.in_flight
                    continue
                # Not the newest acked ballot nor the in-flight one: how far back did it go?
                if got in m.acked:
                    behind = len(m.acked) - 1 - m.acked.index(got)
                    lost += behind
                    problems.append(f"{m.name}: yourBallot is an OLDER acked ballot ({behind} acked votes lost); "
                                    f"last acked {list(m.last_acked())}, in flight {m.in_flight}, got {list(got)}")
                elif got is None:
                    lost += len(m.acked)
                    problems.append(f"{m.name}: no yourBallot at all, but {len(m.acked)} acked votes "
                                    f"(last {list(m.last_acked())})")
                else:
                    lost += 1
                    problems.append(f"{m.name}: yourBallot {list(got)} is neither the last acked "
                                    f"{m.last_acked() and list(m.last_acked())} nor in flight {m.in_flight}"
                                    f" ({'sent earlier but never acked' if got in m.sent else 'never sent'})")
            total_lost += lost

            if results is not None and len(observed) == len(members):
                ballots = [b for b in observed.values() if b is not None]
                expect = borda(ballots, option_ids)
                if results.get("ballots") != len(ballots):
                    problems.append(f"results.ballots = {results.get('ballots')}, members' ballots = {len(ballots)}")
                got_scores = {r["option"]: r["score"] for r in results.get("results", [])}
                for o in option_ids:
                    if abs(got_scores.get(o, -1) - expect[o]) > 1e-6:
                        problems.append(f"Borda score of option {o}: server {got_scores.get(o)}, recomputed {expect[o]}")
                # Every member's view of the results must agree.
                for m, st in zip(members, states):
                    p = next(p for p in st["polls"] if p["id"] == poll)
                    if p.get("results", {}).get("results") != results.get("results"):
                        problems.append(f"{m.name}: sees different results than the others")
                        break
            elif not problems:
                problems.append("no results in room.state")

            # What the server shows is the truth from here on (the in-flight ballot may have become it).
            for m in members:
                got = observed.get(m.index, m.last_acked())
                m.acked = [got] if got is not None else []
                m.in_flight = None

            snaps = snaps_before  # snapshots written by the killed process (and earlier ones)
            ok = not problems
            passed += ok
            failed += not ok
            print(f"cycle {cycle}: killed after {kill_after:.2f}s, {cycle_acks} acked votes, {in_flight} in flight "
                  f"({landed} landed), lost {lost}; recovered in {recovery_s:.2f}s from "
                  f"{'snapshot + journal' if from_snapshot else 'journal only'}"
                  f"{' (' + m_rec.group(1) + ' journal records)' if m_rec else ''}; snapshots so far {snaps}; "
                  f"quiet room: {len(quiet.acked)} needs, {archived_cycle} archives this cycle; "
                  f"{community.summary()}: {'PASS' if ok else 'FAIL'}", flush=True)
            for p in problems[:20]:
                print("   - " + p, flush=True)
            if problems:
                problems_all.extend(problems)
                print("   server log (this start):\n" + "\n".join("     " + l for l in log.splitlines()[-25:]), flush=True)
            errors = {}
            for m in members:
                for k, v in m.errors.items():
                    errors[k] = errors.get(k, 0) + v
                m.errors = {}
            if errors:
                print(f"   errors during load: {errors}", flush=True)
        await close_all(members)
    except Exception as e:
        failed += 1
        problems_all.append(repr(e))
        print(f"crash test aborted: {e!r}\nserver log tail:\n{server.log_tail()}", flush=True)
    finally:
        await close_all(members, [fac] if fac else [])
        server.kill9()
        if args.keep or problems_all:
            print(f"data folder and log kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    print(f"summary: fsync {args.fsync}, cycles {args.cycles}, clients {args.clients}, acked votes {total_acked}, "
          f"acked votes lost {total_lost}, recoveries from snapshot {snapshot_recoveries}, seed {args.seed}")
    print(f"crash test: {passed} passed, {failed} failed")
    return 0 if failed == 0 and total_lost == 0 else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cycles", type=int, default=5)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=4.0, help="longest load phase before the kill")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--snapshot-every", type=int, default=300, help="storage.snapshotEveryEvents")
    ap.add_argument("--short", action="store_true", help="2 cycles of about 2 s (for the test command)")
    ap.add_argument("--sabotage", action="store_true",
                    help="self-test: truncate the journal after each kill; the run must report lost votes")
    ap.add_argument("--keep", action="store_true", help="keep the data folder and log")
    ap.add_argument("--fsync", choices=["always", "everysec", "none"], default="always", help="storage.fsync")
    args = ap.parse_args()
    if args.short:
        args.cycles, args.seconds = 2, 2.0
    if args.seed is None:
        args.seed = int(os.environ.get("CRASH_TEST_SEED", random.randrange(1 << 30)))
    if not BINARY.exists():
        print(f"{BINARY} not found: run `swift build` first", file=sys.stderr)
        print("crash test: 0 passed, 1 failed")
        return 1
    budget = 60 + args.cycles * (args.seconds + 75)
    try:
        return asyncio.run(asyncio.wait_for(run(args), budget))
    except asyncio.TimeoutError:
        print(f"crash test: timed out after {budget:.0f} s\ncrash test: 0 passed, {args.cycles} failed")
        return 1


if __name__ == "__main__":
    sys.exit(main())
