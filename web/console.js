/**
 * The facilitator console: polls, needs curation, interviews, groups, announcements and timers,
 * presence, exports and facilitator access, and closing the session.
 * Controls that change the room carry the class `when-open`: once the session is closed, style.css
 * hides them (`body.room-closed`), since the server refuses every change with `room_closed`.
 * @module console
 */
import { h, fill, clear, flash, announce, copyText, parseTags, countdown } from './ui.js';

const KINDS = [
  ['single', 'Single choice'], ['multi', 'Multiple choice'], ['rating', 'Rating scale'],
  ['ranking', 'Ranking'], ['points', 'Points budget'], ['open', 'Open question'],
];
const METHODS = { single: ['count'], multi: ['count'], open: ['count'], rating: ['mean-rating'], ranking: ['borda', 'schulze'], points: ['points'] };

/**
 * @param {import('./client.js').RoundtableClient} rt
 * @param {object} helpers `{act, field, pollCard, needsPanel, roomLink}` from app.js
 */
export function buildConsole(rt, { act, field, pollCard, needsPanel, roomLink }) {
  const parts = [];
  const col1 = h('div', { class: 'col' });
  const col2 = h('div', { class: 'col' });
  const el = h('div', { class: 'console layout' }, col1, col2);

  // ---------------------------------------------------------------- polls
  {
    const q = h('input', { id: 'poll-question', required: true, maxlength: 1000, placeholder: 'e.g. Which needs matter most to you?' });
    const kind = h('select', { id: 'poll-kind' }, KINDS.map(([v, l]) => h('option', { value: v }, l)));
    const overNeeds = h('input', { type: 'checkbox', id: 'poll-over-needs' });
    const options = h('textarea', { id: 'poll-options', rows: 3, placeholder: 'One option per line' });
    const anonymous = h('input', { type: 'checkbox', id: 'poll-anonymous', checked: true });
    const visibility = h('select', { id: 'poll-visibility' },
      h('option', { value: 'live' }, 'Everyone, live'), h('option', { value: 'after-close' }, 'Everyone, after close'), h('option', { value: 'facilitator' }, 'Facilitators only'));
    const maxChoices = h('input', { type: 'number', id: 'poll-max', min: 1, placeholder: 'all' });
    const scaleMin = h('input', { type: 'number', id: 'poll-scale-min', value: '1' });
    const scaleMax = h('input', { type: 'number', id: 'poll-scale-max', value: '5' });
    const budget = h('input', { type: 'number', id: 'poll-budget', value: '100', min: 1 });
    const method = h('select', { id: 'poll-method' });
    const openNow = h('input', { type: 'checkbox', id: 'poll-open-now', checked: true });
    const optsField = field('Options', options);
    const multiF = field('Most choices', maxChoices);
    const scaleF = h('div', { class: 'row' }, field('Scale from', scaleMin), field('to', scaleMax));
    const budgetF = field('Points per person', budget);
    const overF = h('label', { class: 'check' }, overNeeds, h('span', {}, 'Options are the room’s needs'));
    const sync = () => {
      const k = kind.value;
      overF.hidden = k === 'open';
      if (k === 'open') overNeeds.checked = false;
      optsField.hidden = k === 'open' || overNeeds.checked;
      multiF.hidden = k !== 'multi';
      scaleF.hidden = k !== 'rating';
      budgetF.hidden = k !== 'points';
      fill(method, METHODS[k].map((m) => h('option', { value: m }, m)));
      method.closest('.field').hidden = METHODS[k].length < 2;
    };
    const form = h('form', { id: 'poll-form', class: 'poll-form' },
      field('Question', q),
      h('div', { class: 'row' }, field('Kind', kind), field('Ranking method', method)),
      overF, optsField, multiF, scaleF, budgetF,
      h('div', { class: 'row' }, field('Results visible to', visibility)),
      h('label', { class: 'check' }, anonymous, h('span', {}, 'Anonymous (cannot be changed later)')),
      h('label', { class: 'check' }, openNow, h('span', {}, 'Open it now')),
      h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'primary', id: 'poll-create' }, 'Create poll')));
    kind.addEventListener('change', sync);
    overNeeds.addEventListener('change', sync);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const k = kind.value;
      const def = { question: q.value.trim(), kind: k, anonymous: anonymous.checked, visibility: visibility.value, open: openNow.checked };
      if (k !== 'open') {
        if (overNeeds.checked) def.overNeeds = true;
        else def.options = options.value.split('\n').map((x) => x.trim()).filter(Boolean);
      }
      if (METHODS[k].length > 1) def.method = method.value;
      if (k === 'multi' && maxChoices.value) def.maxChoices = Number(maxChoices.value);
      if (k === 'rating') { def.scaleMin = Number(scaleMin.value); def.scaleMax = Number(scaleMax.value); }
      if (k === 'points') def.budget = Number(budget.value);
      try {
        await act(rt.request('poll.create', def), openNow.checked ? 'Poll created and opened' : 'Poll created as a draft');
        q.value = '';
        options.value = '';
      } catch { /* flashed */ }
    });
    sync();

    const list = h('div', { class: 'poll-list', id: 'console-polls' });
    const cards = new Map();
    const manage = (box, p) => {
      if (rt.roomClosed) return;
      if (p.state === 'draft') box.append(h('button', { type: 'button', class: 'primary small', dataset: { action: 'open', poll: p.id }, on: { click: () => act(rt.request('poll.open', { poll: p.id }), 'Poll opened').catch(() => {}) } }, 'Open poll'));
      if (p.state === 'open') box.append(h('button', { type: 'button', class: 'small', dataset: { action: 'close', poll: p.id }, on: { click: () => act(rt.request('poll.close', { poll: p.id }), 'Poll closed').catch(() => {}) } }, 'Close poll'));
    };
    col1.append(h('section', { class: 'card', id: 'console-polls-card', 'aria-labelledby': 'cp-h' },
      h('h2', { id: 'cp-h' }, 'Polls'),
      list,
      h('details', { class: 'builder when-open', open: true }, h('summary', {}, 'New poll'), form)));
    parts.push({
      update() {
        const polls = rt.pollsList().reverse();
        const seen = new Set();
        polls.forEach((p, i) => {
          seen.add(p.id);
          let c = cards.get(p.id);
          if (!c) { c = pollCard(rt, p, { manage, ballot: false }); c.el.classList.add('managed'); cards.set(p.id, c); } else c.update(p);
          if (list.children[i] !== c.el) list.insertBefore(c.el, list.children[i] || null);
        });
        for (const [id, c] of cards) if (!seen.has(id)) { c.el.remove(); cards.delete(id); }
      },
    });
  }

  // ---------------------------------------------------------------- needs curation
  {
    const rows = h('ul', { class: 'need-admin', id: 'need-admin' });
    const into = h('select', { id: 'merge-into', 'aria-label': 'Merge the selected needs into' });
    const mergeBtn = h('button', { type: 'button', id: 'merge-button' }, 'Merge selected');
    const selected = new Set();
    let editing = null;
    mergeBtn.addEventListener('click', async () => {
      const target = Number(into.value);
      const from = [...selected].filter((id) => id !== target);
      if (!target || !from.length) { flash('Tick at least one need to merge, and choose the need to keep.'); return; }
      try {
        await act(rt.request('need.merge', { into: target, from }), `Merged ${from.length} need${from.length > 1 ? 's' : ''}`);
        selected.clear();
        draw(true);
      } catch { /* flashed */ }
    });
    const chart = needsPanel({ canSubmit: false });
    chart.el.id = 'console-needs-chart';
    chart.el.querySelector('h2').textContent = 'Live ranking';
    for (const x of chart.el.querySelectorAll('[id]')) x.id = `console-${x.id}`;
    let sig = '';
    function draw(force) {
      const needs = rt.needsList();
      const next = JSON.stringify([needs, editing, [...selected]]);
      if (!force && next === sig) return;
      // Do not redraw under the user's fingers while they edit.
      if (!force && editing !== null && rows.contains(document.activeElement)) return;
      sig = next;
      for (const id of [...selected]) if (!rt.state.needs[id]) selected.delete(id);
      const keep = into.value;
      fill(into, h('option', { value: '' }, 'Keep which need?'), needs.map((n) => h('option', { value: n.id, selected: String(n.id) === keep }, `#${n.id} ${n.text.slice(0, 60)}`)));
      fill(rows, needs.map((n) => {
        if (editing === n.id) {
          const text = h('textarea', { rows: 2, id: `edit-text-${n.id}`, maxlength: 1000 });
          text.value = n.text;
          const tags = h('input', { id: `edit-tags-${n.id}`, value: (n.tags || []).join(', ') });
          const f = h('form', { class: 'need-edit' }, field('Text', text), field('Tags', tags),
            h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'primary small' }, 'Save'),
              h('button', { type: 'button', class: 'small', on: { click: () => { editing = null; draw(true); } } }, 'Cancel')));
          f.addEventListener('submit', async (e) => {
            e.preventDefault();
            try { await act(rt.request('need.edit', { need: n.id, text: text.value.trim(), tags: parseTags(tags.value) }), 'Need updated'); editing = null; draw(true); } catch { /* flashed */ }
          });
          queueMicrotask(() => text.focus());
          return h('li', { class: 'need-row editing' }, f);
        }
        const box = h('input', { type: 'checkbox', class: 'when-open', id: `sel-need-${n.id}`, checked: selected.has(n.id), dataset: { need: n.id } });
        box.addEventListener('change', () => { if (box.checked) selected.add(n.id); else selected.delete(n.id); });
        return h('li', { class: 'need-row', dataset: { need: n.id } },
          box,
          h('label', { for: box.id, class: 'need-text' }, h('span', { class: 'need-id' }, `#${n.id}`), ' ', n.text,
            (n.tags || []).length ? h('span', { class: 'tags' }, n.tags.map((t) => h('span', { class: 'chip small' }, t))) : null,
            n.organization ? h('span', { class: 'hint' }, ` · ${n.organization}`) : null,
            (n.mergedFrom || []).length ? h('span', { class: 'hint' }, ` · merged ${n.mergedFrom.length}`) : null),
          h('span', { class: 'row-actions when-open' },
            h('button', { type: 'button', class: 'small', 'aria-label': `Edit need ${n.id}`, on: { click: () => { editing = n.id; draw(true); } } }, 'Edit'),
            h('button', { type: 'button', class: 'small danger', 'aria-label': `Remove need ${n.id}`, on: { click: () => { if (confirm(`Remove need #${n.id}?`)) act(rt.request('need.remove', { need: n.id }), 'Need removed').catch(() => {}); } } }, 'Remove')));
      }));
    }
    const empty = h('p', { class: 'empty' }, 'Needs members submit appear here.');
    col2.append(h('section', { class: 'card', id: 'console-needs', 'aria-labelledby': 'cn-h' },
      h('h2', { id: 'cn-h' }, 'Curate needs'),
      h('p', { class: 'hint when-open' }, 'Tick duplicates, choose the one to keep, then merge. Votes follow the merge.'),
      empty, rows,
      h('div', { class: 'merge-bar when-open' }, into, mergeBtn)), chart.el);
    parts.push({ update() { draw(false); empty.hidden = rt.needsList().length > 0; chart.update(); } });
  }

  // ---------------------------------------------------------------- interviews
  {
    const strategy = h('select', { id: 'iv-strategy' },
      h('option', { value: 'cross-organization' }, 'Different organizations'),
      h('option', { value: 'need-expertise' }, 'Needs meet expertise'),
      h('option', { value: 'random' }, 'Random'));
    const turn = h('input', { type: 'number', id: 'iv-turn', value: '300', min: 10, max: 7200 });
    const report = h('input', { type: 'number', id: 'iv-report', value: '120', min: 0, max: 7200 });
    const prompts = h('textarea', { id: 'iv-prompts', rows: 3 });
    prompts.value = 'Tell me about a time your organization was at its best.\nWhat made it possible?\nWhat do you wish for the next year?';
    const link = h('input', { id: 'iv-link', type: 'url', placeholder: 'https://meet.example.org/{room}-{round}-{pair}' });
    const status = h('div', { class: 'iv-status', id: 'iv-status', 'aria-live': 'polite' });
    const startForm = h('form', { id: 'iv-form', class: 'when-open' },
      field('Pair by', strategy),
      h('div', { class: 'row' }, field('Turn (seconds)', turn), field('Report (seconds)', report)),
      field('Prompts (one per line)', prompts),
      field('Meeting link template (optional)', link, '{room}, {round} and {pair} are filled in for each pair.'),
      h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'primary', id: 'iv-start' }, 'Start interviews')));
    startForm.addEventListener('submit', async (e) => {
      e.preventDefault();
      const f = { strategy: strategy.value, turnSeconds: Number(turn.value), reportSeconds: Number(report.value), prompts: prompts.value.split('\n').map((x) => x.trim()).filter(Boolean) };
      if (link.value.trim()) f.linkTemplate = link.value.trim();
      try { const ack = await act(rt.request('interviews.start', f), 'Interviews started'); announce(`Round ${ack.round} started.`); } catch { /* flashed */ }
    });
    const controls = h('div', { class: 'form-actions when-open' },
      h('button', { type: 'button', class: 'primary', id: 'iv-next', on: { click: () => act(rt.request('interviews.next'), 'Next round started').catch(() => {}) } }, 'Next round'),
      h('button', { type: 'button', class: 'danger', id: 'iv-end', on: { click: () => act(rt.request('interviews.end'), 'Interviews ended').catch(() => {}) } }, 'End interviews'));
    col1.append(h('section', { class: 'card', id: 'console-interviews', 'aria-labelledby': 'ci-h' }, h('h2', { id: 'ci-h' }, 'Appreciative interviews'), status, startForm, controls));
    const PH = { 'first-turn': 'first turn', 'second-turn': 'second turn', report: 'report back', done: 'round over' };
    let sig = '';
    parts.push({
      update() {
        const iv = rt.state.interviews || {};
        startForm.hidden = !!iv.active;
        controls.hidden = !iv.active;
        const next = JSON.stringify([iv.active, iv.round, iv.phase, iv.endsAt, iv.pairs, iv.unmet]);
        if (next === sig) return;
        sig = next;
        fill(status, iv.active
          ? h('p', { class: 'big-text' }, `Round ${iv.round}: ${PH[iv.phase] || iv.phase}`, iv.phase !== 'done' ? [' · ', h('strong', { class: 'countdown', dataset: { endsAt: iv.endsAt } }, countdown(iv.endsAt, rt.serverNow()))] : null,
            typeof iv.pairs === 'number' ? h('span', { class: 'hint' }, ` · ${iv.pairs} group${iv.pairs === 1 ? '' : 's'}${iv.unmet ? `, ${iv.unmet} pairing wishes unmet` : ''}`) : null)
          : h('p', { class: 'hint' }, iv.round ? `Interviews ended after ${iv.round} round${iv.round > 1 ? 's' : ''}.` : 'Pair present members for timed interviews; each sees their partner, the prompts and a countdown.'));
      },
    });
  }

  // ---------------------------------------------------------------- groups
  {
    const mode = h('select', { id: 'gr-mode' }, h('option', { value: 'self-select' }, 'Members choose (self-select)'), h('option', { value: 'assigned' }, 'I assign'));
    const spec = h('textarea', { id: 'gr-spec', rows: 3, placeholder: 'One group per line: Name, capacity\ne.g. Fundraising, 6' });
    const createForm = h('form', { id: 'gr-form' }, field('How members get into groups', mode), field('Groups', spec),
      h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'primary', id: 'gr-create' }, 'Create groups')));
    createForm.addEventListener('submit', async (e) => {
      e.preventDefault();
      const groups = spec.value.split('\n').map((l) => l.trim()).filter(Boolean).map((l) => {
        const m = l.match(/^(.*?)(?:[,;]\s*(\d+))?$/);
        const g = { name: m[1].trim() };
        if (m[2]) g.capacity = Number(m[2]);
        return g;
      });
      if (!groups.length) { flash('Write at least one group name.'); return; }
      try { await act(rt.request('groups.create', { mode: mode.value, groups }), `${groups.length} groups created`); spec.value = ''; } catch { /* flashed */ }
    });
    const count = h('input', { type: 'number', id: 'gr-count', value: '4', min: 1 });
    const fromNeeds = h('form', { id: 'gr-from-needs', class: 'inline-form' }, field('Groups from the top needs', count),
      h('button', { type: 'submit' }, 'Create from needs'));
    fromNeeds.addEventListener('submit', (e) => { e.preventDefault(); act(rt.request('groups.fromNeeds', { count: Number(count.value) }), 'Groups created from the top needs').catch(() => {}); });
    const strategy = h('select', { id: 'gr-strategy' }, h('option', { value: 'balanced' }, 'Balanced sizes'), h('option', { value: 'mixed-organizations' }, 'Mix organizations'), h('option', { value: 'by-need' }, 'By each member’s top need'));
    const assign = h('form', { id: 'gr-assign', class: 'inline-form when-open' }, field('Assign everyone', strategy), h('button', { type: 'submit' }, 'Assign'));
    assign.addEventListener('submit', (e) => { e.preventDefault(); act(rt.request('groups.assign', { strategy: strategy.value }), 'Members assigned').catch(() => {}); });
    const list = h('ul', { class: 'group-list', id: 'console-groups' });
    col2.append(h('section', { class: 'card', id: 'console-groups-card', 'aria-labelledby': 'cg-h' }, h('h2', { id: 'cg-h' }, 'Groups'),
      list, h('details', { class: 'builder when-open' }, h('summary', {}, 'Create groups'), createForm, fromNeeds), assign));
    let sig = '';
    parts.push({
      update() {
        const g = rt.state.groups || { groups: [] };
        const next = JSON.stringify([g.groups, g.mode, Object.values(rt.state.members).map((m) => m.name)]);
        assign.hidden = !(g.groups || []).length;
        if (next === sig) return;
        sig = next;
        fill(list, (g.groups || []).length ? g.groups.map((x) => h('li', { class: 'group' },
          h('div', { class: 'group-head' }, h('strong', {}, x.name), h('span', { class: 'badge' }, x.capacity != null ? `${x.members.length}/${x.capacity}` : String(x.members.length))),
          h('p', { class: 'group-members' }, x.members.map((id) => rt.state.members[id]?.name).filter(Boolean).join(', ') || 'nobody yet')))
          : [h('li', { class: 'empty' }, 'No groups yet.')]);
        if ((g.groups || []).length) list.prepend(h('li', { class: 'hint' }, g.mode === 'self-select' ? 'Members choose their group.' : 'You assign members.'));
      },
    });
  }

  // ---------------------------------------------------------------- announce and timers
  {
    const text = h('input', { id: 'announce-text', maxlength: 1000, placeholder: 'e.g. Back in the main room in 2 minutes' });
    const annForm = h('form', { id: 'announce-form', class: 'inline-form when-open' }, field('Announcement', text), h('button', { type: 'submit' }, 'Announce'));
    annForm.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (!text.value.trim()) return;
      try { await act(rt.request('room.announce', { text: text.value.trim() }), 'Announced'); text.value = ''; } catch { /* flashed */ }
    });
    const mins = h('input', { type: 'number', id: 'timer-minutes', value: '5', min: 0.1, step: 'any' });
    const label = h('input', { id: 'timer-label', placeholder: 'e.g. Group work' });
    const timerForm = h('form', { id: 'timer-form', class: 'inline-form when-open' }, field('Minutes', mins), field('Label', label), h('button', { type: 'submit' }, 'Start timer'));
    timerForm.addEventListener('submit', (e) => {
      e.preventDefault();
      act(rt.request('timer.start', { seconds: Math.max(1, Math.round(Number(mins.value) * 60)), label: label.value.trim() }), 'Timer started').catch(() => {});
    });
    const running = h('ul', { class: 'timers', id: 'console-timers' });
    col1.append(h('section', { class: 'card', id: 'console-agenda', 'aria-labelledby': 'ca-h' }, h('h2', { id: 'ca-h' }, 'Announcements and timers'), annForm, timerForm, running));
    let sig = '';
    parts.push({
      update() {
        const ts = rt.state.groups?.timers || [];
        const next = JSON.stringify(ts);
        if (next === sig) return;
        sig = next;
        fill(running, ts.map((t) => h('li', { class: 'timer' }, h('span', { class: 'timer-label' }, t.label || 'Timer'),
          h('span', { class: 'countdown', dataset: { endsAt: t.endsAt } }, countdown(t.endsAt, rt.serverNow())),
          h('button', { type: 'button', class: 'small when-open', 'aria-label': `Stop timer ${t.label || t.id}`, on: { click: () => act(rt.request('timer.stop', { timer: t.id }), 'Timer stopped').catch(() => {}) } }, 'Stop'))));
      },
    });
  }

  // ---------------------------------------------------------------- people
  {
    const list = h('ul', { class: 'people', id: 'presence-list' });
    const summary = h('p', { class: 'hint', id: 'presence-summary' });
    col2.append(h('section', { class: 'card', id: 'console-people', 'aria-labelledby': 'pe-h' }, h('h2', { id: 'pe-h' }, 'Who is here'), summary, list));
    let sig = '';
    parts.push({
      update() {
        const ms = rt.membersList();
        const next = JSON.stringify(ms);
        if (next === sig) return;
        sig = next;
        const online = ms.filter((m) => m.online).length;
        summary.textContent = `${online} online of ${ms.length}`;
        const sorted = [...ms].sort((a, b) => Number(b.online) - Number(a.online) || a.name.localeCompare(b.name));
        fill(list, sorted.map((m) => h('li', { class: `person${m.online ? ' online' : ''}`, dataset: { member: m.id } },
          h('span', { class: 'presence-dot', 'aria-hidden': 'true' }),
          h('span', { class: 'person-name' }, m.name, m.id === rt.me ? ' (you)' : ''),
          h('span', { class: 'sr-only' }, m.online ? ', online' : ', offline'),
          m.organization ? h('span', { class: 'hint' }, ` · ${m.organization}`) : null,
          m.role !== 'member' ? h('span', { class: 'badge' }, m.role) : null,
          (m.expertise || []).length ? h('span', { class: 'tags' }, m.expertise.slice(0, 4).map((t) => h('span', { class: 'chip small' }, t))) : null)));
      },
    });
  }

  // ---------------------------------------------------------------- exports and access
  {
    const download = async (ext) => {
      const key = rt.facilitatorKey;
      if (!key) { flash('This browser does not have the facilitator key for this room.'); return; }
      try {
        const res = await fetch(`/rooms/${rt.state.room}/report.${ext}`, { headers: { Authorization: `Bearer ${key}` }, cache: 'no-store' });
        if (!res.ok) throw new Error(`the server answered ${res.status}${res.status === 404 ? ' (reports are not available on this server yet)' : ''}`);
        const blob = await res.blob();
        const url = URL.createObjectURL(blob);
        const a = h('a', { href: url, download: `roundtable-${rt.state.room}.${ext}`, class: 'offscreen' });
        document.body.append(a);
        a.click();
        a.remove();
        setTimeout(() => URL.revokeObjectURL(url), 10000);
        flash(`Downloaded report.${ext}`, 'ok');
      } catch (e) {
        flash(`Could not download the report: ${e.message}`);
      }
    };
    const keyOut = h('code', { class: 'secret', id: 'fac-key' });
    const reveal = h('button', { type: 'button', class: 'small', 'aria-expanded': 'false' }, 'Show');
    reveal.addEventListener('click', () => {
      const show = keyOut.hidden;
      keyOut.hidden = !show;
      reveal.textContent = show ? 'Hide' : 'Show';
      reveal.setAttribute('aria-expanded', String(show));
    });
    keyOut.hidden = true;
    col2.append(h('section', { class: 'card', id: 'console-exports', 'aria-labelledby': 'ex-h' },
      h('h2', { id: 'ex-h' }, 'Reports and access'),
      h('div', { class: 'form-actions' },
        h('button', { type: 'button', id: 'export-json', on: { click: () => download('json') } }, 'Download JSON'),
        h('button', { type: 'button', id: 'export-csv', on: { click: () => download('csv') } }, 'Download CSV'),
        h('button', { type: 'button', id: 'export-md', on: { click: () => download('md') } }, 'Download Markdown')),
      h('p', { class: 'hint' }, 'Co-facilitators: share this link privately. It contains the facilitator key.'),
      h('div', { class: 'form-actions' },
        h('button', { type: 'button', id: 'copy-cofac', on: { click: async () => { const key = rt.facilitatorKey; if (!key) { flash('No facilitator key in this browser.'); return; } const ok = await copyText(`${roomLink(rt.state.room)}#key=${key}`); flash(ok ? 'Co-facilitator link copied' : 'Could not copy', ok ? 'ok' : 'error'); } } }, 'Copy co-facilitator link'),
        h('span', {}, 'Key: ', reveal, ' ', keyOut))));
    parts.push({ update() { keyOut.textContent = rt.facilitatorKey || '(not stored in this browser)'; } });
  }

  // ---------------------------------------------------------------- closing the session
  {
    const status = h('p', { class: 'hint', id: 'room-close-status' },
      'Closing ends open polls and interviews, stops timers and makes every result final. Members can come back to read the results; nobody can vote, submit or join as a new member.');
    const openBtn = h('button', { type: 'button', class: 'danger', id: 'room-close', 'aria-expanded': 'false', 'aria-controls': 'room-close-confirm' }, 'Close session…');
    const yes = h('button', { type: 'button', class: 'danger-solid', id: 'room-close-yes' }, 'Yes, close the session');
    const no = h('button', { type: 'button', id: 'room-close-cancel' }, 'Cancel');
    const confirmBox = h('div', { class: 'confirm-box', id: 'room-close-confirm', role: 'group', 'aria-labelledby': 'room-close-q', 'aria-describedby': 'room-close-warn', hidden: true },
      h('p', { class: 'confirm-question', id: 'room-close-q' }, 'Close this session for everyone?'),
      h('p', { id: 'room-close-warn' }, 'This is final: it cannot be undone, and results can no longer change.'),
      h('div', { class: 'form-actions' }, yes, no));
    const showConfirm = (show) => {
      confirmBox.hidden = !show;
      openBtn.hidden = show;
      openBtn.setAttribute('aria-expanded', String(show));
      (show ? no : openBtn).focus();
    };
    openBtn.addEventListener('click', () => showConfirm(true));
    no.addEventListener('click', () => showConfirm(false));
    confirmBox.addEventListener('keydown', (e) => { if (e.key === 'Escape') { e.preventDefault(); showConfirm(false); } });
    yes.addEventListener('click', async () => {
      yes.disabled = true;
      no.disabled = true;
      try {
        await act(rt.request('room.close'), 'Session closed. Its results are final.');
        confirmBox.hidden = true;
      } catch {
        showConfirm(false);
      } finally {
        yes.disabled = false;
        no.disabled = false;
      }
    });
    col2.append(h('section', { class: 'card session-card', id: 'console-session', 'aria-labelledby': 'cs-h' },
      h('h2', { id: 'cs-h' }, 'End the session'), status, h('div', { class: 'form-actions' }, openBtn), confirmBox));
    let was = null;
    parts.push({
      update() {
        const closedAt = rt.state.closedAt;
        if (Boolean(closedAt) === was) return;
        was = Boolean(closedAt);
        if (!closedAt) return;
        const focused = confirmBox.contains(document.activeElement);
        confirmBox.hidden = true;
        openBtn.hidden = true;
        fill(status, `Closed at ${new Date(closedAt).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}. The results are final; the reports above keep them.`);
        status.classList.remove('hint');
        if (focused) {
          // Keep keyboard focus in the card it was in.
          status.setAttribute('tabindex', '-1');
          status.focus();
        }
      },
    });
  }

  return { el, update() { for (const p of parts) p.update(); } };
}

export { clear };
