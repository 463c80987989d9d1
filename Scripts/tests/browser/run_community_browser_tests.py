#!/usr/bin/env python3
"""Browser test of the community page (web/community.html) and community sessions, in headless Chromium.

A facilitator creates a community on /community.html and keeps the facilitator link shown once; imports a
roster by pasting CSV and by a file, gets each new member's personal link, exports the roster CSV and
reissues a member's link (the old one stops working). Members open their personal links (the key leaves
the address bar), find each other in the directory by tag, edit their profile and leave and rejoin the
directory. The facilitator opens a session from the page (landing in the console), members join it from
their links and see their carried-over profile; the console's "Poll the backlog" ranks the needs. After a
second session ranked them again, every backlog need shows a trend chart with two points that agrees with
the server's community report, "who can help" lists the members whose expertise matches, and a need's
status set on the page reaches the report; an interview highlight accepted in a session is on the member's
community profile and found in the directory; standing groups edited on the page own a need. The server closes
connections outside a room after 3 s (transport.joinTimeoutSeconds), and the pages stay open longer. Every WebSocket frame is checked against docs/schema; axe finds
no serious or critical violation; screenshots (1366x768 and phone) go to build-artifacts/screenshots-community/.

Prints `community browser tests: N passed, M failed` last; exits non-zero on any failure.
Setup: Scripts/tests/browser/deps.sh.
"""
import json
import pathlib
import re
import sys
import time
import urllib.request

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import run_browser_tests as B  # noqa: E402  (shared server, browser and wait helpers)
from run_browser_tests import By, Keys, browser, click, el, js, type_into, visible, wait  # noqa: E402
from suite import axe_check, run_suite  # noqa: E402
from selenium.webdriver.support.ui import Select  # noqa: E402

B.SHOTS = B.ROOT / "build-artifacts/screenshots-community"
results = []
NAME = "Rural health peer network"
ROSTER = ("name,organization,expertise,group,email\n"
          "Ana Ruiz,Valley Clinic,grants;data,East,ana@example.org\n"
          "Ben Okafor,Hill County Health,volunteers,West,ben@example.org\n"
          "Cy Diaz,River Food Bank,grants;evaluation,East,cy@example.org\n")
ROSTER_FILE = "name,organization,expertise\nDee Park,Library Friends,volunteers;youth\n"
HIGHLIGHT = "Her grant template saved our clinic a month of work"
# The server closes a connection that joins no room after this long; the community page joins none, so its
# requests must keep working on a page left open longer (the test idles past it before acting).
JOIN_TIMEOUT = 3


class S:
    base = ""
    tmp = None
    cid = ""
    fkey = ""
    links = {}
    fac = None
    ana = None
    ben = None
    rooms = []



def report():
    """The server's own account of the community: GET /communities/{id}/report.json with the facilitator key."""
    req = urllib.request.Request(f"{S.base}/communities/{S.cid}/report.json", headers={"Authorization": f"Bearer {S.fkey}"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def viewport_shot(d, name):
    B.SHOTS.mkdir(parents=True, exist_ok=True)
    path = B.SHOTS / f"{name}.png"
    js(d, "window.scrollTo(0, 0); document.activeElement && document.activeElement.blur && document.activeElement.blur()")
    time.sleep(0.5)
    d.save_screenshot(str(path))
    B.log(f"  screenshot {path.relative_to(B.ROOT)}")


def texts(d, css):
    return js(d, "return [...document.querySelectorAll(arguments[0])].map(e => e.textContent.trim())", css)


def community_page(d):
    d.get(f"{S.base}/community.html?c={S.cid}")
    wait(d, lambda d: visible(d, "#community-name") and el(d, "#community-name").text == NAME, "the community page")


def search(d, tag):
    type_into(d, "#dir-tag", tag)
    click(d, "#dir-search")


def found(d, names):
    return wait(d, lambda d: texts(d, "#dir-results .person-name") == names, f"directory shows {names} (got {texts(d, '#dir-results .person-name')})")


# ---------------------------------------------------------------- tests

def test_create_community():
    S.fac = browser(1366, 768)
    S.fac.get(S.base + "/community.html")
    wait(S.fac, lambda d: visible(d, "#create-community-form"), "the create form")
    axe_check(S.fac, "create a community")
    type_into(S.fac, "#community-name-input", NAME)
    click(S.fac, "#create-community")
    link = wait(S.fac, lambda d: (lambda v: v if v and "#f=" in v else None)(visible(d, "#facilitator-link-input") and el(d, "#facilitator-link-input").get_attribute("value")), "the facilitator link")
    m = re.fullmatch(re.escape(S.base) + r"/community\.html\?c=(C[0-9A-Z]{9})#f=([0-9A-Za-z_-]+)", link)
    assert m, link
    S.cid, S.fkey = m.group(1), m.group(2)
    r = report()  # the key on the page is the server's: it opens the community's report
    assert r["community"]["id"] == S.cid and r["community"]["name"] == NAME and r["community"]["members"] == 0, r["community"]
    click(S.fac, "#open-community")
    wait(S.fac, lambda d: visible(d, "#community-name") and el(d, "#community-name").text == NAME, "the facilitator's community page")
    assert el(S.fac, "#community-role").text == "Facilitator"
    assert json.loads(js(S.fac, f"return localStorage.getItem('roundtable:community:{S.cid}')"))["facilitatorKey"] == S.fkey
    assert "No session is open" in el(S.fac, "#no-session").text


def new_links(d):
    return js(d, "return [...document.querySelectorAll('#new-links li')].map(li => [li.querySelector('strong').textContent, li.querySelector('input') ? li.querySelector('input').value : null, li.textContent])")


def test_import_roster():
    f = S.fac
    type_into(f, "#roster-csv", ROSTER)
    click(f, "#roster-import")
    rows = wait(f, lambda d: (lambda r: r if len(r) == 3 else None)(new_links(d)), "three new members with links")
    for name, link, _ in rows:
        assert link and link.startswith(f"{S.base}/community.html?c={S.cid}#k="), (name, link)
        S.links[name] = link
    assert sorted(S.links) == ["Ana Ruiz", "Ben Okafor", "Cy Diaz"], S.links
    assert len(set(S.links.values())) == 3
    assert "shown only this once" in el(f, "#import-results").text
    # The same roster again changes nobody's key: they are already on it.
    # (An import row updates the profile: the row repeats Ana's expertise to keep it.)
    type_into(f, "#roster-csv", "name,organization,expertise,group\nAna Ruiz,Valley Clinic,grants;data,East\n")
    click(f, "#roster-import")
    wait(f, lambda d: [r[1] for r in new_links(d)] == [None] and "already on the roster" in new_links(d)[0][2], "an existing member keeps their link")
    # A file chosen with the file input.
    path = S.tmp / "more.csv"
    path.write_text(ROSTER_FILE)
    f.find_element(By.CSS_SELECTOR, "#roster-file").send_keys(str(path))
    wait(f, lambda d: "Dee Park" in el(d, "#roster-csv").get_attribute("value"), "the file read into the form")
    click(f, "#roster-import")
    rows = wait(f, lambda d: (lambda r: r if len(r) == 1 and r[0][0] == "Dee Park" and r[0][1] else None)(new_links(d)), "Dee's link")
    S.links["Dee Park"] = rows[0][1]
    wait(f, lambda d: sorted(texts(d, "#roster-table tbody th")) == ["Ana Ruiz", "Ben Okafor", "Cy Diaz", "Dee Park"], "the roster table")
    # The filter: by organization, and by expertise tag.
    type_into(f, "#roster-filter", "hill county")
    wait(f, lambda d: texts(d, "#roster-table tbody th") == ["Ben Okafor"], "the roster filtered by organization")
    type_into(f, "#roster-filter", "grants")
    wait(f, lambda d: texts(d, "#roster-table tbody th") == ["Ana Ruiz", "Cy Diaz"], "the roster filtered by tag")
    assert el(f, "#roster-count").text == "2 of 4 members match “grants”.", el(f, "#roster-count").text
    el(f, "#roster-filter").clear()
    js(f, "document.getElementById('roster-filter').dispatchEvent(new Event('input'))")
    wait(f, lambda d: len(texts(d, "#roster-table tbody th")) == 4, "the whole roster again")
    r = report()
    assert r["community"]["members"] == 4, r["community"]
    assert {e["tag"]: e["members"] for e in r["expertise"]}["grants"] == 2, r["expertise"]
    # Export: the roster CSV the server makes, downloaded by the page.
    dl = S.tmp / "downloads"
    dl.mkdir()
    f.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(dl)})
    click(f, "#roster-export")
    csv = wait(f, lambda d: (lambda fs: fs[0].read_text() if fs and fs[0].suffix == ".csv" else None)(list(dl.iterdir())), "the roster download")
    assert "Dee Park,Library Friends,volunteers;youth" in csv and "Ana Ruiz,Valley Clinic,grants;data,East" in csv, csv
    assert "example.org" not in csv, "e-mail addresses are never stored"
    # A new link for Ben: the page shows it, the old one stops working.
    old = S.links["Ben Okafor"]
    ben = js(f, "return [...document.querySelectorAll('#roster-table tbody tr')].find(tr => tr.querySelector('th').textContent === 'Ben Okafor').dataset.member")
    click(f, f"button[data-reissue='{ben}']")
    f.switch_to.alert.accept()
    new = wait(f, lambda d: (lambda v: v if v and v != old else None)(visible(d, "#reissued-link-input") and el(d, "#reissued-link-input").get_attribute("value")), "Ben's new link")
    assert new.startswith(f"{S.base}/community.html?c={S.cid}#k="), new
    S.links["Ben Okafor"] = new
    S.links["old Ben"] = old
    axe_check(f, "facilitator community page")


def test_member_links_and_directory():
    S.ana = browser(1366, 768)
    S.ana.get(S.links["Ana Ruiz"])
    wait(S.ana, lambda d: visible(d, "#community-name") and el(d, "#community-name").text == NAME, "Ana's community page")
    assert "#k=" not in S.ana.current_url and S.ana.current_url.endswith(f"/community.html?c={S.cid}"), S.ana.current_url
    assert el(S.ana, "#community-role").text == "Member"
    assert S.links["Ana Ruiz"].split("#k=")[1] == json.loads(js(S.ana, f"return localStorage.getItem('roundtable:community:{S.cid}')"))["communityKey"]
    assert el(S.ana, "#me-name").get_attribute("value") == "Ana Ruiz"
    assert el(S.ana, "#me-org").get_attribute("value") == "Valley Clinic"
    assert el(S.ana, "#me-expertise").get_attribute("value") == "grants, data"
    assert not S.ana.find_elements(By.CSS_SELECTOR, "#roster"), "a member sees no roster"
    wait(S.ana, lambda d: "4 people are in the directory" in el(d, "#dir-summary").text, "everyone listed")
    found(S.ana, ["Ana Ruiz", "Ben Okafor", "Cy Diaz", "Dee Park"])
    search(S.ana, "grants")
    found(S.ana, ["Ana Ruiz", "Cy Diaz"])
    assert "2 people match" in el(S.ana, "#dir-summary").text
    search(S.ana, "YOUTH")
    found(S.ana, ["Dee Park"])
    search(S.ana, "astrophysics")
    wait(S.ana, lambda d: "0 people match" in el(d, "#dir-summary").text, "no match")
    # Ben's old link no longer opens the community; his new one does, on a phone.
    S.ben = browser(390, 844, phone=True)
    S.ben.get(S.links["old Ben"])
    wait(S.ben, lambda d: visible(d, "#load-error") and "no longer valid" in el(d, "#load-error").text, "the old link refused")
    S.ben.get(S.links["Ben Okafor"])
    wait(S.ben, lambda d: visible(d, "#me-name") and el(d, "#me-name").get_attribute("value") == "Ben Okafor", "Ben's page with the new link")
    axe_check(S.ana, "member community page")


def test_profile_and_directory_listing():
    a = S.ana
    time.sleep(JOIN_TIMEOUT + 1)  # the page has been open longer than a connection outside a room may live
    type_into(a, "#me-expertise", "grants, data, evaluation")
    type_into(a, "#me-bio", "Grant writer for rural clinics")
    click(a, "#me-listed")
    assert not el(a, "#me-listed").is_selected()
    click(a, "#profile-save")
    wait(a, lambda d: el(d, "#me-status").text == "You are not listed in the directory.", "Ana left the directory")
    search(S.ben, "grants")
    found(S.ben, ["Cy Diaz"])
    # The roster (the facilitator's full view) still has her, with the new expertise.
    S.fac.execute_script("return communityReload()")
    wait(S.fac, lambda d: any("evaluation" in r for r in texts(d, "#roster-table tbody tr")), "the edited profile in the roster")
    # Back in the directory: found by the new tag, bio shown.
    click(a, "#me-listed")
    click(a, "#profile-save")
    wait(a, lambda d: el(d, "#me-status").text == "You are listed in the directory.", "Ana listed again")
    search(S.ben, "evaluation")
    found(S.ben, ["Ana Ruiz", "Cy Diaz"])
    assert "Grant writer for rural clinics" in texts(S.ben, "#dir-results .person-bio"), texts(S.ben, "#dir-results .person-bio")
    overflow = js(S.ben, "return document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"phone page scrolls sideways by {overflow}px"


def open_session(title):
    f = S.fac
    community_page(f)
    if S.rooms:  # with a session open, the form is folded under its summary
        assert not visible(f, "#session-title")
        click(f, "#open-session-card summary")
    type_into(f, "#session-title", title)
    if S.rooms:  # remembered from the first session
        assert el(f, "#session-name").get_attribute("value") == "Fay Facilitator"
    type_into(f, "#session-name", "Fay Facilitator")
    click(f, "#open-session")
    code = wait(f, lambda d: visible(d, ".room-code") and el(d, ".room-code").text.strip(), "the session's console")
    wait(f, lambda d: visible(d, "#tab-console"), "the facilitator console")
    assert f.current_url.endswith(f"/r/{code}"), f.current_url
    assert el(f, "#community-link").get_attribute("href").endswith(f"/community.html?c={S.cid}")
    S.rooms.append(code)
    return code


def join_from_link(d, code):
    community_page(d)
    wait(d, lambda d: visible(d, "#join-session"), "the Join button")
    click(d, "#join-session")
    wait(d, lambda d: visible(d, "#need-form"), "the member view of the session")
    assert d.current_url.endswith(f"/r/{code}"), d.current_url


def poll_backlog(first):
    f = S.fac
    click(f, "#tab-polls")
    assert el(f, "#console-community-link").get_attribute("href").endswith(f"/community.html?c={S.cid}")
    click(f, "#poll-backlog")
    for d in (S.ana, S.ben):
        wait(d, lambda d: visible(d, "#polls .rank-list"), "the ranking ballot")
        order = texts(d, "#polls .rank-item .rank-label")
        for _ in range(order.index(first)):
            click(d, f"#polls button[aria-label='Move {first} up']")
        click(d, "#polls .ballot button[type=submit]")
        wait(d, lambda d: "Your vote is in" in el(d, "#polls .poll-status").text, "the vote")
    wait(f, lambda d: B.ranked_texts(d, "#console-needs-chart")[:1] == [first], f"{first} ranked first")
    click(f, "#console-polls [data-action=close]")
    wait(f, lambda d: not f.find_elements(By.CSS_SELECTOR, "#console-polls [data-action=close]"), "the poll closed")


def test_first_session():
    code = open_session("March meeting")
    for d in (S.ana, S.ben):
        join_from_link(d, code)
    # Ana arrives with the profile she edited on the community page.
    a = S.ana
    wait(a, lambda d: el(d, "#profile-name").text == "Ana Ruiz", "Ana's carried-over name")
    assert el(a, "#profile-org").text.endswith("Valley Clinic")
    assert visible(a, "#profile-carried")
    assert texts(a, "#profile .chips .chip") == ["grants", "data", "evaluation"], texts(a, "#profile .chips .chip")
    assert el(a, "#bio").get_attribute("value") == "Grant writer for rural clinics"
    # A reload resumes the same seat with its token (no second member for Ana).
    me = js(a, "return roundtable.me")
    a.refresh()
    wait(a, lambda d: visible(d, "#need-form") and js(d, "return roundtable.joined && roundtable.me") == me, "Ana's seat resumed")
    assert [m for m in js(a, "return Object.values(roundtable.state.members).map(m => m.name)") if m == "Ana Ruiz"] == ["Ana Ruiz"]
    for d, text, tags in ((S.ana, "Grant writing help", "grants"), (S.ben, "Volunteer training", "volunteers")):
        type_into(d, "#need-text", text)
        type_into(d, "#need-tags", tags)
        click(d, "#need-submit")
    wait(S.fac, lambda d: len(B.ranked_texts(d, "#console-needs-chart")) == 2, "two needs in the console")
    poll_backlog("Grant writing help")
    # A co-host with only the community's facilitator link (no seat in this room) gets into the session's
    # console: the community's facilitator key opens its sessions.
    co = browser(1366, 768)
    co.get(f"{S.base}/community.html?c={S.cid}#f={S.fkey}")
    wait(co, lambda d: visible(d, "#join-session"), "the co-host's session card")
    click(co, "#join-session")
    wait(co, lambda d: visible(d, "#join-name") and el(d, "#join-h").text == "Join as co-facilitator", "the co-facilitator form")
    type_into(co, "#join-name", "Gus")
    click(co, "#join-submit")
    wait(co, lambda d: js(d, "return roundtable.joined && roundtable.state.members[roundtable.me]?.role") == "facilitator", "the co-host in as facilitator")
    assert code in co.current_url and S.fkey not in co.current_url, co.current_url
    viewport_shot(S.fac, "console-community-session")
    B.shot(S.ana, "session-member-carried-profile")
    axe_check(S.ana, "member view of a community session")


def test_second_session_and_trend():
    code = open_session("April meeting")
    assert code != S.rooms[0]
    # The new session starts with the backlog (the first session was handed back when this one opened).
    wait(S.fac, lambda d: sorted(js(d, "return Object.values(roundtable.state.needs).map(n => n.text)")) == ["Grant writing help", "Volunteer training"], "the backlog as the session's needs")
    for d in (S.ana, S.ben):
        join_from_link(d, code)
    poll_backlog("Volunteer training")
    # An interview: Ben shares a highlight about Ana, she adds it to her profile; it carries into the community.
    click(S.fac, "#tab-interviews")
    type_into(S.fac, "#iv-turn", "60")
    click(S.fac, "#iv-start")
    for d in (S.ana, S.ben):
        wait(d, lambda d: visible(d, "#partner-name"), "an interview partner", timeout=20)
    assert "Ana Ruiz" in el(S.ben, "#partner-name").text
    type_into(S.ben, "#note-text", HIGHLIGHT)
    click(S.ben, "form.note-form button[type=submit]")
    click(S.ana, "#highlights-list button")
    wait(S.ana, lambda d: "On profile" in el(d, "#highlights-list").text, "the highlight on Ana's profile")
    click(S.fac, "#iv-end")
    click(S.fac, "#tab-settings")
    click(S.fac, "#room-close")
    click(S.fac, "#room-close-yes")
    wait(S.fac, lambda d: "Closed at" in el(d, "#room-close-status").text, "the session closed")
    # The community page: both sessions, and each need's trend with a point per session, as the server has it.
    community_page(S.ana)
    r = report()
    by_text = {n["text"]: [x["rank"] for x in n["rankings"]] for n in r["backlog"]}
    assert by_text == {"Grant writing help": [1, 2], "Volunteer training": [2, 1]}, by_text
    trends = js(S.ana, "return Object.fromEntries([...document.querySelectorAll('#backlog-list .backlog-item')].map(li => [li.querySelector('.backlog-text').textContent, [li.querySelector('svg.spark').dataset.points, li.querySelector('.trend-text').textContent, li.querySelector('svg.spark').getAttribute('aria-label')]]))")
    assert trends["Volunteer training"][:2] == ["2", "Ranked 2, then 1 over 2 sessions: rising."], trends
    assert trends["Grant writing help"][:2] == ["2", "Ranked 1, then 2 over 2 sessions: falling."], trends
    assert all(t[1] == t[2] for t in trends.values()), "the chart's text alternative says what the words say"
    # The chart itself: oldest session at the left, a better (smaller) rank higher up.
    dots = js(S.ana, "return Object.fromEntries([...document.querySelectorAll('#backlog-list .backlog-item')].map(li => [li.querySelector('.backlog-text').textContent, [...li.querySelectorAll('svg.spark circle')].map(c => [+c.getAttribute('cx'), +c.getAttribute('cy')])]))")
    (x0, y0), (x1, y1) = dots["Volunteer training"]
    assert x0 < x1 and y1 < y0, ("rising: the second point is higher", dots)
    (x0, y0), (x1, y1) = dots["Grant writing help"]
    assert x0 < x1 and y1 > y0, ("falling: the second point is lower", dots)
    assert texts(S.ana, "#past-sessions li strong") == ["April meeting", "March meeting"], texts(S.ana, "#past-sessions li strong")
    # The accepted highlight is on her community profile and in the directory; the pair that met is counted.
    assert texts(S.ana, "#me-highlights li") == ["★ " + HIGHLIGHT], texts(S.ana, "#me-highlights li")
    assert "1 pair has met" in el(S.ana, "#community-counts").text, el(S.ana, "#community-counts").text
    search(S.ana, "template")
    found(S.ana, ["Ana Ruiz"])
    # The highlight the search matched is printed once (under "Matches"), not also on the ★ line.
    card = el(S.ana, "#dir-results li.person-card").text
    assert card.count(HIGHLIGHT) == 1, ("a matched highlight shown once", card)
    # Who can help with volunteer training: the members whose expertise says so.
    need = js(S.ana, "return [...document.querySelectorAll('#backlog-list .backlog-item')].find(li => li.querySelector('.backlog-text').textContent === 'Volunteer training').dataset.need")
    click(S.ana, f"#help-{need}")
    wait(S.ana, lambda d: texts(d, f"#helpers-{need} .person-name") == ["Ben Okafor", "Dee Park"], f"who can help (got {texts(S.ana, f'#helpers-{need} .person-name')})")
    assert el(S.ana, f"#help-{need}").get_attribute("aria-expanded") == "true"
    # By keyboard: Enter on the focused button folds the list away again.
    js(S.ana, "document.getElementById(arguments[0]).focus()", f"help-{need}")
    S.ana.switch_to.active_element.send_keys(Keys.ENTER)
    wait(S.ana, lambda d: el(d, f"#help-{need}").get_attribute("aria-expanded") == "false" and not visible(d, f"#helpers-{need}"), "who can help folded by keyboard")
    # The facilitator marks the need in progress; the server's report says so.
    community_page(S.fac)
    sel = f"#status-{need}"
    Select(el(S.fac, sel)).select_by_value("in_progress")
    click(S.fac, f"#need-save-{need}")
    wait(S.fac, lambda d: el(d, f"#backlog-list li[data-need='{need}'] .badge").text == "In progress", "the new status on the page")
    assert {n["text"]: n["status"] for n in report()["backlog"]}["Volunteer training"] == "in_progress"
    # The report downloaded from the page is the server's, with the key sent in a header.
    dl = S.tmp / "reports"
    dl.mkdir()
    S.fac.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(dl)})
    click(S.fac, "#report-csv")
    got = wait(S.fac, lambda d: (lambda fs: fs[0].read_text(encoding="utf-8-sig") if fs and fs[0].name == f"community-{S.cid}-report.csv" else None)(list(dl.iterdir())), "the report download")
    assert "Volunteer training" in got and "in_progress" in got, got
    viewport_shot(S.ana, "community-member-1366")
    viewport_shot(S.fac, "community-facilitator-1366")
    B.shot(S.fac, "community-facilitator-full")
    S.ben.get(f"{S.base}/community.html?c={S.cid}")
    wait(S.ben, lambda d: visible(d, "#backlog-list svg.spark"), "Ben's page with trends")
    B.shot(S.ben, "community-member-phone")
    overflow = js(S.ben, "return document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"phone page scrolls sideways by {overflow}px"
    axe_check(S.ana, "member community page with trends")


def test_standing_groups():
    f = S.fac
    community_page(f)
    click(f, "#groups-editor summary")
    click(f, "#group-add")
    type_into(f, "#sg-name-0", "Volunteer team")
    type_into(f, "#sg-desc-0", "Recruits and trains volunteers")
    for name in ("Ben Okafor", "Dee Park"):
        Select(el(f, "#sg-members-0")).select_by_visible_text(name)
    Select(el(f, "#sg-focus-0")).select_by_visible_text("Volunteer training")
    click(f, "#groups-save")
    wait(f, lambda d: texts(d, "#standing-groups .group strong") == ["Volunteer team"], "the standing group on the page")
    assert texts(f, "#standing-groups .group-members") == ["Ben Okafor, Dee Park"], texts(f, "#standing-groups .group-members")
    assert "Volunteer training" in el(f, "#standing-groups .group").text
    # The group owns the need: the page and the roster say so, and so does a member's page.
    need = js(f, "return [...document.querySelectorAll('#backlog-list .backlog-item')].find(li => li.querySelector('.backlog-text').textContent === 'Volunteer training').dataset.need")
    Select(el(f, f"#owner-{need}")).select_by_visible_text("Volunteer team")
    click(f, f"#need-save-{need}")
    wait(f, lambda d: "Owner: Volunteer team" in el(d, f"#backlog-list li[data-need='{need}'] .backlog-meta").text, "the owner group on the page")
    wait(f, lambda d: [r for r in texts(d, "#roster-table tbody tr") if "Volunteer team" in r] and len([r for r in texts(d, "#roster-table tbody tr") if "Volunteer team" in r]) == 2, "the standing group in the roster")
    community_page(S.ana)
    assert "Owner: Volunteer team" in el(S.ana, f"#backlog-list li[data-need='{need}'] .backlog-meta").text
    assert texts(S.ana, "#standing-groups .group-members") == ["Ben Okafor, Dee Park"]
    assert not S.ana.find_elements(By.CSS_SELECTOR, "#groups-editor"), "members cannot edit groups"


def main():
    steps = [
        ("create a community: the facilitator link, once", test_create_community),
        ("roster: paste and file import, personal links, export, reissue", test_import_roster),
        ("personal links open the page; the directory finds members by tag", test_member_links_and_directory),
        ("own profile: edit, leave and rejoin the directory", test_profile_and_directory_listing),
        ("a session opened from the page, joined from personal links, backlog polled", test_first_session),
        ("a second session: trend charts, who can help, need status", test_second_session_and_trend),
        ("standing groups: edited on the page, owning a need", test_standing_groups),
    ]
    return run_suite("community", S, results, steps, env={"ROUNDTABLE_TRANSPORT_JOINTIMEOUTSECONDS": str(JOIN_TIMEOUT)}, min_frames=50)


if __name__ == "__main__":
    sys.exit(main())
