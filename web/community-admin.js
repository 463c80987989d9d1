/**
 * The facilitator's parts of the community page: open the next session, the roster (import, export,
 * a member's new link), a need's status and owner group, the standing groups editor; and, without a
 * community, creating one. Built by community.js with its helpers.
 * @module community-admin
 */
import { RoundtableClient, defaultURL } from './client.js';
import { h, fill, flash } from './ui.js';
import { memberLink, facilitatorLink, saveKeys, rosterFileName } from './community-lib.js';

/**
 * @param {{call: Function, act: Function, field: Function, linkBox: Function, reload: Function, keys: object, id: string, unsupported: Set<string>}} ctx
 */
export function adminSections(ctx) {
  const { call, act, field, linkBox, reload, keys, id } = ctx;

  // ------------------------------------------------------------ open the next session
  const title = h('input', { id: 'session-title', required: true, maxlength: 200, placeholder: 'e.g. March meeting' });
  // The name is remembered with the community's keys in this browser: the next session's form has it.
  const fname = h('input', { id: 'session-name', required: true, maxlength: 80, autocomplete: 'name', value: keys.facilitatorName || '' });
  const openForm = h('form', { id: 'open-session-form' }, field('Session title', title), field('Your name', fname, 'Shown to members as the facilitator.'),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'primary', id: 'open-session' }, 'Open the next session')));
  openForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    const btn = openForm.querySelector('button');
    btn.disabled = true;
    try {
      // The seat (token and the room's facilitator key) is stored like any room's: the console resumes it.
      saveKeys(ctx.store, id, { facilitatorName: fname.value.trim() });
      const rt = new RoundtableClient(defaultURL());
      const ack = await act(rt.createRoom({ title: title.value.trim(), name: fname.value.trim(), community: id, facilitatorKey: keys.facilitatorKey }));
      location.assign(`/r/${ack.room}`);
    } catch { btn.disabled = false; }
  });
  // Inside the session card: unfolded while no session is open, one click away while one is.
  let folded = null;
  const openSession = {
    el: h('details', { class: 'builder', id: 'open-session-card' }, h('summary', {}, 'Open the next session'),
      h('p', { class: 'hint' }, 'It starts with the open backlog as its needs and the standing groups; members join from their personal links.'), openForm),
    update(v) {
      if (folded === null) { folded = !!v.current; openSession.el.open = !folded; }
      // Opening the next session also hands the open one's results back to the community.
      openForm.querySelector('button').textContent = v.current ? 'Open the next session (hands this one’s results back)' : 'Open the next session';
    },
  };

  // ------------------------------------------------------------ roster
  const table = h('table', { class: 'roster-table', id: 'roster-table' });
  const reissued = h('div', { id: 'reissue-result', 'aria-live': 'polite' });
  const csv = h('textarea', { id: 'roster-csv', rows: 5, placeholder: 'name,organization,expertise,group\nAna Ruiz,Valley Clinic,grants;data,East' });
  const file = h('input', { type: 'file', id: 'roster-file', accept: '.csv,text/csv' });
  file.addEventListener('change', async () => { if (file.files[0]) csv.value = await file.files[0].text(); });
  const importResults = h('div', { id: 'import-results', 'aria-live': 'polite' });
  const importForm = h('form', { id: 'import-form' },
    field('Roster file (CSV)', file, 'Columns: name (required), organization, expertise (tags separated by ;), group. Other columns such as e-mail are ignored.'),
    field('…or paste the CSV', csv),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'primary', id: 'roster-import' }, 'Import members')));
  importForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!csv.value.trim()) { flash('Choose a CSV file or paste the roster first.'); return; }
    try {
      const ack = await act(call('community.import', { csv: csv.value }), 'Roster imported');
      const fresh = ack.members.filter((m) => m.communityKey);
      fill(importResults,
        h('h3', {}, `${fresh.length} new member${fresh.length === 1 ? '' : 's'}, ${ack.members.length - fresh.length} updated`),
        fresh.length ? h('p', { class: 'notice' }, 'Send each person their link now: it is shown only this once.') : null,
        h('ul', { class: 'link-list', id: 'new-links' }, ack.members.map((m) => h('li', { dataset: { member: m.member } },
          h('strong', {}, m.name), m.organization ? ` · ${m.organization}` : '',
          m.communityKey ? linkBox(memberLink(location.origin, id, m.communityKey), `Personal link of ${m.name}`, `link-${m.member}`)
            : h('span', { class: 'hint' }, ' · already on the roster (profile updated, link unchanged)')))));
      csv.value = '';
      file.value = '';
      await reload();
    } catch { /* flashed */ }
  });
  const download = (blob, name) => {
    const href = URL.createObjectURL(blob);
    const a = h('a', { href, download: name, class: 'offscreen' }, `Download ${name}`);
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(href), 10000);
  };
  const exportBtn = h('button', { type: 'button', id: 'roster-export' }, 'Export roster (CSV)');
  exportBtn.addEventListener('click', async () => {
    try {
      const x = await act(call('community.export'));
      download(new Blob([x.csv], { type: 'text/csv' }), rosterFileName(id));
    } catch { /* flashed */ }
  });
  // The community report (roster size, directory, backlog with rankings, sessions): the key goes in a
  // header, never in the address, so it is fetched here rather than linked.
  const reportButtons = ['csv', 'md', 'json'].map((fmt) => h('button', {
    type: 'button', id: `report-${fmt}`, on: {
      click: async () => {
        try {
          const res = await fetch(`/communities/${id}/report.${fmt}`, { headers: { Authorization: `Bearer ${keys.facilitatorKey}` }, cache: 'no-store' });
          if (!res.ok) throw new Error(`The report could not be made (HTTP ${res.status}).`);
          download(await res.blob(), `community-${id}-report.${fmt}`);
        } catch (e) { flash(e.message); }
      },
    },
  }, `Report (${fmt.toUpperCase()})`));
  async function reissue(m) {
    if (!confirm(`Make a new personal link for ${m.name}? Their old link stops working.`)) return;
    try {
      const ack = await act(call('community.reissueKey', { member: m.member }), `New link for ${m.name}`);
      fill(reissued, h('p', {}, h('strong', {}, `New link for ${m.name}`), ' (shown once; the old one no longer works):'),
        linkBox(memberLink(location.origin, id, ack.communityKey), `New personal link of ${m.name}`, 'reissued-link'));
    } catch { /* flashed */ }
  }
  const rosterFilter = h('input', { id: 'roster-filter', type: 'search', placeholder: 'name, organization, tag or group' });
  const rosterCount = h('p', { class: 'hint', id: 'roster-count', 'aria-live': 'polite' });
  const rosterMore = h('button', { type: 'button', class: 'small', id: 'roster-more', hidden: true });
  const rosterEl = h('section', { class: 'card', id: 'roster', 'aria-labelledby': 'ro-h' },
    h('h2', { id: 'ro-h' }, 'Roster'),
    h('div', { class: 'form-actions' }, exportBtn, reportButtons),
    reissued,
    h('div', { class: 'inline-form' }, field('Filter the roster', rosterFilter)), rosterCount,
    h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-labelledby': 'ro-h' }, table), rosterMore,
    h('details', { class: 'builder', id: 'import-details', open: true }, h('summary', {}, 'Import members'), importForm, importResults));
  // A roster of thousands: a filter, and the first rows only until asked (5,000 rows took seconds to draw).
  const PAGE = 100;
  let rosterView = null;
  let shownRows = PAGE;
  const drawRoster = () => {
    const v = rosterView;
    const q = rosterFilter.value.trim().toLowerCase();
    const all = v.members || [];
    const standing = new Map();
    for (const g of v.groups || []) for (const m of g.members || []) standing.set(m.member, g.name);
    const ms = q ? all.filter((m) => [m.name, m.organization, m.group, standing.get(m.member), ...(m.expertise || [])].some((x) => x && x.toLowerCase().includes(q))) : all;
    const rows = ms.slice(0, shownRows);
    rosterCount.textContent = q ? `${ms.length} of ${all.length} members match “${rosterFilter.value.trim()}”${rows.length < ms.length ? `; showing the first ${rows.length}` : ''}.`
      : `${all.length} member${all.length === 1 ? '' : 's'}${rows.length < ms.length ? `; showing the first ${rows.length}` : ''}.`;
    rosterMore.hidden = rows.length >= ms.length;
    rosterMore.textContent = `Show all ${ms.length}`;
    fill(table,
      h('caption', { class: 'sr-only' }, 'Community members'),
      h('thead', {}, h('tr', {}, ['Name', 'Organization', 'Expertise', 'Roster group', 'Standing group', 'Link'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, rows.length ? rows.map((m) => h('tr', { dataset: { member: m.member } },
        h('th', { scope: 'row' }, m.name), h('td', {}, m.organization || ''), h('td', {}, (m.expertise || []).join(', ')),
        h('td', {}, m.group || ''), h('td', {}, standing.get(m.member) || ''),
        h('td', {}, h('button', { type: 'button', class: 'small', id: `reissue-${m.member}`, 'aria-label': `New personal link for ${m.name}`, dataset: { reissue: m.member }, on: { click: () => reissue(m) } }, 'New link'))))
        : [h('tr', {}, h('td', { colspan: 6, class: 'empty' }, all.length ? 'Nobody matches.' : 'Nobody yet: import the roster below.'))]));
  };
  rosterFilter.addEventListener('input', () => { shownRows = PAGE; drawRoster(); });
  rosterMore.addEventListener('click', () => { shownRows = Infinity; drawRoster(); });
  const roster = {
    update(v) {
      rosterView = v;
      drawRoster();
    },
  };

  // ------------------------------------------------------------ a need's status and owner
  function needControls(n, v) {
    if (n.status === 'merged') return null;
    const status = h('select', { id: `status-${n.need}`, 'aria-label': `Status of “${n.text.slice(0, 60)}”` },
      [['open', 'Open'], ['in_progress', 'In progress'], ['addressed', 'Addressed']].map(([k, l]) => h('option', { value: k, selected: n.status === k }, l)));
    const owner = v.groups ? h('select', { id: `owner-${n.need}`, 'aria-label': `Owner group of “${n.text.slice(0, 60)}”` },
      h('option', { value: '' }, 'No owner'), v.groups.map((g) => h('option', { value: g.group, selected: n.owner === g.group }, g.name))) : null;
    const save = h('button', { type: 'submit', class: 'small', id: `need-save-${n.need}` }, 'Save');
    const form = h('form', { class: 'need-controls', dataset: { need: n.need } }, status, owner, save);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const f = { need: n.need, status: status.value };
      if (owner && owner.value !== String(n.owner ?? '')) f.owner = owner.value === '' ? null : Number(owner.value);
      try { await act(call('community.needStatus', f), 'Need updated'); await reload(); } catch { /* flashed */ }
    });
    return form;
  }

  // ------------------------------------------------------------ standing groups
  function groupsEditor() {
    const rows = h('div', { class: 'group-rows', id: 'group-rows' });
    let draft = [];
    let view = null;
    const draw = () => {
      fill(rows, draft.map((g, i) => {
        const name = h('input', { id: `sg-name-${i}`, value: g.name, maxlength: 80, required: true });
        const desc = h('input', { id: `sg-desc-${i}`, value: g.description || '', maxlength: 1000 });
        const focus = h('select', { id: `sg-focus-${i}`, multiple: true, size: 4 }, (view.backlog || []).map((n) => h('option', { value: n.need, selected: (g.focus || []).includes(n.need) }, n.text.slice(0, 80))));
        const members = h('select', { id: `sg-members-${i}`, multiple: true, size: 5 }, (view.members || []).map((m) => h('option', { value: m.member, selected: (g.members || []).includes(m.member) }, m.name)));
        name.addEventListener('input', () => { g.name = name.value; });
        desc.addEventListener('input', () => { g.description = desc.value; });
        focus.addEventListener('change', () => { g.focus = [...focus.selectedOptions].map((o) => Number(o.value)); });
        members.addEventListener('change', () => { g.members = [...members.selectedOptions].map((o) => Number(o.value)); });
        return h('fieldset', { class: 'group-edit' }, h('legend', {}, g.group ? `Group: ${g.name}` : 'New group'),
          field('Name', name), field('Description', desc),
          h('div', { class: 'row' }, field('Focus needs', focus, 'Ctrl/⌘-click for several.'), field('Members', members)),
          h('button', { type: 'button', class: 'small danger', on: { click: () => { draft.splice(i, 1); draw(); } } }, `Remove ${g.name || 'this group'}`));
      }));
    };
    const form = h('form', { id: 'groups-form' }, rows,
      h('div', { class: 'form-actions' },
        h('button', { type: 'button', id: 'group-add', on: { click: () => { draft.push({ name: '', description: '', focus: [], members: [] }); draw(); rows.querySelector('fieldset:last-child input')?.focus(); } } }, 'Add a group'),
        h('button', { type: 'submit', class: 'primary', id: 'groups-save' }, 'Save groups')));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const groups = draft.map((g) => ({ ...(g.group ? { group: g.group } : {}), name: g.name.trim(), description: (g.description || '').trim(), focus: g.focus || [], members: g.members || [] }));
      try { await act(call('community.groups', { groups }), 'Standing groups saved'); await reload(); } catch { /* flashed */ }
    });
    const el = h('details', { class: 'builder', id: 'groups-editor' }, h('summary', {}, 'Edit standing groups'), form);
    return {
      el,
      update(v) {
        view = v;
        el.hidden = !v.groups || !v.members;
        if (el.hidden || form.contains(document.activeElement)) return;
        draft = v.groups.map((g) => ({ group: g.group, name: g.name, description: g.description || '', focus: [...(g.focus || [])], members: (g.members || []).map((m) => m.member) }));
        draw();
      },
    };
  }

  return { parts: [openSession, roster], openSession, rosterEl, needControls, groupsEditor };
}

/** `/community.html` without a community: create one and get the facilitator link (shown once). */
export function createCommunityPage(main, { field, act, call, linkBox, store }) {
  const name = h('input', { id: 'community-name-input', required: true, maxlength: 200, placeholder: 'e.g. Rural health peer network' });
  const token = h('input', { id: 'community-token', autocomplete: 'off' });
  const result = h('div', { id: 'create-result', 'aria-live': 'polite' });
  const form = h('form', { class: 'card', id: 'create-community-form', 'aria-labelledby': 'cc-h' },
    h('h2', { id: 'cc-h' }, 'Create a community'),
    h('p', { class: 'hint' }, 'For facilitators: a community keeps its members, their expertise, the needs backlog and who has met whom from one session to the next.'),
    field('Community name', name),
    h('details', { class: 'more' }, h('summary', {}, 'Server requires a creation token?'), field('Creation token', token, 'Only if your server administrator gave you one.')),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'primary', id: 'create-community' }, 'Create community')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const btn = form.querySelector('button[type=submit]');
    btn.disabled = true;
    try {
      const f = { name: name.value.trim() };
      if (token.value.trim()) f.createToken = token.value.trim();
      const ack = await act(call('community.create', f), 'Community created');
      saveKeys(store, ack.community, { facilitatorKey: ack.facilitatorKey });
      form.hidden = true;
      fill(result, h('section', { class: 'card' },
        h('h2', {}, `${ack.name} is ready`),
        h('p', {}, 'Your facilitator link is shown only this once: keep it somewhere safe. It is how you (and co-facilitators) manage the community.'),
        linkBox(facilitatorLink(location.origin, ack.community, ack.facilitatorKey), 'Facilitator link', 'facilitator-link'),
        h('p', {}, h('a', { class: 'button primary', id: 'open-community', href: `/community.html?c=${ack.community}` }, 'Open the community page'))));
      result.querySelector('h2').setAttribute('tabindex', '-1');
      result.querySelector('h2').focus();
    } catch { btn.disabled = false; }
  });
  fill(main, h('div', { class: 'intro' }, h('h1', {}, 'Communities'),
    h('p', { class: 'lede' }, 'Members, expertise and needs that carry over from session to session.')),
  h('div', { class: 'join-grid single' }, form, result));
  name.focus();
}
