"""Community requests for the durability tests (Scripts/crash-test.py, Scripts/disk-full-test.sh).

`CommunityLoad` issues the requests that change a community (community.create, community.import,
community.needStatus) and runs whole sessions (room.create with the community, need.submit, room.close,
which hands the session's needs to the backlog: the harvest), remembering what was acknowledged, what was
refused and what was in flight when the server died. `verify` reads everything back with community.export and
lists what does not match: an acknowledged change missing, a refused or never-sent one present.

Connections come from `open_conn()` (a coroutine returning an object with `request(type, **fields)` that
returns the ack or error message and `close()`), so both tests use their own client.
"""
import asyncio
import time

RETRY = ("not_ready", "rate_limited")
GONE = (OSError, asyncio.TimeoutError, TimeoutError, ConnectionError)


def _is_gone(e):
    """The server is gone or stuck: what a kill -9 looks like from the client."""
    return isinstance(e, GONE) or type(e).__module__.startswith("websockets")


class CommunityLoad:
    def __init__(self, rng, open_conn):
        self.rng = rng
        self.open_conn = open_conn
        self.cred = None            # the community under load: {"community", "facilitatorKey"}
        self.created = []           # acknowledged community.create: (id, key, name)
        self.members = set()        # roster names the server acknowledged (or showed at the last check)
        self.refused_members = set()
        self.status = {}            # backlog need id -> last acknowledged (or shown) status
        self.sessions = 0           # sessions whose room.create was acknowledged (or shown)
        self.harvested = set()      # need texts of sessions whose room.close was acknowledged
        self.submitted = set()      # every need text a session sent (an unanswered one may reach the backlog later)
        self.in_flight = None       # ("import", name) | ("status", need, status) | ("session",) | ("create",)
        self.counts = {"create": 0, "import": 0, "status": 0, "session": 0, "harvest": 0}
        self.codes = {}             # error codes seen, by request type
        self.n = 0

    # ---- requests ------------------------------------------------------------------------------------------

    async def setup(self, conn):
        """Creates the community under load (needs a fresh server: retries not_ready)."""
        ack = await _retry(conn, "community.create", name="Durability community")
        assert ack["type"] == "ack", ack
        self.cred = {"community": ack["community"], "facilitatorKey": ack["facilitatorKey"]}
        self.created.append((ack["community"], ack["facilitatorKey"], "Durability community"))

    def _note(self, kind, reply):
        if reply["type"] == "ack":
            self.counts[kind] += 1
        else:
            self.codes[f"{kind}:{reply.get('code')}"] = self.codes.get(f"{kind}:{reply.get('code')}", 0) + 1

    async def create(self, conn):
        self.n += 1
        name = f"Community {self.n}"
        self.in_flight = ("create",)
        r = await conn.request("community.create", name=name)
        self.in_flight = None
        if r["type"] == "ack":
            self.created.append((r["community"], r["facilitatorKey"], name))
        self._note("create", r)
        return r

    async def import_member(self, conn):
        self.n += 1
        name = f"Member {self.n}"
        self.in_flight = ("import", name)
        r = await conn.request("community.import", members=[{"name": name, "organization": "Durable", "expertise": ["t"]}],
                               **self.cred)
        self.in_flight = None
        if r["type"] == "ack":
            self.members.add(name)
        elif r.get("code") == "storage_unavailable":
            self.refused_members.add(name)
        self._note("import", r)
        return r

    async def set_status(self, conn):
        """Flips a backlog need between open and addressed (nothing to do while the backlog is empty)."""
        if not self.status:
            return None
        need = self.rng.choice(sorted(self.status))
        status = "open" if self.status[need] == "addressed" else "addressed"
        self.in_flight = ("status", need, status)
        r = await conn.request("community.needStatus", need=need, status=status, **self.cred)
        self.in_flight = None
        if r["type"] == "ack":
            self.status[need] = status
        self._note("status", r)
        return r

    async def session(self, needs=2):
        """A whole session on its own connection: open, submit needs, close (the harvest). Returns the replies."""
        conn = await self.open_conn()
        replies = []
        try:
            self.n += 1
            self.in_flight = ("session",)
            r = await conn.request("room.create", title=f"Session {self.n}", name="Fay", **self.cred)
            self.in_flight = None
            replies.append(r)
            self._note("session", r)
            if r["type"] != "ack":
                return replies
            self.sessions += 1
            texts = []
            for i in range(needs):
                text = f"need {self.n}.{i}"
                self.submitted.add(text)
                s = await conn.request("need.submit", text=text, tags=[])
                replies.append(s)
                if s["type"] == "ack":
                    texts.append(text)
            c = await conn.request("room.close")
            replies.append(c)
            if c["type"] == "ack":
                self.harvested.update(texts)
            self._note("harvest", c)
            return replies
        finally:
            await conn.close()

    async def learn_backlog(self, conn):
        """Backlog need ids for needStatus, from community.export (a read)."""
        r = await conn.request("community.export", **self.cred)
        if r["type"] == "ack":
            for n in r["backlog"]:
                if n["status"] in ("open", "addressed"):
                    self.status.setdefault(n["need"], n["status"])
        return r

    async def loop(self, stop):
        """Community changes as fast as they are answered, until `stop` or the server dies (crash test)."""
        conn = None
        try:
            conn = await self.open_conn()
            i = 0
            while not stop.is_set():
                i += 1
                await self.import_member(conn)
                if i % 3 == 1:
                    await self.session()
                # The export grows with the roster: read it now and then, not after every session.
                if i % 9 == 1 or not self.status:
                    await self.learn_backlog(conn)
                await self.set_status(conn)
                if i % 5 == 0 and len(self.created) < 40:
                    await self.create(conn)
        except Exception as e:  # noqa: BLE001 (anything else is a bug in the test: re-raised)
            if not _is_gone(e):
                raise
        finally:
            if conn:
                await conn.close()

    # ---- verification -------------------------------------------------------------------------------------

    async def verify(self, deadline, strict=False):
        """Problems after a restart (or a reload). `strict`: nothing was in flight, so refused means absent.
        Afterwards what the server shows is the truth the next cycle starts from."""
        problems = []
        conn = await _open_retry(self.open_conn, deadline)
        try:
            r = await _retry(conn, "community.export", deadline=deadline, **self.cred)
            if r["type"] != "ack":
                return [f"community: export refused after recovery: {r}"]
            roster = {m["name"] for m in r["members"]}
            flight = self.in_flight or ()
            problems += [f"community: acknowledged member {n!r} missing" for n in sorted(self.members - roster)]
            allowed = self.members | ({flight[1]} if flight[:1] == ("import",) else set())
            problems += [f"community: member {n!r} was refused (storage_unavailable)" for n in sorted(roster & self.refused_members)]
            problems += [f"community: member {n!r} was never acknowledged nor in flight"
                         for n in sorted(roster - allowed - self.refused_members)]
            backlog = {n["need"]: n for n in r["backlog"]}
            texts = {n["text"] for n in r["backlog"]}
            problems += [f"community: harvested need {t!r} missing from the backlog" for t in sorted(self.harvested - texts)]
            problems += [f"community: backlog need {t!r} was never submitted" for t in sorted(texts - self.submitted)]
            for need, want in sorted(self.status.items()):
                got = backlog.get(need, {}).get("status")
                ok = {want} | ({flight[2]} if flight[:2] == ("status", need) else set())
                if got not in ok:
                    problems.append(f"community: need {need} is {got}, last acknowledged status {want}")
            sessions = len(r["sessions"])
            extra = 1 if flight == ("session",) else 0
            if not self.sessions <= sessions <= self.sessions + extra:
                problems.append(f"community: {sessions} sessions, {self.sessions} acknowledged (+{extra} in flight)")
            for cid, key, name in self.created:
                e = await conn.request("community.export", community=cid, facilitatorKey=key)
                if e["type"] != "ack" or e.get("name") != name:
                    problems.append(f"community: acknowledged community.create {cid} ({name}) not there: {e}")
            if strict and self.in_flight:
                problems.append(f"community: a request was still in flight in a strict check: {self.in_flight}")
            # The truth from here on (an in-flight change may have landed).
            self.members = roster - self.refused_members
            self.status = {k: v["status"] for k, v in backlog.items() if v["status"] in ("open", "addressed")}
            self.sessions = sessions
            self.in_flight = None
        finally:
            await conn.close()
        return problems

    def summary(self):
        c = self.counts
        return (f"community: {c['create']} created, {c['import']} imports, {c['status']} status changes, "
                f"{c['session']} sessions opened, {c['harvest']} harvested; roster {len(self.members)}, "
                f"backlog {len(self.status)}" + (f"; refusals {self.codes}" if self.codes else ""))


async def _open_retry(open_conn, deadline):
    last = None
    while time.monotonic() < deadline:
        try:
            return await open_conn()
        except Exception as e:  # noqa: BLE001
            if not _is_gone(e):
                raise
            last = e
            await asyncio.sleep(0.1)
    raise AssertionError(f"could not connect before the deadline: {last!r}")


async def _retry(conn, type_, deadline=None, **fields):
    """A request repeated while the server is recovering or pacing us."""
    deadline = deadline or time.monotonic() + 20
    while True:
        r = await conn.request(type_, **fields)
        if r["type"] == "ack" or r.get("code") not in RETRY or time.monotonic() > deadline:
            return r
        await asyncio.sleep(0.1)
