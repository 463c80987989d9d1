#!/usr/bin/env python3
"""The machine-readable contract cannot drift from PROTOCOL.md, the server's sources or itself.

1. The message lists of docs/schema equal PROTOCOL.md's, both ways: request types (the request
   headings, and `- **x.y**` items, of the sections from "Rooms and members" to "Groups and agenda"),
   event types (the Events table), notice types (headings and tables of Notices, and the large-room
   notices named in its room.presence section) and error codes (the Errors table). Every request has an ack.
2. The same lists equal what the Swift sources can send or decode: `case "x"` (or `case "x", "y"`) in RequestDecoder*.swift,
   `event("x"` and `Notice(type: "x"` in Sources/RoundtableCore. A new message without a schema fails here.
3. Every complete JSON example in PROTOCOL.md (`→` requests, `←` and `(…)` server messages) validates.
4. docs/openapi.yaml is valid and has PROTOCOL.md's HTTP routes. The schemas are valid 2020-12 schemas, in the jsonfmt layout; docs/asyncapi.json is what
   Scripts/contract/gen_asyncapi.py makes from them; web/messages.d.ts is what Scripts/contract/gen_dts.mjs makes
   from them; the validator refuses broken messages.

Prints `contract drift: N passed, M failed`; exits non-zero on any failure.
"""
import json
import pathlib
import re
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))
import contract  # noqa: E402

PROTOCOL = (ROOT / "docs/PROTOCOL.md").read_text()
NAME = r"[a-z]+\.[a-zA-Z-]+"
results = []


def check(name, ok, detail=""):
    results.append(ok)
    print(("PASS " if ok else "FAIL ") + name + ("" if ok else f": {detail}"), flush=True)


def section(text, start, end):
    """From the heading line `start` up to the next heading of the same or a higher level (or `end`)."""
    i = text.index("\n" + start + "\n")
    level = start.split(" ")[0]
    rest = text[i + len(start) + 2:]
    stops = [m.start() for m in re.finditer(r"^#{1,%d} " % len(level), rest, re.M)]
    if end:
        stops.append(rest.index("\n" + end + "\n"))
    return rest[:min(stops)] if stops else rest


def first_cells(text):
    return {m.group(1) for m in re.finditer(r"^\| `([^`]+)` \|", text, re.M)}


def protocol_lists():
    i, j = PROTOCOL.index("\n## Rooms and members\n"), PROTOCOL.index("\n## Large rooms\n")
    req_part = PROTOCOL[i:j]
    requests = set()
    for line in req_part.splitlines():
        if line.startswith("### "):
            requests |= set(re.findall(NAME, line))
        m = re.match(r"^- \*\*(%s)\*\*" % NAME, line)
        if m:
            requests.add(m.group(1))
    events = first_cells(section(PROTOCOL, "## Events", None))
    notices_part = section(PROTOCOL, "## Notices", None)
    notices = set()
    for line in notices_part.splitlines():
        if line.startswith("### "):
            notices |= set(re.findall(NAME, line))
    notices |= {c for c in first_cells(notices_part) if re.fullmatch(NAME, c)}
    notices |= set(re.findall(r"`(%s)`" % NAME, section(PROTOCOL, "### room.presence", None)))
    errors = first_cells(section(PROTOCOL, "## Errors", None))
    return requests, events, notices, errors


def source_lists():
    requests = set()
    for f in sorted((ROOT / "Sources/RoundtableWire").glob("RequestDecoder*.swift")):
        for labels in re.findall(r'case ((?:"%s",\s*)*"%s")\s*:' % (NAME, NAME), f.read_text()):
            requests |= set(re.findall(r'"(%s)"' % NAME, labels))
    events, notices = set(), set()
    for f in (ROOT / "Sources/RoundtableCore").rglob("*.swift"):
        t = f.read_text()
        events |= set(re.findall(r'\bevent\(\s*"(%s)"' % NAME, t))
        notices |= set(re.findall(r'Notice\(type:\s*"(%s)"' % NAME, t))
    return requests, events, notices


def compare(what, schema, other, where):
    missing, extra = sorted(other - schema), sorted(schema - other)
    check(f"{what}: schema = {where}", not missing and not extra,
          f"in {where} without a schema: {missing}; in the schema, not in {where}: {extra}")


def examples():
    """Complete one-line JSON examples in PROTOCOL.md's ```json blocks: (direction, message)."""
    out = []
    for block in re.findall(r"```json\n(.*?)```", PROTOCOL, re.S):
        for line in block.splitlines():
            s = line.strip()
            m = re.match(r"^(→|←|\([^)]*\))?\s*(\{.*\})$", s)
            if not m or "…" in s:
                continue
            out.append(("request" if m.group(1) == "→" else "server", json.loads(m.group(2))))
    return out


def main():
    c = contract.contract()
    import jsonschema
    for name, doc in c.docs.items():
        try:
            jsonschema.Draft202012Validator.check_schema(doc)
            check(f"docs/schema/{name}.json is a valid 2020-12 schema", True)
        except jsonschema.SchemaError as e:
            check(f"docs/schema/{name}.json is a valid 2020-12 schema", False, e.message)
    files = [str(contract.SCHEMA_DIR / f"{n}.json") for n in contract.FILES]
    r = subprocess.run([sys.executable, str(ROOT / "Scripts/contract/jsonfmt.py"), "--check", *files], capture_output=True, text=True)
    check("schema files are in the jsonfmt layout", r.returncode == 0, r.stdout.strip())

    requests, events, notices, errors = protocol_lists()
    compare("request types", c.requests, requests, "PROTOCOL.md")
    compare("ack per request", c.acks, c.requests, "requests.json")
    compare("event types", c.events, events, "PROTOCOL.md")
    compare("notice types", c.notices, notices, "PROTOCOL.md")
    compare("error codes", set(c.error_codes), errors, "PROTOCOL.md")
    s_req, s_ev, s_no = source_lists()
    compare("request types", c.requests, s_req, "RequestDecoder*.swift")
    compare("event types", c.events, s_ev, "Sources/RoundtableCore")
    compare("notice types", c.notices, s_no, "Sources/RoundtableCore")

    ex = examples()
    bad = []
    for direction, msg in ex:
        reasons = c.check_request(msg) if direction == "request" else c.check_server(msg)
        if reasons:
            bad.append(f"{json.dumps(msg)[:120]}: {reasons[:2]}")
    check(f"the {len(ex)} complete JSON examples of PROTOCOL.md validate", len(ex) > 30 and not bad, "\n  " + "\n  ".join(bad))

    # The validator refuses what it must (else every check above and in the scenarios proves nothing).
    good = {"type": "need.added", "room": "E7Z98H5K", "seq": 6, "at": "2026-11-29T08:18:33.811Z",
            "need": {"id": 1, "text": "Grants", "tags": [], "createdAt": 1795940313811}}
    check("a good event validates", not c.check_server(good))
    for label, broken in [("an extra field", dict(good, extra=1)), ("a missing field", {k: v for k, v in good.items() if k != "seq"}),
                          ("an unknown type", dict(good, type="need.invented")), ("a wrong nested type", dict(good, need=dict(good["need"], id="1")))]:
        check(f"an event with {label} is refused", bool(c.check_server(broken)))
    check("a request with an unknown field is refused", bool(c.check_request({"type": "need.submit", "text": "x", "colour": "red"})))
    check("a name over maxNameLength is refused", bool(c.check_request({"type": "room.join", "room": "E7Z98H5K", "name": "n" * 81})))
    w = contract.Wire("self-test")
    w.sent(json.dumps({"type": "need.submit", "ref": 3, "text": "x"}))
    try:
        w.received(json.dumps({"type": "ack", "ref": 3, "poll": 1}))
        check("an ack is checked against its request's ack", False, "need.submit's ack with `poll` passed")
    except contract.SchemaViolation:
        check("an ack is checked against its request's ack", True)
    contract.VIOLATIONS.clear()

    # docs/openapi.yaml: a valid OpenAPI 3.1 document whose paths are PROTOCOL.md's HTTP routes.
    http = section(PROTOCOL, "## HTTP routes", None)
    routes = set()
    for line in http.splitlines():
        if not line.startswith("| `GET "):
            continue
        cell = re.split(r"(?<!\\)\|", line)[1]  # the first cell (escaped pipes separate report formats)
        paths = re.findall(r"`(?:GET )?([^`]+)`", cell)
        base = paths[0].rsplit("/", 1)[0]
        routes |= {p if p.startswith("/") else f"{base}/{p}" for p in paths}
    try:
        from openapi_spec_validator.readers import read_from_filename
        spec, _ = read_from_filename(str(ROOT / "docs/openapi.yaml"))
        try:
            from openapi_spec_validator import validate
            validate(spec, base_uri=(ROOT / "docs/openapi.yaml").as_uri())
        except ImportError:  # releases before 0.7 (those that work with Debian 12's jsonschema 4.10)
            from openapi_spec_validator import validate_spec
            validate_spec(spec, spec_url=(ROOT / "docs/openapi.yaml").as_uri())
        check("docs/openapi.yaml is a valid OpenAPI document", True)
        compare("HTTP routes", set(spec["paths"]), routes, "PROTOCOL.md")
    except ImportError as e:
        check("openapi-spec-validator is installed (Scripts/deps.sh --test)", False, str(e))

    gen = subprocess.run([sys.executable, str(ROOT / "Scripts/contract/gen_asyncapi.py"), "--check"], capture_output=True, text=True)
    check("docs/asyncapi.json is generated from docs/schema", gen.returncode == 0, (gen.stdout + gen.stderr).strip())

    # web/messages.d.ts (the JS client's types) is generated from the same schemas.
    try:
        dts = subprocess.run(["node", str(ROOT / "Scripts/contract/gen_dts.mjs"), "--check"], capture_output=True, text=True)
        check("web/messages.d.ts is generated from docs/schema", dts.returncode == 0, (dts.stdout + dts.stderr).strip())
    except FileNotFoundError:
        check("node is installed (Scripts/deps.sh --test) to check web/messages.d.ts", False, "node not found")

    passed, failed = results.count(True), results.count(False)
    print(f"contract drift: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
