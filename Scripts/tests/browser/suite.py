"""The frame the browser suites share: each step checked against docs/schema, and one server per suite.

A suite (show, community) lists its steps and what its server needs; `run_suite` starts the server on a
loopback port, runs the steps in order until one fails, reports browser console errors and how many
WebSocket frames were checked, and tears everything down.
"""
import pathlib
import shutil
import tempfile
import time
import traceback

import run_browser_tests as B


def run_step(results, name, fn, *args):
    """Runs one step; every WebSocket frame the pages exchanged during it must fit docs/schema."""
    B.log(f"- {name}")
    t0 = time.time()
    seen = len(B.contract.VIOLATIONS)
    try:
        fn(*args)
        for d in list(B.BROWSERS):
            B.check_wire(d)
        if len(B.contract.VIOLATIONS) > seen:
            raise AssertionError("WebSocket frames outside docs/schema:\n" + "\n".join(B.contract.VIOLATIONS[seen:]))
        results.append((name, "passed"))
        B.log(f"  passed ({time.time() - t0:.1f}s)")
        return True
    except Exception as e:
        results.append((name, "failed"))
        B.log(f"  FAILED: {e}")
        traceback.print_exc(limit=4)
        return False


def axe_check(d, what):
    """axe-core on the page as it is: every finding logged, serious and critical ones fail the step."""
    from axe_selenium_python import Axe
    axe = Axe(d)
    axe.inject()
    res = axe.run()
    bad = [v for v in res["violations"] if v.get("impact") in ("serious", "critical")]
    for v in res["violations"]:
        B.log(f"  axe {what}: {v['impact']} {v['id']} ({len(v['nodes'])} nodes, first {v['nodes'][0]['target']})")
    assert not bad, f"axe on {what}: " + "; ".join(f"{v['id']}: {v['help']} at {v['nodes'][0]['target']}" for v in bad)


def run_suite(label, S, results, steps, *, env=None, min_frames=50, needs_zbar=False):
    """Starts a server (data in a temporary folder: `S.tmp`, URL in `S.base`) and runs `steps`, a list of
    (name, function), stopping at the first failure. Returns the exit status."""
    missing = not B.BINARY.exists() or not B.chromium_binary() or not B.driver_binary() or (needs_zbar and not shutil.which("zbarimg"))
    if missing:
        B.log(f"missing the server binary, chromium, chromedriver{' or zbarimg' if needs_zbar else ''}: "
              "run swift build and Scripts/tests/browser/deps.sh")
        B.log(f"{label} browser tests: 0 passed, 1 failed")
        return 1
    S.tmp = pathlib.Path(tempfile.mkdtemp(prefix=f"roundtable-{label}-"))
    (S.tmp / "data").mkdir()
    server = B.Server(S.tmp / "data", S.tmp / "server.log", env=env or {})
    try:
        server.start(port=0)
        S.base = f"http://127.0.0.1:{server.port}"
        B.log(f"server on {S.base}")
        for name, fn in steps:
            if not run_step(results, name, fn):
                break
        for d in B.BROWSERS:
            for e in B.console_errors(d):
                B.log(f"  browser console error: {e['message'][:200]}")
        B.log(f"WebSocket frames checked against docs/schema: {B.FRAMES[0]}")
        if B.FRAMES[0] < min_frames:
            results.append(("WebSocket frames captured for the schema check", "failed"))
    except Exception as e:
        results.append(("setup", "failed"))
        B.log(f"setup FAILED: {e}")
        traceback.print_exc()
    finally:
        for d in B.BROWSERS:
            try:
                d.quit()
            except Exception:
                pass
        server.stop()
        server.kill()
    passed = sum(1 for _, s in results if s == "passed")
    failed = sum(1 for _, s in results if s == "failed")
    if failed:
        B.log(f"server log: {S.tmp / 'server.log'}")
    else:
        shutil.rmtree(S.tmp, ignore_errors=True)
    B.log(f"{label} browser tests: {passed} passed, {failed} failed")
    return 1 if failed else 0
