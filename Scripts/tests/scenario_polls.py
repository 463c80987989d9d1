"""Needs and polls over real sockets (Python websockets).

The main scenario recomputes the ranked list of needs in Python, independently of the server, from
the ballots the test itself sent (docs/RANKING.md: Borda with partial rankings, points totals, the
needs combination), and compares it with the last `needs.ranking` every client received. Other tests
cover anonymity of ballots, results visibility, ballot rules and error codes, importing the worked
activity file, and open answers becoming needs.
"""
import asyncio
import json
import math
import pathlib
import random
import re

from rt import Client

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
ACTIVITY = ROOT / "Config/activities/needs-assessment.json"
Z = 1.96
EPS = 1e-9


# ---------------------------------------------------------------- a client that records everything

class _Tap:
    """Wraps a websocket so every message received is also appended to `log`, whoever reads it."""

    def __init__(self, ws, log):
        self._ws = ws
        self._log = log

    async def recv(self):
        raw = await self._ws.recv()
        self._log.append(json.loads(raw))
        return raw

    def __getattr__(self, name):
        return getattr(self._ws, name)


async def connect(server, who):
    c = await Client.connect(server)
    c.who = who
    c.log = []
    c.ws = _Tap(c.ws, c.log)
    return c


async def create_room(server, settings=None):
    fac = await connect(server, "facilitator")
    extra = {"settings": settings} if settings else {}
    ack = await fac.request("room.create", title="Needs assessment", name="Fay", organization="TTA Center", **extra)
    assert ack["type"] == "ack", ack
    fac.member, fac.token, fac.key = ack["member"], ack["token"], ack["facilitatorKey"]
    fac.state = await fac.expect("room.state")
    return fac, ack["room"]


async def join(server, code, name, org="", **extra):
    c = await connect(server, name)
    if name is not None:  # a resume (token) sends no name
        extra = dict(extra, name=name)
    ack = await c.request("room.join", room=code, organization=org, **extra)
    assert ack["type"] == "ack", (name, ack)
    c.member, c.token = ack["member"], ack.get("token", extra.get("token"))
    c.state = await c.expect("room.state")
    return c


async def ok(c, type_, **fields):
    r = await c.request(type_, **fields)
    assert r["type"] == "ack", (c.who, type_, fields, r)
    return r


async def refused(c, code, type_, raw=False, **fields):
    """`raw=True`: the request breaks docs/schema on purpose (see rt.Client.request)."""
    r = await c.request(type_, raw=raw, **fields)
    assert r["type"] == "error" and r["code"] == code, (c.who, type_, fields, r)
    return r


async def barrier(c):
    """Once this returns, everything the server queued for `c` before now is in `c.log`
    (replies and notices to one connection keep their order)."""
    await refused(c, "poll_not_found", "vote.retract", poll=999999)


async def until(c, pred, what, timeout=10, start=0):
    """The first message of `c.log[start:]` matching `pred`, reading more as needed."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    i = start
    while True:
        while i < len(c.log):
            if pred(c.log[i]):
                return c.log[i]
            i += 1
        left = deadline - loop.time()
        if left <= 0:
            raise AssertionError(f"{c.who}: no {what} within {timeout}s; last: {c.log[-3:]}")
        try:
            c.inbox.append(json.loads(await asyncio.wait_for(c.ws.recv(), left)))
        except asyncio.TimeoutError:
            pass


async def settle(c, quiet=0.4, limit=10):
    """Reads until the connection has been quiet for `quiet` seconds (more than one 250 ms flush)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + limit
    while loop.time() < end:
        try:
            c.inbox.append(json.loads(await asyncio.wait_for(c.ws.recv(), quiet)))
        except asyncio.TimeoutError:
            return
    raise AssertionError(f"{c.who}: messages kept coming for {limit}s")


def results_of(c, poll):
    return [m for m in c.log if m["type"] == "poll.results" and m["poll"] == poll]


def is_results(poll, final=None, ballots=None):
    def pred(m):
        return (m["type"] == "poll.results" and m["poll"] == poll
                and (final is None or m.get("final") == final)
                and (ballots is None or m.get("ballots") == ballots))
    return pred


# ---------------------------------------------------------------- independent recomputation

def order(rows):
    """Strict order: score desc, support desc, id asc; `tied` = a neighbour has exactly the same score."""
    rows = sorted(rows, key=lambda r: (-r["score"], -r["support"], r["option"]))
    out = []
    for i, r in enumerate(rows):
        tied = (i > 0 and rows[i - 1]["score"] == r["score"]) or (i + 1 < len(rows) and rows[i + 1]["score"] == r["score"])
        out.append(dict(r, rank=i + 1, tied=tied, low=min(r["low"], r["score"]), high=max(r["high"], r["score"])))
    return out


class PollModel:
    """What the server should hold for one poll over needs, kept from the requests the test sent."""

    def __init__(self, kind, options, budget=100):
        assert kind in ("ranking", "points")
        self.kind, self.options, self.budget = kind, list(options), budget
        self.ballots = {}  # member id -> list (ranking, best first) or {need id: points}

    def cast(self, voter, ballot):
        self.ballots[voter] = ballot

    def retract(self, voter):
        del self.ballots[voter]

    def merge(self, target, merged):
        """Merged needs disappear; ranking keeps the best position, points are summed."""
        if not any(o in merged for o in self.options):
            return
        m = lambda o: target if o in merged else o
        opts, placed = [], False
        for o in self.options:
            if o == target or o in merged:
                if not placed:
                    opts.append(target)
                    placed = True
            else:
                opts.append(o)
        self.options = opts
        for v, b in list(self.ballots.items()):
            if self.kind == "ranking":
                out = []
                for o in map(m, b):
                    if o not in out:
                        out.append(o)
            else:
                out = {}
                for o, p in b.items():
                    out[m(o)] = out.get(m(o), 0) + p
            self.ballots[v] = out

    def remove(self, option):
        """The option goes; a ballot with nothing left to count is dropped."""
        if option not in self.options:
            return
        self.options.remove(option)
        for v, b in list(self.ballots.items()):
            if self.kind == "ranking":
                rest = [o for o in b if o != option]
                keep = bool(rest)
            else:
                rest = {o: p for o, p in b.items() if o != option}
                keep = any(p > 0 for p in rest.values())
            if keep:
                self.ballots[v] = rest
            else:
                del self.ballots[v]

    def results(self):
        n, B = len(self.options), len(self.ballots)
        S = {o: 0 for o in self.options}
        SS = dict(S)
        sup = dict(S)
        for b in self.ballots.values():
            if self.kind == "ranking":
                # Doubled Borda points: position p earns 2(n-1-p); unranked options share, n-k-1 each.
                for p, o in enumerate(b):
                    x = 2 * (n - 1 - p)
                    S[o] += x
                    SS[o] += x * x
                    sup[o] += 1
                share = n - len(b) - 1
                for o in self.options:
                    if o not in b:
                        S[o] += share
                        SS[o] += share * share
            else:
                for o, x in b.items():
                    if x > 0:
                        S[o] += x
                        SS[o] += x * x
                        sup[o] += 1
        scale = 0.5 if self.kind == "ranking" else 1.0
        fmax = float(B) * float(n - 1 if self.kind == "ranking" else self.budget)
        rows = []
        for o in self.options:
            score = float(S[o]) * scale
            if B < 2:
                low, high = 0.0, fmax
            else:
                s, nn = float(S[o]), float(B)
                v = max(0.0, (float(SS[o]) - s * s / nn) / (nn - 1))
                half = Z * math.sqrt(float(B) * v) * scale
                low = min(max(score - half, 0.0), fmax)
                high = min(max(score + half, 0.0), fmax)
            rows.append(dict(option=o, score=score, low=low, high=high, support=sup[o]))
        return order(rows)


def needs_ranking(polls, active):
    """NeedsRanking.rank: mean of per-poll scores normalized by the poll's best; uncovered needs last."""
    totals = {}
    for p in polls:  # in poll id order, as the server sums them
        if not p.ballots:
            continue
        rows = p.results()
        best = max(r["score"] for r in rows)
        if not best > 0.0:
            continue
        for r in rows:
            if r["option"] not in active:
                continue
            t = totals.setdefault(r["option"], [0.0, 0.0, 0.0, 0, 0])
            t[0] += r["score"] / best
            t[1] += max(0.0, r["low"] / best)
            t[2] += max(0.0, r["high"] / best)
            t[3] += r["support"]
            t[4] += 1
    covered = [dict(option=i, score=totals[i][0] / totals[i][4], low=totals[i][1] / totals[i][4],
                    high=totals[i][2] / totals[i][4], support=totals[i][3], polls=totals[i][4])
               for i in active if i in totals]
    out = order(covered)
    for i in sorted(i for i in active if i not in totals):
        out.append(dict(option=i, score=0.0, low=0.0, high=0.0, support=0, polls=0, rank=len(out) + 1, tied=False))
    return out


def assert_same_results(got, want, what):
    assert [r["option"] for r in got] == [r["option"] for r in want], (what, got, want)
    for g, w in zip(got, want):
        assert g["rank"] == w["rank"] and g["support"] == w["support"] and g["tied"] == w["tied"], (what, g, w)
        for k in ("score", "low", "high"):
            assert abs(g[k] - w[k]) <= EPS, (what, k, g, w)
        assert g["low"] <= g["score"] <= g["high"], (what, g)


# ---------------------------------------------------------------- anonymity checks over every message

MEMBER_KEYS = {"member", "voter", "voterKey", "memberId", "submitter", "author"}
BALLOT_KEYS = {"ballot", "yourBallot", "ranking", "ratings", "points", "option", "text"}
VOTER_KEY = re.compile(r"m\d+|a[0-9a-f]{32}")


def walk(v):
    if isinstance(v, dict):
        yield v
        for x in v.values():
            yield from walk(x)
    elif isinstance(v, list):
        for x in v:
            yield from walk(x)


def assert_no_ballot_linked_to_member(clients, facilitators):
    for c in clients:
        for m in c.log:
            for d in walk(m):
                both = MEMBER_KEYS & d.keys(), BALLOT_KEYS & d.keys()
                assert not (both[0] and both[1]), (c.who, "member id next to ballot fields", m)
                bad = [k for k in d if VOTER_KEY.fullmatch(k)]
                assert not bad, (c.who, "voter key in a message", bad, m)
                if "yourBallot" in d:
                    assert m["type"] == "room.state", (c.who, m)
            if m["type"] == "poll.results":
                if c.member in facilitators:
                    assert "responses" in m, (c.who, m)
                else:
                    assert "responses" not in m, (c.who, "member got responses", m)


# ---------------------------------------------------------------- the main scenario

NEEDS = [
    ("Grant writing support", ["funding", "grants"]),                      # 1
    ("Volunteer recruitment and retention", ["volunteers"]),               # 2
    ("Outcome measurement tools", ["evaluation", "data"]),                 # 3
    ("Help writing grant applications", ["grants", "writing"]),            # 4: duplicate of 1, merged before the polls
    ("Board development", ["governance"]),                                 # 5
    ("Keeping volunteers engaged", ["volunteers", "engagement"]),          # 6: duplicate of 2, merged while polls are open
    ("Cybersecurity basics", ["technology"]),                              # 7
    ("Succession planning for directors", ["governance", "leadership"]),   # 8
    ("Affordable office space", ["facilities"]),                           # 9: removed while polls are open
    ("Data systems for tracking outcomes", ["data", "technology"]),        # 10
    ("Staff burnout and wellbeing", ["staff"]),                            # 11
    ("Diversifying revenue beyond grants", ["funding"]),                   # 12
]
EXPERTISE = ["writing", "engagement", "data", "governance", "technology", "staff"]
WEIGHTS = {1: 9, 2: 7, 3: 5, 4: 3, 5: 2, 6: 4, 7: 3, 8: 1, 9: 2, 10: 4, 11: 6, 12: 2}


def ranking_ballot(rng, options):
    k = rng.randint(1, len(options))
    keyed = sorted(options, key=lambda o: -rng.random() ** (1.0 / WEIGHTS[o]))
    return keyed[:k]


def points_ballot(rng, options, budget=100):
    chosen = ranking_ballot(rng, options)[:rng.randint(1, 4)]
    total = rng.randint(len(chosen), budget)
    cuts = sorted(rng.sample(range(1, total), len(chosen) - 1)) if len(chosen) > 1 else []
    parts = [b - a for a, b in zip([0] + cuts, cuts + [total])]
    ballot = dict(zip(chosen, parts))
    if rng.random() < 0.2:  # an explicit zero: allowed, and not support
        spare = [o for o in options if o not in ballot]
        if spare:
            ballot[spare[0]] = 0
    return ballot


async def vote(c, poll, kind, ballot):
    if kind == "ranking":
        await ok(c, "vote.cast", poll=poll, ranking=ballot)
    else:
        await ok(c, "vote.cast", poll=poll, points={str(k): v for k, v in ballot.items()})


async def test_needs_ranking_matches_independent_recomputation(server):
    rng = random.Random(20260601)
    fac, code = await create_room(server)
    members = list(await asyncio.gather(*[join(server, code, f"Member {i}", f"Org {i}") for i in range(30)]))
    everyone = [fac] + members
    by_id = {c.member: c for c in members}
    for i, t in enumerate(EXPERTISE):
        await ok(members[i], "member.update", expertise=[t.upper()])  # stored lower-cased

    # Needs, some duplicates; ids come back in submission order.
    texts, tags = {}, {}
    for i, (text, tg) in enumerate(NEEDS):
        r = await ok(members[i], "need.submit", text=text, tags=tg)
        assert r["need"] == i + 1, r
        texts[r["need"]], tags[r["need"]] = text, list(tg)

    # A duplicate merged before any poll: 4 disappears into 1, its tags carry over.
    await ok(fac, "need.merge", into=1, **{"from": [4]})
    merged = await until(members[0], lambda m: m["type"] == "need.merged", "need.merged")
    assert merged["into"] == 1 and merged["from"] == [4] and merged["need"]["mergedFrom"] == [4]
    assert set(merged["need"]["tags"]) == {"funding", "grants", "writing"}
    tags[1] = merged["need"]["tags"]
    active = [i for i in range(1, 13) if i != 4]

    borda = (await ok(fac, "poll.create", question="Rank the needs", kind="ranking", overNeeds=True,
                      method="borda", open=True))["poll"]
    points = (await ok(fac, "poll.create", question="Spend 100 points", kind="points", overNeeds=True,
                       budget=100, open=True))["poll"]
    for p in (borda, points):
        opened = await until(members[3], lambda m, p=p: m["type"] == "poll.opened" and m["poll"]["id"] == p, "poll.opened")
        assert [o["id"] for o in opened["poll"]["options"]] == active, opened
        assert opened["poll"]["options"][0]["label"] == texts[1]
    model = {borda: PollModel("ranking", active), points: PollModel("points", active, 100)}

    # A need submitted after the polls opened is in no poll: it ranks last, uncovered.
    late = (await ok(members[12], "need.submit", text="Translation and interpretation", tags=["language access"]))["need"]
    assert late == 13
    texts[late], tags[late] = "Translation and interpretation", ["language access"]

    # Round 1: everyone votes in both polls. Two ballots are chosen to exercise the merge and the removal.
    ballots = {}
    for c in members:
        ballots[c.member] = (ranking_ballot(rng, active), points_ballot(rng, active))
    ballots[members[28].member] = ([6, 3, 2], {6: 30, 2: 20, 3: 10})  # both duplicates: best place, summed points
    ballots[members[29].member] = ([9], {9: 40})  # only the need that gets removed: the ballot is dropped

    async def round_one(c):
        r, p = ballots[c.member]
        await vote(c, borda, "ranking", r)
        await vote(c, points, "points", p)

    await asyncio.gather(*[round_one(c) for c in members])
    for mid, (r, p) in ballots.items():
        model[borda].cast(mid, r)
        model[points].cast(mid, p)

    # The second duplicate is merged while ballots are in: ballots for 6 now count for 2.
    await ok(fac, "need.merge", into=2, **{"from": [6]})
    for m in model.values():
        m.merge(2, {6})
    active.remove(6)
    tags[2] = tags[2] + [t for t in tags[6] if t not in tags[2]]

    # Several members change their minds: the new ballot replaces the old one.
    changers = members[:8]
    for c in changers:
        r, p = ranking_ballot(rng, active), points_ballot(rng, active)
        await vote(c, borda, "ranking", r)
        await vote(c, points, "points", p)
        model[borda].cast(c.member, r)
        model[points].cast(c.member, p)
    # A ballot naming the merged need is now refused.
    bad = await refused(members[9], "invalid_ballot", "vote.cast", poll=borda, ranking=[6])
    assert bad["message"].startswith("unknown-option"), bad

    # A need is removed: it leaves both polls; member 29's ballots had nothing else and are dropped.
    await ok(fac, "need.remove", need=9)
    for m in model.values():
        m.remove(9)
    active.remove(9)
    assert members[29].member not in model[borda].ballots and members[29].member not in model[points].ballots
    await refused(members[29], "no_ballot", "vote.retract", poll=borda)

    # One member retracts.
    retractor = members[10]
    assert retractor.member in model[borda].ballots
    await ok(retractor, "vote.retract", poll=borda)
    model[borda].retract(retractor.member)

    await ok(fac, "poll.close", poll=borda)
    await ok(fac, "poll.close", poll=points)
    await refused(members[11], "poll_closed", "vote.cast", poll=borda, ranking=[1])

    # Settle: both final results arrive (every poll here is live), then nothing for > 250 ms.
    async def settled(c):
        idx = []
        for p in (borda, points):
            m = await until(c, is_results(p, final=True), f"final results of {p}")
            idx.append(next(i for i, x in enumerate(c.log) if x is m))
        await settle(c)
        return max(idx)

    last_final = await asyncio.gather(*[settled(c) for c in everyone])

    want_polls = {p: m.results() for p, m in model.items()}
    want = needs_ranking([model[borda], model[points]], set(active + [late]))
    assert [w["option"] for w in want][-1] == late and want[-1]["polls"] == 0
    experts = {c.member: {EXPERTISE[i]} for i, c in enumerate(members[:len(EXPERTISE)])}

    for c, final_at in zip(everyone, last_final):
        for p in (borda, points):
            final = results_of(c, p)[-1]
            assert final["final"] is True and final["ballots"] == len(model[p].ballots), (c.who, final)
            assert_same_results(final["results"], want_polls[p], f"{c.who} poll {p}")
        rankings = [(i, m) for i, m in enumerate(c.log) if m["type"] == "needs.ranking"]
        assert rankings, c.who
        at, last = rankings[-1]
        assert at > final_at, (c.who, "the last ranking predates the final results")
        assert last["polls"] == [borda, points], last
        got = last["needs"]
        assert [g["need"] for g in got] == [w["option"] for w in want], (c.who, got, want)
        for g, w in zip(got, want):
            assert g["rank"] == w["rank"] and g["support"] == w["support"], (c.who, g, w)
            assert g["polls"] == w["polls"] and g["tied"] == w["tied"], (c.who, g, w)
            for k in ("score", "low", "high"):
                assert abs(g[k] - w[k]) <= EPS, (c.who, k, g, w)
            assert g["low"] <= g["score"] <= g["high"], g
            assert g["text"] == texts[g["need"]]
            helpers = sorted(mid for mid, ex in experts.items() if ex & set(tags[g["need"]]))
            # At most maxHelpersPerNeed (20), the earliest joined (lowest ids), and all of them counted.
            assert g["helpers"] == helpers[:20] and g["helperCount"] == len(helpers), (c.who, g, helpers)
    # The best covered need has 1 in the poll that put it first: the mean is at most 1.
    assert 0 < want[0]["score"] <= 1

    # Anonymity over everything every client received during the scenario.
    assert_no_ballot_linked_to_member(everyone, {fac.member})
    for m in fac.log:
        if m["type"] == "poll.results":
            # Anonymous: never `waiting`; `answered` is a count (present members with a ballot), while open.
            assert set(m["responses"]) <= {"present", "ballots", "answered"}, m
    last_resp = results_of(fac, borda)[-1]["responses"]
    # Present counts members only (30), not the facilitator.
    assert {k: v for k, v in last_resp.items() if k != "answered"} == {"present": 30, "ballots": len(model[borda].ballots)}, last_resp
    # An anonymous poll's ballot is not shown back once it closed (the pseudonym key is gone).
    again = await join(server, code, None, token=members[0].token)
    for p in again.state["polls"]:
        assert "yourBallot" not in p, p
    assert again.state["ranking"]["needs"] == got_members_ranking(members[0])


def got_members_ranking(c):
    return [m for m in c.log if m["type"] == "needs.ranking"][-1]["needs"]


# ---------------------------------------------------------------- named polls: who is still to answer

async def test_named_poll_shows_facilitator_who_is_waiting(server):
    fac, code = await create_room(server)
    a = await join(server, code, "Ann")
    b = await join(server, code, "Bob")
    c = await join(server, code, "Cy")
    obs = await join(server, code, "Olga", role="observer")
    poll = (await ok(fac, "poll.create", question="Next date?", kind="single", options=["Tue", "Thu"],
                     anonymous=False, open=True))["poll"]
    await ok(a, "vote.cast", poll=poll, option=1)
    r = await until(fac, is_results(poll, ballots=1), "results with one ballot")
    # Present: the three members (facilitators and observers are not counted; the facilitator may still vote).
    assert r["responses"] == {"present": 3, "ballots": 1, "answered": 1,
                              "waiting": sorted([b.member, c.member])}, r

    await c.close()
    await until(fac, lambda m: m["type"] == "member.presence" and m["member"] == c.member and not m["online"], "Cy offline")
    await ok(b, "vote.cast", poll=poll, option=2)
    r = await until(fac, is_results(poll, ballots=2), "results with two ballots")
    assert r["responses"] == {"present": 2, "ballots": 2, "answered": 2, "waiting": []}, r

    # Members see the counts, never who answered or who is waiting.
    for x in (a, b, obs):
        await until(x, is_results(poll, ballots=2), "member results")
        await barrier(x)
    assert_no_ballot_linked_to_member([fac, a, b, obs], {fac.member})
    # A named poll shows a member their own ballot in room.state, and only theirs.
    again = await join(server, code, None, token=a.token)
    mine = next(p for p in again.state["polls"] if p["id"] == poll)
    assert mine["yourBallot"] == {"option": 1}, mine
    other = await join(server, code, "Dee")
    assert "yourBallot" not in next(p for p in other.state["polls"] if p["id"] == poll)


# ---------------------------------------------------------------- visibility

async def test_results_visibility_facilitator_only_and_after_close(server):
    fac, code = await create_room(server)
    m1 = await join(server, code, "Ann")
    m2 = await join(server, code, "Bob")
    n1 = (await ok(m1, "need.submit", text="Mentoring", tags=[]))["need"]
    n2 = (await ok(m2, "need.submit", text="Funding", tags=[]))["need"]
    hidden = (await ok(fac, "poll.create", question="Hidden", kind="single", options=["a", "b"],
                       visibility="facilitator", open=True))["poll"]
    later = (await ok(fac, "poll.create", question="Later", kind="single", options=["a", "b"],
                      visibility="after-close", open=True))["poll"]
    hidden_needs = (await ok(fac, "poll.create", question="Rank (facilitators only)", kind="ranking",
                             overNeeds=True, visibility="facilitator", open=True))["poll"]
    for m in (m1, m2):
        await ok(m, "vote.cast", poll=hidden, option=1)
        await ok(m, "vote.cast", poll=later, option=2)
        await ok(m, "vote.cast", poll=hidden_needs, ranking=[n2, n1])
    for p in (hidden, later, hidden_needs):
        await until(fac, is_results(p, ballots=2), f"facilitator results of {p}")
    rk = await until(fac, lambda m: m["type"] == "needs.ranking" and m["polls"] == [hidden_needs]
                     and m["needs"][0]["support"] == 2, "facilitator ranking with both ballots")
    assert rk["needs"][0]["need"] == n2 and rk["needs"][0]["polls"] == 1 and rk["needs"][0]["score"] == 1, rk
    for m in (m1, m2):
        await barrier(m)
        assert not [x for x in m.log if x["type"] == "poll.results"], (m.who, "results before close")
        # The members' ranking ignores polls they may not see: nothing covers the needs for them.
        for x in m.log:
            if x["type"] == "needs.ranking":
                assert x["polls"] == [] and all(e["polls"] == 0 for e in x["needs"]), x

    closing_at = {m.who: len(m.log) for m in (m1, m2)}
    for p in (hidden, later, hidden_needs):
        await ok(fac, "poll.close", poll=p)
    for p in (hidden, later, hidden_needs):
        await until(fac, is_results(p, final=True), f"facilitator final results of {p}")
    for m in (m1, m2):
        final = await until(m, is_results(later, final=True), "after-close results", start=closing_at[m.who])
        assert final["results"][0]["option"] == 2 and final["results"][0]["score"] == 2, final
        await settle(m)
        await barrier(m)
        got = [x["poll"] for x in m.log if x["type"] == "poll.results"]
        assert got == [later], (m.who, got)  # never the facilitator-only polls, even closed
        assert "responses" not in final
    fresh = await join(server, code, "Cy")
    polls = {p["id"]: p for p in fresh.state["polls"]}
    assert "results" not in polls[hidden] and "results" not in polls[hidden_needs], polls
    assert polls[later]["results"]["final"] is True
    assert fresh.state["ranking"]["polls"] == []
    fac2 = await join(server, code, "Co", facilitatorKey=fac.key)
    polls = {p["id"]: p for p in fac2.state["polls"]}
    assert all("results" in polls[p] for p in (hidden, later, hidden_needs)), polls
    assert fac2.state["ranking"]["polls"] == [hidden_needs]


# ---------------------------------------------------------------- ballot rules and error codes

BAD_BALLOTS = {
    "single": [({"option": 9}, "unknown-option")],
    "multi": [({"options": []}, "no-choices"), ({"options": [1, 2, 3]}, "too-many-choices"),
              ({"options": [1, 9]}, "unknown-option"), ({"options": [2, 2]}, "duplicate-option")],
    "rating": [({"ratings": {}}, "no-ratings"), ({"ratings": {"1": 6}}, "rating-out-of-scale"),
               ({"ratings": {"1": 0}}, "rating-out-of-scale"), ({"ratings": {"9": 3}}, "unknown-option")],
    "ranking": [({"ranking": []}, "empty-ranking"), ({"ranking": [1, 1]}, "duplicate-option"),
                ({"ranking": [1, 9]}, "unknown-option")],
    "points": [({"points": {"1": -1, "2": 5}}, "negative-points"), ({"points": {"1": 8, "2": 3}}, "over-budget"),
               ({"points": {"1": 0}}, "no-points"), ({"points": {"9": 1}}, "unknown-option")],
    "open": [({"text": "  \t "}, "empty-answer"), ({"text": "x" * 281}, "answer-too-long")],
}
GOOD_BALLOTS = {
    "single": {"option": 2}, "multi": {"options": [1, 3]}, "rating": {"ratings": {"1": 5, "2": 1}},
    "ranking": {"ranking": [3, 1]}, "points": {"points": {"1": 7, "2": 3}}, "open": {"text": " x" * 140},
}


async def test_ballot_rules_and_error_codes(server):
    fac, code = await create_room(server)
    mem = await join(server, code, "Ann")
    obs = await join(server, code, "Olga", role="observer")
    polls = {}
    specs = {
        "single": dict(options=["a", "b", "c"]), "multi": dict(options=["a", "b", "c"], maxChoices=2),
        "rating": dict(options=["a", "b"], scaleMin=1, scaleMax=5), "ranking": dict(options=["a", "b", "c"]),
        "points": dict(options=["a", "b"], budget=10), "open": {},
    }
    for kind, extra in specs.items():
        polls[kind] = (await ok(fac, "poll.create", question=f"A {kind} poll", kind=kind, open=True, **extra))["poll"]

    for kind, cases in BAD_BALLOTS.items():
        for ballot, reason in cases:
            r = await refused(mem, "invalid_ballot", "vote.cast", raw=True, poll=polls[kind], **ballot)
            assert r["message"].startswith(reason + ":"), (kind, ballot, r)
    # A ballot of another shape than the poll's kind names the missing field.
    r = await refused(mem, "invalid_field", "vote.cast", raw=True, poll=polls["single"], ranking=[1])
    assert "option" in r["message"], r
    # Nothing refused was counted.
    state = (await join(server, code, None, token=mem.token)).state
    assert all("yourBallot" not in p for p in state["polls"]), state["polls"]
    assert all(p["results"]["ballots"] == 0 for p in state["polls"]), state["polls"]
    # One good ballot per kind, even at the edges (281 characters before trimming is 279 after).
    for kind, ballot in GOOD_BALLOTS.items():
        await ok(mem, "vote.cast", poll=polls[kind], **ballot)
    for kind in GOOD_BALLOTS:
        await until(fac, is_results(polls[kind], ballots=1), f"{kind} results")

    draft = (await ok(fac, "poll.create", question="Later", kind="single", options=["x", "y"]))["poll"]
    await refused(mem, "poll_not_open", "vote.cast", poll=draft, option=1)
    await refused(mem, "poll_not_open", "vote.retract", poll=draft)
    await refused(fac, "poll_not_open", "poll.close", poll=draft)
    await ok(fac, "poll.close", poll=polls["single"])
    await refused(mem, "poll_closed", "vote.cast", poll=polls["single"], option=1)
    await refused(mem, "poll_closed", "vote.retract", poll=polls["single"])
    await refused(fac, "poll_closed", "poll.open", poll=polls["single"])
    await refused(fac, "poll_closed", "poll.close", poll=polls["single"])
    await refused(fac, "poll_open", "poll.open", poll=polls["multi"])
    await refused(mem, "poll_not_found", "vote.cast", poll=4242, option=1)
    await refused(fac, "poll_not_found", "poll.open", poll=4242)
    await ok(mem, "vote.retract", poll=polls["ranking"])
    await refused(mem, "no_ballot", "vote.retract", poll=polls["ranking"])
    await refused(fac, "no_needs", "poll.create", question="Over needs", kind="points", overNeeds=True, open=True)

    await refused(obs, "not_allowed", "vote.cast", poll=polls["multi"], options=[1])
    await refused(obs, "not_allowed", "need.submit", text="An observer's need")
    need = (await ok(mem, "need.submit", text="Peer mentoring", tags=["mentoring"]))["need"]
    other = (await ok(mem, "need.submit", text="Mentoring peers", tags=[]))["need"]
    for type_, fields in [("need.edit", dict(need=need, text="x")), ("need.merge", {"into": need, "from": [other]}),
                          ("need.remove", dict(need=need)), ("poll.open", dict(poll=draft)),
                          ("poll.close", dict(poll=polls["multi"])),
                          ("poll.create", dict(question="q", kind="single", options=["a", "b"])),
                          ("poll.import", dict(polls=[dict(question="q", kind="open")]))]:
        await refused(mem, "not_facilitator", type_, **fields)
        await refused(obs, "not_facilitator", type_, **fields)
    await refused(fac, "need_not_found", "need.remove", need=999)
    await refused(fac, "invalid_field", "need.merge", raw=True, into=need, **{"from": [need]})
    # The member's requests changed nothing.
    st = (await join(server, code, "Checker")).state
    assert [n["id"] for n in st["needs"]] == [need, other] and st["needs"][0]["text"] == "Peer mentoring"
    assert next(p for p in st["polls"] if p["id"] == polls["multi"])["state"] == "open"
    assert all(p["id"] != draft for p in st["polls"])


# ---------------------------------------------------------------- importing the worked activity file

async def test_import_activity_file_drafts_and_open_answers_become_needs(server):
    activity = json.loads(ACTIVITY.read_text())
    defs = activity["activity"]["polls"]
    assert activity["activity"]["title"] and activity["activity"]["description"]
    assert [d["kind"] for d in defs] == ["open", "ranking", "points", "rating", "single"]
    assert defs[0]["question"] == "What is your organization's biggest challenge this year?"
    assert defs[1].get("overNeeds") and defs[2].get("overNeeds") and defs[2]["budget"] == 100

    fac, code = await create_room(server)
    early = await join(server, code, "Ann", "Food Bank")
    existing = (await ok(early, "need.submit", text="Funding", tags=["funding"]))["need"]
    ack = await ok(fac, "poll.import", activity=activity["activity"])
    ids = ack["polls"]
    assert len(ids) == 5 and ack["poll"] == ids[0], ack
    # The room learns that drafts exist, not what they ask.
    await barrier(early)
    created = [m["poll"] for m in early.log if m["type"] == "poll.created"]
    assert [p["id"] for p in created] == ids and all(p == {"id": p["id"], "state": "draft"} for p in created), created

    # Drafts: the facilitator sees them in room.state, members do not.
    member_view = await join(server, code, "Bob", "Shelter")
    assert member_view.state["polls"] == [], member_view.state["polls"]
    co = await join(server, code, "Co", facilitatorKey=fac.key)
    drafts = co.state["polls"]
    assert [p["id"] for p in drafts] == ids and all(p["state"] == "draft" for p in drafts), drafts
    assert [p["question"] for p in drafts] == [d["question"] for d in defs]
    assert [p["kind"] for p in drafts] == [d["kind"] for d in defs]
    assert drafts[2]["budget"] == 100 and drafts[4]["anonymous"] is False
    assert [o["label"] for o in drafts[3]["options"]] == defs[3]["options"]

    # The open question; answers become needs when it closes (the room's default setting).
    others = [early, member_view] + [await join(server, code, f"M{i}") for i in range(3)]
    open_q = ids[0]
    await ok(fac, "poll.open", poll=open_q)
    answers = ["Staff turnover", "  Staff turnover ", "funding", "Board engagement", "staff turnover"]
    for c, text in zip(others, answers):
        await ok(c, "vote.cast", poll=open_q, text=text)
    r = await until(fac, is_results(open_q, ballots=5), "open results")
    assert r["answers"] == [{"text": "Staff turnover", "count": 2}, {"text": "Board engagement", "count": 1},
                            {"text": "funding", "count": 1}, {"text": "staff turnover", "count": 1}], r
    start = len(early.log)
    await ok(fac, "poll.close", poll=open_q)
    await until(early, lambda m: m["type"] == "poll.closed", "poll.closed", start=start)
    await barrier(early)
    added = [m["need"] for m in early.log[start:] if m["type"] == "need.added"]
    # Most frequent first; "funding" matches an existing need and "staff turnover" an earlier answer (case aside).
    assert [n["text"] for n in added] == ["Staff turnover", "Board engagement"], added
    assert all(n["fromPoll"] == open_q for n in added) and [n["id"] for n in added] == [existing + 1, existing + 2]
    assert_no_ballot_linked_to_member([fac, early, member_view], {fac.member})

    # The ranking poll over needs now ranks them, with the need submitted earlier.
    await ok(fac, "poll.open", poll=ids[1])
    opened = await until(early, lambda m: m["type"] == "poll.opened" and m["poll"]["id"] == ids[1], "poll.opened")
    assert [o["id"] for o in opened["poll"]["options"]] == [existing] + [n["id"] for n in added]


async def test_open_answers_stay_answers_when_the_room_says_so(server):
    fac, code = await create_room(server, settings={"openAnswersBecomeNeeds": False})
    m = await join(server, code, "Ann")
    poll = (await ok(fac, "poll.create", question="Biggest challenge?", kind="open", open=True))["poll"]
    await ok(m, "vote.cast", poll=poll, text="Staff turnover")
    await ok(fac, "poll.close", poll=poll)
    await until(m, lambda x: x["type"] == "poll.closed", "poll.closed")
    await barrier(m)
    assert not [x for x in m.log if x["type"] == "need.added"]
    assert (await join(server, code, "Bob")).state["needs"] == []


# ---------------------------------------------------------------- a refused create-and-open

async def test_refused_create_and_open_leaves_no_trace(server):
    """`poll.create` with `open: true` whose opening is refused (no needs yet) must not leave a
    half-made poll behind nor use up a seq number: members would see a gap in the event stream."""
    fac, code = await create_room(server)
    m = await join(server, code, "Ann")
    known = m.state["seq"]
    await refused(fac, "no_needs", "poll.create", question="Rank", kind="ranking", overNeeds=True, open=True)
    await ok(m, "need.submit", text="Mentoring", tags=[])
    added = await until(m, lambda x: x["type"] == "need.added", "need.added")
    assert added["seq"] == known + 1, ("gap in the event stream", known, added["seq"])
    co = await join(server, code, "Co", facilitatorKey=fac.key)
    assert co.state["polls"] == [], co.state["polls"]
