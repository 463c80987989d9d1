/**
 * The console's polls and needs: building and running polls, curating the needs members submit.
 * @module console-polls
 */
import { h, fill, flash, parseTags } from './ui.js';

const KINDS = [
  ['single', 'Single choice'], ['multi', 'Multiple choice'], ['rating', 'Rating scale'],
  ['ranking', 'Ranking'], ['points', 'Points budget'], ['open', 'Open question'],
];
const METHODS = { single: ['count'], multi: ['count'], open: ['count'], rating: ['mean-rating'], ranking: ['borda', 'schulze'], points: ['points'] };

/** Polls: the builder for a new poll and every poll of the room with its open/close control. */
export function pollsSection(rt, { act, field, pollCard }) {
  const out = [];
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
  // A community session starts with the open backlog as its needs: one step ranks them again (spec §7).
  const communityLink = h('a', { id: 'console-community-link' }, 'Community page');
  const backlog = h('div', { class: 'backlog-bar when-open', id: 'backlog-bar', hidden: true },
    h('button', { type: 'button', class: 'primary', id: 'poll-backlog', on: { click: () => act(rt.request('poll.create', { question: 'Rank our needs', kind: 'ranking', overNeeds: true, open: true }), 'Backlog poll opened').catch(() => {}) } }, 'Poll the backlog'),
    h('span', { class: 'hint' }, 'A ranking poll over this session’s needs (the community’s open backlog and anything added today).'),
    communityLink);
  out.push(h('section', { class: 'card', id: 'console-polls-card', 'aria-labelledby': 'cp-h' },
    h('h2', { id: 'cp-h' }, 'Polls'),
    backlog,
    list,
    h('details', { class: 'builder when-open', open: true }, h('summary', {}, 'New poll'), form)));
  return { el: out,
    update() {
      const community = rt.state.settings?.community;
      backlog.hidden = !community;
      if (community) communityLink.setAttribute('href', `/community.html?c=${community}`);
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
  };
}

/** Needs curation (edit, remove, merge duplicates) beside the live ranking. */
export function needsSection(rt, { act, field, needsPanel }) {
  const out = [];
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
  out.push(h('section', { class: 'card', id: 'console-needs', 'aria-labelledby': 'cn-h' },
    h('h2', { id: 'cn-h' }, 'Curate needs'),
    h('p', { class: 'hint when-open' }, 'Tick duplicates, choose the one to keep, then merge. Votes follow the merge.'),
    empty, rows,
    h('div', { class: 'merge-bar when-open' }, into, mergeBtn)), chart.el);
  return { el: out, update() { draw(false); empty.hidden = rt.needsList().length > 0; chart.update(); } };
}
