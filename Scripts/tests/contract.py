"""The wire contract in docs/schema/*.json (JSON Schema 2020-12), as a validator the tests share.

`Wire` follows one connection: `sent(text)` checks that a request is exactly one the schema describes,
`received(text)` that a server message is (its `ack` checked against the ack of the request with that
`ref`). A message type the schema does not know fails. Deliberately malformed requests (hostile-input
tests) go through `sent_raw`, which records them without validating, so the schema is never loosened for
them. Every violation raises `SchemaViolation` and is also kept in `VIOLATIONS`, so a test that swallows
the exception still fails in the runner.

Set ROUNDTABLE_WIRE_LOG=FILE to append every message checked (direction and JSON) to FILE.
"""
import json
import os
import pathlib

import jsonschema

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCHEMA_DIR = ROOT / "docs/schema"
FILES = ["common", "requests", "acks", "errors", "events", "notices", "http"]

VIOLATIONS = []

# Error codes that mean "this request is not well-formed": a request the schema accepted must not get them.
MALFORMED = {"bad_json", "invalid_field", "too_large", "unknown_type"}


class SchemaViolation(AssertionError):
    pass


def load(name):
    return json.loads((SCHEMA_DIR / f"{name}.json").read_text())


def uri(name):
    return (SCHEMA_DIR / f"{name}.json").as_uri()


class Contract:
    """The schema files and one cached validator per message schema."""

    def __init__(self):
        self.docs = {name: load(name) for name in FILES}
        self.requests = set(self.docs["requests"]["$defs"])
        self.acks = set(self.docs["acks"]["$defs"])
        self.events = set(self.docs["events"]["$defs"])
        self.notices = set(self.docs["notices"]["$defs"])
        self.error_codes = [c["const"] for c in self.docs["errors"]["$defs"]["code"]["anyOf"]]
        self._validators = {}
        try:  # jsonschema >= 4.18 resolves references through `referencing`
            from referencing import Registry, Resource
            from referencing.jsonschema import DRAFT202012
            self._registry = Registry().with_resources(
                [(uri(n), Resource.from_contents(d, default_specification=DRAFT202012)) for n, d in self.docs.items()])
            self._resolver = None
        except ImportError:  # Debian 12's python3-jsonschema (4.10)
            self._registry = None
            # Its RefResolver tracks the base URI only through `$id`: give each document its file URI.
            store = {uri(n): dict(d, **{"$id": uri(n)}) for n, d in self.docs.items()}
            self._resolver = lambda s: jsonschema.RefResolver(base_uri="", referrer=s, store=store)

    def validator(self, file, name):
        key = (file, name)
        v = self._validators.get(key)
        if v is None:
            target = f"{uri(file)}#/$defs/{name}" if name else uri(file)
            schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$ref": target}
            cls = jsonschema.Draft202012Validator
            if self._registry is not None:
                v = cls(schema, registry=self._registry)
            else:
                v = cls(schema, resolver=self._resolver(schema))
            self._validators[key] = v
        return v

    def errors(self, file, name, msg):
        """Readable reasons `msg` does not match `file#/$defs/name` (the file's root without a name)."""
        out = []
        for e in sorted(self.validator(file, name).iter_errors(msg), key=lambda e: list(e.absolute_path)):
            path = "/".join(str(p) for p in e.absolute_path) or "(message)"
            out.append(f"{path}: {_short(e)}")
        return out

    def check_request(self, msg):
        if not isinstance(msg, dict) or not isinstance(msg.get("type"), str):
            return ["a request must be an object with a string `type`"]
        if msg["type"] not in self.requests:
            return [f"request type {msg['type']!r} is not in docs/schema/requests.json"]
        return self.errors("requests", msg["type"], msg)

    def check_server(self, msg, request_type=None):
        """`request_type`: the type of the request whose `ref` an `ack` carries, when known."""
        if not isinstance(msg, dict) or not isinstance(msg.get("type"), str):
            return ["a server message must be an object with a string `type`"]
        t = msg["type"]
        if t == "ack":
            if request_type is not None:
                return self.errors("acks", request_type, msg)
            return self.errors("acks", None, msg)  # the file's root: any ack
        if t == "error":
            return self.errors("errors", "error", msg)
        candidates = [f for f, names in (("events", self.events), ("notices", self.notices)) if t in names]
        if not candidates:
            return [f"message type {t!r} is in neither docs/schema/events.json nor notices.json"]
        reasons = []
        for f in candidates:
            r = self.errors(f, t, msg)
            if not r:
                return []
            reasons += [f"as {f[:-1]}: {x}" for x in r]
        return reasons


def _short(e):
    text = e.message
    return text if len(text) < 300 else text[:300] + "…"


_CONTRACT = None


def contract():
    global _CONTRACT
    if _CONTRACT is None:
        _CONTRACT = Contract()
    return _CONTRACT


def _log(direction, text):
    path = os.environ.get("ROUNDTABLE_WIRE_LOG")
    if path:
        with open(path, "a") as f:
            f.write(f"{direction} {text}\n")


class Wire:
    """What one connection sent and received, checked against the contract as it goes."""

    def __init__(self, name="connection"):
        self.name = name
        self.pending = {}  # json.dumps(ref) -> request type (None for a raw frame)

    def _fail(self, what, text, reasons):
        detail = f"{self.name}: {what} breaks docs/schema: {text[:400]}\n  " + "\n  ".join(reasons[:8])
        VIOLATIONS.append(detail)
        raise SchemaViolation(detail)

    def sent(self, text):
        if isinstance(text, (bytes, bytearray)):
            self._fail("a binary frame sent (use sent_raw for hostile input)", repr(text[:40]), ["binary"])
        _log(">", text)
        try:
            msg = json.loads(text)
        except ValueError as e:
            self._fail("a request that is not JSON (use sent_raw for hostile input)", text, [str(e)])
        reasons = contract().check_request(msg)
        if reasons:
            self._fail("request", text, reasons)
        if "ref" in msg:
            self.pending[json.dumps(msg["ref"])] = msg["type"]
        return msg

    def sent_raw(self, data):
        """A frame sent on purpose outside the contract; its reply is checked as a generic ack or error."""
        _log(">!", data if isinstance(data, str) else repr(data))
        try:
            msg = json.loads(data)
        except (ValueError, TypeError, UnicodeDecodeError):
            return
        if isinstance(msg, dict) and "ref" in msg:
            try:
                self.pending[json.dumps(msg["ref"])] = None
            except TypeError:
                pass

    def received(self, text):
        _log("<", text if isinstance(text, str) else repr(text))
        if isinstance(text, (bytes, bytearray)):
            self._fail("a binary frame from the server", repr(text[:40]), ["binary"])
        msg = json.loads(text)
        request_type = None
        if isinstance(msg, dict) and msg.get("type") in ("ack", "error") and "ref" in msg:
            key = json.dumps(msg["ref"])
            if key not in self.pending:
                self._fail("a reply to a ref this connection never sent", text, [key])
            request_type = self.pending.pop(key)
        reasons = contract().check_server(msg, request_type)
        if not reasons and request_type and msg["type"] == "error" and msg.get("code") in MALFORMED:
            # The schema let through a request the server refuses as malformed: the schema is too loose
            # (or the test meant to send it raw).
            reasons = [f"the request validated against docs/schema but the server answered {msg['code']}: {msg.get('message')}"]
        if reasons:
            self._fail(f"server message (reply to {request_type})" if request_type else "server message", text, reasons)
        return msg
