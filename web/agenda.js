/**
 * The agenda editor in the console, before and during the session: each step edited in place with its
 * kind's settings, moved up or down, duplicated, removed, started, and new steps added; the agenda
 * imported and exported as an activity file (Config/activities/*.json). Every change sends the whole
 * agenda (`agenda.set`). Once the session runs, the steps that ran and the running one are history:
 * the server refuses to change them (`step_locked`), so their controls are not offered here.
 * @module agenda
 */
import { h, fill, flash, announce } from './ui.js';

export const KIND_NAMES = {
  welcome: 'Welcome', 'needs-intake': 'Needs intake', poll: 'Poll', 'poll-over-needs': 'Poll over the needs', interviews: 'Interviews',
  groups: 'Groups', break: 'Break', announcement: 'Announcement', closing: 'Closing',
};
const WALLS = { '': 'As the step’s kind', join: 'Join screen', poll: 'Poll', results: 'Results', needs: 'Ranked needs', interviews: 'Interview countdown', groups: 'Groups board', timer: 'Timer', announcement: 'Announcement', closing: 'Closing' };
const POLL_KINDS = { single: 'Single choice', multi: 'Multiple choice', rating: 'Rating scale', ranking: 'Ranking', points: 'Points budget', open: 'Open question' };
const VISIBILITY = { live: 'Everyone, live', 'after-vote': 'Each member after voting', 'after-close': 'Everyone, after close', facilitator: 'Facilitators only' };
const PAIRING = { 'cross-organization': 'Different organizations', 'need-expertise': 'Needs meet expertise', random: 'Random' };
const ASSIGN = { '': 'Members choose', balanced: 'Assign: balanced sizes', 'mixed-organizations': 'Assign: mix organizations', 'by-need': 'Assign: by top need' };
const TEXT_LABEL = { welcome: 'Welcome words', 'needs-intake': 'Prompt for the needs', announcement: 'Announcement', closing: 'Closing words' };

const lines = (s) => s.split('\n').map((x) => x.trim()).filter(Boolean);
const select = (id, choices, value) => h('select', { id }, Object.entries(choices).map(([v, l]) => h('option', { value: v, selected: v === String(value ?? '') }, l)));
const num = (id, value, attrs = {}) => h('input', { type: 'number', id, value: value == null ? '' : String(value), ...attrs });

/** A new step of this kind with settings the server accepts, for the editor to start from. */
export function newStep(kind) {
  const s = { kind, title: '' };
  if (kind === 'poll') s.definition = { question: '', kind: 'single', options: [] };
  if (kind === 'poll-over-needs') s.definition = { question: 'Rank the needs', kind: 'ranking', overNeeds: true };
  if (kind === 'interviews') s.interviews = { strategy: 'cross-organization', turnSeconds: 300, reportSeconds: 120, prompts: [] };
  if (kind === 'groups') s.groups = { fromNeeds: 4 };
  if (kind === 'break') s.seconds = 300;
  return s;
}

/**
 * The form for one step's settings, by kind. `read()` gives the edited step (a copy).
 * @param {object} step a full step (as facilitators get it), or a new one
 * @param {(label: string, input: HTMLElement, hint?: string) => HTMLElement} field
 */
export function stepFields(step, field, p) {
  const rows = [];
  const title = h('input', { id: `${p}-title`, maxlength: 200, value: step.title || '', placeholder: KIND_NAMES[step.kind] });
  rows.push(field('Title', title));
  // Empty text is left out: the server then gives the kind's default title, or names what is missing.
  const put = (s, key, v) => { if (v) s[key] = v; else delete s[key]; };
  const readers = [(s) => put(s, 'title', title.value.trim())];
  if (TEXT_LABEL[step.kind]) {
    const text = h('textarea', { id: `${p}-text`, rows: 2, maxlength: 1000 });
    text.value = step.text || '';
    rows.push(field(TEXT_LABEL[step.kind], text));
    readers.push((s) => put(s, 'text', text.value.trim()));
  }
  if ((step.kind === 'poll' || step.kind === 'poll-over-needs') && step.poll != null) {
    rows.push(h('p', { class: 'hint' }, `Opens poll #${step.poll} of this room as it is.`));
  } else if (step.kind === 'poll' || step.kind === 'poll-over-needs') {
    const d = step.definition || {};
    const overNeeds = step.kind === 'poll-over-needs';
    const question = h('input', { id: `${p}-question`, maxlength: 1000, value: d.question || '', required: true });
    const kind = select(`${p}-poll-kind`, overNeeds ? { ranking: 'Ranking', points: 'Points budget', rating: 'Rating scale', multi: 'Multiple choice', single: 'Single choice' } : POLL_KINDS, d.kind || (overNeeds ? 'ranking' : 'single'));
    const options = h('textarea', { id: `${p}-options`, rows: 3, placeholder: 'One option per line' });
    options.value = (d.options || []).map((o) => (typeof o === 'string' ? o : o.label)).join('\n');
    const visibility = select(`${p}-visibility`, VISIBILITY, d.visibility || 'live');
    const anonymous = h('input', { type: 'checkbox', id: `${p}-anonymous`, checked: d.anonymous !== false });
    const budget = num(`${p}-budget`, d.budget ?? 100, { min: 1 });
    const scaleMin = num(`${p}-scale-min`, d.scaleMin ?? 1);
    const scaleMax = num(`${p}-scale-max`, d.scaleMax ?? 5);
    const method = select(`${p}-method`, { borda: 'Borda count', schulze: 'Schulze' }, d.kind === 'ranking' ? d.method : 'borda');
    const maxChoices = num(`${p}-max`, d.maxChoices, { min: 1, placeholder: 'all' });
    const optsF = overNeeds ? null : field('Options', options);
    const budgetF = field('Points per person', budget);
    const scaleF = h('div', { class: 'row' }, field('Scale from', scaleMin), field('to', scaleMax));
    const methodF = field('Ranking method', method);
    const maxF = field('Most choices', maxChoices);
    const sync = () => {
      if (optsF) optsF.hidden = kind.value === 'open';
      budgetF.hidden = kind.value !== 'points';
      scaleF.hidden = kind.value !== 'rating';
      methodF.hidden = kind.value !== 'ranking';
      maxF.hidden = kind.value !== 'multi';
    };
    kind.addEventListener('change', sync);
    sync();
    rows.push(field('Question', question), h('div', { class: 'row' }, field('Poll kind', kind), field('Results visible to', visibility)), optsF, budgetF, scaleF, methodF, maxF,
      h('label', { class: 'check' }, anonymous, h('span', {}, 'Anonymous')));
    readers.push((s) => {
      // Settings this editor does not show are kept as they were; those of another poll kind are dropped.
      const def = { ...d, question: question.value.trim(), kind: kind.value, visibility: visibility.value, anonymous: anonymous.checked };
      for (const k of ['options', 'budget', 'scaleMin', 'scaleMax', 'method', 'maxChoices']) delete def[k];
      if (overNeeds) def.overNeeds = true;
      else if (kind.value !== 'open') def.options = lines(options.value);
      if (kind.value === 'points') def.budget = Number(budget.value);
      if (kind.value === 'rating') { def.scaleMin = Number(scaleMin.value); def.scaleMax = Number(scaleMax.value); }
      if (kind.value === 'ranking') def.method = method.value;
      if (kind.value === 'multi' && maxChoices.value) def.maxChoices = Number(maxChoices.value);
      s.definition = def;
    });
  }
  if (step.kind === 'interviews') {
    const iv = step.interviews || {};
    const strategy = select(`${p}-strategy`, PAIRING, iv.strategy || 'cross-organization');
    const turn = num(`${p}-turn`, iv.turnSeconds ?? 300, { min: 10, max: 7200 });
    const report = num(`${p}-report`, iv.reportSeconds ?? 120, { min: 0, max: 7200 });
    const prompts = h('textarea', { id: `${p}-prompts`, rows: 3 });
    prompts.value = (iv.prompts || []).join('\n');
    const link = h('input', { id: `${p}-link`, type: 'url', value: iv.linkTemplate || '', placeholder: 'https://meet.example.org/{room}-{round}-{pair}' });
    rows.push(field('Pair by', strategy), h('div', { class: 'row' }, field('Turn (seconds)', turn), field('Report (seconds)', report)),
      field('Prompts (one per line)', prompts), field('Meeting link template (optional)', link));
    readers.push((s) => {
      s.interviews = { ...iv, strategy: strategy.value, turnSeconds: Number(turn.value), reportSeconds: Number(report.value), prompts: lines(prompts.value) };
      if (link.value.trim()) s.interviews.linkTemplate = link.value.trim();
      else delete s.interviews.linkTemplate;
    });
  }
  if (step.kind === 'groups') {
    const g = step.groups || {};
    const source = select(`${p}-groups-source`, { needs: 'From the top needs', list: 'From a list' }, g.fromNeeds != null ? 'needs' : 'list');
    const count = num(`${p}-groups-count`, g.fromNeeds ?? 4, { min: 1 });
    const list = h('textarea', { id: `${p}-groups-list`, rows: 3, placeholder: 'One group per line: Name, capacity' });
    list.value = (g.groups || []).map((x) => (x.capacity != null ? `${x.name}, ${x.capacity}` : x.name)).join('\n');
    const assign = select(`${p}-groups-assign`, ASSIGN, g.assign || '');
    const countF = field('How many groups', count);
    const listF = h('div', {}, field('Groups', list), field('Members get in', assign));
    const sync = () => { countF.hidden = source.value !== 'needs'; listF.hidden = source.value === 'needs'; };
    source.addEventListener('change', sync);
    sync();
    rows.push(field('Groups come', source), countF, listF);
    readers.push((s) => {
      if (source.value === 'needs') { s.groups = { fromNeeds: Number(count.value) }; return; }
      const groups = lines(list.value).map((l) => {
        const m = l.match(/^(.*?)(?:[,;]\s*(\d+))?$/);
        return m[2] ? { name: m[1].trim(), capacity: Number(m[2]) } : { name: m[1].trim() };
      });
      s.groups = { mode: assign.value ? 'assigned' : 'self-select', groups, ...(assign.value ? { assign: assign.value } : {}) };
    });
  }
  if (step.kind === 'break') {
    const minutes = num(`${p}-minutes`, (step.seconds ?? 300) / 60, { min: 0.1, step: 'any' });
    rows.push(field('Minutes', minutes));
    readers.push((s) => { s.seconds = Math.max(1, Math.round(Number(minutes.value) * 60)); });
  }
  const wall = select(`${p}-wall`, WALLS, step.wall || '');
  rows.push(field('The wall shows', wall));
  readers.push((s) => { if (wall.value) s.wall = wall.value; else delete s.wall; });
  return {
    rows,
    read() {
      const s = structuredClone(step);
      for (const r of readers) r(s);
      return s;
    },
  };
}

/** What the server would refuse as missing, said before sending (the wire schema requires these too). */
export function missingSetting(s) {
  if (s.kind === 'announcement' && !s.text) return 'An announcement step needs its text.';
  if ((s.kind === 'poll' || s.kind === 'poll-over-needs') && s.definition && !s.definition.question) return 'A poll step needs its question.';
  if (s.kind === 'poll' && s.definition && !['open'].includes(s.definition.kind) && (s.definition.options || []).length < 2) return 'A poll needs at least two options, one per line.';
  if (s.kind === 'groups' && s.groups && s.groups.fromNeeds == null && !(s.groups.groups || []).length) return 'Write at least one group, one per line.';
  return null;
}

/** The activity file for an agenda: polls of this room that steps name travel as their definitions. */
export function activityFile(state) {
  const agenda = (state.agenda?.steps || []).map(({ id, ...s }) => {
    if (s.poll != null && state.polls[s.poll]) {
      const { id: _, state: st, options, openedAt, closedAt, results, yourBallot, turnout, revealed, ...def } = state.polls[s.poll];
      s.definition = { ...def, ...(options && !def.overNeeds ? { options: options.map((o) => o.label) } : {}) };
      delete s.poll;
    }
    return s;
  });
  return { activity: { title: state.title, agenda } };
}

/**
 * @param {import('./client.js').RoundtableClient} rt
 * @param {{act: Function, field: Function, plain: (e: any) => string, errorBox: Function}} helpers
 *   `errorBox(act)` from show.js: a dismissable plain-language error next to the agenda, and `run`/`fail` that fill it
 */
export function buildAgendaEditor(rt, { act, field, plain, errorBox }) {
  const { el: errors, run, fail } = errorBox(act, 'agenda-error');
  const list = h('ol', { class: 'agenda-steps', id: 'agenda-steps' });
  const seenRunning = new Set();
  let editing = null; // {id, el}: the open editor survives redraws while the agenda changes under it
  let refocus = null; // the id of the arrow a keyboard user pressed: focus follows the moved step
  const steps = () => rt.state.agenda?.steps || [];
  // The server's list, and every step seen running since (agenda.step does not resend it).
  const locked = () => new Set([...(rt.state.agenda?.locked || []), ...seenRunning]);
  const send = (next, ok) => run(rt.request('agenda.set', { steps: next }), ok).then((r) => { if (!r) refocus = null; return r; });

  function editor(step, index) {
    const p = `step-edit-${step.id ?? 'new'}`;
    const f = stepFields(step, field, p);
    const err = h('p', { class: 'field-error', id: `${p}-error`, role: 'alert', hidden: true });
    const cancel = h('button', { type: 'button', class: 'small', id: `${p}-cancel` }, 'Cancel');
    const form = h('form', { class: 'step-edit', id: p, 'aria-label': step.id ? `Edit step ${index + 1}` : 'New step' },
      h('p', { class: 'label' }, step.id ? `Step ${index + 1}: ${KIND_NAMES[step.kind]}` : `New step: ${KIND_NAMES[step.kind]}`),
      f.rows, err, h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'primary small', id: `${p}-save` }, step.id ? 'Save step' : 'Add step'), cancel));
    cancel.addEventListener('click', () => { editing = null; draw(true); });
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const s = f.read();
      const missing = missingSetting(s);
      if (missing) { err.hidden = false; err.textContent = missing; return; }
      const all = [...steps()];
      const at = step.id ? all.findIndex((x) => x.id === step.id) : -1;
      if (at >= 0) all[at] = s; else all.push(s);
      // Errors stay in the form that caused them, in plain language, until the next try.
      // Not through act: its toast would repeat the server's words; the form says it plainly instead.
      const ok = step.id ? 'Step saved' : 'Step added';
      const r = await rt.request('agenda.set', { steps: all }).then((ack) => { flash(ok, 'ok'); announce(ok); return ack; }, (x) => { err.hidden = false; err.textContent = plain(x); return null; });
      if (!r) return;
      editing = null;
      draw(true);
    });
    queueMicrotask(() => form.querySelector('input, textarea, select')?.focus());
    return form;
  }

  const kind = h('select', { id: 'step-kind', 'aria-label': 'Kind of the new step' }, Object.entries(KIND_NAMES).map(([v, l]) => h('option', { value: v }, l)));
  const addBtn = h('button', { type: 'button', id: 'step-add', class: 'small' }, 'Add step…');
  const adder = h('div', { class: 'step-adder' });
  addBtn.addEventListener('click', () => { editing = { id: 'new', el: editor(newStep(kind.value), steps().length) }; draw(true); });

  const file = h('input', { type: 'file', id: 'agenda-import', accept: '.json,application/json' });
  file.addEventListener('change', async () => {
    const fl = file.files?.[0];
    if (!fl) return;
    try {
      const json = JSON.parse(await fl.text());
      const activity = json.activity || json;
      if (!Array.isArray(activity.agenda)) throw new Error('this file has no "agenda" list');
      // During the session the file replaces only the plan: the history stays first, as it was.
      const all = steps();
      const lock = locked();
      const keep = all.slice(0, Math.max(-1, ...all.map((s, k) => (lock.has(s.id) ? k : -1))) + 1);
      const n = activity.agenda.length;
      await run(rt.request('agenda.set', { activity: { ...activity, agenda: [...keep, ...activity.agenda] } }),
        keep.length ? `Agenda loaded: ${n} steps after the ${keep.length} that ran` : `Agenda loaded: ${n} steps`);
    } catch (e) { fail(e); } finally { file.value = ''; }
  });
  const exportBtn = h('button', { type: 'button', id: 'agenda-export', class: 'small' }, 'Export agenda');
  exportBtn.addEventListener('click', () => {
    const blob = new Blob([JSON.stringify(activityFile(rt.state), null, 2)], { type: 'application/json' });
    const a = h('a', { href: URL.createObjectURL(blob), download: `agenda-${rt.state.room}.json`, class: 'offscreen' });
    document.body.append(a);
    a.click();
    a.remove();
  });

  const lockNote = h('p', { class: 'hint', id: 'agenda-lock-note' });
  const el = h('section', { class: 'card agenda-card', id: 'agenda-editor', 'aria-labelledby': 'agenda-h' },
    h('h2', { id: 'agenda-h' }, 'Agenda'), lockNote, errors, list, adder,
    h('div', { class: 'form-actions when-open' }, kind, addBtn,
      h('label', { class: 'button small', for: 'agenda-import' }, 'Import agenda file'), file, exportBtn));

  let sig = '';
  function draw(force) {
    const a = rt.state.agenda || { steps: [] };
    if (a.current != null) seenRunning.add(a.current);
    const all = steps();
    const lock = locked();
    const next = JSON.stringify([all, a.current, [...lock], editing?.id, rt.roomClosed]);
    if (!force && next === sig) return;
    // Do not move the open editor under the user's fingers; the server refuses what became locked meanwhile.
    if (!force && editing && editing.el.contains(document.activeElement)) return;
    sig = next;
    const heldFocus = list.contains(document.activeElement) ? document.activeElement.id || null : null;
    lockNote.textContent = lock.size ? 'Done and running steps stay as they are: change the steps after them.' : 'Nothing has run yet: change anything.';
    const firstFree = Math.max(-1, ...all.map((s, k) => (lock.has(s.id) ? k : -1))) + 1;
    const mine = (k) => k >= 0 && k < all.length && !lock.has(all[k].id);
    const swap = (k, j) => { const n = [...all]; [n[k], n[j]] = [n[j], n[k]]; return n; };
    fill(list, all.map((s, k) => {
      const isLocked = lock.has(s.id);
      const state = s.id === a.current ? 'running' : isLocked ? 'done' : '';
      const n = k + 1;
      const li = h('li', { class: `agenda-step${s.id === a.current ? ' current' : ''}${isLocked ? ' locked' : ''}`, 'aria-current': s.id === a.current ? 'step' : null, dataset: { step: s.id } },
        h('span', { class: 'step-no' }, String(n)), h('span', { class: 'step-title' }, s.title), h('span', { class: 'hint' }, ` · ${KIND_NAMES[s.kind] || s.kind}`),
        state ? h('span', { class: `badge step-${state}` }, state === 'running' ? 'Running' : 'Done') : null,
        h('span', { class: 'row-actions when-open' },
          isLocked ? null : h('button', { type: 'button', class: 'small', id: `agenda-edit-${s.id}`, 'aria-label': `Edit step ${n}`, on: { click: () => { editing = { id: s.id, el: editor(s, k) }; draw(true); } } }, 'Edit'),
          isLocked ? null : h('button', { type: 'button', class: 'small icon', id: `agenda-up-${s.id}`, 'aria-label': `Move step ${n} up`, disabled: !mine(k - 1), on: { click: () => { refocus = `agenda-up-${s.id}`; send(swap(k, k - 1), 'Step moved up'); } } }, '↑'),
          isLocked ? null : h('button', { type: 'button', class: 'small icon', id: `agenda-down-${s.id}`, 'aria-label': `Move step ${n} down`, disabled: !mine(k + 1), on: { click: () => { refocus = `agenda-down-${s.id}`; send(swap(k, k + 1), 'Step moved down'); } } }, '↓'),
          h('button', { type: 'button', class: 'small', id: `agenda-dup-${s.id}`, 'aria-label': `Duplicate step ${n}`, on: { click: () => {
            // The copy goes right after its original, or after the history when the original is part of it.
            const { id, ...copy } = s;
            const n2 = [...all];
            n2.splice(Math.max(k + 1, firstFree), 0, copy);
            send(n2, 'Step duplicated');
          } } }, 'Duplicate'),
          isLocked ? null : h('button', { type: 'button', class: 'small danger', id: `agenda-remove-${s.id}`, 'aria-label': `Remove step ${n}`, on: { click: () => send(all.filter((x) => x.id !== s.id), 'Step removed') } }, 'Remove'),
          s.id !== a.current ? h('button', { type: 'button', class: 'small', id: `agenda-go-${s.id}`, 'aria-label': `Start step ${n} now`, on: { click: () => run(rt.request('agenda.goto', { step: s.id }), `Started: ${s.title}`) } }, 'Start') : null));
      if (editing?.id === s.id) li.append(editing.el);
      return li;
    }));
    // Redrawing replaces the buttons: give focus back to the same control (ids are per step), whether it is
    // the arrow just pressed or one that had focus when another update (agenda.changed, agenda.full) came in.
    const target = refocus || heldFocus;
    if (target) {
      const b = document.getElementById(target);
      const li = b?.closest('li');
      (b && !b.disabled ? b : li?.querySelector('.row-actions button:not([disabled])'))?.focus();
      refocus = null;
    }
    if (editing && editing.id !== 'new' && !all.some((s) => s.id === editing.id)) editing = null;
    fill(adder, editing?.id === 'new' ? editing.el : null);
  }
  return { el, update: () => draw(false) };
}
