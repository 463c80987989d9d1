// web/session.js: seats per room in a key-value store (localStorage in a browser).
// Run: node --test Scripts/tests/client/
import test from 'node:test';
import assert from 'node:assert/strict';
import { SessionStore, normalizeCode } from '../../../web/session.js';
import { memory } from './fakes.mjs';

test('sessions are kept per normalized room code under roundtable:ROOM', () => {
  const kv = memory();
  const store = new SessionStore(kv);
  store.save({ room: 'B1XO0L1I', token: 't', member: 3, role: 'member' });
  assert.deepEqual(JSON.parse(kv.getItem('roundtable:B1X00111')), { room: 'B1XO0L1I', token: 't', member: 3, role: 'member' });
  assert.equal(store.get('b1x-oo l1i').token, 't');
  store.forget('B1X00111');
  assert.equal(store.get('B1X00111'), null);
  assert.equal(normalizeCode(' e7z-98h5k '), 'E7Z98H5K');
});

test('a save keeps what it does not override: the facilitator key survives a resume', () => {
  const store = new SessionStore(memory());
  store.save({ room: 'A1', token: 't', member: 1, role: 'facilitator', facilitatorKey: 'k' });
  const merged = store.save({ room: 'A1', token: 't', member: 1, role: 'facilitator', facilitatorKey: undefined });
  assert.equal(merged.facilitatorKey, 'k');
});

test('a store that throws or holds garbage costs the stored seat, never the session', () => {
  const broken = { getItem: () => { throw new Error('denied'); }, setItem: () => { throw new Error('full'); }, removeItem: () => { throw new Error('denied'); } };
  const store = new SessionStore(broken);
  assert.deepEqual(store.save({ room: 'A1', token: 't' }), { room: 'A1', token: 't' });
  assert.equal(store.get('A1'), null);
  store.forget('A1');
  assert.equal(new SessionStore(memory({ 'roundtable:A1': '{not json' })).get('A1'), null);
});
