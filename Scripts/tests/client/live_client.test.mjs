// The JavaScript client against the real server, from Node: `.build/debug/roundtable serve` on an
// ephemeral loopback port with a fresh data folder (as run_python_tests.py starts it). A facilitator
// and a member create, join, submit needs, run a ranking poll over needs and follow the ranked needs;
// the member's connection drops and the client resumes with the missed events; a "reloaded page" with
// the same storage resumes the same seat. Every frame either client sent or received is then checked
// against docs/schema by Scripts/tests/contract.py.
// Needs the server built (`swift build`, done by Scripts/test.sh first) and Node's WebSocket or `ws`
// (Debian's node-ws).
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RoundtableClient } from '../../../web/client.js';
import { memory } from './fakes.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const BIN = join(ROOT, '.build', 'debug', 'roundtable');

function webSocketClass() {
  if (globalThis.WebSocket) return globalThis.WebSocket;
  // Node before 22: the `ws` package, from Debian's node-ws or a node_modules.
  const require = createRequire(import.meta.url);
  for (const where of ['ws', '/usr/share/nodejs/ws', '/usr/lib/nodejs/ws']) {
    try { return require(where); } catch { /* next */ }
  }
  return null;
}
const NodeWS = webSocketClass();
const skip = !existsSync(BIN) ? `the server is not built (${BIN}): run swift build`
  : !NodeWS ? 'no WebSocket for Node: Node 22+, or apt-get install node-ws' : false;

/** Every frame of every client, per connection, for the schema check at the end. */
const frames = [];
let connections = 0;
class RecordingWS extends (NodeWS || class {}) {
  constructor(url) {
    super(url);
    const conn = `js-${++connections}`;
    this.addEventListener('message', (ev) => frames.push({ conn, dir: 'received', text: String(ev.data) }));
    const send = this.send.bind(this);
    this.send = (text) => { frames.push({ conn, dir: 'sent', text }); send(text); };
  }
}

async function startServer() {
  const data = mkdtempSync(join(tmpdir(), 'rt-js-'));
  const portFile = join(data, 'port');
  const proc = spawn(BIN, ['serve', '--port', '0', '--data-dir', join(data, 'd'), '--web-root', join(ROOT, 'web'), '--port-file', portFile], { stdio: 'ignore' });
  const deadline = Date.now() + 15000;
  while (Date.now() < deadline) {
    const text = existsSync(portFile) ? readFileSync(portFile, 'utf8').trim() : '';
    if (text) return { url: `ws://127.0.0.1:${text}/ws`, stop: () => { proc.kill(); rmSync(data, { recursive: true, force: true }); } };
    if (proc.exitCode !== null) throw new Error(`server exited early (${proc.exitCode})`);
    await new Promise((r) => setTimeout(r, 50));
  }
  proc.kill();
  throw new Error('server did not start in 15 s');
}

const client = (url, storage = memory()) => new RoundtableClient(url, { WebSocket: RecordingWS, storage, minBackoff: 50, maxBackoff: 200, requestTimeout: 5000 });

test('create, join, needs, a ranking poll, the ranked needs, a dropped connection resumed, a reload', { skip, timeout: 60000 }, async () => {
  const server = await startServer();
  const clients = [];
  try {
    const fay = client(server.url);
    const annStore = memory();
    const ann = client(server.url, annStore);
    clients.push(fay, ann);

    const created = await fay.createRoom({ title: 'Launch', name: 'Fay', organization: 'Hub' });
    assert.equal(created.role, 'facilitator');
    assert.equal(fay.route, created.room);
    // Listen before acting: the event may arrive before the request's own ack.
    const seen = fay.once('member.joined', (m) => m.member.name === 'Ann');
    const joined = await ann.join({ room: created.room.toLowerCase(), name: 'Ann', organization: 'Food Bank' });
    assert.ok(joined.token);
    assert.equal(ann.state.room, created.room);
    await seen;
    assert.equal(fay.membersList().length, 2);

    const second = fay.once('need.added', (m) => m.need.text === 'Mentors for new staff');
    const grants = (await ann.request('need.submit', { text: 'Help writing grants', tags: ['grants'] })).need;
    const mentors = (await ann.request('need.submit', { text: 'Mentors for new staff' })).need;
    await second;
    const opened = ann.once('poll.opened');
    const { poll } = await fay.request('poll.create', { question: 'Rank the needs', kind: 'ranking', overNeeds: true, open: true });
    assert.equal((await opened).poll.id, poll);
    const options = ann.state.polls[poll].options.map((o) => o.id);
    assert.equal(options.length, 2);
    const ranked = ann.once('needs.ranking', (r) => r.needs.length === 2 && r.needs[0].support === 1);
    await ann.request('vote.cast', { poll, ranking: [mentors, grants].filter((id) => options.includes(id)) });
    assert.deepEqual(ann.state.polls[poll].yourBallot, { ranking: [mentors, grants] });
    const ranking = await ranked;
    assert.deepEqual(ranking.needs.map((n) => n.need), [mentors, grants], 'the ranked needs follow the only ballot');
    assert.deepEqual(ann.state.ranking.needs.map((n) => n.text), ['Mentors for new staff', 'Help writing grants']);

    // The member's connection drops; meanwhile a need is added. The client resumes with `since`.
    const seqBefore = ann.state.seq;
    const resumed = ann.once('resumed', () => true, 5000);
    const missed = ann.once('need.added', (m) => m.need.text === 'A venue for the fair', 5000);
    ann.ws.close(4000, 'test drop');
    await fay.request('need.submit', { text: 'A venue for the fair' });
    const ack = await resumed;
    assert.equal(ack.resumed, 'events');
    await missed;
    assert.ok(ann.needsList().some((n) => n.text === 'A venue for the fair'), 'the missed event was not applied');
    assert.ok(ann.state.seq > seqBefore);
    assert.equal(ann.me, joined.member);

    // A reloaded page: a new client on the same storage resumes the same seat.
    ann.close();
    const again = client(server.url, annStore);
    clients.push(again);
    // The resume's ack comes first, its fresh room.state right after: join() resolves on the ack.
    const fresh = again.once('room.state');
    const back = await again.join({ room: created.room });
    assert.equal(back.member, joined.member);
    assert.equal(back.resumed, 'state');
    await fresh;
    assert.equal(again.state.ranking.needs[0].need, mentors, 'the fresh room.state carries the ranking');
    await again.leave();
    assert.equal(annStore.getItem(`roundtable:${created.room}`), null, 'leave() forgot the seat');
  } finally {
    for (const c of clients) c.close();
    server.stop();
  }

  // Every frame against docs/schema, through the same validator as the Python and browser tests.
  const check = spawnSync('python3', ['-c', `
import json, sys
sys.path.insert(0, ${JSON.stringify(join(ROOT, 'Scripts', 'tests'))})
import contract
wires, bad = {}, []
for f in json.load(sys.stdin):
    w = wires.setdefault(f["conn"], contract.Wire(f["conn"]))
    try:
        (w.sent if f["dir"] == "sent" else w.received)(f["text"])
    except contract.SchemaViolation as e:
        bad.append(str(e)[:300])
print(json.dumps({"bad": bad}))
`], { input: JSON.stringify(frames), encoding: 'utf8' });
  assert.equal(check.status, 0, check.stderr);
  const { bad } = JSON.parse(check.stdout);
  assert.ok(frames.length > 40, `only ${frames.length} frames recorded`);
  assert.deepEqual(bad, [], 'frames outside docs/schema');
});
