"""A community over several meetings, driven by a third-party client (Python websockets).

One community, a roster imported as CSV (its groups pre-assign members), two sessions with a server restart
between them: the same members are recognised by their personal keys, interview pairs from the first meeting
are not repeated in the second, and the needs backlog (with the first meeting's ranking) opens the second.
Then three sessions with restarts between them: standing groups whose self-selection carries over, accepted
interview highlights in the profile two sessions later, a need in progress with an owner group, the expertise
directory (by tag, for a need, a member leaving it), `community.view`, and keys that stay in their community.
"""
import asyncio
import csv
import io
import json
import signal
import urllib.error
import urllib.request

from contract import contract
from rt import Client, join
from scenario_lifecycle import wait_ready

ROSTER = ("name,organization,email,expertise,group\n"
          "Ana Ruiz,Valley Clinic,ana@example.org,grants;data,East\n"
          "Ben Okafor,Hill County Health,ben@example.org,evaluation,West\n"
          "\"Cy Tran, RN\",Valley Clinic,,workforce,East\n"
          "Dee Walker,Hill County Health,,,West\n")
NEEDS = ["Grant writing", "Volunteer retention", "Data systems"]


def report(server, cred, fmt, key=None):
    """GET /communities/{id}/report.{fmt}: (status, content type, body bytes)."""
    req = urllib.request.Request(f"http://127.0.0.1:{server.port}/communities/{cred['community']}/report.{fmt}",
                                 headers={"Authorization": f"Bearer {key or cred['facilitatorKey']}"})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, r.headers["Content-Type"], r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers["Content-Type"], e.read()


async def open_session(server, cred, title):
    fac = await Client.connect(server)
    ack = await fac.request("room.create", title=title, name="Fay", organization="TTA Center", **cred)
    assert ack["type"] == "ack" and ack["community"] == cred["community"], ack
    state = await fac.expect("room.state")
    assert state["settings"]["community"] == cred["community"]
    return fac, ack, state


async def pairs_of_round(members, round_):
    """{frozenset of community member ids} from each member's interview.assigned."""
    got = await asyncio.gather(*[c.expect("interview.assigned", round=round_) for c, _, _ in members])
    community_of = {room_id: cm for _, room_id, cm in members}
    return {frozenset([community_of[rid]] + [community_of[p["id"]] for p in a["partners"]])
            for (_, rid, _), a in zip(members, got)}


async def test_two_meetings_remember_members_pairs_and_needs(server):
    admin = await Client.connect(server)
    created = await admin.request("community.create", name="Rural health peer network")
    assert created["type"] == "ack", created
    cred = {"community": created["community"], "facilitatorKey": created["facilitatorKey"]}
    imported = await admin.request("community.import", csv=ROSTER, **cred)
    assert imported["type"] == "ack" and imported["memberCount"] == 4, imported
    keys = {m["name"]: (m["member"], m["communityKey"]) for m in imported["members"]}
    assert set(keys) == {"Ana Ruiz", "Ben Okafor", "Cy Tran, RN", "Dee Walker"}

    # Meeting 1: members join with their keys; a walk-in without one is refused.
    fac, ack, state = await open_session(server, cred, "February meeting")
    first_room = ack["room"]
    assert ack["backlogNeeds"] == 0 and state["needs"] == []
    walk_in = await Client.connect(server)
    refused = await walk_in.request("room.join", room=first_room, name="Walk-in")
    assert refused["type"] == "error" and refused["code"] == "community_key_required", refused
    members = []
    for name, (cm, key) in keys.items():
        c, a, st = await join(server, first_room, None, communityKey=key)
        assert a["communityMember"] == cm and st["you"]["name"] == name and st["you"]["communityMember"] == cm, (a, st["you"])
        members.append((c, a["member"], cm))
    # The roster's groups pre-assign the members (East: Ana and Cy, West: Ben and Dee).
    groups = await fac.request("groups.create", mode="assigned", groups=[{"name": "East"}, {"name": "West"}])
    assert groups["type"] == "ack", groups
    placed = await fac.request("groups.assign", strategy="roster")
    assert placed["type"] == "ack" and placed["assigned"] == 4, placed
    east = await fac.expect("group.changed", group=groups["groups"][0])
    assert sorted(east["members"]) == sorted(rid for _, rid, cm in members if cm in (keys["Ana Ruiz"][0], keys["Cy Tran, RN"][0])), east
    for text in NEEDS:
        r = await members[0][0].request("need.submit", text=text, tags=[])
        assert r["type"] == "ack", r
    poll = await fac.request("poll.create", question="Most urgent?", kind="single", overNeeds=True, open=True)
    assert poll["type"] == "ack", poll
    for (c, _, _), need in zip(members, [3, 3, 3, 2]):  # Data systems first, Volunteer retention second
        r = await c.request("vote.cast", poll=poll["poll"], option=need)
        assert r["type"] == "ack", r
    assert (await fac.request("interviews.start", turnSeconds=600, reportSeconds=60))["type"] == "ack"
    met = await pairs_of_round(members, 1)
    assert (await fac.request("interviews.next"))["type"] == "ack"
    met |= await pairs_of_round(members, 2)
    assert len(met) == 4, met  # two rounds of two new pairs each
    closed = await fac.request("room.close")
    assert closed["type"] == "ack", closed
    for c in [fac, admin, walk_in] + [c for c, _, _ in members]:
        await c.close()

    # The server restarts between the meetings: the community comes back from the data folder.
    server.stop()
    server.start()
    await wait_ready(server)

    # Meeting 2: the open backlog, best ranked first; the same people; only the pairs not yet met.
    fac2, ack2, state2 = await open_session(server, cred, "March meeting")
    assert ack2["backlogNeeds"] == 3, ack2
    assert [n["text"] for n in state2["needs"]] == ["Data systems", "Volunteer retention", "Grant writing"], state2["needs"]
    members2 = []
    for name, (cm, key) in reversed(list(keys.items())):  # another joining order: other room member ids
        c, a, st = await join(server, ack2["room"], None, communityKey=key)
        assert a["communityMember"] == cm and st["you"]["name"] == name, a
        members2.append((c, a["member"], cm))
    # Meeting 2 ranks the backlog again, differently: Volunteer retention first, Grant writing second.
    need_id = {n["text"]: n["id"] for n in state2["needs"]}
    poll2 = await fac2.request("poll.create", question="Most urgent now?", kind="single", overNeeds=True, open=True)
    assert poll2["type"] == "ack", poll2
    for (c, _, _), text in zip(members2, ["Volunteer retention"] * 3 + ["Grant writing"]):
        r = await c.request("vote.cast", poll=poll2["poll"], option=need_id[text])
        assert r["type"] == "ack", r
    assert (await fac2.request("interviews.start", turnSeconds=600, reportSeconds=60))["type"] == "ack"
    fresh = await pairs_of_round(members2, 1)
    assert len(fresh) == 2 and not (fresh & met), f"pairs repeated across meetings: {fresh & met}"

    # The facilitator marks a need addressed; the export shows the backlog with the first meeting's ranking.
    admin2 = await Client.connect(server)
    export = await admin2.request("community.export", **cred)
    assert export["type"] == "ack", export
    by_text = {n["text"]: n for n in export["backlog"]}
    assert by_text["Data systems"]["rankings"] == [{"room": first_room, "rank": 1, "score": by_text["Data systems"]["rankings"][0]["score"]}]
    assert [s["room"] for s in export["sessions"]] == [first_room, ack2["room"]]
    assert export["pairsMet"] == 4 and "ana@example.org" not in export["csv"]
    done = await admin2.request("community.needStatus", need=by_text["Data systems"]["need"], status="addressed", **cred)
    assert done["type"] == "ack" and done["status"] == "addressed", done
    assert (await fac2.request("room.close"))["type"] == "ack"
    after = await admin2.request("community.export", **cred)
    assert after["pairsMet"] == 6, after["pairsMet"]  # meeting 2's pairs handed back at its close
    check_report_after_two_meetings(server, cred, [first_room, ack2["room"]], after, keys)
    fac3, ack3, state3 = await open_session(server, cred, "April meeting")
    assert [n["text"] for n in state3["needs"]] == ["Volunteer retention", "Grant writing"], state3["needs"]
    for c in [fac2, admin2, fac3] + [c for c, _, _ in members2]:
        await c.close()


def check_report_after_two_meetings(server, cred, rooms, export, keys):
    """The HTTP report shows the ranking trend the two meetings voted, and names nobody."""
    status, ctype, body = report(server, cred, "json")
    assert status == 200 and ctype == "application/json", (status, ctype, body)
    doc = json.loads(body)
    assert not contract().errors("http", "communityReport", doc), contract().errors("http", "communityReport", doc)
    assert doc["community"]["name"] == "Rural health peer network" and doc["pairsMet"] == 6, doc["community"]
    assert [(s["room"], s["title"], s["attendance"]) for s in doc["sessions"]] == [
        (rooms[0], "February meeting", 4), (rooms[1], "March meeting", 4)], doc["sessions"]
    trend = {n["text"]: [r["rank"] for r in n["rankings"]] for n in doc["backlog"]}
    # What the votes decided: meeting 1 put Data systems (3 votes) over Volunteer retention (1); meeting 2
    # Volunteer retention (3) over Grant writing (1).
    assert trend["Data systems"][0] == 1 and trend["Volunteer retention"] == [2, 1], trend
    assert trend["Grant writing"][1] == 2 and trend["Data systems"][1] > 2, trend
    assert {n["text"]: n["rankings"] for n in doc["backlog"]} == {n["text"]: n["rankings"] for n in export["backlog"]}
    assert {n["text"]: n["status"] for n in doc["backlog"]}["Data systems"] == "addressed"
    assert {e["tag"]: e["members"] for e in doc["expertise"]} == {"grants": 1, "data": 1, "evaluation": 1, "workforce": 1}

    status, ctype, body = report(server, cred, "csv")
    assert status == 200 and ctype == "text/csv; charset=utf-8; header=present", (status, ctype)
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))
    assert rows[0] == ["need", "text", "tags", "status", "owner", "first session", f"rank {rooms[0]}", f"rank {rooms[1]}"], rows[0]
    by_text = {r[1]: r for r in rows[1:]}
    assert by_text["Volunteer retention"][6:] == ["2", "1"] and by_text["Data systems"][6] == "1", rows
    status, ctype, body = report(server, cred, "md")
    md = body.decode()
    assert status == 200 and ctype == "text/markdown; charset=utf-8" and "| Volunteer retention | open | 2 | 1 |" in md, md

    text = b"".join(report(server, cred, f)[2] for f in ("json", "csv", "md")).decode("utf-8", "replace")
    for name, (_, key) in keys.items():
        assert key not in text and name.split(",")[0] not in text, name
    assert "ana@example.org" not in text and cred["facilitatorKey"] not in text
    wrong = report(server, cred, "json", key="0" * 32)
    assert wrong[0] == 401 and json.loads(wrong[2])["error"] == "unauthorized", wrong
    missing = report(server, dict(cred, community="C0000000000"), "json")
    assert missing[0] == 404 and json.loads(missing[2])["error"] == "community_not_found", missing


async def test_community_errors(server):
    admin = await Client.connect(server)
    created = await admin.request("community.create", name="Peers")
    cred = {"community": created["community"], "facilitatorKey": created["facilitatorKey"]}
    wrong = dict(cred, facilitatorKey="0" * 32)
    for type_, fields, code in [
        ("community.export", dict(cred, community="C0000000000"), "community_not_found"),
        ("community.export", wrong, "bad_credentials"),
        ("community.import", dict(cred, csv="organization\nClinic\n"), "roster_invalid"),
        ("community.import", dict(cred, csv="name,organization\nAna,X\nana,x\n"), "roster_invalid"),
        ("community.import", dict(cred, csv="name\n" + "x\n" * 600), "roster_too_large"),
        ("community.reissueKey", dict(cred, member=9), "member_not_found"),
        ("community.needStatus", dict(cred, need=1, status="addressed"), "need_not_found"),
    ]:
        r = await admin.request(type_, **fields)
        assert r["type"] == "error" and r["code"] == code, (type_, r)
    plain = await Client.connect(server)
    ack = await plain.request("room.create", title="Standalone", name="Sam")
    imported = await admin.request("community.import", members=[{"name": "Ana"}], **cred)
    key = imported["members"][0]["communityKey"]
    other = await Client.connect(server)
    r = await other.request("room.join", room=ack["room"], communityKey=key)
    assert r["type"] == "error" and r["code"] == "not_community_room", r
    for c in [admin, plain, other]:
        await c.close()


# The roster bound comes from the configuration (limits.maxRosterBytes, here through the environment).
test_community_errors.server_args = {"extra_env": {"ROUNDTABLE_LIMITS_MAXROSTERBYTES": "1000"}}


async def test_acknowledged_community_changes_survive_kill_9(server):
    """Acked community changes are in the journal before the ack: a kill -9 (no final snapshot) loses none."""
    admin = await Client.connect(server)
    created = await admin.request("community.create", name="Durable peers")
    cred = {"community": created["community"], "facilitatorKey": created["facilitatorKey"]}
    imported = await admin.request("community.import", csv=ROSTER, **cred)
    key = imported["members"][0]["communityKey"]
    fac, ack, _ = await open_session(server, cred, "Before the crash")
    member, joined, _ = await join(server, ack["room"], None, communityKey=key)
    assert (await member.request("need.submit", text="Shared data platform", tags=[]))["type"] == "ack"
    assert (await fac.request("room.close"))["type"] == "ack"  # hands the need to the backlog
    # The newer community changes too: a standing group, a need in progress it owns, a member's own profile.
    team = (await admin.request("community.groups", groups=[{"name": "Data team", "members": [joined["communityMember"]]}], **cred))["groups"][0]
    need = (await admin.request("community.export", **cred))["backlog"][0]["need"]
    assert (await admin.request("community.needStatus", need=need, status="in_progress", owner=team, **cred))["owner"] == team
    mine = {"community": cred["community"], "communityKey": key}
    assert (await admin.request("community.profile", bio="Survives crashes", listed=False, **mine))["type"] == "ack"
    server.stop(sig=signal.SIGKILL)
    server.start()
    await wait_ready(server)
    admin2 = await Client.connect(server)
    export = await admin2.request("community.export", **cred)
    assert export["type"] == "ack" and len(export["members"]) == 4, export
    assert [n["text"] for n in export["backlog"]] == ["Shared data platform"], export["backlog"]
    view = await admin2.request("community.view", **mine)
    assert view["me"]["bio"] == "Survives crashes" and view["me"]["listed"] is False and view["me"]["standingGroup"] == team, view["me"]
    assert (view["backlog"][0]["status"], view["backlog"][0]["owner"]) == ("in_progress", team), view["backlog"]
    fac2, ack2, state2 = await open_session(server, cred, "After the crash")
    assert [n["text"] for n in state2["needs"]] == ["Shared data platform"]
    again, joined2, _ = await join(server, ack2["room"], None, communityKey=key)
    assert joined2["communityMember"] == joined["communityMember"]
    for c in [admin2, fac2, again]:
        await c.close()


async def member_join(server, room, key):
    c, a, st = await join(server, room, None, communityKey=key)
    return c, a, st


def room_group_of(state, standing):
    """The room group of a session that stands for a standing group."""
    return next(g for g in state["groups"]["groups"] if g.get("standing") == standing)


async def restart(server):
    server.stop()
    server.start()
    await wait_ready(server)


async def test_three_sessions_carry_groups_highlights_and_the_directory(server):
    admin = await Client.connect(server)
    created = await admin.request("community.create", name="Peers over a season")
    cred = {"community": created["community"], "facilitatorKey": created["facilitatorKey"]}
    imported = await admin.request("community.import", csv=ROSTER, **cred)
    ids = {m["name"]: m["member"] for m in imported["members"]}
    keys = {m["name"]: m["communityKey"] for m in imported["members"]}
    ana, cy = ids["Ana Ruiz"], ids["Cy Tran, RN"]
    made = await admin.request("community.groups", groups=[{"name": "Grants team", "members": [ana]}, {"name": "Data team"}], **cred)
    assert made["type"] == "ack", made
    grants, data = made["groups"]
    await admin.close()

    # Session 1: the standing groups are the room's self-select groups; Ana is placed in hers, Cy picks Data team.
    fac, ack, state = await open_session(server, cred, "Season, session 1")
    assert state["groups"]["mode"] == "self-select" and [g["standing"] for g in state["groups"]["groups"]] == [grants, data], state["groups"]
    joined = {}
    for name in ["Ana Ruiz", "Ben Okafor", "Cy Tran, RN", "Dee Walker"]:
        joined[name] = await member_join(server, ack["room"], keys[name])
    a_conn, a_ack, a_state = joined["Ana Ruiz"]
    assert a_ack["member"] in room_group_of(a_state, grants)["members"], a_state["groups"]
    cy_conn, cy_ack, cy_state = joined["Cy Tran, RN"]
    r = await cy_conn.request("group.join", group=room_group_of(cy_state, data)["id"])
    assert r["type"] == "ack", r
    assert (await a_conn.request("need.submit", text="Data systems", tags=["reporting"]))["type"] == "ack"
    # An interview highlight about Ana, accepted by her.
    assert (await fac.request("interviews.start", turnSeconds=600, reportSeconds=60))["type"] == "ack"
    assigned = await a_conn.expect("interview.assigned", round=1)
    partner_id = assigned["partners"][0]["id"]
    partner = next(c for c, a, _ in joined.values() if a["member"] == partner_id)
    note = await partner.request("interview.note", about=a_ack["member"], text="Knows every grant deadline", shared=True)
    assert note["type"] == "ack", note
    assert (await a_conn.request("interview.accept", highlight=note["note"]))["type"] == "ack"
    assert (await fac.request("room.close"))["type"] == "ack"
    for c in [fac] + [c for c, _, _ in joined.values()]:
        await c.close()

    # The need goes in progress with the Data team as owner.
    admin = await Client.connect(server)
    backlog = (await admin.request("community.export", **cred))["backlog"]
    need = next(n["need"] for n in backlog if n["text"] == "Data systems")
    st = await admin.request("community.needStatus", need=need, status="in_progress", owner=data, **cred)
    assert st["type"] == "ack" and st["status"] == "in_progress" and st["owner"] == data, st
    await admin.close()
    await restart(server)

    # Session 2: the need in progress still opens it; Cy's self-selection carried over.
    fac, ack, state = await open_session(server, cred, "Season, session 2")
    assert [n["text"] for n in state["needs"]] == ["Data systems"], state["needs"]
    cy_conn, cy_ack, cy_state = await member_join(server, ack["room"], keys["Cy Tran, RN"])
    assert room_group_of(cy_state, data)["members"] == [cy_ack["member"]], cy_state["groups"]
    assert (await fac.request("room.close"))["type"] == "ack"
    for c in [fac, cy_conn]:
        await c.close()
    await restart(server)

    # Session 3: Ana arrives with the highlight she accepted in session 1, in her standing group.
    fac, ack, state = await open_session(server, cred, "Season, session 3")
    a_conn, a_ack, a_state = await member_join(server, ack["room"], keys["Ana Ruiz"])
    assert a_state["you"]["highlights"] == ["Knows every grant deadline"], a_state["you"]
    assert a_ack["member"] in room_group_of(a_state, grants)["members"]

    # The directory: by tag, and who can help with the need; Ana leaves it and is gone at once.
    ben_cred = {"community": cred["community"], "communityKey": keys["Ben Okafor"]}
    by_tag = await a_conn.request("community.directory", tag="GRANT", **ben_cred)
    assert by_tag["type"] == "ack" and [e["member"] for e in by_tag["entries"]] == [ana], by_tag
    assert by_tag["entries"][0]["matches"] == ["grants", "Knows every grant deadline"], by_tag
    helpers = await a_conn.request("community.directory", need=need, **ben_cred)
    assert [e["member"] for e in helpers["entries"]] == [ana] and helpers["entries"][0]["matches"] == ["data"], helpers
    everyone = await a_conn.request("community.directory", **ben_cred)
    assert everyone["total"] == 4 and all("communityKey" not in e and "group" not in e for e in everyone["entries"])
    ana_cred = {"community": cred["community"], "communityKey": keys["Ana Ruiz"]}
    me = await a_conn.request("community.profile", listed=False, bio="Clinic manager", **ana_cred)
    assert me["type"] == "ack" and me["me"]["listed"] is False and me["me"]["standingGroup"] == grants, me
    gone = await a_conn.request("community.directory", tag="grant", **ben_cred)
    assert gone["total"] == 0 and gone["entries"] == [], gone
    assert (await a_conn.request("community.directory", **cred))["total"] == 3

    # community.view: a member sees their profile, a facilitator the roster too.
    view = await a_conn.request("community.view", **ana_cred)
    assert view["role"] == "member" and "members" not in view and view["me"]["highlights"] == ["Knows every grant deadline"], view
    assert view["current"] == ack["room"] and [s["open"] for s in view["sessions"]] == [False, False, True], view["sessions"]
    assert [(n["text"], n["status"], n.get("owner")) for n in view["backlog"]] == [("Data systems", "in_progress", data)], view
    assert {g["group"]: [m["member"] for m in g["members"]] for g in view["groups"]} == {grants: [ana], data: [cy]}, view["groups"]
    fview = await a_conn.request("community.view", **cred)
    assert fview["role"] == "facilitator" and len(fview["members"]) == 4 and fview["listedCount"] == 3, fview

    # Keys stay in their community: Ana's key names nobody in another one, another facilitator key opens nothing here.
    other = await a_conn.request("community.create", name="Another network")
    for fields in [dict(ana_cred, community=other["community"]), dict(cred, facilitatorKey=other["facilitatorKey"])]:
        for type_ in ["community.view", "community.directory"]:
            r = await a_conn.request(type_, **fields)
            assert r["type"] == "error" and r["code"] == "bad_credentials", (type_, r)
    r = await a_conn.request("community.export", **dict(cred, facilitatorKey=other["facilitatorKey"]))
    assert r["code"] == "bad_credentials", r

    # The report: statuses, owners, standing groups and the directory's size, still naming nobody.
    status, _, body = report(server, cred, "json")
    doc = json.loads(body)
    assert status == 200 and not contract().errors("http", "communityReport", doc), contract().errors("http", "communityReport", doc)
    assert doc["community"]["listed"] == 3 and doc["backlog"][0]["owner"] == data and doc["backlog"][0]["status"] == "in_progress"
    assert [(g["name"], g["members"]) for g in doc["standingGroups"]] == [("Grants team", 1), ("Data team", 1)], doc["standingGroups"]
    rows = list(csv.reader(io.StringIO(report(server, cred, "csv")[2].decode("utf-8-sig"), newline="")))
    assert rows[1][3:5] == ["in_progress", "Data team"], rows
    md = report(server, cred, "md")[2].decode()
    assert "## Standing groups" in md and "| Data systems | in progress · Data team |" in md and "3 in the directory" in md, md
    assert "Ana" not in md and "Knows every grant deadline" not in md
    for c in [fac, a_conn]:
        await c.close()
