// Unit tests of web/client.js's reducer (`apply`): state as the server's messages shape it, no browser.
// Run: node --test Scripts/tests/client/
import test from 'node:test';
import assert from 'node:assert/strict';
import { RoundtableClient } from '../../../web/client.js';

const memory = () => { const m = new Map(); return { getItem: (k) => m.get(k) ?? null, setItem: (k, v) => m.set(k, String(v)), removeItem: (k) => m.delete(k) }; };

function clientWithState(state) {
  const rt = new RoundtableClient('ws://h/ws', { storage: memory(), WebSocket: class {} });
  rt.apply({ type: 'room.state', room: 'A1', seq: 1, members: [], needs: [], polls: [], ...state });
  return rt;
}

test('room.presence (large rooms) keeps the counts; the truncated member list is left as it is', () => {
  const rt = clientWithState({ memberCount: 150, onlineCount: 120, membersTruncated: true, members: [{ id: 1, name: 'Fay', online: true }] });
  rt.apply({ type: 'room.presence', room: 'A1', members: 180, online: 175 });
  assert.equal(rt.state.memberCount, 180);
  assert.equal(rt.state.onlineCount, 175);
  assert.deepEqual(Object.keys(rt.state.members), ['1']);
});

test('member.presence and member.left update the list of a small room', () => {
  const rt = clientWithState({ members: [{ id: 1, name: 'Fay', online: true }, { id: 2, name: 'Ann', online: true }] });
  rt.apply({ type: 'member.presence', room: 'A1', member: 2, online: false });
  assert.equal(rt.state.members[2].online, false);
  rt.apply({ type: 'member.left', room: 'A1', member: 2, reason: 'left' });
  assert.equal(rt.state.members[2], undefined);
});
