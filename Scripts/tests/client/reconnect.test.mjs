// Reconnect, backoff and resume of web/client.js (transport.js underneath) with a fake clock and a
// WebSocket the test answers by hand: every delay is exact, nothing waits on real time.
// Run: node --test Scripts/tests/client/
import test from 'node:test';
import assert from 'node:assert/strict';
import { RoundtableClient, Transport } from '../../../web/client.js';
import { FakeClock, fakeNet, flush, memory } from './fakes.mjs';

const ROOM = 'A1B2C3D4';
const seat = { room: ROOM, token: 'tok', member: 2, role: 'member' };

function setup({ stored = false, random = () => 1, ...options } = {}) {
  const clock = new FakeClock();
  const net = fakeNet(clock);
  const storage = memory(stored ? { [`roundtable:${ROOM}`]: JSON.stringify(seat) } : {});
  const rt = new RoundtableClient('ws://h/ws', {
    WebSocket: net.FakeWS, clock, random, storage,
    minBackoff: 500, maxBackoff: 4000, connectTimeout: 3000, requestTimeout: 5000, resumeGiveUp: 60000, ...options,
  });
  const delays = [];
  rt.on('reconnect-scheduled', ({ delay }) => delays.push(delay));
  return { clock, net, rt, storage, delays };
}

const event = (seq, type, fields = {}) => ({ type, room: ROOM, seq, at: '2027-01-15T08:00:00.000Z', ...fields });
const state = (seq) => ({ type: 'room.state', room: ROOM, protocol: 1, seq, title: 'T', you: { id: 2, role: 'member' }, members: [], needs: [], polls: [] });

/** A new member joins and receives the room at `seq`. */
async function joinNew(s, seq = 3) {
  const p = s.rt.join({ room: ROOM, name: 'Ann' });
  await flush();
  const ws = s.net.sockets.at(-1);
  ws.accept();
  await flush();
  assert.equal(ws.sent.at(-1).type, 'room.join');
  ws.reply({ type: 'ack', room: ROOM, member: 2, role: 'member', token: 'tok' });
  ws.deliver(state(seq));
  await p;
  return ws;
}

test('the backoff doubles from minBackoff up to maxBackoff, and no attempt comes early', { timeout: 10000 }, async () => {
  const s = setup();
  s.rt.connect().catch(() => {});
  const expected = [500, 1000, 2000, 4000, 4000];
  for (const delay of expected) {
    const n = s.net.sockets.length;
    s.net.sockets.at(-1).refuse();
    assert.equal(s.delays.at(-1), delay);
    s.clock.advance(delay - 1);
    assert.equal(s.net.sockets.length, n, `a new attempt before ${delay} ms`);
    s.clock.advance(1);
    assert.equal(s.net.sockets.length, n + 1, `no new attempt at ${delay} ms`);
  }
  assert.deepEqual(s.delays, expected);
  assert.equal(s.rt.connectionState, 'reconnecting');
  s.rt.close();
});

test('jitter takes each delay between half and all of the backoff', { timeout: 10000 }, () => {
  const delays = [];
  for (const r of [0, 0.5, 0.999]) {
    const clock = new FakeClock();
    const net = fakeNet(clock);
    const t = new Transport('ws://h/ws', { WebSocket: net.FakeWS, clock, random: () => r, minBackoff: 1000, maxBackoff: 1000 },
      { emit: (type, p) => type === 'reconnect-scheduled' && delays.push(p.delay) });
    t.connect().catch(() => {});
    net.sockets[0].refuse();
    t.close();
  }
  assert.deepEqual(delays, [500, 750, 1000]);
});

test('a handshake that hangs is abandoned after connectTimeout and retried', { timeout: 10000 }, async () => {
  const s = setup();
  s.rt.connect().catch(() => {});
  const first = s.net.sockets[0];
  s.clock.advance(2999);
  assert.equal(first.closedWith, null);
  s.clock.advance(1);
  assert.ok(first.closedWith, 'the hanging socket was not closed');
  s.clock.advance(0);
  assert.equal(s.delays.length, 1);
  s.clock.advance(s.delays[0]);
  assert.equal(s.net.sockets.length, 2);
  s.rt.close();
});

test('after a drop the client resumes with since = last seq, applies the missed events, then sends what waited, in order', { timeout: 10000 }, async () => {
  const s = setup();
  const ws = await joinNew(s, 3);
  ws.deliver(event(4, 'need.added', { need: { id: 1, text: 'Grants', tags: [], createdAt: 1 } }));
  assert.equal(s.rt.state.seq, 4);
  ws.drop();
  assert.equal(s.rt.joined, false);
  assert.equal(s.rt.connectionState, 'reconnecting');
  const submitted = s.rt.request('need.submit', { text: 'Mentors' });
  s.clock.advance(s.delays.at(-1));
  const ws2 = s.net.sockets.at(-1);
  assert.equal(ws2.url, `ws://h/ws/${ROOM}`);
  ws2.accept();
  const early = s.rt.request('need.submit', { text: 'Venues' });
  assert.deepEqual(ws2.sent.map((m) => m.type), ['room.join'], 'a request went out before the resume');
  const resume = ws2.sent[0];
  assert.deepEqual({ room: resume.room, token: resume.token, since: resume.since }, { room: ROOM, token: 'tok', since: 4 });
  ws2.reply({ type: 'ack', room: ROOM, member: 2, role: 'member', resumed: 'events' });
  ws2.deliver(event(5, 'member.joined', { member: { id: 3, name: 'Bo', organization: '', role: 'member', expertise: [], bio: '', online: true, highlights: [] } }));
  ws2.deliver(event(6, 'member.presence', { member: 2, online: true }));
  await flush();
  assert.equal(s.rt.state.seq, 6);
  assert.ok(s.rt.state.needs[1], 'the state before the drop was kept');
  assert.ok(s.rt.state.members[3], 'the missed event was applied');
  assert.deepEqual(ws2.sent.map((m) => [m.type, m.text]), [['room.join', undefined], ['need.submit', 'Mentors'], ['need.submit', 'Venues']]);
  ws2.deliver({ type: 'ack', ref: ws2.sent[1].ref, need: 2 });
  ws2.deliver({ type: 'ack', ref: ws2.sent[2].ref, need: 3 });
  assert.equal((await submitted).need, 2);
  assert.equal((await early).need, 3);
  s.rt.close();
});

test('with a held seat the backoff restarts only once the room is joined again', { timeout: 10000 }, async () => {
  const s = setup({ stored: true });
  const joined = s.rt.join({ room: ROOM });
  await flush();
  s.net.sockets.at(-1).refuse();
  s.clock.advance(s.delays.at(-1));
  s.net.sockets.at(-1).refuse();
  s.clock.advance(s.delays.at(-1));
  // The room's node is back but another node answers first: open, then room_not_found.
  const misrouted = s.net.sockets.at(-1);
  misrouted.accept();
  misrouted.reply({ type: 'error', code: 'room_not_found', message: 'no room' });
  s.clock.advance(0);
  assert.deepEqual(s.delays, [500, 1000, 2000], 'an open without a join reset the backoff');
  s.clock.advance(2000);
  const good = s.net.sockets.at(-1);
  good.accept();
  good.reply({ type: 'ack', room: ROOM, member: 2, role: 'member', resumed: 'state' });
  good.deliver(state(9));
  assert.equal((await joined).member, 2);
  good.drop();
  assert.equal(s.delays.at(-1), 500, 'the join did not reset the backoff');
  s.rt.close();
});

test('a seq gap makes the client resync: it reconnects and resumes without since', { timeout: 10000 }, async () => {
  const s = setup();
  const ws = await joinNew(s, 3);
  const gaps = [];
  s.rt.on('gap', (g) => gaps.push(g));
  ws.deliver(event(6, 'need.removed', { need: 1 }));
  assert.deepEqual(gaps, [{ expected: 4, got: 6 }]);
  assert.equal(s.rt.state.seq, 3, 'the event after the gap was applied');
  assert.equal(ws.closedWith?.code, 4000);
  s.clock.advance(0);
  s.clock.advance(s.delays.at(-1));
  const ws2 = s.net.sockets.at(-1);
  ws2.accept();
  assert.equal(ws2.sent[0].type, 'room.join');
  assert.equal(ws2.sent[0].since, undefined, 'a resync must ask for a fresh room.state');
  s.rt.close();
});

test('a held seat gives up after resumeGiveUp with unreachable, keeps the token, and reconnectNow tries again', { timeout: 10000 }, async () => {
  const s = setup({ stored: true, resumeGiveUp: 10000 });
  const joined = s.rt.join({ room: ROOM });
  const unreachable = [];
  s.rt.on('unreachable', (e) => unreachable.push(e));
  let outcome = null;
  joined.then(() => { outcome = 'resolved'; }, (e) => { outcome = e.code; });
  await flush();
  for (;;) {
    s.net.sockets.at(-1).refuse();
    if (s.rt.connectionState === 'closed' || s.clock.now() > 1_800_000_100_000) break;
    s.clock.advance(s.delays.at(-1));
  }
  await flush();
  assert.equal(outcome, 'unreachable');
  assert.equal(s.rt.connectionState, 'closed');
  // Attempts at 0, 500, 1500, 3500, 7500 and 11500 ms: the first failure past 10 s ends it.
  assert.equal(s.clock.now() - 1_800_000_000_000, 11500);
  const n = s.net.sockets.length;
  s.clock.advance(600000);
  assert.equal(s.net.sockets.length, n, 'it kept reconnecting after giving up');
  assert.ok(s.storage.getItem(`roundtable:${ROOM}`), 'the seat was forgotten');
  assert.equal(unreachable.length, 0, 'the join() caller got the error, no event');
  s.rt.reconnectNow();
  assert.equal(s.net.sockets.length, n + 1);
  s.rt.close();
});

test('close code 4001 (removed) ends the seat without reconnecting', { timeout: 10000 }, async () => {
  const s = setup();
  const ws = await joinNew(s);
  const lost = [];
  s.rt.on('session-lost', (e) => lost.push(e.code));
  ws.drop(4001, 'removed');
  s.clock.advance(60000);
  assert.deepEqual(lost, ['removed']);
  assert.equal(s.net.sockets.length, 1);
  assert.equal(s.rt.connectionState, 'closed');
  assert.equal(s.storage.getItem(`roundtable:${ROOM}`), null);
});

test('a request without a reply rejects with timeout after requestTimeout; a drop rejects it with disconnected', { timeout: 10000 }, async () => {
  const s = setup();
  const ws = await joinNew(s);
  const slow = s.rt.request('need.submit', { text: 'a' });
  let code = null;
  slow.catch((e) => { code = e.code; });
  s.clock.advance(4999);
  await flush();
  assert.equal(code, null);
  s.clock.advance(1);
  await flush();
  assert.equal(code, 'timeout');
  const dropped = s.rt.request('need.submit', { text: 'b' });
  ws.drop();
  await assert.rejects(dropped, (e) => e.code === 'disconnected');
  s.rt.close();
});

test('serverNow follows the event timestamps through the injected clock', { timeout: 10000 }, async () => {
  const s = setup();
  const ws = await joinNew(s);
  ws.deliver({ ...event(4, 'room.announcementCleared'), at: new Date(s.clock.now() + 1500).toISOString() });
  assert.equal(s.rt.clockOffset, 1500);
  s.clock.advance(100);
  assert.equal(s.rt.serverNow(), s.clock.now() + 1500);
  s.rt.close();
});

test('an automatic resume refused with bad_credentials forgets the seat, fails what waited and says session-lost', { timeout: 10000 }, async () => {
  const s = setup();
  const ws = await joinNew(s);
  const lost = [];
  s.rt.on('session-lost', (e) => lost.push(e.code));
  ws.drop();
  const waited = s.rt.request('need.submit', { text: 'x' });
  s.clock.advance(s.delays.at(-1));
  const ws2 = s.net.sockets.at(-1);
  ws2.accept();
  ws2.reply({ type: 'error', code: 'bad_credentials', message: 'removed' });
  await assert.rejects(waited, (e) => e.code === 'bad_credentials');
  assert.deepEqual(lost, ['bad_credentials']);
  assert.equal(s.rt.session, null);
  assert.equal(s.storage.getItem(`roundtable:${ROOM}`), null);
  s.rt.close();
});

test('a resume that finds the room archived keeps the seat and stops reconnecting', { timeout: 10000 }, async () => {
  const s = setup();
  const ws = await joinNew(s);
  const archived = [];
  s.rt.on('room-archived', (e) => archived.push(e.code));
  ws.drop();
  s.clock.advance(s.delays.at(-1));
  const ws2 = s.net.sockets.at(-1);
  ws2.accept();
  ws2.reply({ type: 'error', code: 'room_archived', message: 'resting' });
  assert.deepEqual(archived, ['room_archived']);
  assert.deepEqual(ws2.closedWith, { code: 1000, reason: 'room archived' });
  s.clock.advance(600000);
  assert.equal(s.net.sockets.length, 2, 'it reconnected to an archived room');
  assert.equal(s.rt.connectionState, 'closed');
  assert.ok(s.storage.getItem(`roundtable:${ROOM}`), 'the seat was forgotten');
});
