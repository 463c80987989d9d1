#!/usr/bin/env python3
"""The web client against the three-node cluster behind HAProxy (Scripts/tests/cluster_scenario.py's Cluster).

Headless Chromium (Selenium), every page loaded through HAProxy:
- rooms that live on each of the three nodes are joined from `/r/{code}` (one of them spelled in lower case
  with look-alikes, as people type it), and a reload keeps the seat (same member id, nothing retyped);
- a room created from the landing page is routed back to its node on reload;
- a member of a room on a node that is killed (SIGKILL) sees "reconnecting" and keeps the seat (also across a
  reload during the outage); once the node restarts the page resumes the same seat; pages on the other nodes
  stay live throughout.

Prints `cluster browser tests: N passed, M failed` last. Needs a built server (.build/debug/roundtable),
haproxy, and Scripts/tests/browser/deps.sh.
"""
import asyncio
import json
import os
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

import websockets  # noqa: E402

import cluster_scenario as cs  # noqa: E402
import run_browser_tests as bt  # noqa: E402
from run_browser_tests import browser, click, conn_state, el, js, type_into, visible, wait  # noqa: E402

results = []


def run(name, fn, *args):
    bt.log(f"- {name}")
    t0 = time.time()
    try:
        fn(*args)
        results.append((name, True))
        bt.log(f"  passed ({time.time() - t0:.1f}s)")
    except Exception as e:
        results.append((name, False))
        bt.log(f"  FAILED: {e}")
        traceback.print_exc(limit=3)


async def create_rooms(cluster):
    """Creates rooms through HAProxy's /ws until each node holds one: {node: code}."""
    rooms = {}
    for _ in range(12):
        async with websockets.connect(cluster.ws(), open_timeout=5) as ws:
            await ws.send(json.dumps({"type": "room.create", "ref": 1, "title": "Cluster room", "name": "Fay"}))
            ack = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert ack["type"] == "ack", ack
            rooms.setdefault(cs.node_of(ack["room"]), ack["room"])
        if len(rooms) == 3:
            return rooms
    raise AssertionError(f"rooms landed only on {sorted(rooms)}")


def me(d):
    return js(d, "return roundtable.state.you && roundtable.state.you.id")


def joined_live(d, what):
    wait(d, lambda d: visible(d, "#needs") and conn_state(d) == "live", f"{what} live in the room", timeout=30)


class T:
    cluster = None
    base = ""
    rooms = {}
    pages = {}
    ids = {}


def test_join_each_node():
    for node, code in sorted(T.rooms.items()):
        # Node B's code is typed the way people do: lower case, 1 as l (HAProxy must fold it like the server).
        spelled = code.lower().replace("1", "l") if node == "B" else code
        d = browser()
        T.pages[node] = d
        d.get(f"{T.base}/r/{spelled}")
        wait(d, lambda d: el(d, "#join-code").get_attribute("value") == code, f"code {code} prefilled from /r/{spelled}")
        type_into(d, "#join-name", f"Member of {node}")
        click(d, "#join-submit")
        joined_live(d, f"the member of {code}")
        T.ids[node] = me(d)
        assert T.ids[node], "no member id"
        url = js(d, "return roundtable.ws && roundtable.ws.url")
        assert url.endswith(f"/ws/{code}"), f"the page's socket is {url}, not the room's route"


def test_reload_keeps_seat():
    for node, d in sorted(T.pages.items()):
        d.refresh()
        joined_live(d, f"node {node}'s page after a reload")
        assert not visible(d, "#join-form"), "the join form came back after a reload"
        assert me(d) == T.ids[node], f"member id changed on reload: {T.ids[node]} -> {me(d)}"


def test_create_from_landing_page():
    d = browser()
    d.get(T.base + "/")
    type_into(d, "#create-title", "Made through HAProxy")
    type_into(d, "#create-name", "Fay")
    click(d, "#create-submit")
    code = wait(d, lambda d: visible(d, ".room-code") and el(d, ".room-code").text.strip(), "room code")
    wait(d, lambda d: visible(d, "#tab-console") and conn_state(d) == "live", "facilitator console live")
    fid = me(d)
    for _ in range(2):  # the second reload proves the route is stable, not a lucky round robin
        d.refresh()
        wait(d, lambda d: visible(d, "#tab-console") and conn_state(d) == "live", f"facilitator of {code} back after reload", timeout=30)
        assert me(d) == fid, (fid, me(d))
    d.quit()
    bt.BROWSERS.remove(d)


def test_node_outage_and_restart():
    d = T.pages["B"]
    code = T.rooms["B"]
    T.cluster.kill("B")
    wait(d, lambda d: conn_state(d) == "reconnecting", "the member of the dead node's room to see reconnecting", timeout=20)
    assert "Reconnecting" in el(d, "#conn-text").text, el(d, "#conn-text").text
    bt.shot(d, "cluster-member-reconnecting")
    # Several failed attempts later (503 handshakes), the seat is still held: no join form, token kept.
    time.sleep(5)
    assert conn_state(d) == "reconnecting", conn_state(d)
    assert not visible(d, "#join-form"), "the page gave up the seat during the outage"
    assert js(d, f"return !!localStorage.getItem('roundtable:{code}')"), "the stored seat was forgotten"
    # A reload during the outage keeps waiting for the room instead of forgetting it.
    d.refresh()
    wait(d, lambda d: visible(d, ".loading") and "Rejoining" in el(d, ".loading").text, "Rejoining… after a reload in the outage")
    time.sleep(3)
    assert conn_state(d) == "reconnecting", conn_state(d)
    assert js(d, f"return !!localStorage.getItem('roundtable:{code}')"), "the stored seat was forgotten after the reload"
    for node in ("A", "C"):
        assert conn_state(T.pages[node]) == "live", f"node {node}'s page is {conn_state(T.pages[node])}"
    T.cluster.start_node("B")
    joined_live(d, "the member after node B restarted")
    assert me(d) == T.ids["B"], f"seat changed across the outage: {T.ids['B']} -> {me(d)}"
    assert not visible(d, "#join-form")
    # The resumed seat works: submit a need.
    type_into(d, "#need-text", "Back after the outage")
    click(d, "#need-submit")
    wait(d, lambda d: "Back after the outage" in bt.ranked_texts(d), "the need after the restart")


def main():
    if not bt.chromium_binary() or not bt.driver_binary():
        bt.log("chromium or chromedriver missing: run Scripts/tests/browser/deps.sh")
        bt.log("cluster browser tests: 0 passed, 1 failed")
        return 1
    T.cluster = cs.Cluster()
    try:
        T.cluster.start()
        T.base = f"http://127.0.0.1:{T.cluster.front}"
        T.rooms = asyncio.run(create_rooms(T.cluster))
        bt.log(f"cluster behind {T.base}; rooms {T.rooms}")
        run("join rooms on each of the three nodes from /r/{code}", test_join_each_node)
        if all(ok for _, ok in results):
            run("reload keeps the seat on every node", test_reload_keeps_seat)
            run("a room created from the landing page is routed back to its node", test_create_from_landing_page)
            run("node killed: its members see reconnecting, then resume the same seat", test_node_outage_and_restart)
    except Exception as e:
        results.append(("setup", False))
        bt.log(f"setup FAILED: {e!r}")
        traceback.print_exc()
    finally:
        for d in bt.BROWSERS:
            try:
                d.quit()
            except Exception:
                pass
        if not all(ok for _, ok in results):
            for name in sorted(os.listdir(T.cluster.dir)) if os.path.isdir(T.cluster.dir) else []:
                if name.endswith(".log"):
                    bt.log(f"--- {name} ---\n" + open(os.path.join(T.cluster.dir, name), errors="replace").read()[-1500:])
        T.cluster.stop()
    passed = sum(1 for _, ok in results if ok)
    bt.log(f"cluster browser tests: {passed} passed, {len(results) - passed} failed")
    return 0 if results and passed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
