"""Run of show over real sockets (Python websockets): the agenda of Config/activities/needs-assessment.json
loaded as an activity file, `agenda.next` starting each step with its settings, `wall.show`,
`poll.reveal`, member-only turnout, the standing announcement, and all of it as it was after a restart
of the server on the same data folder (journal replay), then editing the agenda during the session:
`step_locked` for the steps that ran and the running one, the steps after them edited and reordered."""
import asyncio
import json
import pathlib
import urllib.request

import contract
from rt import Client, create_room, join

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
ACTIVITY = ROOT / "Config/activities/needs-assessment.json"


async def wait_ready(server, timeout=15):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/readyz", timeout=2) as r:
                if r.status == 200:
                    return
        except Exception:
            pass
        assert loop.time() < deadline, "server not ready after restart"
        await asyncio.sleep(0.1)


async def test_activity_agenda_next_wall_reveal_turnout_restart(server):
    activity = json.loads(ACTIVITY.read_text())["activity"]
    fac, created, _ = await create_room(server, title="Annual needs assessment")
    code = created["room"]
    ann, _, _ = await join(server, code, "Ann", "Food Bank")
    ben, _, _ = await join(server, code, "Ben", "Clinic")
    wall, _, _ = await join(server, code, "Wall", role="observer")

    bad = await fac.request("agenda.set", raw=True, steps=[{"kind": "break", "seconds": 0}])  # breaks the schema on purpose
    assert bad["type"] == "error" and bad["code"] == "invalid_field" and bad["message"].startswith("steps[0].seconds"), bad
    assert (await ann.request("agenda.next"))["code"] == "not_facilitator"
    ack = await fac.request("agenda.set", activity=activity)
    assert ack["type"] == "ack" and len(ack["steps"]) == len(activity["agenda"]), ack
    full = ack["agenda"]["steps"]
    assert full[1]["definition"]["question"] == activity["polls"][0]["question"], full[1]
    changed = await ann.expect("agenda.changed")
    assert "definition" not in changed["agenda"]["steps"][1], "a member saw a prepared question"

    # Welcome, then the open question: the wall follows.
    assert (await fac.request("agenda.next"))["step"] == ack["steps"][0]
    assert (await wall.expect("wall.changed"))["wall"] == {"view": "join"}
    step2 = await fac.request("agenda.next")
    opened = await ann.expect("poll.opened")
    assert opened["poll"]["question"] == activity["polls"][0]["question"]
    poll = opened["poll"]["id"]
    assert (await wall.expect("wall.changed"))["wall"] == {"view": "poll", "poll": poll}
    await fac.request("vote.cast", poll=poll, text="Board recruitment")  # a facilitator's answer is no turnout
    assert (await ann.request("vote.cast", poll=poll, text="Board recruitment"))["type"] == "ack"
    assert (await ben.request("vote.cast", poll=poll, text="Volunteer retention"))["type"] == "ack"
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 5
    while True:
        t = await wall.expect("poll.turnout", poll=poll)
        if t["answered"] == 2:
            break
        assert loop.time() < deadline
    assert t["present"] == 2, t  # Ann and Ben: not the facilitator, not the wall

    # A hidden poll: results only after poll.reveal.
    hidden = await fac.request("poll.create", question="Coffee or tea?", kind="single", options=["Coffee", "Tea"], visibility="facilitator", open=True)
    hid = hidden["poll"]
    assert (await fac.request("wall.show", view="results", poll=hid))["code"] == "results_hidden"
    await ann.request("vote.cast", poll=hid, option=2)
    await asyncio.sleep(0.6)
    got = [m for m in ann.inbox if m["type"] == "poll.results" and m["poll"] == hid]
    assert not got, got
    assert (await fac.request("poll.reveal", poll=hid))["type"] == "ack"
    await ben.expect("poll.revealed", poll=hid)
    res = await ben.expect("poll.results", poll=hid)
    assert res["ballots"] == 1, res
    assert (await fac.request("wall.show", view="results", poll=hid))["type"] == "ack"

    # Next: the needs intake closes the open question (its answers become needs).
    step3 = await fac.request("agenda.next")
    closed = await ann.expect("poll.closed")
    assert closed["poll"]["id"] == poll
    step = await ann.expect("agenda.step", current=step3["step"])
    assert step["step"]["title"] == activity["agenda"][2]["title"]
    # An announcement stands until cleared, for clients that come later too.
    await fac.request("room.announce", text="Lunch at noon")

    # Restart on the same data folder: the agenda, the running step, the wall, the announcement and the reveal are back.
    for c in (fac, ann, ben, wall):
        await c.close()
    server.stop()
    server.start()
    await wait_ready(server)
    late, _, state = await join(server, code, "Late wall", role="observer")
    assert state["agenda"]["current"] == step3["step"], state["agenda"]
    assert [s["title"] for s in state["agenda"]["steps"]] == [s["title"] for s in activity["agenda"]]
    assert state["wall"] == {"view": "needs"}, state["wall"]
    assert state["announcement"]["text"] == "Lunch at noon"
    polls = {p["id"]: p for p in state["polls"]}
    assert polls[hid].get("revealed") is True and polls[hid]["results"]["ballots"] == 1
    fac2 = await Client.connect(server)
    ack2 = await fac2.request("room.join", room=code, token=created["token"])
    assert ack2["type"] == "ack"
    fstate = await fac2.expect("room.state")
    assert fstate["agenda"]["steps"][3]["definition"]["overNeeds"] is True
    # The ranking poll over the needs the open question produced.
    step4 = await fac2.request("agenda.next")
    assert step4["type"] == "ack", step4
    opened = await late.expect("poll.opened")
    assert opened["poll"]["overNeeds"] and len(opened["poll"]["options"]) == 2, opened
    # Editing during the session: history (steps run before the restart, and the running one) is locked,
    # the steps after it stay a plan. The full agenda sent back as the server gave it is no change.
    same = await fac2.request("agenda.set", steps=fstate["agenda"]["steps"])
    assert same["type"] == "ack" and same["steps"] == [s["id"] for s in fstate["agenda"]["steps"]], same
    steps = same["agenda"]["steps"]
    renamed = [dict(s) for s in steps]
    renamed[1]["title"] = "Renamed after it ran"
    locked = await fac2.request("agenda.set", steps=renamed)
    assert locked["code"] == "step_locked" and "has already run" in locked["message"], locked
    renamed = [dict(s) for s in steps]
    renamed[3]["title"] = "Renamed while it runs"
    assert "is running now" in (await fac2.request("agenda.set", steps=renamed))["message"]
    assert (await fac2.request("agenda.set", steps=steps[1:]))["code"] == "step_locked"
    assert (await fac2.request("agenda.set", steps=[steps[0], steps[2], steps[1]] + steps[3:]))["code"] == "step_locked"
    future = [dict(s) for s in steps]
    future[5]["seconds"] = 600
    future[6], future[7] = future[7], future[6]
    edited = await fac2.request("agenda.set", steps=future)
    assert edited["type"] == "ack" and edited["steps"][6:8] == [steps[7]["id"], steps[6]["id"]], edited
    assert edited["agenda"]["steps"][5]["seconds"] == 600
    await late.expect("agenda.changed")  # the unchanged agenda
    assert (await late.expect("agenda.changed"))["agenda"]["steps"][6]["title"] == steps[7]["title"]
    assert (await fac2.request("room.clearAnnouncement"))["type"] == "ack"
    await late.expect("room.announcementCleared")
    assert (await fac2.request("agenda.goto", step=999))["code"] == "step_not_found"
    await late.close()
    await fac2.close()


async def test_config_route_has_public_url(server):
    with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/config.json", timeout=5) as r:
        body = json.loads(r.read())
    assert "publicUrl" in body and body["publicUrl"] is None, body
    assert not contract.contract().errors("http", "config", body), body
