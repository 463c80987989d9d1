// A consumer of @roundtable/client type-checked by typecheck.test.mjs (tsc --noEmit --strict): what
// should compile does, and every `@ts-expect-error` line must be an error, so declarations that stop
// constraining anything fail the test too.
import { RoundtableClient, RoundtableError, emptyState, normalizeCode, type RoomState } from '@roundtable/client';
import type { ErrorCode, NeedAddedEvent, ProtocolVersion, RoomEvent, ServerMessage } from '@roundtable/client/messages';
import { reduce } from '@roundtable/client/state.js';
import { Transport, type Clock } from '@roundtable/client/transport.js';
import { SessionStore, memoryStore } from '@roundtable/client/session.js';

const clock: Clock = { now: () => 0, setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (t) => clearTimeout(t as number) };
const rt = new RoundtableClient('ws://127.0.0.1:8080/ws', { clock, storage: memoryStore(), resumeGiveUp: 60_000 });

export async function run(): Promise<string[]> {
  const created = await rt.createRoom({ title: 'Launch', name: 'Fay' });
  const key: string = created.facilitatorKey;
  const joined = await rt.join({ room: normalizeCode(created.room), facilitatorKey: key, name: 'Fay' });
  if ('resumed' in joined) console.log(joined.resumed === 'events' ? 'replayed' : 'fresh state');
  const { need } = await rt.request('need.submit', { text: 'Grants' });
  const created2 = await rt.request('poll.create', { question: 'Rank', kind: 'ranking', overNeeds: true, open: true });
  await rt.request('vote.cast', { poll: created2.poll, ranking: [need] });
  await rt.request('room.leave');
  rt.on('poll.results', (r) => console.log(r.poll, r.ballots, r.final));
  rt.on('member.joined', (m) => console.log(m.member.name));
  rt.on('reconnecting', (d) => console.log(d.attempt));
  rt.on('session-lost', (e) => console.log(e.code));
  const added: NeedAddedEvent = await rt.once('need.added', (m) => m.need.tags.includes('grants'));
  const state: RoomState = reduce(emptyState(), added);
  const v: ProtocolVersion = 1;
  try {
    await rt.request('poll.close', { poll: 1 });
  } catch (e) {
    if (e instanceof RoundtableError && e.code === 'poll_not_found') console.log(e.reply?.message);
  }
  const t = new Transport('ws://h/ws', { clock, random: () => 0.5 });
  new SessionStore(memoryStore()).save({ room: 'A1', token: 't' });
  const msgs: ServerMessage[] = [];
  const events: RoomEvent[] = [];
  return [String(v), String(state.seq), String(t.isOpen), String(msgs.length + events.length), ...rt.needsList().map((n) => n.text)];
}

// @ts-expect-error an unknown request type
rt.request('need.invent', {});
// @ts-expect-error a field of the wrong type
rt.request('vote.cast', { poll: 'one' });
// @ts-expect-error a ranking of strings
rt.request('vote.cast', { poll: 1, ranking: ['first'] });
// @ts-expect-error a required field missing
rt.request('need.submit', {});
// @ts-expect-error a field the request does not have
rt.request('need.submit', { text: 'x', colour: 'red' });
// @ts-expect-error neither a message type nor a client event
rt.on('need.addded', () => {});
// @ts-expect-error the ack of need.submit has no `poll`
rt.request('need.submit', { text: 'x' }).then((a) => a.poll);
// @ts-expect-error not an error code
export const code: ErrorCode = 'poll_closd';
// @ts-expect-error a room event's seq is a number
export const bad: NeedAddedEvent = { type: 'need.added', room: 'A', seq: '1', at: '', need: { id: 1, text: '', tags: [], createdAt: 0 } };
