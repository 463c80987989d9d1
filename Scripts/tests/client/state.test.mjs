// Unit tests of the client's room-state reducer (web/state.js): the run of show, the wall, reveals,
// turnout and the standing announcement, plus the older events it has always handled.
// Run: node --test Scripts/tests/client/
import test from 'node:test';
import assert from 'node:assert/strict';
import { emptyState, reduce } from '../../../web/state.js';

const base = () => reduce(emptyState(), {
  type: 'room.state', room: 'R1', seq: 5, title: 'Launch', you: { id: 2, role: 'member' },
  members: [{ id: 1, name: 'Fay', role: 'facilitator' }, { id: 2, name: 'Ann', role: 'member' }],
  needs: [{ id: 1, text: 'Grants' }],
  polls: [{ id: 1, state: 'open', question: 'Q', kind: 'single', turnout: { answered: 0, present: 3 } }],
  agenda: { steps: [{ id: 1, kind: 'welcome', title: 'Welcome' }, { id: 2, kind: 'poll', title: 'Warm-up' }], current: 1, startedAt: 10 },
  wall: { view: 'join' },
  announcement: { text: 'Lunch at noon', at: 5 },
}, { me: 2, now: 100 });

test('room.state carries the agenda, the wall and the standing announcement', () => {
  const s = base();
  assert.equal(s.agenda.current, 1);
  assert.deepEqual(s.agenda.steps.map((x) => x.title), ['Welcome', 'Warm-up']);
  assert.deepEqual(s.wall, { view: 'join' });
  assert.equal(s.announcement.text, 'Lunch at noon');
  const bare = reduce(emptyState(), { type: 'room.state', room: 'R2', seq: 1 });
  assert.deepEqual(bare.agenda, { steps: [] });
  assert.equal(bare.announcement, null);
  assert.equal(bare.wall.view, 'join');
});

test('agenda.step moves the current step; agenda.changed and agenda.full replace the steps', () => {
  let s = base();
  s = reduce(s, { type: 'agenda.step', current: 2, startedAt: 20, step: { id: 2 } });
  assert.equal(s.agenda.current, 2);
  assert.equal(s.agenda.steps.length, 2, 'the steps stay');
  s = reduce(s, { type: 'agenda.changed', agenda: { steps: [{ id: 2, kind: 'poll', title: 'Warm-up' }], current: 2 } });
  assert.equal(s.agenda.steps.length, 1);
  s = reduce(s, { type: 'agenda.full', agenda: { steps: [{ id: 2, kind: 'poll', title: 'Warm-up', definition: { question: 'Tea?' } }], current: 2 } });
  assert.equal(s.agenda.steps[0].definition.question, 'Tea?');
});

test('agenda.step keeps the locked steps current: every step started stays locked, also after going back', () => {
  let s = reduce(base(), { type: 'agenda.full', agenda: { steps: [{ id: 1, kind: 'welcome' }, { id: 2, kind: 'poll' }, { id: 3, kind: 'break' }], current: 1, locked: [1] } });
  s = reduce(s, { type: 'agenda.step', current: 3, startedAt: 20, step: { id: 3 } });
  assert.deepEqual(s.agenda.locked, [1, 3]);
  s = reduce(s, { type: 'agenda.step', current: 1, startedAt: 30, step: { id: 1 } });
  assert.deepEqual(s.agenda.locked, [1, 3], 'agenda.goto back does not unlock a step that ran');
});

test('wall.changed, poll.revealed and poll.turnout', () => {
  let s = base();
  s = reduce(s, { type: 'wall.changed', wall: { view: 'results', poll: 1 } });
  assert.deepEqual(s.wall, { view: 'results', poll: 1 });
  s = reduce(s, { type: 'poll.turnout', poll: 1, answered: 2, present: 3 });
  assert.deepEqual(s.polls[1].turnout, { answered: 2, present: 3 });
  s = reduce(s, { type: 'poll.revealed', poll: 1 });
  assert.equal(s.polls[1].revealed, true);
  s = reduce(s, { type: 'poll.closed', poll: { id: 1, state: 'closed', anonymous: true } });
  assert.equal(s.polls[1].turnout, undefined, 'no turnout once closed');
  s = reduce(s, { type: 'poll.turnout', poll: 1, answered: 3, present: 3 });
  assert.equal(s.polls[1].turnout, undefined, 'a late turnout does not bring it back');
});

test('room-wide announcements stand until cleared; group announcements do not', () => {
  let s = base();
  s = reduce(s, { type: 'room.announcement', text: 'Back at 11', at: '2026-01-01T10:00:00.000Z' });
  assert.equal(s.announcement.text, 'Back at 11');
  s = reduce(s, { type: 'room.announcement', text: 'Group only', group: 3 });
  assert.equal(s.announcement.text, 'Back at 11');
  assert.equal(s.announcements.at(-1).text, 'Group only');
  s = reduce(s, { type: 'room.announcementCleared' });
  assert.equal(s.announcement, null);
});

test('groups follow your membership', () => {
  let s = base();
  s = reduce(s, { type: 'groups.created', mode: 'self-select', groups: [{ id: 1, name: 'A', members: [] }] }, { me: 2 });
  assert.equal(s.groups.yourGroup, undefined);
  s = reduce(s, { type: 'group.changed', group: 1, members: [2] }, { me: 2 });
  assert.equal(s.groups.yourGroup, 1);
});

test('reduceAck: your own ballot from the vote.cast ack, dropped by vote.retract; unknown polls change nothing', async () => {
  const { reduceAck } = await import('../../../web/state.js');
  const s = base();
  assert.deepEqual(reduceAck(s, 'vote.cast', { poll: 1, option: 2 }, { type: 'ack', poll: 1 }), { type: 'vote.cast', poll: 1 });
  assert.deepEqual(s.polls[1].yourBallot, { option: 2 });
  assert.equal(reduceAck(s, 'vote.cast', { poll: 9, option: 2 }, { type: 'ack', poll: 9 }), null);
  assert.deepEqual(reduceAck(s, 'vote.retract', { poll: 1 }, { type: 'ack', poll: 1 }), { type: 'vote.retract', poll: 1 });
  assert.equal(s.polls[1].yourBallot, undefined);
  assert.equal(reduceAck(s, 'need.submit', { text: 'x' }, { type: 'ack', need: 4 }), null);
  s.interviews.yourPair = { pair: 3 };
  reduceAck(s, 'interview.rematch', {}, { type: 'ack', waiting: true });
  assert.deepEqual([s.interviews.waiting, s.interviews.yourPair], [true, null]);
});
