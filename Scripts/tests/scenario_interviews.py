"""Appreciative interviews and groups over a real third-party WebSocket client (Python websockets).

Cross-organization rounds for 21 members, a partner who drops out and a rematch with a late joiner,
notes and highlights, and a self-select capacity race between 10 concurrent clients.
"""
import asyncio
import itertools
import json

from rt import create_room, join

LINK = "https://meet.example.org/{room}-{round}-{pair}"
ORGS = ["Food Bank"] * 4 + ["Clinic"] * 4 + ["School District"] * 4 + ["Library"] * 3 + ["Youth Center"] * 3 + [
    "Housing Coalition"] * 3


async def settle(client, seconds=0.3):
    """Reads whatever arrives within `seconds` into the client's inbox."""
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while True:
        left = end - loop.time()
        if left <= 0:
            return
        try:
            msg = await asyncio.wait_for(client.ws.recv(), left)
        except asyncio.TimeoutError:
            return
        client.inbox.append(json.loads(msg))


def received(client, type_, **match):
    return [m for m in client.inbox if m["type"] == type_ and all(m.get(k) == v for k, v in match.items())]


async def room_with_members(server, orgs):
    """A facilitator and one member per organization given; returns (fac, code, [(client, id, org)])."""
    fac, created, _ = await create_room(server)
    code = created["room"]
    joined = await asyncio.gather(*[join(server, code, f"Member {i}", org) for i, org in enumerate(orgs)])
    members = [(c, ack["member"], org) for (c, ack, _), org in zip(joined, orgs)]
    return fac, code, members


async def assignments(members, round_):
    """Each member's `interview.assigned` for the round; checks the pairs agree with each other."""
    got = await asyncio.gather(*[c.expect("interview.assigned", round=round_) for c, _, _ in members])
    by_member = {mid: a for (_, mid, _), a in zip(members, got)}
    groups = {}
    for mid, a in by_member.items():
        partners = [p["id"] for p in a["partners"]]
        assert partners, f"member {mid} is alone in round {round_}"
        assert mid not in partners
        group = frozenset([mid] + partners)
        assert groups.setdefault(a["pair"], group) == group, (a["pair"], groups[a["pair"]], group)
    return by_member, groups


async def test_three_cross_organization_rounds_for_21_members(server):
    fac, code, members = await room_with_members(server, ORGS)
    org_of = {mid: org for _, mid, org in members}
    name_of = {mid: f"Member {i}" for i, (_, mid, _) in enumerate(members)}
    prompts = ["Tell me about a time your program worked at its best.", "What made it possible?"]
    ack = await fac.request("interviews.start", strategy="cross-organization", turnSeconds=10, reportSeconds=10,
                            prompts=prompts, linkTemplate=LINK, lateJoinGraceSeconds=60, partnerGraceSeconds=60)
    assert ack["type"] == "ack" and ack["round"] == 1, ack
    started = await fac.expect("interviews.started")
    assert started["settings"]["strategy"] == "cross-organization" and started["settings"]["turnSeconds"] == 10

    met = set()
    for round_ in (1, 2, 3):
        if round_ > 1:
            ack = await fac.request("interviews.next")
            assert ack["type"] == "ack" and ack["round"] == round_, ack
        ev = await fac.expect("interviews.round", round=round_)
        assert ev["pairs"] == 10 and ev["phase"] == "first-turn" and ev["unmet"] == 0, ev
        by_member, groups = await assignments(members, round_)
        assert sorted(len(g) for g in groups.values()) == [2] * 9 + [3], "nine pairs and one trio"
        assert sorted(m for g in groups.values() for m in g) == sorted(org_of), "every member exactly once"
        for pair, group in groups.items():
            firsts = [m for m in group if by_member[m]["youAskFirst"]]
            assert len(firsts) == 1 and all(by_member[m]["firstAsker"] == firsts[0] for m in group), (pair, firsts)
        for mid, a in by_member.items():
            assert a["link"] == f"https://meet.example.org/{code}-{round_}-{a['pair']}", a
            assert a["prompts"] == prompts and a["phase"] == "first-turn" and a["endsAt"] == ev["endsAt"], a
            for p in a["partners"]:
                assert p["name"] == name_of[p["id"]] and p["organization"] == org_of[p["id"]], p
        this_round = set()
        for group in groups.values():
            for a, b in itertools.combinations(sorted(group), 2):
                assert org_of[a] != org_of[b], f"round {round_}: same organization {a}, {b} ({org_of[a]})"
                this_round.add((a, b))
        repeated = met & this_round
        assert not repeated, f"round {round_} repeats {repeated}"
        met |= this_round

    # The server's own timer moves round 3 on to the second turn after turnSeconds.
    phase = await fac.expect("interview.phase", timeout=15, round=3)
    assert phase["phase"] == "second-turn", phase
    c0 = members[0][0]
    await c0.expect("interview.phase", timeout=5, round=3, phase="second-turn")
    # Each member was assigned exactly once per round.
    await asyncio.gather(*[settle(c, 0.2) for c, _, _ in members])
    for c, mid, _ in members:
        assert len(received(c, "interview.assigned")) == 0, f"member {mid} got an extra assignment"
    end = await fac.request("interviews.end")
    assert end["type"] == "ack"
    assert (await c0.expect("interviews.ended"))["rounds"] == 3


async def test_dropout_partner_left_and_rematch_with_a_late_joiner(server):
    fac, code, members = await room_with_members(server, ["A", "A", "B", "B", "C", "C"])
    ack = await fac.request("interviews.start", strategy="cross-organization", turnSeconds=600, reportSeconds=60,
                            linkTemplate=LINK, lateJoinGraceSeconds=600, partnerGraceSeconds=1)
    assert ack["type"] == "ack", ack
    by_member, groups = await assignments(members, 1)
    client_of = {mid: c for c, mid, _ in members}
    stay_id = members[0][1]
    gone_id = by_member[stay_id]["partners"][0]["id"]
    pair_id = by_member[stay_id]["pair"]
    await client_of[gone_id].close()

    left = await client_of[stay_id].expect("interview.partner-left", timeout=8)
    assert left == {"type": "interview.partner-left", "round": 1, "pair": pair_id, "member": gone_id}, left

    late, late_ack, late_state = await join(server, code, "Latecomer", "D")
    late_id = late_ack["member"]
    assert late_state["interviews"]["active"] and late_state["interviews"]["waiting"] is True, late_state["interviews"]
    assert "yourPair" not in late_state["interviews"]

    r = await client_of[stay_id].request("interview.rematch")
    assert r["type"] == "ack" and r["waiting"] is False, r
    mine = await client_of[stay_id].expect("interview.assigned", round=1)
    theirs = await late.expect("interview.assigned", round=1)
    assert [p["id"] for p in mine["partners"]] == [late_id], mine
    assert [p["id"] for p in theirs["partners"]] == [stay_id], theirs
    assert mine["pair"] == theirs["pair"] and mine["pair"] not in groups, (mine, groups)
    assert mine["link"] == f"https://meet.example.org/{code}-1-{mine['pair']}"
    assert mine["youAskFirst"] != theirs["youAskFirst"]

    # Told once, and only the abandoned partner.
    others = [c for c, mid, _ in members if mid not in (stay_id, gone_id)] + [fac, late]
    await asyncio.gather(*[settle(c, 1.5) for c in others + [client_of[stay_id]]])
    assert not received(client_of[stay_id], "interview.partner-left")
    for c in others:
        assert not received(c, "interview.partner-left"), c.inbox


async def test_notes_highlights_and_accept(server):
    fac, code, members = await room_with_members(server, ["A", "B", "C", "D"])
    await fac.request("interviews.start", turnSeconds=600, reportSeconds=60)
    by_member, groups = await assignments(members, 1)
    client_of = {mid: c for c, mid, _ in members}
    author = members[0][1]
    subject = by_member[author]["partners"][0]["id"]
    stranger = next(mid for _, mid, _ in members if mid not in (author, subject))

    r = await client_of[author].request("interview.note", about=stranger, text="never met", shared=True)
    assert r["type"] == "error" and r["code"] == "not_allowed", r
    r = await client_of[author].request("interview.note", raw=True, about=subject, text="", shared=False)
    assert r["code"] == "invalid_field", r

    r = await client_of[author].request("interview.note", about=subject, text="Quietly brilliant at budgets")
    assert r["type"] == "ack", r
    for mid in (author, subject):
        n = await client_of[mid].expect("interview.note")
        assert n["note"]["text"] == "Quietly brilliant at budgets" and n["note"]["shared"] is False, n
        assert n["note"]["author"] == author and n["note"]["about"] == subject

    r = await client_of[author].request("interview.note", about=subject, text="Built a volunteer pipeline", shared=True)
    assert r["type"] == "ack", r
    highlight = r["note"]
    for c in [fac] + [c for c, _, _ in members]:
        hl = await c.expect("interview.highlight")
        assert hl["highlight"] == highlight and hl["about"] == subject and hl["author"] == author, hl
        assert hl["text"] == "Built a volunteer pipeline"
    # Nobody else saw the private note.
    await asyncio.gather(*[settle(c, 0.3) for c in (fac, client_of[stranger])])
    for c in (fac, client_of[stranger]):
        assert not received(c, "interview.note") and "Quietly brilliant" not in json.dumps(c.inbox)

    for who in (author, stranger):
        r = await client_of[who].request("interview.accept", highlight=highlight)
        assert r["code"] == "not_allowed", r
    r = await client_of[subject].request("interview.accept", highlight=highlight + 99)
    assert r["code"] == "highlight_not_found", r
    r = await client_of[subject].request("interview.accept", highlight=highlight)
    assert r["type"] == "ack", r
    for c in (fac, client_of[stranger], client_of[subject]):
        upd = await c.expect("member.updated")
        assert upd["member"]["id"] == subject and upd["member"]["highlights"] == ["Built a volunteer pipeline"], upd

    # A newcomer's room.state shows it on the profile and in the highlight list, but no private note.
    _, _, state = await join(server, code, "Newcomer", "E")
    profile = next(m for m in state["members"] if m["id"] == subject)
    assert profile["highlights"] == ["Built a volunteer pipeline"]
    assert [(h["highlight"], h["accepted"]) for h in state["interviews"]["highlights"]] == [(highlight, True)]
    assert state["interviews"]["yourNotes"] == [] and "Quietly brilliant" not in json.dumps(state)


async def test_self_select_capacity_race(server):
    fac, code, members = await room_with_members(server, [f"Org {i % 4}" for i in range(10)])
    r = await fac.request("groups.create", mode="self-select",
                          groups=[{"name": "Hot topic", "description": "limited seats", "capacity": 3},
                                  {"name": "Everything else"}])
    assert r["type"] == "ack" and r["groups"] == [1, 2], r
    for c, _, _ in members:
        created = await c.expect("groups.created")
        assert created["mode"] == "self-select" and created["groups"][0]["capacity"] == 3

    replies = await asyncio.gather(*[c.request("group.join", group=1) for c, _, _ in members])
    winners = sorted(mid for (_, mid, _), rep in zip(members, replies) if rep["type"] == "ack")
    losers = [rep for rep in replies if rep["type"] != "ack"]
    assert len(winners) == 3, replies
    assert len(losers) == 7 and all(rep["code"] == "group_full" for rep in losers), losers

    changes = []
    while len(changes) < 3:
        changes.append(await fac.expect("group.changed", group=1))
    assert sorted(changes[-1]["members"]) == winners, (changes, winners)
    await settle(fac, 0.3)
    assert not received(fac, "group.changed", group=1), "no further change to the full group"

    # The losers fit in the open group; a fresh view agrees.
    losers_ids = [mid for (_, mid, _), rep in zip(members, replies) if rep["type"] != "ack"]
    again = await asyncio.gather(*[c.request("group.join", group=2) for c, mid, _ in members if mid in losers_ids])
    assert all(rep["type"] == "ack" for rep in again), again
    _, _, state = await join(server, code, "Viewer", "X")
    groups = {g["id"]: g for g in state["groups"]["groups"]}
    assert sorted(groups[1]["members"]) == winners and sorted(groups[2]["members"]) == sorted(losers_ids)
    assert state["groups"]["mode"] == "self-select" and "yourGroup" not in state["groups"]


async def test_group_announcements_timers_and_errors(server):
    fac, code, members = await room_with_members(server, ["A", "B", "C"])
    (a, a_id, _), (b, b_id, _), (c, c_id, _) = members
    for req, fields, err in [("interviews.next", {}, "interviews_inactive"), ("interviews.end", {}, "interviews_inactive"),
                             ("interviews.start", {"turnSeconds": 5}, "invalid_field"),
                             ("interviews.start", {"strategy": "alphabetical"}, "invalid_field"),
                             ("interviews.start", {"linkTemplate": "ftp://x/{pair}"}, "invalid_field"),
                             ("groups.assign", {"strategy": "balanced"}, "no_groups"),
                             ("groups.fromNeeds", {"count": 3}, "no_needs"),
                             ("groups.apply", {"name": "nope"}, "grouping_not_found"),
                             ("timer.stop", {"timer": 5}, "timer_not_found"),
                             ("room.announce", {"text": "x", "group": 4}, "group_not_found")]:
        # Requests the server refuses as invalid_field break the schema on purpose: sent raw.
        r = await fac.request(req, raw=err == "invalid_field", **fields)
        assert r["type"] == "error" and r["code"] == err, (req, r)
    r = await a.request("interviews.start")
    assert r["code"] == "not_facilitator", r

    r = await fac.request("groups.create", mode="assigned", groups=[{"name": "Red"}, {"name": "Blue"}])
    assert r["type"] == "ack"
    r = await fac.request("groups.assign", assignments={str(a_id): 1, str(b_id): 1, str(c_id): 2})
    assert r["type"] == "ack" and r["assigned"] == 3, r
    r = await a.request("group.join", group=2)
    assert r["code"] == "not_allowed", r
    r = await fac.request("room.announce", text="Red: five minutes left", group=1)
    assert r["type"] == "ack" and r["delivered"] == 2, r
    for cl in (a, b):
        ann = await cl.expect("room.announcement")
        assert ann["text"] == "Red: five minutes left" and ann["group"] == 1, ann
    await settle(c, 0.3)
    assert not received(c, "room.announcement")

    r = await fac.request("timer.start", seconds=1, label="Breakout", group=1)
    assert r["type"] == "ack", r
    for cl in (a, c):
        ended = await cl.expect("timer.ended", timeout=5)
        assert ended["timer"]["id"] == r["timer"] and ended["message"] == "Time is up: please come back to the plenary.", ended
