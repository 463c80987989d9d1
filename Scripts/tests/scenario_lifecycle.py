"""Room lifecycle over a real third-party WebSocket client (Python websockets): `room.close` freezes a
session, and an idle room is archived to the data folder, reopened by its facilitator, and survives a
server restart while archived.
"""
import asyncio
import json
import urllib.error
import urllib.request

from reference import borda
from rt import Client, create_room, join

ARCHIVE_WAIT = 15  # seconds: archiving runs once a second, after 1 s of quiet in these tests


def scores(results):
    return {r["option"]: r["score"] for r in results["results"]}


async def refused(c, code, type_, **fields):
    r = await c.request(type_, **fields)
    assert r["type"] == "error" and r["code"] == code, (type_, fields, r)
    return r


async def ok(c, type_, **fields):
    r = await c.request(type_, **fields)
    assert r["type"] == "ack", (type_, fields, r)
    return r


def http(server, path, key=None):
    """(status, body) of a GET; errors are returned, not raised."""
    req = urllib.request.Request(f"http://127.0.0.1:{server.port}{path}")
    if key is not None:
        req.add_header("Authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def metrics(server):
    status, body = http(server, "/metrics")
    assert status == 200, (status, body[:200])
    out = {}
    for line in body.splitlines():
        if line.startswith("roundtable_rooms"):
            name, value = line.split()
            out[name] = float(value)
    for name in ("roundtable_rooms", "roundtable_rooms_archived", "roundtable_rooms_archived_total", "roundtable_rooms_reopened_total"):
        assert name in out, f"/metrics has no {name}: {sorted(out)}"
    return out


async def wait_metrics(server, what, cond, timeout=ARCHIVE_WAIT):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        m = metrics(server)
        if cond(m):
            return m
        if loop.time() > deadline:
            raise AssertionError(f"no {what} within {timeout}s: {m}\n{server.read_log()[-2000:]}")
        await asyncio.sleep(0.2)


async def wait_ready(server, timeout=15):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while http(server, "/readyz")[0] != 200:
        assert loop.time() < deadline, "server not ready after restart"
        await asyncio.sleep(0.1)


def summary(state):
    """What must survive archiving: polls (with results and ballot counts), needs, ranking, members, closedAt."""
    def poll(p):
        r = p.get("results") or {}
        return {
            "id": p["id"], "state": p["state"], "question": p["question"], "kind": p["kind"],
            "options": p.get("options"), "ballots": r.get("ballots"), "final": r.get("final"),
            "scores": sorted((x["option"], x["score"], x["rank"]) for x in r.get("results", [])),
        }
    return {
        "title": state["title"],
        "closedAt": state.get("closedAt"),
        "polls": sorted((poll(p) for p in state["polls"]), key=lambda p: p["id"]),
        "needs": sorted((n["id"], n["text"], tuple(n.get("tags", []))) for n in state["needs"]),
        "ranking": [(n["need"], n["rank"], n["score"]) for n in state["ranking"]["needs"]],
        "rankingPolls": state["ranking"]["polls"],
        "members": sorted((m["id"], m["name"], m["role"]) for m in state["members"]),
    }


async def test_close_freezes_the_session(server):
    fac, created, _ = await create_room(server, title="Closing circle")
    code = created["room"]
    people = []
    for name in ("Ann", "Bob", "Cleo"):
        c, ack, _ = await join(server, code, name, "Org " + name)
        people.append((c, ack))
    members = [c for c, _ in people]

    poll = (await ok(fac, "poll.create", question="What first?", kind="ranking", options=["Grants", "Board", "Space"], open=True))["poll"]
    draft = (await ok(fac, "poll.create", question="Later", kind="single", options=["Yes", "No"], open=False))["poll"]
    ballots = [[1, 2, 3], [2, 1, 3], [1, 3, 2]]
    for c, b in zip(members, ballots):
        await c.expect("poll.opened")
        await ok(c, "vote.cast", poll=poll, ranking=b)
    need = (await ok(members[0], "need.submit", text="Shared storage", tags=["space"]))["need"]
    want = borda(ballots, [1, 2, 3])
    assert want == {1: 5.0, 2: 3.0, 3: 1.0}, want

    await refused(members[1], "not_facilitator", "room.close")
    closed = await ok(fac, "room.close")
    assert closed["room"] == code and isinstance(closed["closedAt"], int), closed
    closed_at = closed["closedAt"]

    # Everyone sees the open poll end, then the room close, then the final results.
    for c in [fac] + members:
        pc = await c.expect("poll.closed")
        assert pc["poll"]["id"] == poll and pc["poll"]["state"] == "closed", pc
        rc = await c.expect("room.closed")
        assert rc["room"] == code and rc["closedAt"] == closed_at, rc
        assert pc["seq"] < rc["seq"], (pc["seq"], rc["seq"])
        res = await c.expect("poll.results", poll=poll, final=True)
        assert res["state"] == "closed" and res["ballots"] == 3, res
        assert scores(res) == want, (scores(res), want)
        assert [r["option"] for r in sorted(res["results"], key=lambda r: r["rank"])] == [1, 2, 3], res

    # Nothing changes the room any more.
    await refused(members[0], "room_closed", "vote.cast", poll=poll, ranking=[3, 2, 1])
    await refused(members[1], "room_closed", "vote.retract", poll=poll)
    await refused(members[2], "room_closed", "need.submit", text="Too late", tags=[])
    await refused(members[2], "room_closed", "member.update", bio="after the end")
    await refused(fac, "room_closed", "poll.open", poll=draft)
    await refused(fac, "room_closed", "poll.create", question="Again?", kind="single", options=["a", "b"], open=True)
    await refused(fac, "room_closed", "need.remove", need=need)
    await refused(fac, "room_closed", "room.close")

    # Newcomers are turned away; members and facilitators come back to read the results.
    late = await Client.connect(server)
    await refused(late, "room_closed", "room.join", room=code, name="Late Larry")
    ann_token = people[0][1]["token"]
    again, ack, state = await join(server, code, None, token=ann_token)
    assert ack["member"] == people[0][1]["member"], ack
    assert state["closedAt"] == closed_at, state.get("closedAt")
    polls = {p["id"]: p for p in state["polls"]}
    assert polls[poll]["state"] == "closed" and polls[poll]["results"]["final"] is True, polls[poll]
    assert polls[poll]["results"]["ballots"] == 3 and scores(polls[poll]["results"]) == want, polls[poll]
    assert draft not in polls, polls.get(draft)  # members do not see drafts
    assert [n["id"] for n in state["needs"]] == [need], state["needs"]
    await refused(again, "room_closed", "vote.cast", poll=poll, ranking=[3, 2, 1])
    cofac, cack, cstate = await join(server, code, "Co-facilitator", facilitatorKey=created["facilitatorKey"])
    assert cack["role"] == "facilitator" and cstate["closedAt"] == closed_at, (cack, cstate.get("closedAt"))

    # Leaving still works; the results stay as they were.
    await ok(members[2], "room.leave")
    check, _, final_state = await join(server, code, None, token=people[1][1]["token"])
    p = {x["id"]: x for x in final_state["polls"]}[poll]
    assert scores(p["results"]) == want and p["results"]["ballots"] == 3, p


async def setup_room(server):
    """A room with needs, an open ranking poll over them with votes, and a closed single-choice poll."""
    fac, created, _ = await create_room(server, title="Quiet room")
    code = created["room"]
    ann, ann_ack, _ = await join(server, code, "Ann", "Food Bank")
    bob, bob_ack, _ = await join(server, code, "Bob", "Youth Club")
    n1 = (await ok(ann, "need.submit", text="Grant writing", tags=["grants"]))["need"]
    n2 = (await ok(bob, "need.submit", text="Volunteers", tags=["people"]))["need"]
    n3 = (await ok(fac, "need.submit", text="Board training", tags=[]))["need"]
    rank = (await ok(fac, "poll.create", question="Rank the needs", kind="ranking", overNeeds=True, open=True))["poll"]
    single = (await ok(fac, "poll.create", question="Meet monthly?", kind="single", options=["Yes", "No"], open=True))["poll"]
    await ok(ann, "vote.cast", poll=rank, ranking=[n2, n1, n3])
    await ok(bob, "vote.cast", poll=rank, ranking=[n2, n3, n1])
    await ok(ann, "vote.cast", poll=single, option=1)
    await ok(bob, "vote.cast", poll=single, option=2)
    await ok(fac, "poll.close", poll=single)
    return dict(fac=fac, created=created, code=code, ann=ann, ann_ack=ann_ack, bob=bob, bob_ack=bob_ack,
                needs=[n1, n2, n3], rank=rank, single=single)


async def fresh_state(server, code, token):
    """room.state as a member resuming without `since` sees it (the connection is closed again)."""
    c, _, state = await join(server, code, None, token=token)
    await c.close()
    return state


async def archive_and_check(server, r, before, archived_total):
    """Waits for the idle room to be archived; checks the report and that members cannot bring it back."""
    m = await wait_metrics(server, "roundtable_rooms_archived 1",
                           lambda m: m["roundtable_rooms_archived"] == 1 and m["roundtable_rooms"] == 0)
    assert m["roundtable_rooms_archived_total"] == archived_total, m
    code, key = r["code"], r["created"]["facilitatorKey"]

    # The report reads the archive file; the room stays archived.
    status, body = http(server, f"/rooms/{code}/report.json", key)
    assert status == 200, (status, body[:300])
    text = json.dumps(json.loads(body))
    for t in ("Quiet room", "Grant writing", "Volunteers", "Board training", "Rank the needs", "Meet monthly?"):
        assert t in text, f"{t!r} missing from the archived room's report: {text[:500]}"
    status, _ = http(server, f"/rooms/{code}/report.json", "not-the-key")
    assert status == 401, status
    after = metrics(server)
    assert after["roundtable_rooms_archived"] == 1 and after["roundtable_rooms"] == 0, after
    assert after["roundtable_rooms_reopened_total"] == m["roundtable_rooms_reopened_total"], after

    # Members (by name or by their token) cannot reopen it; a wrong key is refused.
    c = await Client.connect(server)
    await refused(c, "room_archived", "room.join", room=code, name="Newcomer")
    await c.close()
    c = await Client.connect(server)
    await refused(c, "room_archived", "room.join", room=code, token=r["ann_ack"]["token"])
    await c.close()
    c = await Client.connect(server)
    await refused(c, "bad_credentials", "room.join", room=code, name="Mallory", facilitatorKey="forged")
    await c.close()
    still = metrics(server)
    assert still["roundtable_rooms_archived"] == 1 and still["roundtable_rooms"] == 0, still


async def test_idle_room_is_archived_reopened_and_survives_restart(server):
    r = await setup_room(server)
    code = r["code"]
    before = await fresh_state(server, code, r["ann_ack"]["token"])
    want = summary(before)
    assert want["polls"][0]["ballots"] == 2 and want["polls"][1]["ballots"] == 2 and want["polls"][1]["final"], want["polls"]
    assert len(want["needs"]) == 3 and want["rankingPolls"] == [r["rank"]], want

    # While someone is connected the room stays in memory, however quiet it is.
    await asyncio.sleep(2.5)
    m = metrics(server)
    assert m["roundtable_rooms_archived"] == 0 and m["roundtable_rooms"] == 1, m

    for c in (r["fac"], r["ann"], r["bob"]):
        await c.close()
    await archive_and_check(server, r, before, archived_total=1)

    # (b) The facilitator's key reopens it, with everything it had.
    fac, ack, state = await join(server, code, "Fay again", facilitatorKey=r["created"]["facilitatorKey"])
    assert ack["role"] == "facilitator", ack
    got = summary(state)
    want_plus = dict(want, members=sorted(want["members"] + [(ack["member"], "Fay again", "facilitator")]))
    assert got == want_plus, f"reopened room differs:\n{got}\n!=\n{want_plus}"
    m = metrics(server)
    assert m["roundtable_rooms_archived"] == 0 and m["roundtable_rooms"] == 1 and m["roundtable_rooms_reopened_total"] == 1, m
    # It is live again: members resume with their tokens and can still vote in the open poll.
    ann, _, ann_state = await join(server, code, None, token=r["ann_ack"]["token"])
    assert summary(ann_state)["polls"] == want["polls"], summary(ann_state)["polls"]
    await ok(ann, "vote.cast", poll=r["rank"], ranking=[r["needs"][0], r["needs"][1], r["needs"][2]])
    ann_state = await fresh_state(server, code, r["bob_ack"]["token"])
    rank_poll = {p["id"]: p for p in ann_state["polls"]}[r["rank"]]
    assert rank_poll["results"]["ballots"] == 2, rank_poll["results"]  # a changed ballot, not a new one
    want = summary(ann_state)
    assert want["polls"] != summary(before)["polls"], "the changed ballot did not change the results"

    # (c) Archive it again, restart the server on the same data folder: still archived, still reopens.
    await fac.close()
    await ann.close()
    await archive_and_check(server, r, ann_state, archived_total=2)
    server.stop()
    server.start()
    await wait_ready(server)
    m = metrics(server)
    assert m["roundtable_rooms_archived"] == 1 and m["roundtable_rooms"] == 0, f"not archived after the restart: {m}"
    await archive_and_check(server, r, ann_state, archived_total=0)
    # This time the creator's resume token reopens it (a facilitator's token counts like the key).
    fac, ack, state = await join(server, code, None, token=r["created"]["token"])
    assert ack["role"] == "facilitator" and ack["member"] == r["created"]["member"], ack
    got = summary(state)
    assert got == want, f"room after restart and reopen differs:\n{got}\n!=\n{want}"
    m = metrics(server)
    assert m["roundtable_rooms_archived"] == 0 and m["roundtable_rooms"] == 1 and m["roundtable_rooms_reopened_total"] == 1, m
    bob, _, _ = await join(server, code, None, token=r["bob_ack"]["token"])
    await ok(bob, "need.submit", text="After the rest", tags=[])
    await fac.expect("need.added")

test_idle_room_is_archived_reopened_and_survives_restart.server_args = {
    "extra_env": {"ROUNDTABLE_ROOMS_ARCHIVEAFTERIDLESECONDS": "1"}}


async def test_anonymity_formula_verifiable_from_the_data_folder(server):
    """An auditor reads an open anonymous poll's key off disk and reproduces every stored pseudonym with
    the formula PROTOCOL.md states: "a" + the first 32 hex digits of SHA-256 over the UTF-8 bytes of
    "{member}:{poll}:{key}" (decimal ids, the key file's exact content)."""
    import hashlib
    import os
    import subprocess
    from run_python_tests import ROOT
    fac, created, _ = await create_room(server)
    code = created["room"]
    members = [await join(server, code, n, "Org") for n in ("Ann", "Bob")]
    poll = (await ok(fac, "poll.create", question="Which?", kind="single", options=["x", "y"]))["poll"]
    await ok(fac, "poll.open", poll=poll)
    for c, ack, _ in members:
        await ok(c, "vote.cast", poll=poll, option=1)
    for c in [fac] + [m[0] for m in members]:
        await c.close()
    assert server.stop() == 0
    data = os.path.join(server.data, "d")
    key = open(os.path.join(data, "keys", f"{code}-{poll}.key"), "rb").read().decode()
    expected = {"a" + hashlib.sha256(f"{ack['member']}:{poll}:{key}".encode()).hexdigest()[:32] for _, ack, _ in members}
    events = subprocess.run([str(ROOT / ".build/debug/roundtable"), "inspect", data, "--events"],
                            capture_output=True, text=True, check=True).stdout
    voters = {json.loads(line)["op"]["voter"] for line in events.splitlines()
              if line.startswith("{") and json.loads(line).get("op", {}).get("op") == "voteCast"}
    assert voters == expected, (voters, expected)
