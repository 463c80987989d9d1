#!/usr/bin/env python3
"""Third-party client scenarios: the real server driven by Python `websockets`.

Every frame sent and received goes through rt.CheckedSocket and must match docs/schema (contract.py).
Starts `.build/debug/roundtable serve` on an ephemeral loopback port with a fresh data folder,
runs every `test_*` coroutine in the scenario modules (or only the modules named as arguments), and prints `N passed, M failed`.
"""
import asyncio
import importlib
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))

import contract  # noqa: E402  (docs/schema: every message the scenarios send and receive is checked)

MODULES = ["scenario_rooms", "scenario_polls", "scenario_ops", "scenario_interviews", "scenario_lifecycle", "scenario_clients", "scenario_show", "scenario_calls", "scenario_community"]


class Server:
    """One server process on a random port; restartable on the same data folder."""

    def __init__(self, extra_env=None, config=None, tls=False):
        self.data = tempfile.mkdtemp(prefix="rt-py-")
        self.tls = tls
        if tls:
            cert, key = os.path.join(self.data, "cert.pem"), os.path.join(self.data, "key.pem")
            subprocess.run(["bash", str(ROOT / "Scripts/dev-cert.sh"), cert, key], check=True, capture_output=True)
            extra_env = dict(extra_env or {}, ROUNDTABLE_TLS_CERTIFICATE=cert, ROUNDTABLE_TLS_PRIVATEKEY=key)
        self.port_file = os.path.join(self.data, "port")
        self.extra_env = extra_env or {}
        self.config = config
        self.proc = None
        self.port = None

    def start(self):
        if os.path.exists(self.port_file):
            os.unlink(self.port_file)
        env = dict(os.environ, **self.extra_env)
        cmd = [str(ROOT / ".build/debug/roundtable"), "serve", "--port", "0",
               "--data-dir", os.path.join(self.data, "d"), "--web-root", str(ROOT / "web"),
               "--port-file", self.port_file]
        if self.config:
            cmd += ["--config", self.config]
        self.log = open(os.path.join(self.data, "server.log"), "ab")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=self.log, env=env)
        deadline = time.time() + 15
        while time.time() < deadline:
            if os.path.exists(self.port_file):
                text = open(self.port_file).read().strip()
                if text:
                    self.port = int(text)
                    return self
            if self.proc.poll() is not None:
                raise RuntimeError("server exited early: " + self.read_log())
            time.sleep(0.05)
        raise RuntimeError("server did not start in 15 s")

    def read_log(self):
        try:
            return open(os.path.join(self.data, "server.log")).read()
        except OSError:
            return ""

    def url(self):
        return f"{'wss' if self.tls else 'ws'}://127.0.0.1:{self.port}/ws"

    def stop(self, sig=None):
        if self.proc and self.proc.poll() is None:
            if sig is None:
                self.proc.terminate()
            else:
                self.proc.send_signal(sig)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode if self.proc else None

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.data, ignore_errors=True)


def main():
    passed = failed = 0
    # Optional arguments pick modules by name (e.g. `scenario_lifecycle`); none runs them all.
    for name in [m for m in MODULES if not sys.argv[1:] or m in sys.argv[1:]]:
        mod = importlib.import_module(name)
        tests = [(n, getattr(mod, n)) for n in sorted(dir(mod)) if n.startswith("test_")]
        for tname, fn in tests:
            server = Server(**getattr(fn, "server_args", {})).start()
            t0 = time.time()
            seen = len(contract.VIOLATIONS)
            try:
                asyncio.run(asyncio.wait_for(fn(server), timeout=60))
                if len(contract.VIOLATIONS) > seen:  # raised inside the test but swallowed there
                    raise AssertionError("messages outside docs/schema:\n" + "\n".join(contract.VIOLATIONS[seen:]))
                passed += 1
                print(f"PASS {name}.{tname} ({time.time() - t0:.2f}s)", flush=True)
            except Exception:
                failed += 1
                print(f"FAIL {name}.{tname}", flush=True)
                traceback.print_exc()
                print("--- server log ---\n" + server.read_log()[-4000:], flush=True)
            finally:
                server.cleanup()
    print(f"python scenarios: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
