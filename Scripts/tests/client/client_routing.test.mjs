// Unit tests of web/client.js's routing and outage handling, with a scripted fake WebSocket.
// Run: node --test Scripts/tests/client/ (Node 18+).
import test from 'node:test';
import assert from 'node:assert/strict';
import { RoundtableClient, roomURL } from '../../../web/client.js';

/** A fake server: `plan(url)` says how each connection attempt goes: 'refuse' (failed handshake) or a handler. */
function fakeWS(plan) {
  const opened = [];
  class FakeWS {
    constructor(url) {
      this.url = url;
      this.readyState = 0;
      opened.push(url);
      const how = plan(url, opened.length);
      setTimeout(() => {
        if (this.readyState === 3) return;
        if (how === 'refuse') { this.readyState = 3; this.onclose?.({ code: 1006, reason: '' }); return; }
        this.readyState = 1;
        this.handler = how;
        this.onopen?.();
      }, 1);
    }
    send(data) {
      const msg = JSON.parse(data);
      const reply = this.handler(msg);
      if (reply) setTimeout(() => this.readyState === 1 && this.onmessage?.({ data: JSON.stringify({ ref: msg.ref, ...reply }) }), 1);
    }
    close(code = 1000, reason = '') {
      if (this.readyState === 3) return;
      this.readyState = 3;
      setTimeout(() => this.onclose?.({ code, reason }), 1);
    }
  }
  return { FakeWS, opened };
}

function memory(init = {}) {
  const m = new Map(Object.entries(init));
  return { getItem: (k) => (m.has(k) ? m.get(k) : null), setItem: (k, v) => m.set(k, String(v)), removeItem: (k) => m.delete(k), m };
}

const fast = { minBackoff: 5, maxBackoff: 20, requestTimeout: 500, connectTimeout: 200 };
const joinAck = (room, member) => ({ type: 'ack', room, member, role: 'member', token: 'tok' });

test('roomURL appends the code to the base path', { timeout: 20000 }, () => {
  assert.equal(roomURL('ws://h:1/ws', 'B1X'), 'ws://h:1/ws/B1X');
  assert.equal(roomURL('wss://h/ws/', 'C0Y'), 'wss://h/ws/C0Y');
});

test('join connects to /ws/{code}; create uses /ws and reconnects to /ws/{code}', { timeout: 20000 }, async () => {
  const { FakeWS, opened } = fakeWS(() => (m) => (m.type === 'room.create' ? { type: 'ack', room: 'A1234567', member: 1, role: 'facilitator', token: 't', facilitatorKey: 'k' } : joinAck(m.room, 2)));
  const rt = new RoundtableClient('ws://h/ws', { ...fast, WebSocket: FakeWS, storage: memory() });
  await rt.join({ room: 'b1xyz', name: 'Ann' });
  assert.equal(opened.at(-1), 'ws://h/ws/B1XYZ');
  const rt2 = new RoundtableClient('ws://h/ws', { ...fast, WebSocket: FakeWS, storage: memory() });
  const ack = await rt2.createRoom({ title: 't', name: 'Fay' });
  assert.equal(opened.at(-1), 'ws://h/ws');
  rt2.ws.close(1006);
  await rt2.once('resumed', () => true, 2000);
  assert.equal(opened.at(-1), `ws://h/ws/${ack.room}`);
  rt.close(); rt2.close();
});

test("a community's session is created on /ws/{community} (its node), then reconnects to /ws/{code}", { timeout: 20000 }, async () => {
  const { FakeWS, opened } = fakeWS(() => (m) => (m.type === 'room.create'
    ? { type: 'ack', room: 'B1234567', member: 1, role: 'facilitator', token: 't', facilitatorKey: 'k', community: m.community }
    : joinAck(m.room, 1)));
  const rt = new RoundtableClient('ws://h/ws', { ...fast, WebSocket: FakeWS, storage: memory() });
  const ack = await rt.createRoom({ title: 't', name: 'Fay', community: 'b1c9xk4t2m', facilitatorKey: 'ck' });
  assert.equal(opened.at(-1), 'ws://h/ws/B1C9XK4T2M');
  assert.equal(ack.community, 'b1c9xk4t2m');
  rt.ws.close(1006);
  await rt.once('resumed', () => true, 2000);
  assert.equal(opened.at(-1), `ws://h/ws/${ack.room}`);
  rt.close();
});

test('a held seat survives failed handshakes and room_not_found, then resumes the same member', { timeout: 20000 }, async () => {
  const storage = memory({ 'roundtable:B1AAAAAA': JSON.stringify({ room: 'B1AAAAAA', token: 'tok', member: 7, role: 'member' }) });
  // Attempts 1-3: the node is down (503 handshake); 4-5: a node that does not know the room; then the room's node.
  const { FakeWS, opened } = fakeWS((url, n) => (n <= 3 ? 'refuse' : (m) => (n <= 5 ? { type: 'error', code: 'room_not_found', message: 'no room' } : joinAck(m.room, 7))));
  const rt = new RoundtableClient('ws://h/ws', { ...fast, WebSocket: FakeWS, storage });
  const lost = [];
  rt.on('session-lost', (e) => lost.push(e));
  const ack = await rt.join({ room: 'B1AAAAAA' });
  assert.equal(ack.member, 7);
  assert.equal(lost.length, 0);
  assert.ok(storage.getItem('roundtable:B1AAAAAA'), 'the seat was forgotten');
  assert.ok(opened.length >= 6 && opened.every((u) => u === 'ws://h/ws/B1AAAAAA'), opened.join(' '));
  rt.close();
});

test('an outage longer than resumeGiveUp ends in unreachable, the token kept', { timeout: 20000 }, async () => {
  const storage = memory({ 'roundtable:C0AAAAAA': JSON.stringify({ room: 'C0AAAAAA', token: 'tok', member: 3, role: 'member' }) });
  const { FakeWS } = fakeWS(() => 'refuse');
  const rt = new RoundtableClient('ws://h/ws', { ...fast, resumeGiveUp: 150, WebSocket: FakeWS, storage });
  await assert.rejects(rt.join({ room: 'C0AAAAAA' }), (e) => e.code === 'unreachable');
  assert.equal(rt.connectionState, 'closed');
  assert.ok(storage.getItem('roundtable:C0AAAAAA'));
});

test('a new join to an unreachable room rejects after joinAttempts', { timeout: 20000 }, async () => {
  const { FakeWS, opened } = fakeWS(() => 'refuse');
  const rt = new RoundtableClient('ws://h/ws', { ...fast, WebSocket: FakeWS, storage: memory() });
  await assert.rejects(rt.join({ room: 'ZZZZZZZZ', name: 'Ann' }), (e) => e.code === 'unreachable');
  assert.equal(opened.length, 3);
});

test('bad_credentials still ends the seat', { timeout: 20000 }, async () => {
  const storage = memory({ 'roundtable:A1AAAAAA': JSON.stringify({ room: 'A1AAAAAA', token: 'old', member: 3, role: 'member' }) });
  const { FakeWS } = fakeWS(() => (m) => (m.token ? { type: 'error', code: 'bad_credentials', message: 'no' } : joinAck(m.room, 9)));
  const rt = new RoundtableClient('ws://h/ws', { ...fast, WebSocket: FakeWS, storage });
  const ack = await rt.join({ room: 'A1AAAAAA', name: 'Ann' });
  assert.equal(ack.member, 9);
  rt.close();
});
