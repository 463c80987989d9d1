/**
 * The facilitator's run of show, above the console's tabs: the running step and what is next, one Next
 * control, the running step's controls (turnout, reveal, close), what the wall shows, the standing
 * announcement, and the join link with its QR code. The agenda itself is edited in agenda.js.
 * @module show
 */
import { h, fill } from './ui.js';
import { turnoutText } from './polls.js';
import { qrSVG } from './qr.js';
import { KIND_NAMES } from './agenda.js';
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
  // The server names the step and says why ("step 2 (Warm-up) is running now and cannot be edited; …").
  if (e?.code === 'step_locked') return `${m.charAt(0).toUpperCase()}${m.slice(1)}.`;
  const field = m.match(/^(?:steps\[(\d+)\]\.)?([\w.[\]]+): (.*)$/);
  if (e?.code === 'invalid_field' && field) {
    const where = field[1] != null ? `Step ${Number(field[1]) + 1}: ` : '';
    const name = field[2].replace(/^definition\./, '').replace(/^interviews\./, '').replace(/\[\d+\]/g, '').replace(/([A-Z])/g, ' $1').toLowerCase();
    return `${where}${name.replace(/\./g, ' ')} ${field[3].replace(/^must be (\d+)\.\.\.(\d+)$/, 'must be between $1 and $2')}.`;
  }
  return m || 'Something went wrong.';
}

/**
 * A plain-language error next to the controls that caused it, visible until dismissed or the next success.
 * `run(request, ok)` sends through `act` and fills the box on failure (resolving to undefined).
 */
export function errorBox(act, id) {
  const error = h('p', { class: 'field-error', id, role: 'alert', hidden: true });
  const dismiss = h('button', { type: 'button', class: 'small link-button', 'aria-label': 'Dismiss the message' }, 'Dismiss');
  const el = h('div', { class: 'error-box', hidden: true }, error, dismiss);
  dismiss.addEventListener('click', () => { el.hidden = true; });
  const fail = (e) => { error.hidden = false; error.textContent = plainError(e); el.hidden = false; };
  const run = (promise, ok) => act(promise, ok).then((r) => { el.hidden = true; return r; }, (e) => { fail(e); });
  return { el, run, fail };
}

/**
 * @param {import('./client.js').RoundtableClient} rt
 * @param {{act: Function, joinLink: (code: string) => string}} helpers
 */
export function buildShow(rt, { act, joinLink }) {
  const now = h('div', { class: 'show-now', id: 'show-now' });
  const nextLine = h('p', { class: 'show-next', id: 'show-next' });
  const nextBtn = h('button', { type: 'button', class: 'primary big-button when-open', id: 'agenda-next' }, 'Start');
  const { el: errors, run } = errorBox(act, 'show-error');
  nextBtn.addEventListener('click', () => run(rt.request('agenda.next'), 'Next step started'));

  const stepControls = h('div', { class: 'show-controls', id: 'show-controls' });
  const wallButtons = h('div', { class: 'wall-buttons', role: 'group', 'aria-label': 'What the wall shows' },
    WALL_VIEWS.map(([v, label]) => h('button', {
      type: 'button', class: 'small when-open', id: `wall-${v}`, 'aria-pressed': 'false',
      on: { click: () => run(rt.request('wall.show', { view: v, ...(['poll', 'results'].includes(v) && rt.state.agenda?.poll ? { poll: rt.state.agenda.poll } : {}) }), `The wall shows: ${label}`) },
    }, label)));
  const announcement = h('div', { class: 'show-announcement', id: 'show-announcement' });
  const qrBox = h('div', { class: 'show-qr', id: 'console-qr' });
  const linkOut = h('code', { id: 'console-join-link' });

  // Compact, since it stays above the console's tabs: at 1366x768 the tab content must still show.
  const el = h('section', { class: 'card show-card', id: 'run-of-show', 'aria-labelledby': 'show-h' },
    h('div', { class: 'show-head' }, h('h2', { id: 'show-h' }, 'Run of show'), now, nextLine),
    h('div', { class: 'show-main' },
      h('div', { class: 'show-primary' }, nextBtn, errors, stepControls),
      h('div', { class: 'show-wall' }, h('h3', { class: 'when-open' }, 'The wall shows'), wallButtons, announcement)));
  const join = h('section', { class: 'card', id: 'join-share', 'aria-labelledby': 'join-h' },
    h('h2', { id: 'join-h' }, 'Join link and QR code'), h('div', { class: 'join-share' }, qrBox, h('p', {}, linkOut)));

  let sig = '';
  let qrFor = '';
  return {
    el,
    join,
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
        : h('span', { class: 'hint' }, list.length ? 'Not started yet.' : 'No agenda yet: import one or add steps under Run of show.'));
      nextLine.textContent = nxt ? `· Next: ${nxt.title}` : list.length ? '· This is the last step.' : '';
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
    },
  };
}
