/**
 * The facilitator's run of show, first in the console: the agenda with the running step and what is
 * next, one Next control, the running step's controls (turnout, reveal, close), what the wall shows,
 * the standing announcement, the join link with its QR code, and agenda import/export and editing.
 * @module show
 */
import { h, fill } from './ui.js';
import { turnoutText } from './polls.js';
import { qrSVG } from './qr.js';

const KIND_NAMES = {
  welcome: 'Welcome', 'needs-intake': 'Needs intake', poll: 'Poll', 'poll-over-needs': 'Poll over the needs', interviews: 'Interviews',
  groups: 'Groups', break: 'Break', announcement: 'Announcement', closing: 'Closing',
};
const WALL_VIEWS = [
  ['join', 'Join screen'], ['poll', 'Poll'], ['results', 'Results'], ['needs', 'Ranked needs'], ['interviews', 'Interview countdown'],
  ['groups', 'Groups board'], ['timer', 'Timer'], ['announcement', 'Announcement'], ['closing', 'Closing'],
];

/** Plain-language text for a request's error, to show next to the control that made it. */
export function plainError(e) {
  const m = String(e?.message || e || '');
  const known = {
    no_needs: 'There are no needs to vote on yet: collect some first.',
    agenda_end: 'That was the last step of the agenda.',
    results_hidden: 'Members cannot see these results yet: reveal them first.',
    interviews_active: 'Interviews are already running.',
    poll_not_open: 'That poll has not been opened yet.',
  };
  if (known[e?.code]) return known[e.code];
  const field = m.match(/^(?:steps\[(\d+)\]\.)?([\w.[\]]+): (.*)$/);
  if (e?.code === 'invalid_field' && field) {
    const where = field[1] != null ? `Step ${Number(field[1]) + 1}: ` : '';
    const name = field[2].replace(/^definition\./, '').replace(/^interviews\./, '').replace(/\[\d+\]/g, '').replace(/([A-Z])/g, ' $1').toLowerCase();
    return `${where}${name.replace(/\./g, ' ')} ${field[3].replace(/^must be (\d+)\.\.\.(\d+)$/, 'must be between $1 and $2')}.`;
  }
  return m || 'Something went wrong.';
}

/**
 * @param {import('./client.js').RoundtableClient} rt
 * @param {{act: Function, field: Function, joinLink: (code: string) => string}} helpers
 */
export function buildShow(rt, { act, field, joinLink }) {
  const now = h('div', { class: 'show-now', id: 'show-now' });
  const nextLine = h('p', { class: 'show-next', id: 'show-next' });
  const nextBtn = h('button', { type: 'button', class: 'primary big-button when-open', id: 'agenda-next' }, 'Start');
  const error = h('p', { class: 'field-error', id: 'show-error', role: 'alert', hidden: true });
  const dismiss = h('button', { type: 'button', class: 'small link-button', 'aria-label': 'Dismiss the message' }, 'Dismiss');
  const errorBox = h('div', { class: 'error-box', hidden: true }, error, dismiss);
  dismiss.addEventListener('click', () => { errorBox.hidden = true; });
  const fail = (e) => { error.hidden = false; error.textContent = plainError(e); errorBox.hidden = false; };
  const run = (promise, ok) => act(promise, ok).then((r) => { errorBox.hidden = true; return r; }, (e) => { fail(e); });
  nextBtn.addEventListener('click', () => run(rt.request('agenda.next'), 'Next step started'));

  const stepControls = h('div', { class: 'show-controls', id: 'show-controls' });
  const steps = h('ol', { class: 'agenda-steps', id: 'agenda-steps' });
  const wallButtons = h('div', { class: 'wall-buttons', role: 'group', 'aria-label': 'What the wall shows' },
    WALL_VIEWS.map(([v, label]) => h('button', {
      type: 'button', class: 'small when-open', id: `wall-${v}`, 'aria-pressed': 'false',
      on: { click: () => run(rt.request('wall.show', { view: v, ...(['poll', 'results'].includes(v) && rt.state.agenda?.poll ? { poll: rt.state.agenda.poll } : {}) }), `The wall shows: ${label}`) },
    }, label)));
  const announcement = h('div', { class: 'show-announcement', id: 'show-announcement' });
  const qrBox = h('div', { class: 'show-qr', id: 'console-qr' });
  const linkOut = h('code', { id: 'console-join-link' });

  // Import / export of the agenda as an activity file (Config/activities/*.json).
  const file = h('input', { type: 'file', id: 'agenda-import', accept: '.json,application/json' });
  file.addEventListener('change', async () => {
    const f = file.files?.[0];
    if (!f) return;
    try {
      const json = JSON.parse(await f.text());
      const activity = json.activity || json;
      if (!Array.isArray(activity.agenda)) throw new Error('this file has no "agenda" list');
      await run(rt.request('agenda.set', { activity }), `Agenda loaded: ${activity.agenda.length} steps`);
    } catch (e) { fail(e); } finally { file.value = ''; }
  });
  const exportBtn = h('button', { type: 'button', id: 'agenda-export', class: 'small' }, 'Export agenda');
  exportBtn.addEventListener('click', () => {
    const agenda = (rt.state.agenda?.steps || []).map(({ id, ...s }) => {
      // A step that names a poll of this room carries that poll's definition, so the file works in any room.
      if (s.poll != null && rt.state.polls[s.poll]) {
        const { id: _, state, options, openedAt, closedAt, results, yourBallot, turnout, revealed, ...def } = rt.state.polls[s.poll];
        s.definition = { ...def, ...(options && !def.overNeeds ? { options: options.map((o) => o.label) } : {}) };
        delete s.poll;
      }
      return s;
    });
    const blob = new Blob([JSON.stringify({ activity: { title: rt.state.title, agenda } }, null, 2)], { type: 'application/json' });
    const a = h('a', { href: URL.createObjectURL(blob), download: `agenda-${rt.state.room}.json`, class: 'offscreen' });
    document.body.append(a);
    a.click();
    a.remove();
  });

  // Adding a step: the kinds that need few settings, and a simple poll.
  const kind = h('select', { id: 'step-kind' }, Object.entries(KIND_NAMES).map(([v, l]) => h('option', { value: v }, l)));
  const title = h('input', { id: 'step-title', maxlength: 200, placeholder: 'Title (optional)' });
  const text = h('input', { id: 'step-text', maxlength: 1000, placeholder: 'Words for the room, question, or announcement' });
  const options = h('input', { id: 'step-options', placeholder: 'Options, separated by ;' });
  const seconds = h('input', { id: 'step-minutes', type: 'number', min: 1, value: '5' });
  const addForm = h('form', { id: 'step-add', class: 'step-add when-open' },
    h('div', { class: 'row' }, field('Kind', kind), field('Title', title)),
    field('Text or question', text), field('Poll options', options, 'For a poll; a poll over the needs takes the needs.'),
    field('Minutes (break, interview turns)', seconds),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit' }, 'Add step')));
  addForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const s = { kind: kind.value, title: title.value.trim(), text: text.value.trim() };
    const mins = Math.max(1, Math.round(Number(seconds.value) * 60));
    if (s.kind === 'poll') { s.definition = { question: s.text, kind: 'single', options: options.value.split(';').map((x) => x.trim()).filter(Boolean) }; s.text = ''; }
    if (s.kind === 'poll-over-needs') { s.definition = { question: s.text || 'Rank the needs', kind: 'ranking' }; s.text = ''; }
    if (s.kind === 'break') s.seconds = mins;
    if (s.kind === 'interviews') s.interviews = { turnSeconds: Math.min(7200, mins), reportSeconds: 60 };
    if (s.kind === 'groups') s.groups = { fromNeeds: 4 };
    run(rt.request('agenda.set', { steps: [...(rt.state.agenda?.steps || []), s] }), 'Step added').then(() => { title.value = ''; text.value = ''; options.value = ''; });
  });

  const el = h('section', { class: 'card show-card', id: 'run-of-show', 'aria-labelledby': 'show-h' },
    h('div', { class: 'show-head' }, h('h2', { id: 'show-h' }, 'Run of show'), now),
    h('div', { class: 'show-main' },
      h('div', { class: 'show-primary' }, nextLine, nextBtn, errorBox, stepControls),
      h('div', { class: 'show-wall' }, h('h3', {}, 'The wall shows'), wallButtons, announcement)),
    h('details', { class: 'show-more', id: 'agenda-details' }, h('summary', {}, 'Agenda'), steps,
      h('div', { class: 'form-actions' }, h('label', { class: 'button small', for: 'agenda-import' }, 'Import agenda file'), file, exportBtn),
      h('details', { class: 'builder' }, h('summary', {}, 'Add a step'), addForm)),
    h('details', { class: 'show-more', id: 'join-details' }, h('summary', {}, 'Join link and QR code'), h('div', { class: 'join-share' }, qrBox, h('p', {}, linkOut))));

  let sig = '';
  let qrFor = '';
  return {
    el,
    update() {
      const a = rt.state.agenda || { steps: [] };
      const list = a.steps || [];
      const i = list.findIndex((s) => s.id === a.current);
      const cur = list[i];
      const nxt = list[i + 1] ?? (i < 0 ? list[0] : undefined);
      const poll = a.poll != null ? rt.state.polls[a.poll] : null;
      const link = joinLink(rt.state.room);
      if (qrFor !== link) {
        qrFor = link;
        linkOut.textContent = link;
        fill(qrBox, qrSVG(link) || h('p', { class: 'hint' }, 'QR code unavailable (web/vendor/qrcode-generator.js is missing: run Scripts/deps.sh).'));
      }
      const next = JSON.stringify([a, poll, rt.state.wall, rt.state.announcement, rt.roomClosed]);
      if (next === sig) return;
      sig = next;
      fill(now, cur ? [h('span', { class: 'label' }, `Now · step ${i + 1} of ${list.length}`), h('strong', { id: 'show-current' }, cur.title), h('span', { class: 'badge' }, KIND_NAMES[cur.kind] || cur.kind)]
        : h('span', { class: 'hint' }, list.length ? 'Not started yet.' : 'No agenda yet: import one or add steps below.'));
      nextLine.textContent = nxt ? `Next: ${nxt.title}` : list.length ? 'This is the last step.' : '';
      nextBtn.textContent = nxt ? (cur ? `Next: ${nxt.title}` : `Start: ${nxt.title}`) : 'Next';
      nextBtn.disabled = !nxt;
      // The running step's own controls come first.
      const ctl = [];
      if (poll) {
        ctl.push(h('p', { class: 'show-poll' }, h('strong', {}, poll.question), ' ', h('span', { class: 'turnout', id: 'show-turnout' }, turnoutText(poll) || (poll.state === 'closed' ? 'Closed' : ''))));
        const hidden = poll.visibility !== 'live' && !poll.revealed && !(poll.visibility === 'after-close' && poll.state === 'closed');
        if (hidden && poll.state !== 'draft') ctl.push(h('button', { type: 'button', class: 'when-open', id: 'poll-reveal', on: { click: () => run(rt.request('poll.reveal', { poll: poll.id }), 'Results revealed') } }, 'Reveal results to everyone'));
        if (poll.state === 'open') ctl.push(h('button', { type: 'button', class: 'when-open', id: 'show-close-poll', on: { click: () => run(rt.request('poll.close', { poll: poll.id }), 'Poll closed') } }, 'Close poll'));
      }
      if (cur?.kind === 'interviews') ctl.push(h('button', { type: 'button', class: 'when-open', id: 'show-next-round', on: { click: () => run(rt.request('interviews.next'), 'Next round started') } }, 'Next interview round'));
      fill(stepControls, ctl.length ? h('div', { class: 'form-actions' }, ctl) : null);
      for (const [v] of WALL_VIEWS) el.querySelector(`#wall-${v}`).setAttribute('aria-pressed', String(rt.state.wall?.view === v));
      const ann = rt.state.announcement;
      fill(announcement, ann ? [h('p', {}, h('span', { class: 'label' }, 'Announcement up: '), ann.text),
        h('button', { type: 'button', class: 'small when-open', id: 'announcement-clear', on: { click: () => run(rt.request('room.clearAnnouncement'), 'Announcement taken down') } }, 'Take it down')] : null);
      fill(steps, list.map((s, k) => h('li', { class: `agenda-step${s.id === a.current ? ' current' : ''}`, 'aria-current': s.id === a.current ? 'step' : null, dataset: { step: s.id } },
        h('span', { class: 'step-no' }, String(k + 1)), h('span', { class: 'step-title' }, s.title), h('span', { class: 'hint' }, ` · ${KIND_NAMES[s.kind] || s.kind}`),
        h('span', { class: 'row-actions when-open' },
          s.id !== a.current ? h('button', { type: 'button', class: 'small', id: `agenda-go-${s.id}`, on: { click: () => run(rt.request('agenda.goto', { step: s.id }), `Started: ${s.title}`) } }, 'Start') : null,
          s.id !== a.current ? h('button', { type: 'button', class: 'small danger', 'aria-label': `Remove step ${k + 1}`, on: { click: () => run(rt.request('agenda.set', { steps: list.filter((x) => x.id !== s.id) }), 'Step removed') } }, 'Remove') : null))));
    },
  };
}
