#!/usr/bin/env python3
"""Browser tests of partner calls (web/call.js): headless Chromium with fake camera and microphone
(`--use-fake-device-for-media-stream --use-fake-ui-for-media-stream`), a real Roundtable server and a
real coturn on loopback (Scripts/coturn.sh).

1. A trio: three members' RTCPeerConnections all reach "connected" (three-way mesh) and inbound RTP
   bytes grow on every leg (getStats).
2. A new round (interviews.next) with a fourth member: the trio's calls end (`call.ended`), the new
   pairs connect, media flows; over a 10 s call the server's TCP bytes stay at signaling size (no media
   crosses it), measured with `ss -ti` on its port; signaling bytes per call from the page.
3. A `ready` crossing an offer in flight (forced): the first connection's answer does not land on the
   second, and the pair connects.
4. Relay only (iceTransportPolicy "relay"): a pair connects through coturn (selected candidates of
   type relay on both ends) and media flows.
5. The relay fails and returns (coturn stopped and started: every relayed path dies, as in a network
   change): the offerer restarts ICE and the same peer connections reconnect, media flows again.
6. Media refused: the page says so in plain language and offers the meeting link.

Prints `call browser tests: N passed, M failed` and exits non-zero on any failure.
"""
import json
import os
import pathlib
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from run_browser_tests import (BINARY, FRAMES, ROOT, Server, check_wire, chromium_binary, click, conn_state,  # noqa: E402
                               driver_binary, el, js, log, type_into, visible, wait)
import contract  # noqa: E402  (on the path run_browser_tests sets up)
from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402

BROWSERS = []
results = []


def browser(fake_media=True, deny=False):
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium_binary()
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1100,900",
              "--no-first-run", "--disable-extensions", "--autoplay-policy=no-user-gesture-required"):
        opts.add_argument(a)
    if fake_media:
        opts.add_argument("--use-fake-device-for-media-stream")
        if not deny:
            opts.add_argument("--use-fake-ui-for-media-stream")
    if deny:
        # Chromium's own setting: camera and microphone blocked, as when a member says no.
        opts.add_experimental_option("prefs", {"profile.default_content_setting_values.media_stream_camera": 2,
                                               "profile.default_content_setting_values.media_stream_mic": 2})
    # The performance log carries the DevTools Network events: every WebSocket frame is checked against docs/schema.
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    d = webdriver.Chrome(service=Service(driver_binary()), options=opts)
    quit_ = d.quit

    def quit():  # check the frames still in the log before the browser goes
        check_wire(d)
        quit_()
    d.quit = quit
    d.set_page_load_timeout(20)
    d.set_script_timeout(20)
    BROWSERS.append(d)
    return d


def quit_all(ds):
    for d in ds:
        try:
            d.quit()
        except Exception:
            pass
        if d in BROWSERS:
            BROWSERS.remove(d)


def run(name, fn, *args):
    log(f"- {name}")
    t0 = time.time()
    seen = len(contract.VIOLATIONS)
    try:
        fn(*args)
        for d in list(BROWSERS):
            check_wire(d)
        if len(contract.VIOLATIONS) > seen:
            raise AssertionError("WebSocket frames outside docs/schema:\n" + "\n".join(contract.VIOLATIONS[seen:]))
        results.append((name, "passed"))
        log(f"  passed ({time.time() - t0:.1f}s)")
        return True
    except Exception as e:
        results.append((name, "failed"))
        log(f"  FAILED: {e}")
        traceback.print_exc(limit=4)
        return False


def call_state(d):
    return js(d, "return window.__call ? window.__call.state() : null")


def call_stats(d):
    return d.execute_async_script(
        "const done = arguments[arguments.length - 1]; window.__call.stats().then(done, (e) => done({error: String(e)}))")


def me(d):
    return js(d, "return roundtable.me")


def create_room(base, title):
    f = browser(fake_media=False)
    f.get(base + "/")
    type_into(f, "#create-title", title)
    type_into(f, "#create-name", "Fay Facilitator")
    type_into(f, "#create-org", "TTA Center")
    click(f, "#create-submit")
    code = wait(f, lambda d: visible(d, ".room-code") and el(d, ".room-code").text.strip(), "room code")
    wait(f, lambda d: conn_state(d) == "live", "facilitator live")
    return f, code


def join_member(base, code, name, org, **kw):
    d = browser(**kw)
    d.get(f"{base}/r/{code}")
    type_into(d, "#join-name", name)
    type_into(d, "#join-org", org)
    click(d, "#join-submit")
    wait(d, lambda d: conn_state(d) == "live", f"{name} live")
    return d


def request(d, type_, fields=None):
    return d.execute_async_script("""
        const done = arguments[arguments.length - 1];
        roundtable.request(arguments[0], arguments[1] || {}).then((a) => done(a), (e) => done({error: e.code, message: e.message}));
    """, type_, fields or {})


def wait_connected(d, partners, what, timeout=40):
    def ok(d):
        s = call_state(d)
        return s and s["overall"] == "connected" and sorted(int(k) for k in s["peers"]) == sorted(partners) and s
    try:
        return wait(d, ok, what, timeout=timeout)
    except AssertionError as e:
        # What every page saw: which leg is stuck, and the page's own warnings (offer/answer/ICE errors).
        for b in BROWSERS:
            try:
                log(f"  member {me(b)}: {call_state(b)}")
                for entry in b.get_log("browser")[-15:]:
                    log(f"    console: {entry.get('message', '')[:300]}")
            except Exception as x:  # a page that is gone says so instead of hiding the first failure
                log(f"  (no state from a page: {x})")
        raise e


def media_flows(ds, what):
    """Inbound RTP bytes grow on every leg of every page over ~2 s."""
    first = {id(d): call_stats(d) for d in ds}
    time.sleep(2)
    for d in ds:
        later = call_stats(d)
        assert "error" not in later, later
        for peer, s in later.items():
            before = first[id(d)].get(peer, {}).get("bytesReceived", 0)
            assert s["bytesReceived"] > before + 1000, f"{what}: member {me(d)} from {peer}: {before} -> {s['bytesReceived']} bytes"
    return later


def partners_of(d):
    return sorted(p["id"] for p in js(d, "return roundtable.state.interviews.yourPair.partners"))


def server_tcp_bytes(port):
    """Per connection of the server's port: (bytes sent, bytes received), from the kernel's tcp_info (`ss -ti`)."""
    out = subprocess.run(["ss", "-tinH", "state", "established", f"( sport = :{port} )"], capture_output=True, text=True).stdout
    conns, key = {}, None
    for line in out.splitlines():
        if not line.startswith((" ", "\t")):
            key = " ".join(line.split()[-2:])  # local and peer address
        else:
            sent = re.search(r"bytes_sent:(\d+)", line)
            received = re.search(r"bytes_received:(\d+)", line)
            conns[key] = (int(sent.group(1)) if sent else 0, int(received.group(1)) if received else 0)
    return conns


def traffic(before, after):
    """Bytes sent and received between two samples by the connections open at both."""
    both = before.keys() & after.keys()
    return (sum(after[k][0] - before[k][0] for k in both), sum(after[k][1] - before[k][1] for k in both), len(both))


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class T:
    server = None
    base = ""
    fac = None
    code = ""
    members = []
    measures = {}


def test_trio_connects_three_ways():
    T.fac, T.code = create_room(T.base, "Calls")
    T.members = [join_member(T.base, T.code, n, o) for n, o in (("Ann", "Food Bank"), ("Ben", "Clinic"), ("Cleo", "Library"))]
    ack = request(T.fac, "interviews.start", {"turnSeconds": 600, "reportSeconds": 60, "partnerGraceSeconds": 600,
                                              "lateJoinGraceSeconds": 3600, "linkTemplate": "https://meet.example.org/{room}-{round}-{pair}"})
    assert ack.get("round") == 1, ack
    for d in T.members:
        wait(d, lambda d: visible(d, "#call-join"), "the call panel's join button")
    cpu0 = cpu_seconds(T.server.proc.pid)
    t0 = time.time()
    for d in T.members:
        click(d, "#call-join")
    ids = [me(d) for d in T.members]
    for d in T.members:
        wait_connected(d, [i for i in ids if i != me(d)], f"{me(d)} connected to both partners")
    T.measures["trio_setup_s"] = time.time() - t0
    T.measures["trio_cpu_s"] = cpu_seconds(T.server.proc.pid) - cpu0
    T.measures["trio_signal_bytes"] = [js(d, "return window.__call.signalBytes") for d in T.members]
    media_flows(T.members, "trio")
    # The setup has to be clean, not just end connected: a page error (a connection made before the camera
    # was ready) or a signal the server dropped (ICE candidates over calls.signalBurst) made this trio fail
    # about one run in six before call.js waited for its camera and paced its signals.
    for d in T.members:
        bad = [e["message"] for e in d.get_log("browser") if "Uncaught" in e.get("message", "") or "rate_limited" in e.get("message", "")]
        assert not bad, f"member {me(d)}: {bad[:3]}"


def test_new_round_tears_down_and_sets_up_new_pairs():
    dan = join_member(T.base, T.code, "Dan", "School District")
    T.members.append(dan)
    wait(dan, lambda d: "waiting for a partner" in el(d, "#interview").text, "Dan waits for a partner")
    ack = request(T.fac, "interviews.next")
    assert ack.get("round") == 2, ack
    for d in T.members[:3]:
        wait(d, lambda d: call_state(d)["round"] == 2, "round 2 reached the page")
    wait(dan, lambda d: visible(d, "#call-join"), "Dan's join button")
    cpu0 = cpu_seconds(T.server.proc.pid)
    click(dan, "#call-join")  # the others rejoin by themselves: they were in a call
    for d in T.members:
        wait_connected(d, partners_of(d), f"{me(d)} connected to the new partner in round 2")
        s = call_state(d)
        assert s["round"] == 2 and len(s["peers"]) == 1, s
    T.measures["round2_cpu_s"] = cpu_seconds(T.server.proc.pid) - cpu0
    T.measures["round2_signal_bytes"] = [js(d, "return window.__call.signalBytes") for d in T.members]
    media_flows(T.members, "round 2 pairs")
    # No media through the server: its TCP traffic over a 10 s call stays at signaling size.
    tcp0 = server_tcp_bytes(T.server.port)
    stats0 = {id(d): call_stats(d) for d in T.members}
    time.sleep(10)
    sent, received, n = traffic(tcp0, server_tcp_bytes(T.server.port))
    media = sum(sum(v["bytesReceived"] for v in call_stats(d).values()) - sum(v["bytesReceived"] for v in stats0[id(d)].values())
                for d in T.members)
    T.measures["server_bytes_10s"] = {"sent": sent, "received": received, "connections": n}
    T.measures["media_bytes_10s"] = media
    assert n >= 5, f"the server's WebSocket connections were not all seen: {n}"
    assert media > 200_000, f"media between the pages in 10 s: {media} bytes"
    assert sent + received < 20_000, f"server TCP bytes in 10 s: sent {sent}, received {received}"
    # The measure sees traffic when there is some: one request and its reply show up.
    tcp1 = server_tcp_bytes(T.server.port)
    request(T.fac, "call.ice")
    time.sleep(0.3)
    s2, r2, _ = traffic(tcp1, server_tcp_bytes(T.server.port))
    assert s2 > 50 and r2 > 20, f"the byte counters did not see a request: sent {s2}, received {r2}"
    T.measures["one_request_bytes"] = {"sent": s2, "received": r2}


def test_ready_crossing_an_offer_does_not_break_the_call():
    """A `ready` that crosses the offer already on its way (both partners joined at once: the race that
    failed CI once) makes the offerer open a second connection while the first one's answer is still
    travelling. That stale answer must not land on the second connection (before `session`, it did: the
    second answer then failed with "wrong state: stable" and the pair never connected). Forced here: the
    answerer's page sends a `ready` just before its first answer, and holds that answer (and all
    that follows it) back 0.5 s, so the stale answer reaches the offerer after its second offer left."""
    offerer = min(T.members, key=me)  # the lowest id offers to its partner
    answerer = next(d for d in T.members if me(d) == partners_of(offerer)[0])
    made_before = js(offerer, "return Math.max(0, ...Object.values(window.__call.state().peers).map((p) => p.session))")
    for d in (offerer, answerer):
        click(d, "#call-leave")
        wait(d, lambda d: not call_state(d)["joined"], "left the call")
    # The answerer's signals leave in order through a chain: the first answer goes 0.5 s after a ready, and
    # everything after it (the answer to the second offer included) waits behind it, as on a slow path.
    js(answerer, """
        const orig = roundtable.request.bind(roundtable);
        let armed = true;
        let chain = Promise.resolve();
        roundtable.request = (type, fields) => {
          if (type !== 'call.signal') return orig(type, fields);
          const go = async () => {
            if (armed && fields.signal.kind === 'answer') {
              armed = false;
              await orig('call.signal', {to: fields.to, signal: {kind: 'ready'}});
              await new Promise((r) => setTimeout(r, 500));
            }
            return orig(type, fields);
          };
          const sent = chain.then(go, go);
          chain = sent.catch(() => {});
          return sent;
        };""")
    offerer.get_log("browser")  # drop what the console said before
    click(answerer, "#call-join")  # no offer yet: says ready, which waits for the offerer to join
    click(offerer, "#call-join")  # offers; the answerer's ready then crosses it
    wait_connected(offerer, [me(answerer)], f"{me(offerer)} connected after the crossing", timeout=40)
    wait_connected(answerer, [me(offerer)], f"{me(answerer)} connected after the crossing", timeout=40)
    made = call_state(offerer)["peers"][str(me(answerer))]["session"]
    assert made >= made_before + 2, f"the crossing did not happen (the offerer made {made - made_before} connection(s))"
    bad = [e["message"] for e in offerer.get_log("browser") if "call signal" in e.get("message", "")]
    assert not bad, f"the offerer applied a signal of a replaced connection: {bad[:2]}"
    media_flows([offerer, answerer], "after the crossing")


def test_relay_only_through_coturn():
    # Everyone leaves the call, ticks "hide my network address", and joins again: relay candidates only.
    for d in T.members:
        click(d, "#call-leave")
        click(d, "#call-relay-only")
        assert el(d, "#call-relay-only").is_selected()
    for d in T.members:
        click(d, "#call-join")
    for d in T.members:
        wait_connected(d, partners_of(d), f"{me(d)} connected through the relay")
    for d in T.members:
        for peer, s in call_stats(d).items():
            assert s["local"] == "relay" and s["remote"] == "relay", (me(d), peer, s)
        videos = js(d, "return [...document.querySelectorAll('#call-grid video')].map((v) => !!v.srcObject)")
        assert videos == [True, True], f"local preview and the partner's video: {videos} " + js(d, "return document.querySelector('#call-grid').outerHTML.slice(0, 600) + document.querySelectorAll('#call-grid').length")
    media_flows(T.members, "relay only")
    log = pathlib.Path(T.turn_dir, "turnserver.log")
    logs = "".join(p.read_text(errors="replace") for p in pathlib.Path(T.turn_dir).glob("turnserver*.log"))
    assert "allocation" in logs.lower() or "session" in logs.lower(), f"coturn log shows no session ({log})"


def test_relay_outage_recovers_by_ice_restart():
    """The relay goes away (coturn stopped: every relayed path dies, like a network change) and comes back:
    the offerer restarts ICE and the pairs connect again without anyone clicking."""
    sessions = {me(d): {k: v["session"] for k, v in call_state(d)["peers"].items()} for d in T.members}
    subprocess.run(T.coturn + ["stop", "--dir", T.turn_dir], timeout=30, check=True)
    for d in T.members:
        wait(d, lambda d: call_state(d)["overall"] != "connected", f"{me(d)} notices the lost path", timeout=40)
    subprocess.run(T.coturn + ["start", "--dir", T.turn_dir, "--port", str(T.turn_port), "--relay-ports", T.relay],
                   check=True, env=dict(os.environ, ROUNDTABLE_CALLS_TURNSECRET=T.secret), timeout=30, capture_output=True)
    for d in T.members:
        wait_connected(d, partners_of(d), f"{me(d)} reconnected through the restarted relay", timeout=90)
    after = {me(d): {k: v["session"] for k, v in call_state(d)["peers"].items()} for d in T.members}
    T.measures["ice_restart_same_connections"] = after == sessions
    assert after == sessions, f"reconnected on new peer connections, not by ICE restart: {sessions} -> {after}"
    media_flows(T.members, "after the ICE restart")


def test_refused_media_falls_back_to_the_meeting_link():
    quit_all(T.members[2:])  # Ann and Ben stay; a new member who refuses camera and microphone joins
    ed = join_member(T.base, T.code, "Eve", "Housing", deny=True)
    ack = request(T.fac, "interviews.next")
    assert ack.get("round") == 3, ack
    wait(ed, lambda d: visible(d, "#call-join"), "Eve's join button", timeout=30)
    click(ed, "#call-join")
    p = wait(ed, lambda d: visible(d, "#call-problem"), "the plain-language problem")
    assert "did not allow the camera and microphone" in p.text, p.text
    link = visible(ed, "#call-fallback-link").get_attribute("href")
    assert link.startswith("https://meet.example.org/"), link
    assert not call_state(ed)["joined"]


def main():
    if not BINARY.exists() or not chromium_binary() or not driver_binary() or not shutil.which("turnserver"):
        log("missing the server binary, chromium, chromedriver or turnserver (Scripts/deps.sh --test, browser/deps.sh)")
        log("call browser tests: 0 passed, 1 failed")
        return 1
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="roundtable-calls-"))
    (tmp / "data").mkdir()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    turn_port = s.getsockname()[1]
    s.close()
    secret = secrets.token_hex(16)
    T.turn_dir = str(tmp / "coturn")
    relay = f"{40000 + turn_port % 20000}-{40000 + turn_port % 20000 + 40}"
    env = {"ROUNDTABLE_CALLS_TURNSECRET": secret, "ROUNDTABLE_CALLS_TURNURLS": f'["turn:127.0.0.1:{turn_port}?transport=udp"]',
           "ROUNDTABLE_CALLS_STUNURLS": f'["stun:127.0.0.1:{turn_port}"]'}
    coturn = ["bash", str(ROOT / "Scripts/coturn.sh")]
    T.coturn, T.turn_port, T.relay, T.secret = coturn, turn_port, relay, secret
    T.server = Server(tmp / "data", tmp / "server.log", env=env)
    code = 1
    try:
        subprocess.run(coturn + ["start", "--dir", T.turn_dir, "--port", str(turn_port), "--relay-ports", relay],
                       check=True, env=dict(os.environ, ROUNDTABLE_CALLS_TURNSECRET=secret), timeout=30, capture_output=True)
        T.server.start(port=0)
        T.base = f"http://127.0.0.1:{T.server.port}"
        log(f"server on {T.base}, coturn on 127.0.0.1:{turn_port}")
        ok = run("a trio connects three ways and media flows", test_trio_connects_three_ways)
        ok = ok and run("interviews.next ends the calls; new pairs connect; the server carries no media", test_new_round_tears_down_and_sets_up_new_pairs)
        ok = ok and run("a ready crossing an offer: the stale answer is dropped, the call connects", test_ready_crossing_an_offer_does_not_break_the_call)
        ok = ok and run("relay only: pairs connect through coturn", test_relay_only_through_coturn)
        ok = ok and run("the relay fails and returns: ICE restart reconnects", test_relay_outage_recovers_by_ice_restart)
        run("media refused: plain words and the meeting link", test_refused_media_falls_back_to_the_meeting_link)
        log("measures: " + json.dumps(T.measures))
        for d in list(BROWSERS):
            check_wire(d)
        log(f"WebSocket frames checked against docs/schema: {FRAMES[0]}")
        if FRAMES[0] < 100:
            results.append(("WebSocket frames captured for the schema check", "failed"))
        code = 0
    except Exception as e:
        results.append(("setup", "failed"))
        log(f"setup FAILED: {e}")
        traceback.print_exc()
    finally:
        quit_all(list(BROWSERS))
        T.server.stop()
        T.server.kill()
        subprocess.run(coturn + ["stop", "--dir", T.turn_dir], timeout=30)
        if any(st == "failed" for _, st in results):
            log(f"kept for inspection: {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    passed = sum(1 for _, st in results if st == "passed")
    failed = sum(1 for _, st in results if st == "failed")
    log(f"call browser tests: {passed} passed, {failed} failed")
    return 1 if failed or code else 0


if __name__ == "__main__":
    sys.exit(main())
