// web/community-lib.js: personal links, where community keys are kept, the ranking-trend sparkline and
// the one-request-per-connection call of the community page.
// Run: node --test Scripts/tests/client/
import test from 'node:test';
import assert from 'node:assert/strict';
import {
  normalizeCommunity, parseCommunityLink, memberLink, facilitatorLink, loadKeys, saveKeys, forgetKey, keyName,
  credentials, sparkline, trendText, communityRequest, rosterFileName, viewFromExport,
} from '../../../web/community-lib.js';
import { FakeClock, fakeNet, memory, flush } from './fakes.mjs';

const KEY = '0c8e2a4f6b1d3e5f7a9c0b2d4e6f8a1c';

test('a personal link carries the community in the query and the key in the fragment', () => {
  assert.deepEqual(parseCommunityLink('?c=c7q2m9xk4t', `#k=${KEY}`), { community: 'C7Q2M9XK4T', communityKey: KEY, facilitatorKey: null });
  assert.deepEqual(parseCommunityLink('?c=C7Q2M9XK4T', `#f=${KEY}`), { community: 'C7Q2M9XK4T', communityKey: null, facilitatorKey: KEY });
  // Look-alikes typed by hand are forgiven as the server forgives them; anything else is no community.
  assert.equal(normalizeCommunity('c7q2-m9xk4t'), 'C7Q2M9XK4T');
  assert.equal(normalizeCommunity('CO123456789'), null, 'too long');
  assert.equal(normalizeCommunity('C0I2345678'), 'C012345678');
  // On a cluster node the id starts with the node's prefix (0 to 3 characters), then C: still 10 in all.
  assert.equal(normalizeCommunity('b1c9xk4t2m'), 'B1C9XK4T2M');
  assert.equal(normalizeCommunity('XYZW123456'), null, 'no C after at most 3 prefix characters');
  assert.equal(normalizeCommunity('C7Q2M9XK4U'), null, 'U is not Crockford base32');
  assert.equal(parseCommunityLink('', '').community, null);
  // A key that is not a plausible key (markup, spaces, too short) is ignored rather than stored.
  assert.equal(parseCommunityLink('?c=C7Q2M9XK4T', '#k=<script>').communityKey, null);
  assert.equal(parseCommunityLink('?c=C7Q2M9XK4T', '#k=abc').communityKey, null);
  // Links built by the page parse back to what they were built from.
  const m = new URL(memberLink('https://meet.example.org', 'C7Q2M9XK4T', KEY));
  assert.equal(m.pathname, '/community.html');
  assert.deepEqual(parseCommunityLink(m.search, m.hash), { community: 'C7Q2M9XK4T', communityKey: KEY, facilitatorKey: null });
  const f = new URL(facilitatorLink('https://meet.example.org', 'C7Q2M9XK4T', KEY));
  assert.equal(parseCommunityLink(f.search, f.hash).facilitatorKey, KEY);
});

test('keys are kept per community under roundtable:community:ID, both roles side by side', () => {
  const kv = memory();
  saveKeys(kv, 'C7Q2M9XK4T', { communityKey: 'm1', facilitatorKey: null });
  saveKeys(kv, 'C7Q2M9XK4T', { facilitatorKey: 'f1', communityKey: undefined });
  assert.equal(keyName('C7Q2M9XK4T'), 'roundtable:community:C7Q2M9XK4T');
  assert.deepEqual(JSON.parse(kv.getItem('roundtable:community:C7Q2M9XK4T')), { communityKey: 'm1', facilitatorKey: 'f1' });
  assert.deepEqual(credentials('C7Q2M9XK4T', loadKeys(kv, 'C7Q2M9XK4T'), 'facilitator'), { community: 'C7Q2M9XK4T', facilitatorKey: 'f1' });
  assert.deepEqual(credentials('C7Q2M9XK4T', loadKeys(kv, 'C7Q2M9XK4T'), 'member'), { community: 'C7Q2M9XK4T', communityKey: 'm1' });
  forgetKey(kv, 'C7Q2M9XK4T', 'communityKey');
  assert.deepEqual(credentials('C7Q2M9XK4T', loadKeys(kv, 'C7Q2M9XK4T'), 'member'), { community: 'C7Q2M9XK4T', facilitatorKey: 'f1' });
  forgetKey(kv, 'C7Q2M9XK4T', 'facilitatorKey');
  assert.equal(kv.getItem('roundtable:community:C7Q2M9XK4T'), null);
  assert.equal(credentials('C7Q2M9XK4T', {}, 'member'), null);
  kv.setItem('roundtable:community:CX', '{broken');
  assert.deepEqual(loadKeys(kv, 'CX'), {});
});

test('sparkline: rank 1 at the top, oldest session at the left, evenly spaced', () => {
  const g = sparkline([{ rank: 3 }, { rank: 1 }, { rank: 2 }], { width: 100, height: 30, pad: 5 });
  assert.deepEqual(g.points, [[5, 25], [50, 5], [95, 15]]);
  assert.equal(g.path, 'M5 25 L50 5 L95 15');
  assert.equal(g.worst, 3);
  // A need ranked first every time sits on the top line, not in the middle.
  assert.deepEqual(sparkline([{ rank: 1 }, { rank: 1 }], { width: 100, height: 30, pad: 5 }).points, [[5, 5], [95, 5]]);
  // One session: one dot in the middle of the width; no session: nothing to draw.
  assert.deepEqual(sparkline([{ rank: 2 }], { width: 100, height: 30, pad: 5 }).points, [[50, 25]]);
  assert.deepEqual(sparkline([], {}).points, []);
  assert.equal(sparkline([], {}).path, '');
  // A shared axis: a worse worst rank flattens the same ranks toward the top.
  assert.deepEqual(sparkline([{ rank: 2 }], { width: 100, height: 30, pad: 5, worst: 5 }).points, [[50, 10]]);
  // Every point stays inside the box.
  for (const [x, y] of sparkline([{ rank: 40 }, { rank: 1 }, { rank: 17 }]).points) assert.ok(x >= 0 && x <= 96 && y >= 0 && y <= 28);
});

test('the trend in words: smaller ranks are better places', () => {
  assert.equal(trendText([{ rank: 3 }, { rank: 1 }]), 'Ranked 3, then 1 over 2 sessions: rising.');
  assert.equal(trendText([{ rank: 1 }, { rank: 4 }]), 'Ranked 1, then 4 over 2 sessions: falling.');
  assert.equal(trendText([{ rank: 2 }, { rank: 2 }]), 'Ranked 2, then 2 over 2 sessions: steady.');
  assert.equal(trendText([{ rank: 2 }]), 'Ranked 2 in 1 session.');
  assert.equal(trendText([]), 'Not ranked in any session yet.');
  assert.match(trendText([1, 2, 3, 4, 5, 6, 7].map((rank) => ({ rank }))), /^Ranked 1, 2, …, 6, 7 over 7 sessions: falling\.$/);
});

test('communityRequest: one connection per request, resolved with the ack and closed', async () => {
  const clock = new FakeClock();
  const { FakeWS, sockets } = fakeNet(clock);
  const p = communityRequest('ws://x/ws', 'community.view', { community: 'C7Q2M9XK4T', communityKey: KEY }, { WebSocket: FakeWS });
  // The community's own node: a cluster's proxy routes /ws/{id} there (a bare /ws reaches any node).
  assert.equal(sockets[0].url, 'ws://x/ws/C7Q2M9XK4T');
  sockets[0].accept();
  assert.deepEqual(sockets[0].sent, [{ type: 'community.view', ref: 1, community: 'C7Q2M9XK4T', communityKey: KEY }]);
  sockets[0].deliver({ type: 'hello' });
  sockets[0].reply({ type: 'ack', community: 'C7Q2M9XK4T', name: 'Peers' });
  assert.deepEqual(await p, { community: 'C7Q2M9XK4T', name: 'Peers' });
  assert.ok(sockets[0].closedWith, 'the connection is closed after the reply');
  // The next request opens a new connection (the server closes ones that never join a room).
  const q = communityRequest('ws://x/ws', 'community.directory', { community: 'C7Q2M9XK4T' }, { WebSocket: FakeWS });
  assert.equal(sockets.length, 2);
  sockets[1].accept();
  sockets[1].reply({ type: 'error', code: 'unknown_type', message: 'no such request' });
  await assert.rejects(q, (e) => e.code === 'unknown_type' && e.message === 'no such request');
});

test('communityRequest: a connection lost before the reply or no reply in time rejects, never resends', async () => {
  const clock = new FakeClock();
  const { FakeWS, sockets } = fakeNet(clock);
  const p = communityRequest('ws://x/ws', 'community.import', { csv: 'name\nA\n' }, { WebSocket: FakeWS });
  sockets[0].accept();
  sockets[0].drop();
  await assert.rejects(p, (e) => e.code === 'unreachable');
  assert.equal(sockets.length, 1);
  assert.equal(sockets[0].sent.length, 1);
  const q = communityRequest('ws://x/ws', 'community.view', {}, { WebSocket: FakeWS, timeout: 20 });
  sockets[1].accept();
  await assert.rejects(q, (e) => e.code === 'timeout');
  await flush();
});

test('the roster download is named after the community and the day', () => {
  assert.equal(rosterFileName('C7Q2M9XK4T', new Date(Date.UTC(2026, 11, 6, 21))), 'roster-C7Q2M9XK4T-2026-12-06.csv');
});

test('a server without community.view: the facilitator page is built from the export, merged needs left out', () => {
  const x = {
    name: 'Peers', createdAt: 1, pairsMet: 2, csv: '',
    members: [{ member: 1, name: 'Ana', organization: '', expertise: [], group: '' }],
    sessions: [{ room: 'E7Z98H5K', openedAt: 5 }],
    backlog: [
      { need: 1, text: 'Grants', tags: [], status: 'open', firstRoom: 'E7Z98H5K', rankings: [{ room: 'E7Z98H5K', rank: 1, score: 0.5 }] },
      { need: 2, text: 'Grant help', tags: [], status: 'merged', mergedInto: 1, firstRoom: 'E7Z98H5K', rankings: [] },
    ],
  };
  const v = viewFromExport('C7Q2M9XK4T', x);
  assert.deepEqual(v.backlog.map((b) => b.need), [1]);
  assert.equal(v.memberCount, 1);
  assert.equal(v.role, 'facilitator');
  assert.equal(v.current, undefined, 'the export does not say which session is open');
  assert.equal(v.groups, undefined, 'no groups editor without the server knowing standing groups');
});
