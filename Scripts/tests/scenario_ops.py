"""Operations over real HTTP: /metrics moves as a scenario runs, and the facilitator reports.

Metrics are parsed from the Prometheus text format and compared before and after: connections,
requests by type, errors by code, journal entries, the ack latency histogram. Reports need the
facilitator key as a bearer token; report.csv is read with Python's csv module and compared with the
last `needs.ranking` the facilitator received; report.md has tables; no member id sits next to an
anonymous ballot in any format.
"""
import asyncio
import csv
import io
import json
import os
import pathlib
import re
import resource
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

from rt import Client


# ---------------------------------------------------------------- HTTP helpers

def http_get(server, path, headers=None):
    """(status, headers with lower-case names, body bytes) of a GET; HTTP errors are returned, not raised."""
    req = urllib.request.Request(f"http://127.0.0.1:{server.port}{path}", headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


async def get(server, path, headers=None):
    # urllib blocks; keep the websocket clients' event loop free meanwhile.
    return await asyncio.to_thread(http_get, server, path, headers)


LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text):
    """{(name, frozenset(labels)): value}; checks every line is a comment or a well-formed sample."""
    out = {}
    types = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            types[name] = kind
            continue
        if line.startswith("#") or not line:
            continue
        m = LINE.match(line)
        assert m, f"malformed metrics line: {line!r}"
        labels = frozenset(LABEL.findall(m.group(3) or ""))
        out[(m.group(1), labels)] = float(m.group(4))
    assert types, "no # TYPE lines"
    return out, types


async def metrics(server):
    status, headers, body = await get(server, "/metrics")
    assert status == 200, status
    assert headers.get("content-type", "").startswith("text/plain; version=0.0.4"), headers
    return parse_metrics(body.decode())


def val(m, name, **labels):
    return m[0].get((name, frozenset(labels.items())), 0.0)


# ---------------------------------------------------------------- scenario helpers

async def ok(c, type_, **fields):
    r = await c.request(type_, **fields)
    assert r["type"] == "ack", (type_, fields, r)
    return r


async def create_room(server):
    fac = await Client.connect(server)
    ack = await ok(fac, "room.create", title="Ops review, \"Q3\"", name="Fay", organization="TTA Center")
    await fac.expect("room.state")
    return fac, ack["room"], ack["facilitatorKey"]


async def join(server, code, name, org):
    c = await Client.connect(server)
    ack = await ok(c, "room.join", room=code, name=name, organization=org)
    await c.expect("room.state")
    c.member = ack["member"]
    return c


async def last_ranking(fac, quiet=0.6):
    """The newest needs.ranking the facilitator has, after the connection has gone quiet (results coalesce)."""
    latest = None
    for m in fac.inbox:
        if m["type"] == "needs.ranking":
            latest = m
    fac.inbox = [m for m in fac.inbox if m["type"] != "needs.ranking"]
    while True:
        try:
            m = await fac.next(timeout=quiet)
        except asyncio.TimeoutError:
            return latest
        if m["type"] == "needs.ranking":
            latest = m


async def populated_room(server):
    """A facilitator, three members with expertise, three needs, an anonymous ranking poll over the needs
    (three ballots), a named poll and an anonymous open poll. Returns (fac, code, key, members)."""
    fac, code, key = await create_room(server)
    ann = await join(server, code, "Ann", "Food Bank")
    bo = await join(server, code, "Bo", "Shelter, Inc.")
    cy = await join(server, code, "Cy", "Clinic")
    await ok(ann, "member.update", expertise=["grants", "data"])
    await ok(cy, "member.update", expertise=["grants"])
    n1 = (await ok(ann, "need.submit", text="Federal grants, \"fast\"", tags=["grants"]))["need"]
    n2 = (await ok(bo, "need.submit", text="Keeping volunteers\nengaged", tags=["volunteers"]))["need"]
    n3 = (await ok(cy, "need.submit", text="Data sharing agreements", tags=["data"]))["need"]
    poll = (await ok(fac, "poll.create", question="Rank the needs", kind="ranking", overNeeds=True, open=True))["poll"]
    for c, order in ((ann, [n1, n3, n2]), (bo, [n2, n1]), (cy, [n1, n2, n3])):
        await ok(c, "vote.cast", poll=poll, ranking=order)
    named = (await ok(fac, "poll.create", question="Lunch?", kind="single", options=["Pizza", "Soup"],
                      anonymous=False, open=True))["poll"]
    await ok(ann, "vote.cast", poll=named, option=1)
    opened = (await ok(fac, "poll.create", question="Anything else?", kind="open", open=True))["poll"]
    await ok(bo, "vote.cast", poll=opened, text="More peer calls")
    return fac, code, key, dict(ann=ann, bo=bo, cy=cy), dict(ranking=poll, named=named, open=opened)


# ---------------------------------------------------------------- tests

async def test_metrics_follow_the_scenario(server):
    before = await metrics(server)
    for name in ("roundtable_connections_open", "roundtable_messages_received_total", "process_resident_memory_bytes",
                 "roundtable_ack_latency_seconds", "roundtable_journal_durable_latency_seconds"):
        assert name in before[1], f"{name} missing from # TYPE lines"
    assert before[1]["roundtable_ack_latency_seconds"] == "histogram"
    assert val(before, "roundtable_ready") == 1
    assert val(before, "process_resident_memory_bytes") > 1_000_000

    fac, code, key, members, polls = await populated_room(server)
    # Errors with known codes: a bad vote, an unknown type, bad JSON.
    r = await members["ann"].request("vote.cast", poll=999, option=1)
    assert r["code"] == "poll_not_found", r
    r = await members["ann"].request("no.such.type", raw=True)
    bad_type_code = r["code"]
    await members["bo"].ws.send_raw("{not json")
    bad_json = await members["bo"].expect("error")
    assert bad_json["code"] == "bad_json", bad_json

    during = await metrics(server)
    assert val(during, "roundtable_connections_open") == val(before, "roundtable_connections_open") + 4
    assert val(during, "roundtable_connections_opened_total") >= val(before, "roundtable_connections_opened_total") + 4
    assert val(during, "roundtable_rooms") == 1
    assert val(during, "roundtable_members") == 4
    assert val(during, "roundtable_members_online") == 4
    assert val(during, "roundtable_requests_total", type="room.create") == 1
    assert val(during, "roundtable_requests_total", type="room.join") == 3
    assert val(during, "roundtable_requests_total", type="need.submit") == 3
    assert val(during, "roundtable_requests_total", type="vote.cast") == 6  # 5 accepted, 1 refused
    assert val(during, "roundtable_requests_total", type="invalid") >= 1
    assert val(during, "roundtable_errors_total", code="poll_not_found") == 1
    assert val(during, "roundtable_errors_total", code=bad_type_code) >= 1
    assert val(during, "roundtable_errors_total", code="bad_json") == 1
    assert val(during, "roundtable_messages_received_total") >= 20
    assert val(during, "roundtable_messages_sent_total") > val(before, "roundtable_messages_sent_total")
    assert val(during, "roundtable_journal_entries_total") > val(before, "roundtable_journal_entries_total")
    acks = val(during, "roundtable_ack_latency_seconds_count")
    assert acks >= 17, acks
    assert val(during, "roundtable_ack_latency_seconds_bucket", le="+Inf") == acks
    durable = val(during, "roundtable_journal_durable_latency_seconds_count")
    assert durable >= 1
    # Buckets are cumulative.
    buckets = sorted(((float(dict(k[1])["le"]) if dict(k[1])["le"] != "+Inf" else float("inf")), v)
                     for k, v in during[0].items() if k[0] == "roundtable_ack_latency_seconds_bucket")
    assert all(a[1] <= b[1] for a, b in zip(buckets, buckets[1:])), buckets

    for c in members.values():
        await c.close()
    await asyncio.sleep(0.3)
    after = await metrics(server)
    assert val(after, "roundtable_connections_open") == val(during, "roundtable_connections_open") - 3
    assert val(after, "roundtable_members_online") == 1
    await fac.close()


async def test_reports_need_the_facilitator_key(server):
    fac, code, key, members, polls = await populated_room(server)
    other_fac, other_code, other_key = await create_room(server)
    for fmt in ("json", "csv", "md"):
        path = f"/rooms/{code}/report.{fmt}"
        status, headers, body = await get(server, path)
        assert status == 401, (fmt, status)
        assert json.loads(body)["error"] == "unauthorized"
        assert headers.get("www-authenticate", "").startswith("Bearer"), headers
        for wrong in ("Bearer nope", f"Bearer {other_key}", f"Basic {key}", "Bearer", f"Bearer {key} extra"):
            status, _, body = await get(server, path, {"Authorization": wrong})
            assert status == 401, (fmt, wrong, status, body)
        status, _, _ = await get(server, path, {"Authorization": f"Bearer {key}"})
        assert status == 200, (fmt, status)
        # The code is case-insensitive, like room.join.
        status, _, _ = await get(server, path.replace(code, code.lower()), {"Authorization": f"bearer {key}"})
        assert status == 200, (fmt, status)
    status, _, body = await get(server, "/rooms/ZZZZZZZZ/report.json", {"Authorization": f"Bearer {key}"})
    assert status == 404 and json.loads(body)["error"] == "room_not_found", (status, body)
    status, _, _ = await get(server, f"/rooms/{code}/report.xml", {"Authorization": f"Bearer {key}"})
    assert status == 404
    # The refusals are visible to operators too.
    m = await metrics(server)
    assert val(m, "roundtable_rooms") == 2


async def test_csv_matches_the_ranked_needs(server):
    fac, code, key, members, polls = await populated_room(server)
    ranking = await last_ranking(fac)
    assert ranking and len(ranking["needs"]) == 3, ranking
    status, headers, body = await get(server, f"/rooms/{code}/report.csv", {"Authorization": f"Bearer {key}"})
    assert status == 200
    assert headers["content-type"].startswith("text/csv"), headers
    assert body.startswith(b"\xef\xbb\xbf"), body[:10]
    text = body.decode("utf-8-sig")
    # CRLF between records: every record ends so (the one newline inside a quoted field is data).
    assert text.endswith("\r\n")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == ["rank", "need", "text", "score", "low", "high", "support", "polls", "helpers"], rows[0]
    rows = rows[1:]
    assert len(rows) == len(ranking["needs"])
    names = {members[k].member: n for k, n in (("ann", "Ann"), ("bo", "Bo"), ("cy", "Cy"))}
    for row, want in zip(rows, ranking["needs"]):
        assert int(row[0]) == want["rank"] and int(row[1]) == want["need"], (row, want)
        assert row[2] == want["text"], (row[2], want["text"])
        for i, key_ in ((3, "score"), (4, "low"), (5, "high")):
            assert abs(float(row[i]) - want[key_]) < 1e-6, (key_, row[i], want[key_])
        assert int(row[6]) == want["support"] and int(row[7]) == want["polls"]
        helpers = [names.get(h, "Fay") for h in want["helpers"]]
        assert row[8] == "; ".join(helpers), (row[8], helpers)
    assert any(r[2] == "Keeping volunteers\nengaged" for r in rows)
    assert any(r[2] == "Federal grants, \"fast\"" and r[8] == "Ann; Cy" for r in rows)


async def test_markdown_and_json_reports(server):
    fac, code, key, members, polls = await populated_room(server)
    status, headers, body = await get(server, f"/rooms/{code}/report.md", {"Authorization": f"Bearer {key}"})
    assert status == 200 and headers["content-type"].startswith("text/markdown")
    md = body.decode()
    assert md.startswith("# Ops review")
    assert "| Rank | Need | Score | Interval | Support | Polls | Who could help |" in md
    assert re.search(r"^\|( -+:? \|)+$", md, re.M), "no delimiter row"
    assert "## Expertise directory" in md and "| grants | Ann (Food Bank), Cy (Clinic) |" in md

    status, headers, body = await get(server, f"/rooms/{code}/report.json", {"Authorization": f"Bearer {key}"})
    assert status == 200 and headers["content-type"].startswith("application/json")
    report = json.loads(body)
    assert report["format"] == "roundtable.report/1"
    assert report["room"]["code"] == code
    assert [m["name"] for m in report["members"]] == ["Fay", "Ann", "Bo", "Cy"]
    assert {p["id"] for p in report["polls"]} == set(polls.values())
    named = next(p for p in report["polls"] if p["id"] == polls["named"])
    assert named["votes"] == [{"option": 1, "member": members["ann"].member, "name": "Ann"}], named["votes"]


async def test_no_member_next_to_an_anonymous_ballot(server):
    fac, code, key, members, polls = await populated_room(server)
    docs = {}
    for fmt in ("json", "csv", "md"):
        status, _, body = await get(server, f"/rooms/{code}/report.{fmt}", {"Authorization": f"Bearer {key}"})
        assert status == 200
        docs[fmt] = body.decode("utf-8-sig")
    report = json.loads(docs["json"])
    ballot_fields = {"option", "options", "ranking", "ratings", "points"}

    def walk(v, inside_named_votes=False):
        if isinstance(v, dict):
            if "member" in v and ballot_fields & v.keys():
                assert inside_named_votes, f"member next to a ballot outside a named poll: {v}"
            for k, x in v.items():
                walk(x, inside_named_votes or k == "votes")
        elif isinstance(v, list):
            for x in v:
                walk(x, inside_named_votes)

    for p in report["polls"]:
        if p["definition"]["anonymous"]:
            assert "votes" not in p, p
            assert set(p["responses"]) == {"ballots", "eligible"}, p["responses"]
            walk(p)
    for fmt, doc in docs.items():
        assert not re.search(r"\ba[0-9a-f]{32}\b", doc), fmt
    walk({k: v for k, v in report.items() if k != "polls"})
    # The open poll's answer is there without its author.
    open_poll = next(p for p in report["polls"] if p["id"] == polls["open"])
    assert open_poll["results"]["answers"] == [{"text": "More peer calls", "count": 1}]


async def test_cli_export_matches_http_after_stop(server):
    import os
    import subprocess
    import pathlib
    fac, code, key, members, polls = await populated_room(server)
    await last_ranking(fac)
    auth = {"Authorization": f"Bearer {key}"}
    http = {fmt: (await get(server, f"/rooms/{code}/report.{fmt}", auth))[2] for fmt in ("json", "csv")}
    for c in list(members.values()) + [fac]:
        await c.close()
    server.stop()
    data = os.path.join(server.data, "d")
    binary = str(pathlib.Path(__file__).resolve().parent.parent.parent / ".build/debug/roundtable")
    listing = sorted(os.listdir(data))
    for fmt in ("json", "csv", "md"):
        out = os.path.join(server.data, f"export.{fmt}")
        subprocess.run([binary, "export", data, code.lower(), "--format", fmt, "--output", out], check=True, timeout=30)
        body = open(out, "rb").read()
        if fmt == "csv":
            assert body == http["csv"], (body, http["csv"])  # no timestamp in the CSV: byte for byte
        elif fmt == "json":
            a, b = json.loads(body), json.loads(http["json"])
            # Disconnects after the HTTP export are presence events: they move seq and nothing else.
            for doc in (a, b):
                doc.pop("generatedAt"), doc["room"].pop("seq")
            assert a == b, [k for k in a if a[k] != b.get(k)]
        else:
            assert body.decode().startswith("# Ops review")
    assert sorted(os.listdir(data)) == listing, "export changed the data folder"
    r = subprocess.run([binary, "export", data, "NOPE1234"], capture_output=True, text=True, timeout=30)
    assert r.returncode != 0 and "no room or community NOPE1234" in r.stderr, r.stderr


async def test_cli_export_of_a_community_matches_http_after_stop(server):
    """`roundtable export DATA_DIR COMMUNITY` writes the report the route serves, archived sessions included."""
    import os
    import pathlib
    import subprocess
    admin = await Client.connect(server)
    created = await admin.request("community.create", name="Offline peers")
    cred = {"community": created["community"], "facilitatorKey": created["facilitatorKey"]}
    imported = await admin.request("community.import", csv="name,organization,expertise\nAna,Clinic,grants\nBen,Health,data\n", **cred)
    keys = [m["communityKey"] for m in imported["members"]]
    rooms = []
    for title in ("First meeting", "Second meeting"):
        fac = await Client.connect(server)
        ack = await fac.request("room.create", title=title, name="Fay", **cred)
        assert ack["type"] == "ack", ack
        rooms.append(ack["room"])
        member = await Client.connect(server)
        assert (await member.request("room.join", room=ack["room"], communityKey=keys[0]))["type"] == "ack"
        assert (await member.request("need.submit", text=f"Need from the {title.lower()}", tags=[]))["type"] == "ack"
        assert (await fac.request("room.close"))["type"] == "ack"
        for c in (fac, member):
            await c.close()
    await asyncio.sleep(2.5)  # rooms.archiveAfterIdleSeconds = 1: both sessions go to archive/
    auth = {"Authorization": f"Bearer {cred['facilitatorKey']}"}
    http = {fmt: (await get(server, f"/communities/{cred['community']}/report.{fmt}", auth))[2] for fmt in ("json", "csv", "md")}
    assert json.loads(http["json"])["sessions"][0]["attendance"] == 1, http["json"]
    await admin.close()
    server.stop()
    data = os.path.join(server.data, "d")
    binary = str(pathlib.Path(__file__).resolve().parent.parent.parent / ".build/debug/roundtable")
    inspect = subprocess.run([binary, "inspect", data], capture_output=True, text=True, timeout=30, check=True).stdout
    assert all(re.search(rf"room {r} .*archived at", inspect) for r in rooms), inspect
    listing = sorted(os.listdir(data))
    for fmt in ("json", "csv", "md"):
        out = os.path.join(server.data, f"community.{fmt}")
        spelled = cred["community"].lower().replace("0", "o")
        subprocess.run([binary, "export", data, spelled, "--format", fmt, "--output", out], check=True, timeout=30)
        body = open(out, "rb").read()
        if fmt == "json":
            a, b = json.loads(body), json.loads(http["json"])
            a.pop("generatedAt"), b.pop("generatedAt")
            assert a == b, [k for k in a if a[k] != b.get(k)]
            assert [s["title"] for s in a["sessions"]] == ["First meeting", "Second meeting"], a["sessions"]
        elif fmt == "csv":
            assert body == http["csv"], (body, http["csv"])  # no timestamp in the CSV: byte for byte
        else:
            # Only the generation time differs.
            strip = lambda t: re.sub(r"report generated [^\n]*", "", t.decode())  # noqa: E731
            assert strip(body) == strip(http["md"]), (body, http["md"])
    assert sorted(os.listdir(data)) == listing, "export changed the data folder"
    r = subprocess.run([binary, "export", data, "ZC12345678"], capture_output=True, text=True, timeout=30)
    assert r.returncode != 0 and f"communities: {cred['community']}" in r.stderr, r.stderr


test_cli_export_of_a_community_matches_http_after_stop.server_args = {"extra_env": {"ROUNDTABLE_ROOMS_ARCHIVEAFTERIDLESECONDS": "1"}}


# ---------------------------------------------------------------- the open-file limit

BINARY = pathlib.Path(__file__).resolve().parent.parent.parent / ".build/debug/roundtable"


def nofile_limits(pid):
    """(soft, hard) RLIMIT_NOFILE of a running process."""
    for line in open(f"/proc/{pid}/limits"):
        if line.startswith("Max open files"):
            return int(line.split()[3]), int(line.split()[4])
    raise AssertionError("no 'Max open files' line")


async def test_open_file_limit_is_fitted_to_max_connections(server):
    """`serve` sets its soft RLIMIT_NOFILE to transport.maxConnections + 1,024 (never above the hard limit):
    lws walks a table of that many slots on every close (Debian's build), so a container's 1,048,576 would
    make each close cost milliseconds; and a soft limit below what maxConnections needs is raised."""
    soft, hard = nofile_limits(server.proc.pid)
    assert soft == min(hard, 300 + 1024), (soft, hard)
    if resource.getrlimit(resource.RLIMIT_NOFILE)[0] != soft:  # the runner's own limit differed: it was changed
        assert "open-file limit fitted" in server.read_log(), server.read_log()[-500:]
    status, _, body = await get(server, "/metrics")
    assert status == 200 and f"process_max_fds {soft}" in body.decode(), body.decode()[-300:]
    # Started with a soft limit far below what 3,000 connections need: raised (up to the hard limit).
    data = tempfile.mkdtemp(prefix="rt-py-nofile-")
    port_file = os.path.join(data, "port")
    cmd = ["bash", "-c", 'ulimit -Sn 256 && exec "$@"', "_", str(BINARY), "serve", "--port", "0",
           "--data-dir", os.path.join(data, "d"), "--port-file", port_file]
    with open(os.path.join(data, "log"), "wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=log, env=dict(os.environ, ROUNDTABLE_TRANSPORT_MAXCONNECTIONS="3000"))
    try:
        deadline = time.time() + 15
        while not (os.path.exists(port_file) and open(port_file).read().strip()):
            assert proc.poll() is None and time.time() < deadline, open(os.path.join(data, "log")).read()
            await asyncio.sleep(0.05)
        soft2, hard2 = nofile_limits(proc.pid)
        assert soft2 == min(hard2, 3000 + 1024), (soft2, hard2)
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(data, ignore_errors=True)


test_open_file_limit_is_fitted_to_max_connections.server_args = {"extra_env": {"ROUNDTABLE_TRANSPORT_MAXCONNECTIONS": "300"}}
