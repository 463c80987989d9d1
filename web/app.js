/**
 * The Roundtable web app: join or create a room, take part (polls, needs, interviews, groups),
 * run the room (facilitator console), or show it on a big screen (`?view=projector`).
 * @module app
 */
import { RoundtableClient, defaultURL, normalizeCode } from './client.js';
import { h, fill, clear, announce, flash, renderBars, countdown, copyText, parseTags, fmt } from './ui.js';
import { pollCard, renderResults, resultsBox, optionLabel } from './polls.js';
import { buildConsole } from './console.js';
import { buildTabs } from './tabs.js';
import { wallView } from './wall.js';
import { memberPanels } from './panels.js';
import { callPanel } from './call.js';
import { normalizeCommunity, loadKeys } from './community-lib.js';

const params = new URLSearchParams(location.search);
const hash = new URLSearchParams(location.hash.slice(1));
const projector = params.get('view') === 'projector';
const codeInURL = (location.pathname.match(/^\/r\/([^/?#]+)/) || [])[1];
/** `?c=ID`: the room is a session of this community, joined with the member's key kept by community.html. */
const communityInURL = normalizeCommunity(params.get('c'));

const rt = new RoundtableClient(defaultURL());
/** Exposed for debugging and the browser tests. */
globalThis.roundtable = rt;

const main = document.getElementById('main');
const connEl = document.getElementById('conn');
const connText = document.getElementById('conn-text');
const roomInfo = document.getElementById('room-info');
document.body.classList.toggle('projector', projector);

// ------------------------------------------------------------------ connection status

const CONN_TEXT = {
  idle: 'Not connected', connecting: 'Connecting…', open: 'Connected', ready: 'Ready', reconnecting: 'Reconnecting…', closed: 'Disconnected',
};
let wasLive = false;
function showConnection(s) {
  const live = s === 'open' && rt.joined;
  const state = s === 'open' && !rt.joined ? (rt.session ? 'reconnecting' : 'ready') : s;
  connEl.dataset.state = live ? 'live' : state;
  connText.textContent = live ? 'Live' : CONN_TEXT[state] || s;
  if (live && !wasLive) announce('Connected.');
  if (!live && wasLive) announce('Connection lost. Reconnecting…');
  wasLive = live;
}
rt.on('connection', showConnection);
rt.on('joined', () => showConnection(rt.connectionState));
rt.on('session-lost', (e) => {
  flash(e.code === 'removed' ? 'A facilitator removed you from this room.' : 'Your seat in this room is no longer valid. Please join again.');
  view = null;
  showJoin(rt.state.room || codeInURL);
});
rt.on('unreachable', (e) => {
  // The room's server stayed out of reach for minutes: stop trying, keep the seat for a later try.
  view = null;
  showJoin(rt.session?.room || rt.state.room || codeInURL, errorText(e));
});
rt.on('room-archived', (e) => {
  // The room went to rest while this page was away; the stored seat still works once it is reopened.
  view = null;
  showJoin(rt.session?.room || rt.state.room || codeInURL, errorText(e));
});

// ------------------------------------------------------------------ rendering loop

let view = null;
let frame = 0;
rt.on('change', () => {
  if (!view || frame) return;
  frame = requestAnimationFrame(() => { frame = 0; view?.update(); });
});
setInterval(() => {
  const now = rt.serverNow();
  for (const el of document.querySelectorAll('[data-ends-at]')) {
    const t = countdown(Number(el.dataset.endsAt), now);
    if (el.textContent !== t) el.textContent = t;
    el.classList.toggle('ending', Number(el.dataset.endsAt) - now < 30000);
  }
}, 250);

/** What to tell people about an error: friendly words for the ones they meet in normal use. */
const FRIENDLY = {
  room_archived: 'This room is resting; ask your facilitator to reopen it.',
  room_closed: 'The facilitator closed this session; its results are final, and new participants cannot join.',
  room_not_found: 'There is no room with this code. Check the code.',
  community_key_required: 'This session belongs to a community: open your personal community link to join (ask the facilitator for a new one if you lost it).',
  unreachable: 'This room cannot be reached right now: check the code, or its server may be restarting. Your seat is kept; try again in a moment.',
};
function errorText(e) {
  return FRIENDLY[e?.code] || e?.message || String(e);
}

function act(promise, ok) {
  return promise.then((r) => { if (ok) { flash(ok, 'ok'); announce(ok); } return r; }, (e) => {
    // Inside a closed room the banner already says why nothing changes: no error toast to act on.
    if (e.code === 'room_closed' && rt.joined && rt.roomClosed) announce('This session is closed. Its results are final.');
    else flash(errorText(e), e.code === 'room_archived' || e.code === 'room_closed' ? 'info' : 'error');
    throw e;
  });
}

/** The server's public address (`server.publicUrl`, from /config.json) or, without one, this page's origin. */
let publicUrl = null;
function roomLink(code) {
  return `${publicUrl || location.origin}/r/${code}`;
}
async function loadConfig() {
  try {
    const res = await fetch('/config.json', { cache: 'no-store' });
    if (res.ok) publicUrl = (await res.json()).publicUrl || null;
  } catch { /* the page's origin then */ }
}

// ------------------------------------------------------------------ join / create

function field(label, input, hint) {
  const id = input.id || `f-${Math.random().toString(36).slice(2)}`;
  input.id = id;
  return h('div', { class: 'field' }, h('label', { for: id }, label), input, hint ? h('p', { class: 'hint' }, hint) : null);
}

function showJoin(code, notice) {
  view = null;
  clear(roomInfo);
  document.body.classList.remove('room-closed');
  document.title = 'Roundtable';
  const key = hash.get('key');
  const joinForm = h('form', { class: 'card join-card', id: 'join-form', 'aria-labelledby': 'join-h' });
  const codeInput = h('input', { id: 'join-code', name: 'room', required: true, autocomplete: 'off', autocapitalize: 'characters', spellcheck: 'false', value: code || '', placeholder: 'e.g. E7Z98H5K' });
  const nameInput = h('input', { id: 'join-name', name: 'name', required: true, autocomplete: 'name', maxlength: 80, value: projector ? 'Projector' : '' });
  const orgInput = h('input', { id: 'join-org', name: 'organization', autocomplete: 'organization', maxlength: 80 });
  const roleSelect = h('select', { id: 'join-role', name: 'role' },
    h('option', { value: 'member' }, 'Member: vote, share needs, interviews'),
    h('option', { value: 'observer', selected: projector }, 'Observer: watch only (projector)'));
  joinForm.append(
    h('h2', { id: 'join-h' }, key ? 'Join as co-facilitator' : 'Join a room'),
    field('Room code', codeInput),
    field('Your name', nameInput),
    field('Organization', orgInput, 'Shown with the needs you submit.'),
    key ? null : field('Taking part as', roleSelect),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'primary', id: 'join-submit' }, 'Join')));
  joinForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    const room = normalizeCode(codeInput.value);
    const btn = joinForm.querySelector('button[type=submit]');
    btn.disabled = true;
    try {
      const ack = await act(rt.join({ room, name: nameInput.value, organization: orgInput.value, role: key ? undefined : roleSelect.value, facilitatorKey: key || undefined }));
      // The address becomes the room's own (also after typing the code on /), without the key.
      history.replaceState(null, '', `/r/${ack.room || room}${location.search}`);
      // The view is built when room.state arrives.
    } catch { /* flashed */ } finally { btn.disabled = false; }
  });

  const createForm = h('form', { class: 'card create-card', id: 'create-form', 'aria-labelledby': 'create-h' });
  const title = h('input', { id: 'create-title', required: true, maxlength: 200, placeholder: 'e.g. Peer network launch' });
  const cname = h('input', { id: 'create-name', required: true, autocomplete: 'name', maxlength: 80 });
  const corg = h('input', { id: 'create-org', autocomplete: 'organization', maxlength: 80 });
  const ctoken = h('input', { id: 'create-token', autocomplete: 'off' });
  const showOrg = h('input', { type: 'checkbox', id: 'create-showorg', checked: true });
  createForm.append(
    h('h2', { id: 'create-h' }, 'Start a room'),
    h('p', { class: 'hint' }, 'For facilitators. You get a link to share and a facilitator console.'),
    field('Meeting title', title), field('Your name', cname), field('Organization', corg),
    h('label', { class: 'check' }, showOrg, h('span', {}, 'Show organizations next to needs')),
    h('details', { class: 'more' }, h('summary', {}, 'Server requires a creation token?'), field('Creation token', ctoken, 'Only if your server administrator gave you one.')),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'primary', id: 'create-submit' }, 'Create room')));
  createForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    const btn = createForm.querySelector('button[type=submit]');
    btn.disabled = true;
    try {
      const fields = { title: title.value, name: cname.value, organization: corg.value, settings: { showNeedOrganization: showOrg.checked } };
      if (ctoken.value.trim()) fields.createToken = ctoken.value.trim();
      const ack = await act(rt.createRoom(fields));
      history.replaceState(null, '', `/r/${ack.room}${location.search}`);
    } catch { /* flashed */ } finally { btn.disabled = false; }
  });

  fill(main,
    h('div', { class: 'intro' },
      h('h1', {}, code ? `Room ${code}` : 'Welcome to Roundtable'),
      h('p', { class: 'lede' }, 'Share your organization’s needs, vote on priorities, and meet peers — live, during the call.'),
      code || key ? null : h('p', { class: 'hint' }, 'Meeting every month as a community? ', h('a', { href: '/community.html', id: 'community-home-link' }, 'Create a community'), ': members, expertise and needs carry over between sessions.')),
    notice ? h('p', { class: 'card notice-card', id: 'join-notice', role: 'status' }, notice) : null,
    h('div', { class: code || key ? 'join-grid single' : 'join-grid' }, joinForm, code || key ? null : createForm));
  (code ? nameInput : codeInput).focus();
}

// ------------------------------------------------------------------ room shell

function roomHeader() {
  const s = rt.state;
  document.title = `${s.title} · Roundtable`;
  const link = roomLink(s.room);
  fill(roomInfo,
    h('span', { class: 'room-title' }, s.title),
    h('span', { class: 'room-code', 'aria-label': `Room code ${s.room.split('').join(' ')}` }, s.room),
    s.settings?.community && !projector ? h('a', { class: 'small', id: 'community-link', href: `/community.html?c=${s.settings.community}` }, 'Community page') : null,
    projector ? null : h('button', {
      type: 'button', class: 'small', id: 'copy-link', on: {
        click: async () => { const ok = await copyText(link); flash(ok ? 'Link copied: ' + link : 'Copy this link: ' + link, ok ? 'ok' : 'info'); },
      },
    }, 'Copy link'));
}

function enterRoom() {
  roomHeader();
  if (projector) view = wallView(rt, { main, joinLink: roomLink, closedPanel });
  else view = rt.isFacilitator ? facilitatorView() : memberView();
  view.update();
  // Entering the room starts at its top (welcome, what happens next), wherever the join form had scrolled to.
  window.scrollTo(0, 0);
  main.focus({ preventScroll: true });
}

// ------------------------------------------------------------------ shared panels

function clockTime(ms) {
  return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

/**
 * "Session closed" banner, shown when the facilitator closed the room. It also sets `room-closed` on the
 * body, which hides every control marked `when-open` (style.css): nothing can change a closed room.
 */
function closedPanel({ facilitator = false, projectorView = false } = {}) {
  const when = h('span', {});
  const panel = h('section', { class: 'closed-banner', id: 'session-closed', role: 'status', 'aria-labelledby': 'session-closed-h', hidden: true },
    h('h2', { id: 'session-closed-h' }, 'Session closed — results are final'),
    projectorView ? null : h('p', {}, when,
      facilitator ? 'Voting and submissions are over. The results and ranked needs stay here; download the reports from the console.'
        : 'Voting and submissions are over. Thank you for taking part! The results and ranked needs stay here.'));
  let was = null;
  return {
    el: panel,
    update() {
      const closedAt = rt.state.closedAt;
      const closed = !!closedAt;
      document.body.classList.toggle('room-closed', closed);
      panel.hidden = !closed;
      if (closed) when.textContent = `Closed at ${clockTime(closedAt)}. `;
      if (was === false && closed) announce('The facilitator closed this session. Its results are final.');
      was = closed;
    },
  };
}

/** Needs: submit form and the live ranked chart. */
function needsPanel({ canSubmit }) {
  const list = h('ol', { class: 'bars needs-bars', id: 'needs-chart', role: 'list' });
  const empty = h('p', { class: 'empty' }, 'No needs yet. Be the first to share one.');
  const summary = h('p', { class: 'hint', id: 'needs-summary' });
  const panel = h('section', { class: 'card needs-panel', id: 'needs', 'aria-labelledby': 'needs-h' },
    h('h2', { id: 'needs-h' }, 'Needs, ranked'), summary);
  if (canSubmit) {
    const text = h('textarea', { id: 'need-text', rows: 2, maxlength: 1000, required: true, placeholder: 'What does your organization need help with?' });
    const tags = h('input', { id: 'need-tags', placeholder: 'e.g. grants, volunteers' });
    const form = h('form', { class: 'need-form when-open', id: 'need-form' },
      field('Share a need', text), field('Tags (comma separated)', tags, 'Tags connect your need with people who have that expertise.'),
      h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'primary', id: 'need-submit' }, 'Submit need')));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (!text.value.trim()) return;
      try {
        await act(rt.request('need.submit', { text: text.value.trim(), tags: parseTags(tags.value) }), 'Need submitted ✓');
        text.value = '';
        tags.value = '';
        text.focus();
      } catch { /* flashed */ }
    });
    panel.append(form);
  }
  panel.append(empty, list);
  return {
    el: panel,
    update() {
      const ranking = rt.state.ranking?.needs || [];
      const rows = ranking.length ? ranking : Object.values(rt.state.needs).map((n, i) => ({ need: n.id, text: n.text, rank: i + 1, score: 0, polls: 0, helpers: [] }));
      empty.hidden = rows.length > 0;
      const voted = (rt.state.ranking?.polls || []).length;
      summary.textContent = rows.length
        ? `${rows.length} need${rows.length === 1 ? '' : 's'} · ${voted ? `ranked by ${voted} poll${voted === 1 ? '' : 's'}; whiskers show how sure the ranking is` : 'not voted on yet'}`
        : '';
      renderBars(list, rows.map((r) => ({
        key: r.need, label: r.text || rt.state.needs[r.need]?.text || `Need ${r.need}`, value: r.score, low: r.polls ? r.low : null, high: r.polls ? r.high : null,
        rank: r.rank, tied: r.tied, note: helpersNote(r),
      })), { min: 0, max: 1, format: (v) => `${Math.round(v * 100)}` });
    },
  };
}

function helpersNote(r) {
  const names = (r.helpers || []).map((id) => rt.state.members[id]?.name).filter(Boolean);
  const org = rt.state.needs[r.need]?.organization;
  const parts = [];
  if (org) parts.push(org);
  // The server lists at most maxHelpersPerNeed ids and counts them all in helperCount; a large room's state
  // may also not name every listed helper, so the rest is counted, not named.
  const total = Math.max(r.helperCount ?? 0, names.length);
  const shown = names.slice(0, 3);
  if (shown.length) parts.push(`can help: ${shown.join(', ')}${total > shown.length ? ` and ${total - shown.length} more` : ''}`);
  else if (total) parts.push(`${total} can help`);
  return parts.join(' · ');
}

/** Polls: a card per poll (members: open and closed; facilitators add drafts and controls). */
function pollsPanel({ manage = null, includeDrafts = false } = {}) {
  const openList = h('div', { class: 'poll-list', id: 'polls-open' });
  const closedList = h('div', { class: 'poll-list' });
  const closedSummary = h('summary', {}, 'Earlier polls');
  const closedBox = h('details', { class: 'closed-polls' }, closedSummary, closedList);
  const empty = h('p', { class: 'empty' }, 'No poll is open right now. Results will show up here.');
  const panel = h('section', { class: 'card polls-panel', id: 'polls', 'aria-labelledby': 'polls-h' },
    h('h2', { id: 'polls-h' }, 'Polls'), empty, openList, closedBox);
  const cards = new Map();
  let wasClosed = false;
  return {
    el: panel,
    update() {
      // A closed session has only final results: show them, not a collapsed "earlier" list.
      if (rt.roomClosed !== wasClosed) {
        wasClosed = rt.roomClosed;
        closedSummary.textContent = wasClosed ? 'Final results' : 'Earlier polls';
        if (wasClosed) closedBox.open = true;
      }
      const polls = rt.pollsList().filter((p) => includeDrafts || p.state !== 'draft');
      const seen = new Set();
      for (const p of polls) {
        seen.add(p.id);
        let c = cards.get(p.id);
        if (!c) { c = pollCard(rt, p, { manage }); cards.set(p.id, c); } else c.update(p);
        const target = p.state === 'closed' ? closedList : openList;
        if (c.el.parentNode !== target) target.prepend(c.el);
      }
      for (const [id, c] of cards) if (!seen.has(id)) { c.el.remove(); cards.delete(id); }
      // Newest first.
      for (const list of [openList, closedList]) {
        const sorted = [...list.children].sort((a, b) => Number(b.dataset.poll) - Number(a.dataset.poll));
        sorted.forEach((el, i) => { if (list.children[i] !== el) list.insertBefore(el, list.children[i]); });
      }
      empty.hidden = openList.children.length > 0 || (rt.roomClosed && closedList.children.length > 0);
      closedBox.hidden = closedList.children.length === 0;
    },
  };
}

const PHASES = { 'first-turn': 'First turn', 'second-turn': 'Second turn', report: 'Report back', done: 'Round over' };

let call = null; // one call panel per page (it keeps the peer connections), moved into each view

/** Your interview: partner, prompts, meeting link, countdown, notes, and the call with your partners. */
function interviewPanel() {
  const body = h('div', { class: 'interview-body' });
  call ||= callPanel(rt);
  const panel = h('section', { class: 'card interview-panel', id: 'interview', 'aria-labelledby': 'interview-h', 'aria-live': 'polite' },
    h('h2', { id: 'interview-h' }, 'Appreciative interview'), call.el, body);
  let sig = '';
  return {
    el: panel,
    update() {
      const iv = rt.state.interviews || {};
      const p = iv.yourPair;
      const notesMine = (iv.yourNotes || []).filter((n) => n.author === rt.me || n.about === rt.me);
      if (call.el.parentNode !== panel) panel.insertBefore(call.el, body);
      call.update();
      panel.hidden = !iv.active && !p && !notesMine.length;
      const nextSig = JSON.stringify([iv.active, iv.round, iv.phase, iv.endsAt, p, iv.waiting, notesMine.length, rt.roomClosed]);
      if (nextSig === sig) return;
      sig = nextSig;
      if (!p && rt.state.you?.role !== 'member') {
        // Facilitators and observers are never paired: say so instead of "waiting for a partner".
        panel.hidden = !iv.active;
        fill(body, h('p', { class: 'hint', id: 'not-paired' }, iv.active
          ? `Round ${iv.round}: members are in their interviews. As ${rt.state.you?.role === 'facilitator' ? 'a facilitator' : 'an observer'} you are not paired.`
          : 'Interviews have ended.'));
        return;
      }
      if (!p) {
        fill(body, iv.active
          ? h('div', { class: 'waiting' },
            h('p', { class: 'big-text' }, iv.round ? `Round ${iv.round}: waiting for a partner…` : 'Interviews are about to start.'),
            iv.phase && iv.phase !== 'done' ? h('p', {}, `${PHASES[iv.phase] || iv.phase} ends in `, h('strong', { class: 'countdown', dataset: { endsAt: iv.endsAt } }, countdown(iv.endsAt, rt.serverNow()))) : null,
            rt.state.you?.role === 'member' && iv.round && !rt.roomClosed ? h('button', { type: 'button', id: 'rematch', on: { click: () => act(rt.request('interview.rematch'), 'Looking for a partner…').catch(() => {}) } }, 'Find me a partner') : null)
          : h('p', { class: 'hint' }, 'Interviews have ended. Thank you!'),
        notesList(iv));
        return;
      }
      const names = (p.partners || []).map((x) => `${x.name}${x.organization ? ` (${x.organization})` : ''}`);
      // Who interviews whom, by name: the first asker asks in the first turn, the others in the second.
      const nameOf = (id) => (id === rt.me ? 'you' : (p.partners || []).find((x) => x.id === id)?.name || rt.state.members[id]?.name || 'your partner');
      const everyone = [rt.me, ...(p.partners || []).map((x) => x.id)];
      const first = p.firstAsker ?? (p.youAskFirst ? rt.me : p.partners?.[0]?.id);
      const others = everyone.filter((id) => id !== first).map(nameOf);
      const list = (xs) => (xs.length > 1 ? `${xs.slice(0, -1).join(', ')} and ${xs.at(-1)}` : xs[0]);
      const cap = (t) => t.charAt(0).toUpperCase() + t.slice(1);
      const askWord = (x) => (x === 'you' ? 'ask' : 'asks');
      const who = p.phase === 'report' ? 'Share what you learned with the room.'
        : p.phase === 'done' ? 'This round is over.'
          : p.phase === 'second-turn' ? `Second turn: ${cap(list(others))} ${others.length > 1 || others[0] === 'you' ? 'ask' : 'asks'} ${nameOf(first)}.`
            : `First turn: ${cap(nameOf(first))} ${askWord(nameOf(first))} ${list(others)}.`;
      fill(body,
        h('p', { class: 'partner' }, h('span', { class: 'label' }, `Round ${p.round} · your partner${names.length > 1 ? 's' : ''}`),
          h('strong', { class: 'partner-name', id: 'partner-name' }, names.join(' and '))),
        p.partnerLeft && !rt.roomClosed ? h('div', { class: 'notice' }, h('p', {}, 'Your partner seems to have left.'),
          h('button', { type: 'button', id: 'rematch', on: { click: () => act(rt.request('interview.rematch'), 'Looking for a new partner…').catch(() => {}) } }, 'Find a new partner')) : null,
        h('div', { class: 'phase-row' },
          h('span', { class: 'phase' }, PHASES[p.phase] || p.phase),
          p.phase !== 'done' ? h('span', { class: 'countdown big', dataset: { endsAt: p.endsAt }, role: 'timer', 'aria-label': 'time left in this phase' }, countdown(p.endsAt, rt.serverNow())) : null),
        h('p', { class: 'turn' }, who),
        p.link ? h('p', {}, h('a', { class: 'button primary', href: p.link, target: '_blank', rel: 'noopener noreferrer', id: 'meeting-link' }, 'Open your meeting room ↗')) : null,
        (p.prompts || []).length ? h('div', { class: 'prompts' }, h('h3', {}, 'Questions to ask'), h('ol', {}, p.prompts.map((q) => h('li', {}, q)))) : null,
        noteForm(p),
        notesList(iv));
    },
  };
}

function noteForm(p) {
  const partners = p.partners || [];
  if (!partners.length) return null;
  const about = h('select', { id: 'note-about' }, partners.map((x) => h('option', { value: x.id }, x.name)));
  const text = h('textarea', { id: 'note-text', rows: 2, maxlength: 1000, placeholder: 'A strength or story you heard…' });
  const shared = h('input', { type: 'checkbox', id: 'note-shared', checked: true });
  const form = h('form', { class: 'note-form when-open' },
    h('h3', {}, 'Notes'),
    partners.length > 1 ? field('About', about) : null,
    field(`What stood out about ${partners.length > 1 ? 'them' : partners[0].name}?`, text),
    h('label', { class: 'check' }, shared, h('span', {}, 'Share as a highlight (they can add it to their profile)')),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit' }, 'Save note')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!text.value.trim()) return;
    try {
      await act(rt.request('interview.note', { about: Number(partners.length > 1 ? about.value : partners[0].id), text: text.value.trim(), shared: shared.checked }), shared.checked ? 'Highlight shared ✓' : 'Note saved ✓');
      text.value = '';
    } catch { /* flashed */ }
  });
  return form;
}

function notesList(iv) {
  const notes = (iv.yourNotes || []);
  if (!notes.length) return null;
  return h('div', { class: 'my-notes' }, h('h3', {}, 'Private notes'), h('ul', {}, notes.map((n) => h('li', {},
    h('span', { class: 'label' }, n.author === rt.me ? `You about ${rt.state.members[n.about]?.name || 'your partner'}` : `${rt.state.members[n.author]?.name || 'Your partner'} about you`), ' ', n.text))));
}




/** Announcements and room timers. */
function nowPanel() {
  const ann = h('div', { class: 'announcement', id: 'announcement', role: 'status' });
  const timers = h('ul', { class: 'timers', id: 'timers' });
  const panel = h('section', { class: 'now-panel', 'aria-label': 'Announcements and timers' }, ann, timers);
  let sig = '';
  return {
    el: panel,
    update() {
      const a = rt.state.announcements;
      const last = a[a.length - 1];
      const ts = (rt.state.groups?.timers || []).filter((t) => t.group == null || t.group === rt.state.groups.yourGroup || rt.isFacilitator);
      const next = JSON.stringify([last, ts]);
      panel.hidden = !last && !ts.length;
      if (next === sig) return;
      sig = next;
      ann.hidden = !last;
      if (last) fill(ann, h('span', { class: 'label' }, last.timer ? '⏰' : '📣'), ' ', last.text);
      fill(timers, ts.map((t) => h('li', { class: 'timer' },
        h('span', { class: 'timer-label' }, t.label || 'Timer', t.group != null ? ` (${rt.state.groups.groups.find((g) => g.id === t.group)?.name || 'group'})` : ''),
        h('span', { class: 'countdown big', role: 'timer', dataset: { endsAt: t.endsAt } }, countdown(t.endsAt, rt.serverNow())))));
    },
  };
}

const { whatsNextPanel, highlightsPanel, groupsPanel, profilePanel } = memberPanels(rt, { act, field });

// ------------------------------------------------------------------ views

function compose(parts, root) {
  return {
    el: root,
    update() {
      if (!rt.state.room) return;
      for (const p of parts) p.update();
    },
  };
}


function memberView() {
  const observer = rt.state.you?.role === 'observer';
  const closed = closedPanel();
  const now = nowPanel();
  const interview = interviewPanel();
  const polls = pollsPanel();
  const needs = needsPanel({ canSubmit: !observer });
  const groups = groupsPanel();
  const highlights = highlightsPanel();
  const profile = profilePanel();
  const next = whatsNextPanel();
  const parts = [closed, now, next, interview, polls, needs, groups, highlights];
  if (!observer) parts.push(profile);
  const root = h('div', { class: 'member-view' },
    closed.el,
    now.el,
    next.el,
    h('nav', { class: 'jump', 'aria-label': 'On this page' }, h('a', { href: '#needs', id: 'jump-needs' }, 'Ranked needs'), h('a', { href: '#polls' }, 'Polls')),
    h('div', { class: 'layout' },
      h('div', { class: 'col' }, interview.el, polls.el, groups.el),
      h('div', { class: 'col' }, needs.el, highlights.el, observer ? null : profile.el)));
  fill(main, root);
  const v = compose([...parts, { update: () => roomHeader() }], root);
  return v;
}

function facilitatorView() {
  const closed = closedPanel({ facilitator: true });
  const now = nowPanel();
  const cons = buildConsole(rt, { act, field, pollCard, needsPanel, roomLink });
  const interview = interviewPanel();
  const polls = pollsPanel();
  const needs = needsPanel({ canSubmit: true });
  const groups = groupsPanel();
  const highlights = highlightsPanel();
  const profile = profilePanel();
  const participant = h('div', { class: 'layout' },
    h('div', { class: 'col' }, interview.el, polls.el, groups.el),
    h('div', { class: 'col' }, needs.el, highlights.el, profile.el));
  const projector = h('a', { class: 'tab-link', href: `/r/${rt.state.room}?view=projector`, target: '_blank', rel: 'noopener', id: 'projector-link' }, 'Projector view ↗');
  const tabs = buildTabs([
    { id: 'console', label: 'Console', panel: cons.el },
    { id: 'participant', label: 'Participant view', panel: participant },
  ], { label: 'Views', extra: projector });
  const root = h('div', { class: 'facilitator-view' }, closed.el, now.el, tabs.list, cons.el, participant);
  fill(main, root);
  return compose([closed, now, cons, interview, polls, needs, groups, highlights, profile, { update: () => roomHeader() }], root);
}

// ------------------------------------------------------------------ start

rt.on('room.state', () => {
  // First state after joining: build the view for this role. (A resync keeps the view.)
  if (!view) enterRoom();
});

async function start() {
  showConnection('idle');
  await loadConfig();
  const code = codeInURL ? normalizeCode(decodeURIComponent(codeInURL)) : null;
  if (code && rt.storedSession(code) && !hash.get('key')) {
    fill(main, h('p', { class: 'card loading' }, `Rejoining room ${code}…`));
    try {
      await rt.join({ room: code });
      return;
    } catch (e) {
      if (e.code === 'room_archived') {
        // The seat is still good: it works again once the facilitator reopens the room.
        showJoin(code, errorText(e));
        return;
      }
      if (e.code === 'unreachable') {
        // Never taken as "the room is gone" while we hold its token: the seat stays for the next try.
        showJoin(code, errorText(e));
        return;
      }
      if (e.code !== 'bad_credentials') flash(`Could not rejoin: ${errorText(e)}`);
      else rt.forgetSession(code);
    }
  } else if (code && communityInURL && loadKeys(rt.storage, communityInURL).communityKey) {
    // From the community page: the personal key stands in for a name; the profile comes with it.
    fill(main, h('p', { class: 'card loading' }, `Joining room ${code}…`));
    try {
      await rt.join({ room: code, communityKey: loadKeys(rt.storage, communityInURL).communityKey });
      history.replaceState(null, '', `/r/${code}`);
      return;
    } catch (e) {
      showJoin(code, errorText(e));
      return;
    }
  } else {
    rt.connect().catch(() => {});
  }
  showJoin(code);
}

start();

export { rt, fmt, optionLabel };
