#!/usr/bin/env python3
"""Browser test of the run of show: a whole agenda driven from the console with one Next control,
watched from a wall screen (1920x1080 observer), by three members (one on a phone) in separate
headless Chromium sessions, checking what each of them sees at every step.

Also: the wall's QR code, read back from a screenshot with `zbarimg` (Debian zbar-tools), is the
join link built from `server.publicUrl`; axe-core (PyPI axe-selenium-python, which bundles
axe.min.js) finds no serious or critical violation on the landing page, the member view, the
console and the wall. Screenshots of every screen at desktop (1366x768), phone (390x844) and wall
(1920x1080, 1280x720) sizes go to build-artifacts/screenshots-show/.

Prints `show browser tests: N passed, M failed` last; exits non-zero on any failure.
Setup: Scripts/tests/browser/deps.sh.
"""
import json
import pathlib
import subprocess
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import run_browser_tests as B  # noqa: E402  (shared server, browser and wait helpers)
from selenium.webdriver.support.ui import Select  # noqa: E402
from run_browser_tests import By, Keys, browser, click, el, js, type_into, visible, wait  # noqa: E402
from suite import axe_check, run_suite  # noqa: E402

B.SHOTS = B.ROOT / "build-artifacts/screenshots-show"
PUBLIC = "https://meet.example.org"
results = []

AGENDA = {"title": "Run of show test", "agenda": [
    {"kind": "welcome", "title": "Welcome", "text": "We set this year's priorities together."},
    {"kind": "poll", "title": "Warm-up", "definition": {"question": "Which format helps you most?", "kind": "single",
                                                        "options": ["Video call", "In person"], "visibility": "facilitator"}},
    {"kind": "needs-intake", "title": "Share your needs", "text": "One need per submission."},
    {"kind": "poll-over-needs", "title": "Rank the needs", "definition": {"question": "Rank the needs, most urgent first"}},
    {"kind": "interviews", "title": "Interviews", "interviews": {"turnSeconds": 60, "reportSeconds": 0}},
    {"kind": "break", "title": "Stretch break", "seconds": 120},
    {"kind": "announcement", "title": "Lunch", "text": "Lunch is in the lobby at noon"},
    {"kind": "groups", "title": "Working groups", "groups": {"fromNeeds": 2}},
    {"kind": "closing", "title": "Our priorities", "text": "Thank you!"},
]}



class S:
    base = ""
    code = ""
    fac = None
    wall = None
    members = []
    tmp = None


def shot(d, name):
    B.shot(d, name)
    return B.SHOTS / f"{name}.png"


def viewport_shot(d, name):
    """What the screen shows (no scrolling): the wall and the 1366x768 console as people see them."""
    B.SHOTS.mkdir(parents=True, exist_ok=True)
    path = B.SHOTS / f"{name}.png"
    js(d, "document.activeElement && document.activeElement.blur && document.activeElement.blur()")
    time.sleep(0.6)
    d.save_screenshot(str(path))
    B.log(f"  screenshot {path.relative_to(B.ROOT)}")
    return path


def text(d, css):
    """The element's text as written (CSS may upper-case labels on screen)."""
    return js(d, "const e = document.querySelector(arguments[0]); return e ? e.textContent : ''", css)


def wall_view(d):
    return js(d, "return document.body.dataset.wall")


def next_step(expect_title):
    click(S.fac, "#agenda-next")
    wait(S.fac, lambda d: el(d, "#show-current").text == expect_title, f"console shows the step {expect_title!r}")


def member_join(name, org, phone=False):
    d = browser(390, 844, phone=True) if phone else browser(1366, 768)
    d.get(S.base + "/")
    type_into(d, "#join-code", S.code.lower())
    type_into(d, "#join-name", name)
    type_into(d, "#join-org", org)
    click(d, "#join-submit")
    wait(d, lambda d: visible(d, "#needs"), f"{name}'s member view")
    return d


def test_setup_and_welcome():
    S.fac = browser(1366, 768)
    S.fac.get(S.base + "/")
    wait(S.fac, lambda d: visible(d, "#create-form"), "landing page")
    axe_check(S.fac, "landing page")
    viewport_shot(S.fac, "landing-desktop")
    type_into(S.fac, "#create-title", "Peer network: annual priorities")
    type_into(S.fac, "#create-name", "Fay Facilitator")
    type_into(S.fac, "#create-org", "TTA Center")
    click(S.fac, "#create-submit")
    S.code = wait(S.fac, lambda d: visible(d, ".room-code") and el(d, ".room-code").text.strip(), "room code")
    wait(S.fac, lambda d: visible(d, "#run-of-show"), "run of show in the console")
    # Import the agenda as a file through the console.
    f = S.tmp / "agenda.json"
    f.write_text(json.dumps({"activity": AGENDA}))
    wait(S.fac, lambda d: el(d, "#tab-show").get_attribute("aria-selected") == "true", "the Run of show tab first")
    S.fac.find_element(By.CSS_SELECTOR, "#agenda-import").send_keys(str(f))
    wait(S.fac, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#agenda-steps li")) == 9, "nine agenda steps")
    assert "Start: Welcome" in el(S.fac, "#agenda-next").text
    # The wall joins as an observer; members join by typing the code on / (the address becomes /r/CODE).
    S.wall = browser(1920, 1080)
    S.wall.get(f"{S.base}/r/{S.code}?view=projector")
    click(S.wall, "#join-submit")
    wait(S.wall, lambda d: visible(d, "#wall-join"), "wall join screen")
    S.members = [member_join("Ann", "Food Bank"), member_join("Ben", "Youth Club"), member_join("Dee", "Library Friends", phone=True)]
    assert S.members[0].current_url.endswith("/r/" + S.code), S.members[0].current_url
    wait(S.members[0], lambda d: "What happens next: Welcome" in text(d, "#whats-next"), "member sees what happens next")
    next_step("Welcome")
    assert "Next: Warm-up" in el(S.fac, "#show-next").text
    wait(S.wall, lambda d: wall_view(d) == "join", "wall on the join screen")
    wait(S.wall, lambda d: "3 here" in el(d, "#wall-join").text, "wall counts three members")
    link = el(S.wall, "#wall-link").text
    assert link == f"{PUBLIC[8:]}/r/{S.code}", link
    png = viewport_shot(S.wall, "wall-join-1080p")
    out = subprocess.run(["zbarimg", "--quiet", "--raw", str(png)], capture_output=True, text=True, timeout=30)
    assert out.stdout.strip() == f"{PUBLIC}/r/{S.code}", f"zbarimg read {out.stdout!r} ({out.stderr.strip()})"
    B.log(f"  zbarimg read {out.stdout.strip()}")
    axe_check(S.wall, "wall join screen")
    S.wall.set_window_size(1280, 720)
    time.sleep(0.5)
    png720 = viewport_shot(S.wall, "wall-join-720p")
    out = subprocess.run(["zbarimg", "--quiet", "--raw", str(png720)], capture_output=True, text=True, timeout=30)
    assert out.stdout.strip() == f"{PUBLIC}/r/{S.code}", f"zbarimg at 720p read {out.stdout!r}"
    S.wall.set_window_size(1920, 1080)
    wait(S.members[0], lambda d: "We set this year" in text(d, "#whats-next"), "welcome words for members")
    viewport_shot(S.members[0], "member-welcome-desktop")
    viewport_shot(S.members[2], "member-welcome-phone")
    viewport_shot(S.fac, "console-welcome-desktop")


def test_hidden_poll_turnout_and_reveal():
    next_step("Warm-up")
    wait(S.wall, lambda d: wall_view(d) == "poll" and visible(d, "#wall-poll"), "wall shows the poll")
    for d, choice in zip(S.members[:2], [0, 1]):
        wait(d, lambda d: visible(d, ".poll-card[data-state=open] .choice"), "the poll on a member page")
        d.find_elements(By.CSS_SELECTOR, ".poll-card[data-state=open] .choice")[choice].click()
        wait(d, lambda d: "Your vote is in" in el(d, ".poll-card[data-state=open] .poll-status").text, "vote confirmed")
    # The chosen option is visibly selected (pressed), the other is not.
    wait(S.members[1], lambda d: [b.get_attribute("aria-pressed") for b in d.find_elements(By.CSS_SELECTOR, ".poll-card[data-state=open] .choice")] == ["false", "true"], "the chosen option shows as selected")
    wait(S.wall, lambda d: el(d, "#wall-turnout").text == "2 of 3 have answered", "wall turnout counts members only")
    wait(S.fac, lambda d: el(d, "#show-turnout").text == "2 of 3 have answered", "console turnout")
    # Said once on the wall: the results heading leaves turnout to the wall's own large line.
    assert el(S.wall, "#wall-poll").text.count("have answered") == 1, el(S.wall, "#wall-poll").text
    assert not js(S.members[0], "return Object.values(roundtable.state.polls).some(p => p.results)"), "hidden results reached a member"
    assert "reveals them" in el(S.members[0], ".poll-card[data-state=open] .results-heading").text
    viewport_shot(S.wall, "wall-poll-1080p")
    viewport_shot(S.fac, "console-poll-desktop")
    click(S.fac, "#poll-reveal")
    wait(S.members[0], lambda d: js(d, "return Object.values(roundtable.state.polls).some(p => p.results && p.results.ballots === 2)"), "revealed results reach members")
    wait(S.wall, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#wall-poll .bar-row, #wall-poll li")) >= 2, "wall shows the results")
    # One vote each: a shared first place reads "1=" on both rows, not "1=" and "2=".
    wait(S.wall, lambda d: [b.text for b in d.find_elements(By.CSS_SELECTOR, "#wall-poll .bar-rank")] == ["1=", "1="], "a tie shows a shared rank")
    viewport_shot(S.wall, "wall-results-1080p")
    viewport_shot(S.members[2], "member-poll-phone")


def step_ids():
    return js(S.fac, "return roundtable.state.agenda.steps.map(s => s.id)")


def step_titles():
    return js(S.fac, "return roundtable.state.agenda.steps.map(s => s.title)")


def test_console_tabs():
    """WAI-ARIA tabs: arrows, Home and End move and select; one tab stop; the choice survives a reload."""
    f = S.fac
    click(f, "#tab-show")
    tabs = ["show", "polls", "people", "interviews", "settings"]
    assert [t.get_attribute("id") for t in f.find_elements(By.CSS_SELECTOR, ".console-tabs [role=tab]")] == [f"tab-{t}" for t in tabs]
    el(f, "#tab-show").send_keys(Keys.ARROW_RIGHT)
    wait(f, lambda d: js(d, "return document.activeElement.id") == "tab-polls", "ArrowRight focuses the next tab")
    assert el(f, "#tab-polls").get_attribute("aria-selected") == "true" and el(f, "#tab-show").get_attribute("aria-selected") == "false"
    assert visible(f, "#panel-polls") and not visible(f, "#panel-show") and visible(f, "#poll-form")
    assert [t.get_attribute("tabindex") for t in f.find_elements(By.CSS_SELECTOR, ".console-tabs [role=tab]")] == ["-1", "0", "-1", "-1", "-1"]
    assert el(f, "#panel-polls").get_attribute("role") == "tabpanel" and el(f, "#panel-polls").get_attribute("aria-labelledby") == "tab-polls"
    f.switch_to.active_element.send_keys(Keys.END)
    wait(f, lambda d: el(d, "#tab-settings").get_attribute("aria-selected") == "true" and visible(d, "#room-close"), "End selects the last tab")
    f.switch_to.active_element.send_keys(Keys.ARROW_RIGHT)
    wait(f, lambda d: el(d, "#tab-show").get_attribute("aria-selected") == "true", "ArrowRight wraps to the first tab")
    f.switch_to.active_element.send_keys(Keys.ARROW_LEFT)
    f.switch_to.active_element.send_keys(Keys.HOME)
    wait(f, lambda d: el(d, "#tab-show").get_attribute("aria-selected") == "true", "Home selects the first tab")
    click(f, "#tab-people")
    assert js(f, "return localStorage.getItem('roundtable:consoleTab')") == "people"
    f.refresh()
    wait(f, lambda d: visible(d, "#presence-list") and el(d, "#tab-people").get_attribute("aria-selected") == "true", "the chosen tab after a reload")
    wait(f, lambda d: " online of " in el(d, "#presence-summary").text, "presence in its tab")
    viewport_shot(f, "console-people-tab-desktop")
    click(f, "#tab-show")


def test_edit_agenda_during_session():
    """Warm-up (step 2) runs: Welcome and Warm-up are history; the steps after them are edited, moved,
    duplicated, added and removed; saving an edit of a step that became the running one meanwhile is
    refused (step_locked) in plain language next to the form."""
    f = S.fac
    click(f, "#tab-show")
    ids = step_ids()
    wait(f, lambda d: visible(d, f"#agenda-steps li[data-step='{ids[1]}'] .step-running"), "the running step marked")
    assert visible(f, f"#agenda-steps li[data-step='{ids[0]}'] .step-done"), "the step that ran is marked done"
    for i in ids[:2]:
        assert not f.find_elements(By.CSS_SELECTOR, f"#agenda-edit-{i}") and not f.find_elements(By.CSS_SELECTOR, f"#agenda-remove-{i}"), f"step {i} is history"
    assert el(f, f"#agenda-up-{ids[2]}").get_attribute("disabled"), "the next step cannot move above the running one"
    js(f, "window.scrollTo(0, 0)")
    viewport_shot(f, "console-run-of-show-desktop")  # 1366x768: the running step, then the agenda without scrolling
    top = js(f, "return document.querySelector('#agenda-steps li').getBoundingClientRect().top")
    assert top < js(f, "return window.innerHeight") - 100, f"the agenda starts {top}px down, below the fold"
    # Edit a future step in place: the break gets 3 minutes.
    brk = ids[5]
    click(f, f"#agenda-edit-{brk}")
    wait(f, lambda d: visible(d, f"#step-edit-{brk}-minutes"), "the break's settings")
    type_into(f, f"#step-edit-{brk}-minutes", "3")
    viewport_shot(f, "console-agenda-edit-desktop")
    axe_check(f, "console with the agenda editor open")
    click(f, f"#step-edit-{brk}-save")
    wait(f, lambda d: js(d, f"return roundtable.state.agenda.steps.find(s => s.id === {brk}).seconds") == 180, "the break saved as 180 s")
    wait(f, lambda d: not d.find_elements(By.CSS_SELECTOR, f"#step-edit-{brk}"), "the editor closes")
    # A poll step's kind-specific settings: the ranking over the needs counts by Schulze, and its question changes.
    rank = ids[3]
    click(f, f"#agenda-edit-{rank}")
    wait(f, lambda d: visible(d, f"#step-edit-{rank}-method"), "the ranking method of a ranking poll step")
    assert not visible(f, f"#step-edit-{rank}-budget"), "a points budget shown for a ranking"
    Select(el(f, f"#step-edit-{rank}-method")).select_by_value("schulze")
    type_into(f, f"#step-edit-{rank}-question", "Rank the needs, most urgent first (Schulze)")
    click(f, f"#step-edit-{rank}-save")
    wait(f, lambda d: js(d, f"return roundtable.state.agenda.steps.find(s => s.id === {rank}).definition.method") == "schulze", "the method saved")
    assert js(f, f"return roundtable.state.agenda.steps.find(s => s.id === {rank}).definition.overNeeds") is True
    # Move the break down below Lunch, then back up.
    click(f, f"#agenda-down-{brk}")
    wait(f, lambda d: step_titles()[5:7] == ["Lunch", "Stretch break"], "the break moved down")
    wait(f, lambda d: js(d, "return document.activeElement.id") == f"agenda-down-{brk}", "focus follows the moved step")
    f.switch_to.active_element.send_keys(Keys.SHIFT, Keys.TAB)  # the keyboard way: to its ↑ and press it
    f.switch_to.active_element.send_keys(Keys.ENTER)
    wait(f, lambda d: step_titles()[5:7] == ["Stretch break", "Lunch"], "the break moved back up")
    # Duplicate the closing step, then remove the copy; add a new step with its settings, then remove it.
    click(f, f"#agenda-dup-{ids[-1]}")
    wait(f, lambda d: step_titles()[-2:] == ["Our priorities", "Our priorities"], "the closing step duplicated")
    click(f, f"#agenda-remove-{step_ids()[-1]}")
    wait(f, lambda d: step_ids() == ids, "the copy removed")
    Select(el(f, "#step-kind")).select_by_value("announcement")
    click(f, "#step-add")
    wait(f, lambda d: visible(d, "#step-edit-new-text"), "the new step's settings")
    type_into(f, "#step-edit-new-title", "Thanks")
    click(f, "#step-edit-new-save")  # an announcement needs its text: said in plain language, in the form
    wait(f, lambda d: visible(d, "#step-edit-new-error") and "needs its text" in el(d, "#step-edit-new-error").text, "the missing text explained")
    assert "steps[" not in el(f, "#step-edit-new-error").text, el(f, "#step-edit-new-error").text
    type_into(f, "#step-edit-new-text", "Thanks to our hosts")
    click(f, "#step-edit-new-save")
    wait(f, lambda d: step_titles()[-1] == "Thanks", "the new step added")
    click(f, f"#agenda-remove-{step_ids()[-1]}")
    wait(f, lambda d: step_ids() == ids, "the new step removed")
    # Importing a file during the session replaces the plan only: the history stays, the file's steps follow it.
    plan = js(f, "return roundtable.state.agenda.steps.slice(2).map(({id, ...s}) => s)")
    (S.tmp / "plan.json").write_text(json.dumps({"activity": {"agenda": plan}}))
    el(f, "#agenda-import").send_keys(str(S.tmp / "plan.json"))
    wait(f, lambda d: step_ids()[:2] == ids[:2] and step_ids()[2] not in ids and step_titles()[2:] == [s["title"] for s in plan], "the plan replaced after the history")
    ids = step_ids()
    assert js(f, f"return roundtable.state.agenda.steps.find(s => s.id === {ids[5]}).seconds") == 180
    # Open the next step's editor, then start that step from the Next control: saving is refused.
    nxt = ids[2]
    click(f, f"#agenda-edit-{nxt}")
    type_into(f, f"#step-edit-{nxt}-text", "Changed too late")
    next_step("Share your needs")
    wait(f, lambda d: visible(d, f"#agenda-steps li[data-step='{nxt}'] .step-running"), "the edited step now runs")
    click(f, f"#step-edit-{nxt}-save")
    want = "Step 3 (Share your needs) is running now and cannot be edited; change only the steps after it."
    wait(f, lambda d: visible(d, f"#step-edit-{nxt}-error") and el(d, f"#step-edit-{nxt}-error").text == want, "step_locked in plain language")
    assert js(f, f"return roundtable.state.agenda.steps.find(s => s.id === {nxt}).text") == "One need per submission."
    viewport_shot(f, "console-agenda-locked-desktop")
    click(f, f"#step-edit-{nxt}-cancel")
    wait(f, lambda d: not d.find_elements(By.CSS_SELECTOR, f"#step-edit-{nxt}"), "the editor closes")


def test_needs_and_ranking():
    wait(S.fac, lambda d: el(d, "#show-current").text == "Share your needs", "the needs intake runs")
    wait(S.wall, lambda d: wall_view(d) == "needs", "wall shows the needs")
    # The warm-up poll closed when the agenda moved on; its final results stay visible to members.
    wait(S.members[0], lambda d: js(d, "return Object.values(roundtable.state.polls).some(p => p.state === 'closed' && p.results && p.results.final)"), "final results kept")
    for d, text in zip(S.members, ["Grant writing help", "Volunteer retention", "Board recruitment"]):
        type_into(d, "#need-text", text)
        click(d, "#need-submit")
    wait(S.wall, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#proj-needs li")) == 3, "three needs on the wall")
    next_step("Rank the needs")
    wait(S.wall, lambda d: wall_view(d) == "poll", "wall shows the ranking poll")
    for d in S.members:
        wait(d, lambda d: visible(d, ".poll-card[data-state=open] .rank-list"), "ranking ballot")
        click(d, ".poll-card[data-state=open] button[type=submit]")
    wait(S.wall, lambda d: el(d, "#wall-turnout").text == "3 of 3 have answered", "everyone ranked")
    assert el(S.wall, "#wall-poll").text.count("have answered") == 1, el(S.wall, "#wall-poll").text
    viewport_shot(S.wall, "wall-ranking-1080p")


def test_interviews_break_announcement():
    next_step("Interviews")
    wait(S.wall, lambda d: wall_view(d) == "interviews" and visible(d, "#wall-countdown"), "wall interview countdown")
    for d in S.members:
        wait(d, lambda d: visible(d, "#partner-name"), "a partner")
    # Three members make a trio: each is told who asks whom, by name.
    turn = el(S.members[0], ".turn").text
    assert turn.startswith("First turn:") and ("Ann" in turn or "you" in turn.lower()), turn
    B.click(S.fac, "#tab-participant")
    wait(S.fac, lambda d: visible(d, "#not-paired"), "the facilitator is told they are not paired")
    B.click(S.fac, "#tab-console")
    viewport_shot(S.wall, "wall-interviews-1080p")
    viewport_shot(S.members[2], "member-interview-phone")
    next_step("Stretch break")
    wait(S.wall, lambda d: wall_view(d) == "timer" and visible(d, "#wall-countdown"), "wall break countdown")
    assert el(S.wall, "#wall-countdown").text in ("3:00", "2:59", "2:58"), el(S.wall, "#wall-countdown").text  # as edited
    viewport_shot(S.wall, "wall-break-1080p")
    next_step("Lunch")
    wait(S.wall, lambda d: "Lunch is in the lobby" in el(d, "#wall-announcement").text, "wall announcement")
    # The announcement is room state: a wall reloaded (or opened later) still shows it; the console too after reload.
    S.wall.refresh()
    wait(S.wall, lambda d: visible(d, "#wall-announcement") and "Lunch is in the lobby" in el(d, "#wall-announcement").text, "announcement after reload")
    S.fac.refresh()
    wait(S.fac, lambda d: visible(d, "#show-current") and el(d, "#show-current").text == "Lunch", "current step after the console reloads")
    assert "Lunch is in the lobby" in el(S.fac, "#show-announcement").text
    viewport_shot(S.wall, "wall-announcement-1080p")


def test_groups_and_closing():
    next_step("Working groups")
    wait(S.wall, lambda d: wall_view(d) == "groups" and len(d.find_elements(By.CSS_SELECTOR, "#wall-groups li")) == 2, "groups board")
    assert visible(S.wall, "#wall-banner") and "Lunch" in el(S.wall, "#wall-banner").text, "the announcement stays as a banner"
    click(S.fac, "#announcement-clear")
    wait(S.wall, lambda d: not visible(d, "#wall-banner"), "announcement taken down")
    viewport_shot(S.wall, "wall-groups-1080p")
    next_step("Our priorities")
    wait(S.wall, lambda d: wall_view(d) == "closing" and len(d.find_elements(By.CSS_SELECTOR, "#wall-closing-needs li")) == 3, "closing ranked needs")
    assert el(S.fac, "#agenda-next").get_attribute("disabled"), "no step after the last"
    viewport_shot(S.wall, "wall-closing-1080p")
    # The facilitator can also choose the wall's view directly.
    click(S.fac, "#wall-needs")
    wait(S.wall, lambda d: wall_view(d) == "needs", "wall follows the console's choice")
    viewport_shot(S.fac, "console-closing-desktop")
    shot(S.fac, "console-full-desktop")
    axe_check(S.fac, "console")
    axe_check(S.members[0], "member view")
    axe_check(S.wall, "wall needs view")
    shot(S.members[0], "member-full-desktop")
    shot(S.members[2], "member-full-phone")
    overflow = js(S.members[2], "return document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"phone page scrolls sideways by {overflow}px"


def main():
    steps = [
        ("agenda imported, wall and members join, welcome with QR code", test_setup_and_welcome),
        ("hidden poll: member-only turnout, reveal", test_hidden_poll_turnout_and_reveal),
        ("console tabs: keyboard, remembered after a reload", test_console_tabs),
        ("agenda edited during the session; step_locked in plain language", test_edit_agenda_during_session),
        ("needs intake and ranking poll over the needs", test_needs_and_ranking),
        ("interviews, break, standing announcement after reloads", test_interviews_break_announcement),
        ("groups board and closing", test_groups_and_closing),
    ]
    return run_suite("show", S, results, steps, env={"ROUNDTABLE_SERVER_PUBLICURL": PUBLIC}, min_frames=100, needs_zbar=True)


if __name__ == "__main__":
    sys.exit(main())
