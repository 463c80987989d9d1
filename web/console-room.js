/**
 * The console's live-room sections: interviews, groups, announcements and timers, and who is here.
 * @module console-room
 */
import { h, fill, flash, announce, countdown } from './ui.js';

/** Appreciative interviews: start a session with its settings, then next round or end. */
export function interviewsSection(rt, { act, field }) {
  const out = [];
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
  out.push(h('section', { class: 'card', id: 'console-interviews', 'aria-labelledby': 'ci-h' }, h('h2', { id: 'ci-h' }, 'Appreciative interviews'), status, startForm, controls));
  const PH = { 'first-turn': 'first turn', 'second-turn': 'second turn', report: 'report back', done: 'round over' };
  let sig = '';
  return { el: out,
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
  };
}

/** Groups: create them (by hand or from the top needs), assign members, see who is where. */
export function groupsSection(rt, { act, field }) {
  const out = [];
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
  out.push(h('section', { class: 'card', id: 'console-groups-card', 'aria-labelledby': 'cg-h' }, h('h2', { id: 'cg-h' }, 'Groups'),
    list, h('details', { class: 'builder when-open' }, h('summary', {}, 'Create groups'), createForm, fromNeeds), assign));
  let sig = '';
  return { el: out,
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
  };
}

/** Announcements and timers outside the agenda. */
export function timersSection(rt, { act, field }) {
  const out = [];
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
  out.push(h('section', { class: 'card', id: 'console-agenda', 'aria-labelledby': 'ca-h' }, h('h2', { id: 'ca-h' }, 'Announcements and timers'), annForm, timerForm, running));
  let sig = '';
  return { el: out,
    update() {
      const ts = rt.state.groups?.timers || [];
      const next = JSON.stringify(ts);
      if (next === sig) return;
      sig = next;
      fill(running, ts.map((t) => h('li', { class: 'timer' }, h('span', { class: 'timer-label' }, t.label || 'Timer'),
        h('span', { class: 'countdown', dataset: { endsAt: t.endsAt } }, countdown(t.endsAt, rt.serverNow())),
        h('button', { type: 'button', class: 'small when-open', 'aria-label': `Stop timer ${t.label || t.id}`, on: { click: () => act(rt.request('timer.stop', { timer: t.id }), 'Timer stopped').catch(() => {}) } }, 'Stop'))));
    },
  };
}

/** Who is here: presence, organizations, roles and expertise. */
export function peopleSection(rt) {
  const out = [];
  const list = h('ul', { class: 'people', id: 'presence-list' });
  const summary = h('p', { class: 'hint', id: 'presence-summary' });
  out.push(h('section', { class: 'card', id: 'console-people', 'aria-labelledby': 'pe-h' }, h('h2', { id: 'pe-h' }, 'Who is here'), summary, list));
  let sig = '';
  return { el: out,
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
  };
}
