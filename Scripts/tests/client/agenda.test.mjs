// Unit tests of the agenda editor's pure parts (web/agenda.js): new steps the server accepts, what is
// said before sending, and the activity file an export writes (Config/activities/*.json).
// Run: node --test Scripts/tests/client/
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { newStep, missingSetting, activityFile, KIND_NAMES } from '../../../web/agenda.js';

test('every kind has a name and a new step of it carries its kind\'s settings', () => {
  for (const kind of Object.keys(KIND_NAMES)) assert.equal(newStep(kind).kind, kind);
  assert.equal(newStep('break').seconds, 300);
  assert.deepEqual(newStep('groups').groups, { fromNeeds: 4 });
  assert.equal(newStep('poll-over-needs').definition.overNeeds, true);
  assert.equal(newStep('interviews').interviews.turnSeconds, 300);
});

test('missing settings are said in plain words before sending', () => {
  assert.equal(missingSetting({ kind: 'announcement' }), 'An announcement step needs its text.');
  assert.equal(missingSetting({ kind: 'announcement', text: 'Lunch' }), null);
  assert.equal(missingSetting(newStep('poll')), 'A poll step needs its question.');
  assert.match(missingSetting({ kind: 'poll', definition: { question: 'Q', kind: 'single', options: ['A'] } }), /two options/);
  assert.equal(missingSetting({ kind: 'poll', definition: { question: 'Q', kind: 'open' } }), null);
  assert.equal(missingSetting(newStep('poll-over-needs')), null);
  assert.match(missingSetting({ kind: 'groups', groups: { mode: 'self-select', groups: [] } }), /at least one group/);
  assert.equal(missingSetting(newStep('welcome')), null);
});

test('an export drops ids and turns a step naming a poll of the room into its definition', () => {
  const state = {
    title: 'Launch',
    agenda: { current: 1, steps: [{ id: 1, kind: 'welcome', title: 'Hi', text: 'Welcome' }, { id: 2, kind: 'poll', title: 'Warm-up', poll: 7 }] },
    polls: { 7: { id: 7, state: 'closed', question: 'Coffee or tea?', kind: 'single', visibility: 'live', options: [{ id: 1, label: 'Coffee' }, { id: 2, label: 'Tea' }], results: { ballots: 3 }, turnout: {} } },
  };
  const file = activityFile(state);
  assert.equal(file.activity.title, 'Launch');
  assert.deepEqual(file.activity.agenda[0], { kind: 'welcome', title: 'Hi', text: 'Welcome' });
  assert.deepEqual(file.activity.agenda[1], { kind: 'poll', title: 'Warm-up', definition: { question: 'Coffee or tea?', kind: 'single', visibility: 'live', options: ['Coffee', 'Tea'] } });
});

test('the shipped activity file is one the editor can export again', () => {
  const { activity } = JSON.parse(readFileSync(new URL('../../../Config/activities/needs-assessment.json', import.meta.url)));
  const steps = activity.agenda.map((s, i) => ({ id: i + 1, ...s }));
  const back = activityFile({ title: activity.title, agenda: { steps }, polls: {} }).activity;
  assert.deepEqual(back.agenda, activity.agenda);
});
