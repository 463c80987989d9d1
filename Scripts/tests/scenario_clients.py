"""The second client (clients/python, stdlib only) against the real server: the ranking bot example joins
as an observer and, when a ranking poll over needs closes, writes and POSTs the ranked needs; they must
equal the needs.ranking members see. Also the HTTP bodies (docs/schema/http.json) of /healthz, /readyz
and report.json, and the client's own error handling."""
import asyncio
import http.server
import json
import pathlib
import subprocess
import sys
import threading
import urllib.request

from contract import contract
from rt import create_room, join

ROOT = pathlib.Path(__file__).resolve().parents[2]
BOT = ROOT / "clients/python/examples/ranking_bot.py"
sys.path.insert(0, str(ROOT / "clients/python"))
import roundtable_client  # noqa: E402


class Hook(http.server.BaseHTTPRequestHandler):
    received = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Hook.received.append((self.headers["Content-Type"], json.loads(body)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *a):
        pass


async def wait_for(pred, what, timeout=10):
    for _ in range(int(timeout / 0.05)):
        if pred():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def test_ranking_bot_posts_the_ranked_needs_when_a_poll_closes(server, tmp_path=None):
    fac, created, _ = await create_room(server, title="Needs")
    code = created["room"]
    ann, ann_ack, _ = await join(server, code, "Ann", "Food Bank")
    ben, ben_ack, _ = await join(server, code, "Ben", "Clinic")
    ann.member_id, ben.member_id = ann_ack["member"], ben_ack["member"]
    for c, text in [(ann, "Grant writing"), (ben, "Volunteer retention"), (ann, "Board recruitment")]:
        assert (await c.request("need.submit", text=text))["type"] == "ack"

    hook = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    Hook.received = []
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    out = pathlib.Path(server.data) / "ranked.jsonl"
    bot = subprocess.Popen([sys.executable, str(BOT), "--url", server.url(), "--room", code.lower(), "--polls", "1",
                            "--output", str(out), "--webhook", f"http://127.0.0.1:{hook.server_port}/hook"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        # The bot is in the room as an observer before the poll opens.
        joined = await fac.expect("member.joined", timeout=10)
        while joined["member"]["id"] in (ann.member_id, ben.member_id):  # Ann's and Ben's joins come first
            joined = await fac.expect("member.joined", timeout=10)
        assert joined["member"]["role"] == "observer" and joined["member"]["name"] == "Ranking bot", joined
        poll = (await fac.request("poll.create", question="Rank the needs", kind="ranking", overNeeds=True, open=True))["poll"]
        opened = await ann.expect("poll.opened")
        ids = {o["label"]: o["id"] for o in opened["poll"]["options"]}
        await ben.expect("poll.opened")
        for c, order in [(ann, ["Volunteer retention", "Grant writing", "Board recruitment"]),
                         (ben, ["Volunteer retention", "Board recruitment", "Grant writing"])]:
            assert (await c.request("vote.cast", poll=poll, ranking=[ids[t] for t in order]))["type"] == "ack"
        assert (await fac.request("poll.close", poll=poll))["type"] == "ack"
        final = await ann.expect("needs.ranking", timeout=5)
        while True:  # the last ranking after the close
            try:
                final = await ann.expect("needs.ranking", timeout=1)
            except (AssertionError, asyncio.TimeoutError):
                break
        await wait_for(lambda: bot.poll() is not None, "the bot to exit after one closed poll", 15)
        log = bot.stdout.read()
        assert bot.returncode == 0, log
        lines = out.read_text().splitlines()
        assert len(lines) == 1, lines
        posted = json.loads(lines[0])
        want = [(n["rank"], n["need"], n["text"]) for n in final["needs"]]
        got = [(n["rank"], n["need"], n["text"]) for n in posted["needs"]]
        assert posted["room"] == code and posted["poll"] == poll and posted["question"] == "Rank the needs", posted
        assert got == want and got[0][2] == "Volunteer retention", (got, want)
        await wait_for(lambda: Hook.received, "the webhook POST")
        assert Hook.received == [("application/json", posted)], Hook.received
        assert " 1. Volunteer retention" in log, log
    finally:
        if bot.poll() is None:
            bot.kill()
            bot.wait()
        hook.shutdown()


async def test_python_client_requests_errors_and_http_bodies(server):
    c = contract()
    rt = await asyncio.to_thread(roundtable_client.RoundtableClient, server.url())
    try:
        ack = await asyncio.to_thread(rt.create, "From Python", "Py")
        assert not c.check_server(ack, "room.create"), c.check_server(ack, "room.create")
        state = await asyncio.to_thread(rt.next, 5)
        assert state["type"] == "room.state" and not c.check_server(state), state
        try:
            await asyncio.to_thread(rt.request, "vote.cast", poll=99, option=1)
            raise AssertionError("vote.cast on a missing poll was accepted")
        except roundtable_client.RoundtableError as e:
            assert e.code == "poll_not_found" and not c.check_server(e.reply), e.reply
        big = "x" * 70000  # over maxFrameBytes: the server closes with 1009, the client reports it
        try:
            await asyncio.to_thread(rt.request, "need.submit", text=big)
            raise AssertionError("a 70 kB frame was answered")
        except roundtable_client.ConnectionClosed as e:
            assert e.code == 1009, e.code
        base = f"http://127.0.0.1:{server.port}"
        for path, name in [("/healthz", "health"), ("/readyz", "ready")]:
            body = json.loads(urllib.request.urlopen(base + path, timeout=5).read())
            assert not c.errors("http", name, body), (path, body)
        req = urllib.request.Request(f"{base}/rooms/{ack['room']}/report.json", headers={"Authorization": f"Bearer {ack['facilitatorKey']}"})
        report = json.loads(urllib.request.urlopen(req, timeout=5).read())
        assert not c.errors("http", "report", report), c.errors("http", "report", report)
        try:
            urllib.request.urlopen(f"{base}/rooms/{ack['room']}/report.json", timeout=5)
            raise AssertionError("report without a key")
        except urllib.error.HTTPError as e:
            body = json.loads(e.read())
            assert e.code == 401 and body["error"] == "unauthorized" and not c.errors("http", "error", body), body
    finally:
        rt.close()
